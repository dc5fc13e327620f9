/*
 * File names with non-ASCII characters: the engine takes UTF-8 paths on every platform (on Windows
 * it converts them to UTF-16 for the wide-char API, so names outside the ANSI code page work). The
 * quantizer writes a model under a name with Latin, Greek, CJK and a character outside the Basic
 * Multilingual Plane (a UTF-16 surrogate pair on Windows); the file must exist under exactly that
 * name, load, and give the same logits as the same quantization written under an ASCII name.
 */
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#endif

#include "test_util.h"
#include "tiny_models.h"

/* "tiny-ünïcödé-Ωμέγα-模型-😀-Q8_0.bin" in UTF-8. */
static const char UNICODE_NAME[] = "tiny-\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9-\xce\xa9\xce\xbc\xce\xad\xce\xb3\xce\xb1-"
                                   "\xe6\xa8\xa1\xe5\x9e\x8b-\xf0\x9f\x98\x80-Q8_0.bin";

/* Opens a file by its UTF-8 name the platform's own way, independently of the engine's code. */
static FILE * open_utf8(const char * path) {
#if defined(_WIN32)
    wchar_t wide[1024];
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, 1024) <= 0) {
        return NULL;
    }
    return _wfopen(wide, L"rb");
#else
    return fopen(path, "rb");
#endif
}

static bool eval_prompt(const char * path, float * logits) {
    struct rwkv_context * ctx = rwkv_init_from_file(path, 1, 0);
    if (ctx == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", path, rwkv_get_last_error_message(NULL));
        return false;
    }
    static const uint32_t prompt[] = { 34, 105, 110 };
    bool ok = rwkv_eval_sequence(ctx, prompt, 3, NULL, NULL, logits);
    rwkv_free(ctx);
    return ok;
}

int main(void) {
    rwkv_set_print_errors(NULL, false);
    const char * source = testdata_path("tiny/tiny-rwkv-7v0-834K-FP32.bin");
    char ascii_path[1024], unicode_path[1024];
    snprintf(ascii_path, sizeof ascii_path, "%s", temp_path("tiny-ascii-Q8_0.bin"));
    snprintf(unicode_path, sizeof unicode_path, "%s", temp_path(UNICODE_NAME));

    CHECK_MSG(rwkv_quantize_model_file(source, ascii_path, "Q8_0"), "%s", rwkv_get_last_error_message(NULL));
    CHECK_MSG(rwkv_quantize_model_file(source, unicode_path, "Q8_0"), "%s", rwkv_get_last_error_message(NULL));

    FILE * file = open_utf8(unicode_path);
    CHECK_MSG(file != NULL, "the quantizer's output is not under its UTF-8 name %s", unicode_path);
    if (file != NULL) {
        fclose(file);
    }

    float expected[TINY_N_VOCAB], logits[TINY_N_VOCAB];
    bool loaded_ascii = eval_prompt(ascii_path, expected);
    bool loaded_unicode = eval_prompt(unicode_path, logits);
    CHECK(loaded_ascii);
    CHECK_MSG(loaded_unicode, "loading through a non-ASCII path");
    if (loaded_ascii && loaded_unicode) {
        CHECK(memcmp(expected, logits, sizeof logits) == 0);
    }

    /* A name that does not exist is still a clean error, not a crash, with the name in the message. */
    char missing[1024];
    snprintf(missing, sizeof missing, "%s", temp_path("\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8.bin"));
    CHECK(rwkv_init_from_file(missing, 1, 0) == NULL);
    CHECK(strstr(rwkv_get_last_error_message(NULL), "\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8") != NULL);

    remove(ascii_path);
#if defined(_WIN32)
    wchar_t wide[1024];
    if (MultiByteToWideChar(CP_UTF8, 0, unicode_path, -1, wide, 1024) > 0) {
        _wremove(wide);
    }
#else
    remove(unicode_path);
#endif
    return test_finish("test_unicode_paths");
}

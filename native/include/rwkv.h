/*
 * rwkv.h: the C API of the jrwkv inference engine.
 *
 * The shape follows rwkv.cpp's rwkv.h, so model files, programs and bindings written for rwkv.cpp
 * work here unchanged. Functions marked "jrwkv extension" are ours and are not in rwkv.cpp.
 *
 * Ownership: every buffer passed in is owned by the caller; the library never keeps a pointer to
 * one after a call returns. Contexts are created by rwkv_init_from_file or rwkv_clone_context and
 * released by rwkv_free. Strings returned by the library are owned by it.
 *
 * Threads: one evaluation at a time per context. Different contexts (separately loaded, or clones
 * sharing weights) may evaluate concurrently. The global error slot and the global print flag are
 * per calling thread. Results do not depend on the number of threads.
 */
#ifndef RWKV_H
#define RWKV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(RWKV_SHARED)
#  if defined(_WIN32) && !defined(__MINGW32__)
#    if defined(RWKV_BUILD)
#      define RWKV_API __declspec(dllexport)
#    else
#      define RWKV_API __declspec(dllimport)
#    endif
#  else
#    define RWKV_API __attribute__((visibility("default")))
#  endif
#else
#  define RWKV_API
#endif

/* "ggmf" read as a big-endian word; the file starts with the bytes 66 6D 67 67. */
#define RWKV_FILE_MAGIC 0x67676d66
/* Version 100: FP32/FP16 only. Version 101: adds the quantized block layouts of May 2023. */
#define RWKV_FILE_VERSION_0 100
#define RWKV_FILE_VERSION_1 101
#define RWKV_FILE_VERSION_MIN RWKV_FILE_VERSION_0
#define RWKV_FILE_VERSION_MAX RWKV_FILE_VERSION_1
/* The version written by the quantizer. */
#define RWKV_FILE_VERSION RWKV_FILE_VERSION_1

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Error flags: a category (second byte) OR-ed with a detail (low byte). Decode as
 * category = value & 0xFF00, detail = value & 0x00FF. For example a missing file is
 * RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN = 0x202 and a token out of range is RWKV_ERROR_ARGS.
 */
enum rwkv_error_flags {
    RWKV_ERROR_NONE = 0,

    RWKV_ERROR_ARGS = 1 << 8,
    RWKV_ERROR_FILE = 2 << 8,
    RWKV_ERROR_MODEL = 3 << 8,
    RWKV_ERROR_MODEL_PARAMS = 4 << 8,
    RWKV_ERROR_GRAPH = 5 << 8,
    RWKV_ERROR_CTX = 6 << 8,

    RWKV_ERROR_ALLOC = 1,
    RWKV_ERROR_FILE_OPEN = 2,
    RWKV_ERROR_FILE_STAT = 3,
    RWKV_ERROR_FILE_READ = 4,
    RWKV_ERROR_FILE_WRITE = 5,
    RWKV_ERROR_FILE_MAGIC = 6,
    RWKV_ERROR_FILE_VERSION = 7,
    RWKV_ERROR_DATA_TYPE = 8,
    RWKV_ERROR_UNSUPPORTED = 9,
    RWKV_ERROR_SHAPE = 10,
    RWKV_ERROR_DIMENSION = 11,
    RWKV_ERROR_KEY = 12,
    RWKV_ERROR_DATA = 13,
    RWKV_ERROR_PARAM_MISSING = 14
};

/* Model architectures, detected from tensor names (jrwkv extension). */
enum rwkv_architecture {
    RWKV_ARCH_UNKNOWN = 0,
    RWKV_ARCH_V4 = 40,
    RWKV_ARCH_V5_1 = 51,
    RWKV_ARCH_V5_2 = 52,
    RWKV_ARCH_V6 = 60,
    RWKV_ARCH_V7 = 70
};

/* Tensor data type codes as stored in model files (rwkv.cpp's numbering, not ggml's). */
enum rwkv_data_type {
    RWKV_TYPE_FP32 = 0,
    RWKV_TYPE_FP16 = 1,
    RWKV_TYPE_Q4_0 = 2,
    RWKV_TYPE_Q4_1 = 3,
    RWKV_TYPE_Q5_0 = 7,
    RWKV_TYPE_Q5_1 = 8,
    RWKV_TYPE_Q8_0 = 9
};

/* Opaque. Holds a reference to the (shared, read-only) weights plus per-context buffers. */
struct rwkv_context;

/*
 * Per-context print flag (ctx != NULL), or the calling thread's global print flag (ctx == NULL).
 * While on, failures print a readable message to stderr and the quantizer prints progress.
 * The global flag starts on in every thread and is the default for new contexts.
 * Printing never changes return values or error flags.
 */
RWKV_API void rwkv_set_print_errors(struct rwkv_context * ctx, const bool print_errors);
RWKV_API bool rwkv_get_print_errors(const struct rwkv_context * ctx);

/*
 * Returns the error flags of the last failure and resets them to RWKV_ERROR_NONE.
 * ctx == NULL reads the calling thread's global slot, which load, clone and quantize use;
 * evaluation functions use the context's slot.
 */
RWKV_API enum rwkv_error_flags rwkv_get_last_error(struct rwkv_context * ctx);

/*
 * jrwkv extension. A readable message for the last failure recorded in the same slot as
 * rwkv_get_last_error (empty string if none). Reading the flags does not clear the message; the next
 * call that clears the slot does. The string belongs to the context (or to the calling thread for
 * ctx == NULL) and stays valid until that slot's next failure or clear.
 */
RWKV_API const char * rwkv_get_last_error_message(const struct rwkv_context * ctx);

/*
 * Loads a model file (rwkv.cpp format, versions 100 and 101) and returns a new context, or NULL on
 * error (flags and message in the calling thread's global slot, which is cleared first).
 * - model_file_path: UTF-8 path. The file is memory-mapped, not copied, and validated in full
 *   before use: a corrupt, truncated or hostile file gives an error, never a crash.
 * - n_threads: worker threads used inside one evaluation; must be at least 1.
 * - n_gpu_layers: layers to place on a GPU backend; ignored by CPU-only builds.
 */
RWKV_API struct rwkv_context * rwkv_init_from_file(const char * model_file_path, const uint32_t n_threads, const uint32_t n_gpu_layers);

/*
 * Creates a new context sharing ctx's weights (no re-read, no copy) with its own buffers, error slot
 * and n_threads worker threads. The weights are released when the last context using them is freed,
 * so the original may be freed before the clone. Returns NULL on failure (global slot).
 */
RWKV_API struct rwkv_context * rwkv_clone_context(struct rwkv_context * ctx, const uint32_t n_threads);

/*
 * Evaluates one token. Returns false on error (flags in ctx's slot, cleared first).
 * - token: must be < n_vocab.
 * - state_in: rwkv_get_state_len floats, or NULL for the initial state. Not modified unless it is
 *   also state_out (in-place evaluation is allowed and common).
 * - state_out: receives the new state; NULL means not written.
 * - logits_out: receives n_vocab logits; NULL skips the final norm and head (faster, same state).
 */
RWKV_API bool rwkv_eval(struct rwkv_context * ctx, const uint32_t token, const float * state_in, float * state_out, float * logits_out);

/*
 * Evaluates sequence_len tokens in one call ("sequence mode"). Equal, bit for bit, to calling
 * rwkv_eval on each token in order. logits_out receives the logits after the last token only.
 * All tokens are checked before anything runs. sequence_len == 0 is an error.
 * tokens == NULL prepares buffers for this length, evaluates nothing, writes nothing and returns true.
 */
RWKV_API bool rwkv_eval_sequence(struct rwkv_context * ctx, const uint32_t * tokens, const size_t sequence_len, const float * state_in, float * state_out, float * logits_out);

/*
 * Like rwkv_eval_sequence, but evaluates the tokens in chunks of chunk_size (the last one may be
 * shorter), carrying the state between chunks. The result does not depend on chunk_size.
 * If a chunk fails, returns false and writes neither state_out nor logits_out.
 */
RWKV_API bool rwkv_eval_sequence_in_chunks(struct rwkv_context * ctx, const uint32_t * tokens, const size_t sequence_len, const size_t chunk_size, const float * state_in, float * state_out, float * logits_out);

/*
 * jrwkv extension. Evaluates one token for each of n_sessions independent sessions in one pass,
 * reading the weights once for all of them: a server's concurrent sessions advance together much
 * faster than with one rwkv_eval each. The result equals rwkv_eval on each session, bit for bit.
 * - tokens: n_sessions tokens, each < n_vocab.
 * - states_in: NULL (every session starts from the initial state), or n_sessions pointers, where
 *   a NULL entry means the initial state. states_in[i] may equal states_out[i] (in place).
 * - states_out: n_sessions distinct, non-NULL state buffers.
 * - logits_out: NULL (no logits), or n_sessions pointers, where a NULL entry skips that session's.
 * Everything is checked before anything is written. Returns false on error (ctx's slot).
 */
RWKV_API bool rwkv_eval_batch(struct rwkv_context * ctx, const uint32_t * tokens, const size_t n_sessions, const float * const * states_in, float * const * states_out, float * const * logits_out);

/* Header values of the loaded file; 0 for ctx == NULL. n_layer counts blocks only. */
RWKV_API size_t rwkv_get_n_vocab(const struct rwkv_context * ctx);
RWKV_API size_t rwkv_get_n_embed(const struct rwkv_context * ctx);
RWKV_API size_t rwkv_get_n_layer(const struct rwkv_context * ctx);

/* Number of floats in a state buffer; 0 for ctx == NULL. */
RWKV_API size_t rwkv_get_state_len(const struct rwkv_context * ctx);

/* Number of floats in a logits buffer (= n_vocab); 0 for ctx == NULL. */
RWKV_API size_t rwkv_get_logits_len(const struct rwkv_context * ctx);

/*
 * Writes the initial state (rwkv_get_state_len floats): all zeros, except v4's att_pp vectors,
 * which are -1e30. Passing such a buffer as state_in is the same as passing NULL.
 */
RWKV_API void rwkv_init_state(const struct rwkv_context * ctx, float * state);

/* Frees the context (and the weights, if it was their last user). NULL is a no-op. Any thread. */
RWKV_API void rwkv_free(struct rwkv_context * ctx);

/*
 * Quantizes an FP32 or FP16 model file into format_name, one of "Q4_0", "Q4_1", "Q5_0", "Q5_1",
 * "Q8_0" (exact, case-sensitive). Output is byte-identical to rwkv.cpp's quantizer. The output is
 * written to a temporary file beside it and renamed on success, so a failure leaves no partial
 * file. Returns false on error (flags in the calling thread's global slot, cleared first).
 */
RWKV_API bool rwkv_quantize_model_file(const char * model_file_path_in, const char * model_file_path_out, const char * format_name);

/*
 * "AVX=1 AVX2=1 AVX512=1 FMA=1 NEON=0 ARM_FMA=0 F16C=1 FP16_VA=0 WASM_SIMD=0 SSE3=1 VSX=0" with the
 * values this library uses on this CPU (kernels are chosen at run time), followed by jrwkv's own
 * " KERNELS=<name>". Static; never free it.
 */
RWKV_API const char * rwkv_get_system_info_string(void);

/* ---- jrwkv extensions: metadata for tools and bindings ---- */

/* The architecture detected from the tensor names; RWKV_ARCH_UNKNOWN for ctx == NULL. */
RWKV_API enum rwkv_architecture rwkv_get_architecture(const struct rwkv_context * ctx);

/* The file's header version (100 or 101) and header data type code; 0 for ctx == NULL. */
RWKV_API uint32_t rwkv_get_file_version(const struct rwkv_context * ctx);
RWKV_API uint32_t rwkv_get_file_data_type(const struct rwkv_context * ctx);

/* Heads and head size (v5 and later); 0 for v4 and for ctx == NULL. */
RWKV_API size_t rwkv_get_n_head(const struct rwkv_context * ctx);
RWKV_API size_t rwkv_get_head_size(const struct rwkv_context * ctx);

/* Worker threads of this context; 0 for ctx == NULL. */
RWKV_API uint32_t rwkv_get_n_threads(const struct rwkv_context * ctx);

/* One tensor record of the loaded file, in file order. */
struct rwkv_tensor_info {
    const char * name;   /* NUL-terminated copy owned by the weights; valid while any context lives */
    uint32_t type;       /* enum rwkv_data_type */
    uint32_t n_dims;     /* 1, 2 or 3 */
    uint32_t ne[3];      /* sizes, fastest-varying first; missing trailing dims are 1 */
    uint64_t offset;     /* file offset of the data */
    uint64_t n_bytes;    /* size of the data */
    bool used;           /* false if the architecture does not use it (skipped while loading) */
};

/* Number of tensor records in the loaded file; 0 for ctx == NULL. */
RWKV_API size_t rwkv_get_tensor_count(const struct rwkv_context * ctx);

/* Fills info for record index (< rwkv_get_tensor_count). Returns false if out of range. */
RWKV_API bool rwkv_get_tensor_info(const struct rwkv_context * ctx, const size_t index, struct rwkv_tensor_info * info);

/* ---- jrwkv extensions: tools for benchmarks and tests ---- */

/*
 * Writes a model file of the given architecture and shape with random weights in the ranges trained
 * models have (finite logits), for benchmarks and tests without downloads. data_type: "FP32",
 * "FP16", "Q4_0", "Q4_1", "Q5_0", "Q5_1" or "Q8_0"; tensors get the types rwkv.cpp's converter and
 * quantizer would give them. Head size 64; FFN and LoRA widths as in the released models. The same
 * seed gives the same weights in every data type. Written to a temporary file, then renamed.
 * Returns false on error (global slot).
 */
RWKV_API bool rwkv_write_random_model(const char * path, const enum rwkv_architecture arch, const uint32_t n_embed, const uint32_t n_layer, const uint32_t n_vocab, const char * data_type, const uint64_t seed);

/*
 * This machine's memory read bandwidth in GB/s: n_threads threads stream through a buffer of
 * buffer_bytes (make it several times the last-level cache); the best of `repeats` passes.
 * 0 if the buffer cannot be allocated or an argument is 0.
 */
RWKV_API double rwkv_measure_read_bandwidth(const uint32_t n_threads, const size_t buffer_bytes, const uint32_t repeats);

/*
 * Writes a file's data to disk and lets the operating system drop its cached pages (Linux; a no-op
 * elsewhere). Linux maps a file with 2 MiB pages only where its page cache holds 2 MiB folios, and a
 * program that has just written a file (a download, a copy, a conversion) leaves small ones behind:
 * decoding from such a file is 2-10% slower until they leave the cache. After this call, the next
 * rwkv_init_from_file reads the file back in 2 MiB folios. The quantizer and the random-model
 * writer do this to their outputs. Returns false if the file cannot be opened (global slot).
 */
RWKV_API bool rwkv_drop_file_cache(const char * path);

/* Deprecated aliases kept for old bindings (not declared by rwkv.cpp's header but exported by it). */
RWKV_API uint32_t rwkv_get_state_buffer_element_count(const struct rwkv_context * ctx);
RWKV_API uint32_t rwkv_get_logits_buffer_element_count(const struct rwkv_context * ctx);

#ifdef __cplusplus
}
#endif

#endif /* RWKV_H */

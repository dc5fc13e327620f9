/* Windows: UTF-8 paths are converted to UTF-16 and passed to the wide-char API. */
#include "platform.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <io.h>
#include <windows.h>

/* Converts a UTF-8 string to a newly allocated UTF-16 string; NULL on failure. */
static wchar_t * utf8_to_wide(const char * text) {
    int length = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, NULL, 0);
    if (length <= 0) {
        return NULL;
    }
    wchar_t * wide = malloc((size_t)length * sizeof(wchar_t));
    if (wide != NULL && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, wide, length) != length) {
        free(wide);
        wide = NULL;
    }
    return wide;
}

bool rwkv_map_file(const char * path, struct rwkv_mapped_file * out, struct rwkv_error_slot * error, bool print) {
    out->data = NULL;
    out->size = 0;
    out->handle = NULL;
    wchar_t * wide = utf8_to_wide(path);
    if (wide == NULL) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN, "cannot open %s: invalid UTF-8 path", path);
    }
    HANDLE file = CreateFileW(wide, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    free(wide);
    if (file == INVALID_HANDLE_VALUE) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN,
                              "cannot open %s (Windows error %lu)", path, (unsigned long)GetLastError());
    }
    LARGE_INTEGER size;
    if (!GetFileSizeEx(file, &size)) {
        CloseHandle(file);
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_STAT,
                              "cannot get the size of %s (Windows error %lu)", path, (unsigned long)GetLastError());
    }
    if (size.QuadPart > 0) {
        HANDLE mapping = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
        if (mapping == NULL) {
            CloseHandle(file);
            return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN,
                                  "cannot map %s (Windows error %lu)", path, (unsigned long)GetLastError());
        }
        void * data = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
        /* The view keeps the mapping and the file alive. */
        CloseHandle(mapping);
        if (data == NULL) {
            CloseHandle(file);
            return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN,
                                  "cannot map %s (Windows error %lu)", path, (unsigned long)GetLastError());
        }
        out->data = data;
        out->size = (uint64_t)size.QuadPart;
        out->handle = file;
        return true;
    }
    CloseHandle(file);
    return true;
}

void rwkv_unmap_file(struct rwkv_mapped_file * file) {
    if (file->data != NULL) {
        UnmapViewOfFile((void *)file->data);
    }
    if (file->handle != NULL) {
        CloseHandle((HANDLE)file->handle);
    }
    file->data = NULL;
    file->size = 0;
    file->handle = NULL;
}

bool rwkv_read_mapped_file(const struct rwkv_mapped_file * file, uint64_t offset, void * buffer, size_t size) {
    if (file->handle == NULL || offset > file->size || size > file->size - offset) {
        return false;
    }
    uint8_t * out = buffer;
    while (size > 0) {
        /* An explicit offset per read: no shared file position, so threads may read at once. */
        OVERLAPPED at = { 0 };
        at.Offset = (DWORD)offset;
        at.OffsetHigh = (DWORD)(offset >> 32);
        const DWORD chunk = size > ((DWORD)1 << 30) ? ((DWORD)1 << 30) : (DWORD)size;
        DWORD got = 0;
        if (!ReadFile((HANDLE)file->handle, out, chunk, &got, &at) || got == 0) {
            return false;
        }
        out += got;
        offset += got;
        size -= got;
    }
    return true;
}

FILE * rwkv_fopen(const char * path, const char * mode) {
    wchar_t * wide_path = utf8_to_wide(path);
    wchar_t * wide_mode = utf8_to_wide(mode);
    FILE * file = (wide_path != NULL && wide_mode != NULL) ? _wfopen(wide_path, wide_mode) : NULL;
    free(wide_path);
    free(wide_mode);
    return file;
}

bool rwkv_fseek64(FILE * file, uint64_t offset) {
    return offset <= (uint64_t)INT64_MAX && _fseeki64(file, (__int64)offset, SEEK_SET) == 0;
}

FILE * rwkv_create_temp_beside(const char * final_path, char * temp_path, size_t temp_size) {
    for (int attempt = 0; attempt < 100; attempt++) {
        int written = snprintf(temp_path, temp_size, "%s.tmp-%lu-%d", final_path,
                               (unsigned long)GetCurrentProcessId(), attempt);
        if (written < 0 || (size_t)written >= temp_size) {
            return NULL;
        }
        /* "x": fail if it exists, so two writers never share a temporary file. */
        FILE * file = rwkv_fopen(temp_path, "wbx");
        if (file != NULL) {
            return file;
        }
    }
    return NULL;
}

bool rwkv_sync_file(FILE * file) {
    return fflush(file) == 0 && _commit(_fileno(file)) == 0;
}

void rwkv_drop_cached_pages(FILE * file) {
    (void)file; /* Windows maps files with small pages whatever its cache holds. */
}

bool rwkv_rename_replace(const char * from, const char * to) {
    wchar_t * wide_from = utf8_to_wide(from);
    wchar_t * wide_to = utf8_to_wide(to);
    bool ok = wide_from != NULL && wide_to != NULL &&
              MoveFileExW(wide_from, wide_to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);
    free(wide_from);
    free(wide_to);
    return ok;
}

void rwkv_remove_file(const char * path) {
    wchar_t * wide = utf8_to_wide(path);
    if (wide != NULL) {
        DeleteFileW(wide);
        free(wide);
    }
}

void * rwkv_aligned_alloc(size_t alignment, size_t size) {
    return _aligned_malloc(size == 0 ? alignment : size, alignment);
}

void rwkv_advise_huge_pages(void * memory, size_t size) {
    /* Large pages on Windows need a privilege most users lack; ordinary pages it is. */
    (void)memory;
    (void)size;
}

void rwkv_release_mapped_pages(const void * memory, size_t size) {
    /* No GPU variant on Windows, so nothing calls this there yet. */
    (void)memory;
    (void)size;
}

void rwkv_aligned_free(void * memory) {
    _aligned_free(memory);
}

uint32_t rwkv_cpu_count(void) {
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return info.dwNumberOfProcessors > 0 ? (uint32_t)info.dwNumberOfProcessors : 1;
}

double rwkv_monotonic_seconds(void) {
    LARGE_INTEGER frequency, now;
    QueryPerformanceFrequency(&frequency); /* fixed at boot; never fails since Windows XP */
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart / (double)frequency.QuadPart;
}

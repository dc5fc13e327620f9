#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#define _DARWIN_C_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "platform.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define HUGE_PAGE_BYTES ((size_t)2 << 20)

/*
 * Decoding streams every weight once per token, and with 4 KiB pages that is a TLB miss every
 * 4 KiB: on a 1.5B model, 2 MiB pages read measurably faster. Linux maps a file with 2 MiB pages
 * where the page cache holds 2 MiB folios and the mapping is 2 MiB-aligned; MADV_HUGEPAGE asks its
 * readahead to create such folios when the file is not cached yet. Both are hints: where they do
 * not apply (other file systems, older kernels, a file already cached in small folios) the
 * mapping works as before.
 */
static void * map_read_only(int fd, size_t size) {
    if (size < HUGE_PAGE_BYTES) {
        return mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    /* Reserve room for an aligned start, map the file over it, return the slack. */
    uint8_t * reserved = mmap(NULL, size + HUGE_PAGE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reserved == MAP_FAILED) {
        return mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    uint8_t * aligned = (uint8_t *)(((uintptr_t)reserved + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
    void * data = mmap(aligned, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (data == MAP_FAILED) {
        munmap(reserved, size + HUGE_PAGE_BYTES);
        return mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t mapped_end = ((uintptr_t)aligned + size + page - 1) & ~(uintptr_t)(page - 1);
    if (aligned > reserved) {
        munmap(reserved, (size_t)(aligned - reserved));
    }
    if ((uintptr_t)reserved + size + HUGE_PAGE_BYTES > mapped_end) {
        munmap((void *)mapped_end, (uintptr_t)reserved + size + HUGE_PAGE_BYTES - mapped_end);
    }
    madvise(data, size, MADV_HUGEPAGE);
    return data;
}
#else
static void * map_read_only(int fd, size_t size) {
    return mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
}
#endif

/* Anonymous memory the engine streams through (the bandwidth probe) gets the same page size. */
void rwkv_advise_huge_pages(void * memory, size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(memory, size, MADV_HUGEPAGE);
#else
    (void)memory;
    (void)size;
#endif
}

/* The whole pages inside [memory, memory + size): madvise wants page-aligned ranges. */
static bool interior_pages(const void * memory, size_t size, uintptr_t * begin, uintptr_t * end) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    *begin = ((uintptr_t)memory + page - 1) & ~(page - 1);
    *end = ((uintptr_t)memory + size) & ~(page - 1);
    return memory != NULL && *end > *begin;
}

void rwkv_release_mapped_pages(const void * memory, size_t size) {
    /* The mapping is private and never written, so its pages are the file's: dropping them loses
       nothing. */
#if defined(MADV_DONTNEED)
    uintptr_t begin, end;
    if (interior_pages(memory, size, &begin, &end)) {
        madvise((void *)begin, end - begin, MADV_DONTNEED);
    }
#else
    (void)memory;
    (void)size;
#endif
}

bool rwkv_map_file(const char * path, struct rwkv_mapped_file * out, struct rwkv_error_slot * error, bool print) {
    out->data = NULL;
    out->size = 0;
    out->handle = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN,
                              "cannot open %s: %s", path, strerror(errno));
    }
    struct stat info;
    if (fstat(fd, &info) != 0) {
        int saved = errno;
        close(fd);
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_STAT,
                              "cannot stat %s: %s", path, strerror(saved));
    }
    if (!S_ISREG(info.st_mode)) {
        close(fd);
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN,
                              "%s is not a regular file", path);
    }
    if (info.st_size > 0) {
        if ((uint64_t)info.st_size > (uint64_t)SIZE_MAX) {
            close(fd);
            return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_STAT,
                                  "%s is too large to map on this platform", path);
        }
        void * data = map_read_only(fd, (size_t)info.st_size);
        if (data == MAP_FAILED) {
            int saved = errno;
            close(fd);
            return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN,
                                  "cannot map %s: %s", path, strerror(saved));
        }
        out->data = data;
        out->size = (uint64_t)info.st_size;
        out->handle = (void *)(intptr_t)(fd + 1);
        return true;
    }
    close(fd);
    return true;
}

void rwkv_unmap_file(struct rwkv_mapped_file * file) {
    if (file->data != NULL) {
        munmap((void *)file->data, (size_t)file->size);
    }
    if (file->handle != NULL) {
        close((int)((intptr_t)file->handle - 1));
    }
    file->data = NULL;
    file->size = 0;
    file->handle = NULL;
}

bool rwkv_read_mapped_file(const struct rwkv_mapped_file * file, uint64_t offset, void * buffer, size_t size) {
    if (file->handle == NULL || offset > file->size || size > file->size - offset) {
        return false;
    }
    const int fd = (int)((intptr_t)file->handle - 1);
    uint8_t * out = buffer;
    while (size > 0) {
        const ssize_t got = pread(fd, out, size, (off_t)offset);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false; /* an I/O error, or the file shrank since it was mapped */
        }
        out += got;
        offset += (uint64_t)got;
        size -= (size_t)got;
    }
    return true;
}

FILE * rwkv_fopen(const char * path, const char * mode) {
    return fopen(path, mode);
}

bool rwkv_fseek64(FILE * file, uint64_t offset) {
    return offset <= (uint64_t)INT64_MAX && fseeko(file, (off_t)offset, SEEK_SET) == 0;
}

FILE * rwkv_create_temp_beside(const char * final_path, char * temp_path, size_t temp_size) {
    /* Not mkstemp: its files are private (0600), and the renamed output should get the usual
       permissions (0666 less the umask), like any file the user creates. O_EXCL keeps names unique. */
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        int written = snprintf(temp_path, temp_size, "%s.tmp-%ld-%u", final_path, (long)getpid(),
                               atomic_fetch_add(&counter, 1));
        if (written < 0 || (size_t)written >= temp_size) {
            return NULL;
        }
        int fd = open(temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            if (errno == EEXIST) {
                continue;
            }
            return NULL;
        }
        FILE * file = fdopen(fd, "wb");
        if (file == NULL) {
            close(fd);
            unlink(temp_path);
        }
        return file;
    }
    return NULL;
}

bool rwkv_sync_file(FILE * file) {
    return fflush(file) == 0 && fsync(fileno(file)) == 0;
}

void rwkv_drop_cached_pages(FILE * file) {
#if defined(__linux__) && defined(POSIX_FADV_DONTNEED)
    /* A hint: an error changes nothing. */
    posix_fadvise(fileno(file), 0, 0, POSIX_FADV_DONTNEED);
#else
    (void)file;
#endif
}

bool rwkv_rename_replace(const char * from, const char * to) {
    return rename(from, to) == 0;
}

void rwkv_remove_file(const char * path) {
    unlink(path);
}

void * rwkv_aligned_alloc(size_t alignment, size_t size) {
    void * memory = NULL;
    return posix_memalign(&memory, alignment, size == 0 ? alignment : size) == 0 ? memory : NULL;
}

void rwkv_aligned_free(void * memory) {
    free(memory);
}

uint32_t rwkv_cpu_count(void) {
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? (uint32_t)count : 1;
}

double rwkv_monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

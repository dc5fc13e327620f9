/*
 * The few operating-system services the engine needs: read-only file mapping and the file
 * operations of the quantizer's write-then-rename. POSIX in platform_posix.c, Windows (wide-char
 * paths, so UTF-8 names with any characters work) in platform_win32.c.
 */
#ifndef RWKV_PLATFORM_H
#define RWKV_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct rwkv_mapped_file {
    const uint8_t * data;   /* NULL for an empty file */
    uint64_t size;
    void * handle;          /* the open file, for rwkv_read_mapped_file (POSIX: descriptor + 1) */
};

/* Maps path (UTF-8) read-only and keeps it open. Fails with FILE|FILE_OPEN or FILE|FILE_STAT. */
bool rwkv_map_file(const char * path, struct rwkv_mapped_file * out, struct rwkv_error_slot * error, bool print);
void rwkv_unmap_file(struct rwkv_mapped_file * file);

/*
 * Copies size bytes at offset of a mapped file into buffer by reading the file, not the mapping:
 * the page cache serves them without adding pages to this process's resident set. Safe from many
 * threads at once. False if the range is outside the file or the read fails.
 */
bool rwkv_read_mapped_file(const struct rwkv_mapped_file * file, uint64_t offset, void * buffer, size_t size);

/* fopen with a UTF-8 path. */
FILE * rwkv_fopen(const char * path, const char * mode);

/* Moves an open file's position to a 64-bit offset; false on failure. */
bool rwkv_fseek64(FILE * file, uint64_t offset);

/* Creates and opens a new, unique file beside final_path (same folder, so a rename is atomic) for
   writing; its path goes to temp_path (size temp_size). NULL on failure. */
FILE * rwkv_create_temp_beside(const char * final_path, char * temp_path, size_t temp_size);

/* Flushes file data to disk; false on failure. The FILE stays open. */
bool rwkv_sync_file(FILE * file);

/*
 * Lets the operating system drop the cached pages of a file already synced (rwkv_sync_file; dirty
 * pages are not dropped). Linux maps a file with 2 MiB pages only where the page cache holds it in
 * 2 MiB folios (map_read_only), and the pages a writer leaves behind are small ones: a model file
 * just written decodes 2-10% slower for as long as they stay cached. Once they are dropped, the
 * first mapping reads the file back in 2 MiB folios. No-op where unsupported (other systems keep
 * no such folios).
 */
void rwkv_drop_cached_pages(FILE * file);

/* Renames from to to, replacing to if it exists. */
bool rwkv_rename_replace(const char * from, const char * to);

/* Removes a file; errors ignored (used for cleanup). */
void rwkv_remove_file(const char * path);

/* Aligned heap memory (alignment a power of two, at least sizeof(void *)); free with rwkv_aligned_free. */
void * rwkv_aligned_alloc(size_t alignment, size_t size);
void rwkv_aligned_free(void * memory);

/* Asks for 2 MiB pages on a large buffer that will be streamed through (a hint; no-op where unsupported). */
void rwkv_advise_huge_pages(void * memory, size_t size);

/*
 * Drops this process's copy of the whole pages inside [memory, memory + size) of a read-only file
 * mapping (rwkv_map_file): they are read back from the file if touched again, so this only lowers
 * the resident set, for weights another copy now serves (a GPU's). No-op where unsupported.
 */
void rwkv_release_mapped_pages(const void * memory, size_t size);

/* Number of logical CPUs (at least 1). */
uint32_t rwkv_cpu_count(void);

/* Seconds from an arbitrary fixed point, from a clock that never goes back (for timing). */
double rwkv_monotonic_seconds(void);

#endif

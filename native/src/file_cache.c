/*
 * rwkv_drop_file_cache: the model files jrwkv writes in Java (downloads, conversions) get the same
 * treatment as those the engine writes (quantize.c, random_model.c): their cached pages are
 * dropped once they are on disk, so that the first mapping reads them back in 2 MiB pages
 * (platform.h, rwkv_drop_cached_pages).
 */
#include "error.h"
#include "platform.h"
#include "rwkv.h"

bool rwkv_drop_file_cache(const char * path) {
    struct rwkv_error_slot * error = rwkv_global_error();
    const bool print = rwkv_global_print_errors();
    rwkv_error_clear(error);
    if (path == NULL) {
        return rwkv_error_set(error, print, RWKV_ERROR_ARGS | RWKV_ERROR_PARAM_MISSING, "no file path given");
    }
    FILE * file = rwkv_fopen(path, "rb");
    if (file == NULL) {
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN, "cannot open %s", path);
    }
    /* Pages another writer left dirty are dropped only once on disk. (Windows refuses to sync a
       file opened for reading; there the drop does nothing anyway.) */
    (void)rwkv_sync_file(file);
    rwkv_drop_cached_pages(file);
    fclose(file);
    return true;
}

/*
 * The model quantizer (file-format.md §10): FP32 or FP16 file in, Q4_0 ... Q8_0 file out,
 * byte-identical to rwkv.cpp's quantizer. The whole input is validated before anything is
 * written; the output goes to a temporary file that is renamed into place only when complete.
 */
#include <stdlib.h>
#include <string.h>

#include "data_types.h"
#include "error.h"
#include "file_format.h"
#include "kernels/kernels.h"
#include "platform.h"
#include "quant_blocks.h"
#include "rwkv.h"
#include "threadpool.h"

/* Substrings of tensors rwkv.cpp keeps in full precision: v7's LoRA matrices and r_k. */
static const char * const KEEP_PRECISION[] = {
    "att.v1", "att.v2", "att.g1", "att.g2", "att.a1", "att.a2", "att.w1", "att.w2", "att.r_k",
};

static bool name_contains(const struct rwkv_tensor_record * record, const char * needle) {
    size_t length = strlen(needle);
    for (size_t i = 0; i + length <= record->name_length; i++) {
        if (memcmp(record->name + i, needle, length) == 0) {
            return true;
        }
    }
    return false;
}

static bool should_quantize(const struct rwkv_tensor_record * record) {
    if (record->type != RWKV_TYPE_FP32 && record->type != RWKV_TYPE_FP16) {
        return false;
    }
    if (record->n_dims != 2 || rwkv_record_name_is(record, "emb.weight") || rwkv_record_name_is(record, "head.weight")) {
        return false;
    }
    for (size_t i = 0; i < sizeof KEEP_PRECISION / sizeof KEEP_PRECISION[0]; i++) {
        if (name_contains(record, KEEP_PRECISION[i])) {
            return false;
        }
    }
    /* Ours: the reference would write blocks spanning rows here; keeping the tensor is correct. */
    return record->ne[0] % RWKV_QK == 0;
}

/*
 * Tensor data is read with stdio in chunks, not through the mapping: touching every page of a
 * multi-gigabyte mapping costs a page fault each and keeps the whole file in the process's
 * resident set. Chunks are quantized by all cores, then written in order.
 */
#define CHUNK_BYTES ((size_t)8 << 20)
#define MAX_THREADS 8

struct writer {
    FILE * file;
    bool ok;
};

static void put(struct writer * writer, const void * data, size_t size) {
    if (writer->ok && size > 0 && fwrite(data, 1, size, writer->file) != size) {
        writer->ok = false;
    }
}

static void put_u32(struct writer * writer, uint32_t value) {
    uint8_t bytes[4];
    rwkv_write_u32le(bytes, value);
    put(writer, bytes, sizeof bytes);
}

/* Buffers shared by all tensors: one input chunk, its quantized rows, a float row per thread. */
struct quantizer {
    FILE * input;
    struct rwkv_threadpool * pool;
    uint8_t * in;
    uint8_t * out;
    float * rows;
    size_t widest;
};

struct chunk_job {
    const struct quantizer * q;
    const struct rwkv_kernels * kernels;
    uint32_t source_type, target;
    size_t n, rows, source_row_bytes, target_row_bytes;
};

static void quantize_chunk_task(void * arg, uint32_t thread_index, uint32_t n_threads) {
    const struct chunk_job * job = arg;
    uint64_t first, last;
    rwkv_split_range(job->rows, 1, thread_index, n_threads, &first, &last);
    float * row = job->q->rows + (size_t)thread_index * job->q->widest;
    for (uint64_t r = first; r < last; r++) {
        job->kernels->quantize_row(job->source_type, job->q->in + r * job->source_row_bytes, job->n, job->target, row,
                                   job->q->out + r * job->target_row_bytes);
    }
}

/* Gives back the mapping's pages around a record's header once it is written: reading its name
   mapped the whole folio holding it, up to 2 MiB (file_format.h). */
static void release_record_header(const struct rwkv_file_view * view, const struct rwkv_tensor_record * record) {
    const uint64_t folio = (uint64_t)2 << 20;
    const uint64_t begin = record->record_offset & ~(folio - 1);
    uint64_t end = (record->data_offset + folio - 1) & ~(folio - 1);
    end = end < view->size ? end : view->size;
    rwkv_release_mapped_pages(view->data + begin, (size_t)(end - begin));
}

static bool read_exactly(FILE * input, void * buffer, size_t size) {
    return fread(buffer, 1, size, input) == size;
}

/* Writes one record, quantized to target or copied byte for byte. Returns the bytes of data written. */
static uint64_t write_record(struct writer * writer, struct quantizer * q, const struct rwkv_tensor_record * record,
                             uint32_t target) {
    const bool quantize = should_quantize(record);
    put_u32(writer, record->n_dims);
    put_u32(writer, record->name_length);
    put_u32(writer, quantize ? target : record->type);
    for (uint32_t i = 0; i < record->n_dims; i++) {
        put_u32(writer, record->ne[i]);
    }
    put(writer, record->name, record->name_length);
    if (!rwkv_fseek64(q->input, record->data_offset)) {
        writer->ok = false;
        return 0;
    }
    if (!quantize) {
        for (uint64_t done = 0; done < record->data_bytes && writer->ok; done += CHUNK_BYTES) {
            size_t size = (size_t)(record->data_bytes - done < CHUNK_BYTES ? record->data_bytes - done : CHUNK_BYTES);
            writer->ok = read_exactly(q->input, q->in, size);
            put(writer, q->in, size);
        }
        return record->data_bytes;
    }
    struct chunk_job job = { .q = q, .kernels = rwkv_kernels_best(), .source_type = record->type, .target = target,
                             .n = record->ne[0] };
    job.source_row_bytes = job.n * (record->type == RWKV_TYPE_FP32 ? 4 : 2);
    job.target_row_bytes = job.n / RWKV_QK * rwkv_type_block_bytes(target);
    const size_t rows_per_chunk = CHUNK_BYTES / job.source_row_bytes > 0 ? CHUNK_BYTES / job.source_row_bytes : 1;
    for (size_t done = 0; done < record->ne[1] && writer->ok; done += rows_per_chunk) {
        job.rows = record->ne[1] - done < rows_per_chunk ? record->ne[1] - done : rows_per_chunk;
        writer->ok = read_exactly(q->input, q->in, job.rows * job.source_row_bytes);
        if (writer->ok) {
            rwkv_threadpool_run(q->pool, quantize_chunk_task, &job);
            put(writer, q->out, job.rows * job.target_row_bytes);
        }
    }
    return (uint64_t)job.target_row_bytes * record->ne[1];
}

static size_t widest_row(const struct rwkv_file_view * view) {
    size_t widest = RWKV_QK;
    for (size_t i = 0; i < view->n_records; i++) {
        widest = view->records[i].ne[0] > widest ? view->records[i].ne[0] : widest;
    }
    return widest;
}

static void free_quantizer(struct quantizer * q) {
    if (q->input != NULL) {
        fclose(q->input);
    }
    rwkv_threadpool_free(q->pool);
    free(q->in);
    free(q->out);
    free(q->rows);
}

static bool write_output(const struct rwkv_file_view * view, const char * in_path, uint32_t target,
                         const char * out_path, struct rwkv_error_slot * error, bool print) {
    uint32_t threads = rwkv_cpu_count() < MAX_THREADS ? rwkv_cpu_count() : MAX_THREADS;
    struct quantizer q = { .widest = widest_row(view) };
    /* A chunk holds at least one row, however wide. */
    size_t in_bytes = q.widest * 4 > CHUNK_BYTES ? q.widest * 4 : CHUNK_BYTES;
    q.input = rwkv_fopen(in_path, "rb");
    q.pool = rwkv_threadpool_create(threads);
    q.in = malloc(in_bytes);
    q.out = malloc(in_bytes);
    q.rows = malloc(q.widest * threads * sizeof(float));
    if (q.input == NULL || q.pool == NULL || q.in == NULL || q.out == NULL || q.rows == NULL) {
        free_quantizer(&q);
        return rwkv_error_set(error, print, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC, "cannot set up quantizing %s", in_path);
    }
    char temp_path[4096];
    struct writer writer = { rwkv_create_temp_beside(out_path, temp_path, sizeof temp_path), true };
    if (writer.file == NULL) {
        free_quantizer(&q);
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_OPEN,
                              "cannot create a file next to %s", out_path);
    }
    const struct rwkv_file_header * header = &view->header;
    const uint32_t fields[6] = { RWKV_FILE_MAGIC, RWKV_FILE_VERSION, header->n_vocab, header->n_embed,
                                 header->n_layer, target };
    for (int i = 0; i < 6; i++) {
        put_u32(&writer, fields[i]);
    }
    uint64_t bytes_in = 0, bytes_out = 0;
    for (size_t i = 0; i < view->n_records && writer.ok; i++) {
        const struct rwkv_tensor_record * record = &view->records[i];
        uint64_t written = write_record(&writer, &q, record, target);
        bytes_in += record->data_bytes;
        bytes_out += written;
        char name[128];
        rwkv_log(print, "%-40s [%u, %u, %u] %s -> %s, %.3f MiB -> %.3f MiB",
                 rwkv_record_name_for_print(record, name, sizeof name), record->ne[0], record->ne[1], record->ne[2],
                 rwkv_type_name(record->type), rwkv_type_name(should_quantize(record) ? target : record->type),
                 record->data_bytes / 1048576.0, written / 1048576.0);
        release_record_header(view, record);
    }
    free_quantizer(&q);
    writer.ok = writer.ok && rwkv_sync_file(writer.file);
    if (writer.ok) {
        rwkv_drop_cached_pages(writer.file);
    }
    writer.ok = (fclose(writer.file) == 0) && writer.ok;
    if (!writer.ok || !rwkv_rename_replace(temp_path, out_path)) {
        rwkv_remove_file(temp_path);
        return rwkv_error_set(error, print, RWKV_ERROR_FILE | RWKV_ERROR_FILE_WRITE, "cannot write %s", out_path);
    }
    rwkv_log(print, "quantized to %s: %.3f MiB -> %.3f MiB (ratio %.2f)", rwkv_type_name(target),
             bytes_in / 1048576.0, bytes_out / 1048576.0, bytes_out > 0 ? (double)bytes_in / bytes_out : 0.0);
    return true;
}

bool rwkv_quantize_model_file(const char * model_file_path_in, const char * model_file_path_out,
                              const char * format_name) {
    struct rwkv_error_slot * error = rwkv_global_error();
    const bool print = rwkv_global_print_errors();
    rwkv_error_clear(error);
    uint32_t target;
    if (!rwkv_type_from_quantized_name(format_name, &target)) {
        return rwkv_error_set(error, print, RWKV_ERROR_ARGS | RWKV_ERROR_DATA_TYPE,
                              "unknown quantization format \"%s\" (expected Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0)",
                              format_name == NULL ? "(null)" : format_name);
    }
    if (model_file_path_in == NULL || model_file_path_out == NULL) {
        return rwkv_error_set(error, print, RWKV_ERROR_ARGS | RWKV_ERROR_FILE_OPEN, "file path is NULL");
    }
    struct rwkv_mapped_file input;
    if (!rwkv_map_file(model_file_path_in, &input, error, print)) {
        return false;
    }
    struct rwkv_file_view view = { .data = input.data, .size = input.size, .release_parsed_pages = true };
    bool ok = rwkv_file_read_header(&view, error, print);
    if (ok && view.header.data_type != RWKV_TYPE_FP32 && view.header.data_type != RWKV_TYPE_FP16) {
        ok = rwkv_error_set(error, print, RWKV_ERROR_FILE,
                            "only FP32 and FP16 files can be quantized; this one is %s",
                            rwkv_type_name(view.header.data_type));
    }
    ok = ok && rwkv_file_read_records(&view, error, print);
    ok = ok && write_output(&view, model_file_path_in, target, model_file_path_out, error, print);
    rwkv_file_free_records(&view);
    rwkv_unmap_file(&input);
    return ok;
}

/*
 * The public API: contexts (a shared model plus per-context threads, buffers and error slot),
 * evaluation entry points with their argument checks, and metadata queries.
 */
#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "data_types.h"
#include "error.h"
#include "forward.h"
#include "gpu/offload.h"
#include "model.h"
#include "platform.h"
#include "rwkv.h"

/*
 * Longest run of tokens one forward call processes. Longer sequences are evaluated in pieces of
 * this size, which gives the same result bit for bit and bounds the scratch memory.
 */
#define MAX_TOKENS_PER_FORWARD 64

struct rwkv_context {
    struct rwkv_model * model;
    struct rwkv_compute compute;
    uint32_t n_threads;
    uint32_t n_gpu_layers;
    bool print_errors;
    struct rwkv_error_slot error;
    float * state_buffer;   /* for evaluations whose caller passes no state_out; allocated on first need */
};

/* ---- Errors and printing ---- */

void rwkv_set_print_errors(struct rwkv_context * ctx, const bool print_errors) {
    if (ctx == NULL) {
        rwkv_set_global_print_errors(print_errors);
    } else {
        ctx->print_errors = print_errors;
    }
}

bool rwkv_get_print_errors(const struct rwkv_context * ctx) {
    return ctx == NULL ? rwkv_global_print_errors() : ctx->print_errors;
}

enum rwkv_error_flags rwkv_get_last_error(struct rwkv_context * ctx) {
    struct rwkv_error_slot * slot = ctx == NULL ? rwkv_global_error() : &ctx->error;
    enum rwkv_error_flags flags = slot->flags;
    slot->flags = RWKV_ERROR_NONE;
    return flags;
}

const char * rwkv_get_last_error_message(const struct rwkv_context * ctx) {
    return ctx == NULL ? rwkv_global_error()->message : ctx->error.message;
}

/* ---- Contexts ---- */

static struct rwkv_context * create_context(struct rwkv_model * model, uint32_t n_threads, bool print) {
    struct rwkv_error_slot * error = rwkv_global_error();
    struct rwkv_context * ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        rwkv_error_set(error, print, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC, "out of memory creating a context");
        return NULL;
    }
    ctx->model = model;
    ctx->n_threads = n_threads;
    ctx->print_errors = print;
    ctx->compute.model = model;
    ctx->compute.kernels = rwkv_kernels_best();
    ctx->compute.pool = rwkv_threadpool_create(n_threads);
    if (ctx->compute.pool == NULL) {
        free(ctx);
        rwkv_error_set(error, print, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC, "cannot start %u worker threads", n_threads);
        return NULL;
    }
    if (!rwkv_scratch_reserve(&ctx->compute, 1)) {
        rwkv_threadpool_free(ctx->compute.pool);
        free(ctx);
        rwkv_error_set(error, print, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC, "out of memory creating a context");
        return NULL;
    }
    return ctx;
}

struct rwkv_context * rwkv_init_from_file(const char * model_file_path, const uint32_t n_threads,
                                          const uint32_t n_gpu_layers) {
    struct rwkv_error_slot * error = rwkv_global_error();
    const bool print = rwkv_global_print_errors();
    rwkv_error_clear(error);
    if (model_file_path == NULL) {
        rwkv_error_set(error, print, RWKV_ERROR_ARGS | RWKV_ERROR_FILE_OPEN, "model file path is NULL");
        return NULL;
    }
    if (n_threads == 0) {
        rwkv_error_set(error, print, RWKV_ERROR_ARGS, "n_threads must be at least 1");
        return NULL;
    }
    struct rwkv_model * model = rwkv_model_load(model_file_path, error, print);
    if (model == NULL) {
        return NULL;
    }
    struct rwkv_context * ctx = create_context(model, n_threads, print);
    if (ctx == NULL) {
        rwkv_model_release(model);
        return NULL;
    }
    ctx->n_gpu_layers = n_gpu_layers > model->n_layer + 1 ? model->n_layer + 1 : n_gpu_layers;
    /* Builds without a GPU backend, or machines without a device, run everything on the CPU; so
       does a model whose upload failed (logged when printing is on). Only the first context of a
       model uploads: clones share the device copies with the weights. */
    if (model->gpu_layers == 0) {
        rwkv_gpu_offload(model, ctx->n_gpu_layers, print);
    }
    return ctx;
}

struct rwkv_context * rwkv_clone_context(struct rwkv_context * ctx, const uint32_t n_threads) {
    struct rwkv_error_slot * error = rwkv_global_error();
    if (ctx == NULL) {
        rwkv_error_set(error, rwkv_global_print_errors(), RWKV_ERROR_ARGS, "context to clone is NULL");
        return NULL;
    }
    if (n_threads == 0) {
        rwkv_error_set(error, ctx->print_errors, RWKV_ERROR_ARGS, "n_threads must be at least 1");
        return NULL;
    }
    rwkv_model_retain(ctx->model);
    struct rwkv_context * clone = create_context(ctx->model, n_threads, ctx->print_errors);
    if (clone == NULL) {
        rwkv_model_release(ctx->model);
        return NULL;
    }
    clone->n_gpu_layers = ctx->n_gpu_layers;
    return clone;
}

void rwkv_free(struct rwkv_context * ctx) {
    if (ctx == NULL) {
        return;
    }
    rwkv_threadpool_free(ctx->compute.pool);
    rwkv_scratch_free(&ctx->compute.scratch);
    rwkv_aligned_free(ctx->state_buffer);
    rwkv_model_release(ctx->model);
    free(ctx);
}

/* ---- Evaluation ---- */

static bool check_tokens(struct rwkv_context * ctx, const uint32_t * tokens, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (tokens[i] >= ctx->model->n_vocab) {
            return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_ARGS,
                                  "token %u at position %zu is out of range (n_vocab = %u)", tokens[i], i,
                                  ctx->model->n_vocab);
        }
    }
    return true;
}

static bool reserve(struct rwkv_context * ctx, size_t tokens_per_forward) {
    if (!rwkv_scratch_reserve(&ctx->compute, tokens_per_forward)) {
        return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC,
                              "out of memory for buffers of %zu tokens", tokens_per_forward);
    }
    return true;
}

static size_t tokens_per_forward(size_t chunk_size) {
    return chunk_size < MAX_TOKENS_PER_FORWARD ? chunk_size : MAX_TOKENS_PER_FORWARD;
}

/*
 * Evaluates tokens (already checked) in forward calls of at most max_per_forward tokens. Everything
 * that can fail happens before the caller's buffers are touched.
 */
static bool evaluate(struct rwkv_context * ctx, const uint32_t * tokens, size_t count, size_t max_per_forward,
                     const float * state_in, float * state_out, float * logits_out) {
    const struct rwkv_model * model = ctx->model;
    const size_t per_forward = tokens_per_forward(max_per_forward);
    if (!reserve(ctx, per_forward)) {
        return false;
    }
    float * state = state_out;
    if (state == NULL) {
        if (ctx->state_buffer == NULL) {
            ctx->state_buffer = rwkv_aligned_alloc(64, model->state_len * sizeof(float));
            if (ctx->state_buffer == NULL) {
                return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC,
                                      "out of memory for a state buffer");
            }
        }
        state = ctx->state_buffer;
    }
    if (state_in == NULL) {
        rwkv_initial_state(model, state);
    } else if (state_in != state) {
        memcpy(state, state_in, model->state_len * sizeof(float));
    }
    for (size_t done = 0; done < count;) {
        size_t n = count - done < per_forward ? count - done : per_forward;
        bool last = done + n == count;
        /* Only the last token's logits are wanted. */
        float * logits[MAX_TOKENS_PER_FORWARD] = { 0 };
        logits[n - 1] = last ? logits_out : NULL;
        struct rwkv_columns columns = { .n = n, .states = &state, .shared = true };
        rwkv_forward(&ctx->compute, tokens + done, &columns, logits);
        done += n;
    }
    return true;
}

bool rwkv_eval(struct rwkv_context * ctx, const uint32_t token, const float * state_in, float * state_out,
               float * logits_out) {
    if (ctx == NULL) {
        return false;
    }
    rwkv_error_clear(&ctx->error);
    return check_tokens(ctx, &token, 1) && evaluate(ctx, &token, 1, 1, state_in, state_out, logits_out);
}

bool rwkv_eval_sequence(struct rwkv_context * ctx, const uint32_t * tokens, const size_t sequence_len,
                        const float * state_in, float * state_out, float * logits_out) {
    if (ctx == NULL) {
        return false;
    }
    rwkv_error_clear(&ctx->error);
    if (sequence_len == 0) {
        return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_ARGS, "sequence_len must be at least 1");
    }
    if (tokens == NULL) {
        return reserve(ctx, tokens_per_forward(sequence_len));
    }
    return check_tokens(ctx, tokens, sequence_len) &&
           evaluate(ctx, tokens, sequence_len, sequence_len, state_in, state_out, logits_out);
}

bool rwkv_eval_sequence_in_chunks(struct rwkv_context * ctx, const uint32_t * tokens, const size_t sequence_len,
                                  const size_t chunk_size, const float * state_in, float * state_out,
                                  float * logits_out) {
    if (ctx == NULL) {
        return false;
    }
    rwkv_error_clear(&ctx->error);
    if (sequence_len == 0 || chunk_size == 0) {
        return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_ARGS,
                              "sequence_len and chunk_size must be at least 1");
    }
    size_t per_forward = chunk_size < sequence_len ? chunk_size : sequence_len;
    if (tokens == NULL) {
        return reserve(ctx, tokens_per_forward(per_forward));
    }
    /* Checking every token first means no chunk can fail after the first has run. */
    return check_tokens(ctx, tokens, sequence_len) &&
           evaluate(ctx, tokens, sequence_len, per_forward, state_in, state_out, logits_out);
}

bool rwkv_eval_batch(struct rwkv_context * ctx, const uint32_t * tokens, const size_t n_sessions,
                     const float * const * states_in, float * const * states_out, float * const * logits_out) {
    if (ctx == NULL) {
        return false;
    }
    rwkv_error_clear(&ctx->error);
    if (n_sessions == 0 || tokens == NULL || states_out == NULL) {
        return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_ARGS,
                              "a batch needs at least one session, its tokens and its output states");
    }
    for (size_t i = 0; i < n_sessions; i++) {
        if (states_out[i] == NULL) {
            return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_ARGS,
                                  "output state of session %zu is NULL", i);
        }
    }
    const size_t per_forward = tokens_per_forward(n_sessions);
    bool wants_logits = false;
    for (size_t i = 0; logits_out != NULL && i < n_sessions; i++) {
        wants_logits |= logits_out[i] != NULL;
    }
    if (!check_tokens(ctx, tokens, n_sessions) || !reserve(ctx, per_forward)) {
        return false;
    }
    if (wants_logits && n_sessions > 1 && !rwkv_scratch_reserve_logits(&ctx->compute)) {
        return rwkv_error_set(&ctx->error, ctx->print_errors, RWKV_ERROR_CTX | RWKV_ERROR_ALLOC,
                              "out of memory for the logits of %zu sessions", per_forward);
    }
    const struct rwkv_model * model = ctx->model;
    for (size_t i = 0; i < n_sessions; i++) {
        const float * in = states_in == NULL ? NULL : states_in[i];
        if (in == NULL) {
            rwkv_initial_state(model, states_out[i]);
        } else if (in != states_out[i]) {
            memcpy(states_out[i], in, model->state_len * sizeof(float));
        }
    }
    for (size_t done = 0; done < n_sessions; done += per_forward) {
        size_t n = n_sessions - done < per_forward ? n_sessions - done : per_forward;
        struct rwkv_columns columns = { .n = n, .states = states_out + done, .shared = false };
        rwkv_forward(&ctx->compute, tokens + done, &columns, logits_out == NULL ? NULL : logits_out + done);
    }
    return true;
}

void rwkv_init_state(const struct rwkv_context * ctx, float * state) {
    if (ctx != NULL && state != NULL) {
        rwkv_initial_state(ctx->model, state);
    }
}

/* ---- Queries ---- */

size_t rwkv_get_n_vocab(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->n_vocab;
}

size_t rwkv_get_n_embed(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->n_embed;
}

size_t rwkv_get_n_layer(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->n_layer;
}

size_t rwkv_get_state_len(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->state_len;
}

size_t rwkv_get_logits_len(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->n_vocab;
}

uint32_t rwkv_get_state_buffer_element_count(const struct rwkv_context * ctx) {
    return (uint32_t)rwkv_get_state_len(ctx);
}

uint32_t rwkv_get_logits_buffer_element_count(const struct rwkv_context * ctx) {
    return (uint32_t)rwkv_get_logits_len(ctx);
}

enum rwkv_architecture rwkv_get_architecture(const struct rwkv_context * ctx) {
    return ctx == NULL ? RWKV_ARCH_UNKNOWN : ctx->model->arch;
}

uint32_t rwkv_get_file_version(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->view.header.version;
}

uint32_t rwkv_get_file_data_type(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->view.header.data_type;
}

size_t rwkv_get_n_head(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->n_head;
}

size_t rwkv_get_head_size(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->head_size;
}

uint32_t rwkv_get_n_threads(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->n_threads;
}

size_t rwkv_get_tensor_count(const struct rwkv_context * ctx) {
    return ctx == NULL ? 0 : ctx->model->view.n_records;
}

bool rwkv_get_tensor_info(const struct rwkv_context * ctx, const size_t index, struct rwkv_tensor_info * info) {
    if (ctx == NULL || info == NULL || index >= ctx->model->view.n_records) {
        return false;
    }
    const struct rwkv_tensor_record * record = &ctx->model->view.records[index];
    info->name = ctx->model->tensor_names[index];
    info->type = record->type;
    info->n_dims = record->n_dims;
    memcpy(info->ne, record->ne, sizeof info->ne);
    info->offset = record->data_offset;
    info->n_bytes = record->data_bytes;
    info->used = ctx->model->tensor_used[index];
    return true;
}

/* Temporary: the API entry points, failing cleanly until the engine lands. */
#include <stdlib.h>

#include "error.h"
#include "rwkv.h"

void rwkv_set_print_errors(struct rwkv_context * ctx, const bool print_errors) { if (!ctx) rwkv_set_global_print_errors(print_errors); }
bool rwkv_get_print_errors(const struct rwkv_context * ctx) { return ctx ? false : rwkv_global_print_errors(); }
enum rwkv_error_flags rwkv_get_last_error(struct rwkv_context * ctx) { struct rwkv_error_slot * s = rwkv_global_error(); enum rwkv_error_flags f = s->flags; s->flags = RWKV_ERROR_NONE; return f; }
const char * rwkv_get_last_error_message(const struct rwkv_context * ctx) { return rwkv_global_error()->message; }
struct rwkv_context * rwkv_init_from_file(const char * path, const uint32_t n_threads, const uint32_t n_gpu_layers) { rwkv_error_clear(rwkv_global_error()); rwkv_error_set(rwkv_global_error(), rwkv_global_print_errors(), RWKV_ERROR_UNSUPPORTED, "not implemented yet"); return NULL; }
struct rwkv_context * rwkv_clone_context(struct rwkv_context * ctx, const uint32_t n_threads) { return NULL; }
bool rwkv_eval(struct rwkv_context * ctx, const uint32_t token, const float * state_in, float * state_out, float * logits_out) { return false; }
bool rwkv_eval_sequence(struct rwkv_context * ctx, const uint32_t * tokens, const size_t sequence_len, const float * state_in, float * state_out, float * logits_out) { return false; }
bool rwkv_eval_sequence_in_chunks(struct rwkv_context * ctx, const uint32_t * tokens, const size_t sequence_len, const size_t chunk_size, const float * state_in, float * state_out, float * logits_out) { return false; }
size_t rwkv_get_n_vocab(const struct rwkv_context * ctx) { return 0; }
size_t rwkv_get_n_embed(const struct rwkv_context * ctx) { return 0; }
size_t rwkv_get_n_layer(const struct rwkv_context * ctx) { return 0; }
size_t rwkv_get_state_len(const struct rwkv_context * ctx) { return 0; }
size_t rwkv_get_logits_len(const struct rwkv_context * ctx) { return 0; }
void rwkv_init_state(const struct rwkv_context * ctx, float * state) {}
void rwkv_free(struct rwkv_context * ctx) {}
bool rwkv_quantize_model_file(const char * in, const char * out, const char * format_name) { return false; }
const char * rwkv_get_system_info_string(void) { return "AVX=0 AVX2=0 AVX512=0 FMA=0 NEON=0 ARM_FMA=0 F16C=0 FP16_VA=0 WASM_SIMD=0 SSE3=0 VSX=0"; }
enum rwkv_architecture rwkv_get_architecture(const struct rwkv_context * ctx) { return RWKV_ARCH_UNKNOWN; }
uint32_t rwkv_get_file_version(const struct rwkv_context * ctx) { return 0; }
uint32_t rwkv_get_file_data_type(const struct rwkv_context * ctx) { return 0; }
size_t rwkv_get_n_head(const struct rwkv_context * ctx) { return 0; }
size_t rwkv_get_head_size(const struct rwkv_context * ctx) { return 0; }
uint32_t rwkv_get_n_threads(const struct rwkv_context * ctx) { return 0; }
size_t rwkv_get_tensor_count(const struct rwkv_context * ctx) { return 0; }
bool rwkv_get_tensor_info(const struct rwkv_context * ctx, const size_t index, struct rwkv_tensor_info * info) { return false; }
uint32_t rwkv_get_state_buffer_element_count(const struct rwkv_context * ctx) { return 0; }
uint32_t rwkv_get_logits_buffer_element_count(const struct rwkv_context * ctx) { return 0; }

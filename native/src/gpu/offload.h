/*
 * Layer offload: the matrices of the first n_gpu_layers blocks (and the head when n_gpu_layers >
 * n_layer) get a copy on the device, and their products run there. The forward passes do not
 * change: rwkv_matmul sends a matrix with a device copy to the device. States stay on the host.
 * Matrices under the size floor stay on the CPU: a device product costs a round trip (copies and
 * a wait, ~25 us on an H200), more than the CPU takes for v7's small LoRA matrices.
 */
#ifndef RWKV_GPU_OFFLOAD_H
#define RWKV_GPU_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "model.h"

/*
 * Uploads the matrices of the first n_gpu_layers layers (capped at n_layer + 1, the head). Without
 * a device it does nothing and returns true (the CPU runs everything). False if an upload fails
 * (logged when print is on); the model then runs on the CPU. Not an error for the caller: loading
 * succeeds either way.
 */
bool rwkv_gpu_offload(struct rwkv_model * model, uint32_t n_gpu_layers, bool print);

/* The floor: matrices of fewer bytes are not offloaded. */
#define RWKV_GPU_MIN_MATRIX_BYTES ((size_t)512 * 1024)

/* Sets the floor for models offloaded from now on (tests set 0 to send every matrix to the device). */
void rwkv_gpu_set_min_matrix_bytes(size_t bytes);

/* Frees the model's device copies. */
void rwkv_gpu_release(struct rwkv_model * model);

#endif

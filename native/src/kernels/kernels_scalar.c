/* placeholder: replaced by the real implementation */
typedef int rwkv_placeholder_kernels_scalar;

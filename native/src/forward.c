/* placeholder: replaced by the real implementation */
typedef int rwkv_placeholder_forward;

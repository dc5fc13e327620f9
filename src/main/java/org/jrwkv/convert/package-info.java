/**
 * Converting PyTorch RWKV checkpoints ({@code .pth}, {@code .safetensors}, Hugging Face RWKV-4
 * layouts) into model files: {@link org.jrwkv.convert.Converter}.
 */
package org.jrwkv.convert;

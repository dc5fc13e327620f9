# RWKV_SANITIZE=address;undefined builds everything (library and tests) with those sanitizers.
# CI runs the C tests once this way; a sanitizer report fails the test.
set(RWKV_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address;undefined")

if(RWKV_SANITIZE)
  string(REPLACE ";" "," _rwkv_sanitizers "${RWKV_SANITIZE}")
  # C only: nvcc (the CUDA variant) takes no such options; its device code is not sanitized.
  add_compile_options($<$<COMPILE_LANGUAGE:C>:-fsanitize=${_rwkv_sanitizers}>
                      $<$<COMPILE_LANGUAGE:C>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:C>:-fno-sanitize-recover=all>)
  add_link_options(-fsanitize=${_rwkv_sanitizers})
  message(STATUS "jrwkv: building with sanitizers ${_rwkv_sanitizers}")
endif()

# RWKV_SANITIZE=address;undefined builds everything (library and tests) with those sanitizers.
# CI runs the C tests once this way; a sanitizer report fails the test.
set(RWKV_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address;undefined")

if(RWKV_SANITIZE)
  string(REPLACE ";" "," _rwkv_sanitizers "${RWKV_SANITIZE}")
  add_compile_options(-fsanitize=${_rwkv_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_rwkv_sanitizers})
  message(STATUS "jrwkv: building with sanitizers ${_rwkv_sanitizers}")
endif()

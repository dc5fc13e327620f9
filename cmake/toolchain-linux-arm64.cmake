# Cross-compiles the engine for Linux on 64-bit ARM with Debian's gcc-aarch64-linux-gnu
# (apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user).
#
#   cmake -S native -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-linux-arm64.cmake
#
# The C tests run under qemu-aarch64 (ctest uses CMAKE_CROSSCOMPILING_EMULATOR). They are linked
# statically, so qemu needs no ARM64 sysroot to start them.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(RWKV_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "Prefix of the cross tools")
set(CMAKE_C_COMPILER ${RWKV_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${RWKV_CROSS_PREFIX}g++)

# Only the cross sysroot for libraries and headers; programs (the build tools) come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 CACHE STRING "Runs the cross-built tests")

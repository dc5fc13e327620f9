# Cross-compiles the engine for 64-bit Windows with Debian's mingw-w64, POSIX thread model
# (apt-get install gcc-mingw-w64-x86-64-posix g++-mingw-w64-x86-64-posix wine).
#
#   cmake -S native -B build-win64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-windows-x86_64.cmake
#
# The engine's threads are POSIX threads, which mingw provides through winpthreads; everything
# (winpthreads, libgcc) is linked statically, so a test program or the JNI DLL is one file that
# needs only Windows' own DLLs. The C tests run under wine (CMAKE_CROSSCOMPILING_EMULATOR).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(RWKV_CROSS_PREFIX x86_64-w64-mingw32- CACHE STRING "Prefix of the cross tools")
set(CMAKE_C_COMPILER ${RWKV_CROSS_PREFIX}gcc-posix)
set(CMAKE_CXX_COMPILER ${RWKV_CROSS_PREFIX}g++-posix)
set(CMAKE_RC_COMPILER ${RWKV_CROSS_PREFIX}windres)

set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# mingw's default printf family is the old msvcrt one, without C99's %zu and %lld: use mingw's own.
set(CMAKE_C_FLAGS_INIT "-D__USE_MINGW_ANSI_STDIO=1")
set(CMAKE_CXX_FLAGS_INIT "-D__USE_MINGW_ANSI_STDIO=1")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
set(CMAKE_CROSSCOMPILING_EMULATOR wine CACHE STRING "Runs the cross-built tests")

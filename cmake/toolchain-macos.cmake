# Builds the engine for macOS with the Apple toolchain (Xcode or its command line tools:
# xcode-select --install), for one architecture at a time:
#
#   cmake -S native -B build-mac -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-macos.cmake -DRWKV_MACOS_ARCH=arm64
#
# RWKV_MACOS_ARCH is arm64 (Apple silicon) or x86_64 (Intel); either can be built on either kind of
# Mac, and the tests of the other architecture run where the Mac can run them (x86_64 under
# Rosetta 2). Nothing on the Linux build machines can run this toolchain: macOS is not built there.
set(CMAKE_SYSTEM_NAME Darwin)
set(RWKV_MACOS_ARCH arm64 CACHE STRING "arm64 or x86_64")
set(CMAKE_SYSTEM_PROCESSOR ${RWKV_MACOS_ARCH})
set(CMAKE_OSX_ARCHITECTURES ${RWKV_MACOS_ARCH} CACHE STRING "" FORCE)
# The oldest macOS the library loads on: 11 (Big Sur), the first with Apple silicon.
set(CMAKE_OSX_DEPLOYMENT_TARGET 11.0 CACHE STRING "" FORCE)
set(CMAKE_C_COMPILER clang)
set(CMAKE_CXX_COMPILER clang++)

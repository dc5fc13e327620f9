# Compiler flags shared by every engine target.

include(CheckCCompilerFlag)
#
# -ffp-contract=off: no silent fused multiply-adds. The quantizer must round every float operation
# separately to be byte-identical with rwkv.cpp, and kernels ask for FMA explicitly where they want it.
# No -march=native: the library must run on any CPU of its target; faster kernels are chosen at run time.

function(rwkv_apply_compiler_flags target)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    # C only: a target may also hold CUDA sources, whose compiler takes other options.
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter>
      $<$<COMPILE_LANGUAGE:C>:-ffp-contract=off -fno-math-errno>)
    if(RWKV_WERROR)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C>:-Werror>)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W3 /fp:precise)
  endif()
endfunction()

# Adds the kernels of the instruction sets the target architecture has, each compiled with the
# flags that enable its intrinsics (only that file; dispatch decides at run time whether to call it).
function(rwkv_add_isa_kernels sources_var)
  set(sources ${${sources_var}})
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")
    set(avx2 ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/kernels_avx2.c)
    set(avx512 ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/kernels_avx512.c)
    set(avx512_vnni ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/kernels_avx512_vnni.c)
    set(quantize_avx2 ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/quantize_avx2.c)
    set(prepare_avx2 ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/prepare_avx2.c)
    set(prepare_avx512 ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/prepare_avx512.c)
    list(APPEND sources ${avx2} ${avx512} ${avx512_vnni} ${quantize_avx2} ${prepare_avx2} ${prepare_avx512})
    if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
      set_source_files_properties(${avx2} PROPERTIES COMPILE_OPTIONS "-mavx;-mavx2;-mfma;-mf16c")
      # No -mfma: the quantizer's float operations must each round on their own (byte identity).
      set_source_files_properties(${quantize_avx2} PROPERTIES COMPILE_OPTIONS "-mavx;-mavx2;-mf16c")
      # Byte identity with the portable activations: no -mfma (every operation rounds on its own).
      set_source_files_properties(${prepare_avx2} PROPERTIES COMPILE_OPTIONS "-mavx;-mavx2;-mf16c;-mno-fma")
      set_source_files_properties(${prepare_avx512} PROPERTIES COMPILE_OPTIONS
        "-mavx;-mavx2;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mno-fma")
      # No -mavx512vnni: dispatch does not require VNNI, so the compiler must not emit it.
      set_source_files_properties(${avx512} PROPERTIES COMPILE_OPTIONS
        "-mavx;-mavx2;-mfma;-mf16c;-mbmi2;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq")
      # Only this file may use VNNI: the AVX-512 level calls it when CPUID reports VNNI.
      set_source_files_properties(${avx512_vnni} PROPERTIES COMPILE_OPTIONS
        "-mavx;-mavx2;-mfma;-mf16c;-mbmi2;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni")
      # AVX-VNNI (GCC 11, Clang 12 on): only this file, called when CPUID reports it.
      check_c_compiler_flag(-mavxvnni RWKV_COMPILER_HAS_AVXVNNI)
      if(RWKV_COMPILER_HAS_AVXVNNI)
        set(avx2_vnni ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/kernels_avx2_vnni.c)
        list(APPEND sources ${avx2_vnni})
        set_source_files_properties(${avx2_vnni} PROPERTIES COMPILE_OPTIONS "-mavx;-mavx2;-mfma;-mf16c;-mavxvnni")
        add_compile_definitions(RWKV_HAVE_AVX2_VNNI_KERNELS)
      endif()
    endif()
    add_compile_definitions(RWKV_HAVE_X86_KERNELS)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
    # Advanced SIMD is part of every AArch64 CPU: no extra flags, and dispatch always accepts it.
    list(APPEND sources ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/kernels_neon.c)
    add_compile_definitions(RWKV_HAVE_NEON_KERNELS)
  endif()
  set(${sources_var} ${sources} PARENT_SCOPE)
endfunction()

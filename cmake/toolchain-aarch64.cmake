# Toolchain for the freestanding aarch64 kernel image (QEMU virt), used by the `aarch64` preset.
#
# Everything is built by clang for aarch64 with no hosted runtime: no libc, no libstdc++ runtime,
# no exceptions, no RTTI, no floating point or SIMD registers (-mgeneral-regs-only). The C++
# *headers* come from Debian's g++-aarch64-linux-gnu (freestanding subset only: <atomic>,
# <type_traits>, <bit>, <array>, <span>, <optional>, <string_view>, ...). The flags are set here
# (not on a target) so that lib/ and kernel/ get exactly the same code generation as
# platform/aarch64.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(LICHEN_AARCH64_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER clang)
set(CMAKE_CXX_COMPILER clang++)
set(CMAKE_ASM_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET ${LICHEN_AARCH64_TRIPLE})
set(CMAKE_CXX_COMPILER_TARGET ${LICHEN_AARCH64_TRIPLE})
set(CMAKE_ASM_COMPILER_TARGET ${LICHEN_AARCH64_TRIPLE})
set(CMAKE_AR llvm-ar CACHE FILEPATH "archiver")
set(CMAKE_RANLIB llvm-ranlib CACHE FILEPATH "ranlib")
set(CMAKE_OBJCOPY llvm-objcopy CACHE FILEPATH "objcopy")
set(CMAKE_OBJDUMP llvm-objdump CACHE FILEPATH "objdump")

# The compiler checks cannot link a hosted program; a static library proves the compiler works.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# libstdc++'s freestanding headers for the same target (the Debian cross package). Only the
# header directories are added; no library from that package is ever linked.
set(LICHEN_CXX_HEADERS /usr/aarch64-linux-gnu/include/c++/12)
if(NOT EXISTS ${LICHEN_CXX_HEADERS}/atomic)
  message(FATAL_ERROR "aarch64 C++ headers not found in ${LICHEN_CXX_HEADERS}: "
                      "apt-get install g++-aarch64-linux-gnu")
endif()

# Code generation shared by C, C++ and assembly:
#   -march=armv8-a          runs on cortex-a72 and on `-cpu max` alike
#   -mgeneral-regs-only     no FP/SIMD: the kernel never saves FP state, so it must never use it
#   -mno-outline-atomics    inline LSE-free atomics instead of calls to libgcc's __aarch64_* helpers
#   -fno-pic -fno-pie       one fixed link address; the kernel runs identity-mapped
#   -fno-omit-frame-pointer frame records (x29 chain) for the fatal-exception backtrace
set(LICHEN_AARCH64_COMMON_FLAGS
    "-march=armv8-a -mgeneral-regs-only -mno-outline-atomics -fno-pic -fno-pie \
-ffreestanding -fno-stack-protector -fno-omit-frame-pointer -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${LICHEN_AARCH64_COMMON_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "-march=armv8-a")
set(CMAKE_CXX_FLAGS_INIT
    "${LICHEN_AARCH64_COMMON_FLAGS} -fno-exceptions -fno-rtti -fno-threadsafe-statics \
-nostdinc++ -isystem ${LICHEN_CXX_HEADERS} \
-isystem ${LICHEN_CXX_HEADERS}/aarch64-linux-gnu")

# Link with ld.lld, nothing from the host or the cross libc: the image's own linker script
# (platform/aarch64/CMakeLists.txt) places every section.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-fuse-ld=lld -nostdlib -static -Wno-unused-command-line-argument -Wl,--gc-sections -Wl,--build-id=none \
-Wl,-z,max-page-size=4096 -Wl,-z,norelro")

# Never search the host for libraries or packages.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

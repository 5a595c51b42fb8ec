// The kernel's translation tables: a 4 KiB-granule identity map through TTBR0_EL1 with a 39-bit
// virtual address space (T0SZ = 25, walks start at level 1).
//
//   kernel text        4 KiB pages, Normal write-back, read-only, executable
//   kernel rodata      4 KiB pages, Normal write-back, read-only, never executable
//   kernel data + bss  4 KiB pages, Normal write-back, read-write, never executable, with the
//                      guard pages of every CPU's boot and exception stack left unmapped
//   other RAM          the largest blocks that fit (1 GiB, 2 MiB, 4 KiB), Normal write-back,
//                      read-write, never executable
//   devices            the GICv3 distributor and redistributors and the PL011, Device-nGnRE,
//                      read-write, never executable; nothing else of the MMIO space is mapped
//
// The tables are built once, by the boot CPU before its MMU is on (so this file is compiled
// with -mstrict-align and touches nothing but its own table pool), and then shared read-only
// by every CPU: each CPU loads the same TTBR0_EL1 in boot.S.
#pragma once

#include <cstdint>

#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/status.h"

// The table pool; its first page is the level-1 root table that boot.S loads into TTBR0_EL1.
extern "C" uint64_t lichen_page_tables[][512];

namespace lichen::aarch64 {

// Pages in the static table pool (level-1 root included).
inline constexpr uint32_t kPageTablePoolPages = 32;

// The PL011 of QEMU virt, mapped when the device tree could not be read so that the boot
// error can still be printed.
inline constexpr uint64_t kQemuVirtUartBase = 0x09000000;

// What a mapping is for; selects memory type and permissions.
enum class MapKind : uint8_t { kText, kReadOnly, kData, kDevice };

// Builds the identity map described above from `info` (RAM ranges and device addresses).
// Called once, before the MMU is on. On error the pool holds a minimal fallback map (kernel
// image and QEMU virt's UART) so that the error can be reported after the MMU is enabled.
BootStatus BuildKernelPageTables(const BootInfo& info);

// Builds only the minimal fallback map (used when the device tree could not be parsed).
void BuildFallbackPageTables();

// Pages of the pool in use (for the boot log).
uint32_t PageTablePagesUsed();

}  // namespace lichen::aarch64

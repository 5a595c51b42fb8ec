// The kernel's translation tables (4 KiB granule, 48-bit VAs, 4 levels), built once by the boot
// CPU before its MMU is on (so this file is compiled with -mstrict-align and touches nothing
// but its own table pools):
//
// TTBR1_EL1, the kernel's half: the direct map, every physical address the kernel uses at
// VA = PA + LICHEN_KERNEL_VA_OFFSET (platform::PhysToKernel), the image included:
//   kernel text        4 KiB pages, Normal write-back, read-only, executable
//   kernel rodata      4 KiB pages, Normal write-back, read-only, never executable
//   kernel data + bss  4 KiB pages, Normal write-back, read-write, never executable, with the
//                      guard pages of every CPU's boot and exception stack left unmapped
//   other RAM          the largest blocks that fit (1 GiB, 2 MiB, 4 KiB), Normal write-back,
//                      read-write, never executable
//   devices            the GICv3 distributor and redistributors and the PL011, Device-nGnRE,
//                      read-write, never executable; nothing else of the MMIO space is mapped
// Its upper half (LICHEN_KSTACK_REGION_BASE) holds the task stacks, mapped at run time
// (kstack.cc). Every CPU loads the same TTBR1_EL1 in boot.S.
//
// TTBR0_EL1, the process's half: while a CPU turns its MMU on, an identity map of .text.boot
// (lichen_identity_tables); then an empty table (lichen_empty_table) until a process runs.
#pragma once

#include <cstdint>

#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/status.h"

// The kernel's table pool; its first page is the level-0 root that boot.S loads into TTBR1_EL1.
// The identity map's pool (root first) and the empty table for TTBR0_EL1.
extern "C" {
extern uint64_t lichen_page_tables[][512];
extern uint64_t lichen_identity_tables[][512];
extern uint64_t lichen_empty_table[512];
}

namespace lichen::aarch64 {

// The trace rings' share of the kernel image (kernel/trace: 32-byte events, a ring per CPU of
// kMaxCpus = 64), which `./lichen trace`'s image makes 32 MiB: one level-3 table maps 2 MiB
// of it.
#if defined(LICHEN_TRACE_RING_EVENTS)
inline constexpr uint32_t kTraceRingTables =
    static_cast<uint32_t>((uint64_t{LICHEN_TRACE_RING_EVENTS} * 32 * 64 + (2u << 20) - 1) >> 21);
#else
inline constexpr uint32_t kTraceRingTables = 1;
#endif

// Pages in the static table pools (roots included): the kernel's (24 cover the image with the
// default rings, 9 used at -smp 64 -m 2G, plus the trace rings' tables), and the identity
// map's (one table per level).
inline constexpr uint32_t kPageTablePoolPages = 23 + kTraceRingTables;
inline constexpr uint32_t kIdentityPoolPages = 4;

// The PL011 of QEMU virt, mapped when the device tree could not be read so that the boot
// error can still be printed.
inline constexpr uint64_t kQemuVirtUartBase = 0x09000000;

// What a mapping is for; selects memory type and permissions.
enum class MapKind : uint8_t { kText, kReadOnly, kData, kDevice };

// Builds the tables described above from `info` (RAM ranges and device addresses).
// Called once, before the MMU is on. On error the pool holds a minimal fallback map (kernel
// image and QEMU virt's UART) so that the error can be reported after the MMU is enabled.
BootStatus BuildKernelPageTables(const BootInfo& info);

// Builds only the minimal fallback map (used when the device tree could not be parsed).
void BuildFallbackPageTables();

// Pages of the pool in use (for the boot log).
uint32_t PageTablePagesUsed();

}  // namespace lichen::aarch64

// BootInfo: what the aarch64 platform learned at boot, handed to lichen::KernelMain().
//
// Filled from the flattened device tree (fdt.cc) before the MMU is on, completed by the boot
// CPU once the secondaries are up (logical CPU numbering), and read-only afterwards. It is
// self-contained: nothing in it points into the device tree blob, so the blob's memory may
// be reused. Plain data with no aarch64-only types, so the parser and its checks also
// compile on the host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/aarch64/asm_defs.h"

namespace lichen {

// A physical address range [base, base + size).
struct MemRange {
  uint64_t base = 0;
  uint64_t size = 0;

  uint64_t end() const { return base + size; }
  bool Contains(uint64_t addr) const { return addr >= base && addr - base < size; }
};

// How PSCI firmware calls are made (the device tree's /psci `method`).
enum class PsciConduit : uint8_t {
  kNone,  // no usable PSCI node: secondaries cannot start, power-off uses semihosting only
  kHvc,   // HVC #0: firmware emulated at EL2 (QEMU virt without virtualization=on)
  kSmc,   // SMC #0: firmware at EL3 (QEMU virt with virtualization=on, or real firmware)
};

struct BootInfo {
  // Fixed capacities: the parser reports an error (or, for CPUs, a warning) beyond these.
  static constexpr uint32_t kMaxCpus = LICHEN_AARCH64_MAX_CPUS;
  static constexpr uint32_t kMaxMemRanges = 8;
  static constexpr uint32_t kMaxRedistributorRegions = 4;
  static constexpr uint32_t kMaxReserved = 8;
  static constexpr size_t kCmdlineMax = 512;

  // CPUs. Before bring-up: the device tree's CPUs in tree order. After bring-up (what
  // KernelMain sees): the CPUs online, logical id = index, the boot CPU is 0.
  uint32_t cpu_count = 0;
  uint64_t cpu_mpidr[kMaxCpus] = {};  // MPIDR affinity bits (Aff3..Aff0) of each CPU
  uint32_t dt_cpu_count = 0;          // CPUs the device tree listed (may exceed kMaxCpus)

  // RAM from the /memory nodes, in tree order.
  uint32_t mem_count = 0;
  MemRange mem[kMaxMemRanges];
  // The FDT's /memreserve/ entries (the first kMaxReserved of them).
  uint32_t reserved_count = 0;
  MemRange reserved[kMaxReserved];

  // Where the kernel image sits (linker symbols, page-aligned) and the free RAM after it: from
  // the end of the image to the end of its RAM range, clipped below any reserved range or
  // device tree blob above the image. The page allocator of the core owns this range.
  MemRange kernel_image;
  MemRange free_range;
  // The free RAM of the same range above the first of those (above the initrd and the DTB a
  // Linux-Image boot puts at RAM + 128 MiB), size 0 if none: a second region for the page
  // allocator, so that the initrd does not cut the RAM in half.
  MemRange free_range_high;

  // Where the device tree blob was found (0 if none) and its total size.
  uint64_t dtb_address = 0;
  uint32_t dtb_size = 0;

  // Kernel command line from /chosen/bootargs (NUL-terminated, empty if absent).
  char cmdline[kCmdlineMax] = {};
  bool cmdline_truncated = false;
  // The initial ramdisk a loader placed in RAM (/chosen/linux,initrd-start and -end), size 0
  // if none: the free range stays clear of it.
  MemRange initrd;

  // GICv3: distributor and redistributor regions (one redistributor frame set per CPU).
  uint64_t gicd_base = 0;
  uint32_t gicr_region_count = 0;
  MemRange gicr_regions[kMaxRedistributorRegions];
  uint64_t gicr_stride = 0;  // the DT's redistributor-stride, 0 when absent (use GICR_TYPER)

  // PL011 UART used as the console.
  uint64_t uart_base = 0;

  // Arm generic timer interrupts as GIC INTIDs (PPI n is INTID 16 + n), 0 when absent.
  uint32_t timer_intid_secure_phys = 0;
  uint32_t timer_intid_phys = 0;
  uint32_t timer_intid_virt = 0;  // the one the kernel uses (CNTV_*)
  uint32_t timer_intid_hyp = 0;
  uint64_t timer_frequency_hz = 0;  // CNTFRQ_EL0, filled at boot (not from the DT)

  // PSCI firmware interface.
  PsciConduit psci_conduit = PsciConduit::kNone;

  // Exception level the boot CPU was entered at (1 or 2); the kernel always runs at EL1.
  uint32_t entry_el = 0;
};

}  // namespace lichen

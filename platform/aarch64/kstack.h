// Task kernel stacks on aarch64 (kstack.cc): the region's layout, for the fatal report too.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/aarch64/asm_defs.h"

namespace lichen::aarch64 {

// The region of TTBR1 reserved for task stacks: kTaskStackSlots slots of kTaskStackSlotSize
// bytes, each stack at the top of its slot with at least half the slot unmapped below it.
inline constexpr uintptr_t kTaskStackRegionBase = LICHEN_KSTACK_REGION_BASE;
inline constexpr size_t kTaskStackSlotSize = 512 * 1024;
inline constexpr uint32_t kTaskStackSlots = 8192;  // 4 GiB of address space, 1 KiB of bitmap

// True if `addr` is inside the address range reserved for task stacks (mapped or not).
constexpr bool InTaskStackRegion(uintptr_t addr) {
  return addr >= kTaskStackRegionBase &&
         addr - kTaskStackRegionBase < uint64_t{kTaskStackSlots} * kTaskStackSlotSize;
}

}  // namespace lichen::aarch64

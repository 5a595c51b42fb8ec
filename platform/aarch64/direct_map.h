// The kernel's direct map on aarch64: every physical address the kernel touches (RAM, its own
// image, the devices it drives) is mapped in the TTBR1 half at one fixed offset, so converting
// between the two is an addition (docs/aarch64.md, "Memory map"). platform::KernelToPhys and
// platform::PhysToKernel (kernel/base/platform_mmu.h) are these, for the core.
#pragma once

#include <cstdint>

#include "platform/aarch64/asm_defs.h"

namespace lichen::aarch64 {

inline constexpr uint64_t kDirectMapBase = LICHEN_KERNEL_VA_OFFSET;

// The kernel VA of physical address `pa` (which must be below LICHEN_DIRECT_MAP_PA_LIMIT).
constexpr uintptr_t PhysToVirt(uint64_t pa) {
  return static_cast<uintptr_t>(pa + kDirectMapBase);
}

// The physical address of direct-map (or image) address `va`.
constexpr uint64_t VirtToPhys(uintptr_t va) {
  return static_cast<uint64_t>(va) - kDirectMapBase;
}

// The same for a pointer taken before the MMU was on, when every address was physical: moves
// it into the direct map, and leaves an already high one alone.
template <typename T>
T* Rebased(T* p) {
  const auto v = reinterpret_cast<uintptr_t>(p);
  return v != 0 && v < kDirectMapBase ? reinterpret_cast<T*>(PhysToVirt(v)) : p;
}

}  // namespace lichen::aarch64

// AddressSanitizer hooks for the allocators (host builds with ASan only).
//
// On the host the allocators manage a buffer that ASan sees as one live malloc block, so on
// its own ASan could not tell a freed page or heap object from a live one. The allocators
// therefore poison what they hand back and unpoison what they hand out: a use after free, or
// an overrun into a free neighbour, in kernel code running on the simulator is then reported
// by ASan at the faulting access. Everywhere else these compile to nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(LICHEN_HOST) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LICHEN_MM_ASAN 1
#include <sanitizer/asan_interface.h>
#endif
#endif

namespace lichen::mm {

// Marks [addr, addr + bytes) as not addressable: any access is an ASan error.
inline void PoisonRange([[maybe_unused]] uintptr_t addr, [[maybe_unused]] size_t bytes) {
#if defined(LICHEN_MM_ASAN)
  __asan_poison_memory_region(reinterpret_cast<const void*>(addr), bytes);
#endif
}

// Marks [addr, addr + bytes) as addressable again.
inline void UnpoisonRange([[maybe_unused]] uintptr_t addr, [[maybe_unused]] size_t bytes) {
#if defined(LICHEN_MM_ASAN)
  __asan_unpoison_memory_region(reinterpret_cast<const void*>(addr), bytes);
#endif
}

// True when ASan says the byte at `addr` is poisoned (always false without ASan): the cached
// heap asks before reading a freed object's first word, which is poisoned once the object is
// back in its slab.
inline bool IsPoisoned([[maybe_unused]] uintptr_t addr) {
#if defined(LICHEN_MM_ASAN)
  return __asan_address_is_poisoned(reinterpret_cast<const void*>(addr)) != 0;
#else
  return false;
#endif
}

}  // namespace lichen::mm

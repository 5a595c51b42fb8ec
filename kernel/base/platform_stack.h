// Task kernel stacks: the platform owns where they live, so that it can surround each with
// an unmapped guard page (aarch64) and the scheduler need not know about page tables.
//
//   platform/aarch64  a region of the kernel's half (TTBR1) reserved for stacks: each stack
//                     in its own slot, mapped page by page, with unmapped pages below it, so
//                     an overflow faults into the exception path and is reported (naming the
//                     task) instead of silently corrupting a neighbour
//                     (platform/aarch64/kstack.cc);
//   platform/sim      the page allocator, as the scheduler did before (no guard: the host's
//                     sanitizers watch the simulator's stacks).
#pragma once

#include <cstddef>

#include "lib/result.h"

namespace lichen::platform {

// The bytes a task stack of at least `requested` bytes really gets: a power-of-two number of
// 4 KiB pages (both platforms back a stack with one block of the page allocator). The value to
// pass to AllocTaskStack and FreeTaskStack.
constexpr size_t TaskStackBytes(size_t requested) {
  size_t bytes = 4096;
  while (bytes < requested)
    bytes <<= 1;
  return bytes;
}

// A stack of `bytes` (a TaskStackBytes value) for a new task: its lowest address. The stack
// grows down from base + bytes. kNoMemory when no memory (or no stack slot) is left,
// kInvalidArgument for a size the platform cannot map. May be called with IRQs masked or
// not; never sleeps.
Result<void*> AllocTaskStack(size_t bytes);

// Returns a stack AllocTaskStack(bytes) gave. No CPU may still run on it (the scheduler frees
// a task only after every CPU has switched away from it for good).
void FreeTaskStack(void* base, size_t bytes);

}  // namespace lichen::platform

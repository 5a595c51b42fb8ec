// The kernel's memory: one page allocator and one heap, in static storage.
//
//   InitMemory(ram_base, ram_bytes);          // boot CPU, once, before any allocation
//   void* p = LICHEN_TRY(KernelHeap().Alloc(64));
//   uintptr_t page = LICHEN_TRY(Pages().AllocPages(0));
//
// Both objects live in static byte arrays and are constructed by InitMemory, so there is no
// global constructor to run and nothing to order at startup; before InitMemory the accessors
// panic (debug builds) instead of handing out an unconstructed object. More regions (RAM
// banks from the device tree) can be added later with Pages().AddRegion().
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/mm/heap.h"
#include "kernel/mm/heap_cache.h"
#include "kernel/mm/page_alloc.h"

namespace lichen::mm {

// Constructs the kernel page allocator over [base, base + bytes) and the kernel heap on top
// of it. Boot CPU, once; panics if called twice or if the region cannot be used.
void InitMemory(uintptr_t base, size_t bytes);

// True once InitMemory has run.
bool MemoryInitialized();

// The kernel page allocator (IRQ-safe).
PageAllocator& Pages();

// The kernel heap (IRQ-safe), backed by Pages(): per-CPU caches (kernel/mm/heap_cache.h) in
// front of the slab heap.
CachedHeap& KernelHeap();

// The memory subsystem's shared locks, read racily for hang reports: the -smp 8 heap hang was
// told apart from a deadlock by two such readings (docs/memory.md).
struct MemoryLockStates {
  TicketLock::Snapshot heap;   // the slab heap's lock
  TicketLock::Snapshot depot;  // the per-CPU caches' depot
  TicketLock::Snapshot pages;  // the page allocator's lock
};
MemoryLockStates LockStatesForReports();

}  // namespace lichen::mm

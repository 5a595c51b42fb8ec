#include "kernel/mm/kmem.h"

#include <new>

#include "kernel/base/debug.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/sim_reset.h"

namespace lichen::mm {

namespace {

// Raw storage for the two singletons: constant-initialised (zero) bytes, so no constructor
// runs before main()/kernel entry; InitMemory constructs the objects in place. They are never
// destroyed.
alignas(PageAllocator) constinit unsigned char g_pages_storage[sizeof(PageAllocator)] = {};
alignas(CachedHeap) constinit unsigned char g_heap_storage[sizeof(CachedHeap)] = {};

// Set (release) once both objects are constructed; read (acquire) by the accessors' checks
// and by MemoryInitialized on any CPU.
constinit Atomic<bool> g_initialized{false};

PageAllocator* PagesObject() {
  return std::launder(reinterpret_cast<PageAllocator*>(g_pages_storage));
}

CachedHeap* HeapObject() {
  return std::launder(reinterpret_cast<CachedHeap*>(g_heap_storage));
}

}  // namespace

void InitMemory(uintptr_t base, size_t bytes) {
  LICHEN_ASSERT(!g_initialized.Load(std::memory_order_acquire), "InitMemory called twice");
  PageAllocator* pages = new (g_pages_storage) PageAllocator();
  const Result<size_t> added = pages->AddRegion(base, bytes);
  LICHEN_ASSERT(added.ok(), "InitMemory({:#x}, {}): {}", base, bytes,
                added.ok() ? "" : ErrorName(added.error()));
  new (g_heap_storage) CachedHeap(*pages);
  g_initialized.Store(true, std::memory_order_release);
}

bool MemoryInitialized() {
  return g_initialized.Load(std::memory_order_acquire);
}

PageAllocator& Pages() {
  LICHEN_DEBUG_ASSERT(MemoryInitialized(), "Pages() before InitMemory()");
  return *PagesObject();
}

CachedHeap& KernelHeap() {
  LICHEN_DEBUG_ASSERT(MemoryInitialized(), "KernelHeap() before InitMemory()");
  return *HeapObject();
}

MemoryLockStates LockStatesForReports() {
  const CachedHeap& heap = *HeapObject();
  return MemoryLockStates{heap.slab_heap().lock_for_reports().Peek(),
                          heap.depot_lock_for_reports().Peek(),
                          PagesObject()->lock_for_reports().Peek()};
}

#if defined(LICHEN_HOST)
namespace {
// Forgets the kernel page allocator and heap so that the next simulation's InitMemory starts
// afresh. They are abandoned, not destroyed (a simulation may end with live allocations); the
// simulator may reuse or release the memory they managed. Last: the other parts' objects live
// in that memory.
void ResetMemory() {
  // The objects hold nothing but pointers into the managed memory (no resources), so
  // constructing new ones over them in the next InitMemory loses nothing.
  g_initialized.Store(false, std::memory_order_release);
}
const ResetRegistrar g_reset_memory("mm.memory", ResetStage::kLast, &ResetMemory);
}  // namespace
#endif

}  // namespace lichen::mm

#include "kernel/mm/heap.h"

#include "kernel/mm/heap_cache.h"

namespace lichen::mm {

// Compiled once here: the kernel heap, and the naive-lock heap of the seed-bug regression.
template class BasicHeap<SpinLock>;
template class BasicHeap<IrqUnsafeLock>;
// The kernel heap: per-CPU caches in front of BasicHeap<SpinLock>.
template class BasicCachedHeap<SpinLock>;

}  // namespace lichen::mm

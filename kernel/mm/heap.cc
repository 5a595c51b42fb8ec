#include "kernel/mm/heap.h"

namespace lichen::mm {

// Compiled once here: the kernel heap, and the naive-lock heap of the seed-bug regression.
template class BasicHeap<SpinLock>;
template class BasicHeap<IrqUnsafeLock>;

}  // namespace lichen::mm

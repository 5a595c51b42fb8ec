#include "kernel/mm/page_alloc.h"

namespace lichen::mm {

// The two lock flavours are compiled here once instead of in every user: SpinLock for the
// kernel, IrqUnsafeLock for the regression scenario that reproduces the seed's deadlock.
template class BasicPageAllocator<SpinLock>;
template class BasicPageAllocator<IrqUnsafeLock>;

}  // namespace lichen::mm

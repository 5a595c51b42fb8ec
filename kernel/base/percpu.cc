#include "kernel/base/percpu.h"

namespace lichen {

namespace percpu_internal {
LiveBorrows g_live_borrows[kMaxCpus];
}  // namespace percpu_internal

#if defined(LICHEN_HOST)
// A run that panicked inside a borrow leaves its count behind.
void ResetPerCpuBorrowsForSimulation() {
  for (percpu_internal::LiveBorrows& b : percpu_internal::g_live_borrows)
    b.count = 0;
}
#endif

}  // namespace lichen

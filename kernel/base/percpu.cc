#include "kernel/base/percpu.h"

namespace lichen {

namespace percpu_internal {
PerCpuArray<uint32_t> g_live_borrows;
}  // namespace percpu_internal

#if defined(LICHEN_HOST)
// A run that panicked inside a borrow leaves its count behind.
void ResetPerCpuBorrowsForSimulation() {
  for (uint32_t cpu = 0; cpu < kMaxCpus; ++cpu)
    percpu_internal::g_live_borrows[cpu] = 0;
}
#endif

}  // namespace lichen

#include "kernel/base/percpu.h"

#include "lib/sim_reset.h"

namespace lichen {

namespace percpu_internal {
PerCpuArray<uint32_t> g_live_borrows;
}  // namespace percpu_internal

#if defined(LICHEN_HOST)
namespace {
// A run that panicked inside a borrow leaves its count behind.
void ResetLiveBorrows() {
  for (uint32_t cpu = 0; cpu < kMaxCpus; ++cpu)
    percpu_internal::g_live_borrows[cpu] = 0;
}
const ResetRegistrar g_reset_percpu("percpu", ResetStage::kAny, &ResetLiveBorrows);
}  // namespace
#endif

}  // namespace lichen

#include "kernel/base/percpu.h"

#include "lib/sim_reset.h"

namespace lichen {

namespace percpu_internal {
LiveBorrows g_live_borrows[kMaxCpus];
}  // namespace percpu_internal

#if defined(LICHEN_HOST)
namespace {
// A run that panicked inside a borrow leaves its count behind.
void ResetLiveBorrows() {
  for (percpu_internal::LiveBorrows& b : percpu_internal::g_live_borrows)
    b.count = 0;
}
const ResetRegistrar g_reset_percpu("percpu", ResetStage::kAny, &ResetLiveBorrows);
}  // namespace
#endif

}  // namespace lichen

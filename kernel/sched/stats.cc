#include "kernel/sched/stats.h"

#include <bit>
#include <new>

#include "kernel/base/percpu.h"
#include "kernel/sched/internal.h"
#include "lib/cpumask.h"
#include "lib/sim_reset.h"

namespace lichen::sched {

namespace {
// Not a PerCpu<T>: any CPU reads the histograms (WakeLatency). Each is written only by the
// CPU that runs the woken task, with relaxed owner-only adds; on lines of their own so that
// those writes do not false-share.
PerCpuArray<LatencyHistogram> g_wake_latency;
}  // namespace

uint32_t LatencyHistogram::BucketOf(uint64_t ns) {
  if (ns < kSubBuckets) return static_cast<uint32_t>(ns);
  const uint32_t log2 = 63 - static_cast<uint32_t>(std::countl_zero(ns));
  // The 3 bits below the leading one pick the sub-bucket.
  const uint32_t sub = static_cast<uint32_t>((ns >> (log2 - 3)) & (kSubBuckets - 1));
  return (log2 - 2) * kSubBuckets + sub;
}

uint64_t LatencyHistogram::BucketUpperBound(uint32_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const uint32_t log2 = bucket / kSubBuckets + 2;
  const uint64_t sub = bucket % kSubBuckets;
  if (log2 >= 63) return ~uint64_t{0};
  return ((kSubBuckets + sub + 1) << (log2 - 3)) - 1;
}

void LatencyHistogram::Record(uint64_t ns) {
  counts_[BucketOf(ns)].AddRelaxedOwner(1);
}

uint64_t LatencyHistogram::Count() const {
  uint64_t total = 0;
  for (const auto& c : counts_)
    total += c.Load(std::memory_order_relaxed);
  return total;
}

uint64_t LatencyHistogram::Percentile(uint32_t permille) const {
  const uint64_t total = Count();
  if (total == 0) return 0;
  // The smallest bucket whose cumulative count reaches ceil(total * permille / 1000).
  const uint64_t want = (total * permille + 999) / 1000;
  uint64_t seen = 0;
  for (uint32_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b].Load(std::memory_order_relaxed);
    if (seen >= want && seen != 0) return BucketUpperBound(b);
  }
  return BucketUpperBound(kBuckets - 1);
}

void LatencyHistogram::MergeFrom(const LatencyHistogram& other) {
  for (uint32_t b = 0; b < kBuckets; ++b) {
    counts_[b].FetchAdd(other.counts_[b].Load(std::memory_order_relaxed),
                        std::memory_order_relaxed);
  }
}

LatencyHistogram& WakeLatency(uint32_t cpu) {
  return g_wake_latency[cpu];
}

void RecordWakeLatency(Task& task, uint64_t now_ns) {
  if (task.runnable_since_ns == 0) return;  // preempted, not woken: not a wakeup latency
  g_wake_latency[task.cpu.Load(std::memory_order_relaxed)].Record(now_ns - task.runnable_since_ns);
  task.runnable_since_ns = 0;
}

#if defined(LICHEN_HOST)
namespace {
void ResetStats() {
  for (uint32_t cpu = 0; cpu < kMaxCpus; ++cpu) {
    LatencyHistogram& h = g_wake_latency[cpu];
    h.~LatencyHistogram();
    new (&h) LatencyHistogram();
  }
}
const ResetRegistrar g_reset_stats("sched.stats", ResetStage::kAny, &ResetStats);
}  // namespace
#endif

}  // namespace lichen::sched

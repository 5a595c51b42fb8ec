// Scheduler statistics that other CPUs may read: wake-to-run latency histograms.
//
// Each CPU records into its own histogram (owner writes, relaxed); readers sum every CPU's
// buckets. Buckets are log-linear: 8 per power of two, so any value is placed within 12.5%.
#pragma once

#include <cstdint>

#include "lib/atomic.h"

namespace lichen::sched {

class LatencyHistogram {
 public:
  static constexpr uint32_t kSubBuckets = 8;
  static constexpr uint32_t kBuckets = 64 * kSubBuckets;

  // Owner only.
  void Record(uint64_t ns);
  uint64_t Count() const;
  // The value at or below which `permille`/1000 of the samples fall (bucket upper bound).
  uint64_t Percentile(uint32_t permille) const;
  // Adds another histogram's counts into this one (reader-side aggregation).
  void MergeFrom(const LatencyHistogram& other);

  static uint32_t BucketOf(uint64_t ns);
  static uint64_t BucketUpperBound(uint32_t bucket);

 private:
  Atomic<uint64_t> counts_[kBuckets];
};

// This CPU's wake-to-run histogram (latency from becoming runnable to running).
LatencyHistogram& WakeLatency(uint32_t cpu);

}  // namespace lichen::sched

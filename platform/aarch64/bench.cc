// The speedup benchmark (`bench=parallel` on the command line; tools/qemu/speedup drives it):
// a fixed amount of CPU work split into independent jobs, timed inside the kernel.
//
// The work is counted in busy-loop iterations, not in calibrated nanoseconds, so a boot with
// 1 CPU and a boot with 4 CPUs do exactly the same work whatever their Burn calibrations
// said. Each round spawns kJobs jobs (placed by the scheduler's policy; stealing and the
// balancer spread them), joins them all, and measures the makespan from the first spawn to
// the last join. The median of the rounds goes on the fixed line the script parses:
//   BENCH parallel cpus=<n> jobs=<j> work_ms=<w> makespan_us=<median>
// where work_ms is the total work at this boot's calibrated speed (what 1 CPU alone would
// need in theory).
#include "kernel/base/platform.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "lib/assert.h"
#include "platform/aarch64/burn.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/kernel_main.h"
#include "platform/aarch64/report.h"

namespace lichen::aarch64 {

namespace {

using console::Print;

constexpr uint32_t kJobs = 16;
// Per job: 48 M iterations, about 55 ms at the ~870 iterations/us this loop runs under TCG
// on the development host (total: about 0.9 s of work for one CPU).
constexpr uint64_t kJobIterations = 48'000'000;
constexpr uint32_t kRounds = 3;

void JobBody(void* /*arg*/) {
  BurnIterations(kJobIterations);
}

// One round: spawn every job, join them all; returns the makespan in ns.
uint64_t RunRound() {
  Task* tasks[kJobs];
  const uint64_t start = platform::Now();
  for (uint32_t i = 0; i < kJobs; ++i) {
    sched::SpawnOptions options;
    options.name = "job";
    options.entry = &JobBody;
    const Result<Task*> task = sched::Spawn(options);
    LICHEN_ASSERT(task.ok(), "bench: cannot spawn job {}", i);
    tasks[i] = task.value();
  }
  for (uint32_t i = 0; i < kJobs; ++i)
    sched::Join(tasks[i]);
  return platform::Now() - start;
}

}  // namespace

bool RunParallelBench(const KernelOptions& /*options*/) {
  const uint32_t ncpus = OnlineCpus().Count();
  const uint64_t rate = BurnIterationsPerMs();
  const uint64_t work_ms = kJobs * kJobIterations / rate;
  Print(
      "BENCH parallel: {} jobs x {} loop iterations ({} ms of work at {} iterations/ms), {} "
      "rounds on {} CPU{}",
      kJobs, kJobIterations, work_ms, rate, kRounds, ncpus, ncpus == 1 ? "" : "s");
  uint64_t makespans[kRounds];
  const report::Sample before = report::TakeSample();
  for (uint32_t r = 0; r < kRounds; ++r) {
    makespans[r] = RunRound();
    Print("BENCH parallel round={} makespan_us={}", r + 1, makespans[r] / 1000);
  }
  const report::Sample after = report::TakeSample();
  // Median of the rounds (insertion sort of three).
  for (uint32_t i = 1; i < kRounds; ++i) {
    for (uint32_t j = i; j > 0 && makespans[j - 1] > makespans[j]; --j) {
      const uint64_t t = makespans[j];
      makespans[j] = makespans[j - 1];
      makespans[j - 1] = t;
    }
  }
  report::PrintCpuTable(before, after);
  Print("BENCH parallel cpus={} jobs={} work_ms={} makespan_us={}", ncpus, kJobs, work_ms,
        makespans[kRounds / 2] / 1000);
  return true;
}

}  // namespace lichen::aarch64

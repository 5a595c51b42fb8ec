// The demonstration behind `./lichen run` (the default when the command line has no `ktests`
// and no `bench=`), in two parts, then what the scheduler did, readable at a glance:
//   1. activity: the mixed workload and the mixed-work workload at once (spawn storms, cross-
//      CPU ping-pong, sleepers, nice burners, mutex contention, yields, independent parallel
//      jobs); then a per-CPU table: tasks run, context switches, preemptions, IPIs sent and
//      received, steals, migrations, timer interrupts, idle %;
//   2. fairness: four CPU burners pinned to each CPU with nice -5, 0, 5 and 10 for a second;
//      each burner's share of its CPU against the share its nice weight entitles it to, both
//      by work done (Burn chunks) and by the scheduler's own CPU-time accounting;
//   and wake-to-run latency percentiles (sched::WakeLatency) over the whole run.
// Ends with `DEMO: done` and powers off with status 0 (a workload's own check failing panics,
// status 2).
#include "kernel/base/platform.h"
#include "kernel/sched/config.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/weights.h"
#include "lib/assert.h"
#include "lib/format.h"
#include "lib/units.h"
#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/kernel_main.h"
#include "platform/aarch64/report.h"
#include "workloads/workloads.h"

namespace lichen::aarch64 {

namespace {

using console::Print;

// How long the burners of part 2 run.
constexpr uint64_t kBurnNs = 1000 * kMs;
constexpr uint64_t kBurnChunkNs = 200 * kUs;
constexpr int kNices[] = {-5, 0, 5, 10};
constexpr uint32_t kPerCpu = sizeof(kNices) / sizeof(kNices[0]);
constexpr uint32_t kMaxBurners = BootInfo::kMaxCpus * kPerCpu;

struct DemoBurner {
  Atomic<bool>* stop = nullptr;
  uint32_t cpu = 0;
  int nice = 0;
  Task* task = nullptr;
  uint64_t chunks = 0;      // work done, written by the burner, read after Join
  uint64_t runtime_ns = 0;  // the scheduler's CPU-time accounting, likewise
};

void DemoBurnerBody(void* p) {
  auto* burner = static_cast<DemoBurner*>(p);
  const uint64_t start = sched::CurrentRuntimeNs();
  while (!burner->stop->Load(std::memory_order_relaxed)) {
    workload::Burn(kBurnChunkNs);
    ++burner->chunks;
  }
  burner->runtime_ns = sched::CurrentRuntimeNs() - start;
}

// Runs the workload `arg` points at (a workload::Workload) with the demo's parameters.
struct WorkloadRun {
  void (*run)(const workload::Params& params);
  workload::Params params;
};

void WorkloadBody(void* p) {
  auto* w = static_cast<const WorkloadRun*>(p);
  w->run(w->params);
}

// part * 1000 / whole, rounded, as a percentage with one decimal.
Decimal Percent(uint64_t part, uint64_t whole) {
  return Decimal{static_cast<int64_t>(whole == 0 ? 0 : (part * 1000 + whole / 2) / whole), 1};
}

void PrintShares(const DemoBurner* burners, uint32_t ncpus) {
  uint64_t weights = 0;
  for (int nice : kNices)
    weights += sched::WeightForNice(nice);
  Print("demo: each burner's share of its CPU among that CPU's {} burners:", kPerCpu);
  Print("  cpu  nice  weight   weight share  work share  cpu-time share");
  for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
    const DemoBurner* group = burners + cpu * kPerCpu;
    uint64_t chunks = 0;
    uint64_t runtime = 0;
    for (uint32_t i = 0; i < kPerCpu; ++i) {
      chunks += group[i].chunks;
      runtime += group[i].runtime_ns;
    }
    for (uint32_t i = 0; i < kPerCpu; ++i) {
      const uint32_t weight = sched::WeightForNice(group[i].nice);
      Print("  {:>3}  {:>4}  {:>6}   {:>11}%  {:>9}%  {:>13}%", cpu, group[i].nice, weight,
            Percent(weight, weights), Percent(group[i].chunks, chunks),
            Percent(group[i].runtime_ns, runtime));
    }
  }
  Print("  (work = {} us Burn chunks done; cpu time = the scheduler's runtime accounting; other",
        kBurnChunkNs / kUs);
  Print("   tasks on the same CPU do not change the ratios among its burners)");
}

}  // namespace

bool RunDemonstration(const KernelOptions& options) {
  const uint32_t ncpus = OnlineCpus().Count();
  const sched::Config& config = sched::config();
  Print("demo: Lichen on {} CPU{}: placement {}, stealing {}, periodic balance {}", ncpus,
        ncpus == 1 ? "" : "s", sched::PlacementName(config.placement), config.steal ? "on" : "off",
        config.periodic_balance ? "on" : "off");

  // 1. Activity.
  Print(
      "demo: part 1: the mixed and mixed-work workloads at once (spawn storms, cross-CPU "
      "ping-pong, sleepers, nice burners, mutex, yields, parallel jobs) ...");
  workload::Params params;
  params.scale = options.scale;
  params.seed = options.seed;
  params.check_shares = false;
  WorkloadRun runs[] = {{&workload::Mixed, params}, {&workload::MixedWork, params}};
  runs[1].params.seed = options.seed + 1;
  const report::Sample before = report::TakeSample();
  Task* tasks[2];
  for (uint32_t i = 0; i < 2; ++i)
    tasks[i] = workload::MustSpawn("workload", &WorkloadBody, &runs[i]);
  for (Task* task : tasks)
    sched::Join(task);
  const report::Sample after = report::TakeSample();
  Print("demo: done in {} ms. What each CPU did:", (after.time_ns - before.time_ns) / kMs);
  report::PrintCpuTable(before, after);

  // 2. Fairness.
  Print("demo: part 2: {} burners pinned {} to a CPU at nice -5, 0, 5, 10, for {} ms ...",
        ncpus * kPerCpu, kPerCpu, kBurnNs / kMs);
  Atomic<bool> stop{false};
  // kPerCpu per CPU for up to kMaxCpus CPUs is 12 KiB: too much for init's stack, next to the
  // two counter samples above. The demonstration runs once per boot.
  static DemoBurner burners[kMaxBurners];
  const uint32_t nburners = ncpus * kPerCpu;
  for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
    for (uint32_t i = 0; i < kPerCpu; ++i) {
      DemoBurner& b = burners[cpu * kPerCpu + i];
      b.stop = &stop;
      b.cpu = cpu;
      b.nice = kNices[i];
      b.task = workload::MustSpawn("burner", &DemoBurnerBody, &b, b.nice, CpuMask::Single(cpu));
    }
  }
  sched::SleepFor(kBurnNs);
  stop.Store(true, std::memory_order_relaxed);
  for (uint32_t i = 0; i < nburners; ++i)
    sched::Join(burners[i].task);
  PrintShares(burners, ncpus);

  Print("demo: wake-to-run latency (from becoming runnable to running; all CPUs, whole run):");
  report::PrintWakeLatency();
  Print("DEMO: done");
  return true;
}

}  // namespace lichen::aarch64

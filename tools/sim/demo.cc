// lichen-demo: the host demonstration of the scheduling core.
//
// Boots the kernel core in the deterministic simulator, runs CPU-bound tasks of different
// nice levels on one CPU for a second of virtual time, and prints each task's share of the
// CPU against the share its weight entitles it to. Then runs the mixed workload on 4 CPUs
// and prints the per-CPU counters.
#include <cstdio>

#include "kernel/base/version.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/weights.h"
#include "lib/units.h"
#include "platform/sim/sim.h"
#include "tools/sim/cli.h"

namespace {

constexpr int kNices[] = {-10, -5, 0, 0, 5, 10, 19};
constexpr int kTasks = sizeof(kNices) / sizeof(kNices[0]);
constexpr uint64_t kRunNs = lichen::kSec;

struct Burner {
  lichen::Atomic<bool>* stop;
  uint64_t burned_ns = 0;
};

struct Shares {
  uint64_t burned_ns[kTasks] = {};
};

void Root(void* p) {
  auto* shares = static_cast<Shares*>(p);
  lichen::Atomic<bool> stop{false};
  Burner burners[kTasks];
  lichen::Task* tasks[kTasks];
  for (int i = 0; i < kTasks; ++i) {
    burners[i].stop = &stop;
    lichen::sched::SpawnOptions options;
    options.name = "burner";
    options.nice = kNices[i];
    options.affinity = lichen::CpuMask::Single(0);
    options.arg = &burners[i];
    options.entry = [](void* arg) {
      auto* b = static_cast<Burner*>(arg);
      while (!b->stop->Load(std::memory_order_relaxed)) {
        lichen::sim::Compute(20'000);
        b->burned_ns += 20'000;
      }
    };
    tasks[i] = lichen::sched::Spawn(options).value();
  }
  lichen::sched::SleepFor(kRunNs);
  stop.Store(true, std::memory_order_relaxed);
  for (int i = 0; i < kTasks; ++i) {
    lichen::sched::Join(tasks[i]);
    shares->burned_ns[i] = burners[i].burned_ns;
  }
}

}  // namespace

int main() {
  std::printf("Lichen %s -- host demonstration of the scheduling core\n\n", lichen::kVersion);
  std::printf(
      "EEVDF on one CPU of the deterministic simulator: %d CPU-bound tasks, %.1f s of\n"
      "virtual time. A task's CPU share should equal its weight's share.\n\n",
      kTasks, static_cast<double>(kRunNs) / 1e9);
  static Shares shares;
  lichen::sim::Options options;
  options.ncpus = 1;
  options.workload = "demo";
  const lichen::sim::Outcome result = lichen::sim::Run(options, &Root, &shares);
  if (!result.ok) {
    std::printf("simulation failed: %s\n", result.failure.c_str());
    return 1;
  }
  uint64_t total = 0;
  uint64_t weights = 0;
  for (int i = 0; i < kTasks; ++i) {
    total += shares.burned_ns[i];
    weights += lichen::sched::WeightForNice(kNices[i]);
  }
  std::printf("  task  nice  weight  weight share  CPU share  CPU time\n");
  for (int i = 0; i < kTasks; ++i) {
    const uint32_t w = lichen::sched::WeightForNice(kNices[i]);
    std::printf("  %4d  %4d  %6u  %11.2f%%  %8.2f%%  %6.1f ms\n", i, kNices[i], w,
                100.0 * w / static_cast<double>(weights),
                100.0 * static_cast<double>(shares.burned_ns[i]) / static_cast<double>(total),
                static_cast<double>(shares.burned_ns[i]) / 1e6);
  }
  std::printf(
      "\nThe mixed workload (spawn storms, ping-pong, sleepers, burners, mutexes,\n"
      "yields) on 4 simulated CPUs:\n\n");
  lichen::tools::SimArgs args;
  args.workload = "mixed";
  args.cpus = {4};
  args.seed = 1;
  const lichen::sim::Outcome mixed = lichen::tools::RunNamed(args);
  lichen::tools::PrintResult(args, mixed);
  return mixed.ok ? 0 : 1;
}

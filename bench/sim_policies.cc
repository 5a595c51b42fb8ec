// Placement policies and stealing, compared in the simulator (virtual time: deterministic
// for a given seed, so the table is exactly reproducible).
//
// For each configuration -- round-robin (the seed's), local-first, least-loaded; each with
// and without work stealing (the periodic balance stays on) -- it runs, on 4 and 8 CPUs,
// over `--seeds` seeds:
//   - the mixed-work workload (storms, ping-pong, sleepers, mutex, yields and 16 parallel
//     20 ms jobs at once: a fixed amount of work): its makespan (virtual time to completion)
//     and the wake-to-run latency p50 / p99;
//   - a fairness workload: 3 unpinned CPU burners per CPU with nice -5..5, spawned from one
//     CPU, run for 200 ms: Jain's index of service per unit of weight (1.0 = every task got
//     exactly its weight's share of the machine).
//
//   sim_policies [--seeds N]      prints the markdown table of docs/perf.md
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernel/sched/sched.h"
#include "kernel/sched/weights.h"
#include "lib/units.h"
#include "platform/sim/sim.h"
#include "tools/sim/cli.h"
#include "workloads/sim_workloads.h"

namespace {

using lichen::kMs;
using lichen::sched::Placement;

struct PolicyConfig {
  Placement placement;
  bool steal;
};

// ---- The fairness workload ---------------------------------------------------------------

constexpr int kNices[] = {-5, -2, 0, 0, 3, 5};
constexpr int kMaxBurners = 3 * 8;

struct Fairness {
  uint32_t burners = 0;
  uint64_t burned_ns[kMaxBurners] = {};
  int nice[kMaxBurners] = {};
};
Fairness g_fairness;

void FairnessRoot(void*) {
  static lichen::Atomic<bool> stop{false};
  stop.Store(false, std::memory_order_relaxed);
  lichen::Task* tasks[kMaxBurners];
  for (uint32_t i = 0; i < g_fairness.burners; ++i) {
    g_fairness.nice[i] = kNices[i % (sizeof(kNices) / sizeof(kNices[0]))];
    g_fairness.burned_ns[i] = 0;
    lichen::sched::SpawnOptions options;
    options.name = "burner";
    options.nice = g_fairness.nice[i];
    options.arg = reinterpret_cast<void*>(static_cast<uintptr_t>(i));
    options.entry = [](void* p) {
      const auto i = reinterpret_cast<uintptr_t>(p);
      while (!stop.Load(std::memory_order_relaxed)) {
        lichen::sim::Compute(50'000);
        g_fairness.burned_ns[i] += 50'000;
      }
    };
    tasks[i] = lichen::sched::Spawn(options).value();
  }
  lichen::sched::SleepFor(200 * kMs);
  stop.Store(true, std::memory_order_relaxed);
  for (uint32_t i = 0; i < g_fairness.burners; ++i)
    lichen::sched::Join(tasks[i]);
}

// Jain's fairness index of x_i = service_i / weight_i: (sum x)^2 / (n * sum x^2).
double JainIndex() {
  double sum = 0;
  double sum_sq = 0;
  for (uint32_t i = 0; i < g_fairness.burners; ++i) {
    const double x = static_cast<double>(g_fairness.burned_ns[i]) /
                     static_cast<double>(lichen::sched::WeightForNice(g_fairness.nice[i]));
    sum += x;
    sum_sq += x * x;
  }
  return sum_sq == 0 ? 0 : (sum * sum) / (g_fairness.burners * sum_sq);
}

struct Row {
  double makespan_ms = 0;
  double p50_us = 0;
  double p99_us = 0;
  double fairness = 0;
  double ipis = 0;
  double migrations = 0;
  uint32_t failures = 0;
};

Row Measure(const PolicyConfig& config, uint32_t ncpus, uint64_t seeds) {
  Row row;
  std::vector<double> p50s;
  std::vector<double> p99s;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    lichen::tools::SimArgs args;
    args.workload = "mixed-work";
    args.placement = config.placement;
    args.steal = config.steal;
    lichen::sim::Options options = lichen::tools::OptionsFor(args, ncpus, seed);
    const lichen::sim::Outcome mixed = lichen::sim::RunWorkload(options, 1);
    if (!mixed.ok) {
      std::fprintf(stderr, "FAILED: %s\n  replay: %s\n", mixed.failure.c_str(),
                   mixed.replay.c_str());
      ++row.failures;
      continue;
    }
    row.makespan_ms += static_cast<double>(mixed.end_time_ns - mixed.start_time_ns) / 1e6;
    for (const lichen::sim::CpuReport& cpu : mixed.cpus) {
      row.ipis += static_cast<double>(cpu.ipis_sent);
      row.migrations += static_cast<double>(cpu.migrations_in);
    }
    p50s.push_back(static_cast<double>(mixed.wake_latency_p50_ns) / 1e3);
    p99s.push_back(static_cast<double>(mixed.wake_latency_p99_ns) / 1e3);

    g_fairness.burners = 3 * ncpus;
    options.workload = "fairness";
    options.check_idle_balance = config.steal;
    const lichen::sim::Outcome fair = lichen::sim::Run(options, &FairnessRoot, nullptr);
    if (!fair.ok) {
      std::fprintf(stderr, "FAILED: %s\n", fair.failure.c_str());
      ++row.failures;
      continue;
    }
    row.fairness += JainIndex();
  }
  const double n = static_cast<double>(seeds - row.failures);
  if (n > 0) {
    row.makespan_ms /= n;
    row.fairness /= n;
    row.ipis /= n;
    row.migrations /= n;
    std::sort(p50s.begin(), p50s.end());
    std::sort(p99s.begin(), p99s.end());
    row.p50_us = p50s[p50s.size() / 2];
    row.p99_us = p99s[p99s.size() / 2];
  }
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 20;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
      seeds = std::strtoull(argv[++i], nullptr, 10);
    }
  }
  const PolicyConfig configs[] = {
      {Placement::kRoundRobin, false},  {Placement::kRoundRobin, true},
      {Placement::kLocalFirst, false},  {Placement::kLocalFirst, true},
      {Placement::kLeastLoaded, false}, {Placement::kLeastLoaded, true},
  };
  std::printf(
      "Mixed workload and fairness workload in the simulator, %llu seeds each; "
      "medians of per-run wake latency percentiles.\n\n",
      static_cast<unsigned long long>(seeds));
  std::printf(
      "| CPUs | placement | stealing | mixed-work makespan (ms, mean) | wake-to-run p50 (us) "
      "| p99 (us) | IPIs per run | migrations per run | fairness (Jain, 1 = ideal) | failed runs "
      "|\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (uint32_t ncpus : {4u, 8u}) {
    for (const PolicyConfig& config : configs) {
      const Row row = Measure(config, ncpus, seeds);
      std::printf("| %u | %s | %s | %.2f | %.1f | %.1f | %.0f | %.0f | %.4f | %u |\n", ncpus,
                  lichen::sched::PlacementName(config.placement), config.steal ? "on" : "off",
                  row.makespan_ms, row.p50_us, row.p99_us, row.ipis, row.migrations, row.fairness,
                  row.failures);
      std::fflush(stdout);
    }
  }
  return 0;
}

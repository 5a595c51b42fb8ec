// Helpers for tests that run the kernel in the simulator.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "platform/sim/sim.h"
#include "workloads/workloads.h"

namespace lichen::test {

// Options for running workload `name` on `ncpus` CPUs with `seed`.
inline sim::Options WorkloadOptions(const char* name, uint32_t ncpus, uint64_t seed) {
  sim::Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  options.workload = name;
  const workload::Workload* w = workload::Find(name);
  if (w != nullptr && w->pins_tasks) options.check_idle_balance = false;
  return options;
}

struct WorkloadArgs {
  const workload::Workload* workload;
  workload::Params params;
};

// Runs a named workload to completion in the simulator.
inline sim::Result RunWorkload(const sim::Options& options, uint32_t scale = 1) {
  static WorkloadArgs args;
  args.workload = workload::Find(options.workload.c_str());
  EXPECT_NE(args.workload, nullptr) << "no workload " << options.workload;
  args.params = workload::Params{scale, options.seed, true};
  return sim::Run(
      options,
      [](void* p) {
        auto* a = static_cast<WorkloadArgs*>(p);
        a->workload->run(a->params);
      },
      &args);
}

// A one-line description of a result, with the replay command when it failed.
inline std::string Explain(const sim::Result& result) {
  if (result.ok) return "ok";
  return result.failure + "\n    replay: " + result.replay;
}

}  // namespace lichen::test

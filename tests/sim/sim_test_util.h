// Helpers for tests that run the kernel in the simulator.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "platform/sim/sim.h"
#include "workloads/workloads.h"

namespace lichen::test {

// Options for a named workload, and running it (platform/sim/sim.h).
using sim::RunWorkload;
using sim::WorkloadOptions;

// A one-line description of a result, with the replay command when it failed.
inline std::string Explain(const sim::Result& result) {
  if (result.ok) return "ok";
  return result.failure + "\n    replay: " + result.replay;
}

}  // namespace lichen::test

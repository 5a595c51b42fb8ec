// The calibrated busy loop behind workload::Burn on aarch64 (burn.cc explains the design).
#pragma once

#include <cstdint>

namespace lichen::aarch64 {

// Measures the busy loop's speed against platform::Now() and publishes it: boot CPU, once,
// before any task calls Burn, while the other CPUs are idle. Returns iterations per ms.
uint64_t CalibrateBurn();

// The calibrated rate (0 before CalibrateBurn).
uint64_t BurnIterationsPerMs();

// Iterations of the loop worth `ns` of work at the calibrated rate.
uint64_t BurnIterationsFor(uint64_t ns);

// Runs the loop `iterations` times: a fixed amount of work, preemptible wherever IRQs are on.
void BurnIterations(uint64_t iterations);

}  // namespace lichen::aarch64

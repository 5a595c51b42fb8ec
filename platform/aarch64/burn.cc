// workload::Burn for the kernel: CPU *work*, as a busy loop calibrated once at boot.
//
// A workload asks for `ns` of CPU time. The kernel cannot measure "CPU time spent by this
// task" directly, and measuring wall time would be wrong twice over: a preempted burn would
// count the time other tasks ran as its own, and under QEMU TCG a vCPU whose host thread is
// descheduled sees the clock run on without doing anything. So Burn(ns) is a fixed amount of
// work: ns * (loop iterations per ms) / 10^6 iterations of a two-instruction loop, with the
// rate measured once at boot (CalibrateBurn) on the boot CPU while the other CPUs still sleep
// in WFE. The loop runs with IRQs enabled, so it is preempted like any task code; a
// preempted burn simply continues its remaining iterations when it runs again, wherever.
//
// Consequence worth knowing: when more vCPUs burn than the host has cores, each Burn takes
// longer in wall time than it asked for (the work is the same, the host is slower). That is
// what makes the speedup benchmark honest: the same work on 1 and on N CPUs.
#include "platform/aarch64/burn.h"

#include "kernel/base/platform.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/units.h"
#include "workloads/workloads.h"

namespace lichen::aarch64 {

namespace {

// Calibration: grow the sample until one takes at least this long, then keep the fastest of
// kSamples runs of that size (the fastest is the one the host disturbed least).
constexpr uint64_t kMinSampleNs = 2 * kMs;
constexpr int kSamples = 5;

// Loop iterations per millisecond of work; written once by CalibrateBurn before any task
// runs, read by every CPU afterwards (the release/acquire pair covers the publication).
Atomic<uint64_t> g_iterations_per_ms{0};

// Times `iterations` of the loop in ns.
uint64_t TimeLoop(uint64_t iterations) {
  const uint64_t start = platform::Now();
  BurnIterations(iterations);
  return platform::Now() - start;
}

}  // namespace

void BurnIterations(uint64_t iterations) {
  if (iterations == 0) return;
  // subs + b.ne: the compiler cannot drop or shorten it (volatile asm, counter in/out).
  asm volatile(
      "1: subs %0, %0, #1\n"
      "   b.ne 1b\n"
      : "+r"(iterations)
      :
      : "cc");
}

uint64_t CalibrateBurn() {
  uint64_t iterations = 1024;
  uint64_t ns = TimeLoop(iterations);
  while (ns < kMinSampleNs) {
    iterations *= 2;
    ns = TimeLoop(iterations);
  }
  for (int i = 1; i < kSamples; ++i) {
    const uint64_t again = TimeLoop(iterations);
    if (again < ns) ns = again;
  }
  // iterations / ns * 10^6, without overflow (iterations < 2^40 and ns >= 2 * 10^6 here).
  const uint64_t rate = iterations * kMs / ns;
  LICHEN_ASSERT(rate > 0, "burn calibration: {} iterations took {} ns", iterations, ns);
  g_iterations_per_ms.Store(rate, std::memory_order_release);
  return rate;
}

uint64_t BurnIterationsPerMs() {
  return g_iterations_per_ms.Load(std::memory_order_acquire);
}

uint64_t BurnIterationsFor(uint64_t ns) {
  const uint64_t rate = BurnIterationsPerMs();
  LICHEN_ASSERT(rate != 0, "Burn() before CalibrateBurn()");
  // Split into whole ms and a remainder so that nothing overflows for any sane ns.
  return ns / kMs * rate + ns % kMs * rate / kMs;
}

}  // namespace lichen::aarch64

namespace lichen::workload {

void Burn(uint64_t ns) {
  // A burn with IRQs masked could never be preempted: a workload bug worth catching.
  LICHEN_DEBUG_ASSERT(!platform::IrqsMasked(), "Burn() with IRQs masked");
  aarch64::BurnIterations(aarch64::BurnIterationsFor(ns));
}

}  // namespace lichen::workload

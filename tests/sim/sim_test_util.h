// Helpers for tests that run the kernel in the simulator.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>
#include <string>

#include "kernel/base/debug.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/task.h"
#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/units.h"

#include "platform/sim/replay.h"
#include "platform/sim/sim.h"
#include "tests/support/property.h"
#include "workloads/sim_workloads.h"
#include "workloads/workloads.h"

namespace lichen::test {

// Options for a named workload, and running it (platform/sim/sim.h).
using sim::RunWorkload;
using sim::WorkloadOptions;

// A workload's options with machine stalls: one step in 2000 stalls the whole machine for up
// to 100 ms (a host that deschedules the VM).
inline sim::Options StallOptions(const char* workload, uint32_t ncpus, uint64_t seed) {
  sim::Options options = WorkloadOptions(workload, ncpus, seed);
  options.stall_one_in = 2000;
  options.max_stall_ns = 100 * kMs;
  return options;
}

// Spawns a task that runs `body`, a callable that may capture: the test's state by reference,
// with no static to re-make at each run. The task calls `body` where it lies, so it must
// outlive the task: a local of the root (sim::Run's callable) that joins the task. Temporaries
// do not bind, which keeps a dangling body from compiling.
// `options` give the name, affinity, nice and slice; their entry and arg are replaced.
template <typename Body>
Task* SpawnBody(sched::SpawnOptions options, Body& body) {
  options.entry = [](void* arg) { (*static_cast<Body*>(arg))(); };
  options.arg = &body;
  return sched::Spawn(options).value();
}

// The same with a name and an affinity only.
template <typename Body>
Task* SpawnBody(const char* name, Body& body, CpuMask affinity = CpuMask::FirstN(kMaxCpus)) {
  sched::SpawnOptions options;
  options.name = name;
  options.affinity = affinity;
  return SpawnBody(options, body);
}

// The replay line of a run from a custom root (sim::Run outside RunWorkload): run this test
// alone with the run's seed. The seed reaches the run where the test reads LICHEN_SEED
// (test::ForEachSeed); a test that fixes its seed runs that one anyway.
inline std::string GtestReplay(const sim::Options& options) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter =
      info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "*";
  return "LICHEN_SEED=" + std::to_string(options.seed) + " " + TestBinaryPath() +
         " --gtest_filter=" + filter;
}

// Every test binary that includes this header gets GtestReplay as its custom-root replay.
inline const bool kGtestReplayInstalled = (sim::SetCustomRootReplay(&GtestReplay), true);

// A one-line description of a result, with the replay command when it failed.
inline std::string Explain(const sim::Outcome& result) {
  if (result.ok) return "ok";
  return result.failure + "\n    replay: " + result.replay;
}

// Turns a fault (kernel/base/debug.h) on for one scope.
class FaultScope {
 public:
  explicit FaultScope(bool Faults::*fault) : fault_(fault) { g_faults.*fault_ = true; }
  ~FaultScope() { g_faults.*fault_ = false; }
  FaultScope(const FaultScope&) = delete;
  FaultScope& operator=(const FaultScope&) = delete;

 private:
  bool Faults::*fault_;
};

// A failure a test expects: its kind, and for a panic (one kind for every kernel check) the
// text that names the check.
struct Caught {
  sim::Failure kind;
  const char* text = nullptr;

  bool Matches(const sim::Outcome& result) const {
    return !result.ok && result.kind == kind &&
           (text == nullptr || result.failure.find(text) != std::string::npos);
  }
};

inline std::string Describe(const Caught& c) {
  return std::string(sim::FailureName(c.kind)) +
         (c.text != nullptr ? " '" + std::string(c.text) + "'" : "");
}

inline void ExpectCaught(const sim::Outcome& result, Caught what) {
  EXPECT_FALSE(result.ok) << "the simulator did not catch the bug";
  std::printf("  caught, as expected: [%s] %s\n", sim::FailureName(result.kind),
              result.failure.c_str());
  EXPECT_TRUE(what.Matches(result)) << "expected a failure of kind " << Describe(what) << ", got "
                                    << sim::FailureName(result.kind) << ": " << result.failure;
}

// Runs `run(seed)` for seeds 1..max_seed until a run fails as one of `what`; the bug must be
// caught within that many seeds. Returns the seed that caught it (0: none).
template <typename Run>
uint64_t ExpectCaughtWithin(uint64_t max_seed, std::initializer_list<Caught> what, Run run) {
  bool caught = false;
  sim::Outcome last;
  uint64_t seed = 1;
  for (; seed <= max_seed && !caught; ++seed) {
    const sim::Outcome result = run(seed);
    if (result.ok) continue;
    last = result;
    for (const Caught& w : what)
      caught |= w.Matches(result);
  }
  EXPECT_TRUE(caught) << "not caught within " << max_seed
                      << " seeds; last failure: " << sim::FailureName(last.kind) << ": "
                      << last.failure;
  if (!caught) return 0;
  std::printf("  caught, as expected, at seed %llu: [%s] %s\n",
              static_cast<unsigned long long>(seed - 1), sim::FailureName(last.kind),
              last.failure.c_str());
  return seed - 1;
}

// A task that has just returned from a wait sleeps with the raw protocol until released: a
// wake left over from the wait (its timer, a waker, an interrupter, a cross-CPU call) would
// end that sleep early, and the assertion reports it.
struct AfterWait {
  Atomic<bool> returned{false};
  Atomic<bool> release{false};
  Task* waiter = nullptr;  // for tests that keep the waiting task here

  void SleepUntilReleased() {
    returned.Store(true, std::memory_order_release);
    for (;;) {
      sched::PrepareToBlock();
      if (release.Load(std::memory_order_acquire)) {
        sched::CancelBlock();
        return;
      }
      sched::Block();
      LICHEN_ASSERT(release.Load(std::memory_order_acquire),
                    "task {} woken after its wait returned", sched::Current()->id);
    }
  }

  // Once `task` has returned from its wait, gives stale wakes time to land, then releases it.
  void Release(Task* task) {
    while (!returned.Load(std::memory_order_acquire))
      sched::SleepFor(5 * kUs);
    sched::SleepFor(200 * kUs);
    release.Store(true, std::memory_order_release);
    sched::Wake(task);
  }
  void Release() { Release(waiter); }
};

}  // namespace lichen::test

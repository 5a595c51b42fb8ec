// The shared workloads (workloads/workloads.h) on the real kernel. Each checks itself with
// LICHEN_ASSERT (counts, mutual exclusion, sleepers never early, nice shares), so a wrong
// result panics and powers off with status 2; a lost wakeup hangs and trips the watchdog.
#include <string_view>

#include "ktests/ktest.h"
#include "platform/aarch64/kernel_main.h"
#include "workloads/workloads.h"

namespace lichen::ktest {

namespace {

// The workloads with a ktest of their own, in the order of the tests below.
constexpr std::string_view kCovered[] = {"storm", "pingpong", "sleepers",   "burners", "mutex",
                                         "yield", "parallel", "mixed-work", "mixed"};

// Runs workload `name` at scale 1 with the boot's seed; a missing workload fails the test.
void RunWorkload(const char* name) {
  const workload::Workload* w = workload::Find(name);
  KTEST_CHECK(w != nullptr, "no workload named '{}'", name);
  workload::Params params;
  params.scale = aarch64::TheKernelOptions().scale;
  params.seed = aarch64::TheKernelOptions().seed;
  params.check_shares = true;
  w->run(params);
}

}  // namespace

// Every workload in workloads::All() has a ktest here (a new workload must get one).
KTEST(workload_list_covered) {
  for (const workload::Workload& w : workload::All()) {
    bool covered = false;
    for (std::string_view name : kCovered)
      covered |= name == w.name;
    KTEST_CHECK(covered, "workload '{}' has no ktest (add it to workload_tests.cc)", w.name);
  }
}

// Parents on every CPU join children that exit on other CPUs (the seed's "parent on CPU 0
// waits for a child that exits on CPU 1").
KTEST(workload_storm) {
  RunWorkload("storm");
}

// Pairs pinned to different CPUs hand a token back and forth: every hand-off is a cross-CPU
// wake of a sleeping task.
KTEST(workload_pingpong) {
  RunWorkload("pingpong");
}

// Random sleeps, none may end before its deadline.
KTEST(workload_sleepers) {
  RunWorkload("sleepers");
}

// Nice -5..10 burners on one CPU: each one's share of the work within 3 points of its weight.
KTEST(workload_burners) {
  RunWorkload("burners");
}

// Mutual exclusion under contention, no lost updates.
KTEST(workload_mutex) {
  RunWorkload("mutex");
}

// Tasks that do little but yield.
KTEST(workload_yield) {
  RunWorkload("yield");
}

// Independent CPU-bound jobs (the speedup benchmark's workload), none lost.
KTEST(workload_parallel) {
  RunWorkload("parallel");
}

// A fixed amount of mixed work (everything but the burners at once).
KTEST(workload_mixed_work) {
  RunWorkload("mixed-work");
}

// All of the above at once.
KTEST(workload_mixed) {
  RunWorkload("mixed");
}

}  // namespace lichen::ktest

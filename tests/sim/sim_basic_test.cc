// The simulator itself: it boots the kernel on N CPUs, runs tasks to completion, is
// deterministic, and reports the failures it is meant to catch.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "kernel/sched/sched.h"
#include "kernel/sync/semaphore.h"
#include "lib/sim_reset.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "workloads/sim_workloads.h"

namespace lichen {
namespace {

TEST(Simulator, RootRunsAndReturns) {
  static bool ran;
  ran = false;
  sim::Options options;
  options.ncpus = 2;
  const sim::Outcome result = sim::Run(
      options, [](void*) { ran = true; }, nullptr);
  EXPECT_TRUE(result.ok) << test::Explain(result);
  EXPECT_TRUE(ran);
}

TEST(Simulator, ComputeAdvancesVirtualTime) {
  sim::Options options;
  options.ncpus = 1;
  const sim::Outcome result = sim::Run(
      options, [](void*) { sim::Compute(5'000'000); }, nullptr);
  ASSERT_TRUE(result.ok) << test::Explain(result);
  EXPECT_GE(result.end_time_ns - result.start_time_ns, 5'000'000u);
  EXPECT_LT(result.end_time_ns - result.start_time_ns, 6'000'000u);
}

TEST(Simulator, SpawnedTasksRunOnEveryCpu) {
  std::set<uint32_t> cpus_seen;
  sim::Options options;
  options.ncpus = 4;
  options.sched.placement = sched::Placement::kRoundRobin;
  const sim::Outcome result = sim::Run(options, [&] {
    auto body = [&] {
      cpus_seen.insert(sim::CurrentVirtualCpu());
      sim::Compute(2'000'000);
      cpus_seen.insert(sim::CurrentVirtualCpu());
    };
    Task* tasks[8];
    for (Task*& t : tasks)
      t = test::SpawnBody(sched::SpawnOptions{}, body);
    for (Task* t : tasks)
      sched::Join(t);
  });
  ASSERT_TRUE(result.ok) << test::Explain(result);
  EXPECT_EQ(cpus_seen.size(), 4u);
}

TEST(Simulator, SameSeedSameRunBitForBit) {
  for (const char* name : {"mixed", "storm", "pingpong"}) {
    const sim::Options options = test::WorkloadOptions(name, 4, 77);
    const sim::Outcome a = test::RunWorkload(options);
    const sim::Outcome b = test::RunWorkload(options);
    ASSERT_TRUE(a.ok) << test::Explain(a);
    EXPECT_EQ(a.fingerprint, b.fingerprint) << name;
    EXPECT_EQ(a.steps, b.steps) << name;
    EXPECT_EQ(a.end_time_ns, b.end_time_ns) << name;
  }
}

// Every part of the core that keeps globals registers its own reset (lib/sim_reset.h), run in
// (stage, name) order with memory last. A reset that went missing (or no longer links in)
// shows up here by name, before it shows up as one run leaking state into the next.
TEST(Simulator, EveryPartOfTheCoreRegistersItsReset) {
  std::vector<std::string> names;
  for (const ResetRegistrar* r = SimulationResets().first(); r != nullptr; r = r->next())
    names.push_back(r->name());
  EXPECT_EQ(names, (std::vector<std::string>{"cpus", "irq", "lockdep", "percpu", "registry",
                                             "sched.config", "sched.placement", "sched.scheduler",
                                             "sched.stats", "trace", "mm.memory"}));
}

TEST(Simulator, DifferentSeedsExploreDifferentInterleavings) {
  std::set<uint64_t> fingerprints;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const sim::Outcome r = test::RunWorkload(test::WorkloadOptions("storm", 4, seed));
    ASSERT_TRUE(r.ok) << test::Explain(r);
    fingerprints.insert(r.fingerprint);
  }
  EXPECT_GE(fingerprints.size(), 7u);
}

// A root may capture: state in the test's frame by reference, and kernel objects in the
// root's own frame (a semaphore made fresh by each run, with no static to re-make by hand).
TEST(Simulator, RootsMayCapture) {
  for (uint32_t ncpus : {1u, 2u, 4u}) {
    sim::Options options;
    options.ncpus = ncpus;
    uint32_t posts = 0;
    uint32_t taken = 0;
    const sim::Outcome result = sim::Run(options, [&] {
      struct Shared {
        Semaphore go{0};
        uint32_t* posts;
      } shared{.posts = &posts};
      sched::SpawnOptions spawn;
      spawn.name = "poster";
      spawn.arg = &shared;
      spawn.entry = [](void* arg) {
        auto* s = static_cast<Shared*>(arg);
        for (int i = 0; i < 3; ++i) {
          sim::Compute(10'000);
          ++*s->posts;
          s->go.Up();
        }
      };
      Task* poster = sched::Spawn(spawn).value();
      for (int i = 0; i < 3; ++i) {
        shared.go.Down();
        ++taken;
      }
      sched::Join(poster);
    });
    ASSERT_TRUE(result.ok) << "cpus=" << ncpus << ": " << test::Explain(result);
    EXPECT_EQ(posts, 3u);
    EXPECT_EQ(taken, 3u);
  }
}

TEST(Simulator, WorkloadCheckFailureFailsTheRun) {
  sim::Options options;
  options.ncpus = 2;
  const sim::Outcome result = sim::Run(
      options, [](void*) { sim::Fail("on purpose"); }, nullptr);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.kind, sim::Failure::kWorkloadCheck) << result.failure;
  EXPECT_NE(result.failure.find("on purpose"), std::string::npos) << result.failure;
}

TEST(Simulator, KernelPanicFailsTheRunWithItsMessage) {
  sim::Options options;
  options.ncpus = 2;
  const sim::Outcome result = sim::Run(
      options, [](void*) { LICHEN_PANIC("deliberate panic {}", 42); }, nullptr);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.kind, sim::Failure::kPanic) << result.failure;
  EXPECT_NE(result.failure.find("deliberate panic 42"), std::string::npos) << result.failure;
}

TEST(Simulator, DetectsAHang) {
  sim::Options options;
  options.ncpus = 2;
  const sim::Outcome result = sim::Run(
      options,
      [](void*) {
        // Block with nobody to wake us: every CPU goes idle with the root unfinished.
        sched::PrepareToBlock();
        sched::Block();
      },
      nullptr);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.kind, sim::Failure::kHang) << result.failure;
  EXPECT_NE(result.failure.find("hang"), std::string::npos) << result.failure;
}

TEST(Simulator, DetectsTasksLeftBehind) {
  sim::Options options;
  options.ncpus = 2;
  const sim::Outcome result = sim::Run(
      options,
      [](void*) {
        sched::SpawnOptions spawn;
        spawn.name = "orphan";
        spawn.entry = [](void*) { sim::Compute(50'000'000); };
        (void)sched::Spawn(spawn);
      },
      nullptr);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.kind, sim::Failure::kTasksLeftAlive) << result.failure;
  EXPECT_NE(result.failure.find("orphan"), std::string::npos) << result.failure;
}

}  // namespace
}  // namespace lichen

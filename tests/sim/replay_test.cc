// Replay lines: the command a run prints must run it again, bit for bit.
//
// A registered workload's line is parsed back the way sim-run parses it (tools/sim/cli.cc) and
// run again: the fingerprint, steps, end time and outcome must match, for option sets that
// differ from the defaults in every way the tests use (a placement threshold, the PCT depth, a
// fixed strategy, stalls, store buffers, checks turned off, a scale). A custom root's line
// names its test and seed instead: sim-run has no such workload.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "platform/sim/replay.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tools/sim/cli.h"
#include "workloads/sim_workloads.h"

namespace lichen {
namespace {

// Splits a replay line into argv and parses it as sim-run does.
bool ParseReplay(const std::string& line, tools::SimArgs& args) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string::npos) end = line.size();
    if (end > start) words.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  std::vector<char*> argv;
  for (std::string& w : words)
    argv.push_back(w.data());
  if (argv.empty() || words[0] != "sim-run") return false;
  return tools::ParseSimArgs(static_cast<int>(argv.size()), argv.data(), args);
}

// Runs `options` at `scale`, replays its printed line, and expects the same run.
void ExpectReplays(const sim::Options& options, uint32_t scale) {
  const sim::Outcome first = sim::RunWorkload(options, scale);
  SCOPED_TRACE("replay: " + first.replay);
  tools::SimArgs args;
  ASSERT_TRUE(ParseReplay(first.replay, args));
  args.trace.clear();  // the trace is written after the run; it does not change it
  EXPECT_EQ(args.scale, scale);
  const sim::Outcome again = tools::RunNamed(args);
  EXPECT_EQ(again.fingerprint, first.fingerprint);
  EXPECT_EQ(again.steps, first.steps);
  EXPECT_EQ(again.end_time_ns, first.end_time_ns);
  EXPECT_EQ(again.ok, first.ok);
  EXPECT_EQ(again.kind, first.kind);
  EXPECT_EQ(again.failure, first.failure);
  EXPECT_EQ(again.replay, first.replay);
}

TEST(Replay, WorkloadLineRunsTheSameRun) {
  const std::vector<std::function<void(sim::Options&)>> variants = {
      [](sim::Options&) {},
      [](sim::Options& o) {
        o.sched.placement = sched::Placement::kLocalFirst;
        o.sched.local_first_threshold = 100;
      },
      [](sim::Options& o) {
        o.pct_depth = 5;
        o.sched.steal = false;
        o.check_idle_balance = false;
      },
      [](sim::Options& o) {
        o.auto_strategy = false;
        o.strategy = sim::Strategy::kRandomWalk;
        o.ipi_latency_max_ns = 50'000;
        o.time_slip_one_in = 3;
      },
      [](sim::Options& o) {
        o.stall_one_in = 500;
        o.max_stall_ns = 2'000'000;
        o.sched.periodic_balance = false;
        o.sched.balance_interval_ns = 1'000'000;
      },
      [](sim::Options& o) {
        o.weak_memory = true;
        o.store_flush_one_in = 2;
        o.switch_cost_ns = 3'000;
        o.sched.placement = sched::Placement::kLeastLoaded;
      },
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    SCOPED_TRACE("variant " + std::to_string(i));
    sim::Options options = sim::WorkloadOptions("storm", 4, 11 + i);
    variants[i](options);
    ExpectReplays(options, i == 2 ? 2 : 1);
  }
}

// The option that the old line dropped: local-first with its threshold moved changes where
// every spawned task goes, so a line without it runs a different run.
TEST(Replay, WorkloadLineKeepsTheLocalFirstThreshold) {
  sim::Options options = sim::WorkloadOptions("storm", 4, 3);
  options.sched.placement = sched::Placement::kLocalFirst;
  options.sched.local_first_threshold = 100;
  const sim::Outcome result = sim::RunWorkload(options);
  EXPECT_NE(result.replay.find(" --local-first-threshold 100"), std::string::npos) << result.replay;
  sim::Options defaults = options;
  defaults.sched.local_first_threshold = sched::Config{}.local_first_threshold;
  EXPECT_NE(sim::RunWorkload(defaults).fingerprint, result.fingerprint)
      << "the threshold must matter for this test to mean anything";
}

// A failed run replays to the same failure.
TEST(Replay, FailingWorkloadLineReproducesTheFailure) {
  sim::Options options = sim::WorkloadOptions("storm", 2, 5);
  options.max_steps = 2'000;
  options.sched.local_first_threshold = 7;
  const sim::Outcome result = sim::RunWorkload(options);
  ASSERT_FALSE(result.ok);
  EXPECT_EQ(result.kind, sim::Failure::kStepBudget) << result.failure;
  EXPECT_NE(result.replay.find(" --max-steps 2000"), std::string::npos) << result.replay;
  ExpectReplays(options, 1);
}

// Every extra flag prints and parses back to the same value, and nothing else moves.
TEST(Replay, ExtraFlagsRoundTrip) {
  const sim::Options defaults;
  sim::Options changed;
  changed.auto_strategy = false;
  changed.strategy = sim::Strategy::kPct;
  changed.pct_depth = 9;
  changed.ipi_latency_min_ns = 1;
  changed.ipi_latency_max_ns = 2;
  changed.time_slip_one_in = 0;
  changed.max_time_slip_ns = 4;
  changed.switch_cost_ns = 5;
  changed.max_time_ns = 6;
  changed.memory_bytes = 7u << 20;
  changed.sched.local_first_threshold = 100;
  changed.sched.balance_interval_ns = 8;
  changed.sched.migration_cooldown_ns = 9;
  changed.check_preemption = false;
  changed.preemption_bound_ns = 10;
  changed.check_idle_balance = false;
  changed.idle_balance_bound_ns = 11;
  changed.check_idle_beside_waiting = false;
  changed.check_mailbox_ipi = false;
  changed.check_timer_lateness = false;
  changed.check_sleeper_flags = false;
  changed.lockdep_panics = false;
  const std::string flags = sim::ExtraOptionFlags(changed, defaults);
  EXPECT_EQ(sim::ExtraOptionFlags(defaults, defaults), "");

  // Apply the printed flags pairwise to the defaults.
  sim::Options parsed;
  size_t pos = 0;
  size_t pairs = 0;
  while (pos < flags.size()) {
    const size_t flag_at = flags.find("--", pos);
    ASSERT_NE(flag_at, std::string::npos) << flags;
    const size_t space = flags.find(' ', flag_at);
    ASSERT_NE(space, std::string::npos) << flags;
    size_t end = flags.find(' ', space + 1);
    if (end == std::string::npos) end = flags.size();
    const std::string flag = flags.substr(flag_at, space - flag_at);
    const std::string value = flags.substr(space + 1, end - space - 1);
    EXPECT_TRUE(sim::IsExtraOption(flag)) << flag;
    EXPECT_TRUE(sim::SetExtraOption(flag, value.c_str(), parsed)) << flag << " " << value;
    ++pairs;
    pos = end;
  }
  EXPECT_EQ(pairs, 21u) << "one flag for each changed field: " << flags;
  EXPECT_EQ(sim::ExtraOptionFlags(parsed, changed), "") << flags;
  EXPECT_EQ(sim::ExtraOptionFlags(parsed, defaults), flags);

  // Malformed values are refused rather than read as something else.
  sim::Options scratch;
  EXPECT_FALSE(sim::SetExtraOption("--check-preemption", "2", scratch));
  EXPECT_FALSE(sim::SetExtraOption("--pct-depth", "x", scratch));
  EXPECT_FALSE(sim::SetExtraOption("--pct-depth", "-1", scratch));
  EXPECT_FALSE(sim::SetExtraOption("--pct-depth", "4294967296", scratch));
  EXPECT_FALSE(sim::SetExtraOption("--strategy", "fifo", scratch));
  EXPECT_FALSE(sim::SetExtraOption("--no-such-option", "1", scratch));
  EXPECT_FALSE(sim::IsExtraOption("--no-such-option"));
  EXPECT_EQ(sim::ExtraOptionFlags(scratch, defaults), "");
}

// A custom root is no workload sim-run knows: its line reruns this test with the run's seed.
TEST(Replay, CustomRootLineNamesItsTestAndSeed) {
  sim::Options options;
  options.ncpus = 2;
  options.seed = 77;
  options.workload = "not-a-workload";
  const sim::Outcome result = sim::Run(
      options, [](void*) { sim::Compute(1000); }, nullptr);
  ASSERT_TRUE(result.ok) << result.failure;
  EXPECT_EQ(result.replay, "LICHEN_SEED=77 " + test::TestBinaryPath() +
                               " --gtest_filter=Replay.CustomRootLineNamesItsTestAndSeed");
  EXPECT_EQ(result.replay.find("sim-run"), std::string::npos);
}

}  // namespace
}  // namespace lichen

#include "platform/sim/replay.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "kernel/sched/config.h"

namespace lichen::sim {

namespace {

// One option as a flag with a decimal value (booleans are 0 or 1). The table is the single
// list both ways: ExtraOptionFlags() prints from it and SetExtraOption() parses with it.
struct NumberFlag {
  const char* name;
  uint64_t (*get)(const Options&);
  void (*set)(Options&, uint64_t);
  uint64_t max;  // the largest value the field holds
};

constexpr uint64_t kU32 = UINT32_MAX;
constexpr uint64_t kU64 = UINT64_MAX;
constexpr uint64_t kBool = 1;

// clang-format off
constexpr NumberFlag kFlags[] = {
  {"--pct-depth", [](const Options& o) -> uint64_t { return o.pct_depth; },
   [](Options& o, uint64_t v) { o.pct_depth = static_cast<uint32_t>(v); }, kU32},
  {"--ipi-latency-min-ns", [](const Options& o) -> uint64_t { return o.ipi_latency_min_ns; },
   [](Options& o, uint64_t v) { o.ipi_latency_min_ns = v; }, kU64},
  {"--ipi-latency-max-ns", [](const Options& o) -> uint64_t { return o.ipi_latency_max_ns; },
   [](Options& o, uint64_t v) { o.ipi_latency_max_ns = v; }, kU64},
  {"--time-slip-one-in", [](const Options& o) -> uint64_t { return o.time_slip_one_in; },
   [](Options& o, uint64_t v) { o.time_slip_one_in = static_cast<uint32_t>(v); }, kU32},
  {"--max-time-slip-ns", [](const Options& o) -> uint64_t { return o.max_time_slip_ns; },
   [](Options& o, uint64_t v) { o.max_time_slip_ns = v; }, kU64},
  {"--switch-cost-ns", [](const Options& o) -> uint64_t { return o.switch_cost_ns; },
   [](Options& o, uint64_t v) { o.switch_cost_ns = v; }, kU64},
  {"--max-time-ns", [](const Options& o) -> uint64_t { return o.max_time_ns; },
   [](Options& o, uint64_t v) { o.max_time_ns = v; }, kU64},
  {"--memory-bytes", [](const Options& o) -> uint64_t { return o.memory_bytes; },
   [](Options& o, uint64_t v) { o.memory_bytes = static_cast<size_t>(v); }, SIZE_MAX},
  {"--local-first-threshold", [](const Options& o) -> uint64_t { return o.sched.local_first_threshold; },
   [](Options& o, uint64_t v) { o.sched.local_first_threshold = static_cast<uint32_t>(v); }, kU32},
  {"--balance-interval-ns", [](const Options& o) -> uint64_t { return o.sched.balance_interval_ns; },
   [](Options& o, uint64_t v) { o.sched.balance_interval_ns = v; }, kU64},
  {"--migration-cooldown-ns", [](const Options& o) -> uint64_t { return o.sched.migration_cooldown_ns; },
   [](Options& o, uint64_t v) { o.sched.migration_cooldown_ns = v; }, kU64},
  {"--check-preemption", [](const Options& o) -> uint64_t { return o.check_preemption; },
   [](Options& o, uint64_t v) { o.check_preemption = v != 0; }, kBool},
  {"--preemption-bound-ns", [](const Options& o) -> uint64_t { return o.preemption_bound_ns; },
   [](Options& o, uint64_t v) { o.preemption_bound_ns = v; }, kU64},
  {"--check-idle-balance", [](const Options& o) -> uint64_t { return o.check_idle_balance; },
   [](Options& o, uint64_t v) { o.check_idle_balance = v != 0; }, kBool},
  {"--idle-balance-bound-ns", [](const Options& o) -> uint64_t { return o.idle_balance_bound_ns; },
   [](Options& o, uint64_t v) { o.idle_balance_bound_ns = v; }, kU64},
  {"--check-idle-beside-waiting", [](const Options& o) -> uint64_t { return o.check_idle_beside_waiting; },
   [](Options& o, uint64_t v) { o.check_idle_beside_waiting = v != 0; }, kBool},
  {"--check-mailbox-ipi", [](const Options& o) -> uint64_t { return o.check_mailbox_ipi; },
   [](Options& o, uint64_t v) { o.check_mailbox_ipi = v != 0; }, kBool},
  {"--check-timer-lateness", [](const Options& o) -> uint64_t { return o.check_timer_lateness; },
   [](Options& o, uint64_t v) { o.check_timer_lateness = v != 0; }, kBool},
  {"--check-sleeper-flags", [](const Options& o) -> uint64_t { return o.check_sleeper_flags; },
   [](Options& o, uint64_t v) { o.check_sleeper_flags = v != 0; }, kBool},
  {"--lockdep-panics", [](const Options& o) -> uint64_t { return o.lockdep_panics; },
   [](Options& o, uint64_t v) { o.lockdep_panics = v != 0; }, kBool},
};
// clang-format on

// The strategy is three-valued (auto, or one fixed): a flag of its own.
const char* StrategyName(const Options& o) {
  if (o.auto_strategy) return "auto";
  return o.strategy == Strategy::kPct ? "pct" : "random-walk";
}

bool ParseNumber(const char* text, uint64_t max, uint64_t& out) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*end != '\0' || errno != 0 || value > max) return false;
  out = value;
  return true;
}

CustomRootReplay g_custom_replay = nullptr;

}  // namespace

std::string ExtraOptionFlags(const Options& options, const Options& base) {
  std::string out;
  if (StrategyName(options) != StrategyName(base)) {
    out += " --strategy ";
    out += StrategyName(options);
  }
  for (const NumberFlag& f : kFlags) {
    const uint64_t value = f.get(options);
    if (value == f.get(base)) continue;
    out += ' ';
    out += f.name;
    out += ' ';
    out += std::to_string(value);
  }
  return out;
}

bool SetExtraOption(const std::string& flag, const char* value, Options& options) {
  if (value == nullptr) return false;
  if (flag == "--strategy") {
    const std::string v = value;
    if (v == "auto") {
      options.auto_strategy = true;
      options.strategy = Options{}.strategy;
    } else if (v == "pct" || v == "random-walk") {
      options.auto_strategy = false;
      options.strategy = v == "pct" ? Strategy::kPct : Strategy::kRandomWalk;
    } else {
      return false;
    }
    return true;
  }
  for (const NumberFlag& f : kFlags) {
    if (flag != f.name) continue;
    uint64_t v = 0;
    if (!ParseNumber(value, f.max, v)) return false;
    f.set(options, v);
    return true;
  }
  return false;
}

bool IsExtraOption(const std::string& flag) {
  if (flag == "--strategy") return true;
  for (const NumberFlag& f : kFlags) {
    if (flag == f.name) return true;
  }
  return false;
}

void SetCustomRootReplay(CustomRootReplay formatter) {
  g_custom_replay = formatter;
}

std::string CustomReplay(const Options& options) {
  if (g_custom_replay != nullptr) return g_custom_replay(options);
  // No harness said how: the seed and the options sim-run cannot take for a custom root.
  return "rerun the program that ran this root, with seed " + std::to_string(options.seed) +
         " (no replay formatter installed: sim::SetCustomRootReplay)";
}

}  // namespace lichen::sim

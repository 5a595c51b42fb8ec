#include "tools/sim/cli.h"
#include "workloads/sim_workloads.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lib/assert.h"
#include "lib/cpumask.h"
#include "platform/sim/replay.h"
#include "workloads/workloads.h"

namespace lichen::tools {

namespace {

void Usage() {
  std::fprintf(stderr,
               "flags: --workload NAME --cpus N[,N...] --seed S --seeds COUNT --scale K\n"
               "       --placement round-robin|local-first|least-loaded --no-steal --no-balance\n"
               "       --trace FILE --max-steps N --stall-one-in N --max-stall-ns NS\n"
               "       --weak-memory FLUSH_ONE_IN --quiet\n"
               "       any sim::Options field as platform/sim/replay.cc names it, e.g.\n"
               "       --local-first-threshold N --pct-depth D --strategy auto|pct|random-walk\n"
               "       --check-idle-balance 0|1 (replay lines print them when not default)\n"
               "workloads:");
  for (const workload::Workload& w : workload::All())
    std::fprintf(stderr, " %s", w.name);
  std::fprintf(stderr, "\n");
}

}  // namespace

bool ParseSimArgs(int argc, char** argv, SimArgs& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", flag.c_str());
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (flag == "--workload" && (v = value())) {
      args.workload = v;
    } else if (flag == "--cpus" && (v = value())) {
      args.cpus.clear();
      for (const char* p = v; *p != '\0';) {
        args.cpus.push_back(static_cast<uint32_t>(std::strtoul(p, const_cast<char**>(&p), 10)));
        if (*p == ',') ++p;
      }
    } else if (flag == "--seed" && (v = value())) {
      args.seed = std::strtoull(v, nullptr, 10);
    } else if (flag == "--seeds" && (v = value())) {
      args.seeds = std::strtoull(v, nullptr, 10);
    } else if (flag == "--scale" && (v = value())) {
      args.scale = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (flag == "--placement" && (v = value())) {
      const std::string p = v;
      if (p == "round-robin") {
        args.placement = sched::Placement::kRoundRobin;
      } else if (p == "local-first") {
        args.placement = sched::Placement::kLocalFirst;
      } else if (p == "least-loaded") {
        args.placement = sched::Placement::kLeastLoaded;
      } else {
        std::fprintf(stderr, "unknown placement %s\n", v);
        return false;
      }
    } else if (flag == "--no-steal") {
      args.steal = false;
    } else if (flag == "--no-balance") {
      args.balance = false;
    } else if (flag == "--trace" && (v = value())) {
      args.trace = v;
    } else if (flag == "--max-steps" && (v = value())) {
      args.max_steps = std::strtoull(v, nullptr, 10);
    } else if (flag == "--stall-one-in" && (v = value())) {
      args.stall_one_in = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (flag == "--max-stall-ns" && (v = value())) {
      args.max_stall_ns = std::strtoull(v, nullptr, 10);
    } else if (flag == "--weak-memory" && (v = value())) {
      args.store_flush_one_in = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (flag == "--quiet") {
      args.quiet = true;
    } else if (sim::IsExtraOption(flag) && (v = value())) {
      sim::Options scratch;
      if (!sim::SetExtraOption(flag, v, scratch)) {
        std::fprintf(stderr, "bad value for %s: %s\n", flag.c_str(), v);
        return false;
      }
      args.extra.emplace_back(flag, v);
    } else {
      if (v == nullptr &&
          (flag == "--workload" || flag == "--cpus" || flag == "--seed" || flag == "--seeds" ||
           flag == "--scale" || flag == "--placement" || flag == "--trace" ||
           flag == "--max-steps" || flag == "--stall-one-in" || flag == "--max-stall-ns" ||
           flag == "--weak-memory" || sim::IsExtraOption(flag))) {
        Usage();
        return false;
      }
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      Usage();
      return false;
    }
  }
  if (workload::Find(args.workload.c_str()) == nullptr) {
    std::fprintf(stderr, "unknown workload %s\n", args.workload.c_str());
    Usage();
    return false;
  }
  for (uint32_t n : args.cpus) {
    if (n < 1 || n > kMaxCpus) {
      std::fprintf(stderr, "--cpus must be 1..%u\n", kMaxCpus);
      return false;
    }
  }
  return !args.cpus.empty();
}

sim::Options OptionsFor(const SimArgs& args, uint32_t ncpus, uint64_t seed) {
  sim::Options options = sim::WorkloadOptions(args.workload.c_str(), ncpus, seed);
  options.sched.placement = args.placement;
  options.sched.steal = args.steal;
  options.sched.periodic_balance = args.balance;
  options.trace_path = args.trace;
  if (args.max_steps != 0) options.max_steps = args.max_steps;
  options.stall_one_in = args.stall_one_in;
  options.max_stall_ns = args.max_stall_ns;
  options.weak_memory = args.store_flush_one_in != 0;
  if (options.weak_memory) options.store_flush_one_in = args.store_flush_one_in;
  for (const auto& [flag, value] : args.extra) {
    // Checked by ParseSimArgs.
    const bool set = sim::SetExtraOption(flag, value.c_str(), options);
    LICHEN_ASSERT(set, "{} was checked when parsed", flag.c_str());
  }
  return options;
}

sim::Outcome RunNamed(const SimArgs& args) {
  return sim::RunWorkload(OptionsFor(args, args.cpus[0], args.seed), args.scale);
}

void PrintResult(const SimArgs& args, const sim::Outcome& result) {
  std::printf("workload %s, %u CPUs, seed %llu, placement %s%s%s\n", args.workload.c_str(),
              args.cpus[0], static_cast<unsigned long long>(args.seed),
              sched::PlacementName(args.placement), args.steal ? ", stealing" : "",
              args.balance ? ", balancing" : "");
  if (result.ok) {
    std::printf("result: ok\n");
  } else {
    std::printf("result: [%s] %s\n", sim::FailureName(result.kind), result.failure.c_str());
  }
  const uint64_t span = result.end_time_ns - result.start_time_ns;
  std::printf("virtual time %.3f ms, %llu steps, wake-to-run p50 %.1f us p99 %.1f us (%llu)\n",
              static_cast<double>(span) / 1e6, static_cast<unsigned long long>(result.steps),
              static_cast<double>(result.wake_latency_p50_ns) / 1e3,
              static_cast<double>(result.wake_latency_p99_ns) / 1e3,
              static_cast<unsigned long long>(result.wake_latency_samples));
  // Equal seeds give equal fingerprints: a change meant to be behaviour-neutral compares these.
  std::printf("fingerprint %016llx, end time %llu ns\n",
              static_cast<unsigned long long>(result.fingerprint),
              static_cast<unsigned long long>(result.end_time_ns));
  std::printf("%4s %9s %9s %8s %8s %8s %7s %7s %7s %6s\n", "cpu", "switches", "tasks-run",
              "ipi-sent", "ipi-recv", "messages", "steals", "migr-in", "preempt", "idle%");
  for (size_t i = 0; i < result.cpus.size(); ++i) {
    const sim::CpuReport& c = result.cpus[i];
    std::printf(
        "%4zu %9llu %9llu %8llu %8llu %8llu %7llu %7llu %7llu %5.1f%%\n", i,
        static_cast<unsigned long long>(c.context_switches),
        static_cast<unsigned long long>(c.tasks_run), static_cast<unsigned long long>(c.ipis_sent),
        static_cast<unsigned long long>(c.ipis_received),
        static_cast<unsigned long long>(c.messages), static_cast<unsigned long long>(c.steals),
        static_cast<unsigned long long>(c.migrations_in),
        static_cast<unsigned long long>(c.preemptions),
        span == 0 ? 0.0 : 100.0 * static_cast<double>(c.idle_ns) / static_cast<double>(span));
  }
  if (!result.ok) std::printf("replay: %s\n", result.replay.c_str());
  if (!args.trace.empty()) std::printf("trace written to %s\n", args.trace.c_str());
}

}  // namespace lichen::tools

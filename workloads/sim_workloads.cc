#include "workloads/sim_workloads.h"

#include "platform/sim/replay.h"
#include "workloads/workloads.h"

namespace lichen::sim {

Options WorkloadOptions(const char* name, uint32_t ncpus, uint64_t seed) {
  Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  options.workload = name;
  const workload::Workload* w = workload::Find(name);
  if (w != nullptr && w->pins_tasks) options.check_idle_balance = false;
  return options;
}

std::string WorkloadReplay(const Options& options, uint32_t scale) {
  const Options base = WorkloadOptions(options.workload.c_str(), options.ncpus, options.seed);
  std::string out = "sim-run --workload " + options.workload + " --cpus " +
                    std::to_string(options.ncpus) + " --seed " + std::to_string(options.seed);
  if (scale != 1) out += " --scale " + std::to_string(scale);
  out += " --placement ";
  out += sched::PlacementName(options.sched.placement);
  if (!options.sched.steal) out += " --no-steal";
  if (!options.sched.periodic_balance) out += " --no-balance";
  if (options.max_steps != base.max_steps)
    out += " --max-steps " + std::to_string(options.max_steps);
  if (options.stall_one_in != 0) out += " --stall-one-in " + std::to_string(options.stall_one_in);
  if (options.max_stall_ns != base.max_stall_ns) {
    out += " --max-stall-ns " + std::to_string(options.max_stall_ns);
  }
  if (options.weak_memory) out += " --weak-memory " + std::to_string(options.store_flush_one_in);
  out += ExtraOptionFlags(options, base);
  out += " --trace /tmp/lichen-trace.txt";
  return out;
}

Outcome RunWorkload(const Options& options, uint32_t scale) {
  struct Args {
    const workload::Workload* workload;
    workload::Params params;
  };
  Args args{workload::Find(options.workload.c_str()), workload::Params{scale, options.seed, true}};
  if (args.workload == nullptr) {
    Outcome result;
    result.seed = options.seed;
    result.kind = Failure::kNoSuchWorkload;
    result.failure = "no workload named '" + options.workload + "'";
    return result;
  }
  Outcome result = Run(
      options,
      [](void* p) {
        auto* a = static_cast<Args*>(p);
        a->workload->run(a->params);
      },
      &args);
  result.replay = WorkloadReplay(options, scale);
  return result;
}

}  // namespace lichen::sim

// ---- workloads/workloads.h for the simulator: CPU time is virtual time ----------------------

namespace lichen::workload {

void Burn(uint64_t ns) {
  sim::Compute(ns);
}

}  // namespace lichen::workload

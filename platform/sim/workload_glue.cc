// The glue between the simulator and what runs in it: named workloads (workloads/workloads.h)
// as roots, callable roots, and what task bodies call (Compute, WorkloadRandom, Fail).
#include <cstdio>
#include <functional>
#include <string>

#include "platform/sim/machine.h"
#include "platform/sim/replay.h"
#include "platform/sim/sim.h"
#include "workloads/workloads.h"

namespace lichen::sim {

Outcome Run(const Options& options, const std::function<void()>& root) {
  return Run(
      options, [](void* fn) { (*static_cast<const std::function<void()>*>(fn))(); },
      const_cast<std::function<void()>*>(&root));
}

const char* FailureName(Failure kind) {
  switch (kind) {
    case Failure::kNone:
      return "None";
    case Failure::kPanic:
      return "Panic";
    case Failure::kWorkloadCheck:
      return "WorkloadCheck";
    case Failure::kLostWakeup:
      return "LostWakeup";
    case Failure::kMessageWithoutIpi:
      return "MessageWithoutIpi";
    case Failure::kSleeperBesideFlag:
      return "SleeperBesideFlag";
    case Failure::kNoPreemption:
      return "NoPreemption";
    case Failure::kLateTimer:
      return "LateTimer";
    case Failure::kIdleBesideWaiting:
      return "IdleBesideWaiting";
    case Failure::kIdleWhileWorkWaits:
      return "IdleWhileWorkWaits";
    case Failure::kHang:
      return "Hang";
    case Failure::kDeadlock:
      return "Deadlock";
    case Failure::kStepBudget:
      return "StepBudget";
    case Failure::kTimeBudget:
      return "TimeBudget";
    case Failure::kTasksLeftAlive:
      return "TasksLeftAlive";
    case Failure::kNoSuchWorkload:
      return "NoSuchWorkload";
  }
  return "?";
}

Options WorkloadOptions(const char* name, uint32_t ncpus, uint64_t seed) {
  Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  options.workload = name;
  const workload::Workload* w = workload::Find(name);
  if (w != nullptr && w->pins_tasks) options.check_idle_balance = false;
  return options;
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

void Compute(uint64_t ns) {
  LICHEN_ASSERT(g_sim != nullptr && g_sim->current != kNoCpu, "Compute() outside a simulation");
  Occupy(ns);
}

uint64_t WorkloadRandom() {
  return g_sim->workload_rng.Next();
}

uint32_t CurrentVirtualCpu() {
  return g_sim->current;
}

bool Active() {
  return g_sim != nullptr;
}

void Fail(const char* message) {
  char where[160];
  Describe(g_sim->current, where, sizeof(where));
  char text[1024];
  std::snprintf(text, sizeof(text), "workload check failed on %s: %s", where, message);
  FailHere(Failure::kWorkloadCheck, text);
}

}  // namespace lichen::sim

// ---- workloads/workloads.h for the simulator: CPU time is virtual time ----------------------

namespace lichen::workload {

void Burn(uint64_t ns) {
  sim::Compute(ns);
}

}  // namespace lichen::workload

// The glue between the simulator and what runs in it: callable roots, and what task bodies
// call (Compute, WorkloadRandom, Fail). Named workloads: workloads/sim_workloads.cc.
#include <cstdio>
#include <functional>
#include <string>

#include "platform/sim/machine.h"
#include "platform/sim/replay.h"
#include "platform/sim/sim.h"

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

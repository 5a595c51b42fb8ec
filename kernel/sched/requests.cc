// Remote requests: how does a new nice level or affinity reach the CPU that owns the task?
//
// Owns SetNice and SetAffinity. Only the owning CPU touches a task's run-queue entry, so they
// record the request in the task (requested_nice, affinity_bits) and have the owner apply it
// (ApplyRequestsHere): by a call on that CPU, or inline when it is this one. A sleeping task
// needs nothing: its wakeup applies both (SelectCpu reads the affinity, EnqueueLocal the nice
// level).
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/sched.h"
#include "kernel/smp/messenger.h"

namespace lichen::sched {

namespace {

// Runs on the CPU that owns `task` (or thinks it does), IRQs masked: applies the task's
// requested nice and affinity if the task is queued or running here. False when it is not
// (it moved, or went to sleep): the caller looks again.
bool ApplyRequestsHere(Task& task, CpuLocal& cpu) {
  if (task.cpu.Load(std::memory_order_acquire) != cpu.id || !task.se.on_rq) return false;
  const uint64_t now = platform::Now();
  const int nice = task.requested_nice.Load(std::memory_order_acquire);
  if (nice != task.se.nice) {
    cpu.rq.Reweight(task.se, nice, now);
    task.published_nice.Store(nice, std::memory_order_relaxed);
    Publish(cpu);
  }
  if (!task.Affinity().Test(cpu.id)) {
    if (&task == cpu.current) {
      SetNeedResched(cpu, now);  // FinishSwitch moves it once it is switched out
    } else {
      MigrateOut(cpu, task, SelectCpu(task, Transit::kMigrated, cpu.id), Transit::kMigrated, now);
    }
  } else if (&task != cpu.current && cpu.rq.NrQueued() >= 2) {
    // It waits here and may have become stealable by more CPUs: thieves that were refused
    // should ask again, and an idle one is woken to do so.
    Shared(cpu.id).enqueue_generation.AddRelaxedOwner(1);
    KickIdleCpu(cpu, task.Affinity());
  }
  return true;
}

// Makes the CPU that owns `task` apply its requested nice and affinity. A sleeping task needs
// nothing: its next enqueue applies them.
void PushRequestsToOwner(Task& task) {
  for (;;) {
    const TaskState state = task.state.Load(std::memory_order_acquire);
    if (state == TaskState::kSleeping || state == TaskState::kExited) return;
    const uint32_t owner = task.cpu.Load(std::memory_order_acquire);
    struct Call {
      Task* task;
      bool applied;
    } call{&task, false};
    auto apply = [](void* p) TA_NO_THREAD_SAFETY_ANALYSIS {
      // On `owner`, IRQs masked (its mailbox drain, or inline below).
      auto* c = static_cast<Call*>(p);
      c->applied = ApplyRequestsHere(*c->task, *ThisCpuLocal(AssumeIrqsOff()));
    };
    bool local = false;
    {
      IrqGuard guard;
      if (owner == platform::ThisCpu()) {
        local = true;
        apply(&call);
      }
    }
    if (!local) CallOn(owner, apply, &call);
    if (call.applied) break;
  }
  PreemptPoint();  // the caller may have just made itself leave this CPU
}

}  // namespace

void SetNice(Task* task, int nice) {
  nice = nice < -20 ? -20 : (nice > 19 ? 19 : nice);
  task->requested_nice.Store(nice, std::memory_order_release);
  PushRequestsToOwner(*task);
}

void SetSliceNs(Task* task, uint64_t slice_ns) {
  const uint64_t want = slice_ns == 0 ? 0 : ClampSliceNs(slice_ns);
  task->requested_slice_ns.Store(want, std::memory_order_relaxed);
  // The calling task is current on this CPU: it may change its own slice at once (a task
  // alone on its CPU might not be switched in again for a long time).
  IrqGuard guard;
  auto cpu = ThisCpuLocal(guard.token());
  if (cpu->current == task) task->se.SetSliceNs(want);
}

Result<void> SetAffinity(Task* task, CpuMask affinity) {
  if ((affinity & OnlineCpus()).Empty() || task->is_idle) return Error::kInvalidArgument;
  task->affinity_bits.Store(affinity.bits(), std::memory_order_release);
  PushRequestsToOwner(*task);
  return {};
}

}  // namespace lichen::sched

// The per-CPU scheduler: switching, blocking and waking, timers, idle.
//
// Reading guide. Everything that touches a CpuLocal runs on its own CPU with IRQs masked
// (TA_REQ(g_irqs_off) / an IrqGuard). ScheduleLocked() is the one place that switches
// tasks; FinishSwitch() runs right after every switch, on the new task's stack, and settles
// the task that was switched away from (it is only then that a blocking task becomes
// kSleeping and visible to wakers, see task.h). Cross-CPU work is done by SendToCpu() and
// the handlers the messenger calls (ReceiveTask, OnStealRequest, ...). Balancing lives in
// balance.cc, placement in placement.cc.
#include <array>
#include <new>

#include "kernel/cpu.h"
#include "kernel/debug.h"
#include "kernel/irq.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/smp/messenger.h"
#include "kernel/sync/lockdep.h"
#include "kernel/trace.h"
#include "lib/assert.h"
#include "lib/container_of.h"
#include "lib/log.h"
#include "lib/no_destroy.h"

namespace lichen::sched {

// ---- Bookkeeping helpers (internal.h) -------------------------------------------------------

void Publish(CpuLocal& cpu) {
  CpuShared& shared = Shared(cpu.id);
  shared.nr_running.Store(cpu.rq.NrQueued(), LICHEN_FAULT(relaxed_idle_publication)
                                                 ? std::memory_order_relaxed
                                                 : std::memory_order_seq_cst);  // see IdleLoop
  shared.load.Store(cpu.rq.Load(), std::memory_order_relaxed);
  const SchedEntity* oldest = cpu.rq.OldestWaiting();
  shared.oldest_wait_start_ns.Store(oldest != nullptr ? oldest->wait_start_ns : 0,
                                    std::memory_order_relaxed);
#if defined(LICHEN_HOST)
  // Only the simulator reads it: the kernel image does not pay for the walk.
  if constexpr (kDebugChecks) {
    uint64_t allowed = 0;
    for (SchedEntity* se = cpu.rq.OldestWaiting(); se != nullptr; se = cpu.rq.NextWaiting(*se))
      allowed |= TaskOf(*se).Affinity().bits();
    shared.waiting_affinity.Store(allowed, std::memory_order_relaxed);
  }
#endif
}

void SetNeedResched(CpuLocal& cpu, uint64_t now_ns) {
  if (cpu.need_resched) return;
  cpu.need_resched = true;
  cpu.resched_requested_ns = now_ns;
}

void DebugNoteQueued(Task& task, uint32_t cpu) {
  if constexpr (!kDebugChecks) return;
  uint32_t expected = Task::kNotOnCpu;
  if (!task.debug_queued_on.CompareExchange(expected, cpu, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
    LICHEN_PANIC("task {} '{}' enqueued on CPU {} while queued on CPU {}", task.id, task.name, cpu,
                 expected);
  }
}

void DebugNoteDequeued(Task& task, uint32_t cpu) {
  if constexpr (!kDebugChecks) return;
  uint32_t expected = cpu;
  if (!task.debug_queued_on.CompareExchange(expected, Task::kNotOnCpu, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
    LICHEN_PANIC("task {} '{}' dequeued on CPU {} but queued on CPU {}", task.id, task.name, cpu,
                 expected);
  }
}

void EnqueueLocal(CpuLocal& cpu, Task& task, uint64_t now_ns) {
  LICHEN_DEBUG_ASSERT(task.cpu.Load(std::memory_order_relaxed) == cpu.id,
                      "task {} for CPU {} enqueued on CPU {}", task.id,
                      task.cpu.Load(std::memory_order_relaxed), cpu.id);
  if constexpr (kDebugChecks) {
    // Runnable; or preempted between PrepareToBlock() and Block() and then migrated.
    const TaskState state = task.state.Load(std::memory_order_relaxed);
    const bool migrating = task.transit == Transit::kMigrated || task.transit == Transit::kStolen;
    LICHEN_ASSERT(state == TaskState::kRunnable ||
                      (migrating &&
                       (state == TaskState::kBlocking || state == TaskState::kWokenWhileRunning)),
                  "enqueue of task {} ({}) in state {}", task.id, static_cast<int>(task.transit),
                  TaskStateName(state));
  }
  DebugNoteQueued(task, cpu.id);
  // A nice level requested while the task was asleep or travelling takes effect now.
  const int nice = task.requested_nice.Load(std::memory_order_acquire);
  if (nice != task.se.nice) {
    task.se.SetNice(nice);
    task.published_nice.Store(nice, std::memory_order_relaxed);
  }
  EnqueueFlags flags = kEnqueueNone;
  CpuCounters& counters = Shared(cpu.id).counters;
  switch (task.transit) {
    case Transit::kNew:
      flags = kEnqueueNew;
      break;
    case Transit::kWakeup:
      flags = kEnqueueWakeup;
      counters.wakeups.AddRelaxedOwner(1);
      break;
    case Transit::kStolen:
      cpu.steal_outstanding = false;
      Shared(cpu.id).stealing.Store(false, std::memory_order_relaxed);
      counters.steals.AddRelaxedOwner(1);
      [[fallthrough]];
    case Transit::kMigrated:
      flags = kEnqueueMigrated;
      counters.migrations_in.AddRelaxedOwner(1);
      break;
  }
  cpu.rq.Enqueue(task.se, flags, now_ns);
  Shared(cpu.id).enqueue_generation.AddRelaxedOwner(1);
  Publish(cpu);
  trace::Record(cpu.id, trace::Kind::kEnqueue, task.id, static_cast<uint64_t>(task.transit));
  if (cpu.rq.ShouldPreempt(task.se, now_ns)) SetNeedResched(cpu, now_ns);
  NoteSchedulingDecision(cpu, now_ns);
  if (!cpu.current->is_idle && !cpu.slice_timer.queued) ArmSliceTimer(cpu, now_ns);
  ArmBalanceTimer(cpu, now_ns);
  ProgramTimer(cpu);
  // A task now waits here: an idle CPU could take it, but it learns about work only when it
  // goes idle. Wake one (its idle loop then asks us for work). Two queued means one waits
  // whether this CPU runs a task or is idle and about to run the other: an idle CPU that
  // drains a burst of spawns from its mailbox must kick too, or the burst stays here.
  if (cpu.rq.NrQueued() == 2) KickIdleCpu(cpu, task.Affinity());
}

void MigrateOut(CpuLocal& cpu, Task& task, uint32_t target, Transit why, uint64_t now_ns) {
  LICHEN_DEBUG_ASSERT(&task != cpu.current, "migrating the running task");
  cpu.rq.Dequeue(task.se, kDequeueMigrate, now_ns);
  DebugNoteDequeued(task, cpu.id);
  SendAway(cpu, task, target, why, now_ns);
}

void SendAway(CpuLocal& cpu, Task& task, uint32_t target, Transit why, uint64_t now_ns) {
  Publish(cpu);
  task.last_migrated_ns = now_ns;
  task.transit = why;
  task.cpu.Store(target, std::memory_order_relaxed);
  Shared(cpu.id).counters.migrations_out.AddRelaxedOwner(1);
  trace::Record(cpu.id, trace::Kind::kMigrate, task.id, target, static_cast<uint8_t>(why));
  smp::PostTask(target, task);
  if (!cpu.current->is_idle) ArmSliceTimer(cpu, now_ns);
  ProgramTimer(cpu);
}

void FinishSwitch(IrqsOff irqs_off) {
  Task* from = nullptr;
  {
    auto cpu = ThisCpuLocal(irqs_off);
    from = cpu->switch_from;
    const bool dequeued = cpu->switch_from_dequeued;
    const bool migrating = cpu->switch_from_migrating;
    cpu->switch_from = nullptr;
    cpu->switch_from_dequeued = false;
    cpu->switch_from_migrating = false;
    if (from == nullptr) return;
    if constexpr (kDebugChecks) {
      uint32_t expected = cpu->id;
      LICHEN_ASSERT(
          from->debug_running_on.CompareExchange(
              expected, Task::kNotOnCpu, std::memory_order_acq_rel, std::memory_order_acquire),
          "task {} switched out on CPU {} but running on CPU {}", from->id, cpu->id, expected);
    }
    if (from->is_idle || !dequeued) return;  // preempted or yielding: still queued here
    if (migrating) {
      // Its affinity no longer allows this CPU (SetAffinity while it ran); now that its
      // registers are saved, another CPU may run it.
      SendAway(*cpu, *from, SelectCpu(*from, Transit::kMigrated, cpu->id), Transit::kMigrated,
               platform::Now());
      return;
    }
    TaskState state = from->state.Load(std::memory_order_acquire);
    if (state == TaskState::kBlocking) {
      // Its registers are saved now: publish it as sleeping, for wakers to take.
      if (from->state.CompareExchange(state, TaskState::kSleeping, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return;
      }
      // A wakeup came while it was switching out: state is now kWokenWhileRunning.
    }
    if (state == TaskState::kWokenWhileRunning) {
      from->state.Store(TaskState::kRunnable, std::memory_order_relaxed);
      from->transit = Transit::kWakeup;
      EnqueueLocal(*cpu, *from, platform::Now());
      return;
    }
    LICHEN_ASSERT(state == TaskState::kExiting, "task {} left its queue in state {}", from->id,
                  TaskStateName(state));
    from->state.Store(TaskState::kExited, std::memory_order_release);
    trace::Record(cpu->id, trace::Kind::kExit, from->id, 0);
  }
  // No CPU runs on its stack any more: the joiner may free it, or we do if it is detached.
  if (from->detached) {
    FreeTask(from);
  } else {
    from->exited.Complete();
  }
}

void ScheduleLocked(IrqsOff irqs_off, SwitchReason reason) {
  if constexpr (kDebugChecks) {
    const char* held = lockdep::InnermostHeld();
    LICHEN_ASSERT(held == nullptr, "spinlock '{}' held across schedule()", held);
  }
  Task* prev = nullptr;
  Task* next = nullptr;
  {
    auto ref = ThisCpuLocal(irqs_off);
    CpuLocal& cpu = *ref;
    const uint64_t now = platform::Now();
    prev = cpu.current;
    bool prev_dequeued = false;
    trace::PrevState prev_state =
        prev->is_idle ? trace::PrevState::kIdle : trace::PrevState::kRunnable;
    if (!prev->is_idle) {
      const TaskState state = prev->state.Load(std::memory_order_acquire);
      switch (state) {
        case TaskState::kRunning:
          break;
        case TaskState::kWokenWhileRunning:
          // Woken before it got to sleep. Voluntary: it keeps running (wakers ignore this
          // state, so a plain store is enough). Preempted: it is still on its way to Block().
          if (reason == SwitchReason::kVoluntary) {
            prev->state.Store(TaskState::kRunning, std::memory_order_relaxed);
          }
          break;
        case TaskState::kBlocking:
          if (reason == SwitchReason::kPreempt) break;  // not at its sleep point yet
          [[fallthrough]];
        case TaskState::kExiting:
          cpu.rq.Dequeue(prev->se, kDequeueSleep, now);
          DebugNoteDequeued(*prev, cpu.id);
          prev_dequeued = true;
          prev_state = state == TaskState::kExiting ? trace::PrevState::kExited
                                                    : trace::PrevState::kBlocking;
          break;
        default:
          LICHEN_PANIC("schedule() from task {} in state {}", prev->id, TaskStateName(state));
      }
    }
    bool prev_migrating = false;
    if (!prev->is_idle && !prev_dequeued && !prev->Affinity().Test(cpu.id)) {
      // No longer allowed here: it leaves the queue now and FinishSwitch sends it on.
      cpu.rq.Dequeue(prev->se, kDequeueMigrate, now);
      DebugNoteDequeued(*prev, cpu.id);
      prev_dequeued = prev_migrating = true;
      prev_state = trace::PrevState::kMigrating;
      TaskState running = TaskState::kRunning;
      prev->state.CompareExchange(running, TaskState::kRunnable, std::memory_order_relaxed,
                                  std::memory_order_relaxed);
    }
    sched::SchedEntity* se = cpu.rq.PickNext(now);
    next = se != nullptr ? &TaskOf(*se) : cpu.idle;
    NoteSchedulingDecision(cpu, now);  // notes a pending preemption's lateness: clear it after
    cpu.need_resched = false;
    cpu.rq.SetCurrent(se, now);
    if (!prev->is_idle) {
      prev->published_runtime_ns.Store(prev->se.sum_exec_ns, std::memory_order_relaxed);
    }
    if (next == prev) {
      ArmSliceTimer(cpu, now);
      ProgramTimer(cpu);
      Publish(cpu);
      return;
    }
    CpuShared& shared = Shared(cpu.id);
    if (!prev->is_idle && !prev_dequeued) {
      // It waits in the queue again. kRunning becomes kRunnable (wakers ignore both); a task
      // preempted on its way to Block() keeps kBlocking / kWokenWhileRunning.
      TaskState running = TaskState::kRunning;
      prev->state.CompareExchange(running, TaskState::kRunnable, std::memory_order_relaxed,
                                  std::memory_order_relaxed);
      if (reason == SwitchReason::kPreempt) shared.counters.preemptions.AddRelaxedOwner(1);
    }
    shared.counters.context_switches.AddRelaxedOwner(1);
    if (!next->is_idle) {
      shared.counters.tasks_run.AddRelaxedOwner(1);
      TaskState runnable = TaskState::kRunnable;  // (kBlocking et al. stay as they are)
      next->state.CompareExchange(runnable, TaskState::kRunning, std::memory_order_relaxed,
                                  std::memory_order_relaxed);
      next->published_switches.FetchAdd(1, std::memory_order_relaxed);
      RecordWakeLatency(*next, now);
    }
    if constexpr (kDebugChecks) {
      uint32_t expected = Task::kNotOnCpu;
      LICHEN_ASSERT(next->debug_running_on.CompareExchange(
                        expected, cpu.id, std::memory_order_acq_rel, std::memory_order_acquire),
                    "task {} '{}' switched in on CPU {} while running on CPU {}", next->id,
                    next->name, cpu.id, expected);
      cpu.rq.CheckInvariants();
    }
    cpu.current = next;
    cpu.stay_lateness_ns = 0;  // a new stay
    cpu.switch_from = prev;
    cpu.switch_from_dequeued = prev_dequeued;
    cpu.switch_from_migrating = prev_migrating;
    shared.current_task_id.Store(next->id, std::memory_order_relaxed);
    ArmSliceTimer(cpu, now);
    ProgramTimer(cpu);
    Publish(cpu);
    trace::Record(cpu.id, trace::Kind::kSwitch, prev->id, next->id,
                  static_cast<uint8_t>(prev_state));
  }
  if constexpr (kDebugChecks) {
    // A per-CPU borrow held across a switch would be used later on whatever CPU the task
    // resumes on.
    LICHEN_ASSERT(!ThisCpuLocalBorrowed(), "per-CPU state borrowed across a context switch");
  }
  platform::SwitchContext(prev->context, next->context);
  // Back in `prev`, maybe much later and on another CPU.
  FinishSwitch(irqs_off);
}

// ---- Public API -----------------------------------------------------------------------------

Task* Current() {
  IrqGuard guard;
  return ThisCpuLocal(guard.token())->current;
}

uint64_t CurrentRuntimeNs() {
  IrqGuard guard;
  auto cpu = ThisCpuLocal(guard.token());
  if (cpu->current->is_idle) return 0;
  cpu->rq.UpdateCurrent(platform::Now());
  return cpu->current->se.sum_exec_ns;
}

void Schedule() {
  IrqGuard guard;
  ScheduleLocked(guard.token(), SwitchReason::kVoluntary);
}

void PreemptPoint() {
  // Only from a context that may switch: IRQs on (so no spinlock held) and not in a handler
  // (the handler's exit path reschedules instead).
  if (platform::IrqsMasked() || irq::InHandler()) return;
  IrqGuard guard;
  bool resched = false;
  {
    auto cpu = ThisCpuLocal(guard.token());
    resched = cpu->need_resched;
  }
  if (resched) ScheduleLocked(guard.token(), SwitchReason::kPreempt);
}

void RequestReschedule(IrqsOff irqs_off) {
  SetNeedResched(*ThisCpuLocal(irqs_off), platform::Now());
}

void OnInterruptExit(IrqsOff irqs_off) {
  bool resched = false;
  {
    auto cpu = ThisCpuLocal(irqs_off);
    resched = cpu->need_resched;
  }
  if (resched) ScheduleLocked(irqs_off, SwitchReason::kPreempt);
}

void SendToCpu(Task& task, Transit why) {
  {
    IrqGuard guard;
    const uint64_t now = platform::Now();
    const uint32_t self = platform::ThisCpu();
    const uint32_t target = SelectCpu(task, why, self);
    task.transit = why;
    task.runnable_since_ns = now;
    task.cpu.Store(target, std::memory_order_relaxed);  // published by the mailbox push
    if (why == Transit::kWakeup) trace::Record(self, trace::Kind::kWakeup, task.id, target);
    if (why == Transit::kNew) trace::RecordSpawn(self, task.id, task.name, target);
    if (target == self) {
      // Local fast path: no message, no IPI.
      EnqueueLocal(*ThisCpuLocal(guard.token()), task, now);
    } else {
      smp::PostTask(target, task);
    }
  }
  PreemptPoint();
}

void ReceiveTask(Task& task, IrqsOff irqs_off) {
  auto cpu = ThisCpuLocal(irqs_off);
  // No longer in flight (the weight cannot have changed on the way: SetNice only records a
  // request, applied by EnqueueLocal below).
  Shared(cpu->id).incoming_tasks.FetchSub(1, std::memory_order_relaxed);
  Shared(cpu->id).incoming_load.FetchSub(task.se.weight, std::memory_order_relaxed);
  EnqueueLocal(*cpu, task, platform::Now());
}

void Yield() {
  IrqGuard guard;
  if (LICHEN_FAULT(yield_holds_sched_lock)) {
    YieldWithSchedLockForFault(guard.token());
    return;
  }
  {
    auto cpu = ThisCpuLocal(guard.token());
    if (!cpu->current->is_idle) cpu->rq.YieldCurrent(platform::Now());
  }
  ScheduleLocked(guard.token(), SwitchReason::kVoluntary);
}

}  // namespace lichen::sched

// Run queues: how does a runnable task get onto a CPU's queue, or off it to another CPU?
//
// Owns EnqueueLocal, the one way onto a queue (it applies a pending nice request, decides
// wakeup preemption and kicks an idle CPU when a task waits); the ways between CPUs (SendToCpu
// for new and woken tasks, MigrateOut and SendAway for queued ones, ReceiveTask at the other
// end); what a CPU publishes about its queue for other CPUs to read (Publish); and the debug
// check that a task is queued on one CPU at most. Which CPU a task goes to is placement.cc's
// decision; when queued tasks move, balance.cc's.
#include "kernel/base/debug.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/messages.h"
#include "kernel/sched/orders.h"
#include "kernel/sched/sched.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"

namespace lichen::sched {

void Publish(CpuLocal& cpu) {
  CpuShared& shared = Shared(cpu.id);
  shared.nr_running.Store(cpu.rq.NrQueued(), LICHEN_FAULT(relaxed_idle_publication)
                                                 ? std::memory_order_relaxed
                                                 : orders::kPublishNrRunning);
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
  PostTask(target, task);
  if (!cpu.current->is_idle) ArmSliceTimer(cpu, now_ns);
  ProgramTimer(cpu);
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
      PostTask(target, task);
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

}  // namespace lichen::sched

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

#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/lock/lockdep.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/messages.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"
#include "lib/container_of.h"
#include "lib/log.h"
#include "lib/no_destroy.h"

namespace lichen {
LockClass g_task_join_class("sched.task_join", LockRank::kTaskJoin);
}  // namespace lichen

namespace lichen::sched {

namespace {

NoDestroy<std::array<Task, kMaxCpus>> g_idle_tasks;
Atomic<uint64_t> g_next_task_id{1};
// The most lateness any CPU has charged to one task during one stay on it (the maximum of
// every CpuLocal::stay_lateness_ns): lag travels with migrating tasks, so a queue's lag bound
// depends on every CPU's lateness.
Atomic<uint64_t> g_worst_stay_lateness_ns{0};
uint32_t g_ncpus = 1;

// The page order holding `bytes` of stack.
uint32_t StackOrder(size_t bytes) {
  uint32_t order = 0;
  while ((size_t{4096} << order) < bytes)
    ++order;
  return order;
}

// Copies at most sizeof(name)-1 characters.
void SetName(Task& task, const char* name) {
  size_t i = 0;
  for (; name != nullptr && name[i] != '\0' && i + 1 < sizeof(task.name); ++i) {
    task.name[i] = name[i];
  }
  task.name[i] = '\0';
}

// Frees a task that no CPU uses any more (exited and switched away from for good).
void FreeTask(Task* task) {
  registry::Remove(*task);
  mm::Pages().FreePages(reinterpret_cast<uintptr_t>(task->stack), StackOrder(task->stack_size));
  mm::KernelHeap().Delete(task);
}

void OnSliceTimer(sched::TimerEvent& event, CpuLocal& cpu);

// The first code every spawned task runs (platform::InitContext's entry).
void TaskTrampoline(void* arg) {
  Task* task = static_cast<Task*>(arg);
  FinishSwitch(AssumeIrqsOff());
  platform::RestoreIrqs(platform::IrqState{false});
  task->entry(task->arg);
  Exit();
}

}  // namespace

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

void ProgramTimer(CpuLocal& cpu) {
  const uint64_t next = cpu.timers.Earliest();
#if defined(LICHEN_HOST)
  // For the simulator's late-timer invariant: when the earliest event is due.
  if constexpr (kDebugChecks) Shared(cpu.id).next_timer_ns.Store(next, std::memory_order_relaxed);
#endif
  if (next == cpu.armed_deadline_ns) return;
  cpu.armed_deadline_ns = next;
  if (next == time::kNever) {
    platform::DisarmTimer();
  } else {
    platform::ArmTimer(LICHEN_FAULT(late_timer) ? next + 5'000'000 : next);
  }
}

void ArmSliceTimer(CpuLocal& cpu, uint64_t now_ns) {
  // A slice timer only matters when another task could go first: with one runnable task the
  // CPU runs it tick-free until something is enqueued (EnqueueLocal re-arms then).
  if (cpu.current->is_idle || cpu.rq.NrQueued() < 2) {
    cpu.timers.Cancel(cpu.slice_timer);
    return;
  }
  // The next moment the pick can change: the running task's deadline, or earlier, when a task
  // with an earlier deadline becomes eligible once the running one's protection is over.
  const uint64_t ns = cpu.rq.NsUntilDecision(now_ns);
  if (ns == kNoDeadline) {
    cpu.timers.Cancel(cpu.slice_timer);
    return;
  }
  if (LICHEN_FAULT(global_slice_events)) {
    ArmGlobalSliceEventForFault(cpu, now_ns + ns);
    return;
  }
  // Re-arming for the same moment (most enqueues and switches do) is not worth an event.
  if (!cpu.slice_timer.queued || cpu.slice_timer.deadline_ns != now_ns + ns) {
    trace::Record(cpu.id, trace::Kind::kTimerArmed, now_ns + ns, cpu.current->id,
                  static_cast<uint8_t>(trace::TimerKind::kSlice));
  }
  cpu.timers.Add(cpu.slice_timer, now_ns + ns);
}

void NoteSchedulingDecision(CpuLocal& cpu, uint64_t now_ns) {
  Shared(cpu.id).last_decision_ns.Store(now_ns, std::memory_order_relaxed);
  NoteOverdue(cpu, now_ns);
  CheckLagBounds(cpu);
}

void NoteOverdue(CpuLocal& cpu, uint64_t now_ns) {
  // A timer event that is due but has not fired yet (a slice expiry, a sleeper's wakeup, the
  // balance: its interrupt has not come, or the handler has not reached it), and a preemption
  // decided but not yet carried out (this CPU had IRQs masked, or its vCPU did not run): the
  // current task is charged for the wait either way.
  const uint64_t earliest = cpu.timers.Earliest();
  if (earliest != time::kNever && now_ns > earliest) NoteLateness(cpu, now_ns - earliest);
  if (cpu.need_resched && now_ns > cpu.resched_requested_ns) {
    NoteLateness(cpu, now_ns - cpu.resched_requested_ns);
  }
}

void SetNeedResched(CpuLocal& cpu, uint64_t now_ns) {
  if (cpu.need_resched) return;
  cpu.need_resched = true;
  cpu.resched_requested_ns = now_ns;
}

void NoteLateness(CpuLocal& cpu, uint64_t late_ns) {
  // Consecutive late interrupts all charge the same running task, so lateness adds up over
  // its stay. (A stall noted by several paths -- interrupt entry, the event, the decision --
  // is counted more than once: the bound only gets looser, and only after a stall.)
  cpu.stay_lateness_ns += late_ns;
  uint64_t worst = g_worst_stay_lateness_ns.Load(std::memory_order_relaxed);
  while (cpu.stay_lateness_ns > worst &&
         !g_worst_stay_lateness_ns.CompareExchange(
             worst, cpu.stay_lateness_ns, std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
  if (late_ns <= cpu.worst_lateness_ns) return;
  cpu.worst_lateness_ns = late_ns;
  Shared(cpu.id).worst_lateness_ns.Store(late_ns, std::memory_order_relaxed);
}

uint64_t WorstLatenessNs(uint32_t cpu) {
  return Shared(cpu).worst_lateness_ns.Load(std::memory_order_relaxed);
}

void CheckLagBounds(CpuLocal& cpu) {
  if constexpr (!kDebugChecks) return;
  // EEVDF keeps every task's lag within about one request (Stoica & Abdel-Wahab:
  // -r_max < lag < max(r_max, q), where q is how late a decision can come). Waking tasks come
  // back with up to two slices of saved lag and the current task is protected for a slice, so
  // allow three of the largest slice, two ticks, and twice the most lateness any CPU has
  // charged to one task in one stay (soak runs with machine stalls saw two stalls in a row hit
  // the same task): a late interrupt charges the current task and the others are owed as much, and
  // those lags travel with tasks that migrate (clamped to two slices each, but every arrival
  // carrying owed time pushes the others' lags down). In the simulator lateness is a
  // microsecond unless machine stalls are on; under QEMU on an oversubscribed host, tens of
  // ms.
  uint64_t max_slice = 0;
  SchedEntity* curr = cpu.rq.Current();
  if (curr != nullptr) max_slice = curr->slice_ns;
  for (SchedEntity* se = cpu.rq.OldestWaiting(); se != nullptr; se = cpu.rq.NextWaiting(*se)) {
    if (se->slice_ns > max_slice) max_slice = se->slice_ns;
  }
  const uint64_t lateness = LICHEN_FAULT(lag_bound_ignores_lateness)
                                ? 0
                                : g_worst_stay_lateness_ns.Load(std::memory_order_relaxed);
  const int64_t bound = static_cast<int64_t>(3 * max_slice + 2 * kTickNs + 2 * lateness);
  auto check = [&](SchedEntity& se) {
    const int64_t lag_ns = cpu.rq.Lag(se) / static_cast<int64_t>(kNice0Weight);
    LICHEN_ASSERT(lag_ns <= bound && lag_ns >= -bound,
                  "EEVDF lag bound broken on CPU {}: task {} has lag {} ns (bound {} ns, weight "
                  "{}, {} queued)",
                  cpu.id, TaskOf(se).id, lag_ns, bound, se.weight, cpu.rq.NrQueued());
  };
  if (curr != nullptr) check(*curr);
  for (SchedEntity* se = cpu.rq.OldestWaiting(); se != nullptr; se = cpu.rq.NextWaiting(*se)) {
    check(*se);
  }
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

void DebugNoteWaitFlag(Task& task, const Atomic<bool>* flag) {
#if defined(LICHEN_HOST)
  if constexpr (kDebugChecks) task.debug_wait_flag.Store(flag, std::memory_order_relaxed);
#else
  (void)task;
  (void)flag;
#endif
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
    LockGuard<SpinLock> guard(from->join_lock, irqs_off);
    from->exit_done = true;
    if (from->joiner != nullptr) Wake(from->joiner);
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
    LICHEN_ASSERT(!AnyPerCpuBorrowedHere(), "per-CPU state borrowed across a context switch");
    lockdep::SwitchTask(&next->held_locks);
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

void OnInterruptExit(IrqsOff irqs_off) {
  bool resched = false;
  {
    auto cpu = ThisCpuLocal(irqs_off);
    resched = cpu->need_resched;
  }
  if (resched) ScheduleLocked(irqs_off, SwitchReason::kPreempt);
}

void PrepareToBlock() {
  Task* self = Current();
  // Only the task itself leaves kRunning, and wakers ignore kRunning. seq_cst, not release:
  // this store and the caller's next load (its condition re-check) pair with a waker's store
  // of the condition and its load of this state (after Wake()'s full barrier). That is a
  // store-buffering pair, and only seq_cst on both sides keeps the store before the later
  // load; release orders earlier accesses before the store, never the store before a load.
  self->state.Store(TaskState::kBlocking, std::memory_order_seq_cst);
}

void CancelBlock() {
  Task* self = Current();
  TaskState state = TaskState::kBlocking;
  if (!self->state.CompareExchange(state, TaskState::kRunning, std::memory_order_acq_rel,
                                   std::memory_order_acquire)) {
    LICHEN_ASSERT(state == TaskState::kWokenWhileRunning, "CancelBlock in state {}",
                  TaskStateName(state));
    self->state.Store(TaskState::kRunning, std::memory_order_relaxed);
  }
}

void Block() {
  Schedule();
}

bool Wake(Task* task) {
  // The waker made the sleeper's condition true just before (CallOn's done, a wait's deadline): a
  // full barrier orders that store before this load of the state, as PrepareToBlock's seq_cst
  // store orders kBlocking before the sleeper's load of the condition. Without it the two
  // form a store-buffering pair that may both read the old value: the waker sees kRunning and
  // leaves, the sleeper sees no condition and blocks for good (Linux: the smp_mb in
  // try_to_wake_up). Found by the simulator's store buffers on CallOn.
  if (!LICHEN_FAULT(wake_without_barrier)) ThreadFence(std::memory_order_seq_cst);
  TaskState state = task->state.Load(std::memory_order_acquire);
  for (;;) {
    switch (state) {
      case TaskState::kBlocking:
        if (task->state.CompareExchange(state, TaskState::kWokenWhileRunning,
                                        std::memory_order_acq_rel, std::memory_order_acquire)) {
          return true;
        }
        continue;  // `state` holds the new value
      case TaskState::kSleeping:
        if (task->state.CompareExchange(state, TaskState::kRunnable, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
          // We own it now: nobody else can wake or enqueue it.
          SendToCpu(*task, Transit::kWakeup);
          return true;
        }
        continue;
      default:
        return false;  // already awake (or exited)
    }
  }
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

Result<Task*> Spawn(const SpawnOptions& options) {
  if (options.entry == nullptr) return Error::kInvalidArgument;
  const CpuMask allowed = options.affinity & OnlineCpus();
  if (allowed.Empty()) return Error::kInvalidArgument;
  Task* task = LICHEN_TRY(mm::KernelHeap().New<Task>());
  const size_t stack_size = options.stack_size != 0 ? options.stack_size : kDefaultStackSize;
  Result<uintptr_t> stack = mm::Pages().AllocPages(StackOrder(stack_size));
  if (!stack.ok()) {
    mm::KernelHeap().Delete(task);
    return stack.error();
  }
  task->id = g_next_task_id.FetchAdd(1, std::memory_order_relaxed);
  SetName(*task, options.name);
  task->entry = options.entry;
  task->arg = options.arg;
  task->affinity_bits.Store(options.affinity.bits(), std::memory_order_relaxed);
  task->detached = options.detached;
  task->stack = reinterpret_cast<void*>(stack.value());
  task->stack_size = size_t{4096} << StackOrder(stack_size);
  task->se.id = task->id;
  task->se.SetNice(options.nice);
  task->requested_nice.Store(task->se.nice, std::memory_order_relaxed);
  task->published_nice.Store(task->se.nice, std::memory_order_relaxed);
  if (options.slice_ns != 0) task->se.SetSliceNs(options.slice_ns);
  platform::InitContext(task->context, task->stack, task->stack_size, &TaskTrampoline, task);
  task->state.Store(TaskState::kRunnable, std::memory_order_relaxed);
  {
    IrqGuard guard;
    task->cpu.Store(platform::ThisCpu(), std::memory_order_relaxed);
  }
  registry::Add(*task);
  LICHEN_LOG_TRACE("spawn task {} '{}' nice {}", task->id, task->name, options.nice);
  SendToCpu(*task, Transit::kNew);
  return task;
}

void Join(Task* task) {
  LICHEN_ASSERT(!task->detached, "Join() on detached task {}", task->id);
  Wait([task] {
    LockGuard<SpinLock> guard(task->join_lock);
    if (task->exit_done) return true;
    task->joiner = Current();
    return false;
  });
  FreeTask(task);
}

void Exit() {
  {
    IrqGuard guard;
    Current()->state.Store(TaskState::kExiting, std::memory_order_release);
    ScheduleLocked(guard.token(), SwitchReason::kVoluntary);
  }
  LICHEN_PANIC("an exited task was switched back in");
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

void SleepUntil(uint64_t deadline_ns) {
  // A wait for nothing but its deadline. The timer event stays on this CPU's queue even if
  // the task moves: it fires there and wakes the task through the messenger.
  const WaitResult result = Wait([] { return false; }, {.deadline_ns = deadline_ns});
  LICHEN_DEBUG_ASSERT(result == WaitResult::kTimedOut, "a sleep ended by {}",
                      WaitResultName(result));
}

void SleepFor(uint64_t ns) {
  SleepUntil(platform::Now() + ns);
}

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

Result<void> SetAffinity(Task* task, CpuMask affinity) {
  if ((affinity & OnlineCpus()).Empty() || task->is_idle) return Error::kInvalidArgument;
  task->affinity_bits.Store(affinity.bits(), std::memory_order_release);
  PushRequestsToOwner(*task);
  return {};
}

// ---- Timers ----------------------------------------------------------------------------------

void OnTimerInterrupt(IrqsOff irqs_off) {
  auto ref = ThisCpuLocal(irqs_off);
  CpuLocal& cpu = *ref;
  const uint64_t now = platform::Now();
  const uint64_t due = cpu.armed_deadline_ns;
  cpu.armed_deadline_ns = time::kNever;  // the one-shot timer has fired
  if (due != time::kNever && now > due) NoteLateness(cpu, now - due);  // before the events
  Shared(cpu.id).counters.timer_interrupts.AddRelaxedOwner(1);
  while (sched::TimerEvent* event = cpu.timers.PopExpired(now)) {
    // Each event's own lateness, read just before it fires: an earlier handler may have
    // waited on a lock (its holder's vCPU descheduled) while this CPU's task was charged.
    const uint64_t fire_ns = platform::Now();
    if (fire_ns > event->deadline_ns) NoteLateness(cpu, fire_ns - event->deadline_ns);
    event->fire(*event, cpu);
  }
  if (LICHEN_FAULT(global_slice_events)) RunGlobalSliceEventsForFault(cpu, now);
  // How late this interrupt's decisions take effect: from when it was due to when its
  // handlers are done (a handler may have waited on a lock held by a descheduled vCPU).
  if (due != time::kNever) {
    const uint64_t done = platform::Now();
    if (done > due) NoteLateness(cpu, done - due);
  }
  ProgramTimer(cpu);
}

namespace {

void OnSliceTimer(sched::TimerEvent& event, CpuLocal& cpu) {
  const uint64_t now = platform::Now();
  trace::Record(cpu.id, trace::Kind::kTimerFired, event.deadline_ns, cpu.current->id,
                static_cast<uint8_t>(trace::TimerKind::kSlice));
  cpu.rq.UpdateCurrent(now);
  sched::SchedEntity* next = cpu.rq.PickNext(now);
  NoteSchedulingDecision(cpu, now);
  trace::Record(cpu.id, trace::Kind::kSliceExpired, cpu.current->id, 0);
  if (next != nullptr && next != &cpu.current->se) {
    SetNeedResched(cpu, now);
  } else {
    ArmSliceTimer(cpu, now);
  }
}

}  // namespace

// ---- Boot and idle ---------------------------------------------------------------------------

void InitCpu(uint32_t cpu_id, uint32_t ncpus) {
  IrqGuard guard;
  auto ref = ThisCpuLocal(guard.token());
  CpuLocal& cpu = *ref;
  LICHEN_ASSERT(!cpu.initialized, "CPU {} initialised twice", cpu_id);
  g_ncpus = ncpus;
  cpu.id = cpu_id;
  cpu.rq.SetCpuCount(ncpus);
  Task& idle = (*g_idle_tasks)[cpu_id];
  new (&idle) Task();  // a fresh idle task (previous contents are abandoned, not destroyed)
  idle.id = 0;
  FormatTo(idle.name, sizeof(idle.name), "idle/{}", cpu_id);
  idle.is_idle = true;
  idle.detached = true;
  idle.affinity_bits.Store(CpuMask::Single(cpu_id).bits(), std::memory_order_relaxed);
  idle.cpu.Store(cpu_id, std::memory_order_relaxed);
  idle.state.Store(TaskState::kRunning, std::memory_order_relaxed);
  if constexpr (kDebugChecks) idle.debug_running_on.Store(cpu_id, std::memory_order_relaxed);
  cpu.idle = &idle;
  cpu.current = &idle;
  lockdep::SwitchTask(&idle.held_locks);
  cpu.slice_timer.fire = &OnSliceTimer;
  cpu.balance_timer.fire = &OnBalanceTimer;
  cpu.initialized = true;
  MarkCpuOnline(cpu_id);
}

void IdleLoop() {
  // A CPU boots with IRQs masked; its idle loop is where it starts taking interrupts. Each
  // iteration masks them to check for work atomically with going to sleep.
  platform::RestoreIrqs(platform::IrqState{false});
  for (;;) {
    IrqGuard guard;
    HandleMessages(guard.token());
    bool work = false;
    {
      auto cpu = ThisCpuLocal(guard.token());
      work = cpu->need_resched || cpu->rq.NrQueued() > 0;
      if (!work) {
        // Idle is published before looking for work elsewhere, both sequentially consistent
        // and matched by the enqueuer (nr_running stored, then idle flags loaded, seq_cst):
        // either this CPU sees the new task when it looks, or the enqueuer sees this CPU idle
        // and kicks it. Looking first left a window where neither happened and the CPU slept
        // beside a growing queue (found by the simulator's idle-beside-waiting invariant).
        cpu->idle_since_ns = platform::Now();
        Shared(cpu->id).idle.Store(true, LICHEN_FAULT(relaxed_idle_publication)
                                             ? std::memory_order_relaxed
                                             : std::memory_order_seq_cst);
        MaybeSteal(*cpu);
      }
    }
    if (work) {
      ScheduleLocked(guard.token(), SwitchReason::kVoluntary);
      continue;
    }
    // IRQs stay masked from the check above until WFI: a message or timer that arrives in
    // between leaves its interrupt pending, and WFI returns at once (no lost wakeup).
    trace::Record(platform::ThisCpu(), trace::Kind::kIdleEnter, 0, 0);
    platform::WaitForInterrupt();
    {
      auto cpu = ThisCpuLocal(guard.token());
      trace::Record(cpu->id, trace::Kind::kIdleExit, 0, 0);
      Shared(cpu->id).idle.Store(false, std::memory_order_relaxed);
      Shared(cpu->id).counters.idle_ns.AddRelaxedOwner(platform::Now() - cpu->idle_since_ns);
    }
  }  // the guard unmasks here: the pending interrupt is taken
}

uint32_t CpuCount() {
  return g_ncpus;
}

#if defined(LICHEN_HOST)
void ResetForSimulation() {
  g_next_task_id.Store(1, std::memory_order_relaxed);
  g_worst_stay_lateness_ns.Store(0, std::memory_order_relaxed);
  g_ncpus = 1;
  g_idle_tasks.Reset();
}
#endif

}  // namespace lichen::sched

namespace lichen {

Task& TaskOf(sched::SchedEntity& se) {
  return *ContainerOf<Task, sched::SchedEntity, &Task::se>(&se);
}

const char* TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kRunnable:
      return "runnable";
    case TaskState::kRunning:
      return "running";
    case TaskState::kBlocking:
      return "blocking";
    case TaskState::kWokenWhileRunning:
      return "woken-while-running";
    case TaskState::kSleeping:
      return "sleeping";
    case TaskState::kExiting:
      return "exiting";
    case TaskState::kExited:
      return "exited";
  }
  return "?";
}

}  // namespace lichen

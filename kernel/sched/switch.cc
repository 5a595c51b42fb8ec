// Switching: which task runs on this CPU next, and how does the CPU change to it?
//
// Owns ScheduleLocked, the one place that switches tasks: it settles the task that was
// running, picks the next by EEVDF, and commits the switch. FinishSwitch runs right after
// every switch, on the new task's stack, and settles the task switched away from: only then
// does a blocking task become kSleeping and visible to wakers (task.h), and an exited one
// free. Also the ways into a switch: Schedule, Yield, and preemption, asked for with
// SetNeedResched and carried out at safe points and on interrupt exit. Everything that
// touches a CpuLocal runs on its own CPU with IRQs masked (TA_REQ(g_irqs_off) / an
// IrqGuard), and no lock is held across a switch.
#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/lock/lockdep.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/sched.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"

namespace lichen::sched {

namespace {

// The process layer's switch hook (sched.h). Written once at boot, before user tasks exist.
Atomic<SwitchHook> g_switch_hook{nullptr};

// What ScheduleLocked decided about the task it switches away from, for the commit and for
// FinishSwitch.
struct SettledPrev {
  bool dequeued = false;   // it left the run queue: to sleep, to exit, or to migrate
  bool migrating = false;  // it left because its affinity no longer allows this CPU
  trace::PrevState trace_state = trace::PrevState::kRunnable;
};

// Step 1: settles `prev`, the task that was running. At its sleep point or exiting, it leaves
// the run queue; no longer allowed on this CPU, it leaves to migrate; otherwise it stays
// queued (a preempted task is never put to sleep, see SwitchReason).
SettledPrev SettlePrevious(CpuLocal& cpu, Task* prev, SwitchReason reason, uint64_t now) {
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
        prev_state =
            state == TaskState::kExiting ? trace::PrevState::kExited : trace::PrevState::kBlocking;
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
  return {.dequeued = prev_dequeued, .migrating = prev_migrating, .trace_state = prev_state};
}

// Step 2: picks the task to run next by EEVDF (the idle task when none is queued; maybe
// `prev` again) and makes it the run queue's current entity. This is the decision a pending
// reschedule asked for, so it clears need_resched.
Task* PickNextTask(CpuLocal& cpu, Task* prev, uint64_t now) {
  sched::SchedEntity* se = cpu.rq.PickNext(now);
  Task* next = se != nullptr ? &TaskOf(*se) : cpu.idle;
  NoteSchedulingDecision(cpu, now);  // notes a pending preemption's lateness: clear it after
  cpu.need_resched = false;
  cpu.rq.SetCurrent(se, now);
  if (!prev->is_idle) {
    prev->published_runtime_ns.Store(prev->se.sum_exec_ns, std::memory_order_relaxed);
  }
  return next;
}

// Step 3: makes `next` this CPU's running task in place of `prev`: their states, the
// counters, the debug check that no other CPU runs `next`, what FinishSwitch needs to settle
// `prev`, the slice timer and what the CPU publishes. The context switch itself follows.
void CommitSwitch(CpuLocal& cpu, Task* prev, Task* next, const SettledPrev& settled,
                  SwitchReason reason, uint64_t now) {
  CpuShared& shared = Shared(cpu.id);
  if (!prev->is_idle && !settled.dequeued) {
    // It waits in the queue again. kRunning becomes kRunnable (wakers ignore both); a task
    // preempted on its way to Block() keeps kBlocking / kWokenWhileRunning.
    TaskState running = TaskState::kRunning;
    prev->state.CompareExchange(running, TaskState::kRunnable, std::memory_order_relaxed,
                                std::memory_order_relaxed);
    if (reason == SwitchReason::kPreempt) shared.counters.preemptions.AddRelaxedOwner(1);
    if (prev != next && !LICHEN_FAULT(no_kick_for_preempted_task)) {
      // It waits now, and may run elsewhere: the waiting set changed as much as by an enqueue.
      // A thief refused while it ran remembers the old generation and would not ask again
      // (a running task is never given away, and being widened while running bumps nothing),
      // so bump it and wake an idle CPU that may take it.
      const CpuMask elsewhere = prev->Affinity() & OnlineCpus();
      if (elsewhere.bits() != CpuMask::Single(cpu.id).bits()) {
        shared.enqueue_generation.AddRelaxedOwner(1);
        KickIdleCpu(cpu, elsewhere);
      }
    }
  }
  shared.counters.context_switches.AddRelaxedOwner(1);
  if (!next->is_idle) {
    shared.counters.tasks_run.AddRelaxedOwner(1);
    TaskState runnable = TaskState::kRunnable;  // (kBlocking et al. stay as they are)
    next->state.CompareExchange(runnable, TaskState::kRunning, std::memory_order_relaxed,
                                std::memory_order_relaxed);
    next->published_switches.FetchAdd(1, std::memory_order_relaxed);
    // A slice asked for with SetSliceNs: current is the one place it may change. Only user
    // threads ask (sched_setattr), and kernel tasks skip the load, which in the simulator is
    // an interleaving point: their runs, and so their seeds' fingerprints, stay as they were.
    if (next->user != nullptr) {
      const uint64_t want_slice = next->requested_slice_ns.Load(std::memory_order_relaxed);
      if (want_slice != (next->se.custom_slice ? next->se.slice_ns : 0)) {
        next->se.SetSliceNs(want_slice);
      }
    }
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
  cpu.switch_from_dequeued = settled.dequeued;
  cpu.switch_from_migrating = settled.migrating;
  shared.current_task_id.Store(next->id, std::memory_order_relaxed);
  ArmSliceTimer(cpu, now);
  ProgramTimer(cpu);
  Publish(cpu);
  trace::Record(cpu.id, trace::Kind::kSwitch, prev->id, next->id,
                static_cast<uint8_t>(settled.trace_state));
}

}  // namespace

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
    const SettledPrev settled = SettlePrevious(cpu, prev, reason, now);
    next = PickNextTask(cpu, prev, now);
    if (next == prev) {
      // It keeps the CPU: only its slice timer and the published state follow the decision.
      ArmSliceTimer(cpu, now);
      ProgramTimer(cpu);
      Publish(cpu);
      return;
    }
    CommitSwitch(cpu, prev, next, settled, reason, now);
  }
  if constexpr (kDebugChecks) {
    // A per-CPU borrow held across a switch would be used later on whatever CPU the task
    // resumes on.
    LICHEN_ASSERT(!AnyPerCpuBorrowedHere(), "per-CPU state borrowed across a context switch");
    lockdep::SwitchTask(&next->held_locks);
  }
  // After CommitSwitch and outside the CPU's borrow: the hook reaches the address-space layer,
  // which has per-CPU state of its own (the active ASID).
  if (prev->user != nullptr || next->user != nullptr) {
    SwitchHook hook = g_switch_hook.Load(std::memory_order_acquire);
    if (hook != nullptr) hook(prev, next);
  }
  platform::SwitchContext(prev->context, next->context);
  // Back in `prev`, maybe much later and on another CPU.
  FinishSwitch(irqs_off);
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

void SetSwitchHook(SwitchHook hook) {
  g_switch_hook.Store(hook, std::memory_order_release);
}

// ---- Asking for a switch --------------------------------------------------------------------

void SetNeedResched(CpuLocal& cpu, uint64_t now_ns) {
  if (cpu.need_resched) return;
  cpu.need_resched = true;
  cpu.resched_requested_ns = now_ns;
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

void Schedule() {
  IrqGuard guard;
  ScheduleLocked(guard.token(), SwitchReason::kVoluntary);
}

void Yield() {
  bool alone = false;
  {
    IrqGuard guard;
    if (LICHEN_FAULT(yield_holds_sched_lock)) {
      YieldWithSchedLockForFault(guard.token());
      return;
    }
    {
      auto cpu = ThisCpuLocal(guard.token());
      if (!cpu->current->is_idle) cpu->rq.YieldCurrent(platform::Now());
      alone = cpu->rq.NrQueued() <= 1;
    }
    ScheduleLocked(guard.token(), SwitchReason::kVoluntary);
  }
  // Nothing else to run here: the caller is spin-waiting for another CPU (a user thread's
  // sched_yield loop), so say so to the machine. Without the hint nothing in the yield is
  // visible to it: QEMU -icount, which runs the vCPUs in turn in one thread, then stays on
  // this one until a timer deadline ends its turn, and a CPU alone on its queue arms none
  // (tick-free). The CPU whose task it woke never ran: bench's futex ping-pong hung with the
  // wakeup's IPI pending. Arm's YIELD ends the turn there, as it tells SMT and hypervisors to
  // run someone else; in the simulator it marks this CPU as spinning.
  if (alone) platform::CpuRelax();
}

// ---- Who runs -------------------------------------------------------------------------------

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

}  // namespace lichen::sched

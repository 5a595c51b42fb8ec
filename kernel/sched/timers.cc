// Timers: when does this CPU's hardware timer fire, and what runs when it does?
//
// Owns programming the one-shot hardware timer for the earliest event on the CPU's timer
// queue (disarmed when there is none: an idle CPU takes no interrupts), the running task's
// slice-expiry event, and the timer interrupt, which fires the expired events and notes how
// late they came. The other events on the queue belong to their owners: sleepers' deadlines
// to wait.cc, the balance timer to balance.cc.
#include "kernel/base/debug.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/sched.h"
#include "kernel/trace/trace.h"

namespace lichen::sched {

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
  if (cpu.current->is_idle) {
    cpu.timers.Cancel(cpu.slice_timer);
    return;
  }
  if (cpu.rq.NrQueued() < 2) {
    // Alone: tick-free, unless a busy tick was asked for (Config::busy_tick_ns). The slice
    // timer stands in for it: its expiry re-picks the same task and arms it again.
    if (config().busy_tick_ns == 0) {
      cpu.timers.Cancel(cpu.slice_timer);
    } else if (!cpu.slice_timer.queued) {
      cpu.timers.Add(cpu.slice_timer, now_ns + config().busy_tick_ns);
    }
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

}  // namespace lichen::sched

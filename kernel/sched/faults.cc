// The seed's bugs, for the regression scenarios only (kernel/base/debug.h, tests/sim).
//
// Each function here is reached only when a test turned on the matching fault; the normal
// paths never call them. On aarch64 LICHEN_FAULT() is false and these only panic.
#include "kernel/base/debug.h"
#include "kernel/lock/spinlock.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "lib/assert.h"

namespace lichen::sched {

#if defined(LICHEN_HOST)

namespace {

// Seed bug: one system-wide wakeup queue for preemption events.
struct GlobalSliceEvent {
  uint64_t deadline_ns = 0;
  uint32_t for_cpu = 0;
  bool armed = false;
};
LockClass g_global_events_class("naive.global_slice_events", LockRank::kNaiveGlobalEvents);
SpinLockProtected<GlobalSliceEvent[kMaxCpus]> g_global_events(g_global_events_class);

// Seed bug: the scheduler state behind one lock that yield holds while scheduling.
LockClass g_naive_sched_class("naive.sched_state", LockRank::kNaiveSchedLock);
SpinLock g_naive_sched_lock(g_naive_sched_class);

}  // namespace

void ArmGlobalSliceEventForFault(CpuLocal& cpu, uint64_t deadline_ns) {
  g_global_events.With([&](GlobalSliceEvent(&events)[kMaxCpus]) {
    events[cpu.id] = GlobalSliceEvent{deadline_ns, cpu.id, true};
  });
}

void RunGlobalSliceEventsForFault(CpuLocal& cpu, uint64_t now_ns) {
  // The system timer interrupt is handled on CPU 0 only; it "yields the current CPU", which
  // is CPU 0 whatever CPU the event was for.
  if (cpu.id != 0) return;
  g_global_events.With([&](GlobalSliceEvent(&events)[kMaxCpus]) {
    for (GlobalSliceEvent& event : events) {
      if (!event.armed || event.deadline_ns > now_ns) continue;
      event.armed = false;
      SetNeedResched(cpu, now_ns);  // the bug: CPU 0 reschedules, event.for_cpu keeps running
    }
  });
}

// Deliberately wrong locking: the analysis would (rightly) reject it.
void YieldWithSchedLockForFault(IrqsOff irqs_off) TA_NO_THREAD_SAFETY_ANALYSIS {
  // sched_yield() borrows the scheduler state, then schedule() -> schedule_preempt() wants
  // it again on the same CPU.
  g_naive_sched_lock.Lock(irqs_off);
  {
    LockGuard<SpinLock> again(g_naive_sched_lock, irqs_off);  // schedule_preempt()
  }
  ScheduleLocked(irqs_off, SwitchReason::kVoluntary);
  g_naive_sched_lock.Unlock();
}

#else

void ArmGlobalSliceEventForFault(CpuLocal&, uint64_t) {
  LICHEN_PANIC("fault injection");
}
void RunGlobalSliceEventsForFault(CpuLocal&, uint64_t) {
  LICHEN_PANIC("fault injection");
}
void YieldWithSchedLockForFault(IrqsOff) {
  LICHEN_PANIC("fault injection");
}

#endif

}  // namespace lichen::sched

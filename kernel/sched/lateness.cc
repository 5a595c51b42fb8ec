// Lateness: how late did this CPU's timer interrupts and scheduling decisions come, and does
// every task's EEVDF lag stay within the bound that allows for it?
//
// Owns the lateness charged to the running task during its stay on a CPU (CpuLocal's
// stay_lateness_ns and worst_lateness_ns, and the worst stay over all CPUs), the bookkeeping
// done at every scheduling decision (NoteSchedulingDecision), and the debug builds' lag-bound
// check. A decision that comes late (a vCPU the host descheduled, a handler spinning on a lock)
// charges the running task for the wait, so the lag bound widens by the lateness charged.
#include "kernel/base/debug.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/sched.h"
#include "lib/assert.h"

namespace lichen::sched {

namespace {

// The most lateness any CPU has charged to one task during one stay on it (the maximum of
// every CpuLocal::stay_lateness_ns): lag travels with migrating tasks, so a queue's lag bound
// depends on every CPU's lateness.
Atomic<uint64_t> g_worst_stay_lateness_ns{0};

}  // namespace

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
  // charged to one task in one stay (stalls in a row all charge the task that runs through
  // them): a late interrupt charges the current task and the others are owed as much, and
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

#if defined(LICHEN_HOST)
void ResetLatenessForSimulation() {
  g_worst_stay_lateness_ns.Store(0, std::memory_order_relaxed);
}
#endif

}  // namespace lichen::sched

// Boot and idle: how does a CPU join the scheduler, and what does it do when nothing is
// runnable?
//
// Owns the idle tasks (one per CPU, adopting the context the CPU booted on), InitCpu, the idle
// loop (publish idle, try to steal, wait for an interrupt without losing a wakeup), the CPU
// count, and the reset of the scheduler's globals between simulator runs.
#include <array>
#include <new>

#include "kernel/base/debug.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/orders.h"
#include "kernel/sched/sched.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"
#include "lib/no_destroy.h"
#include "lib/sim_reset.h"

namespace lichen::sched {

namespace {

NoDestroy<std::array<Task, kMaxCpus>> g_idle_tasks;

}  // namespace

void InitCpu(uint32_t cpu_id) {
  IrqGuard guard;
  auto ref = ThisCpuLocal(guard.token());
  CpuLocal& cpu = *ref;
  LICHEN_ASSERT(!cpu.initialized, "CPU {} initialised twice", cpu_id);
  cpu.id = cpu_id;
  cpu.rq.SetCpuCount(platform::CpuCount());
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
        // and kicks it. Looking first would leave a window where neither happens and the CPU
        // sleeps beside a growing queue.
        cpu->idle_since_ns = platform::Now();
        Shared(cpu->id).idle.Store(true, LICHEN_FAULT(relaxed_idle_publication)
                                             ? std::memory_order_relaxed
                                             : orders::kPublishIdle);
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

#if defined(LICHEN_HOST)
namespace {
void ResetScheduler() {
  ResetTaskIdsForSimulation();
  ResetLatenessForSimulation();
  g_idle_tasks.Reset();
}
const ResetRegistrar g_reset_scheduler("sched.scheduler", ResetStage::kAny, &ResetScheduler);
}  // namespace
#endif

}  // namespace lichen::sched

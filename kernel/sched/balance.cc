// Load balancing: work stealing by idle CPUs, and a periodic push by busy ones.
//
// Stealing (pull): a CPU with nothing to run looks at the published run-queue lengths,
// picks the busiest CPU that has a task waiting, and sends it a steal request. It never
// looks inside that CPU's run queue: the owner decides what to give (a task that is not
// running, allowed on the thief by its affinity, the one that has waited longest) and sends
// it back through the messenger -- or answers that it has nothing, with its enqueue
// generation, and the thief does not ask that CPU again until the generation moved. One
// request in flight per thief bounds the traffic and the rings. Idle CPUs are woken to steal
// by a kick: when an enqueue makes a queue two long, when an affinity change makes a waiting
// task movable, and by the owner after each task it gives away while more wait (a chain, so
// one kick reaches every idle CPU). A kick skips CPUs already kicked or already stealing.
//
// Balancing (push): while a CPU has more than one runnable task, a timer fires every
// balance_interval_ns and the CPU compares its load (the sum of its tasks' weights) with the
// least loaded CPU's. It pushes its longest-waiting movable task whose weight is below the
// gap: the move strictly shrinks the gap, so the reverse move can never pay and tasks do not
// ping-pong; a migrated task also stays put for migration_cooldown_ns.
#include "kernel/sched/config.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/messages.h"
#include "kernel/sched/orders.h"
#include "kernel/sched/sched.h"
#include "kernel/smp/messenger.h"
#include "kernel/trace/trace.h"

namespace lichen::sched {

void MaybeSteal(CpuLocal& cpu) {
  if (!config().steal || cpu.steal_outstanding) return;
  uint32_t victim = kMaxCpus;
  uint32_t victim_nr = 1;  // a victim needs at least one task waiting besides its current one
  for (uint32_t other : OnlineCpus()) {
    if (other == cpu.id) continue;
    CpuShared& shared = Shared(other);
    const uint32_t nr = shared.nr_running.Load(orders::kReadNrRunning);
    if (nr <= victim_nr) continue;
    if (cpu.steal_refused[other] && cpu.steal_refused_generation[other] ==
                                        shared.enqueue_generation.Load(std::memory_order_relaxed)) {
      continue;  // it had nothing for us and nothing new arrived since
    }
    victim = other;
    victim_nr = nr;
  }
  if (victim == kMaxCpus) return;
  cpu.steal_outstanding = true;
  Shared(cpu.id).stealing.Store(true, std::memory_order_relaxed);
  cpu.steal_victim = victim;
  Shared(cpu.id).counters.steal_requests.AddRelaxedOwner(1);
  trace::Record(cpu.id, trace::Kind::kStealRequest, victim, victim_nr);
  PostSmall(victim, SmallKind::kStealRequest, cpu.id, 0);
}

void KickIdleCpu(CpuLocal& cpu, CpuMask allowed) {
  if (!config().steal) return;
  // The first idle CPU after this one that may run the waiting task, so that kicks spread.
  allowed = allowed & OnlineCpus();
  for (uint32_t i = 1; i < kMaxCpus; ++i) {
    const uint32_t other = (cpu.id + i) % kMaxCpus;
    CpuShared& shared = Shared(other);
    if (!allowed.Test(other) || !shared.idle.Load(orders::kReadIdle)) continue;
    // Already kicked (its IPI is pending), already waiting for a task it asked for, or
    // already holding one it has not switched to yet (still flagged idle): wake the next idle
    // CPU instead. (Kicking those again would leave another idle CPU asleep however many
    // tasks wait: seen with eight tasks released at once onto four CPUs, and with a thief
    // kicked again in the microseconds between receiving its task and running it.)
    if (smp::MailboxOf(other).ipi_pending.Load(std::memory_order_relaxed) ||
        shared.stealing.Load(std::memory_order_relaxed) ||
        shared.nr_running.Load(std::memory_order_relaxed) != 0) {
      continue;
    }
    trace::Record(cpu.id, trace::Kind::kIdleKick, other, 0);
    smp::Kick(other, trace::IpiKind::kIdleKick);
    return;
  }
}

namespace {

// The longest-waiting queued task that may move to `target` and did not move recently
// (`cooldown_ns` = 0 ignores the last migration).
Task* PickMovable(CpuLocal& cpu, uint32_t target, uint64_t now_ns, uint64_t cooldown_ns) {
  for (SchedEntity* se = cpu.rq.OldestWaiting(); se != nullptr; se = cpu.rq.NextWaiting(*se)) {
    Task& task = TaskOf(*se);
    if (!task.Affinity().Test(target)) continue;
    if (cooldown_ns != 0 && task.last_migrated_ns != 0 &&
        now_ns - task.last_migrated_ns < cooldown_ns) {
      continue;
    }
    return &task;
  }
  return nullptr;
}

}  // namespace

void OnStealRequest(uint32_t from, IrqsOff irqs_off) {
  auto ref = ThisCpuLocal(irqs_off);
  CpuLocal& cpu = *ref;
  const uint64_t now = platform::Now();
  // An idle CPU gets any waiting task it may run: an idle CPU beats a cache-warm queue.
  if (Task* task = PickMovable(cpu, from, now, 0)) {
    trace::Record(cpu.id, trace::Kind::kSteal, task->id, from);
    MigrateOut(cpu, *task, from, Transit::kStolen, now);
    // More still wait: wake the next idle CPU to ask too. Kicks otherwise come only from an
    // enqueue that makes this queue two long, so a pile that grew past that would be shared
    // with one thief while the other idle CPUs sleep on.
    if (cpu.rq.NrQueued() >= 2 && !cpu.current->is_idle && !LICHEN_FAULT(no_steal_chain_kick)) {
      KickIdleCpu(cpu, OnlineCpus());
    }
    return;
  }
  const uint64_t generation = Shared(cpu.id).enqueue_generation.Load(std::memory_order_relaxed);
  PostSmall(from, SmallKind::kStealNack, cpu.id, generation);
}

void OnStealRefused(uint32_t victim, uint64_t generation, IrqsOff irqs_off) {
  auto cpu = ThisCpuLocal(irqs_off);
  if (cpu->steal_outstanding && cpu->steal_victim == victim) {
    cpu->steal_outstanding = false;
    Shared(cpu->id).stealing.Store(false, std::memory_order_relaxed);
  }
  cpu->steal_refused[victim] = true;
  cpu->steal_refused_generation[victim] = generation;
}

void ArmBalanceTimer(CpuLocal& cpu, uint64_t now_ns) {
  if (!config().periodic_balance || cpu.balance_timer.queued || cpu.rq.NrQueued() < 2) return;
  cpu.timers.Add(cpu.balance_timer, now_ns + config().balance_interval_ns);
  trace::Record(cpu.id, trace::Kind::kTimerArmed, now_ns + config().balance_interval_ns, 0,
                static_cast<uint8_t>(trace::TimerKind::kBalance));
}

void OnBalanceTimer(sched::TimerEvent& event, CpuLocal& cpu) {
  const uint64_t now = platform::Now();
  trace::Record(cpu.id, trace::Kind::kTimerFired, event.deadline_ns, 0,
                static_cast<uint8_t>(trace::TimerKind::kBalance));
  if (cpu.rq.NrQueued() < 2) return;  // re-armed by the next enqueue that makes it 2
  // The least loaded CPU by weight: EEVDF shares a CPU by weight, so the machine is fair
  // when every CPU carries the same load, not the same number of tasks.
  const uint64_t mine = cpu.rq.Load();
  uint32_t target = kMaxCpus;
  uint64_t target_load = mine;
  for (uint32_t other : OnlineCpus()) {
    if (other == cpu.id) continue;
    const uint64_t load = Shared(other).load.Load(std::memory_order_relaxed);
    if (load < target_load) {
      target = other;
      target_load = load;
    }
  }
  if (target != kMaxCpus) {
    // Move the longest-waiting task whose weight is below the load gap: afterwards the gap is
    // strictly smaller (|(mine - w) - (theirs + w)| < mine - theirs exactly when w < gap), so
    // no move can be undone by the reverse move -- the hysteresis that stops ping-pong.
    const uint64_t gap = mine - target_load;
    for (SchedEntity* se = cpu.rq.OldestWaiting(); se != nullptr; se = cpu.rq.NextWaiting(*se)) {
      Task& task = TaskOf(*se);
      if (se->weight >= gap || !task.Affinity().Test(target)) continue;
      if (task.last_migrated_ns != 0 &&
          now - task.last_migrated_ns < config().migration_cooldown_ns) {
        continue;
      }
      trace::Record(cpu.id, trace::Kind::kBalancePush, task.id, target);
      MigrateOut(cpu, task, target, Transit::kMigrated, now);
      break;
    }
  }
  ArmBalanceTimer(cpu, now);
}

}  // namespace lichen::sched

// The simulator's invariants: what must hold whenever no CPU can run at the current instant
// (sim.h lists them). Each violation stops the run with its own Failure kind.
#include <string>

#include "kernel/sched/config.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/registry.h"
#include "kernel/smp/messenger.h"
#include "platform/sim/machine.h"

namespace lichen::sim {
inline namespace detail {

// Options::check_idle_beside_waiting, at a quiescent point.
void CheckIdleBesideWaiting() {
  Sim& sim = *g_sim;
  const sched::Config& config = sim.options.sched;
  const auto n = static_cast<uint32_t>(sim.cpus.size());
  if (sim.waiting_since.size() != size_t{n} * n) sim.waiting_since.assign(size_t{n} * n, 0);
  for (uint32_t c = 0; c < n; ++c) {
    const uint64_t allowed = Shared(c).waiting_affinity.Load(std::memory_order_relaxed);
    for (uint32_t h = 0; h < n; ++h) {
      uint64_t& since = sim.waiting_since[size_t{c} * n + h];
      if (h == c || (allowed & (uint64_t{1} << h)) == 0) {
        since = 0;
      } else if (since == 0) {
        since = sim.now;
      }
    }
  }
  if (!sim.options.check_idle_beside_waiting || !(config.steal || config.periodic_balance)) return;
  const uint64_t bound = sim.options.idle_balance_bound_ns;
  for (const VCpu& idle : sim.cpus) {
    if (idle.state != CpuState::kHalted) continue;
    if (sim.now - idle.halted_since <= bound + StalledSince(idle.halted_since)) continue;
    for (uint32_t c = 0; c < n; ++c) {
      const uint64_t since = sim.waiting_since[size_t{c} * n + idle.id];
      if (since == 0 || sim.now - since <= bound + StalledSince(since)) continue;
      sim.failed = true;
      sim.failure_kind = Failure::kIdleBesideWaiting;
      sim.failure = "idle beside waiting work: CPU " + std::to_string(idle.id) + " idle for " +
                    std::to_string(sim.now - idle.halted_since) + " ns while " + Describe(c) +
                    " has had tasks waiting that may run on it for " +
                    std::to_string(sim.now - since) + " ns";
      return;
    }
  }
}

// Invariants that must hold whenever no CPU can run at the current instant.
void CheckQuiescent() {
  Sim& sim = *g_sim;
  const sched::Config& config = sim.options.sched;
  uint64_t oldest_waiting = time::kNever;
  uint32_t oldest_cpu = kNoCpu;
  for (const VCpu& cpu : sim.cpus) {
    CpuShared& shared = Shared(cpu.id);
    const uint64_t wait_start = shared.oldest_wait_start_ns.Load(std::memory_order_relaxed);
    const uint32_t nr = shared.nr_running.Load(std::memory_order_relaxed);
    if (wait_start != 0 && wait_start < oldest_waiting) {
      oldest_waiting = wait_start;
      oldest_cpu = cpu.id;
    }
    const uint64_t decided = shared.last_decision_ns.Load(std::memory_order_relaxed);
    if (sim.options.check_preemption && nr >= 2 && cpu.state != CpuState::kHalted &&
        sim.now - decided > sim.options.preemption_bound_ns + StalledSince(decided)) {
      sim.failed = true;
      sim.failure_kind = Failure::kNoPreemption;
      sim.failure = "no preemption: " + Describe(cpu.id) + " has " + std::to_string(nr) +
                    " runnable tasks but made no scheduling decision for " +
                    std::to_string(sim.now - decided) + " ns (slice expiry lost?)";
      return;
    }
    // The kernel's earliest timer event must have the hardware timer armed no later than its
    // deadline (outside the timer handler, which re-arms it): otherwise the event fires late by
    // however long the mistake is, which no time bound here could tell from a CPU that the
    // search merely ran late (PCT may leave a CPU with masked IRQs waiting for a long while).
    const uint64_t timer_due = shared.next_timer_ns.Load(std::memory_order_relaxed);
    if (sim.options.check_timer_lateness && timer_due != time::kNever && !cpu.in_timer_handler &&
        (!cpu.timer_armed || cpu.timer_deadline > timer_due)) {
      sim.failed = true;
      sim.failure_kind = Failure::kLateTimer;
      sim.failure =
          "late timer: " + Describe(cpu.id) +
          " has a timer event due at t=" + std::to_string(timer_due) + " ns but its timer is " +
          (cpu.timer_armed ? "armed for t=" + std::to_string(cpu.timer_deadline) + " ns (" +
                                 std::to_string(cpu.timer_deadline - timer_due) + " ns late)"
                           : std::string("not armed"));
      return;
    }
    if (cpu.state == CpuState::kRunnable || cpu.ipi_pending) continue;
    bool ipi_on_the_way = false;
    for (const InFlightIpi& ipi : sim.ipis)
      ipi_on_the_way |= ipi.target == cpu.id;
    if (ipi_on_the_way) continue;
    const smp::Mailbox& mailbox = smp::MailboxOf(cpu.id);
    const bool mail = !mailbox.inbox.EmptyHint() || !mailbox.small.EmptyHint();
    if (cpu.state == CpuState::kHalted && (mail || nr != 0)) {
      sim.failed = true;
      // Messages left there are a message without its IPI; the tasks they wake are lost.
      sim.failure_kind = mail ? Failure::kMessageWithoutIpi : Failure::kLostWakeup;
      sim.failure = "lost wakeup: " + Describe(cpu.id) + " sleeps in WFI with " +
                    std::to_string(nr) + " runnable tasks" +
                    (mail ? " and messages in its mailbox (a message waiting with no IPI on its "
                            "way)"
                          : " but no IPI on the way");
      return;
    }
    if (sim.options.check_mailbox_ipi && mail) {
      // A busy CPU drains only on an IPI (or when it next goes idle): every message must have
      // one on its way (Mailbox::ipi_pending is set by the sender that sends it and cleared
      // by the owner just before it takes the inbox).
      sim.failed = true;
      sim.failure_kind = Failure::kMessageWithoutIpi;
      sim.failure =
          "message waiting with no IPI on its way: " + Describe(cpu.id) +
          " runs with messages in its mailbox but no IPI pending or in flight (ipi_pending " +
          (mailbox.ipi_pending.Load(std::memory_order_relaxed) ? "set)" : "clear)");
      return;
    }
  }
  if (sim.options.check_sleeper_flags) {
    std::string sleeper;
    registry::ForEach([&](const registry::TaskInfo& info) {
      if (sleeper.empty() && info.state == TaskState::kSleeping && info.wait_flag_set) {
        sleeper = "task " + std::to_string(info.id) + " '" + info.name + "' on CPU " +
                  std::to_string(info.cpu);
      }
    });
    if (!sleeper.empty()) {
      sim.failed = true;
      sim.failure_kind = Failure::kSleeperBesideFlag;
      sim.failure = "lost wakeup: " + sleeper +
                    " sleeps although the flag it waits for is set (asleep beside its wake "
                    "condition) at t=" +
                    std::to_string(sim.now) + " ns";
      return;
    }
  }
  CheckIdleBesideWaiting();
  if (sim.failed) return;
  if (sim.options.check_idle_balance && (config.steal || config.periodic_balance) &&
      oldest_cpu != kNoCpu &&
      sim.now - oldest_waiting > sim.options.idle_balance_bound_ns + StalledSince(oldest_waiting)) {
    for (const VCpu& cpu : sim.cpus) {
      if (cpu.state == CpuState::kHalted &&
          sim.now - cpu.halted_since >
              sim.options.idle_balance_bound_ns + StalledSince(cpu.halted_since)) {
        sim.failed = true;
        sim.failure_kind = Failure::kIdleWhileWorkWaits;
        sim.failure = "idle while work waits: CPU " + std::to_string(cpu.id) + " idle for " +
                      std::to_string(sim.now - cpu.halted_since) + " ns while a task on " +
                      Describe(oldest_cpu) + " has waited " +
                      std::to_string(sim.now - oldest_waiting) + " ns";
        return;
      }
    }
  }
}

}  // namespace detail
}  // namespace lichen::sim

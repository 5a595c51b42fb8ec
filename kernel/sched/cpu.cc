#include "kernel/sched/cpu.h"

#include <array>

#include "kernel/smp/messenger.h"
#include "lib/no_destroy.h"
#include "lib/sim_reset.h"

namespace lichen {

namespace {

NoDestroy<PerCpu<CpuLocal>> g_local;
NoDestroy<std::array<CpuShared, kMaxCpus>> g_shared;
AtomicCpuMask g_online;

}  // namespace

PerCpu<CpuLocal>::Ref ThisCpuLocal(IrqsOff irqs_off) {
  return g_local->Borrow(irqs_off);
}

CpuShared& Shared(uint32_t cpu) {
  LICHEN_DEBUG_ASSERT(cpu < kMaxCpus, "cpu {} out of range", cpu);
  return (*g_shared)[cpu];
}

CpuCounterSnapshot SnapshotCounters(uint32_t cpu) {
  const CpuCounters& c = Shared(cpu).counters;
  auto get = [](const Atomic<uint64_t>& a) { return a.Load(std::memory_order_relaxed); };
  CpuCounterSnapshot s;
  s.context_switches = get(c.context_switches);
  s.tasks_run = get(c.tasks_run);
  // The messenger counts its own traffic.
  const smp::MailboxCounters& m = smp::MailboxOf(cpu).counters;
  s.ipis_sent = get(m.ipis_sent);
  s.ipis_received = get(m.ipis_received);
  s.messages = get(m.messages_received);
  s.steals = get(c.steals);
  s.steal_requests = get(c.steal_requests);
  s.migrations_in = get(c.migrations_in);
  s.migrations_out = get(c.migrations_out);
  s.preemptions = get(c.preemptions);
  s.wakeups = get(c.wakeups);
  s.idle_ns = get(c.idle_ns);
  s.timer_interrupts = get(c.timer_interrupts);
  return s;
}

CpuMask OnlineCpus() {
  return g_online.Load(std::memory_order_acquire);
}

void MarkCpuOnline(uint32_t cpu) {
  Shared(cpu).online.Store(true, std::memory_order_release);
  g_online.Add(cpu, std::memory_order_acq_rel);
}

#if defined(LICHEN_HOST)
namespace {
// Every CPU's state back to its initial value, and no CPU online.
void ResetCpus() {
  g_local.Reset();
  g_shared.Reset();
  smp::ResetMailboxesForSimulation();
  g_online.TakeAll(std::memory_order_relaxed);
}
const ResetRegistrar g_reset_cpus("cpus", ResetStage::kAny, &ResetCpus);
}  // namespace
#endif

}  // namespace lichen

#include "kernel/cpu.h"

#include <array>

#include "lib/no_destroy.h"

namespace lichen {

namespace {

NoDestroy<PerCpu<CpuLocal>> g_local;
NoDestroy<std::array<CpuShared, kMaxCpus>> g_shared;
AtomicCpuMask g_online;

}  // namespace

PerCpu<CpuLocal>::Ref ThisCpuLocal(IrqsOff irqs_off) {
  return g_local->Borrow(irqs_off);
}

bool ThisCpuLocalBorrowed() {
  return g_local->BorrowedHere();
}

CpuShared& Shared(uint32_t cpu) {
  LICHEN_DEBUG_ASSERT(cpu < kMaxCpus, "cpu {} out of range", cpu);
  return (*g_shared)[cpu];
}

CpuMask OnlineCpus() {
  return g_online.Load(std::memory_order_acquire);
}

void MarkCpuOnline(uint32_t cpu) {
  Shared(cpu).online.Store(true, std::memory_order_release);
  g_online.Add(cpu, std::memory_order_acq_rel);
}

#if defined(LICHEN_HOST)
void ResetCpusForSimulation() {
  g_local.Reset();
  g_shared.Reset();
  g_online.TakeAll(std::memory_order_relaxed);
}
#endif

}  // namespace lichen

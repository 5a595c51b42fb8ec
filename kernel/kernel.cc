#include "kernel/kernel.h"

#include "kernel/irq.h"
#include "kernel/lock/lockdep.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/stats.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"

namespace lichen::kernel {

namespace {
uint32_t g_ncpus = 1;
}  // namespace

void EarlyInit(const BootConfig& config) {
  LICHEN_ASSERT(config.ncpus >= 1 && config.ncpus <= kMaxCpus, "bad CPU count {}", config.ncpus);
  g_ncpus = config.ncpus;
  sched::Configure(config.sched);
  mm::InitMemory(config.memory_base, config.memory_bytes);
}

void InitThisCpu(uint32_t cpu) {
  sched::InitCpu(cpu, g_ncpus);
}

void RunIdle() {
  sched::IdleLoop();
}

#if defined(LICHEN_HOST)
void ResetForSimulation() {
  ResetCpusForSimulation();
  sched::ResetForSimulation();
  sched::ResetPlacementForSimulation();
  sched::ResetStatsForSimulation();
  sched::Configure(sched::Config{});
  registry::ResetForSimulation();
  irq::ResetForSimulation();
  ResetPerCpuBorrowsForSimulation();
  lockdep::Reset();
  trace::Reset();
  mm::ResetMemoryForSimulation();
  g_ncpus = 1;
}
#endif

}  // namespace lichen::kernel

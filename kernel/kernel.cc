#include "kernel/kernel.h"

#include "kernel/base/platform.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "lib/assert.h"

namespace lichen::kernel {

void EarlyInit(const BootConfig& config) {
  const uint32_t ncpus = platform::CpuCount();
  LICHEN_ASSERT(ncpus >= 1 && ncpus <= kMaxCpus, "bad CPU count {}", ncpus);
  sched::Configure(config.sched);
  mm::InitMemory(config.memory_base, config.memory_bytes);
}

void InitThisCpu(uint32_t cpu) {
  sched::InitCpu(cpu);
}

void RunIdle() {
  sched::IdleLoop();
}

}  // namespace lichen::kernel

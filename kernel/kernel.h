// Bringing the kernel core up on a platform.
//
// Boot CPU:      EarlyInit(config), then InitThisCpu(0), then start the other CPUs;
// every CPU:     InitThisCpu(id) on its boot stack, then RunIdle() -- the boot context
//                becomes the CPU's idle task.
// The platform spawns its first task after InitThisCpu(0) (sched::Spawn).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/sched/config.h"

namespace lichen::kernel {

// The CPU count is not here: platform::CpuCount() is the one source of it.
struct BootConfig {
  sched::Config sched;
  // Free RAM for the page allocator and the heap.
  uintptr_t memory_base = 0;
  size_t memory_bytes = 0;
};

// Boot CPU, before any other CPU runs: memory and the scheduler's configuration.
void EarlyInit(const BootConfig& config);

// Each CPU once, IRQs masked: its scheduler state; the running context becomes its idle task.
void InitThisCpu(uint32_t cpu);

// Each CPU last: the idle loop. Never returns.
[[noreturn]] void RunIdle();

// On the host, the simulator boots a fresh kernel in the same process after
// ResetAllForSimulation() (lib/sim_reset.h): each part of the core registers its own reset.

}  // namespace lichen::kernel

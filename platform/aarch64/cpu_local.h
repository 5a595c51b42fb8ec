// ArchCpu: the architecture's per-CPU record, reached through TPIDR_EL1.
//
// Not the kernel's CpuLocal (kernel/cpu.h: run queue, timers, mailbox, borrowed under an
// IrqGuard): this one is the hardware side (exception stack, MPIDR, redistributor, IRQ
// statistics) that exists from the first instruction of boot, before the core does, and that
// the exception vectors read from assembly. Two ideas, two names.
//
// Each CPU's TPIDR_EL1 holds the address of its own ArchCpu from the first instructions of
// boot.S on; nothing else ever writes TPIDR_EL1. ThisCpu() is therefore one system-register
// read and one load, and the exception vectors find this CPU's exception stack without a
// free register. Only the owning CPU writes its ArchCpu after bring-up, except `online`,
// which the boot CPU polls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/atomic.h"
#include "platform/aarch64/asm_defs.h"

namespace lichen::aarch64 {

struct alignas(64) ArchCpu {
  // Read by vectors.S: the initial stack pointer for synchronous exceptions and SErrors.
  uint64_t exception_stack_top;
  // Read by ThisCpu() (and by boot.S, which stores it): the logical CPU id.
  uint32_t cpu;
  // Nesting depth of synchronous exceptions/SErrors on this CPU (0 outside the handler). The
  // fatal-report path uses it to detect a fault inside the report itself.
  uint32_t fatal_depth;
  // MPIDR_EL1 affinity bits (Aff3..Aff0) of this CPU.
  uint64_t mpidr;
  // Base of this CPU's GICv3 redistributor (RD_base frame), found by GicInitCpu().
  uintptr_t gicr_base;
  // Set (release) by the CPU itself once its GIC, timer and vectors are ready.
  Atomic<uint32_t> online;
  // Interrupts taken on this CPU and spurious acknowledges (statistics for the boot log).
  uint64_t irq_count;
  uint64_t spurious_irq_count;
  // Timer interrupts that found the timer no longer firing (a disarm raced with delivery).
  uint64_t stale_timer_count;
};

static_assert(sizeof(ArchCpu) == LICHEN_ARCH_CPU_SIZE, "asm_defs.h: ArchCpu size");
static_assert(offsetof(ArchCpu, exception_stack_top) == LICHEN_ARCH_CPU_EXCEPTION_STACK_TOP,
              "asm_defs.h: ArchCpu::exception_stack_top offset");
static_assert(offsetof(ArchCpu, cpu) == LICHEN_ARCH_CPU_CPU, "asm_defs.h: ArchCpu::cpu");

// This CPU's ArchCpu.
inline ArchCpu& ThisArchCpu() {
  uint64_t p;
  asm volatile("mrs %0, tpidr_el1" : "=r"(p));
  return *reinterpret_cast<ArchCpu*>(p);
}

// ArchCpu of logical CPU `cpu` (any CPU may read the immutable fields after bring-up).
ArchCpu& ArchCpuOf(uint32_t cpu);

// CPUs the platform has started so far (final once the boot CPU calls KernelMain): what
// platform::CpuCount() reports. Not the kernel's OnlineCpus(), the CPUs whose scheduler runs.
uint32_t StartedCpuCount();
// Boot CPU only, during bring-up: publishes the number of CPUs started.
void SetStartedCpuCount(uint32_t count);

}  // namespace lichen::aarch64

// The array itself; boot.S computes &lichen_arch_cpu[cpu] for TPIDR_EL1.
extern "C" lichen::aarch64::ArchCpu lichen_arch_cpu[LICHEN_AARCH64_MAX_CPUS];

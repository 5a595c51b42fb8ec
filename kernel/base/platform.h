// The platform interface: everything the portable core may ask of a machine.
//
// The core (kernel/, lib/) is compiled unchanged for two platforms:
//   platform/sim      N virtual CPUs on host fibers, deterministic, virtual time;
//   platform/aarch64  QEMU virt: GICv3 SGIs, the Arm generic timer, PSCI.
// Each platform defines these functions; the core includes no other platform header.
// Events flow the other way through kernel/irq.h (timer interrupt, IPI, interrupt exit).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/cpumask.h"

namespace lichen::platform {

using CpuId = uint32_t;

// --- CPU identity -------------------------------------------------------------------------

// The calling CPU's logical id, 0 .. CpuCount()-1. Stable only while IRQs are masked: a
// preemptible task can migrate between two calls.
CpuId ThisCpu();

// The machine's CPUs, ids 0 .. CpuCount()-1: the one count of them, fixed before the kernel
// starts (on aarch64, the CPUs the platform brought up). Not OnlineCpus() (kernel/cpu.h),
// which is the set of CPUs whose scheduler is running: it grows during boot and equals
// FirstN(CpuCount()) once every CPU has finished kernel::InitThisCpu.
uint32_t CpuCount();

// --- Interrupt masking ----------------------------------------------------------------------

// Saved interrupt-mask state, restored by RestoreIrqs(). Opaque to the core.
struct IrqState {
  bool was_masked;
};

// Masks IRQs on this CPU and returns the previous state.
[[nodiscard("restore the saved state with RestoreIrqs")]] IrqState SaveAndMaskIrqs();

// Restores the state saved by SaveAndMaskIrqs(); unmasking may deliver a pending interrupt.
void RestoreIrqs(IrqState state);

// True while IRQs are masked on this CPU.
bool IrqsMasked();

// --- Inter-processor interrupts --------------------------------------------------------------

// Sends the reschedule/message IPI to every CPU in `targets` (the caller has removed itself).
void SendIpi(CpuMask targets);

// --- Task contexts ---------------------------------------------------------------------------

// A suspended execution context. Registers live on the task's own stack; only the stack
// pointer and the stack's bounds are kept here (the bounds serve the simulator's sanitizer
// annotations and the fatal reports; task stacks have no guard page and nothing checks them
// for overflow yet: a boot stack's guard page is the only one).
struct Context {
  void* sp = nullptr;
  void* stack_base = nullptr;  // lowest address of the stack
  size_t stack_size = 0;
};

// The first code a new context runs. `arg` is the value given to InitContext. It must never
// return: a task leaves through the scheduler's exit path.
using ContextEntry = void (*)(void* arg);

// Prepares `ctx` so that the first SwitchContext() into it calls entry(arg) on the given stack,
// with IRQs still masked (the core unmasks them once the switch is finished).
void InitContext(Context& ctx, void* stack_base, size_t stack_size, ContextEntry entry, void* arg);

// Saves the running context into `save` and resumes `load`. Called with IRQs masked; returns
// (still masked) when some CPU later switches back to `save` -- possibly another CPU.
void SwitchContext(Context& save, const Context& load);

// --- Time -----------------------------------------------------------------------------------

// Monotonic time in nanoseconds since boot, the same clock on every CPU.
uint64_t Now();

// Arms this CPU's one-shot timer to interrupt at absolute time `deadline_ns` (immediately if
// it has passed). Replaces any earlier deadline.
void ArmTimer(uint64_t deadline_ns);

// Disarms this CPU's timer: no timer interrupt until the next ArmTimer().
void DisarmTimer();

// --- Idle and spinning ----------------------------------------------------------------------

// Waits until an interrupt is pending for this CPU. Called with IRQs masked so that checking
// for work and sleeping is atomic; returns with IRQs still masked, and the caller unmasks to
// take the interrupt (Arm's WFI semantics).
void WaitForInterrupt();

// Hint inside a spin-wait loop. In the simulator this is where another CPU gets to run.
void CpuRelax();

}  // namespace lichen::platform

// The real-threads test double of kernel/base/platform.h; see platform_stub.h.
#include "tests/mm/platform_stub.h"

#include <chrono>
#include <thread>

#include "kernel/base/platform.h"
#include "lib/assert.h"

namespace {

using lichen::mm_test::InterruptHandler;

// Each host thread is one CPU: its id, its IRQ mask, its pending interrupt.
thread_local uint32_t t_cpu = 0;
thread_local bool t_irqs_masked = false;
thread_local InterruptHandler t_pending = nullptr;
thread_local void* t_pending_arg = nullptr;
thread_local bool t_in_interrupt = false;
thread_local uint64_t t_irq_spins = 0;

// Takes the pending interrupt if IRQs are unmasked: masks them, runs the handler, unmasks.
void DeliverPending() {
  if (t_pending == nullptr || t_irqs_masked) return;
  const InterruptHandler handler = t_pending;
  void* const arg = t_pending_arg;
  t_pending = nullptr;
  t_irqs_masked = true;
  t_in_interrupt = true;
  t_irq_spins = 0;
  handler(arg);
  t_in_interrupt = false;
  t_irqs_masked = false;
}

}  // namespace

namespace lichen::mm_test {

void SetThisCpu(uint32_t cpu) {
  t_cpu = cpu;
}

void RaiseInterrupt(InterruptHandler handler, void* arg) {
  LICHEN_ASSERT(t_pending == nullptr, "an interrupt is already pending on CPU {}", t_cpu);
  t_pending = handler;
  t_pending_arg = arg;
  DeliverPending();
}

bool InInterrupt() {
  return t_in_interrupt;
}

}  // namespace lichen::mm_test

namespace lichen::platform {

CpuId ThisCpu() {
  return t_cpu;
}

uint32_t CpuCount() {
  return kMaxCpus;
}

IrqState SaveAndMaskIrqs() {
  const IrqState state{t_irqs_masked};
  t_irqs_masked = true;
  return state;
}

void RestoreIrqs(IrqState state) {
  t_irqs_masked = state.was_masked;
  DeliverPending();
}

bool IrqsMasked() {
  return t_irqs_masked;
}

void SendIpi(CpuMask) {}

void InitContext(Context&, void*, size_t, ContextEntry, void*) {
  LICHEN_PANIC("the mm test platform has no task contexts");
}

void SwitchContext(Context&, const Context&) {
  LICHEN_PANIC("the mm test platform has no task contexts");
}

uint64_t Now() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void ArmTimer(uint64_t) {}

void DisarmTimer() {}

void WaitForInterrupt() {
  std::this_thread::yield();
}

void CpuRelax() {
  // A handler cannot wait for the code it interrupted: spinning this long inside one is the
  // seed's deadlock, reported instead of hanging the test.
  if (t_in_interrupt && ++t_irq_spins > mm_test::kIrqSpinLimit) {
    LICHEN_PANIC("deadlock: CPU {} spun {} times on a lock inside an interrupt handler", t_cpu,
                 t_irq_spins);
  }
  std::this_thread::yield();
}

}  // namespace lichen::platform

#include "kernel/base/irq_state.h"

#include "kernel/base/debug.h"
#include "kernel/base/percpu.h"
#include "lib/assert.h"
#include "lib/cpumask.h"
#include "lib/sim_reset.h"

namespace lichen {

IrqsOffCapability g_irqs_off;

IrqGuard::IrqGuard() {
  if (LICHEN_FAULT(irq_guard_does_not_mask)) {
    // The seed's design: per-CPU state borrowed with interrupts still enabled.
    saved_ = platform::IrqState{platform::IrqsMasked()};
    return;
  }
  saved_ = platform::SaveAndMaskIrqs();
}

IrqGuard::~IrqGuard() {
  platform::RestoreIrqs(saved_);
}

IrqsOff AssumeIrqsOff() {
  if (!LICHEN_FAULT(irq_guard_does_not_mask)) {
    LICHEN_DEBUG_ASSERT(platform::IrqsMasked(), "code that requires masked IRQs ran with IRQs on");
  }
  return IrqsOff();
}

namespace irq {

namespace {
// Interrupt nesting depth per CPU. Only its own CPU writes it, with IRQs masked; reading it
// with IRQs enabled is safe because then it is 0 on whatever CPU the reader runs. Not a
// PerCpu<T>: InHandler() asks with IRQs enabled. Its own cache line: every interrupt writes it.
PerCpuArray<uint32_t> g_depth;
}  // namespace

void EnterHandler(IrqsOff) {
  ++g_depth[platform::ThisCpu()];
}

uint32_t LeaveHandler(IrqsOff) {
  const uint32_t cpu = platform::ThisCpu();
  LICHEN_ASSERT(g_depth[cpu] > 0, "irq::Exit without Enter on CPU {}", cpu);
  return --g_depth[cpu];
}

bool InHandler() {
  return g_depth[platform::ThisCpu()] > 0;
}

#if defined(LICHEN_HOST)
namespace {
void ResetDepths() {
  for (uint32_t cpu = 0; cpu < kMaxCpus; ++cpu)
    g_depth[cpu] = 0;
}
const ResetRegistrar g_reset_irq("irq", ResetStage::kAny, &ResetDepths);
}  // namespace
#endif

}  // namespace irq

}  // namespace lichen

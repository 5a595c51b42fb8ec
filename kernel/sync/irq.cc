#include "kernel/sync/irq.h"

#include "kernel/debug.h"
#include "lib/assert.h"

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

}  // namespace lichen

// Interrupt masking as a capability.
//
// "IRQs are masked on this CPU" is what makes per-CPU state safe to touch: no interrupt
// handler can run in the middle of an update, and the task cannot migrate. Lichen models it
// as a clang thread-safety capability (g_irqs_off) so that functions which need it say
// TA_REQ(g_irqs_off) and callers that never masked interrupts do not compile; and as a token
// (IrqsOff) that per-CPU accessors take as proof, so the requirement shows at each call site.
#pragma once

#include "kernel/base/platform.h"
#include "lib/thread_annotations.h"

namespace lichen {

// The static-analysis capability "IRQs are masked on the calling CPU". It holds no data.
class TA_CAP("irqs_off") IrqsOffCapability {};
extern IrqsOffCapability g_irqs_off;

// Proof that IRQs are masked, handed to per-CPU accessors. Only IrqGuard and AssumeIrqsOff()
// create one.
class IrqsOff {
 private:
  friend class IrqGuard;
  friend IrqsOff AssumeIrqsOff();
  IrqsOff() = default;
};

// Masks IRQs for its scope and restores the previous state on exit. Nesting is done by
// passing the token down (functions taking TA_REQ(g_irqs_off)), not by a second guard.
class TA_SCOPED_CAP IrqGuard {
 public:
  IrqGuard() TA_ACQ(g_irqs_off);
  ~IrqGuard() TA_REL();
  IrqGuard(const IrqGuard&) = delete;
  IrqGuard& operator=(const IrqGuard&) = delete;

  // The proof token for per-CPU accessors; valid while the guard lives.
  IrqsOff token() const { return IrqsOff(); }

 private:
  platform::IrqState saved_;
};

// For code that is entered with IRQs already masked by the hardware or the caller: interrupt
// handlers and the context-switch path. Debug builds check that IRQs really are masked.
IrqsOff AssumeIrqsOff() TA_ASSERT(g_irqs_off);

// How deeply this CPU is nested in interrupt handlers. The platform's interrupt entry
// (kernel/irq.h's Enter/Exit) moves it; lockdep and the scheduler read it to know whether
// they run in an interrupt. It lives here, below every part that asks, so asking does not
// depend on the part that dispatches interrupts.
namespace irq {
// Called on entry to an interrupt handler, IRQs masked.
void EnterHandler(IrqsOff irqs_off) TA_REQ(g_irqs_off);
// Called on the way out; returns the depth left (0: back to the interrupted task).
uint32_t LeaveHandler(IrqsOff irqs_off) TA_REQ(g_irqs_off);
// True while this CPU runs an interrupt handler.
bool InHandler();
}  // namespace irq

}  // namespace lichen

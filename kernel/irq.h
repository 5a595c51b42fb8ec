// Interrupt entry points: how the platform raises events into the core.
//
// Every interrupt the platform takes is bracketed by Enter() and Exit(), with the specific
// event in between. All of them run on the interrupted context's stack with IRQs masked.
// Exit() is the preemption point: if the interrupt made a better task runnable on this CPU
// (a wakeup, a slice expiry), Exit() switches to it before the interrupted task resumes.
#pragma once

#include <cstdint>

#include "kernel/base/irq_state.h"  // irq::InHandler()

namespace lichen::irq {

// First call of every interrupt: counts nesting (InHandler()).
void Enter();

// This CPU's one-shot timer fired: run expired timer events, re-arm for the next one.
void OnTimer();

// The messenger's IPI arrived: drain this CPU's mailbox.
void OnIpi();

// Last call of every interrupt; may switch tasks (preemption on return from interrupt).
void Exit();

}  // namespace lichen::irq

// The memory orders of the mailbox protocol, named once (see kernel/sched/orders.h for why:
// tests/relacy/ checks the protocol with these same values).
//
// A sender pushes its message (lib/mpsc.h: a release CAS on the list head), then sets
// ipi_pending with an exchange and sends the IPI only if it was clear. The owner clears
// ipi_pending, then takes the whole list (an acquire exchange). Either the owner's take sees
// the message, or the sender sees the flag clear and sends a new IPI.
#pragma once

#include <atomic>

namespace lichen::smp::orders {

inline constexpr std::memory_order kSetIpiPending = std::memory_order_seq_cst;
inline constexpr std::memory_order kClearIpiPending = std::memory_order_seq_cst;

}  // namespace lichen::smp::orders

// The scheduler's timed events: a time::TimerNode plus what to do when it fires.
//
// They live in CpuLocal::timers and fire in that CPU's timer interrupt (OnTimerInterrupt),
// with IRQs masked and the CPU's state borrowed, which the callback receives.
#pragma once

#include "kernel/time/timer.h"

namespace lichen {
struct CpuLocal;
}

namespace lichen::sched {

struct TimerEvent : time::TimerNode {
  // Runs on the owning CPU, in its timer interrupt, with IRQs masked. May re-add the event.
  using Callback = void (*)(TimerEvent& event, CpuLocal& cpu);

  constexpr explicit TimerEvent(Callback callback) : fire(callback) {}

  Callback fire;
};

}  // namespace lichen::sched

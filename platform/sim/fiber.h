// Host fibers: execution contexts of the simulator's virtual CPUs and tasks.
//
// They implement platform::Context for the simulator. A switch saves the callee-saved
// registers on the current stack and loads another stack pointer; under AddressSanitizer it
// also tells ASan which stack is now in use.
#pragma once

#include <cstddef>

#include "kernel/base/platform.h"

namespace lichen::sim {

// Prepares `ctx` to run entry(arg) on [stack_base, stack_base + stack_size).
void FiberInit(platform::Context& ctx, void* stack_base, size_t stack_size,
               platform::ContextEntry entry, void* arg);

// Saves the running fiber into `save` (its stack pointer; the stack bounds must already be
// in `save`) and resumes `load`.
void FiberSwitch(platform::Context& save, const platform::Context& load);

// Learns the bounds of the host thread's own stack into `ctx` (the simulator's main fiber).
void FiberAdoptThreadStack(platform::Context& ctx);

}  // namespace lichen::sim

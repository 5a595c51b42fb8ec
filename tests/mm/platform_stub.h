// A minimal host platform for the memory-allocator tests, on real threads.
//
// The allocators need only a few platform functions (CPU id, IRQ masking, CpuRelax). This test
// double implements every function of kernel/base/platform.h for plain std::threads: each thread is
// one "CPU" with a thread-local id and a thread-local IRQ mask. It also models one interrupt
// line per thread, so a test can raise an interrupt and have its handler run the moment IRQs
// are unmasked on that thread, as hardware would -- enough to replay the seed's heap deadlock
// without the simulator. A handler that spins in CpuRelax far longer than any lock hold time
// is reported as a deadlock (a panic) instead of hanging the test.
#pragma once

#include <cstdint>

namespace lichen::mm_test {

// Makes the calling thread CPU `cpu` (default 0) for ThisCpu() and lockdep.
void SetThisCpu(uint32_t cpu);

// An interrupt handler: runs with IRQs masked, like a real one.
using InterruptHandler = void (*)(void* arg);

// Raises an interrupt on the calling thread's CPU: `handler(arg)` runs immediately if IRQs are
// unmasked here, otherwise as soon as RestoreIrqs() unmasks them. One may be pending at a time.
void RaiseInterrupt(InterruptHandler handler, void* arg);

// True while the calling thread runs an interrupt handler.
bool InInterrupt();

// CpuRelax() calls inside one interrupt handler after which the stub declares a deadlock.
inline constexpr uint64_t kIrqSpinLimit = 200000;

}  // namespace lichen::mm_test

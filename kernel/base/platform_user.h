// The platform side of user space: what the core asks of a machine to run user threads.
//
// Each platform implements these (aarch64: platform/aarch64; the simulator, where "user code"
// is a host function: platform/sim/user.cc). The core calls them; the platform calls the core
// back through kernel/user/entry.h when a user thread enters the kernel.
//
// UserExtState is the part of a user thread's state that only the platform touches: on
// aarch64 the FP/SIMD registers V0..V31, FPCR, FPSR and TPIDR_EL0 (the thread pointer). The
// core allocates kUserExtStateSize bytes aligned to kUserExtStateAlign for each user thread
// and hands the pointer back; it never looks inside.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/user/regs.h"

namespace lichen::platform {

#if defined(LICHEN_HOST)
// The simulator: the thread pointer (TPIDR_EL0) and a check word.
inline constexpr size_t kUserExtStateSize = 16;
#else
// aarch64: V0..V31 (32 x 16 bytes), FPCR, FPSR, TPIDR_EL0, padded to 16.
inline constexpr size_t kUserExtStateSize = 32 * 16 + 3 * 8 + 8;
#endif
inline constexpr size_t kUserExtStateAlign = 16;

// The kernel stack of a user thread's task. In the simulator the host function that plays
// the thread's user code runs on it too (and sanitizers grow every frame), so it is larger.
#if defined(LICHEN_HOST)
inline constexpr size_t kUserThreadKernelStackSize = 256 * 1024;
#else
inline constexpr size_t kUserThreadKernelStackSize = 16 * 1024;
#endif

// The first entry of a new user thread into EL0 with `regs` (pc, sp, x0.., pstate). Called
// by the thread's own task, in task context with IRQs MASKED (its last kill check was made
// that way: they stay masked until the eret), once its UserExtState is this CPU's (the switch
// hook ran when the task was switched in). Never returns: the thread
// comes back into the kernel only through kernel/user/entry.h.
[[noreturn]] void EnterUser(const UserRegs& regs);

// Initializes a new thread's UserExtState at `ext`: FP/SIMD registers and FPCR/FPSR zero
// (Linux's initial state), TPIDR_EL0 = `tls`. Does not load it onto the CPU.
void InitUserExtState(void* ext, uint64_t tls);

// clone(2): initializes a new thread's UserExtState at `child_ext` as a copy of the calling
// thread's live one (its FP/SIMD registers, FPCR/FPSR and TPIDR_EL0, as Linux's copy_thread
// does), then, when `set_tls` (CLONE_SETTLS), with TPIDR_EL0 = `tls`. Called by the parent
// in a syscall, with its state live on this CPU; changes nothing of the parent's.
void CloneUserExtState(void* child_ext, bool set_tls, uint64_t tls);

// Context switch of user state on this CPU, IRQs masked, called by the scheduler's switch
// hook before SwitchContext: saves this CPU's live user state into `prev_ext` and loads
// `next_ext`. Either may be null (a kernel task on that side): nothing is saved, or nothing
// is loaded (the CPU's user state is then undefined until a user thread's is loaded; no
// kernel data is left where EL0 can read it).
void SwitchUserExtState(void* prev_ext, void* next_ext);

// The console as a file: write(2) to fd 1 and 2 of a process. Writes `len` bytes of user data
// (already copied into the kernel) as they are, no framing added; may be called from any CPU
// with IRQs unmasked, and is atomic per call with respect to other callers and the log.
void ConsoleWrite(const char* data, size_t len);

// Powers the machine off with `status` as the exit status the host sees (QEMU's exit status
// on aarch64, the run's result in the simulator). Called when the last user process has
// exited, or by reboot(2). Returns only in the simulator, where the run goes on to its end.
void PowerOff(int status);

}  // namespace lichen::platform

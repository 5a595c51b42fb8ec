// Entry from user space: what the platform calls when a user thread enters the kernel.
//
// The platform's exception vectors (aarch64: platform/aarch64; the simulator: the host
// function that stands for user code, platform/sim/user.h) save the thread's registers in a
// UserRegs on its kernel stack and call one of the functions below, in the thread's own task
// context, with IRQs unmasked (a syscall or a fault may sleep: a futex wait, a page being
// faulted in). Every way back to EL0 -- after a syscall, a fault, and an interrupt taken from
// EL0 -- passes through BeforeReturnToUser last, with IRQs unmasked. That is where a thread
// that another thread killed (exit_group, a fatal signal) leaves: exit_group makes a sibling
// running on another CPU enter the kernel at once with a message to that CPU, and the
// sibling's way back to user space ends here.
//
// None of these dereference a user pointer: user memory is reached through kernel/vm's
// copies (a bad pointer is EFAULT, never a kernel fault).
#pragma once

#include <cstdint>

#include "kernel/user/regs.h"

namespace lichen::user {

// A synchronous exception from EL0 other than a syscall or a translation/permission fault on
// a data or instruction access (those are OnPageFault). Each ends the thread's process with
// the signal Linux would send (its default action), unless a later signal layer delivers it.
enum class FaultKind : uint8_t {
  kUndefinedInstruction,  // SIGILL (ESR EC 0x00, and traps of instructions EL0 may not run)
  kIllegalState,          // SIGILL (EC 0x0e: illegal execution state)
  kPcAlignment,           // SIGBUS (EC 0x22)
  kSpAlignment,           // SIGBUS (EC 0x26)
  kDataAlignment,         // SIGBUS (an alignment fault on a data access, DFSC 0x21)
  kBreakpoint,            // SIGTRAP (BRK, EC 0x3c; hardware breakpoints, single step)
  kFpException,           // SIGFPE (EC 0x2c, trapped floating point)
  kSError,                // SIGBUS (an asynchronous external abort taken from EL0)
  kOther,                 // SIGILL (any class the platform does not name)
};

// SVC from EL0: x8 is the number, x0..x5 the arguments; the result goes to x0 (>= 0 or
// -errno). Unknown numbers are -ENOSYS and one log line. exit, exit_group and a fatal signal
// never return here (the thread leaves the kernel through the scheduler's exit).
void OnSyscall(UserRegs& regs);

// A translation, access-flag or permission fault at `addr` from EL0 (an instruction fetch
// when `exec`, else a load or, when `write`, a store). Resolves it through the address space
// (demand paging) and returns to retry the access, or ends the process with SIGSEGV (a
// killed-by-signal status; never a kernel panic).
void OnPageFault(UserRegs& regs, uintptr_t addr, bool write, bool exec);

// Any other synchronous exception from EL0 (FaultKind). `addr` is the faulting address when
// the platform knows one (FAR_EL1), else regs.pc.
void OnUserFault(UserRegs& regs, FaultKind kind, uintptr_t addr);

// The last step before returning to EL0, on every path. A thread whose process is exiting
// (exit_group, a fatal signal) or that was killed leaves here and never returns; otherwise
// it returns and the platform restores `regs`. Called with IRQs unmasked; returns with IRQs
// MASKED, its last check made that way, and the platform returns to EL0 without unmasking
// them first (the eret restores the user's PSTATE): an IPI that comes after the check is then
// taken in user space and comes back here, instead of landing between the check and the
// return and leaving a killed thread in user space (Linux's exit_to_user_mode does the same).
void BeforeReturnToUser(UserRegs& regs);

}  // namespace lichen::user

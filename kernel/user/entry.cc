// Entry from user space (entry.h): syscalls, faults, and the last step before returning.
#include "kernel/user/entry.h"

#include "kernel/base/platform.h"
#include "kernel/proc/process.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/syscall/syscall.h"
#include "kernel/vm/address_space.h"
#include "lib/assert.h"
#include "lib/log.h"

namespace lichen::user {

namespace {

int SignalOf(FaultKind kind) {
  switch (kind) {
    case FaultKind::kUndefinedInstruction:
    case FaultKind::kIllegalState:
    case FaultKind::kOther:
      return proc::kSigIll;
    case FaultKind::kPcAlignment:
    case FaultKind::kSpAlignment:
    case FaultKind::kDataAlignment:
    case FaultKind::kSError:
      return proc::kSigBus;
    case FaultKind::kBreakpoint:
      return proc::kSigTrap;
    case FaultKind::kFpException:
      return proc::kSigFpe;
  }
  return proc::kSigIll;
}

proc::Thread& Self() {
  proc::Thread* t = proc::CurrentThread();
  LICHEN_ASSERT(t != nullptr, "user entry from kernel task {}", sched::Current()->id);
  return *t;
}

}  // namespace

void OnSyscall(UserRegs& regs) {
  const int64_t result = syscall::Dispatch(regs);
  regs.x[kSyscallResultReg] = static_cast<uint64_t>(result);
}

void OnPageFault(UserRegs& regs, uintptr_t addr, bool write, bool exec) {
  proc::Thread& t = Self();
  const vm::Access access =
      exec ? vm::Access::kExec : (write ? vm::Access::kWrite : vm::Access::kRead);
  const vm::FaultResult result = vm::HandleFault(*t.process->as, addr, access);
  if (result == vm::FaultResult::kOk) return;
  LICHEN_LOG_INFO("process {} thread {}: {} fault at {:#x} (pc {:#x}): {}", t.process->pid, t.tid,
                  exec ? "exec" : (write ? "write" : "read"), addr, regs.pc,
                  vm::FaultResultName(result));
  // Out of memory is SIGKILL in Linux (the OOM killer); a bad access is SIGSEGV.
  proc::ForceSignal(t, result == vm::FaultResult::kNoMemory ? proc::kSigKill : proc::kSigSegv);
}

void OnUserFault(UserRegs& regs, FaultKind kind, uintptr_t addr) {
  proc::Thread& t = Self();
  LICHEN_LOG_INFO("process {} thread {}: fault kind {} at {:#x} (pc {:#x})", t.process->pid, t.tid,
                  static_cast<int>(kind), addr, regs.pc);
  proc::ForceSignal(t, SignalOf(kind));
}

void BeforeReturnToUser(UserRegs& regs) {
  (void)regs;
  proc::Thread& t = Self();
  for (;;) {
    // The last look is taken with IRQs masked, and they stay masked until the platform's
    // return to EL0 (whose eret restores the user's PSTATE): an exit_group's IPI that comes
    // after the look is then taken in user space and brings the thread straight back here.
    // With IRQs on, it could land between the look and the return, be handled in the kernel,
    // and leave a killed thread running user code until its next interrupt.
    (void)platform::SaveAndMaskIrqs();
    const bool interrupted = sched::InterruptPending();
    if (!interrupted && !proc::MustExit(t)) return;
    platform::RestoreIrqs(platform::IrqState{false});
    // An interruption is consumed here, so that it does not end the thread's next
    // interruptible wait at once; first, because a killer sets the kill flag before it
    // interrupts: whoever interrupted us for a kill has set the flag seen below.
    if (interrupted) sched::ClearInterrupt();
    if (proc::MustExit(t)) proc::ExitKilled();
  }
}

}  // namespace lichen::user

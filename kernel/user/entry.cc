// Entry from user space (entry.h): syscalls, faults, and the last step before returning.
#include "kernel/user/entry.h"

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
  // An interruption is consumed here, so that it does not end the thread's next interruptible
  // wait at once; first, because a killer sets the kill flag before it interrupts: whoever
  // interrupted us for a kill has set the flag that the check below then sees.
  if (sched::InterruptPending()) sched::ClearInterrupt();
  if (proc::MustExit(t)) proc::ExitKilled();
}

}  // namespace lichen::user

// clone(2) for threads: the only kind of child this kernel makes (no fork, no namespaces).
#include "kernel/proc/clone.h"

#include "kernel/proc/process.h"
#include "kernel/proc/usermem.h"
#include "kernel/sched/sched.h"
#include "lib/errno.h"
#include "lib/log.h"

namespace lichen::proc {

int64_t Clone(const UserRegs& regs, uint64_t flags, uintptr_t newsp, uintptr_t parent_tid,
              uint64_t tls, uintptr_t child_tid) {
  Thread* self = CurrentThread();
  // Linux's own consistency checks first (copy_process): these are EINVAL there too.
  if ((flags & kCloneThread) != 0 && (flags & kCloneSighand) == 0) {
    return SyscallError(Errno::kInval);
  }
  if ((flags & kCloneSighand) != 0 && (flags & kCloneVm) == 0) return SyscallError(Errno::kInval);
  if ((flags & (kCloneNewNs | kCloneFs)) == (kCloneNewNs | kCloneFs)) {
    return SyscallError(Errno::kInval);
  }
  // Not a thread (fork, vfork, a process sharing memory, namespaces, pidfds, ptrace): valid
  // requests this kernel does not do. ENOSYS, so that a C library can tell "unsupported"
  // from "wrong" (glibc's posix_spawn and fork then fail cleanly).
  constexpr uint64_t kThreadFlags =
      kCloneVm | kCloneFs | kCloneFiles | kCloneSighand | kCloneThread | kCloneSysvsem;
  if ((flags & kThreadFlags) != kThreadFlags) {
    LICHEN_LOG_INFO("clone: flags {:#x} make a process, not a thread: ENOSYS", flags);
    return SyscallError(Errno::kNoSys);
  }
  constexpr uint64_t kSupported = kThreadFlags | kCloneSettls | kCloneParentSettid |
                                  kCloneChildSettid | kCloneChildCleartid | kCloneDetached |
                                  kCloneUntraced | kCloneIo | kCsignal;
  if ((flags & ~kSupported) != 0) {
    LICHEN_LOG_INFO("clone: unsupported flags {:#x}: ENOSYS", flags & ~kSupported);
    return SyscallError(Errno::kNoSys);
  }
  // CSIGNAL (the exit signal) is ignored for a thread, as Linux's legacy clone does.
  ThreadStart start;
  start.regs = regs;
  start.regs.x[0] = 0;  // the child's clone() returns 0
  if (newsp != 0) start.regs.sp = newsp;
  start.tls = tls;
  start.clear_child_tid = (flags & kCloneChildCleartid) != 0 ? child_tid : 0;
  start.set_child_tid = (flags & kCloneChildSettid) != 0 ? child_tid : 0;
  start.affinity = sched::Current()->Affinity();
  start.nice = sched::Current()->requested_nice.Load(std::memory_order_relaxed);
  // CLONE_SETTLS: the given thread pointer; else the parent's (CloneUserExtState copies it).
  start.set_tls = (flags & kCloneSettls) != 0;
  // CLONE_PARENT_SETTID: in the parent's memory (the same), before the child runs. Linux
  // writes it before the child can run and ignores a fault; so does this.
  struct ParentTid {
    vm::AddressSpace* as;
    uintptr_t addr;
  } parent_tid_write{self->process->as, parent_tid};
  if ((flags & kCloneParentSettid) != 0) {
    start.before_start = [](void* ctx, uint32_t tid) {
      auto* w = static_cast<ParentTid*>(ctx);
      (void)CopyToUser(*w->as, w->addr, &tid, sizeof(tid));
    };
    start.before_start_ctx = &parent_tid_write;
  }
  Result<uint32_t> child = SpawnThread(self->process, start);
  if (!child.ok()) {
    if (child.error() == Error::kBadState) return SyscallError(Errno::kIntr);  // exiting
    return SyscallError(Errno::kAgain);  // EAGAIN: Linux's answer to "no resources"
  }
  return child.value();
}

}  // namespace lichen::proc

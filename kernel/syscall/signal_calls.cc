// Signals: actions and masks are stored; default actions are carried out; handlers are not
// run (no signal frames yet: docs/process.md).
#include "kernel/proc/process.h"
#include "kernel/sched/wait.h"
#include "kernel/syscall/calls.h"
#include "lib/log.h"

namespace lichen::syscall {

namespace {

constexpr uint64_t kSigsetSize = 8;
constexpr int kSigBlock = 0;
constexpr int kSigUnblock = 1;
constexpr int kSigSetmask = 2;
constexpr uint64_t kUnblockable = proc::SigBit(proc::kSigKill) | proc::SigBit(proc::kSigStop);
constexpr int32_t kSsAutodisarm = int32_t(1u << 31);

bool ValidSignal(int sig) {
  return sig >= 1 && sig <= proc::kNumSignals;
}

}  // namespace

int64_t SysRtSigaction(Call& c) {
  const int sig = c.iarg(0);
  if (c.arg(3) != kSigsetSize) return Err(Errno::kInval);
  if (!ValidSignal(sig)) return Err(Errno::kInval);
  proc::SigAction next;
  const bool set = c.arg(1) != 0;
  if (set) {
    if (sig == proc::kSigKill || sig == proc::kSigStop) return Err(Errno::kInval);
    if (!In(c, &next, c.arg(1))) return Err(Errno::kFault);
    next.mask &= ~kUnblockable;
  }
  proc::SigAction old;
  {
    LockGuard<SpinLock> guard(c.process.lock);
    old = c.process.actions[sig - 1];
    if (set) {
      c.process.actions[sig - 1] = next;
      // Ignoring a pending signal discards it (POSIX; Linux does).
      if (next.handler == proc::kSigIgn ||
          (next.handler == proc::kSigDfl &&
           proc::DefaultActionOf(sig) == proc::DefaultAction::kIgnore)) {
        c.process.pending &= ~proc::SigBit(sig);
      }
    }
  }
  if (c.arg(2) != 0 && !Out(c, c.arg(2), old)) return Err(Errno::kFault);
  // A pending fatal signal whose handler was just reset to the default now acts.
  if (set) proc::DeliverUnblocked(c.thread);
  return 0;
}

int64_t SysRtSigprocmask(Call& c) {
  const int how = c.iarg(0);
  if (c.arg(3) != kSigsetSize) return Err(Errno::kInval);
  uint64_t set = 0;
  const bool has_set = c.arg(1) != 0;
  if (has_set) {
    if (!In(c, &set, c.arg(1))) return Err(Errno::kFault);
    if (how != kSigBlock && how != kSigUnblock && how != kSigSetmask) return Err(Errno::kInval);
  }
  const uint64_t old = c.thread.sigmask.Load(std::memory_order_relaxed);
  if (c.arg(2) != 0 && !Out(c, c.arg(2), old)) return Err(Errno::kFault);
  if (has_set) {
    uint64_t next = old;
    if (how == kSigBlock) next = old | set;
    if (how == kSigUnblock) next = old & ~set;
    if (how == kSigSetmask) next = set;
    c.thread.sigmask.Store(next & ~kUnblockable, std::memory_order_relaxed);
    proc::DeliverUnblocked(c.thread);
  }
  return 0;
}

int64_t SysRtSigpending(Call& c) {
  if (c.arg(1) != kSigsetSize) return Err(Errno::kInval);
  uint64_t pending = 0;
  {
    LockGuard<SpinLock> guard(c.process.lock);
    pending = c.process.pending;
  }
  if (!Out(c, c.arg(0), pending)) return Err(Errno::kFault);
  return 0;
}

int64_t SysRtSigreturn(Call& c) {
  // No signal frame was ever pushed, so there is nothing to return to: Linux sends SIGSEGV
  // for a bad frame, and so does this.
  proc::ForceSignal(c.thread, proc::kSigSegv);
  return Err(Errno::kFault);
}

int64_t SysRtSigsuspend(Call& c) {
  if (c.arg(1) != kSigsetSize) return Err(Errno::kInval);
  uint64_t mask = 0;
  if (!In(c, &mask, c.arg(0))) return Err(Errno::kFault);
  // Only a signal that ends the process could end the wait (handlers are not run): sleep
  // until the thread is killed.
  const uint64_t saved = c.thread.sigmask.Load(std::memory_order_relaxed);
  c.thread.sigmask.Store(mask & ~kUnblockable, std::memory_order_relaxed);
  proc::DeliverUnblocked(c.thread);
  sched::WaitOptions options;
  options.interruptible = true;
  sched::Wait([&c] { return proc::MustExit(c.thread); }, options);
  c.thread.sigmask.Store(saved, std::memory_order_relaxed);
  return Err(Errno::kIntr);
}

int64_t SysSigaltstack(Call& c) {
  proc::SigAltStack old = c.thread.altstack;
  if (old.size == 0) old.flags = proc::kSsDisable;
  if (c.arg(0) != 0) {
    proc::SigAltStack next;
    if (!In(c, &next, c.arg(0))) return Err(Errno::kFault);
    const int32_t mode = next.flags & ~kSsAutodisarm;
    if (mode != 0 && mode != proc::kSsDisable && mode != proc::kSsOnStack) {
      return Err(Errno::kInval);
    }
    if (mode == proc::kSsDisable) {
      next.sp = 0;
      next.size = 0;
    } else if (next.size < proc::kMinSigStackSize) {
      return Err(Errno::kNoMem);
    }
    next.flags = 0;
    c.thread.altstack = next;
  }
  if (c.arg(1) != 0 && !Out(c, c.arg(1), old)) return Err(Errno::kFault);
  return 0;
}

int64_t SysKill(Call& c) {
  const int32_t pid = c.iarg(0);
  const int sig = c.iarg(1);
  if (sig < 0 || sig > proc::kNumSignals) return Err(Errno::kInval);
  // Each process is its own group: 0 and -pid of our own group mean this process; -1 means
  // every process but init and the caller (none, with one process: ESRCH, as Linux).
  proc::Process* target = nullptr;
  if (pid == 0 || pid == -static_cast<int32_t>(c.process.pid)) {
    target = &c.process;
    proc::GetProcess(target);
  } else if (pid > 0) {
    target = proc::FindProcess(static_cast<uint32_t>(pid));
  } else if (pid == -1) {
    return Err(Errno::kSrch);
  } else {
    target = proc::FindProcess(static_cast<uint32_t>(-static_cast<int64_t>(pid)));
  }
  if (target == nullptr) return Err(Errno::kSrch);
  const int64_t result = proc::SendSignal(target, nullptr, sig);
  proc::PutProcess(target);
  return result;
}

int64_t SysTkill(Call& c) {
  const int32_t tid = c.iarg(0);
  const int sig = c.iarg(1);
  if (tid <= 0 || sig < 0 || sig > proc::kNumSignals) return Err(Errno::kInval);
  proc::Thread* t = proc::FindThread(static_cast<uint32_t>(tid));
  if (t == nullptr) return Err(Errno::kSrch);
  const int64_t result = proc::SendSignal(t->process, t, sig);
  proc::PutThread(t);
  return result;
}

int64_t SysTgkill(Call& c) {
  const int32_t tgid = c.iarg(0);
  const int32_t tid = c.iarg(1);
  const int sig = c.iarg(2);
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > proc::kNumSignals) return Err(Errno::kInval);
  if (static_cast<uint32_t>(tgid) != c.process.pid) return Err(Errno::kSrch);
  proc::Thread* t = proc::FindThread(static_cast<uint32_t>(tid));
  if (t == nullptr) return Err(Errno::kSrch);
  const int64_t result = proc::SendSignal(t->process, t, sig);
  proc::PutThread(t);
  return result;
}

}  // namespace lichen::syscall

// Scheduling: yield, affinity, nice, sched_setattr. Threads are scheduler tasks, so each call
// is the scheduler's own operation on the thread's task.
#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/proc/process.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/eevdf.h"
#include "kernel/sched/sched.h"
#include "kernel/syscall/calls.h"

namespace lichen::syscall {

namespace {

constexpr int kSchedOther = 0;
constexpr int kPrioProcess = 0;
constexpr int kPrioPgrp = 1;
constexpr int kPrioUser = 2;
constexpr uint32_t kSchedAttrSizeVer0 = 48;
constexpr uint64_t kSchedFlagResetOnFork = 0x01;
constexpr uint64_t kSchedFlagKeepPolicy = 0x08;
constexpr uint64_t kSchedFlagKeepParams = 0x10;

// struct sched_attr (VER1, 56 bytes; VER0 is the first 48).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};
static_assert(sizeof(SchedAttr) == 56);

// The thread a pid argument names (0: the caller), with a reference, or null (ESRCH). Only
// the calling process's threads can be named: there is one process.
proc::Thread* ThreadFor(int32_t pid) {
  if (pid < 0) return nullptr;
  return proc::FindThread(static_cast<uint32_t>(pid));
}

Task* TaskOfThread(proc::Thread* t) {
  return t->task.Load(std::memory_order_acquire);
}

int Nice(Task* task) {
  return task->requested_nice.Load(std::memory_order_relaxed);
}

}  // namespace

int64_t SysSchedYield(Call&) {
  sched::Yield();
  return 0;
}

int64_t SysSchedSetaffinity(Call& c) {
  const uint64_t len = c.arg(1);
  uint64_t bits = 0;
  // Linux reads min(len, its mask size) bytes and zero-fills the rest.
  const size_t n = len < sizeof(bits) ? len : sizeof(bits);
  if (n > 0 && !proc::CopyFromUser(c.as, &bits, c.arg(2), n)) return Err(Errno::kFault);
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return Err(Errno::kSrch);
  Task* task = TaskOfThread(t);
  int64_t result = 0;
  if (task == nullptr || !sched::SetAffinity(task, CpuMask(bits)).ok()) {
    result = Err(Errno::kInval);  // no online CPU in the mask
  }
  proc::PutThread(t);
  return result;
}

int64_t SysSchedGetaffinity(Call& c) {
  const uint64_t len = c.arg(1);
  // Linux: the buffer must hold nr_cpu_ids bits and be a whole number of longs.
  if (len * 8 < platform::CpuCount() || (len & 7) != 0) return Err(Errno::kInval);
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return Err(Errno::kSrch);
  Task* task = TaskOfThread(t);
  const uint64_t bits = task != nullptr ? (task->Affinity() & OnlineCpus()).bits() : uint64_t{0};
  proc::PutThread(t);
  if (!Out(c, c.arg(2), bits)) return Err(Errno::kFault);
  return sizeof(bits);  // the bytes written: the kernel's mask size
}

int64_t SysGetcpu(Call& c) {
  uint32_t cpu = 0;
  {
    IrqGuard guard;
    cpu = platform::ThisCpu();
  }
  if (c.arg(0) != 0 && !Out(c, c.arg(0), cpu)) return Err(Errno::kFault);
  const uint32_t node = 0;
  if (c.arg(1) != 0 && !Out(c, c.arg(1), node)) return Err(Errno::kFault);
  return 0;
}

int64_t SysSetpriority(Call& c) {
  const int which = c.iarg(0);
  const int32_t who = c.iarg(1);
  int nice = c.iarg(2);
  if (which != kPrioProcess && which != kPrioPgrp && which != kPrioUser) {
    return Err(Errno::kInval);
  }
  nice = nice < -20 ? -20 : (nice > 19 ? 19 : nice);
  if (which != kPrioProcess) {
    // A group or a user: every thread of the process (the only one, its group, root's), in
    // tid order, each through the scheduler (SetNice may sleep: not under the process lock).
    if (who != 0 && static_cast<uint32_t>(who) != c.process.pid) return Err(Errno::kSrch);
    for (uint32_t last = 0;;) {
      uint32_t next = ~0u;
      {
        LockGuard<SpinLock> guard(c.process.lock);
        for (proc::Thread* t = c.process.threads.Front(); t != nullptr;
             t = c.process.threads.Next(*t)) {
          if (t->tid > last && t->tid < next) next = t->tid;
        }
      }
      if (next == ~0u) return 0;
      if (proc::Thread* t = proc::FindThread(next)) {
        if (Task* task = TaskOfThread(t)) sched::SetNice(task, nice);
        proc::PutThread(t);
      }
      last = next;
    }
  }
  // PRIO_PROCESS names one thread, as in Linux (who is a tid; 0: the caller).
  proc::Thread* t = ThreadFor(which == kPrioProcess ? who : 0);
  if (t == nullptr) return Err(Errno::kSrch);
  Task* task = TaskOfThread(t);
  if (task != nullptr) sched::SetNice(task, nice);
  proc::PutThread(t);
  return 0;
}

int64_t SysGetpriority(Call& c) {
  const int which = c.iarg(0);
  const int32_t who = c.iarg(1);
  if (which != kPrioProcess && which != kPrioPgrp && which != kPrioUser) {
    return Err(Errno::kInval);
  }
  if (which != kPrioProcess && who != 0 && static_cast<uint32_t>(who) != c.process.pid) {
    return Err(Errno::kSrch);
  }
  proc::Thread* t = ThreadFor(which == kPrioProcess ? who : 0);
  if (t == nullptr) return Err(Errno::kSrch);
  Task* task = TaskOfThread(t);
  const int nice = task != nullptr ? Nice(task) : 0;
  proc::PutThread(t);
  // The raw syscall returns 20 - nice (1..40) so that no success looks like an error; the C
  // library turns it back into the nice value.
  return 20 - nice;
}

int64_t SysSchedSetattr(Call& c) {
  if (c.arg(2) != 0) return Err(Errno::kInval);  // flags
  if (c.iarg(0) < 0 || c.arg(1) == 0) return Err(Errno::kInval);
  uint32_t size = 0;
  if (!In(c, &size, c.arg(1))) return Err(Errno::kFault);
  if (size == 0) size = kSchedAttrSizeVer0;
  if (size < kSchedAttrSizeVer0 || size > 4096) {
    // Linux writes the size it knows back, then E2BIG.
    const uint32_t known = sizeof(SchedAttr);
    (void)Out(c, c.arg(1), known);
    return Err(Errno::kTooBig);
  }
  SchedAttr attr = {};
  const size_t n = size < sizeof(attr) ? size : sizeof(attr);
  if (!proc::CopyFromUser(c.as, &attr, c.arg(1), n)) return Err(Errno::kFault);
  // A larger struct from a newer C library is accepted if its tail is zero (Linux's
  // copy_struct_from_user).
  for (uint64_t off = sizeof(attr); off < size; ++off) {
    uint8_t byte = 0;
    if (!In(c, &byte, c.arg(1) + off)) return Err(Errno::kFault);
    if (byte != 0) {
      const uint32_t known = sizeof(SchedAttr);
      (void)Out(c, c.arg(1), known);
      return Err(Errno::kTooBig);
    }
  }
  constexpr uint64_t kKnownFlags =
      kSchedFlagResetOnFork | kSchedFlagKeepPolicy | kSchedFlagKeepParams;
  if ((attr.sched_flags & ~kKnownFlags) != 0) return Err(Errno::kInval);
  // SCHED_OTHER only: the real-time and deadline classes are not implemented (EINVAL, as
  // Linux answers a policy it does not know).
  if ((attr.sched_flags & kSchedFlagKeepPolicy) == 0 &&
      attr.sched_policy != static_cast<uint32_t>(kSchedOther)) {
    return Err(Errno::kInval);
  }
  if (attr.sched_priority != 0) return Err(Errno::kInval);
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return Err(Errno::kSrch);
  Task* task = TaskOfThread(t);
  if (task != nullptr && (attr.sched_flags & kSchedFlagKeepParams) == 0) {
    int nice = attr.sched_nice;
    nice = nice < -20 ? -20 : (nice > 19 ? 19 : nice);
    sched::SetNice(task, nice);
    // Linux 6.12: a fair task's sched_runtime is its slice (0: the default), clamped.
    sched::SetSliceNs(task, attr.sched_runtime);
  }
  proc::PutThread(t);
  return 0;
}

int64_t SysSchedGetattr(Call& c) {
  const uint32_t usize = static_cast<uint32_t>(c.arg(2));
  if (c.iarg(0) < 0 || c.arg(1) == 0 || c.arg(3) != 0) return Err(Errno::kInval);
  if (usize < kSchedAttrSizeVer0 || usize > 4096) return Err(Errno::kInval);
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return Err(Errno::kSrch);
  Task* task = TaskOfThread(t);
  SchedAttr attr = {};
  attr.size = usize < sizeof(attr) ? usize : sizeof(attr);
  attr.sched_policy = kSchedOther;
  if (task != nullptr) {
    attr.sched_nice = Nice(task);
    const uint64_t slice = task->requested_slice_ns.Load(std::memory_order_relaxed);
    attr.sched_runtime = slice != 0 ? slice : sched::BaseSliceNs(platform::CpuCount());
  }
  proc::PutThread(t);
  if (!proc::CopyToUser(c.as, c.arg(1), &attr, attr.size)) return Err(Errno::kFault);
  return 0;
}

int64_t SysSchedGetscheduler(Call& c) {
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return c.iarg(0) < 0 ? Err(Errno::kInval) : Err(Errno::kSrch);
  proc::PutThread(t);
  return kSchedOther;
}

int64_t SysSchedGetparam(Call& c) {
  if (c.arg(1) == 0) return Err(Errno::kInval);
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return c.iarg(0) < 0 ? Err(Errno::kInval) : Err(Errno::kSrch);
  proc::PutThread(t);
  const int32_t priority = 0;
  if (!Out(c, c.arg(1), priority)) return Err(Errno::kFault);
  return 0;
}

int64_t SysSchedSetscheduler(Call& c) {
  if (c.arg(2) == 0 || c.iarg(0) < 0) return Err(Errno::kInval);
  int32_t priority = 0;
  if (!In(c, &priority, c.arg(2))) return Err(Errno::kFault);
  if (c.iarg(1) != kSchedOther || priority != 0) return Err(Errno::kInval);
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return Err(Errno::kSrch);
  proc::PutThread(t);
  return 0;
}

int64_t SysSchedSetparam(Call& c) {
  if (c.arg(1) == 0 || c.iarg(0) < 0) return Err(Errno::kInval);
  int32_t priority = 0;
  if (!In(c, &priority, c.arg(1))) return Err(Errno::kFault);
  if (priority != 0) return Err(Errno::kInval);
  proc::Thread* t = ThreadFor(c.iarg(0));
  if (t == nullptr) return Err(Errno::kSrch);
  proc::PutThread(t);
  return 0;
}

int64_t SysSchedGetPriorityMax(Call& c) {
  const int policy = c.iarg(0);
  if (policy == 1 || policy == 2) return 99;                               // FIFO, RR
  if (policy == 0 || policy == 3 || policy == 5 || policy == 6) return 0;  // OTHER BATCH IDLE DL
  return Err(Errno::kInval);
}

int64_t SysSchedGetPriorityMin(Call& c) {
  const int policy = c.iarg(0);
  if (policy == 1 || policy == 2) return 1;
  if (policy == 0 || policy == 3 || policy == 5 || policy == 6) return 0;
  return Err(Errno::kInval);
}

}  // namespace lichen::syscall

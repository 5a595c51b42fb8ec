// Clocks, sleeps and accounting.
#include "kernel/base/platform.h"
#include "kernel/futex/futex.h"
#include "kernel/mm/kmem.h"
#include "kernel/proc/process.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/syscall/calls.h"
#include "lib/units.h"

namespace lichen::syscall {

namespace {

constexpr int kTimerAbstime = 1;
constexpr uint64_t kUserHz = 100;  // clock_t ticks per second (USER_HZ)

Timespec ToTimespec(uint64_t ns) {
  return {static_cast<int64_t>(ns / kSec), static_cast<int64_t>(ns % kSec)};
}

// CPU time of every thread of `p`: the dead ones' and the live ones' published runtime (the
// caller's own is charged up to now).
uint64_t ProcessCpuNs(proc::Process& p) {
  uint64_t total = 0;
  proc::Thread* self = proc::CurrentThread();
  LockGuard<SpinLock> guard(p.lock);
  total = p.dead_runtime_ns;
  for (proc::Thread* t = p.threads.Front(); t != nullptr; t = p.threads.Next(*t)) {
    if (t == self) continue;
    Task* task = t->task.Load(std::memory_order_acquire);
    if (task != nullptr) total += task->published_runtime_ns.Load(std::memory_order_relaxed);
  }
  return total;
}

// The clock's reading in ns, or -EINVAL for a clock this kernel does not have. REALTIME is
// the monotonic clock plus the offset (0 until something sets the wall clock: futex.h).
int64_t ReadClock(int clock, uint64_t* ns) {
  switch (clock) {
    case kClockRealtime:
    case kClockRealtimeCoarse:
      *ns = platform::Now() + static_cast<uint64_t>(futex::RealtimeOffset());
      return 0;
    case kClockMonotonic:
    case kClockMonotonicRaw:
    case kClockMonotonicCoarse:
    case kClockBoottime:
      *ns = platform::Now();
      return 0;
    case kClockProcessCputime: {
      proc::Process* p = proc::CurrentProcess();
      *ns = ProcessCpuNs(*p) + sched::CurrentRuntimeNs();
      return 0;
    }
    case kClockThreadCputime:
      *ns = sched::CurrentRuntimeNs();
      return 0;
    default:
      return Err(Errno::kInval);
  }
}

bool ValidTimespec(const Timespec& ts) {
  return ts.sec >= 0 && ts.nsec >= 0 && ts.nsec < static_cast<int64_t>(kSec);
}

// Sleeps until `deadline` (monotonic ns), interruptibly. True if the whole sleep was done.
bool SleepUntil(uint64_t deadline) {
  sched::WaitOptions options;
  options.deadline_ns = deadline;
  options.interruptible = true;
  return sched::Wait([] { return false; }, options) == sched::WaitResult::kTimedOut;
}

uint64_t DeadlineAfter(const Timespec& ts) {
  const uint64_t now = platform::Now();
  const uint64_t max_sec = (time::kNever - now) / kSec;
  if (static_cast<uint64_t>(ts.sec) >= max_sec) return time::kNever - 1;
  return now + static_cast<uint64_t>(ts.sec) * kSec + static_cast<uint64_t>(ts.nsec);
}

// A relative sleep; on interruption the time left goes to `rem` (if not 0) and EINTR.
int64_t SleepRelative(Call& c, const Timespec& req, uintptr_t rem) {
  const uint64_t deadline = DeadlineAfter(req);
  if (SleepUntil(deadline)) return 0;
  const uint64_t now = platform::Now();
  const Timespec left = ToTimespec(deadline > now ? deadline - now : 0);
  if (rem != 0 && !Out(c, rem, left)) return Err(Errno::kFault);
  return Err(Errno::kIntr);
}

}  // namespace

int64_t SysClockGettime(Call& c) {
  uint64_t ns = 0;
  const int64_t err = ReadClock(c.iarg(0), &ns);
  if (err != 0) return err;
  if (!Out(c, c.arg(1), ToTimespec(ns))) return Err(Errno::kFault);
  return 0;
}

int64_t SysClockGetres(Call& c) {
  uint64_t ns = 0;
  const int64_t err = ReadClock(c.iarg(0), &ns);
  if (err != 0) return err;
  // Every clock reads the platform's nanosecond counter.
  if (c.arg(1) != 0 && !Out(c, c.arg(1), Timespec{0, 1})) return Err(Errno::kFault);
  return 0;
}

int64_t SysGettimeofday(Call& c) {
  if (c.arg(0) != 0) {
    uint64_t ns = 0;
    (void)ReadClock(kClockRealtime, &ns);
    const Timeval tv{static_cast<int64_t>(ns / kSec), static_cast<int64_t>(ns % kSec / kUs)};
    if (!Out(c, c.arg(0), tv)) return Err(Errno::kFault);
  }
  if (c.arg(1) != 0) {
    const int32_t tz[2] = {0, 0};  // struct timezone: UTC, no DST
    if (!Out(c, c.arg(1), tz)) return Err(Errno::kFault);
  }
  return 0;
}

int64_t SysNanosleep(Call& c) {
  Timespec req;
  if (!In(c, &req, c.arg(0))) return Err(Errno::kFault);
  if (!ValidTimespec(req)) return Err(Errno::kInval);
  return SleepRelative(c, req, c.arg(1));
}

int64_t SysClockNanosleep(Call& c) {
  const int clock = c.iarg(0);
  const int flags = c.iarg(1);
  switch (clock) {
    case kClockRealtime:
    case kClockMonotonic:
    case kClockBoottime:
      break;
    case kClockThreadCputime:
      return Err(Errno::kInval);  // Linux: EINVAL for the calling thread's own CPU clock
    case kClockProcessCputime:
      return Err(Errno::kNoSys);  // CPU-time sleeps: not supported (docs/process.md)
    default:
      return Err(Errno::kInval);  // incl. the coarse and raw clocks, as Linux (ENOTSUPP)
  }
  Timespec req;
  if (!In(c, &req, c.arg(2))) return Err(Errno::kFault);
  if (!ValidTimespec(req)) return Err(Errno::kInval);
  if ((flags & kTimerAbstime) == 0) return SleepRelative(c, req, c.arg(3));
  // Absolute: a deadline on that clock. REALTIME converts once, at the start (a clock change
  // during the sleep does not move it).
  const uint64_t target = static_cast<uint64_t>(req.sec) * kSec + static_cast<uint64_t>(req.nsec);
  uint64_t deadline = target;
  if (clock == kClockRealtime) {
    const int64_t offset = futex::RealtimeOffset();
    deadline = static_cast<int64_t>(target) < offset ? 0 : target - static_cast<uint64_t>(offset);
  }
  if (SleepUntil(deadline)) return 0;
  return Err(Errno::kIntr);  // an absolute sleep leaves `rem` alone
}

int64_t SysTimes(Call& c) {
  if (c.arg(0) != 0) {
    const uint64_t cpu = ProcessCpuNs(c.process) + sched::CurrentRuntimeNs();
    // No user/system split is kept: all of it is reported as user time.
    const int64_t tms[4] = {static_cast<int64_t>(cpu / (kSec / kUserHz)), 0, 0, 0};
    if (!Out(c, c.arg(0), tms)) return Err(Errno::kFault);
  }
  return static_cast<int64_t>(platform::Now() / (kSec / kUserHz));
}

int64_t SysGetrusage(Call& c) {
  constexpr int kRusageSelf = 0;
  constexpr int kRusageChildren = -1;
  constexpr int kRusageThread = 1;
  const int who = c.iarg(0);
  uint64_t cpu = 0;
  switch (who) {
    case kRusageSelf:
      cpu = ProcessCpuNs(c.process) + sched::CurrentRuntimeNs();
      break;
    case kRusageThread:
      cpu = sched::CurrentRuntimeNs();
      break;
    case kRusageChildren:
      cpu = 0;  // no child processes
      break;
    default:
      return Err(Errno::kInval);
  }
  // struct rusage: ru_utime, ru_stime (timevals), then 14 longs.
  int64_t ru[18] = {};
  ru[0] = static_cast<int64_t>(cpu / kSec);
  ru[1] = static_cast<int64_t>(cpu % kSec / kUs);
  if (!Out(c, c.arg(1), ru)) return Err(Errno::kFault);
  return 0;
}

int64_t SysSysinfo(Call& c) {
  // struct sysinfo on 64-bit Linux (112 bytes).
  struct Sysinfo {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram;
    uint64_t freeram;
    uint64_t sharedram;
    uint64_t bufferram;
    uint64_t totalswap;
    uint64_t freeswap;
    uint16_t procs;
    uint16_t pad;
    uint32_t pad2;
    uint64_t totalhigh;
    uint64_t freehigh;
    uint32_t mem_unit;
    char reserved[4];
  } info = {};
  static_assert(sizeof(Sysinfo) == 112);
  info.uptime = static_cast<int64_t>(platform::Now() / kSec);
  info.totalram = mm::Pages().TotalBytes();
  info.freeram = mm::Pages().FreeBytes();
  info.procs = static_cast<uint16_t>(proc::LiveProcesses());
  info.mem_unit = 1;
  if (!Out(c, c.arg(0), info)) return Err(Errno::kFault);
  return 0;
}

}  // namespace lichen::syscall

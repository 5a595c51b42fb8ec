// The handlers of the system-call table, by group (one file each), and what they share.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/proc/process.h"
#include "kernel/proc/usermem.h"
#include "kernel/user/regs.h"
#include "lib/errno.h"

namespace lichen::vm {
class AddressSpace;
}

namespace lichen::syscall {

// One call in progress: the caller's registers and who it is.
struct Call {
  UserRegs& regs;
  proc::Thread& thread;
  proc::Process& process;
  vm::AddressSpace& as;

  uint64_t arg(int i) const { return regs.x[i]; }
  int32_t iarg(int i) const { return static_cast<int32_t>(regs.x[i]); }
};

using Handler = int64_t (*)(Call& call);

constexpr int64_t Err(Errno e) {
  return SyscallError(e);
}

// Copies, EFAULT as a bool: `if (!In(c, &x, addr)) return Err(Errno::kFault);`.
template <typename T>
bool In(Call& c, T* dst, uintptr_t src) {
  return proc::CopyFromUser(c.as, dst, src, sizeof(T));
}
template <typename T>
bool Out(Call& c, uintptr_t dst, const T& src) {
  return proc::CopyToUser(c.as, dst, &src, sizeof(T));
}

// struct timespec / timeval on arm64.
struct Timespec {
  int64_t sec;
  int64_t nsec;
};
struct Timeval {
  int64_t sec;
  int64_t usec;
};

// Linux's clock ids.
inline constexpr int kClockRealtime = 0;
inline constexpr int kClockMonotonic = 1;
inline constexpr int kClockProcessCputime = 2;
inline constexpr int kClockThreadCputime = 3;
inline constexpr int kClockMonotonicRaw = 4;
inline constexpr int kClockRealtimeCoarse = 5;
inline constexpr int kClockMonotonicCoarse = 6;
inline constexpr int kClockBoottime = 7;

// process_calls.cc
int64_t SysExit(Call& c);
int64_t SysExitGroup(Call& c);
int64_t SysClone(Call& c);
int64_t SysClone3(Call& c);
int64_t SysExecve(Call& c);
int64_t SysWait4(Call& c);
int64_t SysWaitid(Call& c);
int64_t SysSetTidAddress(Call& c);
int64_t SysSetRobustList(Call& c);
int64_t SysGetRobustList(Call& c);
int64_t SysGetpid(Call& c);
int64_t SysGetppid(Call& c);
int64_t SysGettid(Call& c);
int64_t SysGetuid(Call& c);
int64_t SysGetpgid(Call& c);
int64_t SysGetsid(Call& c);
int64_t SysSetpgid(Call& c);
int64_t SysSetsid(Call& c);
int64_t SysUmask(Call& c);
int64_t SysPrctl(Call& c);
int64_t SysRseq(Call& c);
int64_t SysFutex(Call& c);
int64_t SysPrlimit64(Call& c);
int64_t SysGetrlimit(Call& c);
int64_t SysSetrlimit(Call& c);
int64_t SysReboot(Call& c);
int64_t SysUname(Call& c);
int64_t SysGetrandom(Call& c);
int64_t SysMembarrier(Call& c);

// signal_calls.cc
int64_t SysRtSigaction(Call& c);
int64_t SysRtSigprocmask(Call& c);
int64_t SysRtSigpending(Call& c);
int64_t SysRtSigreturn(Call& c);
int64_t SysRtSigsuspend(Call& c);
int64_t SysSigaltstack(Call& c);
int64_t SysKill(Call& c);
int64_t SysTkill(Call& c);
int64_t SysTgkill(Call& c);

// time_calls.cc
int64_t SysClockGettime(Call& c);
int64_t SysClockGetres(Call& c);
int64_t SysGettimeofday(Call& c);
int64_t SysNanosleep(Call& c);
int64_t SysClockNanosleep(Call& c);
int64_t SysTimes(Call& c);
int64_t SysGetrusage(Call& c);
int64_t SysSysinfo(Call& c);

// sched_calls.cc
int64_t SysSchedYield(Call& c);
int64_t SysSchedSetaffinity(Call& c);
int64_t SysSchedGetaffinity(Call& c);
int64_t SysGetcpu(Call& c);
int64_t SysSetpriority(Call& c);
int64_t SysGetpriority(Call& c);
int64_t SysSchedSetattr(Call& c);
int64_t SysSchedGetattr(Call& c);
int64_t SysSchedGetscheduler(Call& c);
int64_t SysSchedGetparam(Call& c);
int64_t SysSchedSetscheduler(Call& c);
int64_t SysSchedSetparam(Call& c);
int64_t SysSchedGetPriorityMax(Call& c);
int64_t SysSchedGetPriorityMin(Call& c);

// mm_calls.cc
int64_t SysBrk(Call& c);
int64_t SysMmap(Call& c);
int64_t SysMunmap(Call& c);
int64_t SysMprotect(Call& c);
int64_t SysMadvise(Call& c);

// file_calls.cc
int64_t SysRead(Call& c);
int64_t SysWrite(Call& c);
int64_t SysReadv(Call& c);
int64_t SysWritev(Call& c);
int64_t SysPread64(Call& c);
int64_t SysOpenat(Call& c);
int64_t SysClose(Call& c);
int64_t SysLseek(Call& c);
int64_t SysFstat(Call& c);
int64_t SysNewfstatat(Call& c);
int64_t SysReadlinkat(Call& c);
int64_t SysIoctl(Call& c);
int64_t SysFcntl(Call& c);
int64_t SysFaccessat(Call& c);
int64_t SysGetcwd(Call& c);

}  // namespace lichen::syscall

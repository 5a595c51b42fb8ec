// The table: number -> handler and name, and Dispatch.
#include "kernel/base/irq_state.h"
#include "kernel/proc/process.h"
#include "kernel/syscall/calls.h"
#include "kernel/syscall/syscall.h"
#include "lib/atomic.h"
#include "lib/log.h"
#include "lib/sim_reset.h"

namespace lichen::syscall {

namespace {

struct Entry {
  Handler handler = nullptr;
  const char* name = nullptr;
};

struct Table {
  Entry entries[kTableSize];

  constexpr void Set(uint64_t nr, Handler h, const char* name) { entries[nr] = {h, name}; }

  constexpr Table() {
    Set(kGetcwd, &SysGetcwd, "getcwd");
    Set(kFcntl, &SysFcntl, "fcntl");
    Set(kIoctl, &SysIoctl, "ioctl");
    Set(kFaccessat, &SysFaccessat, "faccessat");
    Set(kOpenat, &SysOpenat, "openat");
    Set(kClose, &SysClose, "close");
    Set(kLseek, &SysLseek, "lseek");
    Set(kRead, &SysRead, "read");
    Set(kWrite, &SysWrite, "write");
    Set(kReadv, &SysReadv, "readv");
    Set(kWritev, &SysWritev, "writev");
    Set(kPread64, &SysPread64, "pread64");
    Set(kReadlinkat, &SysReadlinkat, "readlinkat");
    Set(kNewfstatat, &SysNewfstatat, "newfstatat");
    Set(kFstat, &SysFstat, "fstat");
    Set(kExit, &SysExit, "exit");
    Set(kExitGroup, &SysExitGroup, "exit_group");
    Set(kWaitid, &SysWaitid, "waitid");
    Set(kSetTidAddress, &SysSetTidAddress, "set_tid_address");
    Set(kFutex, &SysFutex, "futex");
    Set(kSetRobustList, &SysSetRobustList, "set_robust_list");
    Set(kGetRobustList, &SysGetRobustList, "get_robust_list");
    Set(kNanosleep, &SysNanosleep, "nanosleep");
    Set(kClockGettime, &SysClockGettime, "clock_gettime");
    Set(kClockGetres, &SysClockGetres, "clock_getres");
    Set(kClockNanosleep, &SysClockNanosleep, "clock_nanosleep");
    Set(kSchedSetparam, &SysSchedSetparam, "sched_setparam");
    Set(kSchedSetscheduler, &SysSchedSetscheduler, "sched_setscheduler");
    Set(kSchedGetscheduler, &SysSchedGetscheduler, "sched_getscheduler");
    Set(kSchedGetparam, &SysSchedGetparam, "sched_getparam");
    Set(kSchedSetaffinity, &SysSchedSetaffinity, "sched_setaffinity");
    Set(kSchedGetaffinity, &SysSchedGetaffinity, "sched_getaffinity");
    Set(kSchedYield, &SysSchedYield, "sched_yield");
    Set(kSchedGetPriorityMax, &SysSchedGetPriorityMax, "sched_get_priority_max");
    Set(kSchedGetPriorityMin, &SysSchedGetPriorityMin, "sched_get_priority_min");
    Set(kKill, &SysKill, "kill");
    Set(kTkill, &SysTkill, "tkill");
    Set(kTgkill, &SysTgkill, "tgkill");
    Set(kSigaltstack, &SysSigaltstack, "sigaltstack");
    Set(kRtSigsuspend, &SysRtSigsuspend, "rt_sigsuspend");
    Set(kRtSigaction, &SysRtSigaction, "rt_sigaction");
    Set(kRtSigprocmask, &SysRtSigprocmask, "rt_sigprocmask");
    Set(kRtSigpending, &SysRtSigpending, "rt_sigpending");
    Set(kRtSigreturn, &SysRtSigreturn, "rt_sigreturn");
    Set(kSetpriority, &SysSetpriority, "setpriority");
    Set(kGetpriority, &SysGetpriority, "getpriority");
    Set(kReboot, &SysReboot, "reboot");
    Set(kTimes, &SysTimes, "times");
    Set(kSetpgid, &SysSetpgid, "setpgid");
    Set(kGetpgid, &SysGetpgid, "getpgid");
    Set(kGetsid, &SysGetsid, "getsid");
    Set(kSetsid, &SysSetsid, "setsid");
    Set(kUname, &SysUname, "uname");
    Set(kGetrlimit, &SysGetrlimit, "getrlimit");
    Set(kSetrlimit, &SysSetrlimit, "setrlimit");
    Set(kGetrusage, &SysGetrusage, "getrusage");
    Set(kUmask, &SysUmask, "umask");
    Set(kPrctl, &SysPrctl, "prctl");
    Set(kGetcpu, &SysGetcpu, "getcpu");
    Set(kGettimeofday, &SysGettimeofday, "gettimeofday");
    Set(kGetpid, &SysGetpid, "getpid");
    Set(kGetppid, &SysGetppid, "getppid");
    Set(kGetuid, &SysGetuid, "getuid");
    Set(kGeteuid, &SysGetuid, "geteuid");
    Set(kGetgid, &SysGetuid, "getgid");
    Set(kGetegid, &SysGetuid, "getegid");
    Set(kGettid, &SysGettid, "gettid");
    Set(kSysinfo, &SysSysinfo, "sysinfo");
    Set(kBrk, &SysBrk, "brk");
    Set(kMunmap, &SysMunmap, "munmap");
    Set(kClone, &SysClone, "clone");
    Set(kExecve, &SysExecve, "execve");
    Set(kMmap, &SysMmap, "mmap");
    Set(kMprotect, &SysMprotect, "mprotect");
    Set(kMadvise, &SysMadvise, "madvise");
    Set(kWait4, &SysWait4, "wait4");
    Set(kPrlimit64, &SysPrlimit64, "prlimit64");
    Set(kSchedSetattr, &SysSchedSetattr, "sched_setattr");
    Set(kSchedGetattr, &SysSchedGetattr, "sched_getattr");
    Set(kGetrandom, &SysGetrandom, "getrandom");
    Set(kMembarrier, &SysMembarrier, "membarrier");
    Set(kRseq, &SysRseq, "rseq");
    Set(kClone3, &SysClone3, "clone3");
  }
};

constexpr Table kTable;

// Unknown numbers logged once each (the first kTableSize numbers; larger ones each time, which
// a program can only do on purpose), and the ENOSYS count for tests.
Atomic<uint64_t> g_logged[kTableSize / 64];
Atomic<uint64_t> g_enosys{0};

#if defined(LICHEN_HOST)
void ResetSyscallsForSimulation() {
  for (auto& word : g_logged)
    word.Store(0, std::memory_order_relaxed);
  g_enosys.Store(0, std::memory_order_relaxed);
}
const ResetRegistrar g_reset_syscalls("syscall", ResetStage::kAny, &ResetSyscallsForSimulation);
#endif

int64_t Unknown(uint64_t nr) {
  g_enosys.FetchAdd(1, std::memory_order_relaxed);
  bool first = true;
  if (nr < kTableSize) {
    const uint64_t bit = uint64_t{1} << (nr % 64);
    first = (g_logged[nr / 64].FetchOr(bit, std::memory_order_relaxed) & bit) == 0;
  }
  if (first) {
    proc::Thread* t = proc::CurrentThread();
    LICHEN_LOG_WARN("process {} thread {}: unknown syscall {}: ENOSYS", t->process->pid, t->tid,
                    nr);
  }
  return Err(Errno::kNoSys);
}

}  // namespace

int64_t Dispatch(UserRegs& regs) {
  const uint64_t nr = regs.x[kSyscallNumberReg];
  proc::Thread* t = proc::CurrentThread();
  if (nr >= kTableSize || kTable.entries[nr].handler == nullptr) return Unknown(nr);
  Call call{regs, *t, *t->process, *t->process->as};
  const int64_t result = kTable.entries[nr].handler(call);
  if (result == Err(Errno::kNoSys)) g_enosys.FetchAdd(1, std::memory_order_relaxed);
  LICHEN_LOG_TRACE("p{}.t{} {}({:#x}, {:#x}, {:#x}) = {}", t->process->pid, t->tid,
                   kTable.entries[nr].name, regs.x[0], regs.x[1], regs.x[2], result);
  return result;
}

const char* Name(uint64_t number) {
  return number < kTableSize ? kTable.entries[number].name : nullptr;
}

uint64_t EnosysCount() {
  return g_enosys.Load(std::memory_order_relaxed);
}

}  // namespace lichen::syscall

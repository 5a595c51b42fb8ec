// System-call argument validation: every bad pointer is EFAULT (never a crash or a kernel
// fault), unknown numbers are ENOSYS and the process lives on, and the arguments Linux
// refuses are refused with its errno. Runs a process in the simulator (the address space
// needs the scheduler), on one CPU.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel/futex/futex.h"
#include "kernel/proc/process.h"
#include "kernel/syscall/syscall.h"
#include "tests/proc/proc_test_util.h"

namespace lichen::test {
namespace {

constexpr int64_t kAtFdcwd = -100;

// Addresses no user access may reach: the null page, an unmapped hole, past the user half,
// the kernel half, and one that wraps around.
constexpr uint64_t kBadPointers[] = {0x8, 0xdead0000, (uint64_t{1} << 48) + 0x1000,
                                     0xffff000000001000, ~uint64_t{0} - 3};

struct Check {
  std::string what;
  int64_t got;
  int64_t want;
};

struct Shared {
  std::vector<Check> checks;
  uint64_t good = 0;      // a read-write page
  uint64_t readonly = 0;  // a read-only page
};
Shared* g_shared = nullptr;

void Expect(const std::string& what, int64_t got, int64_t want) {
  g_shared->checks.push_back({what, got, want});
}

void StoreString(UserRegs& regs, uint64_t addr, const char* s) {
  uint64_t word = 0;
  size_t i = 0;
  for (;; ++i) {
    word |= uint64_t{static_cast<uint8_t>(s[i])} << (8 * (i % 8));
    if (i % 8 == 7 || s[i] == '\0') {
      sim::UserStore64(regs, addr + (i & ~size_t{7}), word);
      word = 0;
    }
    if (s[i] == '\0') break;
  }
}

void ValidationProgram(UserRegs& regs) {
  Shared& s = *g_shared;
  s.good = MapAnon(regs, 4 * 4096);
  s.readonly = MapAnon(regs, 4096);
  sim::UserStore64(regs, s.readonly, 0);
  sim::UserSyscall(regs, sys::kMprotect, s.readonly, 4096, vm::kProtRead);
  const uint64_t g = s.good;
  StoreString(regs, g + 1024, "/dev/null");
  StoreString(regs, g + 1104, "/proc/self/exe");
  auto call = [&](const std::string& what, int64_t want, uint64_t nr, uint64_t a0 = 0,
                  uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0,
                  uint64_t a5 = 0) {
    Expect(what, sim::UserSyscall(regs, nr, a0, a1, a2, a3, a4, a5), want);
  };
  const int64_t kFault = E(Errno::kFault);
  for (uint64_t bad : kBadPointers) {
    const std::string at = " @" + std::to_string(bad);
    call("write" + at, kFault, sys::kWrite, 1, bad, 16);
    call("writev iov" + at, kFault, sys::kWritev, 1, bad, 1);
    sim::UserStore64(regs, g + 2048, bad);
    sim::UserStore64(regs, g + 2056, 16);
    call("writev base" + at, kFault, sys::kWritev, 1, g + 2048, 1);
    call("readv iov" + at, kFault, sys::kReadv, 0, bad, 1);
    call("openat" + at, kFault, sys::kOpenat, static_cast<uint64_t>(kAtFdcwd), bad, 0);
    call("newfstatat path" + at, kFault, sys::kNewfstatat, static_cast<uint64_t>(kAtFdcwd), bad, g,
         0);
    call("newfstatat buf" + at, kFault, sys::kNewfstatat, static_cast<uint64_t>(kAtFdcwd), g + 1024,
         bad, 0);
    call("fstat" + at, kFault, sys::kFstat, 1, bad);
    call("readlinkat path" + at, kFault, sys::kReadlinkat, static_cast<uint64_t>(kAtFdcwd), bad, g,
         64);
    call("readlinkat buf" + at, kFault, sys::kReadlinkat, static_cast<uint64_t>(kAtFdcwd), g + 1104,
         bad, 64);
    call("ioctl TCGETS" + at, kFault, sys::kIoctl, 1, 0x5401, bad);
    call("ioctl TIOCGWINSZ" + at, kFault, sys::kIoctl, 1, 0x5413, bad);
    call("futex word" + at, kFault, sys::kFutex, bad & ~uint64_t{3}, futex::kWait, 0);
    call("futex timeout" + at, kFault, sys::kFutex, g, futex::kWait, 0, bad);
    call("futex wake_op word2" + at, kFault, sys::kFutex, g, futex::kWakeOp, 1, 1,
         bad & ~uint64_t{3}, futex::EncodeWakeOp(0, 1, futex::WordCmp::kEq, 0));
    call("nanosleep" + at, kFault, sys::kNanosleep, bad, 0);
    call("clock_gettime" + at, kFault, sys::kClockGettime, 1, bad);
    call("clock_getres" + at, kFault, sys::kClockGetres, 1, bad);
    call("clock_nanosleep" + at, kFault, sys::kClockNanosleep, 1, 0, bad, 0);
    call("gettimeofday" + at, kFault, sys::kGettimeofday, bad, 0);
    call("sched_setaffinity" + at, kFault, sys::kSchedSetaffinity, 0, 8, bad);
    call("sched_getaffinity" + at, kFault, sys::kSchedGetaffinity, 0, 8, bad);
    call("getcpu" + at, kFault, sys::kGetcpu, bad, 0, 0);
    call("sched_setattr" + at, kFault, sys::kSchedSetattr, 0, bad, 0);
    call("sched_getattr" + at, kFault, sys::kSchedGetattr, 0, bad, 56, 0);
    call("uname" + at, kFault, sys::kUname, bad);
    call("getrandom" + at, kFault, sys::kGetrandom, bad, 16, 0);
    call("prlimit64 new" + at, kFault, sys::kPrlimit64, 0, 3, bad, 0);
    call("prlimit64 old" + at, kFault, sys::kPrlimit64, 0, 3, 0, bad);
    call("sysinfo" + at, kFault, sys::kSysinfo, bad);
    call("times" + at, kFault, sys::kTimes, bad);
    call("getrusage" + at, kFault, sys::kGetrusage, 0, bad);
    call("rt_sigaction act" + at, kFault, sys::kRtSigaction, 10, bad, 0, 8);
    call("rt_sigaction old" + at, kFault, sys::kRtSigaction, 10, 0, bad, 8);
    call("rt_sigprocmask set" + at, kFault, sys::kRtSigprocmask, 0, bad, 0, 8);
    call("rt_sigprocmask old" + at, kFault, sys::kRtSigprocmask, 0, 0, bad, 8);
    call("sigaltstack new" + at, kFault, sys::kSigaltstack, bad, 0);
    call("sigaltstack old" + at, kFault, sys::kSigaltstack, 0, bad);
    call("get_robust_list" + at, kFault, sys::kGetRobustList, 0, bad, g);
    call("prctl PR_GET_NAME" + at, kFault, sys::kPrctl, 16, bad);
    call("getcwd" + at, kFault, sys::kGetcwd, bad, 64);
  }
  // Kernel writes into a read-only page are EFAULT too (copy_to_user's rule).
  call("clock_gettime into read-only", kFault, sys::kClockGettime, 1, s.readonly);
  call("uname into read-only", kFault, sys::kUname, s.readonly);
  // Unknown numbers: ENOSYS, and the process goes on.
  for (uint64_t nr : {uint64_t{244}, uint64_t{300}, uint64_t{511}, uint64_t{512}, uint64_t{1000},
                      uint64_t{1} << 40, ~uint64_t{0}}) {
    call("unknown syscall " + std::to_string(nr), E(Errno::kNoSys), nr, 1, 2, 3);
  }
  call("rseq", E(Errno::kNoSys), sys::kRseq, g, 32, 0, 0);
  call("clone3", E(Errno::kNoSys), sys::kClone3, g, 88);
  // Linux's EINVALs.
  call("rt_sigaction sigsetsize", E(Errno::kInval), sys::kRtSigaction, 10, 0, 0, 4);
  call("rt_sigaction SIGKILL", E(Errno::kInval), sys::kRtSigaction, 9, g, 0, 8);
  call("rt_sigaction signal 65", E(Errno::kInval), sys::kRtSigaction, 65, 0, 0, 8);
  call("rt_sigprocmask how", E(Errno::kInval), sys::kRtSigprocmask, 7, g, 0, 8);
  call("kill signal 65", E(Errno::kInval), sys::kKill, 1, 65);
  call("kill no such pid", E(Errno::kSrch), sys::kKill, 4242, 0);
  call("tgkill tid 0", E(Errno::kInval), sys::kTgkill, 1, 0, 6);
  call("sched_getaffinity short", E(Errno::kInval), sys::kSchedGetaffinity, 0, 4, g);
  call("sched_setaffinity no cpu", E(Errno::kInval), sys::kSchedSetaffinity, 0, 0, g);
  call("clone THREAD without SIGHAND", E(Errno::kInval), sys::kClone,
       proc::kCloneVm | proc::kCloneThread, 0, 0, 0, 0);
  call("clone SIGHAND without VM", E(Errno::kInval), sys::kClone, proc::kCloneSighand, 0, 0, 0, 0);
  call("clone fork", E(Errno::kNoSys), sys::kClone, 17, 0, 0, 0, 0);
  call("set_robust_list len", E(Errno::kInval), sys::kSetRobustList, g, 16);
  call("clock_gettime clock 99", E(Errno::kInval), sys::kClockGettime, 99, g);
  sim::UserStore64(regs, g + 3000, 0);
  sim::UserStore64(regs, g + 3008, 1000000000);
  call("nanosleep nsec 1e9", E(Errno::kInval), sys::kNanosleep, g + 3000, 0);
  call("ioctl other", E(Errno::kNoTty), sys::kIoctl, 1, 0x1234, g);
  call("ioctl bad fd", E(Errno::kBadF), sys::kIoctl, 77, 0x5401, g);
  call("write bad fd", E(Errno::kBadF), sys::kWrite, 63, g, 1);
  call("close bad fd", E(Errno::kBadF), sys::kClose, 64);
  call("lseek console", E(Errno::kSPipe), sys::kLseek, 1, 0, 0);
  call("openat missing", E(Errno::kNoEnt), sys::kOpenat, static_cast<uint64_t>(kAtFdcwd),
       g + 1104 + 6, 0);  // "self/exe": no such file
  call("madvise bad advice", E(Errno::kInval), sys::kMadvise, g, 4096, 999);
  call("getrandom flags", E(Errno::kInval), sys::kGetrandom, g, 8, 0x80);
  sim::UserStore64(regs, g + 3104, (uint64_t{1} << 32) | 48);  // size 48, SCHED_FIFO
  call("sched_setattr policy", E(Errno::kInval), sys::kSchedSetattr, 0, g + 3104, 0);
  // Still alive: exit with a code the test checks.
  sim::UserSyscall(regs, sys::kExitGroup, 77);
}

TEST(SyscallArgs, BadPointersAreEfaultUnknownNumbersEnosysAndTheProcessLivesOn) {
  Shared shared;
  g_shared = &shared;
  const sim::Outcome result = RunProc(1, 1, [&] {
    const uint64_t enosys_before = syscall::EnosysCount();
    proc::Process* p = StartProcess(&ValidationProgram);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(77), "the process ended with {:#x}", status);
    LICHEN_ASSERT(syscall::EnosysCount() - enosys_before >= 9, "ENOSYS not counted");
  });
  ASSERT_TRUE(result.ok) << Explain(result);
  ASSERT_GT(shared.checks.size(), 200u);
  for (const Check& c : shared.checks)
    EXPECT_EQ(c.got, c.want) << c.what;
  g_shared = nullptr;
}

}  // namespace
}  // namespace lichen::test

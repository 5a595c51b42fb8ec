// The system-call table: Linux arm64 numbers (the generic table, asm-generic/unistd.h),
// errno results.
//
// Dispatch(regs) runs the call whose number is in x8 with the arguments in x0..x5 and
// returns what goes back in x0: a result >= 0 or -errno. An unknown number is -ENOSYS with
// one log line (at most once per number), never a panic. exit, exit_group and a call that
// ends in a fatal signal's default action do not return to user space: the thread leaves in
// BeforeReturnToUser (or in exit itself).
//
// No handler dereferences a user pointer: arguments are copied with kernel/proc's usermem
// (kernel/vm's uaccess), so every bad pointer is -EFAULT.
#pragma once

#include <cstdint>

#include "kernel/user/regs.h"

namespace lichen::syscall {

// The numbers this kernel knows (arm64 = the generic table).
enum Number : uint64_t {
  kGetcwd = 17,
  kFcntl = 25,
  kIoctl = 29,
  kFaccessat = 48,
  kChdir = 49,
  kOpenat = 56,
  kClose = 57,
  kGetdents64 = 61,
  kLseek = 62,
  kRead = 63,
  kWrite = 64,
  kReadv = 65,
  kWritev = 66,
  kPread64 = 67,
  kPwrite64 = 68,
  kReadlinkat = 78,
  kNewfstatat = 79,
  kFstat = 80,
  kExit = 93,
  kExitGroup = 94,
  kWaitid = 95,
  kSetTidAddress = 96,
  kFutex = 98,
  kSetRobustList = 99,
  kGetRobustList = 100,
  kNanosleep = 101,
  kClockGettime = 113,
  kClockGetres = 114,
  kClockNanosleep = 115,
  kSchedSetparam = 118,
  kSchedSetscheduler = 119,
  kSchedGetscheduler = 120,
  kSchedGetparam = 121,
  kSchedSetaffinity = 122,
  kSchedGetaffinity = 123,
  kSchedYield = 124,
  kSchedGetPriorityMax = 125,
  kSchedGetPriorityMin = 126,
  kKill = 129,
  kTkill = 130,
  kTgkill = 131,
  kSigaltstack = 132,
  kRtSigsuspend = 133,
  kRtSigaction = 134,
  kRtSigprocmask = 135,
  kRtSigpending = 136,
  kRtSigreturn = 139,
  kSetpriority = 140,
  kGetpriority = 141,
  kReboot = 142,
  kTimes = 153,
  kSetpgid = 154,
  kGetpgid = 155,
  kGetsid = 156,
  kSetsid = 157,
  kUname = 160,
  kGetrlimit = 163,
  kSetrlimit = 164,
  kGetrusage = 165,
  kUmask = 166,
  kPrctl = 167,
  kGetcpu = 168,
  kGettimeofday = 169,
  kGetpid = 172,
  kGetppid = 173,
  kGetuid = 174,
  kGeteuid = 175,
  kGetgid = 176,
  kGetegid = 177,
  kGettid = 178,
  kSysinfo = 179,
  kBrk = 214,
  kMunmap = 215,
  kClone = 220,
  kExecve = 221,
  kMmap = 222,
  kMprotect = 226,
  kMadvise = 233,
  kWait4 = 260,
  kPrlimit64 = 261,
  kSchedSetattr = 274,
  kSchedGetattr = 275,
  kGetrandom = 278,
  kMembarrier = 283,
  kRseq = 293,
  kClone3 = 435,
};

// One past the highest number the table has a slot for (a larger one is unknown: ENOSYS).
inline constexpr uint64_t kTableSize = 512;

// Runs the call in `regs` (x8, x0..x5) and returns its result for x0.
int64_t Dispatch(UserRegs& regs);

// The call's name ("write"), or null for a number the table does not know.
const char* Name(uint64_t number);

// Calls answered -ENOSYS since boot (unknown numbers and rseq/clone3), for tests.
uint64_t EnosysCount();

}  // namespace lichen::syscall

// The process layer in the simulator: processes whose threads are host functions making real
// system calls (platform/sim/user.h), on 1 to 4 virtual CPUs, many seeds.
#include <gtest/gtest.h>

#include <string>

#include "kernel/futex/futex.h"
#include "kernel/proc/process.h"
#include "tests/proc/proc_test_util.h"

namespace lichen::test {
namespace {

// ---- A process that writes and exits ------------------------------------------------------

void HelloProgram(UserRegs& regs) {
  const uint64_t buf = MapAnon(regs, 4096);
  sim::UserStore64(regs, buf, 0x0a6f6c6c6568);  // "hello\n" (little-endian), zero padded
  const int64_t n = sim::UserSyscall(regs, sys::kWrite, 1, buf, 6);
  LICHEN_ASSERT(n == 6, "write returned {}", n);
  sim::UserSyscall(regs, sys::kExitGroup, Arg(regs));
  sim::Fail("exit_group returned");
}

TEST(ProcSim, AProcessWritesToTheConsoleAndItsExitCodeIsItsStatus) {
  RunProcSeeds("proc-hello", 5, {1, 4}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&HelloProgram, 42);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(42), "status {:#x}", status);
    LICHEN_ASSERT(sim::ConsoleOutput() == "hello\n", "console: '{}'", sim::ConsoleOutput().c_str());
    LICHEN_ASSERT(proc::LiveProcesses() == 0, "process left in the table");
  });
}

// ---- The process table as /proc lists it ---------------------------------------------------

void ExitAtOnce(UserRegs& regs) {
  sim::UserSyscall(regs, sys::kExitGroup, 0);
  sim::Fail("exit_group returned");
}

TEST(ProcSim, ListPidsPagesThroughLiveProcessesInPidOrder) {
  RunProcSeeds("proc-list-pids", 3, {2}, [](uint64_t, uint32_t) {
    constexpr size_t kCount = 7;
    proc::Process* ps[kCount];
    for (size_t i = 0; i < kCount; ++i)
      ps[i] = StartProcess(&ExitAtOnce, 0);
    // Two at a time from 0, then everything: the same ascending list, each pid once.
    uint32_t paged[kCount + 1] = {};
    size_t n = 0;
    uint32_t after = 0;
    for (;;) {
      uint32_t two[2];
      const size_t got = proc::ListPids(after, two, 2);
      if (got == 0) break;
      LICHEN_ASSERT(got == 2 || n + got == kCount, "short page of {} at {}", got, n);
      for (size_t i = 0; i < got; ++i)
        paged[n++] = two[i];
      after = two[got - 1];
    }
    LICHEN_ASSERT(n == kCount, "{} pids listed of {}", n, kCount);
    for (size_t i = 0; i < kCount; ++i) {
      LICHEN_ASSERT(paged[i] == ps[i]->pid, "pid {} at {} is {}", ps[i]->pid, i, paged[i]);
      // Each is its own group and session leader (no parent to inherit them from).
      LICHEN_ASSERT(ps[i]->pgid.Load(std::memory_order_relaxed) == ps[i]->pid &&
                        ps[i]->sid.Load(std::memory_order_relaxed) == ps[i]->pid,
                    "pid {}: pgid {} sid {}", ps[i]->pid,
                    ps[i]->pgid.Load(std::memory_order_relaxed),
                    ps[i]->sid.Load(std::memory_order_relaxed));
    }
    for (size_t i = 0; i < kCount; ++i)
      (void)proc::WaitExit(ps[i]);
    uint32_t none[1];
    LICHEN_ASSERT(proc::ListPids(0, none, 1) == 0, "reaped processes still listed");
  });
}

// ---- Threads: clone, CHILD_CLEARTID join, TLS ----------------------------------------------

constexpr uint32_t kJoinThreads = 4;

struct JoinShared {
  uint64_t page = 0;  // user memory: tid words at +0, +4, ...; counters at +512
};
JoinShared g_join;

void JoinChild(UserRegs& regs) {
  const uint64_t index = Arg(regs);
  // Its own thread pointer, whatever CPU it runs on and however often it moved.
  for (int i = 0; i < 20; ++i) {
    sim::UserRun(regs, 3 * kUs);
    LICHEN_ASSERT(sim::UserTls() == 0x7000 + index, "thread {} sees tls {:#x}", index,
                  sim::UserTls());
    if (i % 5 == 0) sim::UserSyscall(regs, sys::kSchedYield);
  }
  sim::UserWord(regs, g_join.page + 512).FetchAdd(1, std::memory_order_seq_cst);
  sim::UserSyscall(regs, sys::kExit, 0);
  sim::Fail("exit returned");
}

void JoinMain(UserRegs& regs) {
  const uint64_t page = MapAnon(regs, 4096);
  g_join.page = page;
  const uint64_t stacks = MapAnon(regs, 64 * 1024);
  int64_t tids[kJoinThreads];
  for (uint32_t i = 0; i < kJoinThreads; ++i) {
    tids[i] = CloneThread(regs, &JoinChild, i, stacks + (i + 1) * 16384, 0x7000 + i, page + 4 * i);
    LICHEN_ASSERT(tids[i] > 0, "clone returned {}", tids[i]);
  }
  // pthread_join: wait while the tid word (CLONE_PARENT_SETTID wrote it) is not 0; the kernel
  // clears it and wakes us when the thread has exited (a shared futex, as glibc waits).
  for (uint32_t i = 0; i < kJoinThreads; ++i) {
    for (;;) {
      const uint32_t tid = sim::UserWord(regs, page + 4 * i).Load(std::memory_order_seq_cst);
      if (tid == 0) break;
      LICHEN_ASSERT(tid == static_cast<uint32_t>(tids[i]), "tid word {} holds {}", i, tid);
      const int64_t r = sim::UserSyscall(regs, sys::kFutex, page + 4 * i, futex::kWait, tid);
      LICHEN_ASSERT(r == 0 || r == E(Errno::kAgain), "join wait returned {}", r);
    }
  }
  const uint32_t done = sim::UserWord(regs, page + 512).Load(std::memory_order_seq_cst);
  LICHEN_ASSERT(done == kJoinThreads, "{} threads counted, {} joined", done, kJoinThreads);
  // exit() of the other threads did not end the process: we are still here.
  const int64_t self = sim::UserSyscall(regs, sys::kGettid);
  LICHEN_ASSERT(self == sim::UserSyscall(regs, sys::kGetpid), "main thread's tid is the pid");
  sim::UserSyscall(regs, sys::kExitGroup, 7);
  sim::Fail("exit_group returned");
}

TEST(ProcSim, ThreadsExitAndAreJoinedThroughChildCleartid) {
  RunProcSeeds("proc-join", 30, {1, 2, 4}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&JoinMain);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(7), "status {:#x}", status);
  });
}

// ---- exit() of the last thread ends the process with its code -----------------------------

void LastExitChild(UserRegs& regs) {
  sim::UserRun(regs, 20 * kUs);
  sim::UserSyscall(regs, sys::kExit, 9);  // the last thread out: its code is the status
  sim::Fail("exit returned");
}

void LastExitMain(UserRegs& regs) {
  const uint64_t stack = MapAnon(regs, 16384);
  LICHEN_ASSERT(CloneThread(regs, &LastExitChild, 0, stack + 16384, 0, 0) > 0, "clone");
  sim::UserSyscall(regs, sys::kExit, 3);  // not the process: one thread
  sim::Fail("exit returned");
}

TEST(ProcSim, ExitEndsOneThreadAndTheLastOneGivesTheStatus) {
  RunProcSeeds("proc-last-exit", 20, {1, 2}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&LastExitMain);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(9), "status {:#x}", status);
  });
}

// ---- futex through user memory, pages absent ------------------------------------------------

struct FutexShared {
  uint64_t region = 0;
};
FutexShared g_futex;

constexpr uint32_t kPingRounds = 30;

// Ping-pong on a word of a page nobody touched before the first wait: the wait finds the page
// absent, faults it in and retries (and later words of fresh pages each round).
void PongThread(UserRegs& regs) {
  const uint64_t page = g_futex.region;
  for (uint32_t round = 0; round < kPingRounds; ++round) {
    const uint64_t word = page + 4096 * (round % 4);
    // Wait until the word says it is our turn, as a real waiter: with the value it read. The
    // first wait on each page is on an absent page: the kernel must fault it in and sleep.
    for (bool first = round < 4;; first = false) {
      // The first visit of each page waits for 0 without touching it: with the page still
      // absent, only the kernel's fault-in-and-retry makes this wait work.
      const uint32_t seen = first ? 0 : sim::UserWord(regs, word).Load(std::memory_order_seq_cst);
      if (seen == 2 * round + 1) break;
      const int64_t r =
          sim::UserSyscall(regs, sys::kFutex, word, futex::kWait | futex::kPrivateFlag, seen);
      LICHEN_ASSERT(r == 0 || r == E(Errno::kAgain), "pong wait returned {}", r);
    }
    sim::UserWord(regs, word).Store(2 * round + 2, std::memory_order_seq_cst);
    sim::UserSyscall(regs, sys::kFutex, word, futex::kWake | futex::kPrivateFlag, 1);
  }
  sim::UserSyscall(regs, sys::kExit, 0);
}

void PingMain(UserRegs& regs) {
  const uint64_t region = MapAnon(regs, 4 * 4096);
  g_futex.region = region;
  const uint64_t stack = MapAnon(regs, 16384);
  // A wake on a page that is mapped but absent wakes nobody and is no error.
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kFutex, region + 4096 * 3,
                                 futex::kWake | futex::kPrivateFlag, 1) == 0,
                "wake on an absent page");
  // A wait on an unmapped address is EFAULT.
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kFutex, 0x10000, futex::kWait, 0) == E(Errno::kFault),
                "wait on an unmapped word");
  LICHEN_ASSERT(CloneThread(regs, &PongThread, 0, stack + 16384, 0, 0) > 0, "clone");
  sim::UserRun(regs, 5 * kUs);  // let pong reach its first wait (on an absent page) or not
  for (uint32_t round = 0; round < kPingRounds; ++round) {
    const uint64_t word = region + 4096 * (round % 4);
    sim::UserWord(regs, word).Store(2 * round + 1, std::memory_order_seq_cst);
    sim::UserSyscall(regs, sys::kFutex, word, futex::kWake | futex::kPrivateFlag, 1);
    for (;;) {
      const uint32_t seen = sim::UserWord(regs, word).Load(std::memory_order_seq_cst);
      if (seen == 2 * round + 2) break;
      const int64_t r =
          sim::UserSyscall(regs, sys::kFutex, word, futex::kWait | futex::kPrivateFlag, seen);
      LICHEN_ASSERT(r == 0 || r == E(Errno::kAgain), "ping wait returned {}", r);
    }
  }
  sim::UserSyscall(regs, sys::kExitGroup, 0);
}

TEST(ProcSim, FutexWaitsOnAbsentPagesFaultThemInAndPingPong) {
  RunProcSeeds("proc-futex-fault", 30, {1, 2, 4}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&PingMain);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(0), "status {:#x}", status);
  });
}

// ---- Many threads first-touching the same pages on several CPUs ----------------------------

constexpr uint32_t kTouchThreads = 4;
constexpr uint32_t kTouchPages = 3;

struct TouchShared {
  uint64_t region = 0;
  uint64_t scratch = 0;
};
TouchShared g_touch;

void Toucher(UserRegs& regs) {
  const uint64_t me = Arg(regs);
  PinSelf(regs, g_touch.scratch + 8 * me, static_cast<uint32_t>(me % platform::CpuCount()));
  // Each thread stores into every page at its own offset: the first touches race.
  for (uint32_t page = 0; page < kTouchPages; ++page) {
    sim::UserStore64(regs, g_touch.region + 4096 * page + 8 * me, (uint64_t{page} << 32) | me);
  }
  sim::UserSyscall(regs, sys::kExit, 0);
}

void TouchMain(UserRegs& regs) {
  g_touch.region = MapAnon(regs, kTouchPages * 4096);
  g_touch.scratch = MapAnon(regs, 4096);
  const uint64_t tids = MapAnon(regs, 4096);
  const uint64_t stacks = MapAnon(regs, kTouchThreads * 16384);
  for (uint32_t i = 0; i < kTouchThreads; ++i) {
    LICHEN_ASSERT(CloneThread(regs, &Toucher, i, stacks + (i + 1) * 16384, 0, tids + 4 * i) > 0,
                  "clone");
  }
  for (uint32_t i = 0; i < kTouchThreads; ++i) {
    for (uint32_t tid; (tid = sim::UserWord(regs, tids + 4 * i).Load(std::memory_order_seq_cst));) {
      sim::UserSyscall(regs, sys::kFutex, tids + 4 * i, futex::kWait, tid);
    }
  }
  for (uint32_t page = 0; page < kTouchPages; ++page) {
    for (uint32_t i = 0; i < kTouchThreads; ++i) {
      const uint64_t v = sim::UserLoad64(regs, g_touch.region + 4096 * page + 8 * i);
      LICHEN_ASSERT(v == ((uint64_t{page} << 32) | i), "page {} slot {} holds {:#x}", page, i, v);
    }
  }
  sim::UserSyscall(regs, sys::kExitGroup, 0);
}

TEST(ProcSim, ThreadsOnSeveralCpusFirstTouchingOnePageAllSucceed) {
  RunProcSeeds("proc-same-page", 30, {2, 4}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&TouchMain);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(0), "status {:#x}", status);
  });
}

// ---- Faults and signals end the process, never the kernel -----------------------------------

void SegvProgram(UserRegs& regs) {
  sim::UserLoad64(regs, 0x40);  // the null page: never mapped
  sim::Fail("a load from the null page returned");
}

void AbortProgram(UserRegs& regs) {
  // abort(): unblock SIGABRT, then tgkill(getpid(), gettid(), SIGABRT).
  const int64_t pid = sim::UserSyscall(regs, sys::kGetpid);
  const int64_t tid = sim::UserSyscall(regs, sys::kGettid);
  // Ignored signals and a default-ignore one change nothing.
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kKill, pid, proc::kSigChld) == 0, "kill SIGCHLD");
  LICHEN_ASSERT(
      sim::UserSyscall(regs, sys::kTgkill, pid, tid + 1000, proc::kSigAbrt) == E(Errno::kSrch),
      "tgkill of no thread");
  sim::UserSyscall(regs, sys::kTgkill, pid, tid, proc::kSigAbrt);
  sim::Fail("the thread came back from a fatal signal");
}

TEST(ProcSim, AFaultOrAFatalSignalEndsTheProcessWithKilledBySignal) {
  RunProcSeeds("proc-signals", 5, {1, 2}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&SegvProgram);
    int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::SignaledStatus(proc::kSigSegv), "SIGSEGV status {:#x}", status);
    p = StartProcess(&AbortProgram);
    status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::SignaledStatus(proc::kSigAbrt), "SIGABRT status {:#x}", status);
  });
}

}  // namespace
}  // namespace lichen::test

namespace lichen::test {
namespace {

// ---- The robust list: a lock held by a thread that exits is handed over as OWNER_DIED -------

constexpr uint32_t kFutexWaitersBit = 0x80000000;
constexpr uint32_t kFutexOwnerDiedBit = 0x40000000;

struct RobustShared {
  uint64_t page = 0;  // +0 the list head, +64 the entry (+72 its lock word), +128 "locked"
};
RobustShared g_robust;

void RobustOwner(UserRegs& regs) {
  const uint64_t head = g_robust.page;
  const uint64_t entry = head + 64;
  const uint32_t tid = static_cast<uint32_t>(sim::UserSyscall(regs, sys::kGettid));
  // A PTHREAD_MUTEX_ROBUST lock taken: the word holds our tid (and a waiter's bit), the entry
  // is on our robust list (futex_offset 8: the word follows the entry's link).
  sim::UserStore64(regs, entry, head);
  sim::UserWord(regs, entry + 8).Store(tid | kFutexWaitersBit, std::memory_order_seq_cst);
  sim::UserStore64(regs, head, entry);
  sim::UserStore64(regs, head + 8, 8);
  sim::UserStore64(regs, head + 16, 0);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kSetRobustList, head, 24) == 0, "set_robust_list");
  sim::UserWord(regs, head + 128).Store(1, std::memory_order_seq_cst);
  sim::UserSyscall(regs, sys::kFutex, head + 128, futex::kWake, 1);
  sim::UserRun(regs, 5 * kUs);
  sim::UserSyscall(regs, sys::kExit, 0);  // dies holding the lock
}

void RobustMain(UserRegs& regs) {
  g_robust.page = MapAnon(regs, 4096);
  const uint64_t stack = MapAnon(regs, 16384);
  LICHEN_ASSERT(CloneThread(regs, &RobustOwner, 0, stack + 16384, 0, 0) > 0, "clone");
  const uint64_t word = g_robust.page + 64 + 8;
  while (sim::UserWord(regs, g_robust.page + 128).Load(std::memory_order_seq_cst) == 0) {
    sim::UserSyscall(regs, sys::kFutex, g_robust.page + 128, futex::kWait, 0);
  }
  // Wait for the lock as a robust mutex's waiter does, until the kernel marks the owner dead.
  for (;;) {
    const uint32_t seen = sim::UserWord(regs, word).Load(std::memory_order_seq_cst);
    if ((seen & kFutexOwnerDiedBit) != 0) {
      LICHEN_ASSERT(seen == (kFutexWaitersBit | kFutexOwnerDiedBit), "word {:#x}", seen);
      break;
    }
    const int64_t r = sim::UserSyscall(regs, sys::kFutex, word, futex::kWait, seen);
    LICHEN_ASSERT(r == 0 || r == E(Errno::kAgain), "robust wait returned {}", r);
  }
  sim::UserSyscall(regs, sys::kExitGroup, 0);
}

TEST(ProcSim, ALockHeldByAnExitingThreadIsMarkedOwnerDiedAndItsWaiterWoken) {
  RunProcSeeds("proc-robust", 20, {1, 2}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&RobustMain);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(0), "status {:#x}", status);
  });
}

}  // namespace
}  // namespace lichen::test

// The scheduling calls on threads: affinity holds (a pinned thread never runs elsewhere,
// getcpu says so), nice is the task's, sched_setattr's sched_runtime becomes its EEVDF slice.
#include <gtest/gtest.h>

#include "kernel/futex/futex.h"
#include "kernel/proc/process.h"
#include "kernel/sched/eevdf.h"
#include "tests/proc/proc_test_util.h"

namespace lichen::test {
namespace {

struct SchedShared {
  uint64_t page = 0;
  uint64_t slice_seen = 0;
};
SchedShared g_sched;

// Spins in user code (never sleeping, so never re-enqueued) until told to stop.
void NiceSpinner(UserRegs& regs) {
  sim::UserWord(regs, g_sched.page + 520).Store(1, std::memory_order_seq_cst);
  while (sim::UserWord(regs, g_sched.page + 524).Load(std::memory_order_seq_cst) == 0)
    sim::UserRun(regs, 5 * kUs);
  sim::UserSyscall(regs, sys::kExit, 0);
}

void PinnedProgram(UserRegs& regs) {
  const uint64_t page = MapAnon(regs, 4096);
  g_sched.page = page;
  const uint32_t ncpus = platform::CpuCount();
  const uint32_t target = ncpus - 1;
  PinSelf(regs, page, target);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kSchedGetaffinity, 0, 8, page + 8) == 8, "getaffinity");
  LICHEN_ASSERT(sim::UserLoad64(regs, page + 8) == uint64_t{1} << target, "affinity read back");
  for (int i = 0; i < 50; ++i) {
    sim::UserRun(regs, 20 * kUs);
    if (i % 7 == 0) sim::UserSyscall(regs, sys::kSchedYield);
    LICHEN_ASSERT(sim::UserSyscall(regs, sys::kGetcpu, page + 16, 0, 0) == 0, "getcpu");
    const uint32_t cpu = static_cast<uint32_t>(sim::UserLoad64(regs, page + 16));
    LICHEN_ASSERT(cpu == target, "a thread pinned to CPU {} ran on CPU {}", target, cpu);
    LICHEN_ASSERT(sim::CurrentVirtualCpu() == target, "the simulator runs it on CPU {}",
                  sim::CurrentVirtualCpu());
  }
  // Nice: setpriority(PRIO_PROCESS, 0, 7), getpriority returns 20 - nice.
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kSetpriority, 0, 0, 7) == 0, "setpriority");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kGetpriority, 0, 0) == 13, "getpriority");
  // sched_setattr: SCHED_OTHER, nice -3, sched_runtime 2 ms.
  sim::UserStore64(regs, page + 64, 48);            // size 48, policy 0
  sim::UserStore64(regs, page + 72, 0);             // flags
  sim::UserStore64(regs, page + 80, uint32_t(-3));  // nice -3, priority 0
  sim::UserStore64(regs, page + 88, 2 * kMs);       // runtime
  sim::UserStore64(regs, page + 96, 0);
  sim::UserStore64(regs, page + 104, 0);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kSchedSetattr, 0, page + 64, 0) == 0, "setattr");
  sim::UserSyscall(regs, sys::kSchedYield);
  sim::UserRun(regs, 10 * kUs);
  g_sched.slice_seen = sched::Current()->se.slice_ns;
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kSchedGetattr, 0, page + 128, 56, 0) == 0, "getattr");
  LICHEN_ASSERT(sim::UserLoad64(regs, page + 152) == 2 * kMs, "sched_runtime read back");
  LICHEN_ASSERT(static_cast<int32_t>(sim::UserLoad64(regs, page + 144)) == -3, "nice read back");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kGetpriority, 0, 0) == 23, "getpriority after");
  // PRIO_PGRP: every thread of the process, a sibling that runs or waits in its queue too (its
  // weight at once, not a request for a wakeup that a spinning thread never has).
  const uint64_t stack = MapAnon(regs, 16384);
  const int64_t tid = CloneThread(regs, &NiceSpinner, 0, stack + 16384, 0, page + 512);
  LICHEN_ASSERT(tid > 0, "clone");
  while (sim::UserWord(regs, page + 520).Load(std::memory_order_seq_cst) == 0)
    sim::UserRun(regs, 2 * kUs);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kSetpriority, 1, 0, 5) == 0, "setpriority pgrp");
  proc::Thread* sibling = proc::FindThread(static_cast<uint32_t>(tid));
  LICHEN_ASSERT(sibling != nullptr, "the sibling");
  const int nice =
      sibling->task.Load(std::memory_order_acquire)->published_nice.Load(std::memory_order_relaxed);
  proc::PutThread(sibling);
  LICHEN_ASSERT(nice == 5, "the spinning sibling's nice is {}", nice);
  sim::UserWord(regs, page + 524).Store(1, std::memory_order_seq_cst);
  for (uint32_t t; (t = sim::UserWord(regs, page + 512).Load(std::memory_order_seq_cst));)
    sim::UserSyscall(regs, sys::kFutex, page + 512, futex::kWait, t);
  sim::UserSyscall(regs, sys::kExitGroup, 0);
}

TEST(SchedCalls, PinnedThreadsStayNiceAndSliceAreTheTasks) {
  RunProcSeeds("sched-calls", 10, {1, 2, 4}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&PinnedProgram);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(0), "status {:#x}", status);
    LICHEN_ASSERT(g_sched.slice_seen == 2 * kMs, "the task's slice is {} ns", g_sched.slice_seen);
  });
}

}  // namespace
}  // namespace lichen::test

// exit_group racing siblings that spin, block in futex and sleep on other CPUs: every one
// stops promptly (within microseconds of virtual time, not at some later tick), the status is
// the exit_group's, and the address space is freed after every CPU left it. Many seeds.
#include <gtest/gtest.h>

#include "kernel/base/platform.h"
#include "kernel/futex/futex.h"
#include "kernel/proc/process.h"
#include "kernel/user/entry.h"
#include "tests/proc/proc_test_util.h"

namespace lichen::test {
namespace {

// How soon after exit_group every thread must be gone, in virtual time: an IPI's latency
// (at most 5 us in the simulator), a few switches and the reaper's wakeup. A sibling left to
// its next timer interrupt would take a slice or more (milliseconds), or forever on a
// tickless CPU that runs it alone.
constexpr uint64_t kPromptNs = 500 * kUs;

struct ExitShared {
  uint64_t page = 0;  // +0: started count; +64: a futex word nobody wakes; +128.. scratch
  uint64_t exit_at_ns = 0;
  uint32_t siblings = 0;
};
ExitShared g_exit;

void Started(UserRegs& regs) {
  sim::UserWord(regs, g_exit.page).FetchAdd(1, std::memory_order_seq_cst);
}

void Spinner(UserRegs& regs) {
  PinSelf(regs, g_exit.page + 128 + 8 * Arg(regs), static_cast<uint32_t>(Arg(regs)));
  Started(regs);
  for (;;)
    sim::UserRun(regs, 100 * kUs);  // user code that never makes a system call
}

void Blocker(UserRegs& regs) {
  PinSelf(regs, g_exit.page + 128 + 8 * Arg(regs), static_cast<uint32_t>(Arg(regs)));
  Started(regs);
  for (;;) {
    const int64_t r = sim::UserSyscall(regs, sys::kFutex, g_exit.page + 64,
                                       futex::kWait | futex::kPrivateFlag, 0);
    LICHEN_ASSERT(r == E(Errno::kIntr), "a blocked sibling's futex returned {}", r);
    sim::Fail("a killed thread came back to user space");
  }
}

void Sleeper(UserRegs& regs) {
  PinSelf(regs, g_exit.page + 128 + 8 * Arg(regs), static_cast<uint32_t>(Arg(regs)));
  Started(regs);
  const uint64_t ts = g_exit.page + 256 + 16 * Arg(regs);
  sim::UserStore64(regs, ts, 10);  // 10 s
  sim::UserStore64(regs, ts + 8, 0);
  sim::UserSyscall(regs, sys::kNanosleep, ts, 0);
  sim::Fail("a killed thread came back from nanosleep");
}

void ExitGroupMain(UserRegs& regs) {
  g_exit.page = MapAnon(regs, 4096);
  const uint64_t stacks = MapAnon(regs, 8 * 16384);
  PinSelf(regs, g_exit.page + 128, 0);
  const uint32_t ncpus = platform::CpuCount();
  sim::UserProgram kinds[] = {&Spinner, &Blocker, &Sleeper};
  uint32_t n = 0;
  for (uint32_t k = 0; k < 6; ++k) {
    // Siblings on the other CPUs (on CPU 0 too with one CPU).
    const uint32_t cpu = ncpus == 1 ? 0 : 1 + k % (ncpus - 1);
    LICHEN_ASSERT(CloneThread(regs, kinds[k % 3], cpu, stacks + (k + 1) * 16384, 0,
                              g_exit.page + 512 + 4 * k) > 0,
                  "clone");
    ++n;
  }
  g_exit.siblings = n;
  // (User code that waits must spend time: a loop of system calls alone takes no virtual
  // time, and the simulator's clock would never move.)
  while (sim::UserWord(regs, g_exit.page).Load(std::memory_order_seq_cst) < n) {
    sim::UserSyscall(regs, sys::kSchedYield);
    sim::UserRun(regs, 1 * kUs);
  }
  sim::UserRun(regs, 20 * kUs);  // the blockers and sleepers get to their waits, or not
  g_exit.exit_at_ns = platform::Now();
  sim::UserSyscall(regs, sys::kExitGroup, 5);
  sim::Fail("exit_group returned");
}

TEST(ExitSim, ExitGroupStopsSiblingsThatSpinBlockAndSleepOnOtherCpusPromptly) {
  RunProcSeeds("exit-group", 40, {1, 2, 4}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&ExitGroupMain);
    const int status = proc::WaitExit(p);
    const uint64_t took = platform::Now() - g_exit.exit_at_ns;
    LICHEN_ASSERT(status == proc::ExitedStatus(5), "status {:#x}", status);
    LICHEN_ASSERT(took <= kPromptNs, "the last of {} siblings left {} ns after exit_group",
                  g_exit.siblings, took);
  });
}

// exit_group from a secondary thread while the main thread and others run: the status is
// the secondary's code, and exit_group racing a second exit_group keeps the first status.
void SecondaryExiter(UserRegs& regs) {
  sim::UserRun(regs, 10 * kUs);
  sim::UserSyscall(regs, sys::kExitGroup, 40 + Arg(regs));
  sim::Fail("exit_group returned");
}

void RacingMain(UserRegs& regs) {
  const uint64_t stacks = MapAnon(regs, 4 * 16384);
  for (uint32_t k = 0; k < 2; ++k) {
    LICHEN_ASSERT(CloneThread(regs, &SecondaryExiter, k, stacks + (k + 1) * 16384, 0, 0) > 0,
                  "clone");
  }
  for (;;)
    sim::UserRun(regs, 50 * kUs);
}

TEST(ExitSim, ExitGroupFromSecondaryThreadsRacingEachOtherKeepsOneStatus) {
  RunProcSeeds("exit-group-race", 40, {1, 2, 4}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&RacingMain);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(40) || status == proc::ExitedStatus(41),
                  "status {:#x}", status);
  });
}

}  // namespace
}  // namespace lichen::test

namespace lichen::test {
namespace {

// The last step before EL0 makes its final check with IRQs masked and returns that way (the
// platform's eret restores them): exit_group's IPI cannot land between the check and the
// return and leave a killed thread in user space until its next interrupt. On aarch64 the
// vectors mask IRQs after BeforeReturnToUser returns; a check made before that, with IRQs on,
// left that window open.
void MaskedReturnProgram(UserRegs& regs) {
  for (int i = 0; i < 3; ++i) {
    user::BeforeReturnToUser(regs);
    LICHEN_ASSERT(platform::IrqsMasked(), "BeforeReturnToUser returned with IRQs on");
    platform::RestoreIrqs(platform::IrqState{false});  // the eret
    sim::UserRun(regs, 2 * kUs);
  }
  sim::UserSyscall(regs, sys::kExitGroup, 0);
}

TEST(ExitSim, TheLastCheckBeforeUserSpaceIsMadeWithIrqsMasked) {
  RunProcSeeds("masked-return", 3, {1, 2}, [](uint64_t, uint32_t) {
    proc::Process* p = StartProcess(&MaskedReturnProgram);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(0), "status {:#x}", status);
  });
}

}  // namespace
}  // namespace lichen::test

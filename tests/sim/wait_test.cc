// sched::Wait (kernel/sched/wait.h) on the simulator: a condition, a deadline and an
// interruption racing each other on 1, 2, 4 and 8 CPUs over many seeds. Every run checks
// that exactly one outcome is reported and that it is the right one (a wake that came before
// the deadline is never lost; a timeout is never reported early; an interruption only when
// one was asked for), and that nothing wakes the waiter after its wait returned (a stale
// wake from the timer, a waker or an interrupter would end the raw sleep that follows).
// Each failing run prints its seed and replay line.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <initializer_list>

#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "kernel/sync/mutex.h"
#include "kernel/sync/waitqueue.h"
#include "lib/assert.h"
#include "lib/random.h"
#include "lib/units.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"

namespace lichen {
namespace {

using sched::WaitOptions;
using sched::WaitResult;

constexpr uint32_t kCpuCounts[] = {1, 2, 4, 8};
constexpr uint64_t kSeeds = 25;

Task* Spawn(const char* name, Task::Entry entry, void* arg = nullptr,
            CpuMask affinity = CpuMask::FirstN(kMaxCpus)) {
  return sched::Spawn({.name = name, .entry = entry, .arg = arg, .affinity = affinity}).value();
}

uint32_t ThisCpu() {
  IrqGuard guard;
  return platform::ThisCpu();
}

// Runs `root` with `seed` as its argument on `ncpus` CPUs; the seed also draws the test's
// own timings, so one seed is one replayable run.
sim::Outcome RunSeed(uint32_t ncpus, uint64_t seed, sim::RootFn root) {
  sim::Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  return sim::Run(options, root, reinterpret_cast<void*>(seed));
}

// Runs `root` on every CPU count for kSeeds seeds; fails with the seed and replay line.
void RunAllSeeds(sim::RootFn root) {
  for (uint32_t ncpus : kCpuCounts) {
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      const sim::Outcome result = RunSeed(ncpus, seed, root);
      ASSERT_TRUE(result.ok) << ncpus << " CPUs, seed " << seed << ": " << test::Explain(result);
    }
  }
}

// How often each outcome came up across a test's runs: a race test in which one side always
// wins tests nothing, so each test checks that every outcome it races for happened.
uint64_t g_outcomes[3] = {};
void CountOutcome(WaitResult result) {
  ++g_outcomes[static_cast<int>(result)];
}
void ResetOutcomes() {
  for (uint64_t& count : g_outcomes)
    count = 0;
}
void ExpectOutcomesSeen(std::initializer_list<WaitResult> expected) {
  std::printf("  outcomes: %" PRIu64 " condition, %" PRIu64 " timed out, %" PRIu64 " interrupted\n",
              g_outcomes[0], g_outcomes[1], g_outcomes[2]);
  for (WaitResult result : expected)
    EXPECT_GT(g_outcomes[static_cast<int>(result)], 0u)
        << "no run ended by " << sched::WaitResultName(result);
}

// ---- After the wait: nothing may wake the task any more ---------------------------------------

using test::AfterWait;

// ---- A condition, a deadline and an interruption racing ----------------------------------------

struct Race {
  WaitQueue queue;
  bool ready = false;  // under queue's lock
  uint64_t ready_ns = 0;
  uint64_t deadline_ns = 0;
  uint64_t wake_delay_ns = 0;
  uint64_t interrupt_delay_ns = 0;
  bool interruptible = false;
  bool interrupt = false;
  Atomic<uint64_t> interrupt_ns{0};  // when Interrupt() was called; 0: not (yet)
  WaitResult result = WaitResult::kCondition;
  uint64_t returned_ns = 0;
  AfterWait after;
};
Race* g_race = nullptr;

void RaceWaiter(void*) {
  Race& r = *g_race;
  r.result = r.queue.Wait([&r] { return r.ready; },
                          {.deadline_ns = r.deadline_ns, .interruptible = r.interruptible});
  r.returned_ns = platform::Now();
  if (r.result == WaitResult::kInterrupted) {
    LICHEN_ASSERT(sched::ClearInterrupt(), "interrupted with no interruption pending");
  }
  r.after.SleepUntilReleased();
}

void RaceWaker(void*) {
  Race& r = *g_race;
  sched::SleepFor(r.wake_delay_ns);
  r.queue.UpdateAndWakeAll([&r] {
    r.ready = true;
    r.ready_ns = platform::Now();
  });
}

void RaceInterrupter(void*) {
  Race& r = *g_race;
  sched::SleepFor(r.interrupt_delay_ns);
  r.interrupt_ns.Store(platform::Now(), std::memory_order_release);
  sched::Interrupt(r.after.waiter);
}

// One round: a waiter with a deadline, a waker at a random time around it and, when
// `with_interrupt`, an interrupter too.
void RaceRound(Rng& rng, bool with_interrupt) {
  Race r;
  g_race = &r;
  const uint64_t start = platform::Now();
  // The deadline and the wake within a few microseconds of each other on most rounds.
  r.deadline_ns = start + 100 * kUs + rng.Below(100 * kUs);
  r.wake_delay_ns = 100 * kUs + rng.Below(100 * kUs);
  r.interruptible = with_interrupt || rng.Below(2) == 0;
  r.interrupt = with_interrupt;
  r.interrupt_delay_ns = 100 * kUs + rng.Below(100 * kUs);
  r.after.waiter = Spawn("waiter", &RaceWaiter);
  Task* waker = Spawn("waker", &RaceWaker);
  Task* interrupter = with_interrupt ? Spawn("interrupter", &RaceInterrupter) : nullptr;
  r.after.Release();
  sched::Join(r.after.waiter);
  sched::Join(waker);
  if (interrupter != nullptr) sched::Join(interrupter);

  const uint64_t interrupt_ns = r.interrupt_ns.Load(std::memory_order_acquire);
  CountOutcome(r.result);
  switch (r.result) {
    case WaitResult::kCondition:
      LICHEN_ASSERT(r.ready && r.ready_ns <= r.returned_ns, "condition reported before it held");
      break;
    case WaitResult::kTimedOut:
      LICHEN_ASSERT(r.returned_ns >= r.deadline_ns, "timed out at {} before the deadline {}",
                    r.returned_ns, r.deadline_ns);
      // The wake came after the wait gave up (the waker sets ready under the queue's lock,
      // which the waiter's give-up also takes): a wake before the deadline is never lost.
      LICHEN_ASSERT(r.ready_ns >= r.deadline_ns, "a wake at {} before the deadline {} was lost",
                    r.ready_ns, r.deadline_ns);
      break;
    case WaitResult::kInterrupted:
      LICHEN_ASSERT(r.interruptible && interrupt_ns != 0 && interrupt_ns <= r.returned_ns,
                    "interrupted with no interruption asked for");
      LICHEN_ASSERT(r.ready_ns >= interrupt_ns,
                    "a wake at {} before the interruption at {} was lost", r.ready_ns,
                    interrupt_ns);
      break;
  }
}

void WakeVsTimeoutRoot(void* arg) {
  Rng rng(reinterpret_cast<uint64_t>(arg));
  for (int round = 0; round < 6; ++round)
    RaceRound(rng, false);
}

void WakeVsTimeoutVsInterruptRoot(void* arg) {
  Rng rng(reinterpret_cast<uint64_t>(arg) * 7919);
  for (int round = 0; round < 6; ++round)
    RaceRound(rng, true);
}

TEST(Wait, WakeAndTimeoutRacingReportExactlyOneOutcomeAndLoseNoWake) {
  ResetOutcomes();
  RunAllSeeds(&WakeVsTimeoutRoot);
  ExpectOutcomesSeen({WaitResult::kCondition, WaitResult::kTimedOut});
}

TEST(Wait, InterruptWakeAndTimeoutRacing) {
  ResetOutcomes();
  RunAllSeeds(&WakeVsTimeoutVsInterruptRoot);
  ExpectOutcomesSeen({WaitResult::kCondition, WaitResult::kTimedOut, WaitResult::kInterrupted});
}

// ---- A deadline already past -----------------------------------------------------------------

void PastDeadlineRoot(void*) {
  WaitQueue queue;
  bool ready = false;
  const uint64_t past = platform::Now() - 1;
  LICHEN_ASSERT(queue.Wait([&] { return ready; }, {.deadline_ns = past}) == WaitResult::kTimedOut,
                "a past deadline with a false condition did not time out");
  ready = true;
  LICHEN_ASSERT(queue.Wait([&] { return ready; }, {.deadline_ns = 0}) == WaitResult::kCondition,
                "a past deadline hid a true condition");
  // A mutex held by someone else: a past deadline gives up at once; a free one is taken.
  Mutex mutex;
  Atomic<bool> held{false};
  Atomic<bool> done{false};
  auto hold = [&] {
    mutex.Lock();
    held.Store(true, std::memory_order_release);
    while (!done.Load(std::memory_order_acquire))
      sched::SleepFor(10 * kUs);
    mutex.Unlock();
  };
  Task* holder = test::SpawnBody("holder", hold);
  while (!held.Load(std::memory_order_acquire))
    sched::SleepFor(10 * kUs);
  WaitResult why = WaitResult::kCondition;
  if (mutex.LockUntil({.deadline_ns = past}, &why)) {
    mutex.Unlock();
    LICHEN_PANIC("LockUntil in the past took a held mutex");
  }
  LICHEN_ASSERT(why == WaitResult::kTimedOut, "LockUntil in the past: {}",
                sched::WaitResultName(why));
  done.Store(true, std::memory_order_release);
  sched::Join(holder);
  if (!mutex.LockUntil({.deadline_ns = past}, &why)) {
    LICHEN_PANIC("LockUntil in the past failed on a free mutex");
  }
  mutex.Unlock();
  LICHEN_ASSERT(why == WaitResult::kCondition, "LockUntil of a free mutex: {}",
                sched::WaitResultName(why));
  // An interruption pending before an interruptible wait ends it at once, and stays pending
  // until cleared; an uninterruptible wait ignores it.
  ready = false;
  sched::Interrupt(sched::Current());
  LICHEN_ASSERT(
      queue.Wait([&] { return ready; }, {.interruptible = true}) == WaitResult::kInterrupted,
      "a pending interruption did not end an interruptible wait");
  LICHEN_ASSERT(queue.Wait([&] { return ready; }, {.deadline_ns = platform::Now() + 50 * kUs}) ==
                    WaitResult::kTimedOut,
                "an uninterruptible wait was interrupted");
  LICHEN_ASSERT(sched::ClearInterrupt() && !sched::ClearInterrupt(),
                "the interruption was not pending exactly until cleared");
}

TEST(Wait, DeadlineAlreadyPastAndPendingInterruption) {
  RunAllSeeds(&PastDeadlineRoot);
}

// ---- A waiter that moves while it waits -----------------------------------------------------

struct Moving {
  WaitQueue queue;
  bool ready = false;  // under queue's lock
  uint64_t deadline_ns = 0;
  bool set_ready = false;
  WaitResult result = WaitResult::kCondition;
  uint32_t start_cpu = 0;
  uint32_t end_cpu = 0;
  AfterWait after;
};
Moving* g_moving = nullptr;

void MovingWaiter(void*) {
  Moving& m = *g_moving;
  m.start_cpu = ThisCpu();
  m.result = m.queue.Wait([&m] { return m.ready; }, {.deadline_ns = m.deadline_ns});
  m.end_cpu = ThisCpu();
  m.after.SleepUntilReleased();
}

// The waiter arms its deadline on CPU 0, is moved to the last CPU while it sleeps (a new
// affinity, applied at its next wakeup: a spurious one), and then either times out (the
// timer fires on CPU 0 and wakes it remotely) or is woken first (its timer is cancelled on
// CPU 0 by a cross-CPU call).
void MovingRoot(void* arg) {
  Rng rng(reinterpret_cast<uint64_t>(arg) * 31);
  const uint32_t ncpus = platform::CpuCount();
  for (int round = 0; round < 4; ++round) {
    Moving m;
    g_moving = &m;
    m.deadline_ns = platform::Now() + 300 * kUs + rng.Below(100 * kUs);
    m.set_ready = rng.Below(2) == 0;
    m.after.waiter = Spawn("mover", &MovingWaiter, nullptr, CpuMask::Single(0));
    sched::SleepFor(50 * kUs);
    LICHEN_ASSERT(sched::SetAffinity(m.after.waiter, CpuMask::Single(ncpus - 1)).ok(),
                  "SetAffinity failed");
    m.queue.WakeAll();  // spurious: the condition is still false; it moves on this wakeup
    if (m.set_ready) {
      sched::SleepFor(rng.Below(200 * kUs));
      m.queue.UpdateAndWakeAll([&m] { m.ready = true; });
    }
    m.after.Release();
    sched::Join(m.after.waiter);
    LICHEN_ASSERT(m.start_cpu == 0 && m.end_cpu == ncpus - 1, "waited on CPU {}, returned on {}",
                  m.start_cpu, m.end_cpu);
    CountOutcome(m.result);
    const WaitResult expected = m.set_ready ? WaitResult::kCondition : WaitResult::kTimedOut;
    LICHEN_ASSERT(m.result == expected || (m.set_ready && m.result == WaitResult::kTimedOut),
                  "moved waiter: {}", sched::WaitResultName(m.result));
  }
}

TEST(Wait, WaiterMovingToAnotherCpuWhileItsDeadlineIsArmed) {
  ResetOutcomes();
  RunAllSeeds(&MovingRoot);
  ExpectOutcomesSeen({WaitResult::kCondition, WaitResult::kTimedOut});
}

// ---- Many waiters with different deadlines ---------------------------------------------------

struct Many {
  WaitQueue queue;
  uint64_t tokens = 0;  // under queue's lock
  uint64_t produced = 0;
  Atomic<uint64_t> consumed{0};
  Atomic<uint32_t> next{0};
  uint64_t deadlines[16] = {};
};
Many* g_many = nullptr;

void ManyWaiter(void*) {
  Many& m = *g_many;
  const uint32_t i = m.next.FetchAdd(1, std::memory_order_relaxed);
  const uint64_t deadline = m.deadlines[i];
  const WaitResult result = m.queue.Wait(
      [&m] {
        if (m.tokens == 0) return false;
        --m.tokens;
        return true;
      },
      {.deadline_ns = deadline});
  CountOutcome(result);
  if (result == WaitResult::kCondition) {
    m.consumed.FetchAdd(1, std::memory_order_relaxed);
  } else {
    LICHEN_ASSERT(result == WaitResult::kTimedOut && platform::Now() >= deadline,
                  "waiter {} returned {} before its deadline", i, sched::WaitResultName(result));
  }
}

// 2N waiters with deadlines spread over 500 us; tokens handed out one at a time with
// WakeOne (a waiter that gives up just as it was picked passes the wake on). Checked against
// the reference: every token produced is either consumed by exactly one waiter that
// reported kCondition or still there.
void ManyRoot(void* arg) {
  Rng rng(reinterpret_cast<uint64_t>(arg) * 131);
  Many m;
  g_many = &m;
  const uint32_t waiters = 2 * platform::CpuCount();
  const uint64_t now = platform::Now();
  for (uint32_t i = 0; i < waiters; ++i)
    m.deadlines[i] = now + 50 * kUs + rng.Below(500 * kUs);
  Task* tasks[16] = {};
  for (uint32_t i = 0; i < waiters; ++i)
    tasks[i] = Spawn("many", &ManyWaiter);
  const uint64_t to_produce = rng.Below(waiters + 1);
  for (uint64_t i = 0; i < to_produce; ++i) {
    sched::SleepFor(rng.Below(100 * kUs));
    m.queue.UpdateAndWakeAll([&m] {
      ++m.tokens;
      ++m.produced;
    });
  }
  for (uint32_t i = 0; i < waiters; ++i)
    sched::Join(tasks[i]);
  uint64_t left = 0;
  m.queue.UpdateAndWakeAll([&] { left = m.tokens; });
  const uint64_t consumed = m.consumed.Load(std::memory_order_relaxed);
  LICHEN_ASSERT(consumed + left == m.produced, "{} tokens produced, {} consumed, {} left",
                m.produced, consumed, left);
}

TEST(Wait, ManyWaitersWithDifferentDeadlines) {
  ResetOutcomes();
  RunAllSeeds(&ManyRoot);
  ExpectOutcomesSeen({WaitResult::kCondition, WaitResult::kTimedOut});
}

// ---- Mutex::LockUntil: a hand-off racing the deadline ----------------------------------------

struct MutexRace {
  Mutex mutex;
  uint64_t deadline_ns = 0;
  bool locked = false;
  WaitResult result = WaitResult::kCondition;
};
MutexRace* g_mutex_race = nullptr;

void MutexWaiter(void*) {
  MutexRace& r = *g_mutex_race;
  if (r.mutex.LockUntil({.deadline_ns = r.deadline_ns}, &r.result)) {
    r.locked = true;
    LICHEN_ASSERT(r.mutex.OwnerHint() == sched::Current(), "LockUntil succeeded without owning");
    r.mutex.Unlock();
  } else {
    LICHEN_ASSERT(r.mutex.OwnerHint() != sched::Current(),
                  "task {} owns the mutex after its LockUntil timed out", sched::Current()->id);
  }
}

// The root holds the mutex and releases it within a few microseconds of the waiter's
// deadline: the hand-off and the timeout race. Whatever wins, the mutex ends up free.
void MutexRoot(void* arg) {
  Rng rng(reinterpret_cast<uint64_t>(arg) * 17);
  for (int round = 0; round < 6; ++round) {
    MutexRace r;
    g_mutex_race = &r;
    r.mutex.Lock();
    const uint64_t start = platform::Now();
    r.deadline_ns = start + 100 * kUs + rng.Below(20 * kUs);
    Task* waiter = Spawn("locker", &MutexWaiter);
    sched::SleepUntil(start + 100 * kUs + rng.Below(20 * kUs));
    r.mutex.Unlock();
    sched::Join(waiter);
    CountOutcome(r.result);
    LICHEN_ASSERT(r.locked == (r.result == WaitResult::kCondition), "LockUntil said {} but {}",
                  r.locked ? "locked" : "not locked", sched::WaitResultName(r.result));
    if (!r.mutex.TryLock()) LICHEN_PANIC("the mutex is still held after the race");
    r.mutex.Unlock();
  }
}

TEST(Wait, MutexHandOffRacingTheDeadline) {
  ResetOutcomes();
  RunAllSeeds(&MutexRoot);
  ExpectOutcomesSeen({WaitResult::kCondition, WaitResult::kTimedOut});
}

// The seed's futex-timeout bug class: the timeout path withdraws the waiter without looking
// whether the hand-off already made it the owner. The simulator catches it.
TEST(Wait, FaultTimeoutIgnoringTheHandOffIsCaught) {
  test::FaultScope fault(&Faults::mutex_timeout_ignores_grant);
  test::ExpectCaughtWithin(200, {{sim::Failure::kPanic, "after its LockUntil timed out"}},
                           [](uint64_t seed) { return RunSeed(2, seed, &MutexRoot); });
}

// ---- A cross-CPU call leaves no wake behind ---------------------------------------------------

// CallOn's handler sets the request's `done` and then wakes the caller. A caller that sees
// `done` before that Wake() (it was between its announcement and its check) must not return
// before the Wake() is over, or the Wake() ends its next sleep. Found through the futex
// tests, where DisarmWaitTimer's call preceded the raw sleep of AfterWait.
struct CallRace {
  AfterWait after;
  Atomic<uint32_t> calls{0};
  uint32_t target = 0;
};
CallRace* g_call = nullptr;

void CallerTask(void*) {
  CallRace& c = *g_call;
  sched::CallOn(
      c.target,
      [](void* calls) {
        static_cast<Atomic<uint32_t>*>(calls)->FetchAdd(1, std::memory_order_relaxed);
      },
      &c.calls);
  c.after.SleepUntilReleased();
}

void CallRoot(void*) {
  const uint32_t ncpus = platform::CpuCount();
  for (int round = 0; round < 8; ++round) {
    CallRace c;
    g_call = &c;
    c.target = ncpus - 1;
    c.after.waiter = Spawn("caller", &CallerTask, nullptr, CpuMask::Single(0));
    c.after.Release();
    sched::Join(c.after.waiter);
    LICHEN_ASSERT(c.calls.Load(std::memory_order_relaxed) == 1, "the call ran {} times",
                  c.calls.Load(std::memory_order_relaxed));
  }
}

TEST(Wait, CrossCpuCallLeavesNoWakeBehind) {
  RunAllSeeds(&CallRoot);
}

TEST(Wait, FaultCallReturningBeforeItsWakeIsCaught) {
  test::FaultScope fault(&Faults::call_returns_before_wake);
  test::ExpectCaughtWithin(300, {{sim::Failure::kPanic, "woken after its wait returned"}},
                           [](uint64_t seed) { return RunSeed(2, seed, &CallRoot); });
}

}  // namespace
}  // namespace lichen

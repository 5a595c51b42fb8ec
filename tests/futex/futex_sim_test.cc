// futex(2) (kernel/futex/futex.h) in the simulator: the real core on 1 to 4 virtual CPUs,
// with "user memory" that is plain memory at made-up addresses (anything else is EFAULT).
//
// The concurrency tests run many seeds and check accounting that no schedule may break:
// every WAKE's return value equals the number of waiters that return 0 because of it, no
// waiter returns 0 without a wake, and no wake lands in a task after its wait returned. The
// reference-model test drives random op sequences from several threads and compares every
// return value and every queue's length with a simple model of who waits on which key.
// Failing seeds print a replay line (LICHEN_SEED=n ... --gtest_filter=...).
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <vector>

#include "kernel/base/debug.h"
#include "kernel/base/platform.h"
#include "kernel/futex/futex.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/wait.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/errno.h"
#include "lib/random.h"
#include "lib/units.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

using futex::WordCmp;
using futex::WordOp;

constexpr uintptr_t kWordBase = 0x10000;
constexpr uint32_t kWords = 8;
constexpr uintptr_t kTimespecBase = 0x20000;
constexpr uint32_t kTimespecs = 8;
constexpr uintptr_t kBadAddr = 0xdead0000;  // not mapped: EFAULT
constexpr uint32_t kPriv = futex::kPrivateFlag;
constexpr uint32_t kAll = 0x7fffffff;  // "wake or requeue everyone" as glibc passes it (INT_MAX)

constexpr int64_t E(Errno e) {
  return SyscallError(e);
}

uintptr_t Addr(uint32_t word) {
  return kWordBase + 4 * word;
}
uintptr_t TimespecAddr(uint32_t i) {
  return kTimespecBase + 16 * i;
}

// One address space's user memory, as the syscall layer will provide it: words and
// timespecs at fixed addresses; any other address faults.
struct UserSpace {
  // The address space's identity for the futex keys: a fixed number, not this object's host
  // address, so that the buckets (and so the schedule) of a seed replay exactly.
  futex::Space space;
  Atomic<uint32_t> words[kWords];
  futex::Timespec timespecs[kTimespecs];
  futex::UserMemory mem;

  explicit UserSpace(uintptr_t id = 1) : space(reinterpret_cast<futex::Space>(id)) {
    mem.ctx = this;
    mem.load = &LoadWord;
    mem.fetch_op = &FetchOp;
    mem.load_timespec = &LoadTimespec;
  }

  Atomic<uint32_t>* Word(uintptr_t uaddr) {
    if (uaddr < kWordBase || uaddr >= kWordBase + 4 * kWords || uaddr % 4 != 0) return nullptr;
    return &words[(uaddr - kWordBase) / 4];
  }
  uint32_t Get(uint32_t word) { return words[word].Load(std::memory_order_seq_cst); }
  void Set(uint32_t word, uint32_t value) { words[word].Store(value, std::memory_order_seq_cst); }

  static Result<uint32_t> LoadWord(void* ctx, uintptr_t uaddr) {
    Atomic<uint32_t>* word = static_cast<UserSpace*>(ctx)->Word(uaddr);
    if (word == nullptr) return Error::kInvalidArgument;
    return word->Load(std::memory_order_seq_cst);
  }
  static Result<uint32_t> FetchOp(void* ctx, uintptr_t uaddr, WordOp op, uint32_t operand) {
    Atomic<uint32_t>* word = static_cast<UserSpace*>(ctx)->Word(uaddr);
    if (word == nullptr) return Error::kInvalidArgument;
    uint32_t old = word->Load(std::memory_order_relaxed);
    while (!word->CompareExchange(old, futex::ApplyWordOp(op, old, operand),
                                  std::memory_order_seq_cst, std::memory_order_relaxed)) {
    }
    return old;
  }
  static Result<futex::Timespec> LoadTimespec(void* ctx, uintptr_t uaddr) {
    if (uaddr < kTimespecBase || uaddr >= kTimespecBase + 16 * kTimespecs || uaddr % 16 != 0) {
      return Error::kInvalidArgument;
    }
    return static_cast<UserSpace*>(ctx)->timespecs[(uaddr - kTimespecBase) / 16];
  }

  int64_t Call(uint32_t op, uintptr_t uaddr, uint32_t val, uintptr_t timeout = 0,
               uintptr_t uaddr2 = 0, uint32_t val3 = 0) {
    return futex::Futex(space, mem, {uaddr, op, val, timeout, uaddr2, val3});
  }
  uint32_t Queued(uint32_t word, bool is_private = true) {
    return futex::QueuedWaiters(space, Addr(word), is_private);
  }
};

sim::Outcome RunSim(uint32_t ncpus, uint64_t seed, const std::function<void()>& root) {
  sim::Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  return sim::Run(options, root);
}

// Runs `root(rng)` on each CPU count for `seeds` seeds (test::ForEachSeed: LICHEN_SEED
// replays one, a failure prints its seed).
void RunSeeds(const char* name, uint64_t seeds, std::initializer_list<uint32_t> cpu_counts,
              const std::function<void(Rng&)>& root) {
  test::ForEachSeed(name, seeds, [&](uint64_t seed) {
    for (uint32_t ncpus : cpu_counts) {
      const sim::Outcome result = RunSim(ncpus, seed, [&] {
        Rng rng(seed * 7919 + ncpus);
        root(rng);
      });
      ASSERT_TRUE(result.ok) << ncpus << " CPUs: " << test::Explain(result);
    }
  });
}

// Sleeps in small steps until `cond()` holds (the test's root polling the kernel's state).
template <typename Cond>
void PollUntil(Cond&& cond) {
  while (!cond())
    sched::SleepFor(2 * kUs);
}

using test::AfterWait;

// ---- Ping-pong across CPUs -------------------------------------------------------------------

// Two tasks pinned to CPUs 0 and 1 hand a turn back and forth through one futex word, as a
// condition variable or a mutex hand-off does.
TEST(FutexSim, PingPongAcrossCpus) {
  RunSeeds("futex-ping-pong", 20, {2, 4}, [](Rng&) {
    UserSpace user;
    constexpr uint32_t kRounds = 40;
    Atomic<int64_t> woken{0};       // sum of WAKE's return values
    Atomic<int64_t> zero_waits{0};  // waits that returned 0
    auto play = [&](uint32_t me) {
      for (uint32_t round = 0; round < kRounds; ++round) {
        for (uint32_t turn; (turn = user.Get(0)) != me;) {
          const int64_t r = user.Call(futex::kWait | kPriv, Addr(0), turn);
          LICHEN_ASSERT(r == 0 || r == E(Errno::kAgain), "ping-pong wait returned {}", r);
          if (r == 0) zero_waits.FetchAdd(1, std::memory_order_relaxed);
        }
        user.Set(0, 1 - me);
        const int64_t r = user.Call(futex::kWake | kPriv, Addr(0), 1);
        LICHEN_ASSERT(r == 0 || r == 1, "ping-pong wake returned {}", r);
        woken.FetchAdd(r, std::memory_order_relaxed);
      }
    };
    auto ping = [&] { play(0); };
    auto pong = [&] { play(1); };
    Task* a = test::SpawnBody("ping", ping, CpuMask::Single(0));
    Task* b = test::SpawnBody("pong", pong, CpuMask::Single(1));
    sched::Join(a);
    sched::Join(b);
    LICHEN_ASSERT(
        woken.Load(std::memory_order_relaxed) == zero_waits.Load(std::memory_order_relaxed),
        "wakes counted {} but {} waits returned 0", woken.Load(std::memory_order_relaxed),
        zero_waits.Load(std::memory_order_relaxed));
    LICHEN_ASSERT(user.Queued(0) == 0, "waiters left queued");
  });
}

// ---- A timeout racing wakes ---------------------------------------------------------------------

uint64_t g_outcomes[3];  // returned 0, ETIMEDOUT, EINTR, across a test's runs

void Count(int64_t r) {
  if (r == 0) ++g_outcomes[0];
  if (r == E(Errno::kTimedOut)) ++g_outcomes[1];
  if (r == E(Errno::kIntr)) ++g_outcomes[2];
}

void PrintOutcomes() {
  std::printf("  outcomes: %" PRIu64 " woken, %" PRIu64 " timed out, %" PRIu64 " interrupted\n",
              g_outcomes[0], g_outcomes[1], g_outcomes[2]);
}

// Three waiters with relative timeouts and two wakes of random sizes, all within the same
// 100 us: a wake is never lost to a timeout and never counted twice.
TEST(FutexSim, TimeoutRacingWakeNeverLosesOrDoublesAWake) {
  for (uint64_t& c : g_outcomes)
    c = 0;
  RunSeeds("futex-timeout-vs-wake", 30, {1, 2, 4}, [](Rng& rng) {
    for (int round = 0; round < 3; ++round) {
      UserSpace user;
      constexpr uint32_t kWaiters = 3;
      int64_t results[kWaiters] = {};
      AfterWait after[kWaiters];
      Task* waiters[kWaiters] = {};
      std::function<void()> bodies[kWaiters];
      for (uint32_t i = 0; i < kWaiters; ++i) {
        user.timespecs[i] = {0, static_cast<int64_t>(100 * kUs + rng.Below(100 * kUs))};
        bodies[i] = [&user, &results, &after, i] {
          results[i] = user.Call(futex::kWait | kPriv, Addr(0), 0, TimespecAddr(i));
          after[i].SleepUntilReleased();
        };
        waiters[i] = test::SpawnBody("waiter", bodies[i]);
      }
      int64_t woken = 0;
      const uint64_t delays[2] = {100 * kUs + rng.Below(100 * kUs), rng.Below(60 * kUs)};
      const uint32_t counts[2] = {1 + static_cast<uint32_t>(rng.Below(2)),
                                  1 + static_cast<uint32_t>(rng.Below(3))};
      auto waker = [&] {
        for (int w = 0; w < 2; ++w) {
          sched::SleepFor(delays[w]);
          const int64_t r = user.Call(futex::kWake | kPriv, Addr(0), counts[w]);
          LICHEN_ASSERT(r >= 0 && r <= counts[w], "wake of {} returned {}", counts[w], r);
          woken += r;
        }
      };
      Task* waker_task = test::SpawnBody("waker", waker);
      sched::Join(waker_task);
      int64_t zero = 0;
      for (uint32_t i = 0; i < kWaiters; ++i) {
        after[i].Release(waiters[i]);
        sched::Join(waiters[i]);
        LICHEN_ASSERT(results[i] == 0 || results[i] == E(Errno::kTimedOut), "waiter returned {}",
                      results[i]);
        if (results[i] == 0) ++zero;
        Count(results[i]);
      }
      LICHEN_ASSERT(zero == woken, "the wakes counted {} but {} waiters returned 0", woken, zero);
      LICHEN_ASSERT(user.Queued(0) == 0, "a waiter is still queued");
    }
  });
  PrintOutcomes();
  EXPECT_GT(g_outcomes[0], 0u) << "no wait was woken: the race was not run";
  EXPECT_GT(g_outcomes[1], 0u) << "no wait timed out: the race was not run";
}

// ---- Interruption, wake and timeout ------------------------------------------------------------

TEST(FutexSim, InterruptWakeAndTimeoutRace) {
  for (uint64_t& c : g_outcomes)
    c = 0;
  RunSeeds("futex-interrupt", 30, {1, 2, 4}, [](Rng& rng) {
    for (int round = 0; round < 3; ++round) {
      UserSpace user;
      // WAIT_BITSET: an absolute deadline on the monotonic clock.
      const uint64_t deadline = platform::Now() + 100 * kUs + rng.Below(100 * kUs);
      user.timespecs[0] = {static_cast<int64_t>(deadline / kSec),
                           static_cast<int64_t>(deadline % kSec)};
      int64_t result = 0;
      bool was_pending = false;
      AfterWait after;
      auto waiter_body = [&] {
        result = user.Call(futex::kWaitBitset | kPriv, Addr(1), 0, TimespecAddr(0), 0, 1);
        if (result == E(Errno::kIntr)) was_pending = sched::ClearInterrupt();
        after.SleepUntilReleased();
      };
      Task* waiter = test::SpawnBody("waiter", waiter_body);
      const uint64_t wake_delay = 100 * kUs + rng.Below(100 * kUs);
      const uint64_t interrupt_delay = 100 * kUs + rng.Below(100 * kUs);
      int64_t woken = 0;
      auto waker = [&] {
        sched::SleepFor(wake_delay);
        woken = user.Call(futex::kWakeBitset | kPriv, Addr(1), 1, 0, 0, 1);
      };
      auto interrupter = [&] {
        sched::SleepFor(interrupt_delay);
        sched::Interrupt(waiter);
      };
      Task* w = test::SpawnBody("waker", waker);
      Task* i = test::SpawnBody("interrupter", interrupter);
      sched::Join(w);
      sched::Join(i);
      after.Release(waiter);
      sched::Join(waiter);
      Count(result);
      LICHEN_ASSERT(result == 0 || result == E(Errno::kTimedOut) || result == E(Errno::kIntr),
                    "waiter returned {}", result);
      LICHEN_ASSERT(woken == (result == 0 ? 1 : 0), "wake returned {}, the waiter {}", woken,
                    result);
      LICHEN_ASSERT(result != E(Errno::kIntr) || was_pending, "EINTR with nothing pending");
      if (result == E(Errno::kTimedOut)) {
        LICHEN_ASSERT(platform::Now() >= deadline, "timed out before the deadline");
      }
      LICHEN_ASSERT(user.Queued(1) == 0, "a waiter is still queued");
    }
  });
  PrintOutcomes();
  for (uint64_t c : g_outcomes)
    EXPECT_GT(c, 0u) << "an outcome of the race never happened";
}

// ---- Requeue ------------------------------------------------------------------------------------

// Spawns `n` waiters on `word` (expected value 0, optional timeout) and waits until all are
// queued; their results land in `results`. Fixed arrays, no heap: a run that fails (the fault
// tests expect a hang) abandons its tasks' frames, and heap memory held there would leak.
struct Waiters {
  static constexpr uint32_t kMax = 8;
  struct Body {
    Waiters* waiters = nullptr;
    UserSpace* user = nullptr;
    uint32_t word = 0;
    uintptr_t timeout = 0;
    uint32_t index = 0;
    void operator()() {
      waiters->results[index] = user->Call(futex::kWait | kPriv, Addr(word), 0, timeout);
    }
  };
  Body bodies[kMax];
  Task* tasks[kMax] = {};
  int64_t results[kMax] = {};
  uint32_t count = 0;

  void Start(UserSpace& user, uint32_t word, uint32_t n, uintptr_t timeout = 0) {
    LICHEN_ASSERT(n <= kMax, "at most {} waiters", kMax);
    const uint32_t before = user.Queued(word);
    count = n;
    for (uint32_t i = 0; i < n; ++i) {
      results[i] = 1;
      bodies[i] = Body{this, &user, word, timeout, i};
    }
    for (uint32_t i = 0; i < n; ++i)
      tasks[i] = test::SpawnBody("waiter", bodies[i]);
    PollUntil([&] { return user.Queued(word) == before + n; });
  }
  void JoinAll(int64_t expected) {
    for (uint32_t i = 0; i < count; ++i) {
      sched::Join(tasks[i]);
      LICHEN_ASSERT(results[i] == expected, "waiter {} returned {}, expected {}", i, results[i],
                    expected);
    }
  }
};

TEST(FutexSim, RequeueMovesWaitersToTheTarget) {
  RunSeeds("futex-requeue", 15, {1, 2, 4}, [](Rng&) {
    UserSpace user;
    Waiters w;
    w.Start(user, 0, 4);
    // CMP_REQUEUE against the wrong value: EAGAIN, nothing woken or moved.
    LICHEN_ASSERT(
        user.Call(futex::kCmpRequeue | kPriv, Addr(0), 1, kAll, Addr(1), 7) == E(Errno::kAgain),
        "CMP_REQUEUE on a mismatch");
    LICHEN_ASSERT(user.Queued(0) == 4 && user.Queued(1) == 0, "a mismatched requeue moved");
    // Negative counts are EINVAL.
    LICHEN_ASSERT(
        user.Call(futex::kRequeue | kPriv, Addr(0), 0xffffffff, 1, Addr(1)) == E(Errno::kInval),
        "negative nr_wake");
    // Wake one, move two: returns 3.
    int64_t r = user.Call(futex::kCmpRequeue | kPriv, Addr(0), 1, 2, Addr(1), 0);
    LICHEN_ASSERT(r == 3, "CMP_REQUEUE(1, 2) returned {}", r);
    LICHEN_ASSERT(user.Queued(0) == 1 && user.Queued(1) == 2, "queues {} {}", user.Queued(0),
                  user.Queued(1));
    // Plain REQUEUE of the last one, waking none.
    r = user.Call(futex::kRequeue | kPriv, Addr(0), 0, kAll, Addr(1));
    LICHEN_ASSERT(r == 1, "REQUEUE(0, all) returned {}", r);
    LICHEN_ASSERT(user.Call(futex::kWake | kPriv, Addr(0), kAll) == 0, "the source still wakes");
    // The moved waiters are woken by a WAKE on the target.
    r = user.Call(futex::kWake | kPriv, Addr(1), kAll);
    LICHEN_ASSERT(r == 3, "WAKE on the target returned {}", r);
    w.JoinAll(0);

    // Requeued waiters that then time out leave the target's queue (they find their new
    // bucket's lock, not the old one).
    user.timespecs[0] = {0, static_cast<int64_t>(300 * kUs)};
    Waiters t;
    t.Start(user, 2, 2, TimespecAddr(0));
    r = user.Call(futex::kRequeue | kPriv, Addr(2), 0, kAll, Addr(3));
    LICHEN_ASSERT(r == 2, "REQUEUE returned {}", r);
    t.JoinAll(E(Errno::kTimedOut));
    LICHEN_ASSERT(user.Queued(2) == 0 && user.Queued(3) == 0, "timed-out waiters still queued");
  });
}

// ---- WAKE_OP ------------------------------------------------------------------------------------

TEST(FutexSim, WakeOpAppliesTheOpAndWakesPerTheComparison) {
  RunSeeds("futex-wake-op", 10, {1, 2, 4}, [](Rng&) {
    UserSpace user;
    const uint32_t op = futex::kWakeOp | kPriv;
    Waiters a;
    Waiters b;
    a.Start(user, 0, 2);
    b.Start(user, 1, 4);
    user.Set(1, 5);
    // old 5 > 4: wakes one on each word; the second word becomes 8.
    int64_t r = user.Call(op, Addr(0), 1, 1, Addr(1),
                          futex::EncodeWakeOp(uint32_t(WordOp::kAdd), 3, WordCmp::kGt, 4));
    LICHEN_ASSERT(r == 2 && user.Get(1) == 8, "ADD/GT: returned {}, word {}", r, user.Get(1));
    // old 8 != 1: only the first word's waiter.
    r = user.Call(op, Addr(0), 1, 1, Addr(1),
                  futex::EncodeWakeOp(uint32_t(WordOp::kSet), 0, WordCmp::kEq, 1));
    LICHEN_ASSERT(r == 1 && user.Get(1) == 0, "SET/EQ: returned {}, word {}", r, user.Get(1));
    // OPARG_SHIFT: OR 1 << 4; old 0 == 0 wakes one on the second word (none left on the first).
    r = user.Call(
        op, Addr(0), 1, 1, Addr(1),
        futex::EncodeWakeOp(uint32_t(WordOp::kOr) | futex::kOpArgShift, 4, WordCmp::kEq, 0));
    LICHEN_ASSERT(r == 1 && user.Get(1) == 16, "OR<<4: returned {}, word {}", r, user.Get(1));
    // The comparison is signed: old 0xffffffff (-1) < 0 wakes.
    user.Set(1, 0xffffffff);
    r = user.Call(op, Addr(0), 1, 1, Addr(1),
                  futex::EncodeWakeOp(uint32_t(WordOp::kAdd), 0, WordCmp::kLt, 0));
    LICHEN_ASSERT(r == 1, "signed LT: returned {}", r);
    a.JoinAll(0);
    // ... and the last waiter of the second word: GE/LE/NE/GT.
    user.Set(1, 7);
    r = user.Call(op, Addr(0), 1, 1, Addr(1),
                  futex::EncodeWakeOp(uint32_t(WordOp::kXor), 0, WordCmp::kLe, 6));
    LICHEN_ASSERT(r == 0, "7 <= 6 woke {}", r);
    r = user.Call(op, Addr(0), 1, 1, Addr(1),
                  futex::EncodeWakeOp(uint32_t(WordOp::kXor), 0, WordCmp::kGe, 7));
    LICHEN_ASSERT(r == 1, "7 >= 7 woke {}", r);
    b.JoinAll(0);

    // The arithmetic alone, nobody waiting.
    user.Set(2, 0xff);
    r = user.Call(op, Addr(0), 1, 1, Addr(2),
                  futex::EncodeWakeOp(uint32_t(WordOp::kAndn), 0xf, WordCmp::kNe, 0));
    LICHEN_ASSERT(r == 0 && user.Get(2) == 0xf0, "ANDN: word {}", user.Get(2));
    r = user.Call(op, Addr(0), 1, 1, Addr(2),
                  futex::EncodeWakeOp(uint32_t(WordOp::kXor), 0x10, WordCmp::kNe, 0));
    LICHEN_ASSERT(user.Get(2) == 0xe0, "XOR: word {}", user.Get(2));
    // A 12-bit operand is signed: 0xfff is -1.
    r = user.Call(op, Addr(0), 1, 1, Addr(2),
                  futex::EncodeWakeOp(uint32_t(WordOp::kAdd), 0xfff, WordCmp::kNe, 0));
    LICHEN_ASSERT(user.Get(2) == 0xdf, "ADD -1: word {}", user.Get(2));
    // A shift out of 0..31 is masked, as Linux does: 33 -> 1 << 1.
    r = user.Call(
        op, Addr(0), 1, 1, Addr(2),
        futex::EncodeWakeOp(uint32_t(WordOp::kSet) | futex::kOpArgShift, 33, WordCmp::kNe, 0));
    LICHEN_ASSERT(user.Get(2) == 2, "SET 1 << (33 & 31): word {}", user.Get(2));
    // An unknown op: ENOSYS, the word untouched. An unknown comparison: ENOSYS after the op.
    r = user.Call(op, Addr(0), 1, 1, Addr(2), futex::EncodeWakeOp(6, 9, WordCmp::kEq, 0));
    LICHEN_ASSERT(r == E(Errno::kNoSys) && user.Get(2) == 2, "op 6: {} word {}", r, user.Get(2));
    r = user.Call(op, Addr(0), 1, 1, Addr(2),
                  futex::EncodeWakeOp(uint32_t(WordOp::kSet), 9, static_cast<WordCmp>(9), 0));
    LICHEN_ASSERT(r == E(Errno::kNoSys) && user.Get(2) == 9, "cmp 9: {} word {}", r, user.Get(2));
    // A bad second word: EFAULT.
    r = user.Call(op, Addr(0), 1, 1, kBadAddr,
                  futex::EncodeWakeOp(uint32_t(WordOp::kSet), 1, WordCmp::kEq, 0));
    LICHEN_ASSERT(r == E(Errno::kFault), "WAKE_OP on a bad word returned {}", r);
  });
}

// ---- Argument errors, values and timeouts -------------------------------------------------------

TEST(FutexSim, ErrorsAndTimeouts) {
  const sim::Outcome result = RunSim(2, 1, [] {
    UserSpace user;
    user.Set(0, 5);
    auto expect = [](int64_t got, int64_t want, const char* what) {
      LICHEN_ASSERT(got == want, "{}: returned {}, expected {}", what, got, want);
    };
    expect(user.Call(futex::kWait | kPriv, Addr(0), 4), E(Errno::kAgain), "WAIT on 5 for 4");
    expect(user.Call(futex::kWaitBitset | kPriv, Addr(0), 4, 0, 0, 1), E(Errno::kAgain),
           "WAIT_BITSET on 5 for 4");
    expect(user.Call(futex::kWait | kPriv, kBadAddr, 0), E(Errno::kFault), "WAIT, bad word");
    expect(user.Call(futex::kWait | kPriv, Addr(0) + 2, 5), E(Errno::kInval), "WAIT, misaligned");
    expect(user.Call(futex::kWaitBitset | kPriv, Addr(0), 5, 0, 0, 0), E(Errno::kInval),
           "WAIT_BITSET, bitset 0");
    expect(user.Call(futex::kWakeBitset | kPriv, Addr(0), 1, 0, 0, 0), E(Errno::kInval),
           "WAKE_BITSET, bitset 0");
    expect(user.Call(futex::kWait | kPriv, Addr(0), 5, kBadAddr), E(Errno::kFault),
           "WAIT, bad timeout pointer");
    user.timespecs[1] = {0, static_cast<int64_t>(kSec)};
    expect(user.Call(futex::kWait | kPriv, Addr(0), 5, TimespecAddr(1)), E(Errno::kInval),
           "WAIT, tv_nsec = 1e9");
    user.timespecs[1] = {-1, 0};
    expect(user.Call(futex::kWait | kPriv, Addr(0), 5, TimespecAddr(1)), E(Errno::kInval),
           "WAIT, tv_sec < 0");
    // A WAKE does not read its word: a bad one wakes nobody.
    expect(user.Call(futex::kWake | kPriv, kBadAddr, 1), 0, "WAKE, bad word");
    // CLOCK_REALTIME: only WAIT_BITSET (of the ops here) takes it.
    expect(user.Call(futex::kWake | kPriv | futex::kClockRealtime, Addr(0), 1), E(Errno::kNoSys),
           "WAKE|CLOCK_REALTIME");
    expect(user.Call(futex::kWait | kPriv | futex::kClockRealtime, Addr(0), 5), E(Errno::kNoSys),
           "WAIT|CLOCK_REALTIME");
    expect(user.Call(2, Addr(0), 0), E(Errno::kNoSys), "FUTEX_FD");
    expect(user.Call(futex::kLockPi | kPriv, Addr(0), 0), E(Errno::kNoSys), "LOCK_PI");
    expect(user.Call(99, Addr(0), 0), E(Errno::kNoSys), "op 99");

    // A zero relative timeout: one look, then ETIMEDOUT.
    user.timespecs[2] = {0, 0};
    expect(user.Call(futex::kWait | kPriv, Addr(0), 5, TimespecAddr(2)), E(Errno::kTimedOut),
           "WAIT, zero timeout");
    // Relative: ends no earlier than asked.
    user.timespecs[3] = {0, static_cast<int64_t>(250 * kUs)};
    uint64_t start = platform::Now();
    expect(user.Call(futex::kWait | kPriv, Addr(0), 5, TimespecAddr(3)), E(Errno::kTimedOut),
           "WAIT, 250 us");
    LICHEN_ASSERT(platform::Now() >= start + 250 * kUs, "a relative timeout ended early");
    // Absolute, monotonic (WAIT_BITSET): ends no earlier than the deadline.
    const uint64_t deadline = platform::Now() + 300 * kUs;
    user.timespecs[4] = {static_cast<int64_t>(deadline / kSec),
                         static_cast<int64_t>(deadline % kSec)};
    expect(user.Call(futex::kWaitBitset | kPriv, Addr(0), 5, TimespecAddr(4), 0, 1),
           E(Errno::kTimedOut), "WAIT_BITSET, absolute");
    LICHEN_ASSERT(platform::Now() >= deadline, "an absolute timeout ended early");
    // Absolute, realtime, as glibc's condition variables pass it: realtime = monotonic +
    // offset, so the same deadline on the realtime clock is `deadline + offset`.
    futex::SetRealtimeOffset(static_cast<int64_t>(5 * kSec));
    const uint64_t rt_deadline = platform::Now() + 300 * kUs;
    const uint64_t rt = rt_deadline + 5 * kSec;
    user.timespecs[5] = {static_cast<int64_t>(rt / kSec), static_cast<int64_t>(rt % kSec)};
    expect(user.Call(futex::kWaitBitset | kPriv | futex::kClockRealtime, Addr(0), 5,
                     TimespecAddr(5), 0, futex::kBitsetMatchAny),
           E(Errno::kTimedOut), "WAIT_BITSET|CLOCK_REALTIME");
    LICHEN_ASSERT(platform::Now() >= rt_deadline, "a realtime deadline ended early");
    LICHEN_ASSERT(platform::Now() < rt_deadline + 1 * kSec, "the realtime offset was ignored");
    // A realtime deadline before boot is already past.
    user.timespecs[6] = {1, 0};
    expect(user.Call(futex::kWaitBitset | kPriv | futex::kClockRealtime, Addr(0), 5,
                     TimespecAddr(6), 0, futex::kBitsetMatchAny),
           E(Errno::kTimedOut), "WAIT_BITSET|CLOCK_REALTIME in the past");
    futex::SetRealtimeOffset(0);
    LICHEN_ASSERT(user.Queued(0) == 0, "a failed wait stayed queued");
  });
  ASSERT_TRUE(result.ok) << test::Explain(result);
}

// A private and a shared futex on the same address are different futexes (as in Linux).
TEST(FutexSim, PrivateAndSharedKeysDoNotMeet) {
  const sim::Outcome result = RunSim(2, 1, [] {
    UserSpace user;
    Waiters w;
    w.Start(user, 0, 1);
    LICHEN_ASSERT(user.Call(futex::kWake, Addr(0), 1) == 0, "a shared WAKE woke a private waiter");
    // Another address space's private futex at the same address is another futex too.
    UserSpace other(2);
    LICHEN_ASSERT(other.Call(futex::kWake | kPriv, Addr(0), 1) == 0, "another space woke it");
    LICHEN_ASSERT(user.Call(futex::kWake | kPriv, Addr(0), 1) == 1, "the private WAKE did not");
    w.JoinAll(0);
  });
  ASSERT_TRUE(result.ok) << test::Explain(result);
}

// ---- The seed's bug: a wake op that reads a garbage timeout pointer ----------------------------

// A waiter sleeps with no timeout; the waker changes the word and wakes it, passing garbage
// as the (unused) timeout argument, as a libc may. The wake must happen.
sim::Outcome GarbageTimeoutWake(uint64_t seed) {
  return RunSim(2, seed, [] {
    UserSpace user;
    Waiters w;
    w.Start(user, 0, 1);
    user.Set(0, 1);
    const int64_t r = user.Call(futex::kWake | kPriv, Addr(0), 1, kBadAddr);
    w.JoinAll(0);  // with the seed's bug the wake was lost: this never returns
    LICHEN_ASSERT(r == 1, "WAKE with a garbage timeout returned {}", r);
  });
}

TEST(FutexSim, WakeNeverReadsItsTimeoutArgument) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const sim::Outcome result = GarbageTimeoutWake(seed);
    ASSERT_TRUE(result.ok) << "seed " << seed << ": " << test::Explain(result);
  }
}

TEST(FutexSim, SeedBugWakeReadingTheTimeoutLosesTheWake) {
  test::FaultScope fault(&Faults::futex_reads_timeout_for_wake);
  const sim::Outcome result = GarbageTimeoutWake(1);
  test::ExpectCaught(result, {sim::Failure::kHang});
}

// ---- A reference model --------------------------------------------------------------------------

// Random op sequences against a model. The root issues every op itself, or tells one of
// several waiter threads (spread over the CPUs) to wait; between ops it lets the machine
// settle, so the model knows exactly who waits where. It checks each return value, which
// threads a wake released, and every queue's length after every op.
constexpr uint32_t kModelThreads = 6;
constexpr uint32_t kModelWords = 3;

struct Command {
  Atomic<uint32_t> issued{0};  // bumped by the root for each command
  Atomic<uint32_t> done{0};    // set to `issued` by the thread when the call returned
  Atomic<bool> exit{false};
  futex::Args args;
  int64_t result = 0;
};

struct ModelWaiter {
  uint32_t thread;
  uint32_t bitset;
};

struct Model {
  std::vector<ModelWaiter> queues[kModelWords][2];  // [word][private]
  uint32_t words[kModelWords] = {};
  bool waiting[kModelThreads] = {};

  // Linux's wake loop: FIFO, matching bitsets, at least one.
  std::vector<uint32_t> Wake(uint32_t word, bool priv, int32_t nr, uint32_t bitset) {
    std::vector<uint32_t> woken;
    auto& q = queues[word][priv];
    for (size_t i = 0; i < q.size();) {
      if ((q[i].bitset & bitset) == 0) {
        ++i;
        continue;
      }
      woken.push_back(q[i].thread);
      q.erase(q.begin() + static_cast<long>(i));
      if (static_cast<int64_t>(woken.size()) >= nr) break;
    }
    for (uint32_t t : woken)
      waiting[t] = false;
    return woken;
  }
};

TEST(FutexSim, ReferenceModel) {
  RunSeeds("futex-model", 30, {1, 2, 4}, [](Rng& rng) {
    UserSpace user;
    Model model;
    Command commands[kModelThreads];
    std::function<void()> bodies[kModelThreads];
    Task* tasks[kModelThreads];
    for (uint32_t t = 0; t < kModelThreads; ++t) {
      bodies[t] = [&user, &commands, t] {
        Command& c = commands[t];
        for (uint32_t seen = 0;;) {
          PollUntil([&] {
            return c.exit.Load(std::memory_order_acquire) ||
                   c.issued.Load(std::memory_order_acquire) != seen;
          });
          if (c.issued.Load(std::memory_order_acquire) == seen) return;
          seen = c.issued.Load(std::memory_order_acquire);
          c.result = futex::Futex(user.space, user.mem, c.args);
          if (c.result == E(Errno::kIntr)) sched::ClearInterrupt();
          c.done.Store(seen, std::memory_order_release);
        }
      };
      tasks[t] = test::SpawnBody("model-thread", bodies[t]);
    }
    auto finished = [&](uint32_t t) {
      return commands[t].done.Load(std::memory_order_acquire) ==
             commands[t].issued.Load(std::memory_order_relaxed);
    };
    auto check_queues = [&](const char* after) {
      for (uint32_t w = 0; w < kModelWords; ++w) {
        for (int p = 0; p < 2; ++p) {
          LICHEN_ASSERT(user.Queued(w, p != 0) == model.queues[w][p].size(),
                        "after {}: word {} {} has {} queued, the model {}", after, w,
                        p ? "private" : "shared", user.Queued(w, p != 0),
                        model.queues[w][p].size());
        }
      }
      for (uint32_t t = 0; t < kModelThreads; ++t) {
        LICHEN_ASSERT(!model.waiting[t] || !finished(t), "after {}: thread {} returned {} early",
                      after, t, commands[t].result);
      }
    };
    // Waits until each of `threads` returned `expected`.
    auto expect_returned = [&](const std::vector<uint32_t>& threads, int64_t expected,
                               const char* what) {
      for (uint32_t t : threads) {
        PollUntil([&] { return finished(t); });
        LICHEN_ASSERT(commands[t].result == expected, "{}: thread {} returned {}, expected {}",
                      what, t, commands[t].result, expected);
      }
    };
    const uint32_t bitsets[] = {1, 2, 3, futex::kBitsetMatchAny};
    const uint32_t counts[] = {0, 1, 2, 0xffffffff, kAll};
    for (int step = 0; step < 60; ++step) {
      const uint32_t word = static_cast<uint32_t>(rng.Below(kModelWords));
      const uint32_t word2 = static_cast<uint32_t>(rng.Below(kModelWords));
      const bool priv = rng.Below(4) != 0;
      const uint32_t flag = priv ? kPriv : 0;
      const uint32_t action = static_cast<uint32_t>(rng.Below(8));
      if (action <= 2) {
        // A thread waits (or gets EAGAIN, or a zero timeout).
        uint32_t t = static_cast<uint32_t>(rng.Below(kModelThreads));
        if (model.waiting[t]) continue;
        Command& c = commands[t];
        const uint32_t bitset = bitsets[rng.Below(4)];
        const bool mismatch = rng.Below(8) == 0;
        const bool zero_timeout = rng.Below(8) == 0;
        user.timespecs[0] = {0, 0};
        c.args = {Addr(word),
                  futex::kWaitBitset | flag,
                  model.words[word] + (mismatch ? 1 : 0),
                  zero_timeout ? TimespecAddr(0) : 0,
                  0,
                  bitset};
        // A relative zero timeout on WAIT_BITSET is absolute 0: already past.
        c.issued.FetchAdd(1, std::memory_order_release);
        if (mismatch || zero_timeout) {
          expect_returned({t}, mismatch ? E(Errno::kAgain) : E(Errno::kTimedOut), "wait");
        } else {
          const size_t before = model.queues[word][priv].size();
          PollUntil([&] { return user.Queued(word, priv) == before + 1; });
          model.queues[word][priv].push_back({t, bitset});
          model.waiting[t] = true;
        }
      } else if (action == 3) {
        const uint32_t nr = counts[rng.Below(5)];
        const uint32_t bitset = rng.Below(6) == 0 ? 0 : bitsets[rng.Below(4)];
        const int64_t r = user.Call(futex::kWakeBitset | flag, Addr(word), nr, 0, 0, bitset);
        if (bitset == 0) {
          LICHEN_ASSERT(r == E(Errno::kInval), "WAKE_BITSET 0 returned {}", r);
        } else {
          const std::vector<uint32_t> woken =
              model.Wake(word, priv, static_cast<int32_t>(nr), bitset);
          LICHEN_ASSERT(r == static_cast<int64_t>(woken.size()), "WAKE woke {}, the model {}", r,
                        woken.size());
          expect_returned(woken, 0, "woken");
        }
      } else if (action == 4) {
        // REQUEUE or CMP_REQUEUE, Linux's loop.
        const bool cmp = rng.Below(2) == 0;
        const bool match = rng.Below(4) != 0;
        const int32_t nr_wake = static_cast<int32_t>(rng.Below(3));
        const int32_t nr_requeue = static_cast<int32_t>(counts[rng.Below(5)] & 0x7fffffff);
        const int64_t r =
            user.Call((cmp ? futex::kCmpRequeue : futex::kRequeue) | flag, Addr(word),
                      static_cast<uint32_t>(nr_wake), static_cast<uint32_t>(nr_requeue),
                      Addr(word2), model.words[word] + (match ? 0 : 1));
        if (cmp && !match) {
          LICHEN_ASSERT(r == E(Errno::kAgain), "CMP_REQUEUE mismatch returned {}", r);
        } else {
          auto& from = model.queues[word][priv];
          std::vector<ModelWaiter> moving;
          std::vector<uint32_t> woken;
          int64_t count = 0;
          for (size_t i = 0; i < from.size();) {
            if (count - nr_wake >= nr_requeue) break;
            ++count;
            if (count <= nr_wake) {
              woken.push_back(from[i].thread);
              model.waiting[from[i].thread] = false;
            } else {
              moving.push_back(from[i]);
            }
            from.erase(from.begin() + static_cast<long>(i));
          }
          for (const ModelWaiter& m : moving)
            model.queues[word2][priv].push_back(m);
          LICHEN_ASSERT(r == count, "REQUEUE returned {}, the model {}", r, count);
          expect_returned(woken, 0, "requeue-woken");
        }
      } else if (action == 5) {
        // WAKE_OP on random words with a random op and comparison.
        const uint32_t op = static_cast<uint32_t>(rng.Below(5));
        const bool shift = rng.Below(4) == 0;
        const uint32_t oparg = static_cast<uint32_t>(rng.Below(8));
        const WordCmp cmp = static_cast<WordCmp>(rng.Below(6));
        const uint32_t cmparg = static_cast<uint32_t>(rng.Below(10));
        const uint32_t nr = counts[rng.Below(5)];
        const uint32_t nr2 = counts[rng.Below(5)];
        const int64_t r = user.Call(
            futex::kWakeOp | flag, Addr(word), nr, nr2, Addr(word2),
            futex::EncodeWakeOp(op | (shift ? futex::kOpArgShift : 0), oparg, cmp, cmparg));
        const uint32_t old = model.words[word2];
        model.words[word2] =
            futex::ApplyWordOp(static_cast<WordOp>(op), old, shift ? 1u << oparg : oparg);
        const int32_t o = static_cast<int32_t>(old);
        const int32_t a = static_cast<int32_t>(cmparg);
        const bool cond = cmp == WordCmp::kEq   ? o == a
                          : cmp == WordCmp::kNe ? o != a
                          : cmp == WordCmp::kLt ? o < a
                          : cmp == WordCmp::kLe ? o <= a
                          : cmp == WordCmp::kGt ? o > a
                                                : o >= a;
        std::vector<uint32_t> woken =
            model.Wake(word, priv, static_cast<int32_t>(nr), futex::kBitsetMatchAny);
        if (cond) {
          for (uint32_t t :
               model.Wake(word2, priv, static_cast<int32_t>(nr2), futex::kBitsetMatchAny))
            woken.push_back(t);
        }
        LICHEN_ASSERT(r == static_cast<int64_t>(woken.size()), "WAKE_OP woke {}, the model {}", r,
                      woken.size());
        LICHEN_ASSERT(user.Get(word2) == model.words[word2], "WAKE_OP left {}, the model {}",
                      user.Get(word2), model.words[word2]);
        expect_returned(woken, 0, "wake-op-woken");
      } else if (action == 6) {
        model.words[word] = static_cast<uint32_t>(rng.Below(4));
        user.Set(word, model.words[word]);
      } else {
        // Interrupt a waiting thread: EINTR, and it leaves its queue.
        const uint32_t t = static_cast<uint32_t>(rng.Below(kModelThreads));
        if (!model.waiting[t]) continue;
        for (auto& per_word : model.queues) {
          for (auto& q : per_word) {
            for (size_t i = 0; i < q.size(); ++i) {
              if (q[i].thread == t) q.erase(q.begin() + static_cast<long>(i));
            }
          }
        }
        model.waiting[t] = false;
        sched::Interrupt(tasks[t]);
        expect_returned({t}, E(Errno::kIntr), "interrupted");
      }
      check_queues("a step");
    }
    // Release everyone and stop the threads.
    for (uint32_t w = 0; w < kModelWords; ++w) {
      for (int p = 0; p < 2; ++p) {
        const uint32_t flag = p ? kPriv : 0;
        const std::vector<uint32_t> woken =
            model.Wake(w, p != 0, static_cast<int32_t>(kAll), futex::kBitsetMatchAny);
        const int64_t r = user.Call(futex::kWake | flag, Addr(w), kAll);
        LICHEN_ASSERT(r == static_cast<int64_t>(woken.size()), "final WAKE woke {}, the model {}",
                      r, woken.size());
        expect_returned(woken, 0, "final");
      }
    }
    for (uint32_t t = 0; t < kModelThreads; ++t) {
      commands[t].exit.Store(true, std::memory_order_release);
      sched::Join(tasks[t]);
    }
  });
}

}  // namespace
}  // namespace lichen

// What the other simulator tests cannot see: weak memory, placement under concurrency, and
// the invariants that name a bug directly instead of waiting for a generic timeout.
//
// Every simulated CPU runs on one host thread, so plain interleaving explores sequentially
// consistent executions only: a memory order weakened by mistake passes every other test. With
// sim::Options::weak_memory each virtual CPU gets a store buffer (lib/atomic.h,
// platform/sim), which shows store-to-load reordering. Each protocol check below runs twice,
// as in seed_bugs_test.cc: with one mutation switched on (a fault from kernel/base/debug.h), where
// the named check must fail within a few seeds, and as shipped, where every run must pass.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "kernel/base/debug.h"
#include "kernel/base/platform.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "lib/units.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tests/support/property.h"
#include "workloads/sim_workloads.h"

namespace lichen {
namespace {

using test::ExpectCaughtWithin;
using test::FaultScope;
using test::StallOptions;

Task* SpawnOn(const char* name, Task::Entry entry, void* arg, CpuMask affinity, int nice = 0) {
  return sched::Spawn(
             {.name = name, .entry = entry, .arg = arg, .nice = nice, .affinity = affinity})
      .value();
}

sim::Options Weak(sim::Options options) {
  options.weak_memory = true;
  return options;
}

// ---- 1. The memory model itself: store buffering ---------------------------------------------
// The litmus test SB: CPU 1 stores x then loads y, CPU 2 stores y then loads x. Sequential
// consistency forbids both loads reading 0; with relaxed (or release) stores a store buffer
// allows it, and so do Arm and the C++ memory model.

struct StoreBuffering {
  Atomic<uint32_t> x{0};
  Atomic<uint32_t> y{0};
  Atomic<uint32_t> ready{0};
  Atomic<uint32_t> loaded{0};
  Atomic<bool> go{false};
  uint32_t r1 = 0;
  uint32_t r2 = 0;
  std::memory_order store_order = std::memory_order_seq_cst;
  std::memory_order load_order = std::memory_order_seq_cst;
  uint32_t both_zero = 0;
};
StoreBuffering g_sb;

// One side: wait until both sides run (so that they overlap in time), store, load.
template <Atomic<uint32_t> StoreBuffering::*kStore, Atomic<uint32_t> StoreBuffering::*kLoad,
          uint32_t StoreBuffering::*kResult>
void SbSide(void*) {
  g_sb.ready.FetchAdd(1, std::memory_order_acq_rel);
  while (!g_sb.go.Load(std::memory_order_acquire))
    platform::CpuRelax();
  // A CPU that just spun runs alone for a few more steps (the simulator waits for spinners to
  // make progress): leave that window, so that the other side may run between any two steps.
  for (int i = 0; i < 3; ++i)
    g_sb.ready.Load(std::memory_order_relaxed);
  (g_sb.*kStore).Store(1, g_sb.store_order);
  g_sb.*kResult = (g_sb.*kLoad).Load(g_sb.load_order);
  // Exiting masks IRQs, which empties this CPU's store buffer: wait for the other side's load
  // first (a relaxed increment, which leaves the buffer as it is).
  g_sb.loaded.FetchAdd(1, std::memory_order_relaxed);
  while (g_sb.loaded.Load(std::memory_order_relaxed) != 2)
    platform::CpuRelax();
}

void StoreBufferingRoot(void*) {
  for (int round = 0; round < 30; ++round) {
    g_sb.x.Store(0, std::memory_order_seq_cst);
    g_sb.y.Store(0, std::memory_order_seq_cst);
    g_sb.ready.Store(0, std::memory_order_seq_cst);
    g_sb.loaded.Store(0, std::memory_order_seq_cst);
    g_sb.go.Store(false, std::memory_order_seq_cst);
    Task* a = SpawnOn("sb-1", &SbSide<&StoreBuffering::x, &StoreBuffering::y, &StoreBuffering::r1>,
                      nullptr, CpuMask::Single(1));
    Task* b = SpawnOn("sb-2", &SbSide<&StoreBuffering::y, &StoreBuffering::x, &StoreBuffering::r2>,
                      nullptr, CpuMask::Single(2));
    while (g_sb.ready.Load(std::memory_order_acquire) != 2)
      platform::CpuRelax();
    g_sb.go.Store(true, std::memory_order_seq_cst);
    sched::Join(a);
    sched::Join(b);
    if (g_sb.r1 == 0 && g_sb.r2 == 0) ++g_sb.both_zero;
  }
}

// Runs the litmus test over `seeds` seeds; returns how many rounds saw both loads read 0.
uint32_t RunStoreBuffering(std::memory_order store_order, std::memory_order load_order,
                           uint64_t seeds) {
  uint32_t both_zero = 0;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    g_sb.store_order = store_order;
    g_sb.load_order = load_order;
    g_sb.both_zero = 0;
    sim::Options options;
    options.ncpus = 3;
    options.seed = seed;
    // A uniform choice at every step: PCT runs one side to its end before the other.
    options.auto_strategy = false;
    options.strategy = sim::Strategy::kRandomWalk;
    const sim::Outcome result = sim::Run(Weak(options), &StoreBufferingRoot, nullptr);
    EXPECT_TRUE(result.ok) << test::Explain(result);
    both_zero += g_sb.both_zero;
  }
  return both_zero;
}

TEST(WeakMemory, StoreBufferingIsSeenWithRelaxedStores) {
  const uint32_t relaxed =
      RunStoreBuffering(std::memory_order_relaxed, std::memory_order_relaxed, 10);
  const uint32_t release =
      RunStoreBuffering(std::memory_order_release, std::memory_order_acquire, 10);
  std::printf("  both loads read 0: %u of 300 rounds relaxed, %u release/acquire\n", relaxed,
              release);
  EXPECT_GT(relaxed, 0u);
  EXPECT_GT(release, 0u);
}

TEST(WeakMemory, StoreBufferingNeverHappensWithSeqCst) {
  EXPECT_EQ(RunStoreBuffering(std::memory_order_seq_cst, std::memory_order_seq_cst, 20), 0u);
}

TEST(WeakMemory, SameSeedSameRunBitForBit) {
  sim::Options options = Weak(test::WorkloadOptions("mixed", 4, 11));
  const sim::Outcome a = test::RunWorkload(options);
  const sim::Outcome b = test::RunWorkload(options);
  ASSERT_TRUE(a.ok) << test::Explain(a);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.end_time_ns, b.end_time_ns);
}

// ---- 2. Idle publication against enqueue (a Dekker pair) -------------------------------------
// An idle CPU stores `idle` then loads the others' nr_running (MaybeSteal); an enqueuer stores
// nr_running then loads the idle flags (KickIdleCpu). Both seq_cst: one of them sees the
// other. Relaxed: both can miss, and the idle CPU sleeps beside waiting work.

// CPU 1 finishes its task and goes idle at the very instant a sleeper's timer on CPU 0 makes
// CPU 0's queue two long. Placement keeps every task where it was spawned and there is no
// periodic balance: only the kick (or the idle CPU's own look) moves the waiting task. Missed,
// CPU 1 sleeps beside it for good.

struct Meeting {
  uint64_t at_ns = 0;
  uint32_t extra_steps = 0;
  Atomic<uint32_t> dummy{0};
};
Meeting g_meeting;

void IdleMeetsEnqueueRoot(void*) {
  // The window is one step on the idle CPU: about one round in 250 hits it.
  for (int round = 0; round < 50; ++round) {
    g_meeting.at_ns = platform::Now() + 1 * kMs;
    // Kernel code takes no virtual time: where the two paths meet is a matter of steps. The
    // finishing task spends a random number of them first, so that rounds cover the window.
    g_meeting.extra_steps = static_cast<uint32_t>(sim::WorkloadRandom() % 128);
    Task* tasks[3];
    tasks[0] = SpawnOn(
        "long", [](void*) { sim::Compute(40 * kMs); }, nullptr, CpuMask::FirstN(kMaxCpus));
    tasks[1] = SpawnOn(
        "sleeper",
        [](void*) {
          sched::SleepUntil(g_meeting.at_ns);
          sim::Compute(40 * kMs);
        },
        nullptr, CpuMask::FirstN(kMaxCpus));
    tasks[2] = SpawnOn(
        "short",
        [](void*) {
          // Its exit's context switch (1 us) ends at the meeting point.
          sim::Compute(g_meeting.at_ns - 1 * kUs - platform::Now());
          for (uint32_t i = 0; i < g_meeting.extra_steps; ++i)
            g_meeting.dummy.Load(std::memory_order_relaxed);
        },
        nullptr, CpuMask::Single(1));
    for (Task* task : tasks)
      sched::Join(task);
  }
}

sim::Outcome RunIdleMeetsEnqueue(uint64_t seed) {
  sim::Options options;
  options.ncpus = 2;
  options.seed = seed;
  options.workload = "idle-meets-enqueue";
  options.sched.placement = sched::Placement::kLocalFirst;
  options.sched.local_first_threshold = 100;
  options.sched.periodic_balance = false;
  options.time_slip_one_in = 0;  // the two CPUs meet at exactly g_meeting.at_ns
  options.auto_strategy = false;
  options.strategy = sim::Strategy::kRandomWalk;
  options.store_flush_one_in = 64;
  return sim::Run(Weak(options), &IdleMeetsEnqueueRoot, nullptr);
}

TEST(WeakMemory, RelaxedIdlePublicationIsCaught) {
  FaultScope fault(&Faults::relaxed_idle_publication);
  // The kick at the next preemption of a movable task (switch.cc) would end the idle CPU's
  // sleep within a slice, under the invariant's bound: off, so that the pair is checked alone.
  FaultScope no_net(&Faults::no_kick_for_preempted_task);
  ExpectCaughtWithin(100, {{sim::Failure::kIdleBesideWaiting}, {sim::Failure::kIdleWhileWorkWaits}},
                     &RunIdleMeetsEnqueue);
}

TEST(WeakMemory, IdlePublicationHoldsWithStoreBuffers) {
  test::ForEachSeed("idle-meets-enqueue", 30, [](uint64_t seed) {
    const sim::Outcome result = RunIdleMeetsEnqueue(seed);
    ASSERT_TRUE(result.ok) << test::Explain(result);
  });
}

// ---- 3. The mailbox: ipi_pending against the inbox -------------------------------------------
// A sender pushes, then sets ipi_pending and sends the IPI if it was clear; the owner clears
// ipi_pending, then takes the inbox. Either the take sees the message or the sender sees the
// flag clear. A weaker clear, or a clear after the take, leaves a message with no IPI coming.

sim::Options MailboxOptions(uint32_t ncpus, uint64_t seed) {
  return Weak(test::WorkloadOptions("mixed", ncpus, seed));
}

TEST(WeakMemory, ARelaxedIpiClearIsCaught) {
  FaultScope fault(&Faults::relaxed_ipi_clear);
  ExpectCaughtWithin(60, {{sim::Failure::kMessageWithoutIpi}}, [](uint64_t seed) {
    return test::RunWorkload(MailboxOptions(seed % 2 == 1 ? 4 : 8, seed));
  });
}

TEST(Invariants, AnIpiFlagClearedAfterTheDrainIsCaught) {
  FaultScope fault(&Faults::ipi_clear_after_drain);
  // No store buffers needed: the message is lost in a plain interleaving.
  ExpectCaughtWithin(40, {{sim::Failure::kMessageWithoutIpi}}, [](uint64_t seed) {
    return test::RunWorkload(test::WorkloadOptions("mixed", seed % 2 == 1 ? 4 : 8, seed));
  });
}

// ---- 4. The task state hand-off: PrepareToBlock against Wake ---------------------------------
// A lock-free sleeper (CallOn, SleepUntil) stores kBlocking then loads its flag; the waker
// stores the flag then loads the state. Another Dekker pair: PrepareToBlock's store is
// seq_cst, and Wake() starts with a full barrier. (PrepareToBlock's store made relaxed is not
// seen: Block() masks IRQs in the same step as the sleeper's load, and the model empties the
// buffer there; docs/simulator.md.) Tasks changing the nice level of tasks
// running on other CPUs make many CallOn round trips; IPIs arrive at once, so that the owner
// answers while the caller is still between PrepareToBlock and Block.

struct Callers {
  Task* workers[8] = {};
  uint32_t nworkers = 0;
};
Callers g_callers;

void CallersRoot(void*) {
  const uint32_t ncpus = platform::CpuCount();
  g_callers.nworkers = ncpus - 1;
  for (uint32_t i = 0; i < g_callers.nworkers; ++i) {
    g_callers.workers[i] = SpawnOn(
        "worker",
        [](void*) {
          for (int i = 0; i < 100; ++i)
            sim::Compute(20 * kUs);
        },
        nullptr, CpuMask::Single(i + 1));
  }
  Task* changers[2];
  for (Task*& changer : changers) {
    changer = SpawnOn(
        "nice-changer",
        [](void*) {
          for (int i = 0; i < 60; ++i) {
            Task* worker = g_callers.workers[sim::WorkloadRandom() % g_callers.nworkers];
            sched::SetNice(worker, static_cast<int>(sim::WorkloadRandom() % 10));
            sim::Compute(5 * kUs);
          }
        },
        nullptr, CpuMask::Single(0));
  }
  for (Task* changer : changers)
    sched::Join(changer);
  for (uint32_t i = 0; i < g_callers.nworkers; ++i)
    sched::Join(g_callers.workers[i]);
}

sim::Outcome RunCallers(uint64_t seed, bool weak_memory) {
  sim::Options options;
  options.ncpus = seed % 2 == 1 ? 2 : 4;
  options.seed = seed;
  options.workload = "callers";
  options.ipi_latency_min_ns = 0;
  options.ipi_latency_max_ns = 0;
  // A uniform choice at every step, and stores that stay buffered a little longer: the
  // caller's store and load in PrepareToBlock are one step apart, and PCT rarely stops a CPU
  // exactly there.
  options.auto_strategy = false;
  options.strategy = sim::Strategy::kRandomWalk;
  options.store_flush_one_in = 8;
  options.weak_memory = weak_memory;
  return sim::Run(options, &CallersRoot, nullptr);
}

sim::Outcome RunCallersWeak(uint64_t seed) {
  return RunCallers(seed, true);
}

// The barrier at the start of Wake() was missing (the shipped code had only acquire loads
// there): CallOn's answer could be lost, the caller asleep for good beside request.done.
TEST(WeakMemory, AWakeWithoutItsBarrierIsCaught) {
  FaultScope fault(&Faults::wake_without_barrier);
  ExpectCaughtWithin(100, {{sim::Failure::kSleeperBesideFlag}}, &RunCallersWeak);
}

TEST(WeakMemory, TheTaskStateHandOffHoldsWithStoreBuffers) {
  test::ForEachSeed("callers", 100, [](uint64_t seed) {
    for (bool weak_memory : {true, false}) {
      const sim::Outcome result = RunCallers(seed, weak_memory);
      ASSERT_TRUE(result.ok) << "weak_memory=" << weak_memory << ": " << test::Explain(result);
    }
  });
}

// Kick() let interrupts in between setting ipi_pending and sending the IPI: a CallOn caller
// preempted there left its message, and every later one to that CPU, waiting for it to run
// again. Found by the message-waiting invariant on these runs; the flag and the IPI are now one
// step with IRQs masked. The window is one step wide, so few seeds hit it (the first was seed
// 194 when the layering pass moved the seeds; it was under 100 before): 400 seeds.
TEST(Invariants, ASenderPreemptedBeforeItsIpiIsCaught) {
  FaultScope fault(&Faults::preemptible_kick);
  ExpectCaughtWithin(400, {{sim::Failure::kMessageWithoutIpi}},
                     [](uint64_t seed) { return RunCallers(seed, false); });
}

// ---- 4b. An affinity change against a thief's memo ------------------------------------------
// A thief refused by a CPU remembers that CPU's enqueue generation and does not ask again until
// it moves. Widening a waiting task's affinity bumps it and kicks an idle CPU: a Dekker pair
// with the thief, which publishes `idle` and then reads the generation. Weaker than seq_cst on
// both sides, the owner can read the thief busy while the thief reads the old generation: the
// thief sleeps beside work it may now take. The ktest steal_from_busy_cpu (balance off) hung
// that way under QEMU on an x86 host, whose store buffers allow exactly this.

constexpr uint32_t kWidened = 8;
struct Widening {
  Task* tasks[kWidened] = {};
  Atomic<uint64_t> cpus_used{0};
  Atomic<bool> stop{false};
};
Widening g_widening;

void WidenedBurner(void*) {
  while (!g_widening.stop.Load(std::memory_order_relaxed)) {
    g_widening.cpus_used.FetchOr(uint64_t{1} << platform::ThisCpu(), std::memory_order_relaxed);
    sim::Compute(200 * kUs);
  }
}

void WidenRoot(void*) {
  g_widening.cpus_used.Store(0, std::memory_order_relaxed);
  g_widening.stop.Store(false, std::memory_order_relaxed);
  // The spawner runs on CPU 2, as the ktest's task: the burners queue on CPU 0 while CPUs 1
  // and 3 are idle and ask CPU 0 for work, and are refused (every task is pinned).
  for (Task*& task : g_widening.tasks)
    task = SpawnOn("pinned", &WidenedBurner, nullptr, CpuMask::Single(0));
  sched::SleepFor(2 * kMs);
  for (Task* task : g_widening.tasks)
    LICHEN_ASSERT(sched::SetAffinity(task, CpuMask::FirstN(4)).ok(), "widening refused");
  // Every CPU must get some: a CPU asleep beside the waiting burners fails the run (the
  // idle-beside-waiting invariant) long before this ends.
  const uint64_t deadline = platform::Now() + 200 * kMs;
  while (g_widening.cpus_used.Load(std::memory_order_relaxed) != 0xf && platform::Now() < deadline)
    sched::SleepFor(1 * kMs);
  g_widening.stop.Store(true, std::memory_order_relaxed);
  for (Task* task : g_widening.tasks)
    sched::Join(task);
  LICHEN_ASSERT(g_widening.cpus_used.Load(std::memory_order_relaxed) == 0xf,
                "CPUs {:#b} ran the widened burners",
                g_widening.cpus_used.Load(std::memory_order_relaxed));
}

sim::Outcome RunWiden(uint64_t seed, bool weak, bool stalls) {
  sim::Options options;
  options.ncpus = 4;
  options.seed = seed;
  options.workload = "widen-steal";
  options.sched.periodic_balance = false;  // only stealing can move them
  options.auto_strategy = false;
  options.strategy = sim::Strategy::kRandomWalk;
  options.store_flush_one_in = 16;
  options.weak_memory = weak;
  if (stalls) {
    options.stall_one_in = 500;
    options.max_stall_ns = 5 * kMs;
  }
  return sim::Run(
      options,
      [](void*) { sched::Join(SpawnOn("widen-root", &WidenRoot, nullptr, CpuMask::Single(2))); },
      nullptr);
}

TEST(WeakMemory, AWidenedTaskReachesEveryIdleThief) {
  test::ForEachSeed("widen-steal", 100, [](uint64_t seed) {
    for (int mode = 0; mode < 4; ++mode) {
      const sim::Outcome result = RunWiden(seed, (mode & 1) != 0, (mode & 2) != 0);
      ASSERT_TRUE(result.ok) << "mode " << mode << ": " << test::Explain(result);
    }
  });
}

// The running task is widened. Nothing waiting changed, so nothing was bumped: but once that
// task is preempted it waits, movable, and a thief refused before sleeps beside it on its old
// memo. Two burners on CPU 0, one pinned for good; CPU 1 was refused while both were pinned.

struct RunningWiden {
  Task* tasks[2] = {};
  Atomic<bool> stop{false};
  Atomic<uint64_t> cpus_used{0};
};
RunningWiden g_running_widen;

void RunningWidenBurner(void*) {
  while (!g_running_widen.stop.Load(std::memory_order_relaxed)) {
    g_running_widen.cpus_used.FetchOr(uint64_t{1} << platform::ThisCpu(),
                                      std::memory_order_relaxed);
    sim::Compute(100 * kUs);
  }
}

void RunningWidenRoot(void*) {
  RunningWiden& w = g_running_widen;
  w.stop.Store(false, std::memory_order_relaxed);
  w.cpus_used.Store(0, std::memory_order_relaxed);
  for (Task*& task : w.tasks)
    task = SpawnOn("pinned", &RunningWidenBurner, nullptr, CpuMask::Single(0));
  // CPU 1 (this task's) goes idle, is kicked by the second enqueue, asks and is refused.
  sched::SleepFor(1 * kMs);
  // Widen whichever burner runs on CPU 0 right now (its id is published at each switch).
  const uint64_t running = Shared(0).current_task_id.Load(std::memory_order_relaxed);
  Task* widened = w.tasks[0]->id == running ? w.tasks[0] : w.tasks[1];
  LICHEN_ASSERT(sched::SetAffinity(widened, CpuMask::FirstN(2)).ok(), "widening refused");
  // CPU 1 must run it within a few slices: the idle-beside-waiting invariant fails the run
  // first if it does not.
  const uint64_t deadline = platform::Now() + 100 * kMs;
  while ((w.cpus_used.Load(std::memory_order_relaxed) & 2) == 0 && platform::Now() < deadline)
    sched::SleepFor(1 * kMs);
  w.stop.Store(true, std::memory_order_relaxed);
  for (Task* task : w.tasks)
    sched::Join(task);
  LICHEN_ASSERT((w.cpus_used.Load(std::memory_order_relaxed) & 2) != 0,
                "CPU 1 never ran the widened burner");
}

sim::Outcome RunRunningWiden(uint64_t seed) {
  sim::Options options;
  options.ncpus = 2;
  options.seed = seed;
  options.workload = "widen-running";
  options.sched.periodic_balance = false;  // only stealing can move it
  return sim::Run(
      options,
      [](void*) {
        sched::Join(SpawnOn("widen-root", &RunningWidenRoot, nullptr, CpuMask::Single(1)));
      },
      nullptr);
}

// Regression: steal_from_busy_cpu (balance off) hung under QEMU with every other CPU idle
// beside CPU 0's widened burners. Without the bump and kick at the switch, seed 1 fails.
TEST(Stealing, APreemptedTaskWithoutItsKickIsCaught) {
  FaultScope fault(&Faults::no_kick_for_preempted_task);
  ExpectCaughtWithin(5, {{sim::Failure::kPanic, "never ran the widened burner"}}, &RunRunningWiden);
}

TEST(Stealing, AWidenedRunningTaskIsStolenOnceItWaits) {
  test::ForEachSeed("widen-running", 40, [](uint64_t seed) {
    const sim::Outcome result = RunRunningWiden(seed);
    ASSERT_TRUE(result.ok) << test::Explain(result);
  });
}

// ---- 5. Everything else under store buffers -----------------------------------------------

TEST(WeakMemory, RandomRunsPassWithStoreBuffers) {
  test::ForEachSeed("weak-random", 25, [](uint64_t seed) {
    for (uint32_t ncpus : {2u, 4u, 8u}) {
      const sim::Outcome result =
          test::RunWorkload(Weak(test::WorkloadOptions("mixed", ncpus, seed)));
      ASSERT_TRUE(result.ok) << "cpus=" << ncpus << ": " << test::Explain(result);
    }
  });
}

// ---- 6. Placement when several CPUs spawn at once -------------------------------------------
// Round-robin hands out turns with one fetch-add. Spawners on every CPU spawn at the same
// time; every new task takes its own turn, so each CPU receives exactly its share. With a
// load and a store two spawners can take the same turn and the shares come out uneven.

constexpr uint32_t kSpawners = 8;
constexpr uint32_t kSpawnsEach = 8;
uint32_t g_placed_on[kMaxCpus];
Atomic<bool> g_spawn{false};

void SpawnersRoot(void*) {
  for (uint32_t& n : g_placed_on)
    n = 0;
  g_spawn.Store(false, std::memory_order_seq_cst);
  Task* spawners[kSpawners];
  // Each spawner takes a turn too (pinned, so it lands on its CPU whatever the turn): the
  // workers' turns then run from kSpawners + 1 on, kSpawners * kSpawnsEach of them in a row.
  for (uint32_t i = 0; i < kSpawners; ++i) {
    spawners[i] = SpawnOn(
        "spawner",
        [](void*) {
          // All at once, once every spawner has taken its own turn. (The one on the root's
          // CPU starts when the root blocks, a switch later.)
          while (!g_spawn.Load(std::memory_order_acquire))
            platform::CpuRelax();
          Task* workers[kSpawnsEach];
          for (Task*& worker : workers) {
            worker = SpawnOn(
                "placed",
                [](void*) {
                  ++g_placed_on[platform::ThisCpu()];
                  sim::Compute(100 * kUs);
                },
                nullptr, CpuMask::FirstN(kMaxCpus));
          }
          for (Task* worker : workers)
            sched::Join(worker);
        },
        nullptr, CpuMask::Single(i % platform::CpuCount()));
  }
  g_spawn.Store(true, std::memory_order_seq_cst);
  for (Task* spawner : spawners)
    sched::Join(spawner);
}

sim::Outcome RunSpawners(uint64_t seed) {
  sim::Options options;
  options.ncpus = 8;
  options.seed = seed;
  options.workload = "spawners";
  options.sched.placement = sched::Placement::kRoundRobin;
  options.sched.steal = false;  // where a task first runs is where it was placed
  options.sched.periodic_balance = false;
  sim::Outcome result = sim::Run(options, &SpawnersRoot, nullptr);
  if (!result.ok) return result;
  for (uint32_t cpu = 0; cpu < options.ncpus; ++cpu) {
    if (g_placed_on[cpu] != kSpawners * kSpawnsEach / options.ncpus) {
      result.ok = false;
      result.kind = sim::Failure::kWorkloadCheck;
      result.failure = "uneven round-robin placement: CPU " + std::to_string(cpu) + " received " +
                       std::to_string(g_placed_on[cpu]) + " of " +
                       std::to_string(kSpawners * kSpawnsEach) + " tasks spawned at once";
      break;
    }
  }
  return result;
}

TEST(Placement, ARoundRobinCursorReadThenWrittenIsCaught) {
  FaultScope fault(&Faults::round_robin_load_store);
  ExpectCaughtWithin(40, {{sim::Failure::kWorkloadCheck, "uneven round-robin placement"}},
                     &RunSpawners);
}

TEST(Placement, RoundRobinSpreadsEvenlyWhenEveryCpuSpawnsAtOnce) {
  test::ForEachSeed("spawners", 40, [](uint64_t seed) {
    const sim::Outcome result = RunSpawners(seed);
    ASSERT_TRUE(result.ok) << test::Explain(result);
  });
}

// ---- 7. Invariants that name the bug --------------------------------------------------------

// The lag a task saves at dequeue is clamped to Linux's max(2 slices, a tick); the EEVDF lag
// bound is wider, so without the clamp only the check where the lag is used back fails.
TEST(Invariants, ALagPastLinuxsClampIsCaught) {
  FaultScope fault(&Faults::no_lag_clamp);
  ExpectCaughtWithin(40, {{sim::Failure::kPanic, "lag outside Linux's clamp"}}, [](uint64_t seed) {
    return test::RunWorkload(StallOptions("mixed", seed % 2 == 1 ? 2 : 4, seed));
  });
}

// A timer interrupt 5 ms late stays within the 50 ms preemption bound and the lag bound
// (which absorbs lateness); the late-timer invariant names it.
TEST(Invariants, ALateTimerIsCaught) {
  FaultScope fault(&Faults::late_timer);
  ExpectCaughtWithin(5, {{sim::Failure::kLateTimer}}, [](uint64_t seed) {
    return test::RunWorkload(test::WorkloadOptions("sleepers", 2, seed));
  });
}

TEST(Invariants, TimersFireOnTimeEvenWhenTheMachineStalls) {
  test::ForEachSeed("timers", 20, [](uint64_t seed) {
    for (const char* workload : {"sleepers", "mixed"}) {
      const sim::Outcome result = test::RunWorkload(StallOptions(workload, 4, seed));
      ASSERT_TRUE(result.ok) << workload << ": " << test::Explain(result);
    }
  });
}

}  // namespace
}  // namespace lichen

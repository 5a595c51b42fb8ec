// The machine under the scheduler: every CPU is online, takes timer interrupts (and none when
// idle), sends and receives IPIs, and idle CPUs steal work.
#include <optional>

#include "kernel/base/platform.h"
#include "kernel/sched/config.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/sched.h"
#include "kernel/smp/messenger.h"
#include "ktests/ktest.h"
#include "lib/log.h"
#include "lib/units.h"
#include "platform/aarch64/boot_info.h"
#include "platform/aarch64/cmdline.h"
#include "platform/aarch64/fatal.h"
#include "workloads/workloads.h"

namespace lichen::ktest {

namespace {

constexpr uint32_t kMaxTestCpus = BootInfo::kMaxCpus;

uint64_t TimerInterrupts(uint32_t cpu) {
  return Shared(cpu).counters.timer_interrupts.Load(std::memory_order_relaxed);
}
uint64_t IpisSent(uint32_t cpu) {
  return smp::MailboxOf(cpu).counters.ipis_sent.Load(std::memory_order_relaxed);
}
uint64_t IpisReceived(uint32_t cpu) {
  return smp::MailboxOf(cpu).counters.ipis_received.Load(std::memory_order_relaxed);
}
uint64_t Steals(uint32_t cpu) {
  return Shared(cpu).counters.steals.Load(std::memory_order_relaxed);
}
uint64_t StealRequests(uint32_t cpu) {
  return Shared(cpu).counters.steal_requests.Load(std::memory_order_relaxed);
}
uint64_t MigrationsIn(uint32_t cpu) {
  return Shared(cpu).counters.migrations_in.Load(std::memory_order_relaxed);
}

// ---- cpus_online --------------------------------------------------------------------------------

struct WhereProbe {
  uint32_t ran_on = ~0u;
};

void WhereProbeBody(void* p) {
  static_cast<WhereProbe*>(p)->ran_on = ThisCpu();
}

// ---- timer_every_cpu ----------------------------------------------------------------------------

constexpr uint32_t kNaps = 6;

struct NapProbe {
  uint32_t cpu = 0;
  // Nappers that have started; each waits for all of them before its first nap, so that the
  // test task is done spawning (and sleeps in Join) while they count.
  Atomic<uint32_t>* started = nullptr;
  uint32_t expected = 0;
  uint32_t naps = 0;
  uint32_t wrong_cpu = 0;
  uint32_t early = 0;
  uint64_t worst_early_ns = 0;
  // This CPU's timer interrupts over the naps, read by the napper pinned to it.
  uint64_t irqs = 0;
};

void NapProbeBody(void* p) {
  auto* probe = static_cast<NapProbe*>(p);
  if (probe->started != nullptr) {
    probe->started->FetchAdd(1, std::memory_order_relaxed);
    WaitFor([probe] { return probe->started->Load(std::memory_order_relaxed) == probe->expected; },
            WaitLimitNs(), "every napper to start");
  }
  const uint64_t irqs_before = TimerInterrupts(probe->cpu);
  for (uint32_t i = 0; i < kNaps; ++i) {
    // Different lengths (0.5 .. 3 ms) so the deadlines do not line up with anything periodic.
    const uint64_t deadline = platform::Now() + 500 * kUs + i * 500 * kUs;
    sched::SleepUntil(deadline);
    const uint64_t now = platform::Now();
    if (now < deadline) {
      ++probe->early;
      if (deadline - now > probe->worst_early_ns) probe->worst_early_ns = deadline - now;
    }
    if (ThisCpu() != probe->cpu) ++probe->wrong_cpu;
    ++probe->naps;
  }
  probe->irqs = TimerInterrupts(probe->cpu) - irqs_before;
}

// ---- idle_cpus_tickless -------------------------------------------------------------------------

struct TicklessProbe {
  uint64_t before[kMaxTestCpus] = {};
  uint64_t after[kMaxTestCpus] = {};
};

// Pinned to CPU 0: waits until every other CPU is idle, then watches their timer interrupts
// over 100 ms while it sleeps itself.
void TicklessBody(void* p) {
  auto* probe = static_cast<TicklessProbe*>(p);
  const uint32_t n = Cpus();
  WaitFor(
      [n] {
        for (uint32_t cpu = 1; cpu < n; ++cpu) {
          if (!Shared(cpu).idle.Load(std::memory_order_relaxed) ||
              Shared(cpu).nr_running.Load(std::memory_order_relaxed) != 0) {
            return false;
          }
        }
        return true;
      },
      WaitLimitNs(), "every other CPU to go idle");
  // Let a balance timer armed just before a CPU went idle run out (it is not re-armed).
  sched::SleepFor(20 * kMs);
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    probe->before[cpu] = TimerInterrupts(cpu);
  sched::SleepFor(100 * kMs);
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    probe->after[cpu] = TimerInterrupts(cpu);
}

// ---- ipi_every_cpu ------------------------------------------------------------------------------

struct IpiPair {
  uint32_t sleeper_cpu = 0;
  uint32_t waker_cpu = 0;
  Task* sleeper = nullptr;
  Atomic<bool> go{false};
  // Written by the sleeper (pinned to sleeper_cpu).
  uint64_t received_before = 0;
  uint64_t received_after = 0;
  uint32_t woke_on = ~0u;
  // Written by the waker (pinned to waker_cpu).
  uint64_t sent_before = 0;
  uint64_t sent_after = 0;
  // The sleeper's CPU already had an IPI on its way when the waker looked (a steal answer,
  // say): the messenger then sends no second one for this wake, by design (one per burst).
  bool ipi_already_pending = false;
};

void IpiSleeperBody(void* p) {
  auto* pair = static_cast<IpiPair*>(p);
  pair->received_before = IpisReceived(pair->sleeper_cpu);
  BlockUntilSet(pair->go);
  pair->woke_on = ThisCpu();
  pair->received_after = IpisReceived(pair->sleeper_cpu);
}

void IpiWakerBody(void* p) {
  auto* pair = static_cast<IpiPair*>(p);
  // Wake it only once it really sleeps: then the wake must travel to its (idle) CPU.
  WaitFor(
      [pair] {
        return pair->sleeper->state.Load(std::memory_order_acquire) == TaskState::kSleeping;
      },
      WaitLimitNs(), "the sleeper to sleep");
  pair->sent_before = IpisSent(pair->waker_cpu);
  pair->ipi_already_pending =
      smp::MailboxOf(pair->sleeper_cpu).ipi_pending.Load(std::memory_order_seq_cst);
  pair->go.Store(true, std::memory_order_release);
  KTEST_CHECK(sched::Wake(pair->sleeper), "the wake did not find the sleeper asleep");
  pair->sent_after = IpisSent(pair->waker_cpu);
}

// Runs one sleeper/waker pair and checks where each ran.
void RunIpiPair(IpiPair& pair) {
  pair.sleeper = Spawn("ipi-sleeper", &IpiSleeperBody, &pair, CpuMask::Single(pair.sleeper_cpu));
  Task* waker = Spawn("ipi-waker", &IpiWakerBody, &pair, CpuMask::Single(pair.waker_cpu));
  sched::Join(waker);
  sched::Join(pair.sleeper);
  KTEST_CHECK(pair.woke_on == pair.sleeper_cpu, "sleeper pinned to cpu {} woke on cpu {}",
              pair.sleeper_cpu, pair.woke_on);
}

// ---- steal --------------------------------------------------------------------------------------

constexpr uint32_t kStealTasks = 8;
constexpr uint32_t kStealChunks = 20;
constexpr uint64_t kStealChunkNs = 1 * kMs;

struct StealBurner {
  uint64_t visited = 0;  // bit per CPU a chunk ran on
  uint32_t chunks = 0;
};

void StealBurnerBody(void* p) {
  auto* burner = static_cast<StealBurner*>(p);
  for (uint32_t i = 0; i < kStealChunks; ++i) {
    workload::Burn(kStealChunkNs);
    burner->visited |= uint64_t{1} << ThisCpu();
    ++burner->chunks;
  }
}

// A burner that runs until told to stop: the work waiting on CPU 0 never runs out, so every
// idle CPU must end up with some of it however slowly the host runs each vCPU.
struct EndlessBurner {
  const Atomic<bool>* stop = nullptr;
  Atomic<uint64_t> visited{0};  // bit per CPU a chunk ran on
};

void EndlessBurnerBody(void* p) {
  auto* burner = static_cast<EndlessBurner*>(p);
  while (!burner->stop->Load(std::memory_order_relaxed)) {
    workload::Burn(200 * kUs);
    burner->visited.FetchOr(uint64_t{1} << ThisCpu(), std::memory_order_relaxed);
  }
}

}  // namespace

// The CPUs the device tree lists (capped by maxcpus= and the platform's limit) are exactly the
// CPUs online for the core, and each of them runs a task pinned to it.
KTEST(cpus_online) {
  const BootInfo& info = aarch64::TheBootInfo();
  uint32_t expected =
      info.dt_cpu_count < BootInfo::kMaxCpus ? info.dt_cpu_count : BootInfo::kMaxCpus;
  if (auto v = CmdlineOption(info.cmdline, "maxcpus")) {
    if (auto n = ParseUint(*v); n && *n >= 1 && *n < expected) expected = static_cast<uint32_t>(*n);
  }
  KTEST_CHECK(info.cpu_count == expected, "{} CPUs came up, the device tree lists {}",
              info.cpu_count, expected);
  KTEST_CHECK(OnlineCpus() == CpuMask::FirstN(expected), "online mask {:#x}, want {} CPUs",
              OnlineCpus().bits(), expected);
  KTEST_CHECK(platform::CpuCount() == expected, "platform::CpuCount() {}", platform::CpuCount());
  WhereProbe probes[kMaxTestCpus];
  Task* tasks[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < expected; ++cpu) {
    KTEST_CHECK(Shared(cpu).online.Load(std::memory_order_acquire), "cpu {} not marked online",
                cpu);
    tasks[cpu] = Spawn("where", &WhereProbeBody, &probes[cpu], CpuMask::Single(cpu));
  }
  for (uint32_t cpu = 0; cpu < expected; ++cpu) {
    sched::Join(tasks[cpu]);
    KTEST_CHECK(probes[cpu].ran_on == cpu, "task pinned to cpu {} ran on cpu {}", cpu,
                probes[cpu].ran_on);
  }
}

// Every CPU's timer fires for the tasks pinned to it, never early, and on that CPU: a nap that
// blocks is ended by a timer interrupt of its CPU (a wakeup before the deadline is counted as
// early), and the naps take not many more interrupts than there are naps. The count is taken
// by the napper itself, after every napper started, so nothing else of this test shares the
// CPU then; what remains is at most a balance or slice event armed before (each fires once).
// A timer that fires early makes the core re-arm it until the deadline really passed:
// hundreds of interrupts. A slow host only makes interrupts come later, and a nap whose
// deadline passed before it could block (its vCPU descheduled for the whole 0.5..3 ms) returns
// at once without one (sched::Wait's past-deadline path): so "one interrupt per nap" is not a
// kernel fact, "at least one over the six naps, at most two per nap" is.
KTEST(timer_every_cpu) {
  const uint32_t n = Cpus();
  Atomic<uint32_t> started{0};
  NapProbe probes[kMaxTestCpus];
  Task* tasks[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    probes[cpu].cpu = cpu;
    probes[cpu].started = &started;
    probes[cpu].expected = n;
    tasks[cpu] = Spawn("napper", &NapProbeBody, &probes[cpu], CpuMask::Single(cpu));
  }
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    sched::Join(tasks[cpu]);
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    const NapProbe& p = probes[cpu];
    KTEST_CHECK(p.naps == kNaps, "cpu {}: {} of {} naps", cpu, p.naps, kNaps);
    KTEST_CHECK(p.early == 0, "cpu {}: {} wakeups before the deadline (worst {} ns early)", cpu,
                p.early, p.worst_early_ns);
    KTEST_CHECK(p.wrong_cpu == 0, "cpu {}: pinned sleeper woke {} times on another CPU", cpu,
                p.wrong_cpu);
    KTEST_CHECK(p.irqs >= 1 && p.irqs <= 2 * kNaps, "cpu {}: {} timer interrupts for {} naps", cpu,
                p.irqs, kNaps);
  }
}

// DESIGN row 7: no periodic tick. An idle CPU with no timer event takes no timer interrupt,
// also after it has just used its timer (a nap pinned to every CPU first).
KTEST(idle_cpus_tickless) {
  const uint32_t n = Cpus();
  NapProbe naps[kMaxTestCpus];
  Task* nappers[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    naps[cpu].cpu = cpu;
    nappers[cpu] = Spawn("napper", &NapProbeBody, &naps[cpu], CpuMask::Single(cpu));
  }
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    sched::Join(nappers[cpu]);
  TicklessProbe probe;
  Task* task = Spawn("tickless", &TicklessBody, &probe, CpuMask::Single(0));
  sched::Join(task);
  // CPU 0: its own sleep's interrupt, and at most one leftover balance and one slice event.
  const uint64_t own = probe.after[0] - probe.before[0];
  KTEST_CHECK(own >= 1 && own <= 3, "cpu 0 took {} timer interrupts for one 100 ms sleep", own);
  // An idle CPU: none, except that a balance event armed before it went idle fires once, and
  // the 20 ms the probe waits for it are guest time: a vCPU that the host has not run since
  // takes it inside the window. A periodic tick of up to 50 ms would take at least two.
  for (uint32_t cpu = 1; cpu < n; ++cpu) {
    const uint64_t irqs = probe.after[cpu] - probe.before[cpu];
    KTEST_CHECK(irqs <= 1, "idle cpu {} took {} timer interrupts in 100 ms (a periodic tick?)", cpu,
                irqs);
  }
}

// Every CPU wakes a sleeper pinned to every other CPU: each wake sends an IPI from the
// waker's CPU that the sleeper's CPU receives. On one CPU the same wake sends no IPI at all.
KTEST(ipi_every_cpu) {
  const uint32_t n = Cpus();
  uint64_t sent_before[kMaxTestCpus];
  uint64_t received_before[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    sent_before[cpu] = IpisSent(cpu);
    received_before[cpu] = IpisReceived(cpu);
  }
  if (n == 1) {
    IpiPair pair;
    RunIpiPair(pair);
    KTEST_CHECK(pair.sent_after == pair.sent_before, "a local wake sent {} IPIs",
                pair.sent_after - pair.sent_before);
    KTEST_CHECK(IpisSent(0) == sent_before[0] && IpisReceived(0) == received_before[0],
                "one CPU, yet IPIs were sent ({}) or received ({})", IpisSent(0) - sent_before[0],
                IpisReceived(0) - received_before[0]);
    return;
  }
  for (uint32_t waker = 0; waker < n; ++waker) {
    for (uint32_t sleeper = 0; sleeper < n; ++sleeper) {
      if (sleeper == waker) continue;
      IpiPair pair;
      pair.waker_cpu = waker;
      pair.sleeper_cpu = sleeper;
      RunIpiPair(pair);
      KTEST_CHECK(pair.sent_after > pair.sent_before || pair.ipi_already_pending,
                  "the wake from cpu {} to cpu {} sent no IPI (and none was pending)", waker,
                  sleeper);
      KTEST_CHECK(pair.received_after > pair.received_before,
                  "cpu {} woke its sleeper without receiving an IPI (from cpu {})", sleeper, waker);
    }
  }
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    const uint64_t sent = IpisSent(cpu) - sent_before[cpu];
    const uint64_t received = IpisReceived(cpu) - received_before[cpu];
    // n - 1 wakes from and to each CPU; a wake may share an IPI already on its way.
    KTEST_CHECK(sent >= 1 && received >= n - 1, "cpu {}: {} IPIs sent, {} received", cpu, sent,
                received);
  }
}

namespace {

// One round of the steal experiment: kStealTasks burners spawned pinned to CPU 0, then allowed
// everywhere; returns the steals all CPUs made meanwhile and the CPUs the burners ran on.
struct StealRound {
  uint64_t steals = 0;
  uint64_t visited = 0;
};

StealRound RunStealRound() {
  const uint32_t n = Cpus();
  uint64_t steals_before[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    steals_before[cpu] = Steals(cpu);
  StealBurner burners[kStealTasks];
  Task* tasks[kStealTasks];
  for (uint32_t i = 0; i < kStealTasks; ++i)
    tasks[i] = Spawn("steal-burner", &StealBurnerBody, &burners[i], CpuMask::Single(0));
  for (uint32_t i = 0; i < kStealTasks; ++i) {
    const Result<void> widened = sched::SetAffinity(tasks[i], CpuMask::FirstN(n));
    KTEST_CHECK(widened.ok(), "SetAffinity to every CPU refused");
  }
  StealRound round;
  for (uint32_t i = 0; i < kStealTasks; ++i) {
    sched::Join(tasks[i]);
    KTEST_CHECK(burners[i].chunks == kStealChunks, "burner {} did {} of {} chunks", i,
                burners[i].chunks, kStealChunks);
    round.visited |= burners[i].visited;
  }
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    round.steals += Steals(cpu) - steals_before[cpu];
  return round;
}

}  // namespace

// Work queued on CPU 0 and then allowed everywhere spreads to every CPU, and idle CPUs
// steal it. Statements about the kernel that hold however the host schedules the vCPUs:
//
// - 2n endless burners are pinned to CPU 0, then allowed on every CPU. Their work never runs
//   out, so "no CPU stays idle while work it may run waits elsewhere" becomes: eventually
//   every CPU has a runnable task of its own (published nr_running) and has run a burner.
//   How long that takes is the host's business; a CPU left asleep beside the waiting work
//   (a kick chain that stops early, a thief that is never woken) makes the test hang and the
//   watchdog report it.
// - Each other CPU got its burners by migration (they never sleep, so nothing else moves
//   them): its migrations_in rose.
// - With the periodic balance off, stealing is the only way off CPU 0: every other CPU sent
//   steal requests and made steals; with it on, the balancer may get to a CPU before that
//   CPU's vCPU even runs, so the steals themselves are only counted (CTest boots
//   `balance=0` to check them: aarch64-ktests-smp4-steal-only).
// - With stealing off no CPU steals (and with the balance off too, nothing leaves CPU 0);
//   on one CPU there is nobody to steal.
KTEST(steal_from_busy_cpu) {
  const uint32_t n = Cpus();
  const sched::Config& config = sched::config();
  if (n == 1 || !config.steal) {
    const StealRound round = RunStealRound();
    KTEST_CHECK(round.steals == 0, "{} steals with {}", round.steals,
                n == 1 ? "one CPU" : "stealing off");
    if (n > 1 && !config.periodic_balance) {
      KTEST_CHECK(round.visited == 1,
                  "with neither stealing nor balancing, tasks left cpu 0 (CPUs {:#b})",
                  round.visited);
    }
    return;
  }
  uint64_t steals_before[kMaxTestCpus];
  uint64_t requests_before[kMaxTestCpus];
  uint64_t in_before[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    steals_before[cpu] = Steals(cpu);
    requests_before[cpu] = StealRequests(cpu);
    in_before[cpu] = MigrationsIn(cpu);
  }
  const uint32_t count = 2 * n;
  Atomic<bool> stop{false};
  EndlessBurner burners[2 * kMaxTestCpus];
  Task* tasks[2 * kMaxTestCpus];
  for (uint32_t i = 0; i < count; ++i) {
    burners[i].stop = &stop;
    tasks[i] = Spawn("steal-burner", &EndlessBurnerBody, &burners[i], CpuMask::Single(0));
  }
  // All of them queued on CPU 0 first (spawning posts them there): then every move below
  // starts from CPU 0's queue.
  WaitFor([&] { return Shared(0).nr_running.Load(std::memory_order_relaxed) >= count; },
          WaitLimitNs(), "the burners to be queued on cpu 0");
  for (uint32_t i = 0; i < count; ++i) {
    const Result<void> widened = sched::SetAffinity(tasks[i], CpuMask::FirstN(n));
    KTEST_CHECK(widened.ok(), "SetAffinity to every CPU refused");
  }
  const uint64_t all = CpuMask::FirstN(n).bits();
  WaitFor(
      [&] {
        uint64_t visited = 0;
        uint32_t without_work = 0;
        for (uint32_t i = 0; i < count; ++i)
          visited |= burners[i].visited.Load(std::memory_order_relaxed);
        for (uint32_t cpu = 0; cpu < n; ++cpu)
          without_work += Shared(cpu).nr_running.Load(std::memory_order_relaxed) == 0 ? 1 : 0;
        return visited == all && without_work == 0;
      },
      // A hang detector, not a time limit: 16 vCPUs on 2 busy host cores took ~1 s.
      WaitLimitNs(), "every CPU to run burners from cpu 0");
  stop.Store(true, std::memory_order_relaxed);
  for (uint32_t i = 0; i < count; ++i)
    sched::Join(tasks[i]);
  uint64_t steals = 0;
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    const uint64_t stole = Steals(cpu) - steals_before[cpu];
    steals += stole;
    if (cpu == 0) continue;
    KTEST_CHECK(MigrationsIn(cpu) > in_before[cpu], "cpu {} runs burners that never migrated to it",
                cpu);
    if (!config.periodic_balance) {
      KTEST_CHECK(StealRequests(cpu) > requests_before[cpu] && stole > 0,
                  "balance off, yet cpu {} got work with {} steal requests and {} steals", cpu,
                  StealRequests(cpu) - requests_before[cpu], stole);
    }
  }
  LICHEN_LOG_DEBUG("steal_from_busy_cpu: {} burners spread over {} CPUs with {} steals", count, n,
                   steals);
}

}  // namespace lichen::ktest

// The bring-up demonstration: the core's entry points (entry_points.h, kernel/irq.h) as the
// platform alone would run them, linked only into lichen-bringup.elf, so that the platform
// boots, proves itself and powers off with no core at all. lichen.elf does not link this file:
// an entry point missing from the core (a renamed function) fails its link instead of falling
// back to the demo's.
//
// What it shows, on every CPU (`bringup:` lines on the console):
//   1. timers   each CPU arms its one-shot timer 5 times (1 ms apart) and sleeps in WFI; every
//               interrupt must arrive on that CPU, at or after its deadline; then a disarmed
//               timer must stay silent.
//   2. IPIs     CPU 0 sends the core's SGI to all others (3 rounds); each acknowledges in memory
//               and answers with an SGI to CPU 0.
//   3. contexts N+1 worker contexts (InitContext) run a register-checking spin loop with IRQs
//               on; each CPU's timer preempts them from irq::Exit() (SwitchContext inside the
//               IRQ path), a shared FIFO hands them to whichever CPU is free, so they resume on
//               other CPUs through the same IRQ frame. Every register must survive.
// It ends with "BRINGUP: PASS" and exit status 0, or "BRINGUP: FAIL: ..." and status 1.
// Command line: fault=1 (data abort), fault=2 (undefined instruction), fault=3 (boot-stack
// overflow into the guard page), fault=4 (LICHEN_PANIC), each on CPU `faultcpu` (default 0):
// the fatal report must appear and QEMU must exit with status 2.
#include <bit>
#include <optional>

#include "kernel/base/platform.h"
#include "kernel/irq.h"
#include "lib/assert.h"
#include "lib/format.h"
#include "lib/units.h"
#include "platform/aarch64/cmdline.h"
#include "platform/aarch64/console.h"
#include "platform/aarch64/cpu_local.h"
#include "platform/aarch64/entry_points.h"
#include "platform/aarch64/power.h"
#include "platform/aarch64/sysreg.h"
#include "platform/aarch64/ticket_lock.h"

extern "C" {
uint64_t lichen_demo_register_spin(uint64_t seed, uint64_t iterations);  // demo_spin.S
// The demo's interrupt entry points (defined at the end of this file).
void lichen_demo_irq_enter();
void lichen_demo_irq_on_timer();
void lichen_demo_irq_on_ipi();
void lichen_demo_irq_exit();
}

namespace lichen {

namespace {

using aarch64::console::Print;
using platform::Now;

constexpr uint32_t kDemoMaxCpus = BootInfo::kMaxCpus;
constexpr uint32_t kTimerTicks = 5;
constexpr uint64_t kTickNs = kMs;
// Per phase, for every 4 CPUs: TCG on a loaded host is slow, and with many more vCPUs than
// host cores each vCPU gets a small share of one (16 vCPUs on 2 cores pass in seconds; 64
// spin at the barriers for longer than even 80 s on a busy 2-core host).
constexpr uint64_t kPhaseTimeoutNsPer4Cpus = 5 * kSec;
constexpr uint32_t kIpiRounds = 3;
constexpr uint64_t kSliceNs = 2 * kMs;
constexpr uint32_t kMinPreemptions = 3;
constexpr uint64_t kSpinIterations = 3000;
constexpr uint32_t kMaxWorkers = kDemoMaxCpus + 1;
constexpr size_t kWorkerStackBytes = 16 * 1024;

// What this CPU's timer interrupt means right now.
enum class Mode : uint32_t { kIdle, kTicks, kPreempt };

// A worker context of phase 3.
struct Worker {
  uint32_t id = 0;
  platform::Context ctx;
  // Written only by whoever runs the worker (itself, or irq::Exit() on its CPU); the queue
  // lock orders the hand-over between CPUs.
  uint32_t preemptions = 0;
  uint64_t visited = 0;       // CPUs it ran on (bit per logical id)
  uint64_t bad_register = 0;  // first register the spin loop found corrupted (0: none)
  bool done = false;
};

// Per-CPU demo state: touched by its own CPU only, with IRQs masked (or from its IRQ
// handlers), except the atomics, which CPU 0 reads.
struct alignas(64) DemoCpu {
  Mode mode = Mode::kIdle;
  uint32_t irq_depth = 0;
  uint32_t ticks = 0;
  uint32_t early = 0;             // timer interrupts before their deadline (must stay 0)
  uint32_t unexpected_timer = 0;  // timer interrupts while idle (must stay 0)
  uint64_t deadline_ns = 0;
  uint64_t max_late_ns = 0;
  Atomic<uint32_t> ipis{0};         // IPIs received
  Atomic<uint32_t> acked_round{0};  // last IPI round acknowledged (secondaries)
  platform::Context boot_ctx;       // this CPU's scheduler context in phase 3
  Worker* current = nullptr;        // worker running on this CPU (phase 3)
  bool preempt_pending = false;     // the timer asked irq::Exit() to preempt `current`
  uint32_t slices = 0;              // worker slices this CPU ran
  uint32_t preempted = 0;           // of which ended by preemption inside irq::Exit()
  char name[24] = {};               // CurrentTaskName()'s answer on this CPU
};

DemoCpu g_cpu[kDemoMaxCpus];
uint32_t g_ncpu = 1;  // set by KernelMain before the secondaries are released into phase 1

// How long a phase may take before the demo declares it hung: a hang detector, not a check.
uint64_t PhaseTimeoutNs() {
  return kPhaseTimeoutNsPer4Cpus * ((g_ncpu + 3) / 4);
}

// A generation-counting barrier with a deadline (a CPU that never arrives fails the demo).
class Barrier {
 public:
  void Wait(const char* where) {
    const uint32_t generation = generation_.Load(std::memory_order_acquire);
    if (arrived_.FetchAdd(1, std::memory_order_acq_rel) + 1 == g_ncpu) {
      arrived_.Store(0, std::memory_order_relaxed);
      generation_.Store(generation + 1, std::memory_order_release);
      return;
    }
    const uint64_t deadline = Now() + PhaseTimeoutNs();
    while (generation_.Load(std::memory_order_acquire) == generation) {
      if (Now() > deadline) {
        LICHEN_PANIC("bring-up: CPUs did not meet at barrier '{}'", where);
      }
      platform::CpuRelax();
    }
  }

 private:
  Atomic<uint32_t> arrived_{0};
  Atomic<uint32_t> generation_{0};
};
Barrier g_barrier;

// Proof that boot ran the static constructors (.init_array) exactly once.
uint32_t g_constructor_runs = 0;
struct ConstructorProbe {
  // The empty asm keeps the compiler from running this at compile time (it would fold the
  // increment into a statically initialized 1 and leave .init_array empty).
  ConstructorProbe() {
    asm volatile("" ::: "memory");
    ++g_constructor_runs;
  }
};
ConstructorProbe g_constructor_probe;

// Phase 2: the round CPU 0 is sending.
Atomic<uint32_t> g_ipi_round{0};

// Phase 3: the workers and the FIFO that hands them between CPUs.
alignas(16) uint8_t g_worker_stacks[kMaxWorkers][kWorkerStackBytes];
Worker g_workers[kMaxWorkers];
uint32_t g_nworkers = 0;
Atomic<uint32_t> g_workers_done{0};
uint64_t g_phase3_deadline = 0;

class WorkerQueue {
 public:
  void Push(Worker* w) {
    aarch64::IrqSaveLockGuard guard(lock_);
    ring_[tail_++ % kMaxWorkers] = w;
  }
  Worker* Pop() {
    aarch64::IrqSaveLockGuard guard(lock_);
    if (head_ == tail_) return nullptr;
    return ring_[head_++ % kMaxWorkers];
  }

 private:
  aarch64::UncheckedTicketLock lock_;
  Worker* ring_[kMaxWorkers] TA_GUARDED(lock_) = {};
  uint32_t head_ TA_GUARDED(lock_) = 0;
  uint32_t tail_ TA_GUARDED(lock_) = 0;
};
WorkerQueue g_queue;

DemoCpu& Me() {
  return g_cpu[platform::ThisCpu()];
}

[[noreturn]] void Fail(const char* what, uint64_t a = 0, uint64_t b = 0) {
  aarch64::console::EnterPanicMode();
  Print("BRINGUP: FAIL on cpu{}: {} ({:#x}, {:#x})", platform::ThisCpu(), what, a, b);
  aarch64::PowerOff(aarch64::ExitCode::kFailure);
}

void Check(bool ok, const char* what, uint64_t a = 0, uint64_t b = 0) {
  if (!ok) Fail(what, a, b);
}

// Takes one pending interrupt: sleep until one is pending, then open the IRQ window.
void TakeInterrupt() {
  platform::WaitForInterrupt();
  aarch64::UnmaskIrqs();
  aarch64::MaskIrqs();
}

// --- Phase 1: timers -------------------------------------------------------------------------

void PhaseTimers(uint32_t cpu) {
  DemoCpu& d = g_cpu[cpu];
  d.ticks = 0;
  d.mode = Mode::kTicks;
  d.deadline_ns = Now() + kTickNs;
  platform::ArmTimer(d.deadline_ns);
  const uint64_t give_up = Now() + PhaseTimeoutNs();
  while (d.ticks < kTimerTicks) {
    TakeInterrupt();
    Check(Now() < give_up, "timer interrupts stopped arriving", d.ticks);
  }
  Check(d.early == 0, "a timer interrupt came before its deadline", d.early);
  // A disarmed timer stays silent, even with a deadline that has passed meanwhile.
  const uint32_t ticks = d.ticks;
  platform::ArmTimer(Now() + kTickNs / 2);
  platform::DisarmTimer();
  const uint64_t until = Now() + 3 * kTickNs;
  aarch64::UnmaskIrqs();
  while (Now() < until)
    platform::CpuRelax();
  aarch64::MaskIrqs();
  Check(d.ticks == ticks, "a disarmed timer fired", d.ticks);
  d.mode = Mode::kIdle;
  Print(
      "bringup: cpu{}: {} timer interrupts on this CPU, none early, latest {} us late; "
      "disarm holds",
      cpu, d.ticks, d.max_late_ns / 1000);
}

// --- Phase 2: IPIs ---------------------------------------------------------------------------

void PhaseIpis(uint32_t cpu) {
  DemoCpu& d = g_cpu[cpu];
  const uint64_t give_up = Now() + PhaseTimeoutNs();
  if (cpu == 0) {
    if (g_ncpu == 1) {
      Print("bringup: cpu0: single CPU, no IPIs to exchange");
      return;
    }
    const CpuMask others = CpuMask::FirstN(g_ncpu).Without(CpuMask::Single(0));
    for (uint32_t round = 1; round <= kIpiRounds; ++round) {
      g_ipi_round.Store(round, std::memory_order_release);
      platform::SendIpi(others);
      aarch64::UnmaskIrqs();
      for (;;) {
        bool all = d.ipis.Load(std::memory_order_relaxed) >= round;
        for (uint32_t c = 1; c < g_ncpu; ++c) {
          all &= g_cpu[c].acked_round.Load(std::memory_order_acquire) == round;
        }
        if (all) break;
        Check(Now() < give_up, "IPI round not acknowledged", round);
        platform::CpuRelax();
      }
      aarch64::MaskIrqs();
    }
    Print("bringup: cpu0: {} IPI rounds to {} CPUs all acknowledged; {} reply IPIs received",
          kIpiRounds, g_ncpu - 1, d.ipis.Load(std::memory_order_relaxed));
  } else {
    aarch64::UnmaskIrqs();
    while (d.ipis.Load(std::memory_order_relaxed) < kIpiRounds) {
      Check(Now() < give_up, "IPIs from cpu0 stopped arriving",
            d.ipis.Load(std::memory_order_relaxed));
      platform::CpuRelax();
    }
    aarch64::MaskIrqs();
    Print("bringup: cpu{}: {} IPIs from cpu0 received, each answered with an IPI", cpu,
          d.ipis.Load(std::memory_order_relaxed));
  }
}

// --- Phase 3: contexts, preemption from irq::Exit(), migration --------------------------------

[[noreturn]] void WorkerMain(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  aarch64::UnmaskIrqs();
  const uint32_t want_cpus = g_ncpu < 2 ? g_ncpu : 2;
  for (;;) {
    const uint64_t bad = lichen_demo_register_spin(0x1000 * (w.id + 1), kSpinIterations);
    aarch64::MaskIrqs();
    w.visited |= uint64_t{1} << platform::ThisCpu();
    if (bad != 0) w.bad_register = bad;
    const bool finished = bad != 0 || Now() > g_phase3_deadline ||
                          (w.preemptions >= kMinPreemptions &&
                           static_cast<uint32_t>(std::popcount(w.visited)) >= want_cpus);
    if (finished) break;
    aarch64::UnmaskIrqs();
  }
  // IRQs masked: hand the CPU back to its scheduler context for good.
  w.done = true;
  platform::SwitchContext(w.ctx, g_cpu[platform::ThisCpu()].boot_ctx);
  LICHEN_PANIC("bring-up: a finished worker was resumed");
}

// CPU 0, before the phase: the workers and their contexts, all queued.
void SetUpWorkers() {
  g_nworkers = g_ncpu + 1;
  for (uint32_t i = 0; i < g_nworkers; ++i) {
    Worker& w = g_workers[i];
    w.id = i;
    platform::InitContext(w.ctx, g_worker_stacks[i], kWorkerStackBytes, WorkerMain, &w);
    g_queue.Push(&w);
  }
  g_phase3_deadline = Now() + PhaseTimeoutNs();
}

// This CPU's scheduler loop: run queued workers one slice at a time until all are done.
void PhaseContexts(uint32_t cpu) {
  DemoCpu& d = g_cpu[cpu];
  d.mode = Mode::kPreempt;
  while (g_workers_done.Load(std::memory_order_acquire) < g_nworkers) {
    Check(Now() < g_phase3_deadline + PhaseTimeoutNs(), "workers did not finish");
    Worker* w = g_queue.Pop();
    if (w == nullptr) {  // nothing to run: sleep until the next tick
      platform::ArmTimer(Now() + kTickNs);
      TakeInterrupt();
      continue;
    }
    d.current = w;
    d.preempt_pending = false;
    ++d.slices;
    platform::ArmTimer(Now() + kSliceNs);
    platform::SwitchContext(d.boot_ctx, w->ctx);  // back when w is preempted or done
    platform::DisarmTimer();
    d.current = nullptr;
    if (w->done) {
      g_workers_done.FetchAdd(1, std::memory_order_acq_rel);
    } else {
      g_queue.Push(w);
    }
  }
  d.mode = Mode::kIdle;
  const aarch64::ArchCpu& local = aarch64::ThisArchCpu();
  Print(
      "bringup: cpu{}: ran {} worker slices, {} ended by preemption inside irq::Exit(); "
      "{} interrupts so far ({} spurious)",
      cpu, d.slices, d.preempted, local.irq_count, local.spurious_irq_count);
}

void ReportWorkers() {
  uint32_t migrated = 0;
  for (uint32_t i = 0; i < g_nworkers; ++i) {
    const Worker& w = g_workers[i];
    aarch64::console::LineBuffer line;
    Format(line, "bringup: worker{}: {} preemptions, ran on cpus", i, w.preemptions);
    for (uint32_t c : CpuMask(w.visited))
      Format(line, " {}", c);
    Format(line, "; registers {}", w.bad_register == 0 ? "intact" : "CORRUPTED");
    line.EndLine();
    aarch64::console::Write(line.view());
    Check(w.bad_register == 0, "a register did not survive preemption (register number)",
          w.bad_register, i);
    Check(w.preemptions >= kMinPreemptions, "a worker was not preempted enough", w.preemptions, i);
    if (std::popcount(w.visited) > 1) ++migrated;
  }
  if (g_ncpu > 1) Check(migrated > 0, "no worker migrated between CPUs");
}

// --- Deliberate faults ----------------------------------------------------------------------

// Recurses until the boot stack runs into its guard page (the base case never happens: the
// stack is 32 KiB).
[[gnu::noinline]] uint64_t Recurse(uint64_t depth) {
  volatile uint8_t pad[512];
  pad[0] = static_cast<uint8_t>(depth);
  if (depth == ~uint64_t{0}) return pad[0];
  return Recurse(depth + 1) + pad[0];
}

void MaybeFault(const BootInfo& info, uint32_t cpu) {
  const auto kind = CmdlineOption(info.cmdline, "fault");
  if (!kind) return;
  const auto on = CmdlineOption(info.cmdline, "faultcpu");
  const uint64_t fault_cpu = on ? ParseUint(*on).value_or(0) : 0;
  if (fault_cpu != cpu) return;
  const uint64_t which = ParseUint(*kind).value_or(0);
  Print("bringup: cpu{}: deliberate fault {} (command line)", cpu, which);
  switch (which) {
    case 1:
      (void)*reinterpret_cast<volatile uint64_t*>(uintptr_t{0x200000000});  // unmapped: 8 GiB
      break;
    case 2:
      asm volatile("udf #0x42");
      break;
    case 3:
      (void)Recurse(0);
      break;
    case 4:
      LICHEN_PANIC("deliberate panic (fault=4) on cpu{}", cpu);
    default:
      break;
  }
  Fail("the deliberate fault did not trap", which);
}

void RunPhases(const BootInfo& info, uint32_t cpu) {
  Check(platform::ThisCpu() == cpu, "ThisCpu() disagrees with the CPU id", platform::ThisCpu(),
        cpu);
  Check(platform::IrqsMasked(), "entry point called with IRQs unmasked");
  g_barrier.Wait("start");
  MaybeFault(info, cpu);
  PhaseTimers(cpu);
  g_barrier.Wait("timers");
  PhaseIpis(cpu);
  g_barrier.Wait("ipis");
  if (cpu == 0) SetUpWorkers();
  g_barrier.Wait("workers ready");
  PhaseContexts(cpu);
  g_barrier.Wait("contexts");
  Check(g_cpu[cpu].unexpected_timer == 0, "timer interrupt while idle",
        g_cpu[cpu].unexpected_timer);
}

// Published (release) by KernelMain, with g_ncpu, before it releases the secondaries.
Atomic<const BootInfo*> g_info{nullptr};

}  // namespace

// --- The entry points --------------------------------------------------------------------------

void KernelMain(const BootInfo& info) {
  Check(g_constructor_runs == 1, "static constructors did not run exactly once",
        g_constructor_runs);
  g_ncpu = info.cpu_count;
  g_info.Store(&info, std::memory_order_release);
  aarch64::ReleaseSecondaryCpus();
  Check(platform::CpuCount() == info.cpu_count, "CpuCount() disagrees with BootInfo",
        platform::CpuCount(), info.cpu_count);
  Print("bringup: platform demo on {} CPU{} (no core linked); static constructors ran once", g_ncpu,
        g_ncpu == 1 ? "" : "s");
  RunPhases(info, 0);
  ReportWorkers();
  Print("BRINGUP: PASS ({} CPU{}: timers, IPIs, {} contexts preempted inside irq::Exit{})", g_ncpu,
        g_ncpu == 1 ? "" : "s", g_nworkers, g_ncpu > 1 ? " and migrated" : "");
}

void SecondaryMain(uint32_t cpu) {
  // KernelMain publishes g_ncpu with g_info; wait until the boot CPU got there.
  const BootInfo* info = nullptr;
  while ((info = g_info.Load(std::memory_order_acquire)) == nullptr)
    platform::CpuRelax();
  RunPhases(*info, cpu);
}

const char* CurrentTaskName() {
  // Formatted into this CPU's own buffer (no table of names to keep as long as kMaxCpus): only
  // this CPU writes it, and a report on this CPU reads it before anything else may.
  DemoCpu& d = Me();
  BufferSink name(d.name);
  if (d.current != nullptr) {
    Format(name, "worker{}", d.current->id);
  } else {
    Format(name, "bringup/cpu{}", platform::ThisCpu());
  }
  return name.c_str();
}

}  // namespace lichen

// The demo's interrupt entry points, extern "C" (demo_spin.S and the reports name them);
// lichen::irq::* below are aliases of them.
using lichen::DemoCpu;
using lichen::Me;
using lichen::Mode;

extern "C" void lichen_demo_irq_enter() {
  DemoCpu& d = Me();
  if (++d.irq_depth != 1) lichen::Fail("nested interrupt", d.irq_depth);
  if (!lichen::platform::IrqsMasked()) lichen::Fail("interrupt handler running with IRQs unmasked");
}

extern "C" void lichen_demo_irq_on_timer() {
  DemoCpu& d = Me();
  const uint64_t now = lichen::platform::Now();
  switch (d.mode) {
    case Mode::kTicks:
      if (now < d.deadline_ns) ++d.early;
      if (now - d.deadline_ns > d.max_late_ns) d.max_late_ns = now - d.deadline_ns;
      if (++d.ticks < lichen::kTimerTicks) {
        d.deadline_ns += lichen::kTickNs;
        lichen::platform::ArmTimer(d.deadline_ns);
      }
      break;
    case Mode::kPreempt:
      if (d.current != nullptr) d.preempt_pending = true;
      break;
    case Mode::kIdle:
      ++d.unexpected_timer;
      break;
  }
}

extern "C" void lichen_demo_irq_on_ipi() {
  const uint32_t cpu = lichen::platform::ThisCpu();
  DemoCpu& d = lichen::g_cpu[cpu];
  d.ipis.FetchAdd(1, std::memory_order_relaxed);
  if (cpu != 0) {
    d.acked_round.Store(lichen::g_ipi_round.Load(std::memory_order_acquire),
                        std::memory_order_release);
    lichen::platform::SendIpi(lichen::CpuMask::Single(0));
  }
}

extern "C" void lichen_demo_irq_exit() {
  DemoCpu& d = Me();
  --d.irq_depth;
  if (d.mode != Mode::kPreempt || d.current == nullptr || !d.preempt_pending) return;
  // Preemption on return from interrupt: park the worker in its IRQ frame and go back to
  // this CPU's scheduler context. Another CPU may resume it later; it then returns from this
  // call there and leaves the interrupt through the same frame.
  lichen::Worker* w = d.current;
  d.preempt_pending = false;
  ++d.preempted;
  ++w->preemptions;
  lichen::platform::SwitchContext(w->ctx, d.boot_ctx);
}

namespace lichen {

namespace irq {

[[gnu::alias("lichen_demo_irq_enter")]] void Enter();
[[gnu::alias("lichen_demo_irq_on_timer")]] void OnTimer();
[[gnu::alias("lichen_demo_irq_on_ipi")]] void OnIpi();
[[gnu::alias("lichen_demo_irq_exit")]] void Exit();

}  // namespace irq

}  // namespace lichen

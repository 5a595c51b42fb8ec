#include "platform/sim/sim.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "kernel/cpu.h"
#include "kernel/irq.h"
#include "kernel/kernel.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/stats.h"
#include "kernel/sync/lockdep.h"
#include "kernel/trace.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/log.h"
#include "lib/random.h"
#include "platform/sim/fiber.h"
#include "platform/sim/fingerprint.h"
#include "platform/sim/replay.h"
#include "platform/sim/trace_file.h"
#include "workloads/workloads.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LICHEN_SIM_ASAN 1
#include <sanitizer/asan_interface.h>
#endif
#endif

namespace lichen::sim {

// Internal to the simulator (this file and the platform functions at its end).
inline namespace detail {

constexpr uint32_t kNoCpu = ~0u;
constexpr uint64_t kNever = ~uint64_t{0};
// Virtual time starts here, not at 0 (0 means "never" in some kernel fields).
constexpr uint64_t kStartTimeNs = 1'000'000;
constexpr size_t kBootStackBytes = 256 * 1024;
// A CPU counts as spinning while it called CpuRelax() within its last few points.
constexpr uint32_t kSpinWindow = 3;

enum class CpuState : uint8_t {
  kRunnable,   // can execute its next step at the current instant
  kComputing,  // busy until compute_until (interruptible when IRQs are unmasked)
  kHalted,     // in WFI until an interrupt is pending
};

// A store waiting in a CPU's store buffer (Options::weak_memory).
struct BufferedStore {
  void* object;
  uint64_t bits;
  MemoryModelHooks::Write write;
};

struct VCpu {
  uint32_t id = 0;
  CpuState state = CpuState::kRunnable;
  platform::Context boot_context;
  // The context executing on this CPU (its boot context, then whatever task it switched to).
  platform::Context* running = nullptr;
  bool irqs_masked = true;
  bool timer_armed = false;
  uint64_t timer_deadline = 0;
  bool ipi_pending = false;
  uint64_t compute_until = 0;
  uint32_t points_since_relax = kSpinWindow;
  uint64_t relax_epoch = 0;
  uint32_t priority = 0;
  uint64_t halted_since = 0;
  // Inside the kernel's timer handler, which re-arms the timer before it returns.
  bool in_timer_handler = false;
  // Options::weak_memory: stores not yet visible to the other CPUs, oldest first.
  std::vector<BufferedStore> store_buffer;
};

struct InFlightIpi {
  uint64_t arrival_ns;
  uint32_t target;
};

struct Sim {
  Options options;
  Strategy strategy = Strategy::kPct;
  Rng rng{1};
  Rng workload_rng{1};
  std::vector<VCpu> cpus;
  uint32_t current = kNoCpu;
  platform::Context main_context;
  uint64_t now = kStartTimeNs;
  uint64_t steps = 0;
  uint64_t epoch = 0;
  std::vector<InFlightIpi> ipis;
  // Machine stalls so far, in time order: (when the stall began, how long it lasted).
  std::vector<std::pair<uint64_t, uint64_t>> stalls;
  // waiting_since[c * ncpus + h]: since when CPU c has had, at every quiescent check, a
  // waiting task that may run on CPU h (0: not now).
  std::vector<uint64_t> waiting_since;
  std::vector<uint64_t> change_points;  // PCT, ascending
  size_t next_change = 0;
  bool failed = false;
  bool root_done = false;
  std::string failure;
  Failure failure_kind = Failure::kNone;
  Fingerprint fingerprint;
  RootFn root = nullptr;
  void* root_arg = nullptr;
};

Sim* g_sim = nullptr;

// Host memory reused from one run to the next (a fresh 32 MiB per run spends most of a short
// run in page faults): the kernel's RAM and the CPUs' boot stacks.
struct HostMemory {
  void* ram = nullptr;
  size_t ram_bytes = 0;
  std::vector<std::unique_ptr<char[]>> boot_stacks;

  void* Ram(size_t bytes) {
    if (bytes > ram_bytes) {
      std::free(ram);
      ram = std::aligned_alloc(1u << 22, bytes);
      ram_bytes = bytes;
    }
    return ram;
  }
  // A boot stack for CPU `cpu`, clean for the sanitizer (an abandoned run leaves the frames
  // of its fibers poisoned).
  char* BootStack(uint32_t cpu) {
    while (boot_stacks.size() <= cpu) {
      boot_stacks.push_back(std::make_unique<char[]>(kBootStackBytes));
    }
#if defined(LICHEN_SIM_ASAN)
    __asan_unpoison_memory_region(boot_stacks[cpu].get(), kBootStackBytes);
#endif
    return boot_stacks[cpu].get();
  }
};
HostMemory g_host_memory;

using Event = Fingerprint::Event;

void Mix(Event event, uint64_t index = 0) {
  g_sim->fingerprint.Add(event, index);
}

void Mix(uint64_t value) {
  g_sim->fingerprint.Mix(value);
}

VCpu& Cur() {
  return g_sim->cpus[g_sim->current];
}

// "CPU 1 (task 7) at t=123 ns" into `buf`.
void Describe(uint32_t cpu, char* buf, size_t size) {
  const uint64_t task = Shared(cpu).current_task_id.Load(std::memory_order_relaxed);
  std::snprintf(buf, size, "CPU %u (task %llu) at t=%llu ns", cpu,
                static_cast<unsigned long long>(task), static_cast<unsigned long long>(g_sim->now));
}

std::string Describe(uint32_t cpu) {
  char buf[160];
  Describe(cpu, buf, sizeof(buf));
  return buf;
}

// Stops the run with `message`. Called on a CPU fiber it never returns: the fiber is
// abandoned and the main loop takes over. Nothing on the abandoned stack may own heap memory
// (it would leak), so callers format into fixed buffers.
[[noreturn]] void FailHere(Failure kind, const char* message) {
  Sim& sim = *g_sim;
  if (!sim.failed) {
    sim.failed = true;
    sim.failure_kind = kind;
    sim.failure = message;
  }
  if (sim.current == kNoCpu) {
    std::fprintf(stderr, "simulator: failure outside any CPU: %s\n", message);
    std::abort();
  }
  platform::Context dead;
  dead.stack_base = Cur().running->stack_base;
  dead.stack_size = Cur().running->stack_size;
  FiberSwitch(dead, sim.main_context);
  __builtin_trap();
}

void OnPanic(const char* file, int line, const char* message) {
  char where[160] = "the simulator";
  if (g_sim->current != kNoCpu) Describe(g_sim->current, where, sizeof(where));
  char text[1024];
  std::snprintf(text, sizeof(text), "panic on %s: %s (%s:%d)", where, message, file, line);
  FailHere(Failure::kPanic, text);
}

void OnLog(int level, const char* line, size_t len) {
  static const int verbosity = [] {
    const char* v = std::getenv("LICHEN_SIM_LOG");
    return v != nullptr ? std::atoi(v) : 2;
  }();
  if (level > verbosity) return;
  const uint32_t cpu = g_sim != nullptr ? g_sim->current : kNoCpu;
  std::fprintf(stderr, "[%12llu cpu%-2d] %.*s\n",
               static_cast<unsigned long long>(g_sim != nullptr ? g_sim->now : 0),
               cpu == kNoCpu ? -1 : static_cast<int>(cpu), static_cast<int>(len), line);
}

// Stops this CPU's fiber and returns to the main loop; resumes when the main loop picks it.
void Pause() {
  Sim& sim = *g_sim;
  VCpu& cpu = Cur();
  FiberSwitch(*cpu.running, sim.main_context);
}

// ---- Weak memory (Options::weak_memory) ------------------------------------------------------

// Makes the oldest `count` stores of `cpu`'s buffer visible, in order.
void FlushStores(VCpu& cpu, size_t count) {
  if (count == 0) return;
  for (size_t i = 0; i < count; ++i) {
    const BufferedStore& store = cpu.store_buffer[i];
    store.write(store.object, store.bits);
  }
  cpu.store_buffer.erase(cpu.store_buffer.begin(), cpu.store_buffer.begin() + count);
  // A spinner may now see what it waits for.
  ++g_sim->epoch;
}

void DrainStores(VCpu& cpu) {
  FlushStores(cpu, cpu.store_buffer.size());
}

// Empties every CPU's buffer; true if any held a store.
bool DrainAllStores() {
  bool any = false;
  for (VCpu& cpu : g_sim->cpus) {
    any |= !cpu.store_buffer.empty();
    DrainStores(cpu);
  }
  return any;
}

bool ModelActive() {
  return g_sim != nullptr && g_sim->current != kNoCpu && g_sim->options.weak_memory;
}

bool ModelStore(void* object, uint64_t bits, MemoryModelHooks::Write write,
                std::memory_order order) {
  if (!ModelActive()) return false;
  VCpu& cpu = Cur();
  if (order == std::memory_order_seq_cst) {
    // A seq_cst store is not reordered with a later seq_cst load: on Arm, STLR before LDAR.
    DrainStores(cpu);
    return false;
  }
  cpu.store_buffer.push_back(BufferedStore{object, bits, write});
  return true;
}

bool ModelForward(const void* object, uint64_t* bits) {
  if (!ModelActive()) return false;
  const std::vector<BufferedStore>& buffer = Cur().store_buffer;
  for (auto it = buffer.rbegin(); it != buffer.rend(); ++it) {
    if (it->object == object) {
      *bits = it->bits;
      return true;
    }
  }
  return false;
}

void ModelBeforeRmw(const void* object, std::memory_order order) {
  if (!ModelActive()) return;
  VCpu& cpu = Cur();
  if (order == std::memory_order_release || order == std::memory_order_acq_rel ||
      order == std::memory_order_seq_cst) {
    DrainStores(cpu);
    return;
  }
  // Coherence: the RMW reads and writes after this CPU's earlier stores to the same object.
  size_t last = 0;
  for (size_t i = 0; i < cpu.store_buffer.size(); ++i) {
    if (cpu.store_buffer[i].object == object) last = i + 1;
  }
  FlushStores(cpu, last);
}

void ModelFence(std::memory_order order) {
  if (!ModelActive()) return;
  // Only a full fence orders earlier stores before later loads; the buffer keeps stores in
  // order, which is all a release fence asks.
  if (order == std::memory_order_seq_cst) DrainStores(Cur());
}

constexpr MemoryModelHooks kStoreBuffers{&ModelStore, &ModelForward, &ModelBeforeRmw, &ModelFence};

// Each step: each non-empty buffer writes its oldest store with probability 1/flush_one_in.
void FlushSomeStores() {
  Sim& sim = *g_sim;
  for (VCpu& cpu : sim.cpus) {
    if (cpu.store_buffer.empty()) continue;
    if (sim.rng.Below(std::max<uint32_t>(1, sim.options.store_flush_one_in)) != 0) continue;
    Mix(Event::kStoreFlush, cpu.id);
    FlushStores(cpu, 1);
  }
}

// Takes pending interrupts on the current CPU while IRQs are unmasked. Each one runs the
// kernel's handler on the interrupted context's stack, exactly as hardware would; the
// handler's exit may switch tasks, and this returns only when the interrupted context runs
// again (maybe on another CPU).
void DeliverInterrupts() {
  Sim& sim = *g_sim;
  for (;;) {
    VCpu& cpu = Cur();
    if (cpu.irqs_masked) return;
    const bool timer = cpu.timer_armed && cpu.timer_deadline <= sim.now;
    const bool ipi = cpu.ipi_pending;
    if (!timer && !ipi) return;
    cpu.irqs_masked = true;
    Mix(Event::kInterrupt, cpu.id);
    irq::Enter();
    if (timer) {
      cpu.timer_armed = false;
      cpu.in_timer_handler = true;
      irq::OnTimer();
      Cur().in_timer_handler = false;
    }
    if (ipi) {
      cpu.ipi_pending = false;
      irq::OnIpi();
    }
    irq::Exit();
    Cur().irqs_masked = false;  // the exception return restores the interrupted state
  }
}

// Debugging aid: LICHEN_SIM_BREAK_STEP=<n> stops in the debugger (SIGTRAP) at the first
// preemption point after step n, on the CPU's own stack, so `bt` shows what it is doing.
uint64_t BreakStep() {
  static const uint64_t step = [] {
    const char* v = std::getenv("LICHEN_SIM_BREAK_STEP");
    return v != nullptr ? std::strtoull(v, nullptr, 10) : ~uint64_t{0};
  }();
  return step;
}

// A preemption point: every lichen::Atomic operation on a CPU comes through here.
void InterleaveHook() {
  Sim* sim = g_sim;
  if (sim == nullptr || sim->current == kNoCpu) return;
  if (sim->steps >= BreakStep()) __builtin_debugtrap();
  VCpu& cpu = Cur();
  if (cpu.points_since_relax < kSpinWindow) ++cpu.points_since_relax;
  Pause();
  DeliverInterrupts();
}

// Occupies the current CPU for `ns`. With IRQs unmasked, pending interrupts are taken as they
// come (and may preempt the caller, which then finishes the rest wherever it runs next).
void Occupy(uint64_t ns) {
  Sim& sim = *g_sim;
  while (ns > 0) {
    VCpu& cpu = Cur();
    const uint64_t start = sim.now;
    cpu.state = CpuState::kComputing;
    cpu.compute_until = sim.now + ns;
    Pause();
    Cur().state = CpuState::kRunnable;
    const uint64_t spent = sim.now - start;
    ns -= spent < ns ? spent : ns;
    DeliverInterrupts();
  }
}

bool InterruptPending(const VCpu& cpu) {
  return cpu.ipi_pending || (cpu.timer_armed && cpu.timer_deadline <= g_sim->now);
}

// True when `cpu` can take a step now.
bool Eligible(const VCpu& cpu) {
  if (cpu.state != CpuState::kRunnable) return false;
  if (cpu.points_since_relax >= kSpinWindow) return true;
  // A spinner retries only after some other CPU made progress, or to take an interrupt.
  return cpu.relax_epoch != g_sim->epoch || (!cpu.irqs_masked && InterruptPending(cpu));
}

// Wakes CPUs whose interrupt is pending: out of WFI, or out of an interruptible compute.
void WakeInterrupted() {
  for (VCpu& cpu : g_sim->cpus) {
    if (!InterruptPending(cpu)) continue;
    if (cpu.state == CpuState::kHalted || (cpu.state == CpuState::kComputing && !cpu.irqs_masked)) {
      cpu.state = CpuState::kRunnable;
      ++g_sim->epoch;
    }
  }
}

uint32_t Choose() {
  Sim& sim = *g_sim;
  uint32_t chosen = kNoCpu;
  if (sim.strategy == Strategy::kRandomWalk) {
    uint32_t count = 0;
    for (const VCpu& cpu : sim.cpus)
      count += Eligible(cpu) ? 1 : 0;
    if (count == 0) return kNoCpu;
    uint64_t k = sim.rng.Below(count);
    for (const VCpu& cpu : sim.cpus) {
      if (Eligible(cpu) && k-- == 0) return cpu.id;
    }
    return kNoCpu;
  }
  for (const VCpu& cpu : sim.cpus) {
    if (Eligible(cpu) && (chosen == kNoCpu || cpu.priority > sim.cpus[chosen].priority)) {
      chosen = cpu.id;
    }
  }
  if (chosen != kNoCpu && sim.next_change < sim.change_points.size() &&
      sim.steps >= sim.change_points[sim.next_change]) {
    // PCT change point: the CPU that would run drops below every initial priority.
    sim.cpus[chosen].priority = static_cast<uint32_t>(sim.change_points.size() - sim.next_change);
    ++sim.next_change;
    chosen = kNoCpu;
    for (const VCpu& cpu : sim.cpus) {
      if (Eligible(cpu) && (chosen == kNoCpu || cpu.priority > sim.cpus[chosen].priority)) {
        chosen = cpu.id;
      }
    }
  }
  return chosen;
}

void Resume(uint32_t id) {
  Sim& sim = *g_sim;
  VCpu& cpu = sim.cpus[id];
  ++sim.steps;
  Mix(Event::kResume, id);
  Mix(sim.now);
  const bool was_spinning = cpu.points_since_relax < kSpinWindow;
  sim.current = id;
  FiberSwitch(sim.main_context, *cpu.running);
  sim.current = kNoCpu;
  if (!was_spinning || cpu.state != CpuState::kRunnable) ++sim.epoch;
}

// Total length of the machine stalls that began at or after `since_ns`.
uint64_t StalledSince(uint64_t since_ns) {
  uint64_t total = 0;
  for (auto it = g_sim->stalls.rbegin(); it != g_sim->stalls.rend() && it->first >= since_ns;
       ++it) {
    total += it->second;
  }
  return total;
}

// A machine stall (Options::stall_one_in): the clock jumps while nothing runs.
void Stall() {
  Sim& sim = *g_sim;
  const uint64_t d = 1 + sim.rng.Below(sim.options.max_stall_ns);
  sim.stalls.emplace_back(sim.now, d);
  sim.now += d;
  for (VCpu& cpu : sim.cpus) {
    if (cpu.state == CpuState::kComputing) cpu.compute_until += d;
  }
  for (InFlightIpi& ipi : sim.ipis)
    ipi.arrival_ns += d;
  ++sim.epoch;
  Mix(Event::kStall);
  Mix(d);
}

std::string TaskList() {
  std::string out;
  registry::ForEach([&](const registry::TaskInfo& info) {
    char line[160];
    std::snprintf(line, sizeof(line), "\n    task %llu '%s' %s on CPU %u",
                  static_cast<unsigned long long>(info.id), info.name, TaskStateName(info.state),
                  info.cpu);
    out += line;
  });
  return out;
}

// Options::check_idle_beside_waiting, at a quiescent point.
void CheckIdleBesideWaiting() {
  Sim& sim = *g_sim;
  const sched::Config& config = sim.options.sched;
  const auto n = static_cast<uint32_t>(sim.cpus.size());
  if (sim.waiting_since.size() != size_t{n} * n) sim.waiting_since.assign(size_t{n} * n, 0);
  for (uint32_t c = 0; c < n; ++c) {
    const uint64_t allowed = Shared(c).waiting_affinity.Load(std::memory_order_relaxed);
    for (uint32_t h = 0; h < n; ++h) {
      uint64_t& since = sim.waiting_since[size_t{c} * n + h];
      if (h == c || (allowed & (uint64_t{1} << h)) == 0) {
        since = 0;
      } else if (since == 0) {
        since = sim.now;
      }
    }
  }
  if (!sim.options.check_idle_beside_waiting || !(config.steal || config.periodic_balance)) return;
  const uint64_t bound = sim.options.idle_balance_bound_ns;
  for (const VCpu& idle : sim.cpus) {
    if (idle.state != CpuState::kHalted) continue;
    if (sim.now - idle.halted_since <= bound + StalledSince(idle.halted_since)) continue;
    for (uint32_t c = 0; c < n; ++c) {
      const uint64_t since = sim.waiting_since[size_t{c} * n + idle.id];
      if (since == 0 || sim.now - since <= bound + StalledSince(since)) continue;
      sim.failed = true;
      sim.failure_kind = Failure::kIdleBesideWaiting;
      sim.failure = "idle beside waiting work: CPU " + std::to_string(idle.id) + " idle for " +
                    std::to_string(sim.now - idle.halted_since) + " ns while " + Describe(c) +
                    " has had tasks waiting that may run on it for " +
                    std::to_string(sim.now - since) + " ns";
      return;
    }
  }
}

// Invariants that must hold whenever no CPU can run at the current instant.
void CheckQuiescent() {
  Sim& sim = *g_sim;
  const sched::Config& config = sim.options.sched;
  uint64_t oldest_waiting = kNever;
  uint32_t oldest_cpu = kNoCpu;
  for (const VCpu& cpu : sim.cpus) {
    CpuShared& shared = Shared(cpu.id);
    const uint64_t wait_start = shared.oldest_wait_start_ns.Load(std::memory_order_relaxed);
    const uint32_t nr = shared.nr_running.Load(std::memory_order_relaxed);
    if (wait_start != 0 && wait_start < oldest_waiting) {
      oldest_waiting = wait_start;
      oldest_cpu = cpu.id;
    }
    const uint64_t decided = shared.last_decision_ns.Load(std::memory_order_relaxed);
    if (sim.options.check_preemption && nr >= 2 && cpu.state != CpuState::kHalted &&
        sim.now - decided > sim.options.preemption_bound_ns + StalledSince(decided)) {
      sim.failed = true;
      sim.failure_kind = Failure::kNoPreemption;
      sim.failure = "no preemption: " + Describe(cpu.id) + " has " + std::to_string(nr) +
                    " runnable tasks but made no scheduling decision for " +
                    std::to_string(sim.now - decided) + " ns (slice expiry lost?)";
      return;
    }
    // The kernel's earliest timer event must have the hardware timer armed no later than its
    // deadline (outside the timer handler, which re-arms it): otherwise the event fires late by
    // however long the mistake is, which no time bound here could tell from a CPU that the
    // search merely ran late (PCT may leave a CPU with masked IRQs waiting for a long while).
    const uint64_t timer_due = shared.next_timer_ns.Load(std::memory_order_relaxed);
    if (sim.options.check_timer_lateness && timer_due != kNever && !cpu.in_timer_handler &&
        (!cpu.timer_armed || cpu.timer_deadline > timer_due)) {
      sim.failed = true;
      sim.failure_kind = Failure::kLateTimer;
      sim.failure =
          "late timer: " + Describe(cpu.id) +
          " has a timer event due at t=" + std::to_string(timer_due) + " ns but its timer is " +
          (cpu.timer_armed ? "armed for t=" + std::to_string(cpu.timer_deadline) + " ns (" +
                                 std::to_string(cpu.timer_deadline - timer_due) + " ns late)"
                           : std::string("not armed"));
      return;
    }
    if (cpu.state == CpuState::kRunnable || cpu.ipi_pending) continue;
    bool ipi_on_the_way = false;
    for (const InFlightIpi& ipi : sim.ipis)
      ipi_on_the_way |= ipi.target == cpu.id;
    if (ipi_on_the_way) continue;
    const bool mail = !shared.mailbox.inbox.EmptyHint() || !shared.mailbox.small.EmptyHint();
    if (cpu.state == CpuState::kHalted && (mail || nr != 0)) {
      sim.failed = true;
      // Messages left there are a message without its IPI; the tasks they wake are lost.
      sim.failure_kind = mail ? Failure::kMessageWithoutIpi : Failure::kLostWakeup;
      sim.failure = "lost wakeup: " + Describe(cpu.id) + " sleeps in WFI with " +
                    std::to_string(nr) + " runnable tasks" +
                    (mail ? " and messages in its mailbox (a message waiting with no IPI on its "
                            "way)"
                          : " but no IPI on the way");
      return;
    }
    if (sim.options.check_mailbox_ipi && mail) {
      // A busy CPU drains only on an IPI (or when it next goes idle): every message must have
      // one on its way (Mailbox::ipi_pending is set by the sender that sends it and cleared
      // by the owner just before it takes the inbox).
      sim.failed = true;
      sim.failure_kind = Failure::kMessageWithoutIpi;
      sim.failure =
          "message waiting with no IPI on its way: " + Describe(cpu.id) +
          " runs with messages in its mailbox but no IPI pending or in flight (ipi_pending " +
          (shared.mailbox.ipi_pending.Load(std::memory_order_relaxed) ? "set)" : "clear)");
      return;
    }
  }
  if (sim.options.check_sleeper_flags) {
    std::string sleeper;
    registry::ForEach([&](const registry::TaskInfo& info) {
      if (sleeper.empty() && info.state == TaskState::kSleeping && info.wait_flag_set) {
        sleeper = "task " + std::to_string(info.id) + " '" + info.name + "' on CPU " +
                  std::to_string(info.cpu);
      }
    });
    if (!sleeper.empty()) {
      sim.failed = true;
      sim.failure_kind = Failure::kSleeperBesideFlag;
      sim.failure = "lost wakeup: " + sleeper +
                    " sleeps although the flag it waits for is set (asleep beside its wake "
                    "condition) at t=" +
                    std::to_string(sim.now) + " ns";
      return;
    }
  }
  CheckIdleBesideWaiting();
  if (sim.failed) return;
  if (sim.options.check_idle_balance && (config.steal || config.periodic_balance) &&
      oldest_cpu != kNoCpu &&
      sim.now - oldest_waiting > sim.options.idle_balance_bound_ns + StalledSince(oldest_waiting)) {
    for (const VCpu& cpu : sim.cpus) {
      if (cpu.state == CpuState::kHalted &&
          sim.now - cpu.halted_since >
              sim.options.idle_balance_bound_ns + StalledSince(cpu.halted_since)) {
        sim.failed = true;
        sim.failure_kind = Failure::kIdleWhileWorkWaits;
        sim.failure = "idle while work waits: CPU " + std::to_string(cpu.id) + " idle for " +
                      std::to_string(sim.now - cpu.halted_since) + " ns while a task on " +
                      Describe(oldest_cpu) + " has waited " +
                      std::to_string(sim.now - oldest_waiting) + " ns";
        return;
      }
    }
  }
}

// The time of the next event, or kNever.
uint64_t NextEventTime() {
  Sim& sim = *g_sim;
  uint64_t next = kNever;
  for (const VCpu& cpu : sim.cpus) {
    if (cpu.state == CpuState::kComputing) next = std::min(next, cpu.compute_until);
    if (cpu.timer_armed && cpu.timer_deadline > sim.now) next = std::min(next, cpu.timer_deadline);
  }
  for (const InFlightIpi& ipi : sim.ipis)
    next = std::min(next, ipi.arrival_ns);
  return next;
}

// Moves virtual time to the next event. False when there is none.
bool AdvanceTime() {
  Sim& sim = *g_sim;
  const uint64_t next = NextEventTime();
  if (next == kNever) return false;
  if (next > sim.now) sim.now = next;
  ++sim.epoch;
  Mix(Event::kTimeAdvance);
  Mix(sim.now);
  for (size_t i = 0; i < sim.ipis.size();) {
    if (sim.ipis[i].arrival_ns <= sim.now) {
      sim.cpus[sim.ipis[i].target].ipi_pending = true;
      sim.ipis[i] = sim.ipis.back();
      sim.ipis.pop_back();
    } else {
      ++i;
    }
  }
  for (VCpu& cpu : sim.cpus) {
    if (cpu.state == CpuState::kComputing && cpu.compute_until <= sim.now) {
      cpu.state = CpuState::kRunnable;
    }
  }
  return true;
}

// Each virtual CPU's first code: bring up its scheduler, then idle.
void CpuBoot(void* arg) {
  const auto id = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(arg));
  kernel::InitThisCpu(id);
  if (id == 0) {
    // Like a real boot CPU, wait for every CPU to come online before starting work.
    while (OnlineCpus().Count() < g_sim->options.ncpus)
      platform::CpuRelax();
    sched::SpawnOptions root;
    root.name = "root";
    root.detached = true;
    root.entry = [](void*) {
      g_sim->root(g_sim->root_arg);
      g_sim->root_done = true;
    };
    lichen::Result<Task*> task = sched::Spawn(root);
    LICHEN_ASSERT(task.ok(), "cannot spawn the root task: {}", ErrorName(task.error()));
  }
  kernel::RunIdle();
}

// Picks the strategy and PCT schedule from the seed.
void PlanSchedule(Sim& sim) {
  sim.strategy = sim.options.strategy;
  if (sim.options.auto_strategy) {
    sim.strategy = sim.options.seed % 4 == 3 ? Strategy::kRandomWalk : Strategy::kPct;
  }
  // Initial priorities: a random permutation above every change-point priority.
  const uint32_t depth = std::max<uint32_t>(1, sim.options.pct_depth);
  std::vector<uint32_t> order(sim.cpus.size());
  for (uint32_t i = 0; i < order.size(); ++i)
    order[i] = i;
  for (uint32_t i = static_cast<uint32_t>(order.size()); i > 1; --i) {
    std::swap(order[i - 1], order[sim.rng.Below(i)]);
  }
  for (uint32_t i = 0; i < order.size(); ++i)
    sim.cpus[order[i]].priority = depth + i;
  // d-1 change points, log-uniform over 2^4 .. 2^24 steps: short and long runs both get some.
  for (uint32_t i = 0; i + 1 < depth; ++i) {
    const uint64_t exponent = 4 + sim.rng.Below(20);
    sim.change_points.push_back((uint64_t{1} << exponent) + sim.rng.Below(uint64_t{1} << exponent));
  }
  std::sort(sim.change_points.begin(), sim.change_points.end());
}

void WriteTrace(const std::string& path) {
  if (const TraceFormat format = TraceFormatFor(path); format != TraceFormat::kText) {
    char title[160];
    std::snprintf(title, sizeof(title), "lichen simulator: workload=%s cpus=%u seed=%llu",
                  g_sim->options.workload.c_str(), g_sim->options.ncpus,
                  static_cast<unsigned long long>(g_sim->options.seed));
    WriteTraceFile(path, format, static_cast<uint32_t>(g_sim->cpus.size()), title);
    return;
  }
  std::vector<trace::Event> all;
  std::vector<trace::Event> buf(trace::kRingSize);
  for (uint32_t cpu = 0; cpu < g_sim->cpus.size(); ++cpu) {
    const uint32_t n = trace::Snapshot(cpu, buf.data(), trace::kRingSize);
    all.insert(all.end(), buf.begin(), buf.begin() + n);
  }
  std::stable_sort(all.begin(), all.end(), [](const trace::Event& a, const trace::Event& b) {
    return a.time_ns < b.time_ns;
  });
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return;
  std::fprintf(f, "# lichen simulator trace: workload=%s cpus=%u seed=%llu\n",
               g_sim->options.workload.c_str(), g_sim->options.ncpus,
               static_cast<unsigned long long>(g_sim->options.seed));
  std::fprintf(f, "# time_ns cpu event a b\n");
  for (const trace::Event& e : all) {
    std::fprintf(f, "%llu %u %s %llu %llu\n", static_cast<unsigned long long>(e.time_ns), e.cpu,
                 trace::KindName(e.kind), static_cast<unsigned long long>(e.a),
                 static_cast<unsigned long long>(e.b));
  }
  std::fclose(f);
}

}  // namespace detail

Result Run(const Options& options, RootFn root, void* arg) {
  LICHEN_ASSERT(g_sim == nullptr, "simulations do not nest");
  LICHEN_ASSERT(options.ncpus >= 1 && options.ncpus <= kMaxCpus, "1..{} CPUs", kMaxCpus);
  auto sim = std::make_unique<Sim>();
  g_sim = sim.get();
  sim->options = options;
  sim->rng = Rng(options.seed);
  sim->workload_rng = Rng(options.seed ^ 0x9e3779b97f4a7c15ull);
  sim->root = root;
  sim->root_arg = arg;

  // A fresh kernel: every global of the core back to its boot state.
  kernel::ResetForSimulation();
  SetPanicHandler(&OnPanic);
  SetLogWriter(&OnLog);
  lockdep::SetReportHandler(options.lockdep_panics ? nullptr : [](const lockdep::Report&) {});
  void* ram = g_host_memory.Ram(options.memory_bytes);
  kernel::BootConfig boot;
  boot.ncpus = options.ncpus;
  boot.sched = options.sched;
  boot.memory_base = reinterpret_cast<uintptr_t>(ram);
  boot.memory_bytes = options.memory_bytes;
  kernel::EarlyInit(boot);

  sim->cpus.resize(options.ncpus);
  for (uint32_t i = 0; i < options.ncpus; ++i) {
    VCpu& cpu = sim->cpus[i];
    cpu.id = i;
    FiberInit(cpu.boot_context, g_host_memory.BootStack(i), kBootStackBytes, &CpuBoot,
              reinterpret_cast<void*>(static_cast<uintptr_t>(i)));
    cpu.running = &cpu.boot_context;
  }
  PlanSchedule(*sim);
  FiberAdoptThreadStack(sim->main_context);

  g_interleave_hook = &InterleaveHook;
  g_memory_model = options.weak_memory ? &kStoreBuffers : nullptr;
  while (!sim->failed && !sim->root_done) {
    if (sim->steps >= options.max_steps) {
      sim->failed = true;
      sim->failure_kind = Failure::kStepBudget;
      sim->failure = "livelock: step budget of " + std::to_string(options.max_steps) + " exhausted";
      break;
    }
    if (sim->now - kStartTimeNs - StalledSince(kStartTimeNs) > options.max_time_ns) {
      sim->failed = true;
      sim->failure_kind = Failure::kTimeBudget;
      sim->failure = "time budget exhausted (livelock or a workload that never ends)";
      break;
    }
    if (sim->options.stall_one_in != 0 && sim->rng.Below(sim->options.stall_one_in) == 0) {
      Stall();
    }
    WakeInterrupted();
    if (sim->options.time_slip_one_in != 0 && sim->rng.Below(sim->options.time_slip_one_in) == 0) {
      // A time slip: kernel code on the runnable CPUs "took" until the next event.
      const uint64_t next = NextEventTime();
      if (next != kNever && next - sim->now <= sim->options.max_time_slip_ns) {
        AdvanceTime();
        WakeInterrupted();
      }
    }
    if (sim->options.weak_memory) FlushSomeStores();
    const uint32_t chosen = Choose();
    if (chosen != kNoCpu) {
      Resume(chosen);
      continue;
    }
    // Stores become visible before time moves on (kernel code takes no time), and a spinner
    // waiting for a buffered store is not deadlocked.
    if (DrainAllStores()) continue;
    if (!AdvanceTime()) {
      bool spinning = false;
      for (const VCpu& cpu : sim->cpus)
        spinning |= cpu.state == CpuState::kRunnable;
      sim->failed = true;
      sim->failure_kind = spinning ? Failure::kDeadlock : Failure::kHang;
      sim->failure = spinning ? "deadlock: every runnable CPU spins on a lock and nothing else "
                                "can happen"
                              : "hang: every CPU is idle with no timer or IPI pending, but the "
                                "workload has not finished:" +
                                    TaskList();
      break;
    }
    CheckQuiescent();
  }
  g_interleave_hook = nullptr;
  g_memory_model = nullptr;

  Result result;
  result.seed = options.seed;
  result.steps = sim->steps;
  result.start_time_ns = kStartTimeNs;
  result.end_time_ns = sim->now;
  if (!sim->failed) {
    // The root has returned: everything it started must be gone.
    const uint32_t alive = registry::Count();
    if (alive > 1) {
      sim->failed = true;
      sim->failure_kind = Failure::kTasksLeftAlive;
      sim->failure = "the root returned with " + std::to_string(alive - 1) +
                     " other tasks still alive:" + TaskList();
    }
  }
  result.ok = !sim->failed;
  result.kind = sim->failure_kind;
  result.failure = sim->failure;
  sched::LatencyHistogram latency;
  for (uint32_t i = 0; i < options.ncpus; ++i) {
    const CpuReport r = SnapshotCounters(i);
    result.cpus.push_back(r);
    latency.MergeFrom(sched::WakeLatency(i));
    Mix(r.context_switches);
  }
  result.wake_latency_samples = latency.Count();
  result.wake_latency_p50_ns = latency.Percentile(500);
  result.wake_latency_p99_ns = latency.Percentile(990);
  result.fingerprint = sim->fingerprint.value();
  // A registered workload's replay line is written by RunWorkload, which knows the root is
  // the workload's; any other root is the test harness's to describe.
  result.replay = CustomReplay(options);
  if (!options.trace_path.empty()) WriteTrace(options.trace_path);

  // Abandoned fibers: nothing of theirs runs again; their memory is reused by the next run.
  g_sim = nullptr;
  SetPanicHandler(nullptr);
  SetLogWriter(nullptr);
  lockdep::SetReportHandler(nullptr);
  return result;
}

Result Run(const Options& options, const std::function<void()>& root) {
  return Run(
      options, [](void* fn) { (*static_cast<const std::function<void()>*>(fn))(); },
      const_cast<std::function<void()>*>(&root));
}

const char* FailureName(Failure kind) {
  switch (kind) {
    case Failure::kNone:
      return "None";
    case Failure::kPanic:
      return "Panic";
    case Failure::kWorkloadCheck:
      return "WorkloadCheck";
    case Failure::kLostWakeup:
      return "LostWakeup";
    case Failure::kMessageWithoutIpi:
      return "MessageWithoutIpi";
    case Failure::kSleeperBesideFlag:
      return "SleeperBesideFlag";
    case Failure::kNoPreemption:
      return "NoPreemption";
    case Failure::kLateTimer:
      return "LateTimer";
    case Failure::kIdleBesideWaiting:
      return "IdleBesideWaiting";
    case Failure::kIdleWhileWorkWaits:
      return "IdleWhileWorkWaits";
    case Failure::kHang:
      return "Hang";
    case Failure::kDeadlock:
      return "Deadlock";
    case Failure::kStepBudget:
      return "StepBudget";
    case Failure::kTimeBudget:
      return "TimeBudget";
    case Failure::kTasksLeftAlive:
      return "TasksLeftAlive";
    case Failure::kNoSuchWorkload:
      return "NoSuchWorkload";
  }
  return "?";
}

Options WorkloadOptions(const char* name, uint32_t ncpus, uint64_t seed) {
  Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  options.workload = name;
  const workload::Workload* w = workload::Find(name);
  if (w != nullptr && w->pins_tasks) options.check_idle_balance = false;
  return options;
}

Result RunWorkload(const Options& options, uint32_t scale) {
  struct Args {
    const workload::Workload* workload;
    workload::Params params;
  };
  Args args{workload::Find(options.workload.c_str()), workload::Params{scale, options.seed, true}};
  if (args.workload == nullptr) {
    Result result;
    result.seed = options.seed;
    result.kind = Failure::kNoSuchWorkload;
    result.failure = "no workload named '" + options.workload + "'";
    return result;
  }
  Result result = Run(
      options,
      [](void* p) {
        auto* a = static_cast<Args*>(p);
        a->workload->run(a->params);
      },
      &args);
  result.replay = WorkloadReplay(options, scale);
  return result;
}

void Compute(uint64_t ns) {
  LICHEN_ASSERT(g_sim != nullptr && g_sim->current != kNoCpu, "Compute() outside a simulation");
  Occupy(ns);
}

uint64_t WorkloadRandom() {
  return g_sim->workload_rng.Next();
}

uint32_t CurrentVirtualCpu() {
  return g_sim->current;
}

bool Active() {
  return g_sim != nullptr;
}

void Fail(const char* message) {
  char where[160];
  Describe(g_sim->current, where, sizeof(where));
  char text[1024];
  std::snprintf(text, sizeof(text), "workload check failed on %s: %s", where, message);
  FailHere(Failure::kWorkloadCheck, text);
}

}  // namespace lichen::sim

// ---- kernel/platform.h for the simulator ---------------------------------------------------

namespace lichen::platform {

using sim::CpuState;
using sim::Cur;
using sim::g_sim;
using sim::kNoCpu;

namespace {
bool OnCpu() {
  return g_sim != nullptr && g_sim->current != kNoCpu;
}
}  // namespace

// Outside a simulation (host unit tests of core pieces) the host thread acts as CPU 0 with
// IRQs masked, and nothing interleaves.
CpuId ThisCpu() {
  return OnCpu() ? g_sim->current : 0;
}

uint32_t CpuCount() {
  return g_sim == nullptr ? 1 : g_sim->options.ncpus;
}

IrqState SaveAndMaskIrqs() {
  if (!OnCpu()) return IrqState{true};
  sim::VCpu& cpu = Cur();
  // Plain (non-atomic) writes bypass the store buffer, so a store still buffered when the
  // memory it targets is freed and reused (the heap and every lock mask IRQs first) would
  // land on the new contents; a real CPU keeps its own stores in program order. Draining here
  // is always allowed (a buffer may empty at any time) and leaves the lock-free windows alone.
  sim::DrainStores(cpu);
  const IrqState old{cpu.irqs_masked};
  cpu.irqs_masked = true;
  return old;
}

void RestoreIrqs(IrqState state) {
  if (!OnCpu()) return;
  if (state.was_masked) {
    Cur().irqs_masked = true;
    return;
  }
  Cur().irqs_masked = false;
  // Unmasking is a preemption point: a pending interrupt is taken right here.
  sim::InterleaveHook();
}

bool IrqsMasked() {
  return !OnCpu() || Cur().irqs_masked;
}

void SendIpi(CpuMask targets) {
  sim::Sim& s = *g_sim;
  for (uint32_t target : targets) {
    if (target >= s.cpus.size()) continue;
    const uint64_t latency =
        s.rng.Range(s.options.ipi_latency_min_ns, s.options.ipi_latency_max_ns);
    sim::Mix(sim::Event::kIpiSent, target);
    if (latency == 0) {
      s.cpus[target].ipi_pending = true;
    } else {
      s.ipis.push_back(sim::InFlightIpi{s.now + latency, target});
    }
  }
}

void InitContext(Context& ctx, void* stack_base, size_t stack_size, ContextEntry entry, void* arg) {
  sim::FiberInit(ctx, stack_base, stack_size, entry, arg);
}

void SwitchContext(Context& save, const Context& load) {
  // The task leaving may run next on another CPU: it must find its own stores there.
  sim::DrainStores(Cur());
  if (g_sim->options.switch_cost_ns != 0) sim::Occupy(g_sim->options.switch_cost_ns);
  sim::VCpu& cpu = Cur();
  // `save` names the running context: carry its stack bounds over (the boot context becomes
  // the idle task's context on its first switch away).
  if (&save != cpu.running) {
    save.stack_base = cpu.running->stack_base;
    save.stack_size = cpu.running->stack_size;
  }
  cpu.running = const_cast<Context*>(&load);
  sim::FiberSwitch(save, load);
}

uint64_t Now() {
  return g_sim == nullptr ? 0 : g_sim->now;
}

void ArmTimer(uint64_t deadline_ns) {
  if (!OnCpu()) return;
  Cur().timer_armed = true;
  Cur().timer_deadline = deadline_ns;
}

void DisarmTimer() {
  if (!OnCpu()) return;
  Cur().timer_armed = false;
}

void WaitForInterrupt() {
  sim::VCpu& cpu = Cur();
  sim::DrainStores(cpu);
  cpu.state = CpuState::kHalted;
  cpu.halted_since = g_sim->now;
  sim::Pause();
  Cur().state = CpuState::kRunnable;
}

void CpuRelax() {
  if (!OnCpu()) return;
  sim::VCpu& cpu = Cur();
  cpu.points_since_relax = 0;
  cpu.relax_epoch = g_sim->epoch;
  sim::Pause();
  sim::DeliverInterrupts();
}

}  // namespace lichen::platform

// ---- workloads/workloads.h for the simulator: CPU time is virtual time ----------------------

namespace lichen::workload {

void Burn(uint64_t ns) {
  sim::Compute(ns);
}

}  // namespace lichen::workload

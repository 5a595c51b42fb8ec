#include "platform/sim/sim.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "kernel/irq.h"
#include "kernel/kernel.h"
#include "kernel/lock/lockdep.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/registry.h"
#include "kernel/sched/sched.h"
#include "kernel/sched/stats.h"
#include "kernel/trace/trace.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/log.h"
#include "lib/random.h"
#include "lib/sim_reset.h"
#include "platform/sim/fiber.h"
#include "platform/sim/fingerprint.h"
#include "platform/sim/machine.h"
#include "platform/sim/replay.h"
#include "platform/sim/trace_file.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LICHEN_SIM_ASAN 1
#include <sanitizer/asan_interface.h>
#endif
#endif

namespace lichen::sim {

// Internal to the simulator (platform/sim/machine.h).
inline namespace detail {

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

// The time of the next event, or time::kNever.
uint64_t NextEventTime() {
  Sim& sim = *g_sim;
  uint64_t next = time::kNever;
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
  if (next == time::kNever) return false;
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

Outcome Run(const Options& options, RootFn root, void* arg) {
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
  ResetAllForSimulation();
  SetPanicHandler(&OnPanic);
  SetLogWriter(&OnLog);
  lockdep::SetReportHandler(options.lockdep_panics ? nullptr : [](const lockdep::Report&) {});
  void* ram = g_host_memory.Ram(options.memory_bytes);
  kernel::BootConfig boot;
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
      if (next != time::kNever && next - sim->now <= sim->options.max_time_slip_ns) {
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

  Outcome result;
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

}  // namespace lichen::sim

// The kernel heap's per-CPU caches in the simulator: every atomic operation is a seeded
// interleaving point and timer interrupts arrive between them, so the lock-free Free path,
// the magazines' owner-only discipline under interrupts and the depot are explored over many
// interleavings, deterministically (a failing seed prints its replay command).
//
// One task pinned to each CPU allocates objects of the cached sizes, writes a pattern into
// each and hands every object to the task on the next CPU, which checks and frees it (a
// cross-CPU free); meanwhile each CPU's timer interrupt allocates, checks and frees one object
// of each size on its own. At the end every object is back: the heap's bytes in use are what
// they were before.
#include <gtest/gtest.h>

#include <cstdint>

#include "kernel/mm/kmem.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "kernel/sched/sched.h"
#include "lib/atomic.h"
#include "lib/container_of.h"
#include "lib/units.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

constexpr uint32_t kMaxSimCpus = 8;
constexpr uint32_t kObjectsPerTask = 120;
static_assert(kObjectsPerTask <= 128, "a ring holds everything its producer makes");
constexpr size_t kSizes[] = {24, 200, 1500, 6000};
// Each CPU's interrupt allocates this often. Much shorter (7 us was tried) and, with 8 CPUs,
// a handler's lock waits and the simulator's time slips inside kernel code can outlast the
// period, so that interrupts starve the tasks and the run exhausts its step budget.
constexpr uint64_t kIrqPeriodNs = 50 * kUs;

uint8_t PatternByte(uintptr_t addr, size_t i) {
  return static_cast<uint8_t>((addr >> 4) * 31 + i);
}

// Writes (or, with check, verifies) the object's pattern at both ends.
bool Pattern(void* object, size_t bytes, bool check) {
  auto* b = static_cast<uint8_t*>(object);
  const uintptr_t addr = reinterpret_cast<uintptr_t>(object);
  for (size_t i : {size_t{0}, size_t{8}, bytes / 2, bytes - 1}) {
    if (check && b[i] != PatternByte(addr, i)) return false;
    b[i] = PatternByte(addr, i);
  }
  return true;
}

// A single-producer single-consumer ring: the task on CPU i puts, the one on CPU i+1 takes.
// It has room for everything its producer makes, so nobody ever waits for another CPU (a
// spin-wait across CPUs is what the simulator's PCT schedule starves, by design).
struct Ring {
  static constexpr uint32_t kSlots = 128;
  Atomic<uint32_t> head{0};
  Atomic<uint32_t> tail{0};
  void* objects[kSlots] = {};
  size_t sizes[kSlots] = {};
};

struct Scenario;

// Each CPU's timer event; it finds its scenario through the back pointer.
struct CpuTimer {
  sched::TimerEvent event{&OnTimer};
  Scenario* scenario = nullptr;

  static void OnTimer(sched::TimerEvent& event, CpuLocal& cpu);
};

// One run's state. It lives in the test's frame (too big for the root task's stack), made
// fresh for each run.
struct Scenario {
  uint32_t ncpus = 0;
  Ring rings[kMaxSimCpus];
  CpuTimer timers[kMaxSimCpus];
  Atomic<uint32_t> corrupted{0};
  Atomic<uint32_t> failed{0};
  Atomic<uint32_t> irq_rounds{0};
  Atomic<uint32_t> handlers_running{0};  // timer events in progress, all CPUs
  Atomic<uint32_t> timers_stopped{0};    // CPUs whose event saw running == false
  Atomic<bool> running{false};
};

void CpuTimer::OnTimer(sched::TimerEvent& event, CpuLocal& cpu) {
  Scenario& s = *ContainerOf<CpuTimer, sched::TimerEvent, &CpuTimer::event>(&event)->scenario;
  s.handlers_running.FetchAdd(1, std::memory_order_acq_rel);
  for (size_t bytes : kSizes) {
    const Result<void*> p = mm::KernelHeap().Alloc(bytes);
    if (!p.ok()) {
      s.failed.FetchAdd(1, std::memory_order_relaxed);
      continue;
    }
    Pattern(p.value(), bytes, false);
    if (!Pattern(p.value(), bytes, true)) s.corrupted.FetchAdd(1, std::memory_order_relaxed);
    mm::KernelHeap().Free(p.value());
  }
  s.irq_rounds.FetchAdd(1, std::memory_order_relaxed);
  if (s.running.Load(std::memory_order_relaxed)) {
    cpu.timers.Add(event, platform::Now() + kIrqPeriodNs);
  } else {
    s.timers_stopped.FetchAdd(1, std::memory_order_acq_rel);
  }
  s.handlers_running.FetchSub(1, std::memory_order_acq_rel);
}

void TakeAndFree(Ring& in, Scenario& s) {
  const uint32_t head = in.head.Load(std::memory_order_relaxed);
  if (head == in.tail.Load(std::memory_order_acquire)) return;
  void* object = in.objects[head % Ring::kSlots];
  const size_t bytes = in.sizes[head % Ring::kSlots];
  in.head.Store(head + 1, std::memory_order_release);
  if (!Pattern(object, bytes, true)) s.corrupted.FetchAdd(1, std::memory_order_relaxed);
  mm::KernelHeap().Free(object);
}

void Worker(Scenario& s, uint32_t cpu) {
  {
    IrqGuard guard;
    auto local = ThisCpuLocal(guard.token());
    local->timers.Add(s.timers[cpu].event, platform::Now() + kIrqPeriodNs);
    sched::ProgramTimer(*local);
  }
  Ring& out = s.rings[cpu];
  Ring& in = s.rings[(cpu + s.ncpus - 1) % s.ncpus];
  for (uint32_t i = 0; i < kObjectsPerTask; ++i) {
    const size_t bytes = kSizes[(sim::WorkloadRandom() >> 7) % 4];
    const Result<void*> p = mm::KernelHeap().Alloc(bytes);
    if (!p.ok()) {
      s.failed.FetchAdd(1, std::memory_order_relaxed);
      continue;
    }
    Pattern(p.value(), bytes, false);
    const uint32_t tail = out.tail.Load(std::memory_order_relaxed);
    out.objects[tail % Ring::kSlots] = p.value();
    out.sizes[tail % Ring::kSlots] = bytes;
    out.tail.Store(tail + 1, std::memory_order_release);
    // Free what the previous CPU handed over so far: cross-CPU frees, while it still runs.
    TakeAndFree(in, s);
    TakeAndFree(in, s);
    sim::Compute(2 * kUs);
  }
}

void Root(Scenario& s) {
  s.ncpus = platform::CpuCount();
  for (CpuTimer& timer : s.timers)
    timer.scenario = &s;
  const size_t bytes_before = mm::KernelHeap().BytesInUse();
  s.running.Store(true, std::memory_order_relaxed);
  // One body per CPU, each knowing its CPU.
  struct Body {
    Scenario* s;
    uint32_t cpu;
    void operator()() { Worker(*s, cpu); }
  };
  Body bodies[kMaxSimCpus];
  Task* tasks[kMaxSimCpus];
  for (uint32_t cpu = 0; cpu < s.ncpus; ++cpu) {
    bodies[cpu] = {&s, cpu};
    tasks[cpu] = test::SpawnBody("heap-cache", bodies[cpu], CpuMask::Single(cpu));
  }
  for (uint32_t cpu = 0; cpu < s.ncpus; ++cpu)
    sched::Join(tasks[cpu]);
  // Objects still in the rings: the last ones each task handed over.
  for (Ring& ring : s.rings) {
    while (ring.head.Load(std::memory_order_relaxed) != ring.tail.Load(std::memory_order_relaxed))
      TakeAndFree(ring, s);
  }
  // Stop the interrupt side and wait until no handler holds an object: only then are the
  // byte counts exact.
  s.running.Store(false, std::memory_order_relaxed);
  while (s.timers_stopped.Load(std::memory_order_acquire) != s.ncpus ||
         s.handlers_running.Load(std::memory_order_acquire) != 0) {
    sched::SleepUntil(platform::Now() + 10 * kUs);
  }
  LICHEN_ASSERT(s.corrupted.Load(std::memory_order_relaxed) == 0,
                "{} objects were overwritten while live",
                s.corrupted.Load(std::memory_order_relaxed));
  LICHEN_ASSERT(s.failed.Load(std::memory_order_relaxed) == 0, "{} allocations failed",
                s.failed.Load(std::memory_order_relaxed));
  LICHEN_ASSERT(s.irq_rounds.Load(std::memory_order_relaxed) > 0,
                "no allocation happened in interrupt context");
  const size_t bytes_after = mm::KernelHeap().BytesInUse();
  LICHEN_ASSERT(bytes_after == bytes_before, "heap in use {} bytes before, {} after", bytes_before,
                bytes_after);
  mm::KernelHeap().CheckInvariants();
}

TEST(HeapCacheSim, CrossCpuFreesAndInterruptAllocationsOverManySeeds) {
  test::ForEachSeed("heap-cache", 40, [](uint64_t seed) {
    for (uint32_t ncpus : {1u, 2u, 4u, 8u}) {
      sim::Options options;
      options.ncpus = ncpus;
      options.seed = seed;
      options.workload = "heap-cache";
      options.check_idle_balance = false;  // the workers are pinned
      Scenario scenario;
      const sim::Outcome result = sim::Run(options, [&] { Root(scenario); });
      ASSERT_TRUE(result.ok) << "cpus=" << ncpus << ": " << test::Explain(result);
    }
  });
}

}  // namespace
}  // namespace lichen

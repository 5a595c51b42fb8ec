// The seed's allocator deadlock (DESIGN row 11), on real interrupts: a timer event in each
// CPU's timer interrupt allocates and frees from the kernel heap while a task on the same CPU
// hammers the same heap. The heap's lock masks IRQs, so the interrupt can never find it held
// by the code it interrupted; with a naive lock this test deadlocks (the CPU spins on its own
// ticket in the interrupt handler) and the watchdog reports it.
//
// It also caught the heap's second problem: at -smp 8 on a 2-core host the one heap lock,
// taken by every allocation of every task and interrupt, turned into a fair-lock convoy (each
// handoff waits for the host to run the vCPU holding the next ticket) and the test ran past its
// watchdog. The kernel heap now serves these sizes from per-CPU magazines that take no shared
// lock (kernel/mm/heap_cache.h, docs/memory.md); the test checks that the caches carried the
// load.
//
// White-box: the timer event goes straight onto this CPU's timer queue (kernel/sched/cpu.h,
// CpuLocal::timers) and the hardware timer is reprogrammed through the scheduler's internal
// ProgramTimer, exactly as the scheduler's own slice and sleep events are.
#include "kernel/base/platform.h"
#include "kernel/irq.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/cpu.h"
#include "kernel/sched/internal.h"
#include "ktests/ktest.h"
#include "lib/container_of.h"
#include "lib/random.h"
#include "lib/units.h"
#include "platform/aarch64/boot_info.h"
#include "workloads/workloads.h"

namespace lichen::ktest {

namespace {

constexpr uint32_t kMaxTestCpus = BootInfo::kMaxCpus;
// How often each CPU's interrupt allocates, and how long the tasks run at least: until their
// CPU's interrupt has done kMinIrqRounds rounds too (interrupts can be late by tens of ms when
// the host deschedules a vCPU, so the count, not the time, says the two really overlapped).
constexpr uint64_t kIrqPeriodNs = 150 * kUs;
constexpr uint64_t kRunNs = 60 * kMs;
// Small (slab) and large (page-block) sizes, both allocators behind the heap.
constexpr size_t kSizes[] = {24, 200, 1500, 6000};
constexpr uint32_t kLive = 8;  // objects a task holds at once
constexpr uint64_t kMinIrqRounds = 20;

struct HeapIrqCpu {
  // Fires on `cpu` in its timer interrupt; re-adds itself until the task cancels it.
  sched::TimerEvent event;
  uint32_t cpu = 0;
  // Written only by this CPU's timer interrupt; read by the task on the same CPU and by the
  // test after the task joined.
  Atomic<uint64_t> irq_rounds{0};
  uint64_t irq_failures = 0;
  uint64_t wrong_context = 0;
  // Written only by the task.
  uint64_t task_rounds = 0;
  uint64_t task_failures = 0;
  uint64_t seed = 0;

  HeapIrqCpu() : event(&OnTimer) {}

  // The timer event: allocate, fill, check and free one object of each size.
  static void OnTimer(sched::TimerEvent& event, CpuLocal& cpu) {
    HeapIrqCpu& self = *ContainerOf<HeapIrqCpu, sched::TimerEvent, &HeapIrqCpu::event>(&event);
    if (!irq::InHandler() || platform::ThisCpu() != self.cpu) ++self.wrong_context;
    for (size_t size : kSizes) {
      const Result<void*> p = mm::KernelHeap().Alloc(size);
      if (!p.ok()) {
        ++self.irq_failures;
        continue;
      }
      auto* bytes = static_cast<uint8_t*>(p.value());
      const uint8_t pattern =
          static_cast<uint8_t>(0xa5 ^ self.irq_rounds.Load(std::memory_order_relaxed));
      for (size_t i = 0; i < size; ++i)
        bytes[i] = pattern;
      for (size_t i = 0; i < size; ++i) {
        if (bytes[i] != pattern) ++self.irq_failures;
      }
      mm::KernelHeap().Free(bytes);
    }
    self.irq_rounds.AddRelaxedOwner(1);
    cpu.timers.Add(event, platform::Now() + kIrqPeriodNs);
  }
};

// Pinned to its CPU: starts the interrupt-side allocations there, allocates and frees itself
// for at least kRunNs and kMinIrqRounds interrupt rounds, then cancels the timer event.
void HeapTaskBody(void* p) {
  auto* self = static_cast<HeapIrqCpu*>(p);
  {
    IrqGuard guard;
    auto cpu = ThisCpuLocal(guard.token());
    cpu->timers.Add(self->event, platform::Now() + kIrqPeriodNs);
    sched::ProgramTimer(*cpu);
  }
  Rng rng(self->seed);
  void* live[kLive] = {};
  size_t sizes[kLive] = {};
  const uint64_t end = platform::Now() + kRunNs;
  while (platform::Now() < end ||
         self->irq_rounds.Load(std::memory_order_relaxed) < kMinIrqRounds) {
    for (uint32_t i = 0; i < kLive; ++i) {
      sizes[i] = kSizes[rng.Below(sizeof(kSizes) / sizeof(kSizes[0]))] - rng.Below(16);
      const Result<void*> r = mm::KernelHeap().Alloc(sizes[i]);
      live[i] = r.ok() ? r.value() : nullptr;
      if (live[i] == nullptr) {
        ++self->task_failures;
        continue;
      }
      auto* bytes = static_cast<uint8_t*>(live[i]);
      for (size_t b = 0; b < sizes[i]; ++b)
        bytes[b] = static_cast<uint8_t>(i);
    }
    workload::Burn(100 * kUs);  // holding the objects: interrupts land in between
    for (uint32_t i = 0; i < kLive; ++i) {
      if (live[i] == nullptr) continue;
      auto* bytes = static_cast<uint8_t*>(live[i]);
      for (size_t b = 0; b < sizes[i]; ++b) {
        if (bytes[b] != static_cast<uint8_t>(i)) ++self->task_failures;
      }
      mm::KernelHeap().Free(live[i]);
    }
    ++self->task_rounds;
  }
  IrqGuard guard;
  auto cpu = ThisCpuLocal(guard.token());
  cpu->timers.Cancel(self->event);
  sched::ProgramTimer(*cpu);
}

}  // namespace

KTEST(heap_alloc_in_irq) {
  const uint32_t n = Cpus();
  const size_t bytes_before = mm::KernelHeap().BytesInUse();
  const mm::HeapStats stats_before = mm::KernelHeap().Stats();
  const uint64_t failed_before = stats_before.failed_allocations;
  HeapIrqCpu cpus[kMaxTestCpus];
  Task* tasks[kMaxTestCpus];
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    cpus[cpu].cpu = cpu;
    cpus[cpu].seed = 0x9e37 + cpu;
    tasks[cpu] = Spawn("heap-irq", &HeapTaskBody, &cpus[cpu], CpuMask::Single(cpu));
  }
  for (uint32_t cpu = 0; cpu < n; ++cpu)
    sched::Join(tasks[cpu]);
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    const HeapIrqCpu& c = cpus[cpu];
    KTEST_CHECK(c.wrong_context == 0,
                "cpu {}: the timer event ran {} times outside its CPU's "
                "interrupt",
                cpu, c.wrong_context);
    const uint64_t rounds = c.irq_rounds.Load(std::memory_order_relaxed);
    KTEST_CHECK(rounds >= kMinIrqRounds, "cpu {}: only {} allocation rounds in interrupts", cpu,
                rounds);
    KTEST_CHECK(c.irq_failures == 0 && c.task_failures == 0,
                "cpu {}: {} failed or corrupted allocations in interrupts, {} in the task", cpu,
                c.irq_failures, c.task_failures);
    KTEST_CHECK(c.task_rounds > 0, "cpu {}: the task never completed a round", cpu);
  }
  const size_t bytes_after = mm::KernelHeap().BytesInUse();
  KTEST_CHECK(bytes_after == bytes_before, "heap in use {} bytes before, {} after (a leak?)",
              bytes_before, bytes_after);
  const mm::HeapStats stats_after = mm::KernelHeap().Stats();
  KTEST_CHECK(stats_after.failed_allocations == failed_before, "allocations failed");
  // Every size here is a cache class: nearly every operation must have been a magazine hit,
  // with the shared locks taken only for a refill or flush now and then.
  const uint64_t hits = stats_after.cache_hits - stats_before.cache_hits;
  const uint64_t locked = (stats_after.cache_refills - stats_before.cache_refills) +
                          (stats_after.cache_flushes - stats_before.cache_flushes);
  KTEST_CHECK(hits > 4 * locked, "{} cache hits against {} refills and flushes", hits, locked);
}

}  // namespace lichen::ktest

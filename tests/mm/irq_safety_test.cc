// The seed's heap deadlock, replayed on the host.
//
// The seed's kernel took an interrupt while a task held the heap lock; the handler allocated
// (a 24-byte Box for the GIC's interrupt context) and spun forever on the lock its own CPU
// held, because the lock did not mask IRQs. Here the heap's page source raises an interrupt
// exactly while the heap refills a slab with its lock held, and the handler allocates 24
// bytes. With the kernel's lock (SpinLock) the interrupt stays pending until the heap lock is
// released and the allocation succeeds; with the naive lock (IrqUnsafeLock) the handler runs
// inside the critical section and the CPU deadlocks -- caught first by lockdep, and without
// lockdep by the test platform's spin watchdog. The full scenario, with real timer interrupts
// on simulated CPUs, lives in the simulator's seed-bug tests.
#include <gtest/gtest.h>

#include <cstdio>

#include "kernel/base/debug.h"
#include "kernel/base/platform.h"
#include "kernel/lock/lockdep.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/page_alloc.h"
#include "tests/mm/mm_test_util.h"
#include "tests/mm/platform_stub.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;

// A page source for BasicHeap that raises an armed interrupt when the heap asks it for
// pages: the heap calls it with its own lock held.
template <typename Lock>
class InterruptingPages {
 public:
  explicit InterruptingPages(BasicPageAllocator<Lock>& pages) : pages_(pages) {}

  // The next AllocPages raises an interrupt that runs handler(arg).
  void Arm(mm_test::InterruptHandler handler, void* arg) {
    handler_ = handler;
    arg_ = arg;
  }

  Result<uintptr_t> AllocPages(uint32_t order, uint8_t tag = 0) {
    if (handler_ != nullptr) {
      const mm_test::InterruptHandler handler = handler_;
      handler_ = nullptr;
      mm_test::RaiseInterrupt(handler, arg_);
    }
    return pages_.AllocPages(order, tag);
  }
  void FreePages(uintptr_t addr, uint32_t order, uint8_t tag) {
    pages_.FreePages(addr, order, tag);
  }
  PageBlock BlockContaining(uintptr_t addr) const { return pages_.BlockContaining(addr); }

 private:
  BasicPageAllocator<Lock>& pages_;
  mm_test::InterruptHandler handler_ = nullptr;
  void* arg_ = nullptr;
};

// What the interrupt handler saw and got.
template <typename HeapType>
struct IsrRecord {
  HeapType* heap = nullptr;
  bool ran = false;
  uint32_t locks_held_at_entry = 0;
  void* allocated = nullptr;
};

// The handler: the seed's GIC driver allocating its interrupt context.
template <typename HeapType>
void AllocatingIsr(void* arg) {
  auto* record = static_cast<IsrRecord<HeapType>*>(arg);
  record->ran = true;
  record->locks_held_at_entry = lockdep::HeldCount();
  record->allocated = record->heap->Alloc(24).value_or(nullptr);
}

// One world (page allocator, interrupting page source, heap) per lock type.
template <typename Lock>
struct World {
  using HeapType = BasicHeap<Lock, InterruptingPages<Lock>>;
  HostBuffer buffer{1 << 20, 1 << 20};
  BasicPageAllocator<Lock> pages;
  InterruptingPages<Lock> source{pages};
  HeapType heap{source};
  IsrRecord<HeapType> isr{&heap};

  World() { LICHEN_ASSERT(pages.AddRegion(buffer.base(), buffer.bytes()).ok()); }
  // Allocates 64 bytes from an empty heap, so the heap refills a slab under its lock, with an
  // interrupt armed to arrive right then.
  void* AllocWithInterrupt() {
    source.Arm(&AllocatingIsr<HeapType>, &isr);
    return heap.Alloc(64).value_or(nullptr);
  }
};

TEST(HeapIrqSafety, InterruptWhileTheHeapLockIsHeldWaitsAndThenAllocates) {
  mm_test::SetThisCpu(0);
  World<SpinLock> world;
  void* task_object = world.AllocWithInterrupt();
  ASSERT_NE(task_object, nullptr);
  // The interrupt was taken -- after the heap lock was released, when IRQs were unmasked --
  // and its allocation succeeded.
  EXPECT_TRUE(world.isr.ran);
  if (kDebugChecks) EXPECT_EQ(world.isr.locks_held_at_entry, 0u);
  ASSERT_NE(world.isr.allocated, nullptr);
  EXPECT_NE(world.isr.allocated, task_object);
  EXPECT_FALSE(platform::IrqsMasked());
  world.heap.Free(world.isr.allocated);
  world.heap.Free(task_object);
  world.heap.Trim();
  EXPECT_EQ(world.pages.FreeBytes(), world.pages.TotalBytes());
}

TEST(HeapIrqSafetyDeathTest, NaiveLockRecursionIsReportedByLockdep) {
  if (!kDebugChecks) GTEST_SKIP() << "lockdep is compiled out";
  mm_test::SetThisCpu(0);
  EXPECT_DEATH(
      {
        World<IrqUnsafeLock> world;
        world.AllocWithInterrupt();
      },
      "lockdep: recursive acquisition of 'mm.heap'");
}

TEST(HeapIrqSafetyDeathTest, NaiveLockDeadlocksInTheInterruptHandler) {
  mm_test::SetThisCpu(0);
  EXPECT_DEATH(
      {
        // Lockdep only prints here, so the CPU goes on to spin as the seed's did.
        lockdep::SetReportHandler(
            [](const lockdep::Report& report) { std::fprintf(stderr, "%s\n", report.text); });
        World<IrqUnsafeLock> world;
        world.AllocWithInterrupt();
      },
      "deadlock: CPU 0 spun [0-9]+ times on a lock inside an interrupt handler");
}

}  // namespace
}  // namespace lichen::mm

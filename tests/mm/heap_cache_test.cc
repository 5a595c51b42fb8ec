// Unit tests of the per-CPU caches in front of the heap (kernel/mm/heap_cache.h).
//
// One host thread plays several CPUs in turn (SetThisCpu), so the magazine traffic of each
// scenario is deterministic; the threaded tests at the end run real CPUs concurrently.
#include "kernel/mm/heap_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "kernel/base/debug.h"
#include "kernel/base/platform.h"
#include "kernel/mm/kmem.h"
#include "lib/random.h"
#include "tests/mm/mm_test_util.h"
#include "tests/mm/platform_stub.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;
using mm_test::TestOwned;

using mm_test::kMiB;

using mm_test::FreeBlocks;

// The slab layer's own traffic: objects it handed out and took back, all classes.
uint64_t SlabTraffic(CachedHeap& heap) {
  const HeapStats stats = heap.slab_heap().Stats();
  uint64_t total = stats.large_allocations;
  for (const HeapClassStats& c : stats.classes)
    total += c.allocations + c.frees;
  return total;
}

// The kernel heap is the cached one.
static_assert(std::is_same_v<decltype(KernelHeap()), CachedHeap&>);

class CachedHeapTest : public ::testing::Test {
 protected:
  explicit CachedHeapTest(size_t bytes = 8 * kMiB) : buffer_(bytes, 4 * kMiB) {
    pages_added_ = pages_->AddRegion(buffer_.base(), buffer_.bytes()).ok();
    initial_blocks_ = FreeBlocks(*pages_);
    heap_ = new CachedHeap(*pages_);
  }
  ~CachedHeapTest() override {
    if (HasFailure()) return;  // leak: live objects would make the destructors panic
    for (uint32_t cpu = 0; cpu < 4; ++cpu) {
      mm_test::SetThisCpu(cpu);
      heap_->DrainThisCpu();
    }
    mm_test::SetThisCpu(0);
    delete heap_;
  }
  void SetUp() override {
    ASSERT_TRUE(pages_added_);
    mm_test::SetThisCpu(0);
  }

  // Drains CPUs 0..cpus-1, trims, and expects the page allocator as it started.
  void ExpectPagesRestored(uint32_t cpus = 4) {
    for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
      mm_test::SetThisCpu(cpu);
      heap_->DrainThisCpu();
    }
    mm_test::SetThisCpu(0);
    heap_->Trim();
    heap_->CheckInvariants();
    const HeapStats stats = heap_->Stats();
    EXPECT_EQ(stats.cached_bytes, 0u);
    EXPECT_EQ(heap_->BytesInUse(), 0u);
    EXPECT_EQ(stats.slab_bytes, 0u);
    pages_->CheckInvariants();
    EXPECT_EQ(pages_->FreeBytes(), pages_->TotalBytes());
    EXPECT_EQ(FreeBlocks(*pages_), initial_blocks_);
  }

  HostBuffer buffer_;
  TestOwned<PageAllocator> pages_;
  CachedHeap* heap_ = nullptr;
  bool pages_added_ = false;
  std::vector<size_t> initial_blocks_;
};

TEST_F(CachedHeapTest, CacheClassesAndTheirMagazines) {
  // The 8 size classes, then 4, 8 and 16 KiB blocks.
  EXPECT_EQ(CacheClassBytes(0), 16u);
  EXPECT_EQ(CacheClassBytes(kSizeClassCount - 1), 2048u);
  EXPECT_EQ(CacheClassBytes(kSizeClassCount), 4096u);
  EXPECT_EQ(CacheClassBytes(kCacheClassCount - 1), 16384u);
  for (uint32_t c = 0; c < kCacheClassCount; ++c) {
    EXPECT_GE(MagazineCapacity(c), 2u);
    EXPECT_LE(MagazineCapacity(c), kMagazineSlots);
  }
  EXPECT_EQ(MagazineCapacity(0), kMagazineSlots);
}

TEST_F(CachedHeapTest, EverySizeIsServedAlignedAndUsable) {
  for (size_t bytes :
       {1, 16, 17, 100, 256, 1000, 2048, 2049, 4096, 6000, 8192, 16384, 16385, 100000}) {
    const Result<void*> p = heap_->Alloc(bytes);
    ASSERT_TRUE(p.ok()) << bytes;
    const size_t reserved = CachedHeap::ReservedBytes(bytes, 16);
    const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
    EXPECT_EQ(addr % (reserved < 4096 ? reserved : 4096), 0u) << bytes;
    EXPECT_EQ(heap_->AllocationBytes(p.value()), reserved) << bytes;
    EXPECT_EQ(heap_->BytesInUse(), reserved) << bytes;
    mm_test::FillPattern(addr, reserved, bytes);
    EXPECT_TRUE(mm_test::PatternIntact(addr, reserved, bytes));
    heap_->Free(p.value());
    EXPECT_EQ(heap_->BytesInUse(), 0u) << bytes;
  }
  // Alignment above the size picks a bigger class, as BasicHeap does.
  void* aligned = heap_->Alloc(100, 1024).value();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % 1024, 0u);
  heap_->Free(aligned);
  EXPECT_EQ(heap_->Alloc(64, 3).error(), Error::kInvalidArgument);
  EXPECT_EQ(heap_->Alloc(64, 8192).error(), Error::kInvalidArgument);
  ExpectPagesRestored(1);
}

TEST_F(CachedHeapTest, HitsTakeNoLockAndReuseTheLastFreedObject) {
  void* warm = heap_->Alloc(64).value();  // refills CPU 0's 64-byte magazine
  heap_->Free(warm);
  const uint64_t traffic = SlabTraffic(*heap_);
  const uint64_t hits = heap_->Stats().cache_hits;
  for (int i = 0; i < 1000; ++i) {
    void* p = heap_->Alloc(64).value();
    EXPECT_EQ(p, warm) << "the loaded magazine is a stack";
    heap_->Free(p);
  }
  EXPECT_EQ(SlabTraffic(*heap_), traffic) << "an alloc/free pair went past the magazines";
  EXPECT_EQ(heap_->Stats().cache_hits, hits + 2000);
  ExpectPagesRestored(1);
}

TEST_F(CachedHeapTest, LargeBlocksUpTo16KiBAreCachedToo) {
  void* block = heap_->Alloc(6000).value();  // an order-1 block
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 8192, 0u);
  heap_->Free(block);
  HeapStats stats = heap_->Stats();
  EXPECT_EQ(stats.large_allocations, 0u);
  EXPECT_EQ(stats.large_bytes, 0u);
  EXPECT_GE(stats.cached_large_blocks, 1u);
  const uint64_t traffic = SlabTraffic(*heap_);
  EXPECT_EQ(heap_->Alloc(6000).value(), block);
  EXPECT_EQ(SlabTraffic(*heap_), traffic);
  stats = heap_->Stats();
  EXPECT_EQ(stats.large_allocations, 1u);
  EXPECT_EQ(stats.large_bytes, 8192u);
  heap_->Free(block);
  // 32 KiB is past the cached orders: straight to the page allocator and back.
  const size_t free_before = pages_->FreeBytes();
  void* big = heap_->Alloc(20000).value();
  EXPECT_EQ(pages_->FreeBytes(), free_before - 32768);
  heap_->Free(big);
  EXPECT_EQ(pages_->FreeBytes(), free_before);
  ExpectPagesRestored(1);
}

TEST_F(CachedHeapTest, AnObjectFreedOnAnotherCpuJoinsThatCpusMagazine) {
  mm_test::SetThisCpu(0);
  void* p = heap_->Alloc(200).value();
  mm_test::SetThisCpu(1);
  heap_->Free(p);
  const uint64_t traffic = SlabTraffic(*heap_);
  EXPECT_EQ(heap_->Alloc(200).value(), p) << "CPU 1 reuses what it freed";
  EXPECT_EQ(SlabTraffic(*heap_), traffic);
  heap_->Free(p);
  ExpectPagesRestored(2);
}

TEST_F(CachedHeapTest, FullMagazinesTravelThroughTheDepot) {
  // CPU 0 allocates, CPU 1 frees: CPU 1's magazines fill and go to the depot, and CPU 2's
  // refills come from there, not from the slabs.
  const uint32_t c = 2;  // 64-byte objects
  const uint32_t n = MagazineCapacity(c) * 4;
  std::vector<void*> objects;
  mm_test::SetThisCpu(0);
  for (uint32_t i = 0; i < n; ++i)
    objects.push_back(heap_->Alloc(64).value());
  mm_test::SetThisCpu(1);
  const uint64_t flushes = heap_->Stats().cache_flushes;
  for (void* p : objects)
    heap_->Free(p);
  HeapStats stats = heap_->Stats();
  EXPECT_GE(stats.cache_flushes, flushes + 2);
  EXPECT_EQ(stats.classes[c].objects_in_use, 0u);
  EXPECT_GE(stats.classes[c].cached_objects, n);
  heap_->CheckInvariants();

  mm_test::SetThisCpu(2);
  const uint64_t traffic = SlabTraffic(*heap_);
  std::vector<void*> again;
  for (uint32_t i = 0; i < MagazineCapacity(c); ++i)
    again.push_back(heap_->Alloc(64).value());
  EXPECT_EQ(SlabTraffic(*heap_), traffic) << "the refill came from the depot";
  for (void* p : again) {
    EXPECT_NE(std::find(objects.begin(), objects.end(), p), objects.end());
    heap_->Free(p);
  }
  ExpectPagesRestored(3);
}

TEST_F(CachedHeapTest, BytesInUseAndStatsCountCachedObjectsAsFree) {
  std::vector<void*> objects;
  for (int i = 0; i < 40; ++i)
    objects.push_back(heap_->Alloc(32).value());
  EXPECT_EQ(heap_->BytesInUse(), 40u * 32);
  HeapStats stats = heap_->Stats();
  EXPECT_EQ(stats.classes[1].objects_in_use, 40u);
  EXPECT_EQ(stats.bytes_in_use, 40u * 32);
  // The slab layer sees the refills: what the magazines hold is allocated there.
  EXPECT_EQ(heap_->slab_heap().Stats().classes[1].objects_in_use,
            40u + stats.classes[1].cached_objects);
  for (void* p : objects)
    heap_->Free(p);
  stats = heap_->Stats();
  EXPECT_EQ(heap_->BytesInUse(), 0u);
  EXPECT_EQ(stats.classes[1].objects_in_use, 0u);
  EXPECT_EQ(stats.cached_bytes, stats.classes[1].cached_objects * 32);
  EXPECT_GT(stats.cached_bytes, 0u);
  ExpectPagesRestored(1);
}

TEST_F(CachedHeapTest, TrimDrainsThisCpuAndTheDepot) {
  std::vector<void*> objects;
  for (int i = 0; i < 100; ++i)
    objects.push_back(heap_->Alloc(i % 2 == 0 ? 128 : 4000).value());
  for (void* p : objects)
    heap_->Free(p);
  EXPECT_GT(heap_->Stats().cached_bytes, 0u);
  const size_t released = heap_->Trim();
  EXPECT_GT(released, 0u);
  EXPECT_EQ(heap_->Stats().cached_bytes, 0u);
  EXPECT_EQ(pages_->FreeBytes(), pages_->TotalBytes());
  ExpectPagesRestored(1);
}

class SmallCachedHeapTest : public CachedHeapTest {
 protected:
  SmallCachedHeapTest() : CachedHeapTest(kMiB) {}
};

TEST_F(SmallCachedHeapTest, OutOfMemoryEmptiesTheDepotFirstAndIsCounted) {
  // CPU 1 allocates until memory runs out; CPU 0 frees half of it, into its magazines and the
  // depot. CPU 1 can still allocate the depot's objects; only then does it fail.
  std::vector<void*> objects;
  mm_test::SetThisCpu(1);
  for (;;) {
    const Result<void*> p = heap_->Alloc(1024);
    if (!p.ok()) {
      EXPECT_EQ(p.error(), Error::kNoMemory);
      break;
    }
    objects.push_back(p.value());
  }
  ASSERT_GT(objects.size(), 100u);
  const uint64_t failed = heap_->Stats().failed_allocations;
  EXPECT_GE(failed, 1u);
  mm_test::SetThisCpu(0);
  const size_t half = objects.size() / 2;
  for (size_t i = 0; i < half; ++i)
    heap_->Free(objects[i]);
  const size_t cached_on_cpu0 = 2 * MagazineCapacity(6);  // at most two magazines stay with CPU 0
  mm_test::SetThisCpu(1);
  size_t reallocated = 0;
  for (;;) {
    const Result<void*> p = heap_->Alloc(1024);
    if (!p.ok()) break;
    objects[reallocated++] = p.value();
  }
  EXPECT_GE(reallocated + cached_on_cpu0, half);
  EXPECT_EQ(heap_->Stats().failed_allocations, failed + 1);
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i >= reallocated && i < half) continue;  // freed by CPU 0 and not taken again
    heap_->Free(objects[i]);
  }
  ExpectPagesRestored(2);
}

// ---- Misuse: the debug checks, adapted to cached objects ---------------------------------

using CachedHeapDeathTest = CachedHeapTest;

TEST_F(CachedHeapDeathTest, DoubleFreeWhileCached) {
  void* p = heap_->Alloc(64).value();
  heap_->Free(p);
  EXPECT_DEATH(heap_->Free(p), "double free of a 64-byte object \\(it is in a per-CPU cache\\)");
}

TEST_F(CachedHeapDeathTest, DoubleFreeOfALargeBlockWhileCached) {
  void* p = heap_->Alloc(5000).value();
  heap_->Free(p);
  EXPECT_DEATH(heap_->Free(p), "double free of a 8192-byte object");
}

TEST_F(CachedHeapDeathTest, DoubleFreeAfterTheObjectWentBackToItsSlab) {
  void* keep = heap_->Alloc(64).value();  // keeps the slab alive
  void* p = heap_->Alloc(64).value();
  heap_->Free(p);
  heap_->DrainThisCpu();
  // Without ASan the marker is still there; with ASan the object is poisoned and BasicHeap's
  // bitmap reports it. Either way: a double free.
  EXPECT_DEATH(heap_->Free(p), "double free of a 64-byte object");
  heap_->Free(keep);
}

TEST_F(CachedHeapDeathTest, WriteAfterFreeIsCaughtWhenTheObjectIsHandedOutAgain) {
  void* p = heap_->Alloc(128).value();
  heap_->Free(p);
  EXPECT_DEATH(
      {
        // The first word is the one ASan leaves addressable in a cached object.
        *static_cast<volatile uint64_t*>(p) = 42;
        (void)heap_->Alloc(128);
      },
      "cached 128-byte object 0x[0-9a-f]+ was written after it was freed");
}

TEST_F(CachedHeapDeathTest, InteriorAndForeignPointers) {
  auto* p = static_cast<uint8_t*>(heap_->Alloc(256).value());
  EXPECT_DEATH(heap_->Free(p + 16), "not the start of a 256-byte object");
  auto* block = static_cast<uint8_t*>(heap_->Alloc(6000).value());
  EXPECT_DEATH(heap_->Free(block + 4096), "pointer inside a large allocation");
  static uint64_t foreign[4];
  EXPECT_DEATH(heap_->Free(foreign), "outside every memory region");
  const uintptr_t page = pages_->AllocPages(0, 0).value();
  EXPECT_DEATH(heap_->Free(reinterpret_cast<void*>(page)), "pages the heap did not allocate");
  pages_->FreePages(page, 0, 0);
  heap_->Free(p);
  heap_->Free(block);
}

// ---- The -smp 8 hang: an interrupt must not wait for a descheduled lock holder -----------

// A page source whose next AllocPages blocks until released, like a vCPU that the host
// deschedules while it holds the heap lock (BasicHeap calls its page source with the lock
// held, IRQs masked).
class StallingPages {
 public:
  explicit StallingPages(PageAllocator& pages) : pages_(pages) {}

  void ArmStall() { armed_.store(true); }
  bool Stalled() const { return stalled_.load(); }
  void Release() { released_.store(true); }

  Result<uintptr_t> AllocPages(uint32_t order, uint8_t tag = 0) {
    if (armed_.exchange(false)) {
      stalled_.store(true);
      while (!released_.load())
        std::this_thread::yield();
    }
    return pages_.AllocPages(order, tag);
  }
  void FreePages(uintptr_t addr, uint32_t order, uint8_t tag) {
    pages_.FreePages(addr, order, tag);
  }
  PageBlock BlockContaining(uintptr_t addr) const { return pages_.BlockContaining(addr); }
  PageBlock BlockContainingLive(uintptr_t addr) const { return pages_.BlockContainingLive(addr); }

 private:
  PageAllocator& pages_;
  std::atomic<bool> armed_{false};
  std::atomic<bool> stalled_{false};
  std::atomic<bool> released_{false};
};

// What heap_alloc_in_irq's timer event does, many times over: allocate, write and free one
// object of each of its sizes.
template <typename HeapT>
struct IrqRounds {
  HeapT* heap;
  int rounds_done = 0;
  static void Handler(void* arg) {
    auto* self = static_cast<IrqRounds*>(arg);
    for (int round = 0; round < 100; ++round) {
      for (size_t bytes : {24, 200, 1500, 6000}) {
        void* p = self->heap->Alloc(bytes).value();
        static_cast<uint8_t*>(p)[bytes - 1] = 0xa5;
        self->heap->Free(p);
      }
      ++self->rounds_done;
    }
  }
};

// CPU 1 takes the slab heap's lock and is "descheduled" holding it; then an interrupt on CPU 0
// allocates and frees. Returns the rounds the interrupt completed (all 100, or the test
// platform declares the interrupt deadlocked and panics).
template <typename HeapT>
int InterruptWhileAnotherCpuHoldsTheLock(HeapT& heap, StallingPages& source) {
  mm_test::SetThisCpu(0);
  // CPU 0 has used each size before: its magazines hold one of each.
  for (size_t bytes : {24, 200, 1500, 6000})
    heap.Free(heap.Alloc(bytes).value());
  source.ArmStall();
  std::thread holder([&heap] {
    mm_test::SetThisCpu(1);
    // A 512-byte class nobody used yet: the heap needs a slab, under its lock.
    heap.Free(heap.Alloc(512).value());
  });
  while (!source.Stalled())
    std::this_thread::yield();
  IrqRounds<HeapT> irq{&heap};
  mm_test::RaiseInterrupt(&IrqRounds<HeapT>::Handler, &irq);
  source.Release();
  holder.join();
  return irq.rounds_done;
}

using StallingCachedHeap = BasicCachedHeap<SpinLock, StallingPages>;
using StallingGlobalLockHeap = BasicHeap<SpinLock, StallingPages>;

struct StallWorld {
  HostBuffer buffer{4 * kMiB, 4 * kMiB};
  PageAllocator pages;
  StallingPages source{pages};
  StallWorld() { LICHEN_ASSERT(pages.AddRegion(buffer.base(), buffer.bytes()).ok()); }
};

TEST(HeapCacheRegression, InterruptDoesNotWaitForADescheduledLockHolder) {
  StallWorld world;
  auto* heap = new StallingCachedHeap(world.source);
  EXPECT_EQ(InterruptWhileAnotherCpuHoldsTheLock(*heap, world.source), 100);
  for (uint32_t cpu : {0u, 1u}) {
    mm_test::SetThisCpu(cpu);
    heap->DrainThisCpu();
  }
  mm_test::SetThisCpu(0);
  heap->Trim();
  EXPECT_EQ(world.pages.FreeBytes(), world.pages.TotalBytes());
  delete heap;
}

TEST(HeapCacheRegressionDeathTest, TheGlobalLockHeapMakesTheInterruptWait) {
  // The heap before the caches: the interrupt spins on the lock that the stalled CPU holds,
  // which is the convoy of the -smp 8 hang in its purest form (the test platform calls a
  // handler that spins this long a deadlock).
  EXPECT_DEATH(
      {
        StallWorld world;
        auto* heap = new StallingGlobalLockHeap(world.source);
        InterruptWhileAnotherCpuHoldsTheLock(*heap, world.source);
      },
      "deadlock: CPU 0 spun [0-9]+ times on a lock inside an interrupt handler");
}

// ---- Real threads ---------------------------------------------------------------------------

// Objects handed from one thread to another, freed by whoever takes them.
struct Handoff {
  std::mutex mutex;
  std::vector<std::pair<uintptr_t, size_t>> items;
};

TEST(HeapCacheThreads, CrossCpuFreesAndInterruptsOnFourCpus) {
  constexpr int kThreads = 4;
  constexpr int kSteps = 20000;
  HostBuffer buffer(16 * kMiB, 4 * kMiB);
  TestOwned<PageAllocator> owned_pages;
  PageAllocator& pages = *owned_pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  const std::vector<size_t> initial = FreeBlocks(pages);
  TestOwned<CachedHeap> owned_heap(pages);
  CachedHeap& heap = *owned_heap;
  Handoff handoff;
  std::atomic<int> corrupted{0};
  std::atomic<int> failed{0};
  std::atomic<uint64_t> irq_rounds{0};

  struct IrqArg {
    CachedHeap* heap;
    uint64_t key;
    std::atomic<int>* corrupted;
    std::atomic<int>* failed;
    std::atomic<uint64_t>* rounds;
  };
  // The interrupt handler: one object of each cached kind, written, checked and freed.
  auto irq_handler = [](void* a) {
    auto* arg = static_cast<IrqArg*>(a);
    for (size_t bytes : {24, 200, 1500, 6000}) {
      const Result<void*> p = arg->heap->Alloc(bytes);
      if (!p.ok()) {
        arg->failed->fetch_add(1);
        continue;
      }
      const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
      mm_test::FillPattern(addr, bytes, arg->key + bytes);
      if (!mm_test::PatternIntact(addr, bytes, arg->key + bytes)) arg->corrupted->fetch_add(1);
      arg->heap->Free(p.value());
    }
    arg->rounds->fetch_add(1);
  };

  auto worker = [&](int id) {
    mm_test::SetThisCpu(static_cast<uint32_t>(id));
    Rng rng(77 + static_cast<uint64_t>(id));
    std::vector<std::pair<uintptr_t, size_t>> mine;
    IrqArg irq{&heap, 0, &corrupted, &failed, &irq_rounds};
    auto free_one = [&](uintptr_t addr, size_t bytes) {
      if (!mm_test::PatternIntact(addr, bytes, addr)) corrupted.fetch_add(1);
      heap.Free(reinterpret_cast<void*>(addr));
    };
    for (int step = 0; step < kSteps; ++step) {
      const uint64_t action = rng.Below(100);
      if (action < 5) {
        irq.key = rng.Next();
        mm_test::RaiseInterrupt(irq_handler, &irq);
      } else if (action < 45 || mine.empty()) {
        const size_t bytes = rng.Chance(9, 10) ? rng.Range(1, 2048) : rng.Range(2049, 40000);
        const Result<void*> p = heap.Alloc(bytes);
        if (!p.ok()) {
          failed.fetch_add(1);
          continue;
        }
        const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
        mm_test::FillPattern(addr, bytes, addr);
        mine.emplace_back(addr, bytes);
      } else if (action < 55) {
        const size_t i = rng.Below(mine.size());
        {
          std::lock_guard<std::mutex> guard(handoff.mutex);
          handoff.items.push_back(mine[i]);
        }
        mine[i] = mine.back();
        mine.pop_back();
      } else if (action < 70) {
        std::pair<uintptr_t, size_t> item{0, 0};
        {
          std::lock_guard<std::mutex> guard(handoff.mutex);
          if (!handoff.items.empty()) {
            item = handoff.items.back();
            handoff.items.pop_back();
          }
        }
        if (item.first != 0) free_one(item.first, item.second);
      } else {
        const size_t i = rng.Below(mine.size());
        free_one(mine[i].first, mine[i].second);
        mine[i] = mine.back();
        mine.pop_back();
      }
    }
    for (const auto& [addr, bytes] : mine)
      free_one(addr, bytes);
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back(worker, i);
  for (std::thread& t : threads)
    t.join();
  mm_test::SetThisCpu(0);
  for (const auto& [addr, bytes] : handoff.items) {
    if (!mm_test::PatternIntact(addr, bytes, addr)) corrupted.fetch_add(1);
    heap.Free(reinterpret_cast<void*>(addr));
  }
  EXPECT_EQ(corrupted.load(), 0) << "objects were overwritten while live";
  EXPECT_EQ(failed.load(), 0) << "16 MiB is far more than the test ever holds";
  EXPECT_GT(irq_rounds.load(), 0u);
  EXPECT_EQ(heap.BytesInUse(), 0u) << "cached objects count as free";
  const HeapStats stats = heap.Stats();
  EXPECT_GT(stats.cache_hits, stats.cache_refills + stats.cache_flushes);
  for (uint32_t cpu = 0; cpu < kThreads; ++cpu) {
    mm_test::SetThisCpu(cpu);
    heap.DrainThisCpu();
  }
  mm_test::SetThisCpu(0);
  heap.Trim();
  heap.CheckInvariants();
  pages.CheckInvariants();
  EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes());
  EXPECT_EQ(FreeBlocks(pages), initial);
  std::printf("cache hits %llu, refills %llu, flushes %llu, interrupt rounds %llu\n",
              static_cast<unsigned long long>(stats.cache_hits),
              static_cast<unsigned long long>(stats.cache_refills),
              static_cast<unsigned long long>(stats.cache_flushes),
              static_cast<unsigned long long>(irq_rounds.load()));
}

}  // namespace
}  // namespace lichen::mm

// Real-thread stress: four host threads, each a "CPU" of the test platform, allocate and free
// concurrently from one heap and one page allocator, and hand objects to each other so that
// memory is freed on another CPU than the one that allocated it. Every object carries a
// pattern that is checked when it is freed; at the end everything is freed and the page
// allocator must be back in its initial state.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "kernel/base/platform.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/page_alloc.h"
#include "lib/random.h"
#include "tests/mm/mm_test_util.h"
#include "tests/mm/platform_stub.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;

using mm_test::kMiB;
constexpr int kThreads = 4;
constexpr int kStepsPerThread = 20000;

using mm_test::FreeBlocks;

// One allocation in flight: heap object (order < 0) or page block.
struct Allocation {
  uintptr_t addr;
  size_t bytes;  // bytes covered by the pattern
  int order;     // page order, or -1 for a heap object
  uint64_t key;
};

void Fill(const Allocation& a) {
  if (a.order >= 0) {
    mm_test::FillPagePattern(a.addr, a.bytes, a.key);
  } else {
    mm_test::FillPattern(a.addr, a.bytes, a.key);
  }
}

bool Intact(const Allocation& a) {
  if (a.order >= 0) return mm_test::PagePatternIntact(a.addr, a.bytes, a.key);
  return mm_test::PatternIntact(a.addr, a.bytes, a.key);
}

// Objects handed from one thread to another, freed by whoever takes them.
class Handoff {
 public:
  void Put(const Allocation& a) {
    std::lock_guard<std::mutex> guard(mutex_);
    items_.push_back(a);
  }
  bool Take(Allocation& out) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (items_.empty()) return false;
    out = items_.back();
    items_.pop_back();
    return true;
  }

 private:
  std::mutex mutex_;
  std::vector<Allocation> items_;
};

TEST(MmStress, FourThreadsAllocateAndFreeConcurrently) {
  HostBuffer buffer(16 * kMiB, 4 * kMiB);
  mm_test::TestOwned<PageAllocator> owned_pages;
  PageAllocator& pages = *owned_pages;
  ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
  const std::vector<size_t> initial = FreeBlocks(pages);
  mm_test::TestOwned<Heap> owned_heap(pages);
  Heap& heap = *owned_heap;
  Handoff handoff;
  std::atomic<int> corrupted{0};
  std::atomic<int> irq_state_errors{0};
  std::atomic<uint64_t> out_of_memory{0};

  auto free_one = [&](const Allocation& a) {
    if (!Intact(a)) corrupted.fetch_add(1);
    if (a.order >= 0) {
      pages.FreePages(a.addr, static_cast<uint32_t>(a.order));
    } else {
      heap.Free(reinterpret_cast<void*>(a.addr));
    }
  };

  auto worker = [&](int id) {
    mm_test::SetThisCpu(static_cast<uint32_t>(id + 1));
    Rng rng(1000 + static_cast<uint64_t>(id));
    std::vector<Allocation> mine;
    uint64_t serial = 0;
    for (int step = 0; step < kStepsPerThread; ++step) {
      const uint64_t key = (uint64_t(id) << 56) | ++serial;
      const uint64_t action = rng.Below(100);
      if (action < 50 || mine.empty()) {
        Allocation a{};
        if (rng.Chance(1, 10)) {
          const int order = static_cast<int>(rng.Below(4));
          const Result<uintptr_t> block = pages.AllocPages(static_cast<uint32_t>(order));
          if (!block.ok()) {
            out_of_memory.fetch_add(1);
            continue;
          }
          a = Allocation{block.value(), OrderBytes(static_cast<uint32_t>(order)), order, key};
        } else {
          const size_t bytes = rng.Chance(9, 10) ? rng.Range(1, 512) : rng.Range(513, 20000);
          const Result<void*> p = heap.Alloc(bytes);
          if (!p.ok()) {
            out_of_memory.fetch_add(1);
            continue;
          }
          a = Allocation{reinterpret_cast<uintptr_t>(p.value()), bytes, -1, key};
        }
        Fill(a);
        mine.push_back(a);
      } else if (action < 60) {
        // Give one away: another CPU frees it.
        const size_t i = rng.Below(mine.size());
        handoff.Put(mine[i]);
        mine[i] = mine.back();
        mine.pop_back();
      } else if (action < 70) {
        Allocation a;
        if (handoff.Take(a)) free_one(a);
      } else {
        const size_t i = rng.Below(mine.size());
        free_one(mine[i]);
        mine[i] = mine.back();
        mine.pop_back();
      }
      if (platform::IrqsMasked()) irq_state_errors.fetch_add(1);
    }
    for (const Allocation& a : mine)
      free_one(a);
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back(worker, i);
  for (std::thread& t : threads)
    t.join();
  mm_test::SetThisCpu(0);
  Allocation a;
  while (handoff.Take(a))
    free_one(a);

  EXPECT_EQ(corrupted.load(), 0) << "objects were overwritten while live";
  EXPECT_EQ(irq_state_errors.load(), 0) << "an allocator call left IRQs masked";
  heap.CheckInvariants();
  EXPECT_EQ(heap.BytesInUse(), 0u);
  heap.Trim();
  pages.CheckInvariants();
  EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes());
  EXPECT_EQ(FreeBlocks(pages), initial);
  const HeapStats stats = heap.Stats();
  uint64_t allocations = 0;
  for (const HeapClassStats& c : stats.classes)
    allocations += c.allocations;
  EXPECT_GT(allocations, uint64_t{kThreads} * kStepsPerThread / 4);
  std::printf("heap allocations %llu, out-of-memory results %llu\n",
              static_cast<unsigned long long>(allocations),
              static_cast<unsigned long long>(out_of_memory.load()));
}

}  // namespace
}  // namespace lichen::mm

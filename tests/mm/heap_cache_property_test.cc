// Randomized model test of the per-CPU heap caches (kernel/mm/heap_cache.h).
//
// One thread plays four CPUs, switching at random between operations; each seed runs
// thousands of allocations, frees (often on another CPU than the allocating one), drains and
// trims against a reference model: a std::map of the live objects, and per CPU and class the
// stack of objects that CPU freed since it last allocated or drained (what its loaded magazine
// must return first). After every step: live objects lie in the region, aligned, disjoint,
// their patterns intact; BytesInUse and every class's objects_in_use equal the model's; an
// allocation right after a free on the same CPU returns the object just freed, without
// touching the slab layer; an allocation fails only when the slabs have no free slot and the
// page allocator no block for it. At the end every CPU drains and the page allocator must be
// back in its initial blocks. LICHEN_SEED=n replays one seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <vector>

#include "kernel/mm/heap_cache.h"
#include "kernel/mm/page_alloc.h"
#include "lib/random.h"
#include "tests/mm/mm_test_util.h"
#include "tests/mm/platform_stub.h"
#include "tests/support/property.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;
using mm_test::TestOwned;

using mm_test::kMiB;
constexpr uint32_t kCpus = 4;

using mm_test::FreeBlocks;

bool HasBlockOfAtLeast(const PageAllocator& pages, uint32_t order) {
  const PageAllocatorStats stats = pages.Stats();
  for (uint32_t o = order; o <= kMaxOrder; ++o) {
    if (stats.free_blocks[o] != 0) return true;
  }
  return false;
}

// The model's idea of a request: reserved bytes (worked out independently of the heap's code)
// and its cache class, or -1 when the heap serves it uncached.
struct Request {
  size_t bytes;
  size_t align;
  size_t reserved;
  int cache_class;
};

Request MakeRequest(size_t bytes, size_t align) {
  const size_t need = std::max({bytes, align, size_t{16}});
  if (need <= 2048) {
    size_t reserved = 16;
    int c = 0;
    while (reserved < need) {
      reserved *= 2;
      ++c;
    }
    return Request{bytes, align, reserved, c};
  }
  size_t reserved = 4096;
  int order = 0;
  while (reserved < bytes) {
    reserved *= 2;
    ++order;
  }
  return Request{bytes, align, reserved, order < 3 ? 8 + order : -1};
}

struct LiveObject {
  size_t reserved;
  int cache_class;
};

// Pattern over the first and last 64 bytes (all of it when smaller): enough to catch overlap
// and reuse while live, and cheap under ASan.
void FillObject(uintptr_t addr, size_t bytes, uint64_t key) {
  if (bytes <= 128) return mm_test::FillPattern(addr, bytes, key);
  mm_test::FillPattern(addr, 64, key);
  mm_test::FillPattern(addr + bytes - 64, 64, ~key);
}

bool ObjectIntact(uintptr_t addr, size_t bytes, uint64_t key) {
  if (bytes <= 128) return mm_test::PatternIntact(addr, bytes, key);
  return mm_test::PatternIntact(addr, 64, key) &&
         mm_test::PatternIntact(addr + bytes - 64, 64, ~key);
}

uint64_t SlabTraffic(CachedHeap& heap) {
  const HeapStats stats = heap.slab_heap().Stats();
  uint64_t total = 0;
  for (const HeapClassStats& c : stats.classes)
    total += c.allocations + c.frees;
  return total + stats.large_allocations;
}

TEST(HeapCacheProperty, MatchesAReferenceModel) {
  test::ForEachSeed("heap-cache-model", 48, [](uint64_t seed) {
    mm_test::PanicContext context("heap-cache-model", seed);
    Rng rng(seed);
    HostBuffer buffer(4 * kMiB, 4 * kMiB);
    TestOwned<PageAllocator> owned_pages;
    PageAllocator& pages = *owned_pages;
    ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
    const std::vector<size_t> initial = FreeBlocks(pages);
    TestOwned<CachedHeap> owned_heap(pages);
    CachedHeap& heap = *owned_heap;

    std::map<uintptr_t, LiveObject> live;
    size_t in_use = 0;
    size_t class_live[kCacheClassCount] = {};
    // Per CPU and class: objects freed there since its last allocation of the class.
    std::vector<uintptr_t> freed_here[kCpus][kCacheClassCount];
    int failures = 0;
    int reuses = 0;
    uint32_t cpu = 0;
    mm_test::SetThisCpu(cpu);

    auto check_counts = [&](int step) {
      ASSERT_EQ(heap.BytesInUse(), in_use) << "step " << step;
      const HeapStats stats = heap.Stats();
      for (uint32_t c = 0; c < kSizeClassCount; ++c)
        ASSERT_EQ(stats.classes[c].objects_in_use, class_live[c]) << "class " << c;
      size_t large = 0;
      for (uint32_t c = kSizeClassCount; c < kCacheClassCount; ++c)
        large += class_live[c];
      // Uncached large objects are in the map with cache_class -1; count them too.
      for (const auto& [addr, object] : live) {
        if (object.cache_class < 0) ++large;
      }
      ASSERT_EQ(stats.large_allocations, large);
    };

    for (int step = 0; step < 3000; ++step) {
      if (rng.Chance(1, 8)) {
        cpu = static_cast<uint32_t>(rng.Below(kCpus));
        mm_test::SetThisCpu(cpu);
      }
      const uint64_t action = rng.Below(1000);
      if (action < 5) {
        heap.DrainThisCpu();
        for (auto& stack : freed_here[cpu])
          stack.clear();
      } else if (action < 8) {
        heap.Trim();
        for (auto& stack : freed_here[cpu])
          stack.clear();
      } else if (live.empty() || rng.Chance((step / 500) % 2 == 0 ? 75 : 35, 100)) {
        const uint64_t kind = rng.Below(100);
        const size_t bytes = kind < 75   ? rng.Range(0, 2048)
                             : kind < 95 ? rng.Range(2049, 16384)
                                         : rng.Range(16385, 200000);
        const size_t align = rng.Chance(4, 5) ? 16 : size_t{1} << rng.Below(13);
        const Request request = MakeRequest(bytes, align);
        const uint64_t traffic = SlabTraffic(heap);
        const Result<void*> p = heap.Alloc(bytes, align);
        if (!p.ok()) {
          ASSERT_EQ(p.error(), Error::kNoMemory);
          // Only when nothing could serve it: the class's slabs are full (what the caches of
          // other CPUs hold included) and no block for a new slab; or no block that large.
          const HeapStats stats = heap.Stats();
          if (request.reserved <= kMaxSmallBytes) {
            const auto& c = stats.classes[request.cache_class];
            ASSERT_EQ(c.capacity, c.objects_in_use + c.cached_objects);
            ASSERT_FALSE(HasBlockOfAtLeast(pages, SlabOrder(request.cache_class)));
          } else {
            ASSERT_FALSE(HasBlockOfAtLeast(pages, OrderForBytes(bytes)));
          }
          ASSERT_TRUE(request.cache_class < 0 || freed_here[cpu][request.cache_class].empty());
          ++failures;
          continue;
        }
        const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
        if (request.cache_class >= 0) {
          auto& stack = freed_here[cpu][request.cache_class];
          if (!stack.empty()) {
            // The loaded magazine is a stack: the last object this CPU freed comes back, and
            // no lock was needed.
            ASSERT_EQ(addr, stack.back()) << "step " << step;
            ASSERT_EQ(SlabTraffic(heap), traffic) << "step " << step;
            stack.pop_back();
            ++reuses;
          }
        }
        ASSERT_EQ(addr % align, 0u);
        ASSERT_EQ(heap.AllocationBytes(p.value()), request.reserved);
        ASSERT_TRUE(addr >= buffer.base() &&
                    addr + request.reserved <= buffer.base() + buffer.bytes());
        auto next = live.lower_bound(addr);
        ASSERT_TRUE(next == live.end() || addr + request.reserved <= next->first);
        if (next != live.begin()) {
          auto prev = std::prev(next);
          ASSERT_LE(prev->first + prev->second.reserved, addr);
        }
        live.emplace(addr, LiveObject{request.reserved, request.cache_class});
        in_use += request.reserved;
        if (request.cache_class >= 0) ++class_live[request.cache_class];
        FillObject(addr, request.reserved, addr ^ seed);
      } else {
        auto it = std::next(live.begin(), static_cast<long>(rng.Below(live.size())));
        const auto [addr, object] = *it;
        ASSERT_TRUE(ObjectIntact(addr, object.reserved, addr ^ seed))
            << "object " << std::hex << addr << " was overwritten";
        heap.Free(reinterpret_cast<void*>(addr));
        live.erase(it);
        in_use -= object.reserved;
        if (object.cache_class >= 0) {
          --class_live[object.cache_class];
          // A flush can move the older objects out, never the one just freed: only the
          // newest counts, so the model keeps just it.
          auto& stack = freed_here[cpu][object.cache_class];
          stack.clear();
          stack.push_back(addr);
        }
      }
      check_counts(step);
      if (HasFailure()) return;
      if (step % 250 == 0) {
        heap.CheckInvariants();
        pages.CheckInvariants();
      }
    }
    EXPECT_GT(failures, 0) << "the run never reached exhaustion";
    EXPECT_GT(reuses, 0);

    for (const auto& [addr, object] : live) {
      ASSERT_TRUE(ObjectIntact(addr, object.reserved, addr ^ seed));
      mm_test::SetThisCpu(static_cast<uint32_t>(rng.Below(kCpus)));
      heap.Free(reinterpret_cast<void*>(addr));
    }
    for (uint32_t c = 0; c < kCpus; ++c) {
      mm_test::SetThisCpu(c);
      heap.DrainThisCpu();
    }
    mm_test::SetThisCpu(0);
    heap.Trim();
    heap.CheckInvariants();
    EXPECT_EQ(heap.BytesInUse(), 0u);
    EXPECT_EQ(heap.Stats().cached_bytes, 0u);
    EXPECT_EQ(heap.Stats().slab_bytes, 0u);
    pages.CheckInvariants();
    EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes());
    EXPECT_EQ(FreeBlocks(pages), initial) << "freeing everything did not restore the blocks";
  });
}

}  // namespace
}  // namespace lichen::mm

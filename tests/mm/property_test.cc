// Randomized model tests of the page allocator and the heap.
//
// Each seed drives thousands of random allocations and frees against a reference model (a
// std::map of the live blocks) and checks, after every step: every live block lies inside
// the region, is aligned as promised and overlaps no other; the pattern written into a block
// survives until it is freed; the allocator's byte counts equal the model's exactly; a
// failure happens only when the allocator really has no block that could serve the request.
// At the end everything is freed and the allocator must be back in its initial state, block
// for block -- which is what catches a coalescing bug. LICHEN_SEED=n replays one seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <iterator>
#include <map>
#include <vector>

#include "kernel/mm/heap.h"
#include "kernel/mm/page_alloc.h"
#include "lib/random.h"
#include "tests/mm/mm_test_util.h"
#include "tests/support/property.h"

namespace lichen::mm {
namespace {

using mm_test::HostBuffer;
using mm_test::TestOwned;

using mm_test::kMiB;

using mm_test::FreeBlocks;

// True when the page allocator has a free block of `order` or larger.
bool HasBlockOfAtLeast(const PageAllocator& pages, uint32_t order) {
  const PageAllocatorStats stats = pages.Stats();
  for (uint32_t o = order; o <= kMaxOrder; ++o) {
    if (stats.free_blocks[o] != 0) return true;
  }
  return false;
}

// Probability (percent) of allocating rather than freeing: phases that fill memory up to
// exhaustion and phases that drain it, so both ends are visited.
uint32_t AllocPercent(int step) {
  return (step / 600) % 2 == 0 ? 80 : 30;
}

// Some entry of a non-empty map, uniformly.
template <typename Map>
typename Map::iterator PickLive(Map& live, Rng& rng) {
  return std::next(live.begin(), static_cast<long>(rng.Below(live.size())));
}

// Checks [addr, addr + bytes) against its neighbours in `live` (keyed by start, valued by a
// type with .bytes): no overlap on either side.
template <typename Map>
::testing::AssertionResult Disjoint(const Map& live, uintptr_t addr, size_t bytes) {
  auto next = live.lower_bound(addr);
  if (next != live.end() && addr + bytes > next->first) {
    return ::testing::AssertionFailure()
           << std::hex << addr << "+" << bytes << " overlaps " << next->first;
  }
  if (next != live.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.bytes > addr) {
      return ::testing::AssertionFailure()
             << std::hex << addr << " overlaps " << prev->first << "+" << prev->second.bytes;
    }
  }
  return ::testing::AssertionSuccess();
}

// Fisher-Yates with the seed's generator, so a replayed seed frees in the same order.
template <typename T>
void Shuffle(std::vector<T>& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i)
    std::swap(items[i - 1], items[rng.Below(i)]);
}

struct LiveBlock {
  size_t bytes;  // OrderBytes(order)
  uint32_t order;
};

TEST(PageAllocatorProperty, MatchesAReferenceModel) {
  test::ForEachSeed("page-allocator-model", 64, [](uint64_t seed) {
    mm_test::PanicContext context("page-allocator-model", seed);
    Rng rng(seed);
    HostBuffer buffer(8 * kMiB, 4 * kMiB);
    // A region at a random page offset, sometimes with a ragged start, and of random length:
    // the initial block layout differs from seed to seed.
    const uintptr_t base =
        buffer.base() + rng.Below(64) * 4096 + (rng.Chance(1, 4) ? rng.Below(4096) : 0);
    const size_t bytes = rng.Range(kMiB, buffer.base() + buffer.bytes() - base);
    const uintptr_t lo = (base + 4095) & ~uintptr_t{4095};
    const uintptr_t hi = (base + bytes) & ~uintptr_t{4095};

    TestOwned<PageAllocator> owned_pages;
    PageAllocator& pages = *owned_pages;
    ASSERT_TRUE(pages.AddRegion(base, bytes).ok());
    const size_t total = pages.TotalBytes();
    const std::vector<size_t> initial = FreeBlocks(pages);
    pages.CheckInvariants();

    std::map<uintptr_t, LiveBlock> live;
    size_t used = 0;
    int failures = 0;
    for (int step = 0; step < 3000; ++step) {
      if (live.empty() || rng.Chance(AllocPercent(step), 100)) {
        // Mostly small blocks, sometimes anything up to the largest order.
        const uint32_t order =
            static_cast<uint32_t>(rng.Chance(3, 4) ? rng.Below(3) : rng.Below(kOrderCount));
        const Result<uintptr_t> block = pages.AllocPages(order);
        if (!block.ok()) {
          ASSERT_EQ(block.error(), Error::kNoMemory);
          ASSERT_FALSE(HasBlockOfAtLeast(pages, order))
              << "failed with a block free, order " << order;
          ++failures;
          continue;
        }
        const uintptr_t addr = block.value();
        const size_t size = OrderBytes(order);
        ASSERT_EQ(addr % size, 0u) << "order " << order;
        ASSERT_TRUE(addr >= lo + 4096 && addr + size <= hi) << "outside the region";
        ASSERT_TRUE(Disjoint(live, addr, size));
        live.emplace(addr, LiveBlock{size, order});
        used += size;
        mm_test::FillPagePattern(addr, size, addr ^ seed);
      } else {
        auto it = PickLive(live, rng);
        ASSERT_TRUE(mm_test::PagePatternIntact(it->first, it->second.bytes, it->first ^ seed))
            << "block " << std::hex << it->first << " was overwritten";
        pages.FreePages(it->first, it->second.order);
        used -= it->second.bytes;
        live.erase(it);
      }
      ASSERT_EQ(pages.FreeBytes(), total - used) << "step " << step;
      if (step % 250 == 0) pages.CheckInvariants();
    }
    EXPECT_GT(failures, 0) << "the run never reached exhaustion";

    std::vector<std::pair<uintptr_t, LiveBlock>> rest(live.begin(), live.end());
    Shuffle(rest, rng);
    for (const auto& [addr, block] : rest) {
      ASSERT_TRUE(mm_test::PagePatternIntact(addr, block.bytes, addr ^ seed));
      pages.FreePages(addr, block.order);
    }
    pages.CheckInvariants();
    EXPECT_EQ(pages.FreeBytes(), total);
    EXPECT_EQ(FreeBlocks(pages), initial) << "freeing everything did not restore the blocks";
  });
}

struct LiveObject {
  size_t bytes;    // the reserved size (class size or block size)
  size_t request;  // what was asked for
};

// What the heap should reserve for (bytes, align), worked out independently of its code.
size_t ExpectedBytes(size_t bytes, size_t align) {
  const size_t need = std::max({bytes, align, size_t{16}});
  if (need <= 2048) return std::bit_ceil(need);
  return OrderBytes(OrderForBytes(bytes));
}

// Pattern over an allocation: all of it when small, page samples when it is whole pages.
void FillObject(uintptr_t addr, const LiveObject& object, uint64_t key) {
  if (object.bytes >= 4096) {
    mm_test::FillPagePattern(addr, object.bytes, key);
  } else {
    mm_test::FillPattern(addr, object.request, key);
  }
}

bool ObjectIntact(uintptr_t addr, const LiveObject& object, uint64_t key) {
  if (object.bytes >= 4096) return mm_test::PagePatternIntact(addr, object.bytes, key);
  return mm_test::PatternIntact(addr, object.request, key);
}

TEST(HeapProperty, MatchesAReferenceModel) {
  test::ForEachSeed("heap-model", 64, [](uint64_t seed) {
    mm_test::PanicContext context("heap-model", seed);
    Rng rng(seed);
    HostBuffer buffer(4 * kMiB, 4 * kMiB);
    TestOwned<PageAllocator> owned_pages;
    PageAllocator& pages = *owned_pages;
    ASSERT_TRUE(pages.AddRegion(buffer.base(), buffer.bytes()).ok());
    const std::vector<size_t> initial = FreeBlocks(pages);
    TestOwned<Heap> owned_heap(pages);
    Heap& heap = *owned_heap;

    std::map<uintptr_t, LiveObject> live;
    size_t in_use = 0;
    int failures = 0;
    for (int step = 0; step < 4000; ++step) {
      if (live.empty() || rng.Chance(AllocPercent(step), 100)) {
        size_t request;
        const uint64_t kind = rng.Below(100);
        if (kind < 70) {
          request = rng.Range(0, 256);
        } else if (kind < 90) {
          request = rng.Range(257, 2048);
        } else if (kind < 98) {
          request = rng.Range(2049, 64 * 1024);
        } else {
          request = rng.Range(64 * 1024, 1024 * 1024);
        }
        const size_t align = rng.Chance(4, 5) ? 16 : size_t{1} << rng.Below(13);
        const size_t expected = ExpectedBytes(request, align);
        const Result<void*> p = heap.Alloc(request, align);
        if (!p.ok()) {
          ASSERT_EQ(p.error(), Error::kNoMemory);
          // Only when nothing could serve it: for a slab class, no free slot in the class and
          // no page block for a new slab; for whole pages, no block that large.
          const HeapStats stats = heap.Stats();
          if (expected <= kMaxSmallBytes) {
            const uint32_t c = static_cast<uint32_t>(std::countr_zero(expected)) - 4;
            ASSERT_EQ(stats.classes[c].capacity, stats.classes[c].objects_in_use);
            ASSERT_FALSE(HasBlockOfAtLeast(pages, SlabOrder(c)));
          } else {
            ASSERT_FALSE(HasBlockOfAtLeast(pages, OrderForBytes(request)));
          }
          ++failures;
          continue;
        }
        const uintptr_t addr = reinterpret_cast<uintptr_t>(p.value());
        ASSERT_EQ(addr % align, 0u);
        ASSERT_EQ(addr % 16, 0u);
        ASSERT_EQ(heap.AllocationBytes(p.value()), expected) << request << "/" << align;
        ASSERT_TRUE(addr >= buffer.base() && addr + expected <= buffer.base() + buffer.bytes());
        ASSERT_TRUE(Disjoint(live, addr, expected));
        const LiveObject object{expected, request};
        live.emplace(addr, object);
        in_use += expected;
        FillObject(addr, object, addr ^ seed);
      } else {
        auto it = PickLive(live, rng);
        ASSERT_TRUE(ObjectIntact(it->first, it->second, it->first ^ seed))
            << "object " << std::hex << it->first << " was overwritten";
        heap.Free(reinterpret_cast<void*>(it->first));
        in_use -= it->second.bytes;
        live.erase(it);
      }
      ASSERT_EQ(heap.BytesInUse(), in_use) << "step " << step;
      const HeapStats stats = heap.Stats();
      ASSERT_EQ(pages.FreeBytes(), pages.TotalBytes() - stats.slab_bytes - stats.large_bytes);
      if (step % 250 == 0) {
        heap.CheckInvariants();
        pages.CheckInvariants();
      }
    }
    EXPECT_GT(failures, 0) << "the run never reached exhaustion";

    std::vector<std::pair<uintptr_t, LiveObject>> rest(live.begin(), live.end());
    Shuffle(rest, rng);
    for (const auto& [addr, object] : rest) {
      ASSERT_TRUE(ObjectIntact(addr, object, addr ^ seed));
      heap.Free(reinterpret_cast<void*>(addr));
    }
    heap.CheckInvariants();
    EXPECT_EQ(heap.BytesInUse(), 0u);
    heap.Trim();
    EXPECT_EQ(heap.Stats().slab_bytes, 0u);
    pages.CheckInvariants();
    EXPECT_EQ(pages.FreeBytes(), pages.TotalBytes());
    EXPECT_EQ(FreeBlocks(pages), initial) << "freeing everything did not restore the blocks";
  });
}

}  // namespace
}  // namespace lichen::mm

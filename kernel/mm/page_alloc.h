// The physical page allocator: a binary buddy allocator over the RAM handed over at boot.
//
// Memory comes in as regions (AddRegion): on aarch64 the free RAM after the kernel image, in
// the simulator a large host buffer. Blocks are 2^order pages of 4 KiB, order 0..kMaxOrder
// (4 KiB .. 4 MiB), and every block is aligned to its own size in the address space, so a
// block's buddy is `addr ^ OrderBytes(order)`. Free blocks sit on one intrusive list per order
// whose links live inside the free block itself. Freeing merges a block with its buddy for as
// long as the buddy is free and of the same order, so memory that is entirely free again is
// back in the largest aligned blocks it started as.
//
// Bookkeeping is one byte per page, carved from the start of each region at AddRegion: it
// says whether the page is the first page of a free block, of an allocated block (with the
// block's order), or inside a block. That is what makes double frees, frees with the wrong
// order and frees of foreign addresses detectable, and what lets the heap find the block that
// contains any pointer (BlockContaining) without a size. Nothing else lives outside the
// regions: the allocator object itself is a few hundred bytes of static storage.
//
// Every operation takes one lock. The kernel's instance uses SpinLock (IRQ-saving), so pages
// may be allocated and freed from interrupt handlers; see kernel/mm/mm_lock.h for the seam.
// Cost: AllocPages and FreePages are O(kMaxOrder) plus a scan of at most kMaxRegions regions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "kernel/lock/lockdep.h"
#include "kernel/lock/spinlock.h"
#include "kernel/mm/mm_lock.h"
#include "kernel/mm/poison.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/list.h"
#include "lib/result.h"
#include "lib/thread_annotations.h"

namespace lichen::mm {

inline constexpr uint32_t kPageShift = 12;
// Size of a page, the unit of the page allocator.
inline constexpr size_t kPageSize = size_t{1} << kPageShift;
// Largest block order: blocks of 2^10 pages = 4 MiB.
inline constexpr uint32_t kMaxOrder = 10;
// Number of orders, 0 .. kMaxOrder.
inline constexpr uint32_t kOrderCount = kMaxOrder + 1;
// How many regions one allocator can manage (their descriptors live in the allocator object).
inline constexpr uint32_t kMaxRegions = 8;

// Bytes in a block of `order`.
constexpr size_t OrderBytes(uint32_t order) {
  return kPageSize << order;
}

// Smallest order whose block holds `bytes` (0 for 0..4096 bytes); kOrderCount when not even
// an order-kMaxOrder block is large enough.
constexpr uint32_t OrderForBytes(size_t bytes) {
  uint32_t order = 0;
  while (order <= kMaxOrder && OrderBytes(order) < bytes)
    ++order;
  return order;
}

// Largest owner tag: an allocated block carries a 2-bit tag in its state byte, chosen by
// whoever allocated it (0 = untagged). The heap tags its slabs and its large blocks, so Free()
// can tell them apart, and from pages it never allocated.
inline constexpr uint8_t kMaxPageTag = 3;

// An allocated block: its first byte, its order and its owner tag.
struct PageBlock {
  uintptr_t base = 0;
  uint32_t order = 0;
  uint8_t tag = 0;
};

// A snapshot of the allocator's counters, taken under its lock.
struct PageAllocatorStats {
  size_t total_bytes = 0;     // bytes in blocks the allocator can hand out
  size_t free_bytes = 0;      // of which free now
  size_t metadata_bytes = 0;  // bytes of the per-page state arrays (carved from the regions)
  uint32_t regions = 0;       // regions added
  size_t free_blocks[kOrderCount] = {};  // free blocks of each order
  uint64_t allocations = 0;              // successful AllocPages calls
  uint64_t frees = 0;                    // FreePages calls
  uint64_t failed_allocations = 0;       // AllocPages calls that found no block
};

template <typename Lock>
class BasicPageAllocator {
 public:
  BasicPageAllocator() = default;
  // The free lists' links live in the managed memory: the regions must stay accessible until
  // the allocator is destroyed (only tests destroy one).
  ~BasicPageAllocator();
  BasicPageAllocator(const BasicPageAllocator&) = delete;
  BasicPageAllocator& operator=(const BasicPageAllocator&) = delete;

  // Hands [base, base + bytes) to the allocator; it is trimmed to whole pages, and its first
  // pages become the per-page state array (one byte per page). Returns the bytes now available
  // for allocation. kInvalidArgument: empty, too small for one page after the bookkeeping,
  // wrapping around the address space, or overlapping a region already added. kNoMemory:
  // kMaxRegions regions already. May be called at any time, from any CPU.
  Result<size_t> AddRegion(uintptr_t base, size_t bytes) TA_EXCL(lock_);

  // A block of 2^order pages, aligned to its size, recorded with owner tag `tag`. kNoMemory
  // when no block that large is free; kInvalidArgument when order > kMaxOrder or
  // tag > kMaxPageTag.
  Result<uintptr_t> AllocPages(uint32_t order, uint8_t tag = 0) TA_EXCL(lock_);

  // Returns the block at `addr`, which AllocPages(order, tag) returned and which is not yet
  // freed. Panics on a foreign address, a double free, an interior address, a mismatched
  // order, or a mismatched tag (someone freeing pages that belong to another owner).
  void FreePages(uintptr_t addr, uint32_t order, uint8_t tag = 0) TA_EXCL(lock_);

  // The allocated block that contains `addr` (any byte of it), with its tag. Panics when
  // `addr` is in no region, or in a free block or the bookkeeping. O(kMaxOrder): the heap's
  // Free() uses it to find a pointer's slab or large block without being told a size.
  PageBlock BlockContaining(uintptr_t addr) const TA_EXCL(lock_);

  // BlockContaining without the lock, for the heap's per-CPU caches (kernel/mm/heap_cache.h),
  // whose Free must not wait on a shared lock. Exact when `addr` lies in a block that stays
  // allocated for the whole call, which holds whenever the caller owns a live allocation in
  // it: the state bytes it reads (its own block's) only change when that block is freed, and
  // regions are published once and never change. For any other address (a double free, a
  // foreign pointer) it still reads only memory the allocator owns, and its answer is checked
  // by the caller like BlockContaining's; the panics are the same.
  PageBlock BlockContainingLive(uintptr_t addr) const TA_NO_THREAD_SAFETY_ANALYSIS;

  // True when `addr` lies in one of the regions (bookkeeping included).
  bool Contains(uintptr_t addr) const TA_EXCL(lock_);

  // Bytes free now / bytes that can be handed out at all (bookkeeping excluded).
  size_t FreeBytes() const TA_EXCL(lock_);
  size_t TotalBytes() const TA_EXCL(lock_);

  // All counters at one instant.
  PageAllocatorStats Stats() const TA_EXCL(lock_);

  // Walks every region page by page and every free list, and panics with a description of
  // the first inconsistency: block layout, list membership, byte counts, and that no free
  // block has a free buddy of the same order (coalescing is complete). O(pages); for tests.
  void CheckInvariants() const TA_EXCL(lock_);

  // The lock itself, for hang reports (SpinLock::Peek); never to be taken through this.
  const Lock& lock_for_reports() const TA_RET_CAP(lock_) { return lock_; }

 private:
  // Per-page state byte: the kind in the top two bits, the owner tag (allocated blocks only)
  // in the next two, the block order in the low four.
  static constexpr uint8_t kInterior = 0x00;  // inside a block, not its first page
  static constexpr uint8_t kFreeHead = 0x40;  // first page of a free block
  static constexpr uint8_t kUsedHead = 0x80;  // first page of an allocated block
  static constexpr uint8_t kReserved = 0xC0;  // a page of the state array itself
  static constexpr uint8_t kKindMask = 0xC0;
  static constexpr uint8_t kTagShift = 4;
  static constexpr uint8_t kTagMask = 0x30;
  static constexpr uint8_t kOrderMask = 0x0F;
  static_assert(kMaxPageTag << kTagShift == kTagMask);
  static_assert(kMaxOrder <= kOrderMask, "the order must fit the state byte");

  // The links of a free block, stored in its first bytes.
  struct FreeBlock {
    ListNode node;
  };
  using FreeList = IntrusiveList<FreeBlock, &FreeBlock::node>;

  // One region: [base, usable) holds the state array, [usable, end) the blocks.
  struct Region {
    uintptr_t base = 0;
    uintptr_t usable = 0;
    uintptr_t end = 0;
    uint8_t* state = nullptr;  // state[(page - base) >> kPageShift]

    bool Holds(uintptr_t addr) const { return addr >= base && addr < end; }
    // True when the whole block [addr, addr + OrderBytes(order)) lies in the usable part.
    bool HoldsBlock(uintptr_t addr, uint32_t order) const {
      return addr >= usable && addr < end && end - addr >= OrderBytes(order);
    }
    uint8_t& StateOf(uintptr_t page) const { return state[(page - base) >> kPageShift]; }
    // The state byte read as a relaxed atomic: BlockContainingLive reads it without the lock.
    uint8_t LoadState(uintptr_t page) const {
      return __atomic_load_n(&state[(page - base) >> kPageShift], __ATOMIC_RELAXED);
    }
  };

  // The block search of BlockContaining in `region` (the caller holds the lock, or the block
  // stays allocated: see BlockContainingLive).
  static PageBlock SearchBlock(const Region& region, uintptr_t addr);

  // The region containing `addr`, or nullptr.
  const Region* FindRegion(uintptr_t addr) const TA_REQ(lock_);
  // Marks [addr, +OrderBytes(order)) a free block of `order` and puts it on its list.
  void PushFree(const Region& region, uintptr_t addr, uint32_t order) TA_REQ(lock_);
  // Takes the free block at `addr` off its list and marks its first page interior.
  void RemoveFree(const Region& region, uintptr_t addr, uint32_t order) TA_REQ(lock_);
  // Text for a state byte in panic messages.
  static const char* KindName(uint8_t state);

  // One lock class for every page allocator: they all play the same role (innermost lock of
  // the memory subsystem: nothing is acquired while it is held).
  static inline constinit lockdep::LockClass lock_class_{"mm.page_allocator",
                                                         LockRank::kPageAllocator};

  // Guards everything below. Mutable: the const queries take it too. Innermost: nothing is
  // acquired while it is held (the heap's lock may be held around it).
  mutable Lock lock_{lock_class_};
  Region regions_[kMaxRegions] TA_GUARDED(lock_) = {};  // the first region_count_ are in use
  uint32_t region_count_ TA_GUARDED(lock_) = 0;
  // region_count_, published (release) once a new region is fully set up: regions_[i] for
  // i below it never change again, so BlockContainingLive may read them without the lock.
  Atomic<uint32_t> published_regions_{0};
  FreeList free_[kOrderCount] TA_GUARDED(lock_);  // free blocks, one list per order
  // The counters behind Stats(); see PageAllocatorStats.
  size_t total_bytes_ TA_GUARDED(lock_) = 0;
  size_t free_bytes_ TA_GUARDED(lock_) = 0;
  size_t metadata_bytes_ TA_GUARDED(lock_) = 0;
  uint64_t allocations_ TA_GUARDED(lock_) = 0;
  uint64_t frees_ TA_GUARDED(lock_) = 0;
  uint64_t failed_allocations_ TA_GUARDED(lock_) = 0;
};

// The kernel's page allocator type: IRQ-saving lock, callable from interrupt handlers.
using PageAllocator = BasicPageAllocator<SpinLock>;

// Both instantiations are compiled once, in page_alloc.cc.
extern template class BasicPageAllocator<SpinLock>;
extern template class BasicPageAllocator<IrqUnsafeLock>;

// ---------------------------------------------------------------------------------------------
// Implementation.

template <typename Lock>
BasicPageAllocator<Lock>::~BasicPageAllocator() {
  // Unlink the free blocks so the lists' destructors find them empty.
  LockGuard<Lock> guard(lock_);
  for (FreeList& list : free_)
    list.Clear();
}

template <typename Lock>
Result<size_t> BasicPageAllocator<Lock>::AddRegion(uintptr_t base, size_t bytes) {
  if (bytes == 0 || base + bytes < base) return Error::kInvalidArgument;
  const uintptr_t start = (base + kPageSize - 1) & ~(kPageSize - 1);
  const uintptr_t end = (base + bytes) & ~(kPageSize - 1);
  if (start < base || start >= end) return Error::kInvalidArgument;  // no whole page inside
  const size_t pages = (end - start) >> kPageShift;
  const size_t state_pages = (pages + kPageSize - 1) / kPageSize;  // one byte per page
  if (state_pages >= pages) return Error::kInvalidArgument;        // nothing left to hand out
  const uintptr_t usable = start + state_pages * kPageSize;

  LockGuard<Lock> guard(lock_);
  if (region_count_ == kMaxRegions) return Error::kNoMemory;
  for (uint32_t i = 0; i < region_count_; ++i) {
    if (start < regions_[i].end && regions_[i].base < end) return Error::kInvalidArgument;
  }
  Region& region = regions_[region_count_++];
  region = Region{start, usable, end, reinterpret_cast<uint8_t*>(start)};

  // The state array: its own pages reserved, every other page interior until the blocks are
  // laid out. The blocks themselves are free memory: poisoned for ASan.
  UnpoisonRange(start, pages);
  __builtin_memset(region.state, kReserved, state_pages);
  __builtin_memset(region.state + state_pages, kInterior, pages - state_pages);
  PoisonRange(usable, end - usable);

  // Cover [usable, end) with the largest blocks that are aligned to their size and fit.
  for (uintptr_t addr = usable; addr < end;) {
    uint32_t order = kMaxOrder;
    while (order > 0 && ((addr & (OrderBytes(order) - 1)) != 0 || end - addr < OrderBytes(order))) {
      --order;
    }
    PushFree(region, addr, order);
    addr += OrderBytes(order);
  }
  total_bytes_ += end - usable;
  free_bytes_ += end - usable;
  metadata_bytes_ += state_pages * kPageSize;
  published_regions_.Store(region_count_, std::memory_order_release);
  return end - usable;
}

template <typename Lock>
Result<uintptr_t> BasicPageAllocator<Lock>::AllocPages(uint32_t order, uint8_t tag) {
  if (order > kMaxOrder || tag > kMaxPageTag) return Error::kInvalidArgument;
  LockGuard<Lock> guard(lock_);
  uint32_t found = order;
  while (found <= kMaxOrder && free_[found].Empty())
    ++found;
  if (found > kMaxOrder) {
    ++failed_allocations_;
    return Error::kNoMemory;
  }
  const uintptr_t addr = reinterpret_cast<uintptr_t>(free_[found].Front());
  const Region* region = FindRegion(addr);
  LICHEN_ASSERT(region != nullptr,
                "page allocator: free list of order {} holds {:#x}, outside every region", found,
                addr);
  RemoveFree(*region, addr, found);
  // Split: keep the lower half, give the upper half back, until the block has the right size.
  while (found > order) {
    --found;
    PushFree(*region, addr + OrderBytes(found), found);
  }
  region->StateOf(addr) = static_cast<uint8_t>(kUsedHead | tag << kTagShift | order);
  free_bytes_ -= OrderBytes(order);
  ++allocations_;
  UnpoisonRange(addr, OrderBytes(order));
  return addr;
}

template <typename Lock>
void BasicPageAllocator<Lock>::FreePages(uintptr_t addr, uint32_t order, uint8_t tag) {
  LICHEN_ASSERT(order <= kMaxOrder, "FreePages({:#x}, {}): order above kMaxOrder {}", addr, order,
                kMaxOrder);
  LICHEN_ASSERT((addr & (OrderBytes(order) - 1)) == 0,
                "FreePages({:#x}, {}): address not aligned to its order: not a block start", addr,
                order);
  LockGuard<Lock> guard(lock_);
  const Region* region = FindRegion(addr);
  LICHEN_ASSERT(region != nullptr,
                "FreePages({:#x}, {}): foreign address, outside every memory region", addr, order);
  uint8_t& state = region->StateOf(addr);
  LICHEN_ASSERT((state & kKindMask) != kFreeHead,
                "FreePages({:#x}, {}): double free (the block is already free)", addr, order);
  LICHEN_ASSERT((state & kKindMask) == kUsedHead,
                "FreePages({:#x}, {}): not the start of an allocated block ({})", addr, order,
                KindName(state));
  LICHEN_ASSERT((state & kOrderMask) == order,
                "FreePages({:#x}, {}): block was allocated with order {}", addr, order,
                state & kOrderMask);
  LICHEN_ASSERT((state & kTagMask) >> kTagShift == tag,
                "FreePages({:#x}, {}): block has tag {}, freed with tag {} (not its owner)", addr,
                order, (state & kTagMask) >> kTagShift, tag);
  state = kInterior;
  free_bytes_ += OrderBytes(order);
  ++frees_;
  PoisonRange(addr, OrderBytes(order));

  // Coalesce: while the buddy is a whole free block of the same order, absorb it.
  uintptr_t block = addr;
  uint32_t block_order = order;
  while (block_order < kMaxOrder) {
    const uintptr_t buddy = block ^ OrderBytes(block_order);
    if (!region->HoldsBlock(buddy, block_order)) break;
    if (region->StateOf(buddy) != (kFreeHead | block_order)) break;
    RemoveFree(*region, buddy, block_order);
    if (buddy < block) block = buddy;
    ++block_order;
  }
  PushFree(*region, block, block_order);
}

template <typename Lock>
PageBlock BasicPageAllocator<Lock>::BlockContaining(uintptr_t addr) const {
  LockGuard<Lock> guard(lock_);
  const Region* region = FindRegion(addr);
  LICHEN_ASSERT(region != nullptr, "{:#x} is outside every memory region (foreign pointer)", addr);
  return SearchBlock(*region, addr);
}

template <typename Lock>
PageBlock BasicPageAllocator<Lock>::BlockContainingLive(uintptr_t addr) const {
  const uint32_t regions = published_regions_.Load(std::memory_order_acquire);
  const Region* region = nullptr;
  for (uint32_t i = 0; i < regions && region == nullptr; ++i) {
    if (regions_[i].Holds(addr)) region = &regions_[i];
  }
  LICHEN_ASSERT(region != nullptr, "{:#x} is outside every memory region (foreign pointer)", addr);
  return SearchBlock(*region, addr);
}

template <typename Lock>
PageBlock BasicPageAllocator<Lock>::SearchBlock(const Region& region, uintptr_t addr) {
  // Every block is aligned to its size, so the block holding `addr` starts at `addr` rounded
  // down to OrderBytes(k) for its order k. For smaller orders that candidate is either an
  // interior page or the block's first page with a different order, so the first candidate
  // whose state names its own order is the block.
  const uintptr_t page = addr & ~(kPageSize - 1);
  for (uint32_t order = 0; order <= kMaxOrder; ++order) {
    const uintptr_t head = page & ~(OrderBytes(order) - 1);
    if (head < region.usable) break;
    const uint8_t state = region.LoadState(head);
    if ((state & ~kTagMask) == (kUsedHead | order)) {
      return PageBlock{head, order, static_cast<uint8_t>((state & kTagMask) >> kTagShift)};
    }
    LICHEN_ASSERT(state != (kFreeHead | order), "{:#x} lies in a free block ({:#x}, order {})",
                  addr, head, order);
  }
  LICHEN_PANIC("{:#x} lies in no allocated block (bookkeeping page, or corrupted state)", addr);
}

template <typename Lock>
bool BasicPageAllocator<Lock>::Contains(uintptr_t addr) const {
  LockGuard<Lock> guard(lock_);
  return FindRegion(addr) != nullptr;
}

template <typename Lock>
size_t BasicPageAllocator<Lock>::FreeBytes() const {
  LockGuard<Lock> guard(lock_);
  return free_bytes_;
}

template <typename Lock>
size_t BasicPageAllocator<Lock>::TotalBytes() const {
  LockGuard<Lock> guard(lock_);
  return total_bytes_;
}

template <typename Lock>
PageAllocatorStats BasicPageAllocator<Lock>::Stats() const {
  LockGuard<Lock> guard(lock_);
  PageAllocatorStats stats;
  stats.total_bytes = total_bytes_;
  stats.free_bytes = free_bytes_;
  stats.metadata_bytes = metadata_bytes_;
  stats.regions = region_count_;
  for (uint32_t order = 0; order <= kMaxOrder; ++order) {
    stats.free_blocks[order] = free_[order].Size();
  }
  stats.allocations = allocations_;
  stats.frees = frees_;
  stats.failed_allocations = failed_allocations_;
  return stats;
}

template <typename Lock>
void BasicPageAllocator<Lock>::CheckInvariants() const {
  LockGuard<Lock> guard(lock_);
  size_t free_heads[kOrderCount] = {};
  size_t free_bytes = 0;
  size_t total_bytes = 0;
  for (uint32_t i = 0; i < region_count_; ++i) {
    const Region& region = regions_[i];
    for (uintptr_t page = region.base; page < region.usable; page += kPageSize) {
      LICHEN_ASSERT(region.StateOf(page) == kReserved, "state page {:#x} is {}", page,
                    KindName(region.StateOf(page)));
    }
    // The usable part is a sequence of blocks, each a head followed by interior pages.
    for (uintptr_t block = region.usable; block < region.end;) {
      const uint8_t state = region.StateOf(block);
      const uint8_t kind = state & kKindMask;
      const uint32_t order = state & kOrderMask;
      LICHEN_ASSERT(kind == kFreeHead || kind == kUsedHead, "page {:#x} should start a block: {}",
                    block, KindName(state));
      LICHEN_ASSERT(kind == kUsedHead || (state & kTagMask) == 0, "free block {:#x} has a tag",
                    block);
      LICHEN_ASSERT(order <= kMaxOrder, "block {:#x} has order {}", block, order);
      LICHEN_ASSERT((block & (OrderBytes(order) - 1)) == 0 && region.HoldsBlock(block, order),
                    "block {:#x} of order {} is misaligned or overruns its region", block, order);
      for (uintptr_t page = block + kPageSize; page < block + OrderBytes(order);
           page += kPageSize) {
        LICHEN_ASSERT(region.StateOf(page) == kInterior, "page {:#x} inside block {:#x} is {}",
                      page, block, KindName(region.StateOf(page)));
      }
      if (kind == kFreeHead) {
        ++free_heads[order];
        free_bytes += OrderBytes(order);
        if (order < kMaxOrder) {
          const uintptr_t buddy = block ^ OrderBytes(order);
          LICHEN_ASSERT(
              !region.HoldsBlock(buddy, order) || region.StateOf(buddy) != (kFreeHead | order),
              "free block {:#x} and its buddy {:#x} (order {}) were not coalesced", block, buddy,
              order);
        }
      }
      total_bytes += OrderBytes(order);
      block += OrderBytes(order);
    }
  }
  for (uint32_t order = 0; order <= kMaxOrder; ++order) {
    LICHEN_ASSERT(free_heads[order] == free_[order].Size(),
                  "order {}: {} free blocks in the state arrays, {} on the free list", order,
                  free_heads[order], free_[order].Size());
    for (const FreeBlock& node : free_[order]) {
      const uintptr_t addr = reinterpret_cast<uintptr_t>(&node);
      const Region* region = FindRegion(addr);
      LICHEN_ASSERT(region != nullptr && region->StateOf(addr) == (kFreeHead | order),
                    "free list of order {} holds {:#x}, which is not a free block of that order",
                    order, addr);
    }
  }
  LICHEN_ASSERT(free_bytes == free_bytes_, "free bytes: counted {}, recorded {}", free_bytes,
                free_bytes_);
  LICHEN_ASSERT(total_bytes == total_bytes_, "total bytes: counted {}, recorded {}", total_bytes,
                total_bytes_);
}

template <typename Lock>
auto BasicPageAllocator<Lock>::FindRegion(uintptr_t addr) const -> const Region* {
  for (uint32_t i = 0; i < region_count_; ++i) {
    if (regions_[i].Holds(addr)) return &regions_[i];
  }
  return nullptr;
}

template <typename Lock>
void BasicPageAllocator<Lock>::PushFree(const Region& region, uintptr_t addr, uint32_t order) {
  // Only the link is addressable in a free block; the rest stays poisoned.
  UnpoisonRange(addr, sizeof(FreeBlock));
  FreeBlock* node = new (reinterpret_cast<void*>(addr)) FreeBlock{};
  region.StateOf(addr) = static_cast<uint8_t>(kFreeHead | order);
  free_[order].PushFront(*node);
}

template <typename Lock>
void BasicPageAllocator<Lock>::RemoveFree(const Region& region, uintptr_t addr, uint32_t order) {
  LICHEN_DEBUG_ASSERT(region.StateOf(addr) == (kFreeHead | order),
                      "page allocator: {:#x} is on the order-{} free list but its state is {}",
                      addr, order, KindName(region.StateOf(addr)));
  free_[order].Remove(*reinterpret_cast<FreeBlock*>(addr));
  region.StateOf(addr) = kInterior;
  PoisonRange(addr, sizeof(FreeBlock));
}

template <typename Lock>
const char* BasicPageAllocator<Lock>::KindName(uint8_t state) {
  switch (state & kKindMask) {
    case kInterior:
      return "inside a block";
    case kFreeHead:
      return "start of a free block";
    case kUsedHead:
      return "start of an allocated block";
    default:
      return "bookkeeping";
  }
}

}  // namespace lichen::mm

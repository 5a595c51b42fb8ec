// The kernel heap: small objects from slabs of one size class, large ones as whole pages.
//
// Size classes are the powers of two 16 .. 2048 bytes. A request of `bytes` aligned to
// `align` is served from the smallest class >= max(bytes, align, 16); anything larger gets a
// block of 2^k pages straight from the page allocator. A slab is one page-allocator block
// (4 KiB for classes up to 512 bytes, 8 and 16 KiB for 1024 and 2048, so every slab holds at
// least 8 slots) whose first slot(s) hold a header: the class, a count, the slab's list link
// and a bitmap with one bit per slot. Objects sit at multiples of their class size from the
// slab's start, which is aligned to the slab size, so every object is aligned to its class:
// that is how alignments up to the class size, and with whole pages up to 4096, are met.
//
// Free(p) needs no size. The page allocator's per-page state gives the allocated block that
// contains p and the tag the heap gave it (BlockContaining): a large allocation is that whole
// block; in a slab, p's slot follows from its offset. The slot bitmap catches double frees and
// pointers that are not the start of an object; the tag catches pointers into pages the heap
// never allocated. Slabs with a free slot are on their class's partial list; one empty slab
// per class is kept to absorb alloc/free ping-pong, further empty slabs go back to the page
// allocator at once, and Trim() returns the kept ones.
//
// THE LOCK MASKS IRQs. The seed's kernel deadlocked because its heap lock did not: an
// interrupt arrived while a task held the heap lock, the handler allocated, and the CPU spun
// forever on a lock it held itself. Heap = BasicHeap<SpinLock> saves and masks IRQs for every
// operation, so Alloc and Free are safe from interrupt handlers. The lock type is a template
// parameter only so that a regression scenario can instantiate the naive design
// (BasicHeap<IrqUnsafeLock>) and show the deadlock; see kernel/mm/mm_lock.h and
// docs/memory.md. The heap calls the page allocator with its lock held (the page allocator
// never calls the heap); the lock order is kernel/lock/rank.h.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>

#include "kernel/lock/lockdep.h"
#include "kernel/lock/spinlock.h"
#include "kernel/mm/mm_lock.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/mm/poison.h"
#include "lib/assert.h"
#include "lib/list.h"
#include "lib/result.h"
#include "lib/thread_annotations.h"

namespace lichen::mm {

// The smallest size class; also the default alignment of Alloc.
inline constexpr size_t kMinObjectBytes = 16;
// The largest size class; larger requests are served by whole pages.
inline constexpr size_t kMaxSmallBytes = 2048;
// Number of size classes: 16, 32, 64, 128, 256, 512, 1024, 2048.
inline constexpr uint32_t kSizeClassCount = 8;
// The largest alignment Alloc accepts.
inline constexpr size_t kMaxAlign = kPageSize;

static_assert(kMinObjectBytes << (kSizeClassCount - 1) == kMaxSmallBytes);

// Object size of class `size_class`.
constexpr size_t ClassBytes(uint32_t size_class) {
  return kMinObjectBytes << size_class;
}

// Page order of a slab of `size_class`: at least one page, and at least 8 slots.
constexpr uint32_t SlabOrder(uint32_t size_class) {
  const size_t bytes = 8 * ClassBytes(size_class);
  return OrderForBytes(bytes < kPageSize ? kPageSize : bytes);
}

// Counters of one size class.
struct HeapClassStats {
  size_t object_bytes = 0;    // the class's object size
  size_t objects_in_use = 0;  // live objects
  size_t slabs = 0;           // slabs held (full, partial and the kept empty one)
  size_t capacity = 0;        // object slots in those slabs
  uint64_t allocations = 0;   // successful Alloc calls served by this class
  uint64_t frees = 0;         // Free calls of this class's objects
  // CachedHeap only: objects of the class in per-CPU magazines and the depot. They are free
  // to the heap's users but allocated in their slabs; objects_in_use excludes them, and
  // allocations/frees count the slab layer's traffic (batches of refills and flushes).
  size_t cached_objects = 0;
};

// A snapshot of the heap's counters, taken under its lock.
struct HeapStats {
  size_t bytes_in_use = 0;          // live objects' class sizes plus live large blocks' bytes
  size_t large_bytes = 0;           // bytes of live large allocations (whole blocks)
  size_t large_allocations = 0;     // live large allocations
  size_t slab_bytes = 0;            // bytes of page blocks held as slabs
  uint64_t failed_allocations = 0;  // Alloc calls that returned an error
  HeapClassStats classes[kSizeClassCount] = {};
  // CachedHeap only (zero for BasicHeap): see kernel/mm/heap_cache.h.
  size_t cached_bytes = 0;         // bytes of objects and large blocks held in the caches
  size_t cached_large_blocks = 0;  // large blocks among them (excluded from large_*)
  uint64_t cache_hits = 0;         // Alloc and Free calls served by a CPU's magazines alone
  uint64_t cache_refills = 0;      // magazines filled from the depot or the slabs (a lock)
  uint64_t cache_flushes = 0;      // magazines handed to the depot or the slabs (a lock)
};

template <typename Lock, typename PageAlloc>
class BasicCachedHeap;

template <typename Lock, typename PageAlloc = BasicPageAllocator<Lock>>
class BasicHeap {
 public:
  // A heap that takes its pages from `pages`, which must outlive it.
  explicit BasicHeap(PageAlloc& pages) : pages_(pages) {}
  // Returns the slabs it still holds (all must be empty: live objects are a panic) to the page
  // allocator. Only tests destroy a heap.
  ~BasicHeap();
  BasicHeap(const BasicHeap&) = delete;
  BasicHeap& operator=(const BasicHeap&) = delete;

  // `bytes` of memory aligned to `align` (a power of two, at most kMaxAlign); 0 bytes count as
  // 1. kInvalidArgument for a bad alignment; kNoMemory when the page allocator has no block
  // for it even after the heap returned its empty slabs. Safe from interrupt handlers.
  Result<void*> Alloc(size_t bytes, size_t align = kMinObjectBytes) TA_EXCL(lock_);

  // Frees what Alloc returned; nullptr is ignored. Panics on a pointer the heap did not hand
  // out (foreign, inside an object, or already freed). Safe from interrupt handlers.
  void Free(void* ptr) TA_EXCL(lock_);

  // A T constructed in heap memory from `args`. T's alignment must be at most kMaxAlign.
  template <typename T, typename... Args>
  Result<T*> New(Args&&... args) TA_EXCL(lock_);

  // Destroys and frees an object from New(); nullptr is ignored.
  template <typename T>
  void Delete(T* object) TA_EXCL(lock_);

  // Bytes reserved for a live allocation: its class size, or its block's size when large.
  size_t AllocationBytes(const void* ptr) const TA_EXCL(lock_);

  // Bytes Alloc(bytes, align) reserves, or 0 when it could never succeed (bad alignment, or
  // larger than the largest page block).
  static constexpr size_t ReservedBytes(size_t bytes, size_t align);

  // Returns every empty slab to the page allocator; returns the bytes released.
  size_t Trim() TA_EXCL(lock_);

  // For the per-CPU caches (kernel/mm/heap_cache.h), which move objects in batches so that
  // the lock is taken once per magazine instead of once per object.
  //
  // Up to `count` objects as Alloc(bytes) would return them (`bytes` a size class, or a
  // block size of the large path), taken under one lock hold into `out`; returns how many
  // (fewer only when memory ran out). Failures are not counted: the caller decides whether
  // its Alloc failed.
  uint32_t AllocBatch(size_t bytes, void** out, uint32_t count) TA_EXCL(lock_);
  // Free() of `count` objects under one lock hold, with Free's checks.
  void FreeBatch(void* const* objects, uint32_t count) TA_EXCL(lock_);
  // Counts one failed allocation of a caller that went through AllocBatch.
  void NoteFailedAllocation() TA_EXCL(lock_);

  // Live objects' class sizes plus live large blocks (the heap's view of "in use").
  size_t BytesInUse() const TA_EXCL(lock_);

  // All counters at one instant.
  HeapStats Stats() const TA_EXCL(lock_);

  // Walks every slab on the partial lists and checks its header, bitmap and counts against the
  // heap's counters; panics on the first inconsistency. For tests.
  void CheckInvariants() const TA_EXCL(lock_);

  // The lock itself, for hang reports (SpinLock::Peek); never to be taken through this.
  const Lock& lock_for_reports() const TA_RET_CAP(lock_) { return lock_; }

 private:
  // The per-CPU caches read slab headers and tags to find a freed object's class without the
  // lock (kernel/mm/heap_cache.h).
  template <typename, typename>
  friend class BasicCachedHeap;

  // Header at the start of every slab block; slots that overlap it are never handed out.
  struct Slab {
    ListNode node;        // on partial_[size_class] while a slot is free
    uint32_t magic;       // kSlabMagic while the block is a slab
    uint8_t size_class;   // index into the size classes
    uint8_t order;        // page order of the slab block
    uint16_t in_use;      // allocated slots
    uint16_t first_slot;  // first slot past the header
    uint16_t slot_count;  // slots in the block, header slots included
    uint64_t used[4];     // bit per slot: 1 = allocated, header, or past the end
  };
  using SlabList = IntrusiveList<Slab, &Slab::node>;
  static_assert(sizeof(Slab) <= 64, "the slab header should fit one 64-byte slot");
  // Slab::magic of a live slab; cleared when the slab's block goes back to the page allocator.
  static constexpr uint32_t kSlabMagic = 0x5eab5eab;
  // Bits in Slab::used: the most slots a slab may have (256 16-byte slots in 4 KiB).
  static constexpr uint32_t kBitmapBits = 64 * 4;
  // Page tags of the heap's blocks (PageBlock::tag): how Free() tells them apart.
  static constexpr uint8_t kSlabTag = 1;
  static constexpr uint8_t kLargeTag = 2;
  // True when every class's slab has at most kBitmapBits slots.
  static constexpr bool SlotsFitBitmap() {
    for (uint32_t c = 0; c < kSizeClassCount; ++c) {
      if (OrderBytes(SlabOrder(c)) / ClassBytes(c) > kBitmapBits) return false;
    }
    return true;
  }
  static_assert(SlotsFitBitmap(), "a slab has more slots than its bitmap has bits");

  // Size class of a small request, or kSizeClassCount when it is served by whole pages.
  static constexpr uint32_t ClassFor(size_t bytes, size_t align);
  // One object of `size_class`; takes a new slab when no slab of the class has a free slot.
  Result<void*> AllocSmall(uint32_t size_class) TA_REQ(lock_);
  // A large allocation: a block of 2^order pages.
  Result<void*> AllocLarge(uint32_t order) TA_REQ(lock_);
  // A page block tagged `tag`, retrying once after Trim when the page allocator is out of
  // memory.
  Result<uintptr_t> AllocPagesOrTrim(uint32_t order, uint8_t tag) TA_REQ(lock_);
  // Free() with the lock held.
  void FreeLocked(uintptr_t addr) TA_REQ(lock_);
  // Frees one slab object, after validating the pointer against the slab's header.
  void FreeSmall(Slab& slab, uintptr_t addr) TA_REQ(lock_);
  // Returns an empty slab's block to the page allocator.
  void ReleaseSlab(Slab& slab) TA_REQ(lock_);
  // Returns every empty slab; the bytes released.
  size_t TrimLocked() TA_REQ(lock_);

  // One lockdep class for every heap of this type: they all play the same role.
  static inline constinit lockdep::LockClass lock_class_{"mm.heap", LockRank::kHeap};

  // Where slabs and large blocks come from.
  PageAlloc& pages_;
  // Guards the slabs (headers, bitmaps, lists) and every counter below. The page allocator's
  // lock nests inside it, never the reverse; nothing else is taken while it is held.
  mutable Lock lock_{lock_class_};
  SlabList partial_[kSizeClassCount] TA_GUARDED(lock_);         // slabs with a free slot, per class
  size_t empty_slabs_[kSizeClassCount] TA_GUARDED(lock_) = {};  // empty slabs kept per class
  // The counters behind Stats(); see HeapStats (object_bytes is filled in by Stats()).
  HeapClassStats classes_[kSizeClassCount] TA_GUARDED(lock_) = {};
  size_t large_bytes_ TA_GUARDED(lock_) = 0;
  size_t large_allocations_ TA_GUARDED(lock_) = 0;
  uint64_t failed_allocations_ TA_GUARDED(lock_) = 0;
};

// The kernel heap: IRQ-saving lock over the kernel's page allocator.
using Heap = BasicHeap<SpinLock>;

extern template class BasicHeap<SpinLock>;
extern template class BasicHeap<IrqUnsafeLock>;

// ---------------------------------------------------------------------------------------------
// Implementation.

template <typename Lock, typename PageAlloc>
BasicHeap<Lock, PageAlloc>::~BasicHeap() {
  LockGuard<Lock> guard(lock_);
  TrimLocked();
  for (uint32_t c = 0; c < kSizeClassCount; ++c) {
    LICHEN_ASSERT(classes_[c].objects_in_use == 0 && classes_[c].slabs == 0,
                  "heap destroyed with {} live objects of {} bytes", classes_[c].objects_in_use,
                  ClassBytes(c));
  }
  LICHEN_ASSERT(large_allocations_ == 0, "heap destroyed with {} live large allocations",
                large_allocations_);
}

template <typename Lock, typename PageAlloc>
constexpr uint32_t BasicHeap<Lock, PageAlloc>::ClassFor(size_t bytes, size_t align) {
  size_t need = bytes > align ? bytes : align;
  if (need > kMaxSmallBytes) return kSizeClassCount;
  if (need < kMinObjectBytes) need = kMinObjectBytes;
  // need in (16 << (c-1), 16 << c]  =>  class c.
  return static_cast<uint32_t>(std::bit_width(need - 1)) - std::countr_zero(kMinObjectBytes);
}

template <typename Lock, typename PageAlloc>
constexpr size_t BasicHeap<Lock, PageAlloc>::ReservedBytes(size_t bytes, size_t align) {
  if (align == 0 || !std::has_single_bit(align) || align > kMaxAlign) return 0;
  const uint32_t size_class = ClassFor(bytes, align);
  if (size_class < kSizeClassCount) return ClassBytes(size_class);
  const uint32_t order = OrderForBytes(bytes);
  return order <= kMaxOrder ? OrderBytes(order) : 0;
}

template <typename Lock, typename PageAlloc>
Result<void*> BasicHeap<Lock, PageAlloc>::Alloc(size_t bytes, size_t align) {
  LockGuard<Lock> guard(lock_);
  if (align == 0 || !std::has_single_bit(align) || align > kMaxAlign) {
    ++failed_allocations_;
    return Error::kInvalidArgument;
  }
  const uint32_t size_class = ClassFor(bytes, align);
  Result<void*> result =
      size_class < kSizeClassCount ? AllocSmall(size_class) : AllocLarge(OrderForBytes(bytes));
  if (!result.ok()) ++failed_allocations_;
  return result;
}

template <typename Lock, typename PageAlloc>
Result<void*> BasicHeap<Lock, PageAlloc>::AllocSmall(uint32_t size_class) {
  const size_t object_bytes = ClassBytes(size_class);
  Slab* slab = partial_[size_class].Front();
  if (slab == nullptr) {
    const uint32_t order = SlabOrder(size_class);
    const uintptr_t base = LICHEN_TRY(AllocPagesOrTrim(order, kSlabTag));
    slab = new (reinterpret_cast<void*>(base)) Slab{};
    slab->magic = kSlabMagic;
    slab->size_class = static_cast<uint8_t>(size_class);
    slab->order = static_cast<uint8_t>(order);
    slab->first_slot = static_cast<uint16_t>((sizeof(Slab) + object_bytes - 1) / object_bytes);
    slab->slot_count = static_cast<uint16_t>(OrderBytes(order) / object_bytes);
    // Header slots and the bits past the last slot read as allocated, so a search for a
    // clear bit only ever finds a real free slot.
    for (uint32_t bit = 0; bit < kBitmapBits; ++bit) {
      if (bit < slab->first_slot || bit >= slab->slot_count) {
        slab->used[bit / 64] |= uint64_t{1} << (bit % 64);
      }
    }
    PoisonRange(base + sizeof(Slab), OrderBytes(order) - sizeof(Slab));
    partial_[size_class].PushFront(*slab);
    ++empty_slabs_[size_class];
    ++classes_[size_class].slabs;
    classes_[size_class].capacity += slab->slot_count - slab->first_slot;
  }

  uint32_t slot = kBitmapBits;
  for (uint32_t word = 0; word < 4; ++word) {
    if (slab->used[word] != ~uint64_t{0}) {
      slot = word * 64 + static_cast<uint32_t>(std::countr_one(slab->used[word]));
      break;
    }
  }
  LICHEN_ASSERT(slot < slab->slot_count, "heap: slab {:#x} on the partial list has no free slot",
                reinterpret_cast<uintptr_t>(slab));
  slab->used[slot / 64] |= uint64_t{1} << (slot % 64);
  if (slab->in_use++ == 0) --empty_slabs_[size_class];
  if (slab->in_use == slab->slot_count - slab->first_slot) partial_[size_class].Remove(*slab);
  ++classes_[size_class].objects_in_use;
  ++classes_[size_class].allocations;

  const uintptr_t addr = reinterpret_cast<uintptr_t>(slab) + slot * object_bytes;
  UnpoisonRange(addr, object_bytes);
  return reinterpret_cast<void*>(addr);
}

template <typename Lock, typename PageAlloc>
Result<void*> BasicHeap<Lock, PageAlloc>::AllocLarge(uint32_t order) {
  if (order > kMaxOrder) return Error::kNoMemory;
  const uintptr_t base = LICHEN_TRY(AllocPagesOrTrim(order, kLargeTag));
  large_bytes_ += OrderBytes(order);
  ++large_allocations_;
  return reinterpret_cast<void*>(base);
}

template <typename Lock, typename PageAlloc>
Result<uintptr_t> BasicHeap<Lock, PageAlloc>::AllocPagesOrTrim(uint32_t order, uint8_t tag) {
  Result<uintptr_t> block = pages_.AllocPages(order, tag);
  if (block.ok() || block.error() != Error::kNoMemory) return block;
  if (TrimLocked() == 0) return block;
  return pages_.AllocPages(order, tag);
}

template <typename Lock, typename PageAlloc>
void BasicHeap<Lock, PageAlloc>::Free(void* ptr) {
  if (ptr == nullptr) return;
  LockGuard<Lock> guard(lock_);
  FreeLocked(reinterpret_cast<uintptr_t>(ptr));
}

template <typename Lock, typename PageAlloc>
uint32_t BasicHeap<Lock, PageAlloc>::AllocBatch(size_t bytes, void** out, uint32_t count) {
  const uint32_t size_class = ClassFor(bytes, kMinObjectBytes);
  const uint32_t order = OrderForBytes(bytes);
  LockGuard<Lock> guard(lock_);
  for (uint32_t i = 0; i < count; ++i) {
    Result<void*> result =
        size_class < kSizeClassCount ? AllocSmall(size_class) : AllocLarge(order);
    if (!result.ok()) return i;
    out[i] = result.value();
  }
  return count;
}

template <typename Lock, typename PageAlloc>
void BasicHeap<Lock, PageAlloc>::FreeBatch(void* const* objects, uint32_t count) {
  LockGuard<Lock> guard(lock_);
  for (uint32_t i = 0; i < count; ++i)
    FreeLocked(reinterpret_cast<uintptr_t>(objects[i]));
}

template <typename Lock, typename PageAlloc>
void BasicHeap<Lock, PageAlloc>::NoteFailedAllocation() {
  LockGuard<Lock> guard(lock_);
  ++failed_allocations_;
}

template <typename Lock, typename PageAlloc>
void BasicHeap<Lock, PageAlloc>::FreeLocked(uintptr_t addr) {
  // Under the heap lock, so that the block cannot stop being a slab in between.
  const PageBlock block = pages_.BlockContaining(addr);
  if (block.tag == kLargeTag) {
    LICHEN_ASSERT(addr == block.base,
                  "heap Free({:#x}): pointer inside a large allocation at {:#x}", addr, block.base);
    large_bytes_ -= OrderBytes(block.order);
    --large_allocations_;
    pages_.FreePages(block.base, block.order, kLargeTag);
    return;
  }
  LICHEN_ASSERT(block.tag == kSlabTag, "heap Free({:#x}): pages the heap did not allocate", addr);
  Slab& slab = *reinterpret_cast<Slab*>(block.base);
  LICHEN_ASSERT(slab.magic == kSlabMagic && slab.order == block.order,
                "heap Free({:#x}): slab {:#x} has a corrupted header", addr, block.base);
  FreeSmall(slab, addr);
}

template <typename Lock, typename PageAlloc>
void BasicHeap<Lock, PageAlloc>::FreeSmall(Slab& slab, uintptr_t addr) {
  const uint32_t size_class = slab.size_class;
  const size_t object_bytes = ClassBytes(size_class);
  const uintptr_t offset = addr - reinterpret_cast<uintptr_t>(&slab);
  LICHEN_ASSERT(offset % object_bytes == 0 && offset / object_bytes >= slab.first_slot,
                "heap Free({:#x}): not the start of a {}-byte object", addr, object_bytes);
  const uint32_t slot = static_cast<uint32_t>(offset / object_bytes);
  const uint64_t bit = uint64_t{1} << (slot % 64);
  LICHEN_ASSERT((slab.used[slot / 64] & bit) != 0,
                "heap Free({:#x}): double free of a {}-byte object", addr, object_bytes);

  const bool was_full = slab.in_use == slab.slot_count - slab.first_slot;
  slab.used[slot / 64] &= ~bit;
  --slab.in_use;
  --classes_[size_class].objects_in_use;
  ++classes_[size_class].frees;
  PoisonRange(addr, object_bytes);
  if (was_full) partial_[size_class].PushFront(slab);
  if (slab.in_use == 0) {
    // Keep one empty slab per class; more go back to the page allocator.
    if (empty_slabs_[size_class] > 0) {
      ReleaseSlab(slab);
    } else {
      ++empty_slabs_[size_class];
    }
  }
}

template <typename Lock, typename PageAlloc>
void BasicHeap<Lock, PageAlloc>::ReleaseSlab(Slab& slab) {
  LICHEN_ASSERT(slab.in_use == 0, "heap: releasing a slab with {} live objects", slab.in_use);
  const uint32_t size_class = slab.size_class;
  const uint32_t order = slab.order;
  partial_[size_class].Remove(slab);
  --classes_[size_class].slabs;
  classes_[size_class].capacity -= slab.slot_count - slab.first_slot;
  slab.magic = 0;
  pages_.FreePages(reinterpret_cast<uintptr_t>(&slab), order, kSlabTag);
}

template <typename Lock, typename PageAlloc>
size_t BasicHeap<Lock, PageAlloc>::TrimLocked() {
  size_t released = 0;
  for (uint32_t c = 0; c < kSizeClassCount; ++c) {
    if (empty_slabs_[c] == 0) continue;
    // Empty slabs are on the partial list; the list is short (at most one empty slab is kept).
    for (Slab* slab = partial_[c].Front(); slab != nullptr;) {
      Slab* next = partial_[c].Next(*slab);
      if (slab->in_use == 0) {
        released += OrderBytes(slab->order);
        ReleaseSlab(*slab);
        --empty_slabs_[c];
      }
      slab = next;
    }
  }
  return released;
}

template <typename Lock, typename PageAlloc>
size_t BasicHeap<Lock, PageAlloc>::Trim() {
  LockGuard<Lock> guard(lock_);
  return TrimLocked();
}

template <typename Lock, typename PageAlloc>
template <typename T, typename... Args>
Result<T*> BasicHeap<Lock, PageAlloc>::New(Args&&... args) {
  static_assert(alignof(T) <= kMaxAlign, "BasicHeap::New: alignment above kMaxAlign");
  void* memory = LICHEN_TRY(Alloc(sizeof(T), alignof(T)));
  return new (memory) T(static_cast<Args&&>(args)...);
}

template <typename Lock, typename PageAlloc>
template <typename T>
void BasicHeap<Lock, PageAlloc>::Delete(T* object) {
  if (object == nullptr) return;
  object->~T();
  Free(object);
}

template <typename Lock, typename PageAlloc>
size_t BasicHeap<Lock, PageAlloc>::AllocationBytes(const void* ptr) const {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(ptr);
  LockGuard<Lock> guard(lock_);
  const PageBlock block = pages_.BlockContaining(addr);
  if (block.tag == kLargeTag) return OrderBytes(block.order);
  LICHEN_ASSERT(block.tag == kSlabTag, "AllocationBytes({:#x}): not a heap pointer", addr);
  const Slab& slab = *reinterpret_cast<const Slab*>(block.base);
  return ClassBytes(slab.size_class);
}

template <typename Lock, typename PageAlloc>
size_t BasicHeap<Lock, PageAlloc>::BytesInUse() const {
  LockGuard<Lock> guard(lock_);
  size_t bytes = large_bytes_;
  for (uint32_t c = 0; c < kSizeClassCount; ++c)
    bytes += classes_[c].objects_in_use * ClassBytes(c);
  return bytes;
}

template <typename Lock, typename PageAlloc>
HeapStats BasicHeap<Lock, PageAlloc>::Stats() const {
  LockGuard<Lock> guard(lock_);
  HeapStats stats;
  stats.large_bytes = large_bytes_;
  stats.large_allocations = large_allocations_;
  stats.failed_allocations = failed_allocations_;
  stats.bytes_in_use = large_bytes_;
  for (uint32_t c = 0; c < kSizeClassCount; ++c) {
    stats.classes[c] = classes_[c];
    stats.classes[c].object_bytes = ClassBytes(c);
    stats.bytes_in_use += classes_[c].objects_in_use * ClassBytes(c);
    stats.slab_bytes += classes_[c].slabs * OrderBytes(SlabOrder(c));
  }
  return stats;
}

template <typename Lock, typename PageAlloc>
void BasicHeap<Lock, PageAlloc>::CheckInvariants() const {
  LockGuard<Lock> guard(lock_);
  for (uint32_t c = 0; c < kSizeClassCount; ++c) {
    size_t empty = 0;
    size_t free_slots = 0;
    for (const Slab& slab : partial_[c]) {
      const uintptr_t base = reinterpret_cast<uintptr_t>(&slab);
      LICHEN_ASSERT(slab.magic == kSlabMagic && slab.size_class == c && slab.order == SlabOrder(c),
                    "slab {:#x} on the class-{} list has a bad header", base, c);
      const PageBlock block = pages_.BlockContaining(base);
      LICHEN_ASSERT(block.base == base && block.order == slab.order && block.tag == kSlabTag,
                    "slab {:#x} is not an allocated slab block of its order", base);
      uint32_t set = 0;
      for (uint64_t word : slab.used)
        set += static_cast<uint32_t>(std::popcount(word));
      const uint32_t sentinels = slab.first_slot + (kBitmapBits - slab.slot_count);
      LICHEN_ASSERT(set == sentinels + slab.in_use,
                    "slab {:#x}: bitmap has {} bits set, expected {} + {} in use", base, set,
                    sentinels, slab.in_use);
      LICHEN_ASSERT(slab.in_use < slab.slot_count - slab.first_slot,
                    "full slab {:#x} is on the partial list", base);
      if (slab.in_use == 0) ++empty;
      free_slots += slab.slot_count - slab.first_slot - slab.in_use;
    }
    LICHEN_ASSERT(empty == empty_slabs_[c] && empty <= 1,
                  "class {}: {} empty slabs on the list, {} recorded", c, empty, empty_slabs_[c]);
    // Full slabs are on no list; the counters account for them.
    LICHEN_ASSERT(classes_[c].capacity - classes_[c].objects_in_use == free_slots,
                  "class {}: {} free slots on the partial list, counters say {}", c, free_slots,
                  classes_[c].capacity - classes_[c].objects_in_use);
  }
}

}  // namespace lichen::mm

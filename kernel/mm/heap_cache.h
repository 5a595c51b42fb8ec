// Per-CPU object caches (magazines) in front of the kernel heap.
//
// BasicHeap has one lock, and every Alloc and Free took it: from every CPU, and from every
// CPU's interrupt handlers. Under vCPU overcommit (8 vCPUs on 2 host cores) a fair ticket
// lock degrades into a convoy: every handoff waits for the host to run the one vCPU whose
// ticket is next, while the others spin with IRQs masked. The -smp 8 heap_alloc_in_irq hang
// was exactly that (docs/memory.md, "The -smp 8 hang"): about 40 acquisitions a second, with
// the lock never stuck. BasicCachedHeap puts per-CPU caches in front of the heap, after
// Bonwick's magazines (Bonwick and Adams, "Magazines and Vmem", USENIX 2001) and Linux's SLUB
// per-CPU slabs, so that the common Alloc and Free touch only this CPU's state:
//
//   Alloc / Free  --(IRQs masked, no lock)-->  this CPU's magazines: per cache class, a loaded
//                                              and a previous magazine (arrays of objects)
//                 --(depot lock, O(1))------>  the depot: per class, a few full magazines,
//                                              chained through the objects themselves
//                 --(heap lock, one batch)-->  BasicHeap: slabs and large page blocks
//
// Cache classes are the heap's 8 size classes and the large blocks of orders 0..2 (4, 8 and
// 16 KiB): what a kernel allocates often. Bigger requests and unusual alignments go straight
// to BasicHeap, as before.
//
// Alloc pops from the loaded magazine; when it is empty and the previous one is not, the two
// swap; when both are empty, the loaded one is refilled with a full magazine from the depot,
// or failing that with a batch from BasicHeap (one lock hold for the whole batch). Free pushes
// onto the loaded magazine; when it is full and the previous one is empty they swap; when both
// are full, the previous one goes to the depot (or, with the depot full, back to the slabs in
// one batch) and the two swap. So a CPU takes a shared lock at most once per magazine-full of
// operations, and never when it allocates and frees at about the same rate. An object freed on
// another CPU than the one that allocated it simply joins that CPU's magazines; full
// magazines travel between CPUs through the depot.
//
// OWNERSHIP. A CPU's magazines are a PerCpu<T>: reachable only by that CPU, with IRQs masked
// (an IrqGuard around each operation), exactly like the scheduler's state. An interrupt
// handler allocating on the same CPU therefore runs before or after the task's operation,
// never inside it. Nothing but the owner reads them; what other CPUs need (how many objects a
// CPU caches, for the byte counts) is published in relaxed atomics that only the owner
// writes.
//
// FREE WITHOUT A LOCK. Free(p) needs p's class, which its page block says. The page allocator's
// BlockContainingLive reads the block's state bytes without the page lock: exact because the
// caller owns a live object in the block, so the block cannot be freed or merged meanwhile.
// The slab header's class and layout never change while the slab lives.
//
// DEBUG CHECKS, adapted. An object in a cache is still allocated in its slab, so the slab's
// bitmap can no longer see a double free. Instead every object in a magazine or the depot
// carries a marker in its first word (kCachedMarker ^ its address): Free of an object that
// carries it is a double free, and an object whose marker changed while it sat in a cache was
// written after it was freed; both panic. A live object has the marker only if its owner
// wrote exactly that 64-bit value at its start. Under ASan the bytes past the first 16 of a
// cached object are poisoned (the first 16 hold the marker and the depot's chain link), and an
// object that went back to its slab is poisoned whole, so its double free goes to BasicHeap's
// checks. Foreign pointers, interior pointers and pointers into free pages panic as before.
//
// ACCOUNTING. Cached objects count as free: BytesInUse and Stats subtract them, so the numbers
// mean what they meant for BasicHeap whenever no CPU is in the middle of an operation. What
// one CPU caches stays there until that CPU frees or drains: another CPU cannot take it (the
// price of owner-only state), so Alloc may report kNoMemory while up to
// kMaxCpus * 2 * MagazineCapacity objects of a class sit in other CPUs' caches. Before it
// does, it empties the depot and retries once. Trim() drains the calling CPU's caches and the
// depot; DrainThisCpu() the calling CPU's alone.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/base/irq_state.h"
#include "kernel/base/percpu.h"
#include "kernel/lock/lockdep.h"
#include "kernel/lock/spinlock.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/page_alloc.h"
#include "kernel/mm/poison.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/result.h"
#include "lib/thread_annotations.h"

namespace lichen::mm {

// Large blocks of orders 0 .. kCachedLargeOrders - 1 are cached too (4, 8, 16 KiB).
inline constexpr uint32_t kCachedLargeOrders = 3;
// Cache classes: the size classes, then the cached large orders.
inline constexpr uint32_t kCacheClassCount = kSizeClassCount + kCachedLargeOrders;
// Object slots of one magazine (its capacity is at most this; see MagazineCapacity).
inline constexpr uint32_t kMagazineSlots = 16;
// Full magazines the depot holds per class; more go back to the slabs.
inline constexpr uint32_t kDepotMagazines = 8;
// The first word of every cached object is this XOR its address.
inline constexpr uint64_t kCachedMarker = 0xca7e'd0b1'ec75'f4eeull;

// Bytes of an object of cache class `cache_class`.
constexpr size_t CacheClassBytes(uint32_t cache_class) {
  return cache_class < kSizeClassCount ? ClassBytes(cache_class)
                                       : OrderBytes(cache_class - kSizeClassCount);
}

// Objects per magazine of a class: about 8 KiB of objects, between 2 and kMagazineSlots, so
// that what a CPU can hold in its caches stays bounded for the big classes.
constexpr uint32_t MagazineCapacity(uint32_t cache_class) {
  const size_t objects = 8192 / CacheClassBytes(cache_class);
  if (objects < 2) return 2;
  return objects > kMagazineSlots ? kMagazineSlots : static_cast<uint32_t>(objects);
}

template <typename Lock, typename PageAlloc = BasicPageAllocator<Lock>>
class BasicCachedHeap {
 public:
  using SlabHeap = BasicHeap<Lock, PageAlloc>;

  // A heap that takes its pages from `pages`, which must outlive it.
  explicit BasicCachedHeap(PageAlloc& pages) : pages_(pages), slab_(pages) {}
  // Only tests destroy a heap: the caller must have drained every CPU's caches (DrainThisCpu
  // on each) and freed everything; the depot is emptied here, and the slab heap's destructor
  // panics on anything still live.
  ~BasicCachedHeap();
  BasicCachedHeap(const BasicCachedHeap&) = delete;
  BasicCachedHeap& operator=(const BasicCachedHeap&) = delete;

  // As BasicHeap::Alloc; served from this CPU's magazines when the request falls in a cache
  // class (any size up to 16 KiB with an alignment up to its class size). Safe from
  // interrupt handlers.
  Result<void*> Alloc(size_t bytes, size_t align = kMinObjectBytes);

  // As BasicHeap::Free; cacheable objects go to this CPU's magazines, whichever CPU allocated
  // them. Panics on foreign and interior pointers and on double frees. Safe from interrupt
  // handlers.
  void Free(void* ptr);

  template <typename T, typename... Args>
  Result<T*> New(Args&&... args);
  template <typename T>
  void Delete(T* object);

  // Bytes reserved for a live allocation (as BasicHeap).
  size_t AllocationBytes(const void* ptr) const { return slab_.AllocationBytes(ptr); }
  static constexpr size_t ReservedBytes(size_t bytes, size_t align) {
    return SlabHeap::ReservedBytes(bytes, align);
  }

  // Empties the calling CPU's magazines into the slabs; returns the bytes of large blocks
  // among them (they go back to the page allocator).
  size_t DrainThisCpu();
  // DrainThisCpu, then empties the depot and returns every empty slab; returns the bytes given
  // back to the page allocator (cached large blocks included).
  size_t Trim();

  // Live objects' class sizes plus live large blocks, cached ones excluded.
  size_t BytesInUse() const;
  // BasicHeap's counters with the cached objects moved from "in use" to the cache fields.
  HeapStats Stats() const;
  // The slab layer's own checks, plus the depot's chains (every object carries its marker).
  void CheckInvariants() const;

  // The heap behind the caches (tests and the benchmark compare against it).
  SlabHeap& slab_heap() { return slab_; }
  const SlabHeap& slab_heap() const { return slab_; }
  // The depot's lock, for hang reports (SpinLock::Peek); never to be taken through this.
  const Lock& depot_lock_for_reports() const TA_RET_CAP(depot_lock_) { return depot_lock_; }

 private:
  // A stack of cached objects of one class.
  struct Magazine {
    uint32_t count = 0;
    void* objects[kMagazineSlots] = {};
  };
  // One CPU's caches: per class two magazines, `loaded[c]` says which is the loaded one.
  struct CpuCache {
    Magazine magazines[kCacheClassCount][2];
    uint8_t loaded[kCacheClassCount] = {};
    Magazine& Loaded(uint32_t c) { return magazines[c][loaded[c]]; }
    Magazine& Previous(uint32_t c) { return magazines[c][loaded[c] ^ 1]; }
    void Swap(uint32_t c) { loaded[c] ^= 1; }
  };
  // What other CPUs may read of a CPU's caches; written only by that CPU (IRQs masked).
  struct alignas(64) CpuPublished {
    Atomic<uint64_t> cached[kCacheClassCount] = {};  // objects in its magazines
    Atomic<uint64_t> hits{0};
    Atomic<uint64_t> refills{0};
    Atomic<uint64_t> flushes{0};
  };
  // Full magazines in the depot, per class: chains of MagazineCapacity objects linked through
  // each object's second word.
  struct Depot {
    void* full[kCacheClassCount][kDepotMagazines] = {};
    uint32_t count[kCacheClassCount] = {};
  };

  static constexpr uint32_t kNoCacheClass = kCacheClassCount;
  // Cache class of a request, or kNoCacheClass when BasicHeap serves it directly.
  static constexpr uint32_t CacheClassFor(size_t bytes, size_t align);

  // Object words: the marker (word 0) and the depot chain link (word 1).
  static uint64_t& MarkerWord(void* object) { return static_cast<uint64_t*>(object)[0]; }
  static void*& LinkWord(void* object) { return static_cast<void**>(object)[1]; }
  static uint64_t MarkerOf(const void* object) {
    return kCachedMarker ^ reinterpret_cast<uintptr_t>(object);
  }
  // An object enters a cache: marked, and (ASan) all but its first 16 bytes poisoned.
  static void Stash(void* object, uint32_t cache_class);
  // An object leaves a cache for a user: marker checked and cleared, unpoisoned.
  static void Unstash(void* object, uint32_t cache_class);
  // An object leaves a cache for the slabs: unpoisoned so that BasicHeap sees a whole object.
  static void Unpoison(void* object, uint32_t cache_class);

  // Free's lock-free lookup: the cache class of `addr`, or kNoCacheClass when BasicHeap must
  // free it (a large block of a big order, or an object that ASan says is already free).
  uint32_t CacheClassOf(uintptr_t addr) const;

  // Fills the empty magazine `m` of class `c`: from the depot, else from the slabs.
  // false when no memory was found even after emptying the depot.
  bool Refill(IrqsOff irqs_off, CpuPublished& published, uint32_t c, Magazine& m)
      TA_REQ(g_irqs_off);
  // Empties the full magazine `m`: to the depot when it has room, else to the slabs.
  void Flush(IrqsOff irqs_off, CpuPublished& published, uint32_t c, Magazine& m) TA_REQ(g_irqs_off);
  // Gives `count` cached objects of class `c` back to the slabs.
  void ReturnToSlabs(uint32_t c, void* const* objects, uint32_t count);
  // Empties the depot into the slabs; returns the bytes of large blocks freed.
  size_t EmptyDepot();
  // Objects of class `c` in the depot right now.
  size_t DepotObjects(uint32_t c) const;
  // Objects of class `c` cached by all CPUs (racy sum of published counts) and the depot.
  size_t CachedObjects(uint32_t c) const;

  static inline constinit lockdep::LockClass depot_lock_class_{"mm.heap_depot",
                                                               LockRank::kHeapDepot};

  PageAlloc& pages_;
  SlabHeap slab_;
  PerCpu<CpuCache> caches_;
  CpuPublished published_[kMaxCpus];
  // Guards the depot. Never held while another lock is taken: magazines move in and out of
  // the depot in O(1) under it, and slab traffic happens after it is released.
  mutable Lock depot_lock_{depot_lock_class_};
  Depot depot_ TA_GUARDED(depot_lock_);
};

// The kernel heap type: per-CPU caches over BasicHeap<SpinLock>.
using CachedHeap = BasicCachedHeap<SpinLock>;

extern template class BasicCachedHeap<SpinLock>;

// ---------------------------------------------------------------------------------------------
// Implementation.

template <typename Lock, typename PageAlloc>
BasicCachedHeap<Lock, PageAlloc>::~BasicCachedHeap() {
  EmptyDepot();
}

template <typename Lock, typename PageAlloc>
constexpr uint32_t BasicCachedHeap<Lock, PageAlloc>::CacheClassFor(size_t bytes, size_t align) {
  if (align == 0 || (align & (align - 1)) != 0) return kNoCacheClass;
  const size_t need = bytes > align ? bytes : align;
  if (need <= kMaxSmallBytes) {
    size_t object = kMinObjectBytes;
    uint32_t c = 0;
    while (object < need) {
      object <<= 1;
      ++c;
    }
    return c;
  }
  // Large blocks are aligned to their size, so any alignment up to kMaxAlign is met.
  if (align > kMaxAlign) return kNoCacheClass;
  const uint32_t order = OrderForBytes(bytes);
  return order < kCachedLargeOrders ? kSizeClassCount + order : kNoCacheClass;
}

template <typename Lock, typename PageAlloc>
void BasicCachedHeap<Lock, PageAlloc>::Stash(void* object, uint32_t cache_class) {
  MarkerWord(object) = MarkerOf(object);
  PoisonRange(reinterpret_cast<uintptr_t>(object) + 16, CacheClassBytes(cache_class) - 16);
}

template <typename Lock, typename PageAlloc>
void BasicCachedHeap<Lock, PageAlloc>::Unstash(void* object, uint32_t cache_class) {
  LICHEN_ASSERT(MarkerWord(object) == MarkerOf(object),
                "heap: cached {}-byte object {:#x} was written after it was freed (its first word "
                "is {:#x})",
                CacheClassBytes(cache_class), reinterpret_cast<uintptr_t>(object),
                MarkerWord(object));
  MarkerWord(object) = 0;
  UnpoisonRange(reinterpret_cast<uintptr_t>(object), CacheClassBytes(cache_class));
}

template <typename Lock, typename PageAlloc>
void BasicCachedHeap<Lock, PageAlloc>::Unpoison(void* object, uint32_t cache_class) {
  UnpoisonRange(reinterpret_cast<uintptr_t>(object), CacheClassBytes(cache_class));
}

template <typename Lock, typename PageAlloc>
Result<void*> BasicCachedHeap<Lock, PageAlloc>::Alloc(size_t bytes, size_t align) {
  const uint32_t c = CacheClassFor(bytes, align);
  if (c == kNoCacheClass) return slab_.Alloc(bytes, align);
  void* object = nullptr;
  {
    IrqGuard guard;
    auto cache = caches_.Borrow(guard.token());
    CpuPublished& published = published_[platform::ThisCpu()];
    Magazine* m = &cache->Loaded(c);
    bool hit = true;
    if (m->count == 0) {
      if (cache->Previous(c).count > 0) {
        cache->Swap(c);
        m = &cache->Loaded(c);
      } else {
        hit = false;
        if (!Refill(guard.token(), published, c, *m)) return Error::kNoMemory;
      }
    }
    object = m->objects[--m->count];
    published.cached[c].AddRelaxedOwner(~uint64_t{0});  // -1
    if (hit) published.hits.AddRelaxedOwner(1);
  }
  Unstash(object, c);
  return object;
}

template <typename Lock, typename PageAlloc>
uint32_t BasicCachedHeap<Lock, PageAlloc>::CacheClassOf(uintptr_t addr) const {
  const PageBlock block = pages_.BlockContainingLive(addr);
  uint32_t c = kNoCacheClass;
  if (block.tag == SlabHeap::kSlabTag) {
    const auto& slab = *reinterpret_cast<const typename SlabHeap::Slab*>(block.base);
    LICHEN_ASSERT(slab.magic == SlabHeap::kSlabMagic && slab.order == block.order,
                  "heap Free({:#x}): slab {:#x} has a corrupted header", addr, block.base);
    const size_t object_bytes = ClassBytes(slab.size_class);
    const uintptr_t offset = addr - block.base;
    LICHEN_ASSERT(offset % object_bytes == 0 && offset / object_bytes >= slab.first_slot,
                  "heap Free({:#x}): not the start of a {}-byte object", addr, object_bytes);
    c = slab.size_class;
  } else if (block.tag == SlabHeap::kLargeTag) {
    LICHEN_ASSERT(addr == block.base,
                  "heap Free({:#x}): pointer inside a large allocation at {:#x}", addr, block.base);
    if (block.order < kCachedLargeOrders) c = kSizeClassCount + block.order;
  } else {
    LICHEN_PANIC("heap Free({:#x}): pages the heap did not allocate", addr);
  }
  // A poisoned start means the object is free in its slab (ASan builds): BasicHeap's bitmap
  // reports that double free; reading the marker here would be an ASan error instead.
  if (c != kNoCacheClass && IsPoisoned(addr)) return kNoCacheClass;
  return c;
}

template <typename Lock, typename PageAlloc>
void BasicCachedHeap<Lock, PageAlloc>::Free(void* ptr) {
  if (ptr == nullptr) return;
  const uint32_t c = CacheClassOf(reinterpret_cast<uintptr_t>(ptr));
  if (c == kNoCacheClass) {
    slab_.Free(ptr);
    return;
  }
  LICHEN_ASSERT(MarkerWord(ptr) != MarkerOf(ptr),
                "heap Free({:#x}): double free of a {}-byte object (it is in a per-CPU cache)",
                reinterpret_cast<uintptr_t>(ptr), CacheClassBytes(c));
  Stash(ptr, c);
  IrqGuard guard;
  auto cache = caches_.Borrow(guard.token());
  CpuPublished& published = published_[platform::ThisCpu()];
  const uint32_t capacity = MagazineCapacity(c);
  bool hit = true;
  if (cache->Loaded(c).count == capacity) {
    if (cache->Previous(c).count == capacity) {
      hit = false;
      Flush(guard.token(), published, c, cache->Previous(c));
    }
    cache->Swap(c);
  }
  Magazine& m = cache->Loaded(c);
  m.objects[m.count++] = ptr;
  published.cached[c].AddRelaxedOwner(1);
  if (hit) published.hits.AddRelaxedOwner(1);
}

template <typename Lock, typename PageAlloc>
bool BasicCachedHeap<Lock, PageAlloc>::Refill(IrqsOff irqs_off, CpuPublished& published, uint32_t c,
                                              Magazine& m) {
  const uint32_t capacity = MagazineCapacity(c);
  published.refills.AddRelaxedOwner(1);
  void* chain = nullptr;
  {
    LockGuard<Lock> guard(depot_lock_, irqs_off);
    if (depot_.count[c] > 0) chain = depot_.full[c][--depot_.count[c]];
  }
  if (chain != nullptr) {
    for (uint32_t i = 0; i < capacity; ++i) {
      LICHEN_ASSERT(chain != nullptr, "heap: depot magazine of class {} is short", c);
      m.objects[i] = chain;
      chain = LinkWord(chain);
    }
    m.count = capacity;
    published.cached[c].AddRelaxedOwner(capacity);
    return true;
  }
  uint32_t got = slab_.AllocBatch(CacheClassBytes(c), m.objects, capacity);
  if (got == 0) {
    // Out of memory: what the depot holds may free whole slabs; then try once more.
    EmptyDepot();
    slab_.Trim();
    got = slab_.AllocBatch(CacheClassBytes(c), m.objects, capacity);
    if (got == 0) {
      slab_.NoteFailedAllocation();
      return false;
    }
  }
  for (uint32_t i = 0; i < got; ++i)
    Stash(m.objects[i], c);
  m.count = got;
  published.cached[c].AddRelaxedOwner(got);
  return true;
}

template <typename Lock, typename PageAlloc>
void BasicCachedHeap<Lock, PageAlloc>::Flush(IrqsOff irqs_off, CpuPublished& published, uint32_t c,
                                             Magazine& m) {
  const uint32_t count = m.count;
  published.flushes.AddRelaxedOwner(1);
  published.cached[c].AddRelaxedOwner(~uint64_t{count} + 1);  // -count
  m.count = 0;
  // Chain the objects outside the lock (they are this CPU's), then hand the chain over.
  for (uint32_t i = 0; i + 1 < count; ++i)
    LinkWord(m.objects[i]) = m.objects[i + 1];
  LinkWord(m.objects[count - 1]) = nullptr;
  bool deposited = false;
  if (count == MagazineCapacity(c)) {
    LockGuard<Lock> guard(depot_lock_, irqs_off);
    if (depot_.count[c] < kDepotMagazines) {
      depot_.full[c][depot_.count[c]++] = m.objects[0];
      deposited = true;
    }
  }
  if (!deposited) ReturnToSlabs(c, m.objects, count);
}

template <typename Lock, typename PageAlloc>
void BasicCachedHeap<Lock, PageAlloc>::ReturnToSlabs(uint32_t c, void* const* objects,
                                                     uint32_t count) {
  for (uint32_t i = 0; i < count; ++i)
    Unpoison(objects[i], c);
  slab_.FreeBatch(objects, count);
}

template <typename Lock, typename PageAlloc>
size_t BasicCachedHeap<Lock, PageAlloc>::EmptyDepot() {
  Depot taken;
  {
    LockGuard<Lock> guard(depot_lock_);
    taken = depot_;
    depot_ = Depot{};
  }
  size_t large_bytes = 0;
  for (uint32_t c = 0; c < kCacheClassCount; ++c) {
    for (uint32_t i = 0; i < taken.count[c]; ++i) {
      void* batch[kMagazineSlots];
      uint32_t n = 0;
      for (void* object = taken.full[c][i]; object != nullptr; object = LinkWord(object))
        batch[n++] = object;
      ReturnToSlabs(c, batch, n);
      if (c >= kSizeClassCount) large_bytes += n * CacheClassBytes(c);
    }
  }
  return large_bytes;
}

template <typename Lock, typename PageAlloc>
size_t BasicCachedHeap<Lock, PageAlloc>::DrainThisCpu() {
  IrqGuard guard;
  auto cache = caches_.Borrow(guard.token());
  CpuPublished& published = published_[platform::ThisCpu()];
  size_t large_bytes = 0;
  for (uint32_t c = 0; c < kCacheClassCount; ++c) {
    for (Magazine& m : cache->magazines[c]) {
      if (m.count == 0) continue;
      if (c >= kSizeClassCount) large_bytes += m.count * CacheClassBytes(c);
      ReturnToSlabs(c, m.objects, m.count);
      published.cached[c].AddRelaxedOwner(~uint64_t{m.count} + 1);  // -count
      m.count = 0;
    }
  }
  return large_bytes;
}

template <typename Lock, typename PageAlloc>
size_t BasicCachedHeap<Lock, PageAlloc>::Trim() {
  const size_t large_bytes = DrainThisCpu() + EmptyDepot();
  return large_bytes + slab_.Trim();
}

template <typename Lock, typename PageAlloc>
size_t BasicCachedHeap<Lock, PageAlloc>::DepotObjects(uint32_t c) const {
  LockGuard<Lock> guard(depot_lock_);
  return size_t{depot_.count[c]} * MagazineCapacity(c);
}

template <typename Lock, typename PageAlloc>
size_t BasicCachedHeap<Lock, PageAlloc>::CachedObjects(uint32_t c) const {
  size_t objects = DepotObjects(c);
  for (const CpuPublished& published : published_)
    objects += published.cached[c].Load(std::memory_order_relaxed);
  return objects;
}

template <typename Lock, typename PageAlloc>
size_t BasicCachedHeap<Lock, PageAlloc>::BytesInUse() const {
  size_t cached = 0;
  for (uint32_t c = 0; c < kCacheClassCount; ++c)
    cached += CachedObjects(c) * CacheClassBytes(c);
  return slab_.BytesInUse() - cached;
}

template <typename Lock, typename PageAlloc>
HeapStats BasicCachedHeap<Lock, PageAlloc>::Stats() const {
  HeapStats stats = slab_.Stats();
  for (uint32_t c = 0; c < kCacheClassCount; ++c) {
    const size_t objects = CachedObjects(c);
    const size_t bytes = objects * CacheClassBytes(c);
    stats.cached_bytes += bytes;
    stats.bytes_in_use -= bytes;
    if (c < kSizeClassCount) {
      stats.classes[c].cached_objects = objects;
      stats.classes[c].objects_in_use -= objects;
    } else {
      stats.cached_large_blocks += objects;
      stats.large_allocations -= objects;
      stats.large_bytes -= bytes;
    }
  }
  for (const CpuPublished& published : published_) {
    stats.cache_hits += published.hits.Load(std::memory_order_relaxed);
    stats.cache_refills += published.refills.Load(std::memory_order_relaxed);
    stats.cache_flushes += published.flushes.Load(std::memory_order_relaxed);
  }
  return stats;
}

template <typename Lock, typename PageAlloc>
void BasicCachedHeap<Lock, PageAlloc>::CheckInvariants() const {
  slab_.CheckInvariants();
  LockGuard<Lock> guard(depot_lock_);
  for (uint32_t c = 0; c < kCacheClassCount; ++c) {
    LICHEN_ASSERT(depot_.count[c] <= kDepotMagazines, "depot class {}: {} magazines", c,
                  depot_.count[c]);
    for (uint32_t i = 0; i < depot_.count[c]; ++i) {
      uint32_t n = 0;
      for (void* object = depot_.full[c][i]; object != nullptr; object = LinkWord(object)) {
        LICHEN_ASSERT(MarkerWord(object) == MarkerOf(object),
                      "depot class {}: object {:#x} lost its marker", c,
                      reinterpret_cast<uintptr_t>(object));
        ++n;
      }
      LICHEN_ASSERT(n == MagazineCapacity(c), "depot class {}: a magazine of {} objects, not {}", c,
                    n, MagazineCapacity(c));
    }
  }
}

template <typename Lock, typename PageAlloc>
template <typename T, typename... Args>
Result<T*> BasicCachedHeap<Lock, PageAlloc>::New(Args&&... args) {
  static_assert(alignof(T) <= kMaxAlign, "BasicCachedHeap::New: alignment above kMaxAlign");
  void* memory = LICHEN_TRY(Alloc(sizeof(T), alignof(T)));
  return new (memory) T(static_cast<Args&&>(args)...);
}

template <typename Lock, typename PageAlloc>
template <typename T>
void BasicCachedHeap<Lock, PageAlloc>::Delete(T* object) {
  if (object == nullptr) return;
  object->~T();
  Free(object);
}

}  // namespace lichen::mm

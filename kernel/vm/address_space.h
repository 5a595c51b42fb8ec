// A user address space: regions (VMAs) in an ordered tree, portable 4-level page tables,
// demand paging, and the Linux memory-management calls on top (mmap, munmap, mprotect,
// madvise(MADV_DONTNEED), brk) with Linux's semantics and errno results.
//
//   AddressSpace* as = LICHEN_TRY(vm::AddressSpace::Create());
//   as->SetBrkStart(end_of_highest_segment);           // the loader (proc) says where
//   int64_t addr = as->Map(0, 8192, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous);
//   vm::HandleFault(*as, addr, vm::Access::kWrite);    // what a user page fault calls
//   as->Put();                                         // the last reference frees it
//
// Locking (docs/vm.md): one sleeping lock per address space, lock(), guards the regions and
// every change to the page tables; faults and user copies hold it too (they may sleep: they
// allocate pages). Entries are written with release stores and read with acquire loads, and
// a small spinlock, the table lock, is held while an entry is cleared and by the walks that
// must not sleep (the futex word operations, uaccess.h), so that a page those walks find
// cannot be freed under them.
//
// TLB rule: an entry that was valid is cleared (or weakened) first, the TLBs of the space's
// ASID are flushed next (platform::TlbFlushPage / TlbFlushAsid, every CPU), and only then are
// the page and any emptied table freed. Empty page tables are freed when an unmap or a
// MADV_DONTNEED empties them, not only at teardown.
//
// Lifetime: reference counted (Get/Put). Every CPU that has the space active holds one of
// the references (vm::Activate in asid.h takes it and drops it when the CPU switches away),
// so the last Put, which frees the tables and pages, can only happen once no CPU can walk
// the tables or hold TLB entries it would still use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/base/platform_mmu.h"
#include "kernel/lock/spinlock.h"
#include "kernel/sync/mutex.h"
#include "lib/atomic.h"
#include "lib/rbtree.h"
#include "lib/result.h"
#include "lib/thread_annotations.h"

namespace lichen::vm {

using platform::PageProt;

inline constexpr uintptr_t kPageSize = 4096;
inline constexpr uintptr_t kPageMask = kPageSize - 1;

using platform::kPageTableTag;

// mmap(2)'s prot and flags, the values of Linux's asm-generic/mman*.h (arm64 uses them).
inline constexpr uint32_t kProtNone = 0;
inline constexpr uint32_t kProtRead = 1;
inline constexpr uint32_t kProtWrite = 2;
inline constexpr uint32_t kProtExec = 4;
inline constexpr uint32_t kProtSem = 8;  // accepted and ignored, as arm64 Linux does
inline constexpr uint32_t kMapShared = 0x01;
inline constexpr uint32_t kMapPrivate = 0x02;
inline constexpr uint32_t kMapSharedValidate = 0x03;
inline constexpr uint32_t kMapTypeMask = 0x0f;
inline constexpr uint32_t kMapFixed = 0x10;
inline constexpr uint32_t kMapAnonymous = 0x20;
inline constexpr uint32_t kMapPopulate = 0x8000;
inline constexpr uint32_t kMapFixedNoreplace = 0x100000;

// The default top of the mmap area, below which free ranges are searched top-down (Linux
// places it below the stack's maximum size; proc may move it with SetMmapBase).
inline constexpr uintptr_t kDefaultMmapBase = uintptr_t{1} << 47;

// Where the bottom-up search starts when the top-down one finds nothing (Linux's
// TASK_UNMAPPED_BASE: a quarter of the user space).
inline constexpr uintptr_t kUnmappedBase = platform::kUserVaTop / 4;

// How many regions one space may hold (Linux's vm.max_map_count is 65530): past it, a call
// that would add one fails with ENOMEM.
inline constexpr size_t kMaxRegions = 65530;

// PageProt from mmap's prot bits (PROT_READ/WRITE/EXEC; others are the caller's to reject).
constexpr PageProt ProtFromBits(uint32_t prot) {
  return PageProt{(prot & kProtRead) != 0, (prot & kProtWrite) != 0, (prot & kProtExec) != 0};
}

// What backs an image region: a read-only byte range in kernel memory that outlives the space
// (an ELF segment in the initramfs). The region's first byte is file[offset], and its bytes
// past file_size are zero: a page is filled from it on its first touch, into a private page
// (writes never reach the file). For a segment at an unaligned p_vaddr, the loader maps from
// the page below with offset = p_offset - (p_vaddr % 4096), file_size = p_filesz + that.
struct ImageBacking {
  const uint8_t* file = nullptr;
  size_t offset = 0;
  size_t file_size = 0;
};

// A region: [start, end), page aligned, non-empty, disjoint from every other region.
struct Region {
  RbNode node;
  uintptr_t start = 0;
  uintptr_t end = 0;
  PageProt prot;
  bool has_image = false;  // image-backed; anonymous (zero-filled) otherwise
  ImageBacking image;
};

// What a snapshot of a region says (RegionAt, ForEachRegion), for proc and tests.
struct RegionInfo {
  uintptr_t start = 0;
  uintptr_t end = 0;
  PageProt prot;
  bool has_image = false;
};

// The kind of access that faulted.
enum class Access : uint8_t { kRead, kWrite, kExec };

// How a fault ended: resolved, or the signal it means (SIGSEGV with si_code SEGV_MAPERR: no
// region there; SEGV_ACCERR: the region forbids the access), or out of memory.
enum class FaultResult : uint8_t { kOk, kSegvMapErr, kSegvAccErr, kNoMemory };

const char* FaultResultName(FaultResult result);

// True when the page entry `e` is valid and lets user code make `access`, as the platform
// decodes it (platform::EntryProt): what the hardware would allow, which the fault handler and
// the user copies both go by.
bool EntryPermits(uint64_t e, Access access);

class AddressSpace;

// Resolves a user fault at `addr` (any byte of the page) for `access`: maps the page (zero or
// filled from its image) if the region allows the access. A page another thread mapped
// meanwhile is success, not an error: two threads first-touching one page on two CPUs both
// return kOk with one page mapped. Takes the space's lock; may sleep.
FaultResult HandleFault(AddressSpace& as, uintptr_t addr, Access access);

class AddressSpace {
 public:
  // A new, empty space with its root table and one reference (the caller's). kNoMemory.
  static Result<AddressSpace*> Create();

  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  // References: the last Put unmaps everything and frees the tables and the object.
  void Get();
  void Put();
  uint32_t RefsForTests() const;

  // --- The system calls: results as the syscall returns them (>= 0, or -errno) -------------

  // mmap(hint, len, prot, flags) for anonymous memory, or for `image` when given (an image
  // mapping is private whatever the flags say; without an image kMapAnonymous is required,
  // else EBADF: there are no files to map here). Returns the address or -errno, checked in
  // Linux's order: EINVAL (len 0, bad type, unaligned fixed address), ENOMEM (no room, too
  // large, too many regions, no memory), EEXIST (kMapFixedNoreplace over a mapping), EPERM
  // (fixed below kUserVaBottom). Unknown prot bits are ignored, as Linux does. Without
  // kMapFixed the hint (rounded down) is used if the range is free, else the highest free
  // range below the mmap base, else the lowest from kUnmappedBase up (Linux's top-down
  // search). kMapShared anonymous memory is private: there is no fork to share it with.
  int64_t Map(uintptr_t hint, size_t len, uint32_t prot, uint32_t flags,
              const ImageBacking* image = nullptr) TA_EXCL(lock_);
  // munmap(addr, len): 0, or EINVAL (unaligned, len 0, outside user space).
  int64_t Unmap(uintptr_t addr, size_t len) TA_EXCL(lock_);
  // mprotect(addr, len, prot): 0, or EINVAL (unaligned, unknown prot bits), ENOMEM (a hole
  // in the range, or past the end: as Linux, the regions before the hole are changed).
  int64_t Protect(uintptr_t addr, size_t len, uint32_t prot) TA_EXCL(lock_);
  // madvise(addr, len, MADV_DONTNEED): drops the pages, so the next touch reads zeros
  // (anonymous) or the image again. 0, or EINVAL (unaligned, wrapping), ENOMEM (a hole: the
  // mapped parts are still dropped, as Linux does).
  int64_t AdviseDontNeed(uintptr_t addr, size_t len) TA_EXCL(lock_);

  // Where the heap starts: just after the highest image segment (the loader says; page
  // rounding is done here). Once, before the first Brk.
  void SetBrkStart(uintptr_t start) TA_EXCL(lock_);
  // brk(new_end): moves the break and returns the new one; returns the current one unchanged
  // when new_end is 0, below the start, or the growth would overlap a mapping or leave no
  // page before the next one, or memory runs out (Linux's brk never returns -errno).
  uintptr_t Brk(uintptr_t new_end) TA_EXCL(lock_);

  // The top of the top-down mmap search (default kDefaultMmapBase).
  void SetMmapBase(uintptr_t base) TA_EXCL(lock_);

  // --- Inspection (tests, proc's diagnostics) ----------------------------------------------

  // The region containing `addr`, if any.
  bool RegionAt(uintptr_t addr, RegionInfo* info) TA_EXCL(lock_);
  // Calls fn(const RegionInfo&) for each region in address order, under the lock.
  template <typename Fn>
  void ForEachRegion(Fn&& fn) TA_EXCL(lock_) {
    LockGuard<Mutex> guard(lock_);
    for (Region* r = regions_.First(); r != nullptr; r = regions_.Next(*r))
      fn(RegionInfo{r->start, r->end, r->prot, r->has_image});
  }
  size_t RegionCount() TA_EXCL(lock_);
  // The physical page mapped at `addr` and its permissions; false when none is.
  bool Translate(uintptr_t addr, uintptr_t* page_pa, PageProt* prot) TA_EXCL(lock_);
  // Pages mapped now (user pages, not tables) and page-table pages held now, root included.
  size_t ResidentPages() TA_EXCL(lock_);
  size_t TablePages() TA_EXCL(lock_);

  // The root table's physical address (for platform::SetUserTranslation), fixed for life.
  uintptr_t root_pa() const { return root_pa_; }

  // The sleeping lock: held by the operations above; uaccess.h's copies hold it too.
  Mutex& lock() TA_RET_CAP(lock_) { return lock_; }

  // --- For the fault path and uaccess.h (the space's lock held) ----------------------------

  // Resolves a fault with the lock held (HandleFault is this under the lock).
  FaultResult FaultLocked(uintptr_t addr, Access access) TA_REQ(lock_);
  // HandleFault with the fault vm_fault_drops_lock_to_fill injected (kernel/base/debug.h):
  // the seed-like handler that a fault racing munmap defeats; host tests only.
  FaultResult FaultDroppingLock(uintptr_t addr, Access access) TA_EXCL(lock_);
  // The level-3 entry mapping `addr`, read with an acquire load; kInvalidEntry when there is
  // none. Needs either the space's lock or the table lock (see LockTables).
  uint64_t LookupEntry(uintptr_t addr) const;
  // The table lock: a spinlock held while entries are cleared and while a non-sleeping walk
  // reads a page it found (uaccess.h's futex word operations).
  SpinLock& table_lock() TA_RET_CAP(table_lock_) { return table_lock_; }

  // --- ASIDs (asid.cc) -----------------------------------------------------------------

  // Generation | ASID, 0 before the first activation (kernel/vm/asid.h); the allocator's.
  Atomic<uint64_t>& context_id() { return context_id_; }

 private:
  AddressSpace(uintptr_t root_kva);
  ~AddressSpace();

  // The page table at physical address `pa`, through the direct map.
  struct Table;
  static Table* TableAt(uintptr_t pa);

  // Region tree order: by start (regions are disjoint).
  struct ByStart : NoAugment {
    static bool Less(const Region& a, const Region& b) { return a.start < b.start; }
  };
  using RegionTree = RbTree<Region, &Region::node, ByStart>;

  Region* FindRegion(uintptr_t addr) const TA_REQ(lock_);
  // The first region that ends after `addr` (it may start after it too), or nullptr.
  Region* FirstEndingAfter(uintptr_t addr) const TA_REQ(lock_);
  // True when no region intersects [start, end).
  bool RangeFree(uintptr_t start, uintptr_t end) const TA_REQ(lock_);
  // A free range of `len` bytes by Linux's rules (hint, then top-down, then bottom-up), or 0.
  uintptr_t FindFreeRange(uintptr_t hint, size_t len) const TA_REQ(lock_);
  // Splits the region containing `addr` (strictly inside it) in two; ENOMEM-able.
  Result<void> SplitAt(uintptr_t addr) TA_REQ(lock_);
  // Merges `r` with its neighbours where they are alike and adjacent.
  void MergeAround(Region* r) TA_REQ(lock_);
  // Merges alike neighbours among the regions that touch [start, end].
  void MergeRange(uintptr_t start, uintptr_t end) TA_REQ(lock_);
  // Removes every region part in [start, end), unmapping and freeing its pages. Fails only
  // when a split needs memory it cannot get (then nothing changed).
  Result<void> RemoveRange(uintptr_t start, uintptr_t end) TA_REQ(lock_);
  // Inserts a new region; kNoMemory when the heap is out or the count limit is reached.
  Result<Region*> InsertRegion(uintptr_t start, uintptr_t end, PageProt prot,
                               const ImageBacking* image) TA_REQ(lock_);
  void EraseRegion(Region* r) TA_REQ(lock_);
  int64_t MapLocked(uintptr_t hint, size_t len, uint32_t prot, uint32_t flags,
                    const ImageBacking* image) TA_REQ(lock_);

  // Page tables. The level-3 entry slot for `va`, creating tables on the way when `create`;
  // nullptr when absent (or kNoMemory when creating fails: *no_memory is set).
  Atomic<uint64_t>* EntrySlot(uintptr_t va, bool create, bool* no_memory) TA_REQ(lock_);
  // Clears the page entries in [start, end), flushes their TLB entries, frees the pages and
  // any table left empty.
  void ZapRange(uintptr_t start, uintptr_t end) TA_REQ(lock_);
  // Pages and tables cleared, waiting for the TLB flush before they are freed.
  struct FreeBatch;
  // ZapRange's walk of the table `t` at `level` covering from `base`; true when the table is
  // empty afterwards (its parent then frees it).
  bool ZapTable(Table* t, int level, uintptr_t base, uintptr_t start, uintptr_t end,
                FreeBatch& batch) TA_REQ(lock_);
  // Flushes the TLBs for what `batch` holds, then frees it all.
  void DrainFreed(FreeBatch& batch);
  // Rewrites the permissions of the entries in [start, end) and flushes the TLBs.
  void ReprotectRange(uintptr_t start, uintptr_t end, PageProt prot) TA_REQ(lock_);
  // Fills the new page at `kva` for address `va` of region `r` (zeros or image bytes).
  static void FillPage(const Region& r, uintptr_t va, uint8_t* kva);
  // The ASID to flush TLB entries of, or 0 when the space never ran (no TLB holds any).
  // Read after the clears, behind a full barrier (see the TLB rule above).
  uint32_t AsidForFlush() const;
  // The last reference is gone: frees the regions, every table and page, and the object.
  void Destroy() TA_NO_THREAD_SAFETY_ANALYSIS;
  static void FreeTables(uintptr_t table_pa, int level);

  Mutex lock_;
  SpinLock table_lock_;
  Atomic<uint32_t> refs_{1};
  Atomic<uint64_t> context_id_{0};
  const uintptr_t root_pa_;
  RegionTree regions_ TA_GUARDED(lock_);
  uintptr_t brk_start_ TA_GUARDED(lock_) = 0;
  uintptr_t brk_ TA_GUARDED(lock_) = 0;
  uintptr_t mmap_base_ TA_GUARDED(lock_) = kDefaultMmapBase;
  size_t resident_pages_ TA_GUARDED(lock_) = 0;
  size_t table_pages_ TA_GUARDED(lock_) = 1;
};

}  // namespace lichen::vm

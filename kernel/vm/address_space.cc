#include "kernel/vm/address_space.h"

#include <cstring>
#include <new>

#include "kernel/base/debug.h"
#include "kernel/mm/kmem.h"
#include "kernel/vm/asid.h"
#include "lib/assert.h"
#include "lib/errno.h"

namespace lichen::vm {

namespace {

LockClass g_space_class("vm.address_space", LockRank::kAddressSpace);
LockClass g_tables_class("vm.tables", LockRank::kVmTables);

constexpr int64_t Err(Errno e) {
  return SyscallError(e);
}

constexpr uintptr_t PageDown(uintptr_t a) {
  return a & ~kPageMask;
}

// Rounds `len` up to whole pages; false when that overflows.
constexpr bool PageUp(size_t len, size_t* out) {
  if (len > SIZE_MAX - kPageMask) return false;
  *out = (len + kPageMask) & ~kPageMask;
  return true;
}

// Index of `va` in a table of `level` (0 = root: bits 47..39).
constexpr size_t IndexAt(uintptr_t va, int level) {
  return (va >> (39 - 9 * level)) & (platform::kEntriesPerTable - 1);
}

// Bytes one entry of a table at `level` covers.
constexpr uintptr_t SpanOf(int level) {
  return uintptr_t{1} << (39 - 9 * level);
}

// True when the region's permissions allow `access`. A read is allowed by any permission:
// aarch64 cannot express write-only or (on the Linux it is compared with) execute-only user
// pages, and Linux's arm64 fault handler accepts a read in any accessible region.
bool Allows(PageProt prot, Access access) {
  switch (access) {
    case Access::kRead:
      return prot.read || prot.write || prot.exec;
    case Access::kWrite:
      return prot.write;
    case Access::kExec:
      return prot.exec;
  }
  return false;
}

}  // namespace

bool EntryPermits(uint64_t e, Access access) {
  if (!platform::EntryValid(e)) return false;
  const PageProt prot = platform::EntryProt(e);
  switch (access) {
    case Access::kRead:
      return prot.read;
    case Access::kWrite:
      return prot.write;
    case Access::kExec:
      return prot.exec;
  }
  return false;
}

const char* FaultResultName(FaultResult result) {
  switch (result) {
    case FaultResult::kOk:
      return "Ok";
    case FaultResult::kSegvMapErr:
      return "SegvMapErr";
    case FaultResult::kSegvAccErr:
      return "SegvAccErr";
    case FaultResult::kNoMemory:
      return "NoMemory";
  }
  return "?";
}

// A page table: 512 entries, read and written atomically (other CPUs' software walks, and on
// aarch64 the hardware walker, read them concurrently).
struct AddressSpace::Table {
  Atomic<uint64_t> e[platform::kEntriesPerTable];
};
static_assert(sizeof(Atomic<uint64_t>) == sizeof(uint64_t));

// Above this many pages one flush of the whole ASID is cheaper than one per page.
constexpr size_t kPageFlushLimit = 32;

// The pages (and tables) whose entries were cleared, kept until the TLBs are flushed: a page
// is freed only after no CPU can reach it through a stale TLB entry. Kernel-side storage:
// writing a link into the page itself would race with user code still using the stale entry.
struct AddressSpace::FreeBatch {
  static constexpr size_t kMax = 32;  // on the kernel stack: 768 bytes
  struct Item {
    uintptr_t va;  // the user address the page was mapped at (pages only)
    uintptr_t kva;
    bool table;
  };
  Item items[kMax];
  size_t count = 0;
  bool tables = false;
  bool Full() const { return count == kMax; }
};

AddressSpace::Table* AddressSpace::TableAt(uintptr_t pa) {
  return reinterpret_cast<Table*>(platform::PhysToKernel(pa));
}

namespace {

// A zeroed page-table page (kernel virtual address), or 0.
uintptr_t NewTablePage() {
  Result<uintptr_t> page = mm::Pages().AllocPages(0, kPageTableTag);
  if (!page.ok()) return 0;
  static_assert(sizeof(Atomic<uint64_t>) * platform::kEntriesPerTable == kPageSize);
  auto* entries = reinterpret_cast<Atomic<uint64_t>*>(page.value());
  for (size_t i = 0; i < platform::kEntriesPerTable; ++i)
    new (&entries[i]) Atomic<uint64_t>(platform::kInvalidEntry);
  return page.value();
}

}  // namespace

Result<AddressSpace*> AddressSpace::Create() {
  const uintptr_t root = NewTablePage();
  if (root == 0) return Error::kNoMemory;
  Result<void*> mem = mm::KernelHeap().Alloc(sizeof(AddressSpace));
  if (!mem.ok()) {
    mm::Pages().FreePages(root, 0, kPageTableTag);
    return Error::kNoMemory;
  }
  return new (mem.value()) AddressSpace(root);
}

AddressSpace::AddressSpace(uintptr_t root_kva)
    : lock_(g_space_class),
      table_lock_(g_tables_class),
      root_pa_(platform::KernelToPhys(root_kva)) {}

AddressSpace::~AddressSpace() = default;

void AddressSpace::Get() {
  const uint32_t before = refs_.FetchAdd(1, std::memory_order_relaxed);
  LICHEN_ASSERT(before > 0, "AddressSpace::Get on a dead space");
}

void AddressSpace::Put() {
  const uint32_t before = refs_.FetchSub(1, std::memory_order_acq_rel);
  LICHEN_ASSERT(before > 0, "AddressSpace::Put below zero");
  if (before != 1) return;
  Destroy();
}

void AddressSpace::Destroy() {
  // Nobody else can reach the space now: no task uses it and no CPU has it active (each holds
  // a reference). Its ASID's TLB entries may linger on CPUs that ran it; the ASID is not given
  // out again before a rollover flushes them (asid.h).
  Region* r;
  while ((r = regions_.First()) != nullptr) {
    regions_.Remove(*r);
    r->~Region();
    mm::KernelHeap().Free(r);
  }
  FreeTables(root_pa_, 0);
  this->~AddressSpace();
  mm::KernelHeap().Free(this);
}

uint32_t AddressSpace::RefsForTests() const {
  return refs_.Load(std::memory_order_relaxed);
}

void AddressSpace::FreeTables(uintptr_t table_pa, int level) {
  Table* t = TableAt(table_pa);
  for (size_t i = 0; i < platform::kEntriesPerTable; ++i) {
    const uint64_t e = t->e[i].Load(std::memory_order_relaxed);
    if (!platform::EntryValid(e)) continue;
    if (level < 3) {
      LICHEN_ASSERT(platform::EntryIsTable(e, level),
                    "vm: a block entry at level {}: [{}] = {:#x} in {:#x}", level, i, e, table_pa);
      FreeTables(platform::EntryAddress(e), level + 1);
    } else {
      mm::Pages().FreePages(platform::PhysToKernel(platform::EntryAddress(e)), 0);
    }
  }
  mm::Pages().FreePages(platform::PhysToKernel(table_pa), 0, kPageTableTag);
}

// --- Regions -------------------------------------------------------------------------------

Region* AddressSpace::FindRegion(uintptr_t addr) const {
  Region* n = regions_.Root();
  while (n != nullptr) {
    if (addr < n->start) {
      n = regions_.Left(*n);
    } else if (addr >= n->end) {
      n = regions_.Right(*n);
    } else {
      return n;
    }
  }
  return nullptr;
}

Region* AddressSpace::FirstEndingAfter(uintptr_t addr) const {
  Region* n = regions_.Root();
  Region* best = nullptr;
  while (n != nullptr) {
    if (n->end > addr) {
      best = n;
      n = regions_.Left(*n);
    } else {
      n = regions_.Right(*n);
    }
  }
  return best;
}

bool AddressSpace::RangeFree(uintptr_t start, uintptr_t end) const {
  const Region* r = FirstEndingAfter(start);
  return r == nullptr || r->start >= end;
}

uintptr_t AddressSpace::FindFreeRange(uintptr_t hint, size_t len) const {
  constexpr uintptr_t kTop = platform::kUserVaTop;
  constexpr uintptr_t kLow = platform::kUserVaBottom;
  if (len > kTop - kLow) return 0;
  // The hint, rounded down to a page and up to the lowest user page, if the range there is
  // free (Linux's round_hint_to_min, then its check of the hinted range).
  if (hint != 0) {
    uintptr_t start = PageDown(hint);
    if (start < kLow) start = kLow;
    if (start <= kTop - len && RangeFree(start, start + len)) return start;
  }
  // Top-down below the mmap base: the highest gap that holds len bytes.
  const uintptr_t base = mmap_base_ < kLow + len ? 0 : mmap_base_;
  if (base != 0) {
    uintptr_t limit = base;  // the gap's end
    Region* r = FirstEndingAfter(limit - 1);
    // r, if any, ends after limit-1: if it starts below limit, the gap ends at its start.
    if (r != nullptr && r->start < limit) limit = r->start;
    r = r != nullptr ? regions_.Prev(*r) : regions_.Last();
    // Walk down: r is the region below the gap [r->end, limit).
    while (true) {
      const uintptr_t floor = r != nullptr ? r->end : kLow;
      if (limit >= floor + len && limit - len >= kLow) return limit - len;
      if (r == nullptr) break;
      limit = r->start;
      r = regions_.Prev(*r);
    }
  }
  // Bottom-up from a quarter of the space (Linux's fallback when the top-down search fails,
  // from TASK_UNMAPPED_BASE).
  uintptr_t start = kUnmappedBase;
  for (Region* r = FirstEndingAfter(start); start <= kTop - len; r = regions_.Next(*r)) {
    const uintptr_t gap_end = r != nullptr ? r->start : kTop;
    if (gap_end >= start + len) return start;
    if (r == nullptr) break;
    start = r->end;
  }
  return 0;
}

Result<Region*> AddressSpace::InsertRegion(uintptr_t start, uintptr_t end, PageProt prot,
                                           const ImageBacking* image) {
  if (regions_.Size() >= kMaxRegions) return Error::kNoMemory;
  void* mem = LICHEN_TRY(mm::KernelHeap().Alloc(sizeof(Region)));
  Region* r = new (mem) Region;
  r->start = start;
  r->end = end;
  r->prot = prot;
  if (image != nullptr) {
    r->has_image = true;
    r->image = *image;
  }
  regions_.Insert(*r);
  return r;
}

void AddressSpace::EraseRegion(Region* r) {
  regions_.Remove(*r);
  r->~Region();
  mm::KernelHeap().Free(r);
}

namespace {

// The image of the part of `r` that starts `skip` bytes into it.
ImageBacking ImageFrom(const Region& r, uintptr_t skip) {
  ImageBacking img = r.image;
  img.offset += skip;
  img.file_size = img.file_size > skip ? img.file_size - skip : 0;
  return img;
}

}  // namespace

Result<void> AddressSpace::SplitAt(uintptr_t addr) {
  Region* r = FindRegion(addr);
  if (r == nullptr || r->start == addr) return {};
  const ImageBacking tail_image = ImageFrom(*r, addr - r->start);
  if (regions_.Size() >= kMaxRegions) return Error::kNoMemory;
  void* mem = LICHEN_TRY(mm::KernelHeap().Alloc(sizeof(Region)));
  Region* tail = new (mem) Region;
  tail->start = addr;
  tail->end = r->end;
  tail->prot = r->prot;
  tail->has_image = r->has_image;
  if (r->has_image) tail->image = tail_image;
  r->end = addr;  // keeps r's key (start) and the tree order: tail goes right after it
  regions_.Insert(*tail);
  return {};
}

void AddressSpace::MergeAround(Region* r) {
  // Only anonymous regions merge: two image regions are contiguous in the file only by luck,
  // and keeping them apart costs one node.
  auto alike = [](const Region& a, const Region& b) {
    return a.end == b.start && !a.has_image && !b.has_image && a.prot == b.prot;
  };
  Region* prev = regions_.Prev(*r);
  if (prev != nullptr && alike(*prev, *r)) {
    prev->end = r->end;
    EraseRegion(r);
    r = prev;
  }
  Region* next = regions_.Next(*r);
  if (next != nullptr && alike(*r, *next)) {
    r->end = next->end;
    EraseRegion(next);
  }
}

void AddressSpace::MergeRange(uintptr_t start, uintptr_t end) {
  Region* r = start > 0 ? FindRegion(start - 1) : nullptr;
  if (r == nullptr) r = FirstEndingAfter(start);
  while (r != nullptr && r->start <= end) {
    Region* next = regions_.Next(*r);
    if (next != nullptr && next->start <= end && r->end == next->start && !r->has_image &&
        !next->has_image && r->prot == next->prot) {
      r->end = next->end;
      EraseRegion(next);
      continue;
    }
    r = next;
  }
}

Result<void> AddressSpace::RemoveRange(uintptr_t start, uintptr_t end) {
  // Split first, so that a split that fails for memory leaves everything as it was.
  LICHEN_TRY(SplitAt(start));
  LICHEN_TRY(SplitAt(end));
  Region* r = FirstEndingAfter(start);
  while (r != nullptr && r->start < end) {
    Region* next = regions_.Next(*r);
    EraseRegion(r);
    r = next;
  }
  ZapRange(start, end);
  return {};
}

// --- Page tables ---------------------------------------------------------------------------

Atomic<uint64_t>* AddressSpace::EntrySlot(uintptr_t va, bool create, bool* no_memory) {
  Table* t = TableAt(root_pa_);
  for (int level = 0; level < 3; ++level) {
    Atomic<uint64_t>& slot = t->e[IndexAt(va, level)];
    uint64_t e = slot.Load(std::memory_order_acquire);
    if (!platform::EntryValid(e)) {
      if (!create) return nullptr;
      const uintptr_t page = NewTablePage();
      if (page == 0) {
        if (no_memory != nullptr) *no_memory = true;
        return nullptr;
      }
      // Release: the zeroed table is visible before the entry that points at it.
      e = platform::EncodeTableEntry(platform::KernelToPhys(page));
      slot.Store(e, std::memory_order_release);
      ++table_pages_;
    }
    t = TableAt(platform::EntryAddress(e));
  }
  return &t->e[IndexAt(va, 3)];
}

uint64_t AddressSpace::LookupEntry(uintptr_t addr) const {
  if (addr >= platform::kUserVaTop) return platform::kInvalidEntry;
  const Table* t = TableAt(root_pa_);
  for (int level = 0; level < 3; ++level) {
    const uint64_t e = t->e[IndexAt(addr, level)].Load(std::memory_order_acquire);
    if (!platform::EntryValid(e)) return platform::kInvalidEntry;
    t = TableAt(platform::EntryAddress(e));
  }
  return t->e[IndexAt(addr, 3)].Load(std::memory_order_acquire);
}

void AddressSpace::FillPage(const Region& r, uintptr_t va, uint8_t* kva) {
  memset(kva, 0, kPageSize);
  if (!r.has_image) return;
  const uintptr_t skip = va - r.start;
  if (skip >= r.image.file_size) return;
  const size_t n = r.image.file_size - skip < kPageSize ? r.image.file_size - skip : kPageSize;
  memcpy(kva, r.image.file + r.image.offset + skip, n);
}

uint32_t AddressSpace::AsidForFlush() const {
  // The clears (release stores) are ordered before this read: a CPU that takes a new ASID
  // for this space after it can only walk the cleared tables, and one that took it before is
  // flushed by the ASID read here.
  ThreadFence(std::memory_order_seq_cst);
  const uint64_t id = context_id_.Load(std::memory_order_seq_cst);
  return id == 0 ? 0 : Asids().AsidOf(id);
}

void AddressSpace::DrainFreed(FreeBatch& batch) {
  // TLBs first (every CPU), then the pages and tables go back.
  const uint32_t asid = AsidForFlush();
  if (asid != 0) {
    size_t pages = 0;
    for (size_t i = 0; i < batch.count; ++i)
      pages += batch.items[i].table ? 0 : 1;
    // A freed table may be cached by walks of any address under it, and many pages are
    // cheaper to drop all at once.
    if (batch.tables || pages > kPageFlushLimit) {
      platform::TlbFlushAsid(asid);
    } else {
      for (size_t i = 0; i < batch.count; ++i)
        platform::TlbFlushPage(asid, batch.items[i].va);
    }
  }
  for (size_t i = 0; i < batch.count; ++i) {
    if (batch.items[i].table) {
      mm::Pages().FreePages(batch.items[i].kva, 0, kPageTableTag);
    } else {
      mm::Pages().FreePages(batch.items[i].kva, 0);
    }
  }
  batch.count = 0;
  batch.tables = false;
}

bool AddressSpace::ZapTable(Table* t, int level, uintptr_t base, uintptr_t start, uintptr_t end,
                            FreeBatch& batch) {
  const uintptr_t span = SpanOf(level);
  const size_t first = start > base ? IndexAt(start, level) : 0;
  for (size_t i = first; i < platform::kEntriesPerTable; ++i) {
    const uintptr_t va = base + i * span;
    if (va >= end) break;
    const uint64_t e = t->e[i].Load(std::memory_order_relaxed);
    if (!platform::EntryValid(e)) continue;
    uintptr_t freed;
    if (level == 3) {
      freed = platform::PhysToKernel(platform::EntryAddress(e));
      --resident_pages_;
    } else {
      Table* child = TableAt(platform::EntryAddress(e));
      if (!ZapTable(child, level + 1, va, start, end, batch)) continue;
      freed = reinterpret_cast<uintptr_t>(child);
      --table_pages_;
      batch.tables = true;
    }
    if (batch.Full()) DrainFreed(batch);
    {
      // Under the table lock: a non-sleeping walk that found the entry valid is done with
      // the page before the clear, and so before the free (uaccess.h).
      LockGuard<SpinLock> guard(table_lock_);
      t->e[i].Store(platform::kInvalidEntry, std::memory_order_release);
    }
    batch.items[batch.count++] = {va, freed, level < 3};
  }
  for (size_t i = 0; i < platform::kEntriesPerTable; ++i) {
    if (platform::EntryValid(t->e[i].Load(std::memory_order_relaxed))) return false;
  }
  return true;
}

void AddressSpace::ZapRange(uintptr_t start, uintptr_t end) {
  if (start >= end) return;
  FreeBatch batch;
  ZapTable(TableAt(root_pa_), 0, 0, start, end, batch);  // the root stays, empty or not
  DrainFreed(batch);
}

void AddressSpace::ReprotectRange(uintptr_t start, uintptr_t end, PageProt prot) {
  size_t changed = 0;
  uintptr_t one_va = 0;
  for (uintptr_t va = start; va < end;) {
    Atomic<uint64_t>* slot = EntrySlot(va, false, nullptr);
    if (slot == nullptr) {
      // No level-3 table here: skip to the next 2 MiB boundary (or beyond, cheaply enough).
      const uintptr_t next = (va | (SpanOf(2) - 1)) + 1;
      if (next <= va) break;
      va = next;
      continue;
    }
    const uint64_t e = slot->Load(std::memory_order_relaxed);
    const uint64_t want = platform::EncodeUserPage(platform::EntryAddress(e), prot);
    if (platform::EntryValid(e) && e != want) {
      slot->Store(want, std::memory_order_release);
      ++changed;
      one_va = va;
    }
    va += kPageSize;
  }
  if (changed == 0) return;
  const uint32_t asid = AsidForFlush();
  if (asid == 0) return;
  if (changed == 1) {
    platform::TlbFlushPage(asid, one_va);
  } else {
    platform::TlbFlushAsid(asid);
  }
}

// --- Faults ------------------------------------------------------------------------------

FaultResult AddressSpace::FaultLocked(uintptr_t addr, Access access) {
  if (addr < platform::kUserVaBottom || addr >= platform::kUserVaTop) {
    return FaultResult::kSegvMapErr;
  }
  const Region* r = FindRegion(addr);
  if (r == nullptr) return FaultResult::kSegvMapErr;
  if (!Allows(r->prot, access)) return FaultResult::kSegvAccErr;
  const uintptr_t va = PageDown(addr);
  bool no_memory = false;
  Atomic<uint64_t>* slot = EntrySlot(va, true, &no_memory);
  if (slot == nullptr) return FaultResult::kNoMemory;
  const uint64_t e = slot->Load(std::memory_order_acquire);
  if (platform::EntryValid(e)) {
    // Another thread mapped it first (or a stale TLB entry faulted): the seed's
    // "AlreadyMapped" error turned this into SIGSEGV.
    if (LICHEN_FAULT(vm_already_mapped_is_an_error)) return FaultResult::kSegvMapErr;
    // The region allows the access but the entry, as the machine reads it, does not (a
    // platform without execute-only pages readable, say): returning kOk would fault again
    // forever.
    if (!EntryPermits(e, access)) return FaultResult::kSegvAccErr;
    return FaultResult::kOk;
  }
  Result<uintptr_t> page = mm::Pages().AllocPages(0);
  if (!page.ok()) return FaultResult::kNoMemory;
  FillPage(*r, va, reinterpret_cast<uint8_t*>(page.value()));
  // Release: the page's contents are visible before the entry that maps it.
  slot->Store(platform::EncodeUserPage(platform::KernelToPhys(page.value()), r->prot),
              std::memory_order_release);
  ++resident_pages_;
  return FaultResult::kOk;
}

FaultResult AddressSpace::FaultDroppingLock(uintptr_t addr, Access access) {
  // The injected bug: the region is looked at once, the lock dropped for the allocation and
  // the fill, and the page installed later without looking at the region again.
  Region snapshot;
  {
    LockGuard<Mutex> guard(lock_);
    const Region* r = FindRegion(addr);
    if (addr < platform::kUserVaBottom || addr >= platform::kUserVaTop || r == nullptr) {
      return FaultResult::kSegvMapErr;
    }
    if (!Allows(r->prot, access)) return FaultResult::kSegvAccErr;
    if (platform::EntryValid(LookupEntry(addr))) return FaultResult::kOk;
    snapshot.start = r->start;
    snapshot.end = r->end;
    snapshot.prot = r->prot;
    snapshot.has_image = r->has_image;
    snapshot.image = r->image;
  }
  Result<uintptr_t> page = mm::Pages().AllocPages(0);
  if (!page.ok()) return FaultResult::kNoMemory;
  FillPage(snapshot, PageDown(addr), reinterpret_cast<uint8_t*>(page.value()));
  LockGuard<Mutex> guard(lock_);
  bool no_memory = false;
  Atomic<uint64_t>* slot = EntrySlot(PageDown(addr), true, &no_memory);
  if (slot == nullptr || platform::EntryValid(slot->Load(std::memory_order_acquire))) {
    mm::Pages().FreePages(page.value(), 0);
    return slot == nullptr ? FaultResult::kNoMemory : FaultResult::kOk;
  }
  slot->Store(platform::EncodeUserPage(platform::KernelToPhys(page.value()), snapshot.prot),
              std::memory_order_release);
  ++resident_pages_;
  return FaultResult::kOk;
}

FaultResult HandleFault(AddressSpace& as, uintptr_t addr, Access access) {
  if (LICHEN_FAULT(vm_fault_drops_lock_to_fill)) return as.FaultDroppingLock(addr, access);
  LockGuard<Mutex> guard(as.lock());
  return as.FaultLocked(addr, access);
}

// --- The system calls --------------------------------------------------------------------

int64_t AddressSpace::Map(uintptr_t hint, size_t len, uint32_t prot, uint32_t flags,
                          const ImageBacking* image) {
  LockGuard<Mutex> guard(lock_);
  return MapLocked(hint, len, prot, flags, image);
}

int64_t AddressSpace::MapLocked(uintptr_t hint, size_t len, uint32_t prot, uint32_t flags,
                                const ImageBacking* image) {
  // The checks in Linux 6.1's order (ksys_mmap_pgoff, do_mmap, get_unmapped_area), so that
  // a call breaking two rules gets the errno Linux gives.
  if (image == nullptr && (flags & kMapAnonymous) == 0) return Err(Errno::kBadF);
  if (len == 0) return Err(Errno::kInval);
  size_t size;
  if (!PageUp(len, &size)) return Err(Errno::kNoMem);
  if (regions_.Size() >= kMaxRegions) return Err(Errno::kNoMem);
  if (size > platform::kUserVaTop - platform::kUserVaBottom) return Err(Errno::kNoMem);
  const bool fixed = (flags & (kMapFixed | kMapFixedNoreplace)) != 0;
  uintptr_t start;
  if (fixed) {
    if (hint > platform::kUserVaTop - size) return Err(Errno::kNoMem);
    if ((hint & kPageMask) != 0) return Err(Errno::kInval);
    // Linux lets a task with CAP_SYS_RAWIO map below mmap_min_addr; Lichen never maps page 0.
    if (hint < platform::kUserVaBottom) return Err(Errno::kPerm);
    start = hint;
    if ((flags & kMapFixedNoreplace) != 0 && !RangeFree(start, start + size)) {
      return Err(Errno::kExist);
    }
  } else {
    start = FindFreeRange(hint, size);
    if (start == 0) return Err(Errno::kNoMem);
  }
  // Anonymous memory must be MAP_PRIVATE or MAP_SHARED (6.1 refuses MAP_SHARED_VALIDATE for
  // it); an image is a file, for which MAP_SHARED_VALIDATE is valid too.
  const uint32_t type = flags & kMapTypeMask;
  if (type != kMapShared && type != kMapPrivate &&
      (type != kMapSharedValidate || image == nullptr)) {
    return Err(Errno::kInval);
  }
  // Linux ignores prot bits it does not know in mmap (mprotect refuses them).
  const uintptr_t end = start + size;
  if (!RangeFree(start, end)) {
    if (!RemoveRange(start, end).ok()) return Err(Errno::kNoMem);
  }
  Result<Region*> r = InsertRegion(start, end, ProtFromBits(prot & 7), image);
  if (!r.ok()) return Err(Errno::kNoMem);
  if (image == nullptr) MergeAround(r.value());
  if ((flags & kMapPopulate) != 0) {
    for (uintptr_t va = start; va < end; va += kPageSize) {
      // Best effort, as Linux: a page that cannot be populated faults later.
      if (FaultLocked(va, Access::kRead) != FaultResult::kOk) break;
    }
  }
  return static_cast<int64_t>(start);
}

int64_t AddressSpace::Unmap(uintptr_t addr, size_t len) {
  if ((addr & kPageMask) != 0 || len == 0) return Err(Errno::kInval);
  size_t size;
  if (!PageUp(len, &size) || addr > platform::kUserVaTop || size > platform::kUserVaTop - addr) {
    return Err(Errno::kInval);
  }
  LockGuard<Mutex> guard(lock_);
  if (!RemoveRange(addr, addr + size).ok()) return Err(Errno::kNoMem);
  return 0;
}

int64_t AddressSpace::Protect(uintptr_t addr, size_t len, uint32_t prot) {
  // Linux 6.1's order (do_mprotect_pkey, arm64's arch_validate_prot, which accepts PROT_SEM).
  if ((addr & kPageMask) != 0) return Err(Errno::kInval);
  if (len == 0) return 0;
  size_t size;
  if (!PageUp(len, &size) || size > UINTPTR_MAX - addr) return Err(Errno::kNoMem);
  if ((prot & ~(kProtRead | kProtWrite | kProtExec | kProtSem)) != 0) return Err(Errno::kInval);
  const uintptr_t end = addr + size;
  const PageProt want = ProtFromBits(prot);
  LockGuard<Mutex> guard(lock_);
  // As Linux: the regions before a hole are changed, then ENOMEM.
  int64_t result = 0;
  uintptr_t at = addr;
  while (at < end) {
    Region* r = FindRegion(at);
    if (r == nullptr) {
      result = Err(Errno::kNoMem);
      break;
    }
    const uintptr_t stop = r->end < end ? r->end : end;
    if (!(r->prot == want)) {
      if (!SplitAt(at).ok() || !SplitAt(stop).ok()) {
        result = Err(Errno::kNoMem);
        break;
      }
      r = FindRegion(at);
      r->prot = want;
      ReprotectRange(r->start, r->end, want);
    }
    at = stop;
  }
  MergeRange(addr, at);
  return result;
}

int64_t AddressSpace::AdviseDontNeed(uintptr_t addr, size_t len) {
  // Linux 6.1's order (do_madvise): past the end of user space is a hole (ENOMEM), only a
  // wrap is EINVAL.
  if ((addr & kPageMask) != 0) return Err(Errno::kInval);
  size_t size;
  if (!PageUp(len, &size) || size > UINTPTR_MAX - addr) return Err(Errno::kInval);
  if (size == 0) return 0;
  const uintptr_t end = addr + size;
  LockGuard<Mutex> guard(lock_);
  bool hole = false;
  uintptr_t at = addr;
  for (Region* r = FirstEndingAfter(addr); r != nullptr && r->start < end; r = regions_.Next(*r)) {
    if (r->start > at) hole = true;
    const uintptr_t from = r->start > addr ? r->start : addr;
    const uintptr_t to = r->end < end ? r->end : end;
    ZapRange(from, to);
    at = r->end;
  }
  if (at < end) hole = true;
  return hole ? Err(Errno::kNoMem) : 0;
}

void AddressSpace::SetBrkStart(uintptr_t start) {
  LockGuard<Mutex> guard(lock_);
  brk_start_ = (start + kPageMask) & ~kPageMask;
  brk_ = brk_start_;
}

uintptr_t AddressSpace::Brk(uintptr_t new_end) {
  LockGuard<Mutex> guard(lock_);
  if (new_end == 0 || new_end < brk_start_ || new_end > platform::kUserVaTop - kPageSize) {
    return brk_;
  }
  const uintptr_t old_top = (brk_ + kPageMask) & ~kPageMask;
  const uintptr_t new_top = (new_end + kPageMask) & ~kPageMask;
  if (new_top < old_top) {
    if (!RemoveRange(new_top, old_top).ok()) return brk_;
  } else if (new_top > old_top) {
    // Linux refuses a break that would come within a page of the next mapping.
    if (!RangeFree(old_top, new_top + kPageSize)) return brk_;
    Result<Region*> r = InsertRegion(old_top, new_top, PageProt{true, true, false}, nullptr);
    if (!r.ok()) return brk_;
    MergeAround(r.value());
  }
  brk_ = new_end;
  return brk_;
}

void AddressSpace::SetMmapBase(uintptr_t base) {
  LockGuard<Mutex> guard(lock_);
  mmap_base_ = base & ~kPageMask;
}

// --- Inspection ----------------------------------------------------------------------------

bool AddressSpace::RegionAt(uintptr_t addr, RegionInfo* info) {
  LockGuard<Mutex> guard(lock_);
  const Region* r = FindRegion(addr);
  if (r == nullptr) return false;
  if (info != nullptr) *info = RegionInfo{r->start, r->end, r->prot, r->has_image};
  return true;
}

size_t AddressSpace::RegionCount() {
  LockGuard<Mutex> guard(lock_);
  return regions_.Size();
}

bool AddressSpace::Translate(uintptr_t addr, uintptr_t* page_pa, PageProt* prot) {
  LockGuard<Mutex> guard(lock_);
  const uint64_t e = LookupEntry(addr);
  if (!platform::EntryValid(e)) return false;
  if (page_pa != nullptr) *page_pa = platform::EntryAddress(e);
  if (prot != nullptr) *prot = platform::EntryProt(e);
  return true;
}

size_t AddressSpace::ResidentPages() {
  LockGuard<Mutex> guard(lock_);
  return resident_pages_;
}

size_t AddressSpace::TablePages() {
  LockGuard<Mutex> guard(lock_);
  return table_pages_;
}

}  // namespace lichen::vm

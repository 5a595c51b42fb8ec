// Task kernel stacks with guard pages (kernel/base/platform_stack.h) on aarch64.
//
// The upper half of the kernel's TTBR1 range (LICHEN_KSTACK_REGION_BASE, never a direct-map
// address) is cut into kSlots slots of kSlotSize bytes. A stack occupies the top of its slot;
// everything below it in the slot stays unmapped (at least one page: the largest stack is half
// a slot), so running off the bottom of a stack is a translation fault. That fault is taken on
// the CPU's exception stack (vectors.S switches to it for every synchronous exception at EL1),
// and the fatal report names the guard page and the task (exceptions.cc, DescribeGuard).
//
// The memory is one block of the core's page allocator, mapped page by page into the slot
// (it stays mapped in the direct map too, with the same attributes). The level 1-3 tables of
// the region come from the page allocator as needed and are kept: they cover at most the 4 GiB
// of slots. Lock: one platform ticket lock, IRQs masked, around the slot bitmap and the table
// edits; the page allocator is called under it (its own lock nests inside).
#include "kernel/base/platform_stack.h"

#include "kernel/mm/kmem.h"
#include "lib/units.h"
#include "platform/aarch64/asm_defs.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/kstack.h"
#include "platform/aarch64/mmu.h"
#include "platform/aarch64/sysreg.h"
#include "platform/aarch64/ticket_lock.h"

namespace lichen::aarch64 {

namespace {

constexpr uintptr_t kRegionBase = kTaskStackRegionBase;
constexpr size_t kSlotSize = kTaskStackSlotSize;
constexpr uint32_t kSlots = kTaskStackSlots;
constexpr size_t kMaxStack = kSlotSize / 2;
constexpr uint64_t kPage = LICHEN_PAGE_SIZE;

// Stage-1 descriptor bits (the same as mmu.cc's kernel data): a valid level-3 page, Normal
// write-back, inner shareable, accessed, EL1 read-write only, never executable, global.
constexpr uint64_t kValid = 1;
constexpr uint64_t kTableOrPage = 2;
constexpr uint64_t kStackPage = kValid | kTableOrPage | (uint64_t{LICHEN_MAIR_NORMAL_INDEX} << 2) |
                                (uint64_t{3} << 8) | (uint64_t{1} << 10) | (uint64_t{1} << 53) |
                                (uint64_t{1} << 54);
constexpr uint64_t kAddressMask = 0x0000fffffffff000ULL;

UncheckedTicketLock g_lock;
uint64_t g_used[kSlots / 64] TA_GUARDED(g_lock);
uint32_t g_next TA_GUARDED(g_lock);  // where the next search starts

uint64_t* TableAt(uint64_t entry) {
  return reinterpret_cast<uint64_t*>(PhysToVirt(entry & kAddressMask));
}

uint64_t LoadEntry(const uint64_t* e) {
  return __atomic_load_n(e, __ATOMIC_RELAXED);
}
void StoreEntry(uint64_t* e, uint64_t value) {
  __atomic_store_n(e, value, __ATOMIC_RELAXED);
}

// The level-3 entry for `va` in the kernel's tables; with `create`, missing tables are
// allocated (zeroed, and made visible to table walkers before the entry that links them).
// nullptr when a table is missing (and not created) or cannot be allocated.
uint64_t* LeafEntry(uintptr_t va, bool create) TA_REQ(g_lock) {
  uint64_t* table = lichen_page_tables[0];
  for (int level = 0; level < 3; ++level) {
    uint64_t* entry = &table[(va >> (39 - 9 * level)) & 511];
    uint64_t e = LoadEntry(entry);
    if ((e & kValid) == 0) {
      if (!create) return nullptr;
      const Result<uintptr_t> page = mm::Pages().AllocPages(0);
      if (!page.ok()) return nullptr;
      auto* fresh = reinterpret_cast<uint64_t*>(page.value());
      for (uint32_t i = 0; i < 512; ++i)
        fresh[i] = 0;
      DsbIshSt();  // the zeroes before the link: a walker must never see stale entries
      e = VirtToPhys(page.value()) | kValid | kTableOrPage;
      StoreEntry(entry, e);
    }
    table = TableAt(e);
  }
  return &table[(va >> 12) & 511];
}

// Unmaps [base, base + bytes) and waits until no CPU's TLB holds it. Returns the physical
// address the first page was mapped to (0 if it was not mapped).
uint64_t Unmap(uintptr_t base, size_t bytes) TA_REQ(g_lock) {
  uint64_t first_pa = 0;
  for (uintptr_t va = base; va < base + bytes; va += kPage) {
    uint64_t* leaf = LeafEntry(va, false);
    if (leaf == nullptr) continue;
    if (va == base) first_pa = LoadEntry(leaf) & kAddressMask;
    StoreEntry(leaf, 0);
  }
  DsbIshSt();
  for (uintptr_t va = base; va < base + bytes; va += kPage) {
    // By VA, all ASIDs (the entries are global), last level, every CPU.
    asm volatile("tlbi vaale1is, %0" ::"r"((va >> 12) & 0xfffffffffffULL) : "memory");
  }
  DsbIsh();
  Isb();
  return first_pa;
}

uintptr_t SlotTop(uint32_t slot) {
  return kRegionBase + (static_cast<uintptr_t>(slot) + 1) * kSlotSize;
}

}  // namespace

}  // namespace lichen::aarch64

namespace lichen::platform {

using namespace aarch64;  // NOLINT: this file's own platform

Result<void*> AllocTaskStack(size_t bytes) {
  if (bytes != TaskStackBytes(bytes) || bytes > kMaxStack) return Error::kInvalidArgument;
  uint32_t order = 0;
  while ((kPage << order) < bytes)
    ++order;
  const uintptr_t memory = LICHEN_TRY(mm::Pages().AllocPages(order));
  IrqSaveLockGuard guard(g_lock);
  uint32_t slot = kSlots;
  for (uint32_t i = 0; i < kSlots; ++i) {
    const uint32_t s = (g_next + i) % kSlots;
    if ((g_used[s / 64] & (uint64_t{1} << (s % 64))) == 0) {
      slot = s;
      break;
    }
  }
  if (slot == kSlots) {
    mm::Pages().FreePages(memory, order);
    return Error::kNoMemory;
  }
  const uintptr_t base = SlotTop(slot) - bytes;
  for (size_t off = 0; off < bytes; off += kPage) {
    uint64_t* leaf = LeafEntry(base + off, true);
    if (leaf == nullptr) {
      (void)Unmap(base, off);  // the pages mapped so far
      mm::Pages().FreePages(memory, order);
      return Error::kNoMemory;
    }
    StoreEntry(leaf, (VirtToPhys(memory) + off) | kStackPage);
  }
  // Visible to every CPU's table walker before the stack's address is published (the
  // scheduler hands the task to another CPU with its own release/acquire ordering).
  DsbIshSt();
  Isb();
  g_used[slot / 64] |= uint64_t{1} << (slot % 64);
  g_next = (slot + 1) % kSlots;
  return reinterpret_cast<void*>(base);
}

void FreeTaskStack(void* base, size_t bytes) {
  const auto va = reinterpret_cast<uintptr_t>(base);
  LICHEN_ASSERT(InTaskStackRegion(va) && bytes == TaskStackBytes(bytes) && bytes <= kMaxStack &&
                    (va + bytes - kRegionBase) % kSlotSize == 0,
                "FreeTaskStack({}, {}): not a stack AllocTaskStack gave", base, bytes);
  const uint32_t slot = static_cast<uint32_t>((va - kRegionBase) / kSlotSize);
  uint32_t order = 0;
  while ((kPage << order) < bytes)
    ++order;
  uint64_t pa = 0;
  {
    IrqSaveLockGuard guard(g_lock);
    LICHEN_ASSERT((g_used[slot / 64] & (uint64_t{1} << (slot % 64))) != 0,
                  "FreeTaskStack({}): the slot is not in use", base);
    pa = Unmap(va, bytes);
    g_used[slot / 64] &= ~(uint64_t{1} << (slot % 64));
  }
  LICHEN_ASSERT(pa != 0, "FreeTaskStack({}): the stack was not mapped", base);
  mm::Pages().FreePages(PhysToVirt(pa), order);
}

}  // namespace lichen::platform

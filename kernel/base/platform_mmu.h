// The platform's half of virtual memory: what the portable page tables (kernel/vm) ask of the
// machine. The core builds, walks and edits the tables itself (4 levels of 512 64-bit
// entries, 4 KiB pages, 48-bit user addresses); the platform only says how an entry is
// encoded, how physical and kernel addresses convert, and how TLBs are maintained.
//
//   platform/sim      its own simple encoding, no TLB (flushes are counted and checked);
//   platform/aarch64  VMSAv8-64 descriptors, TLBI ...IS broadcast, TTBR0_EL1 per process.
//
// Ordering: the core writes an entry with a release store and only then calls the TLB and
// translation functions below; any barrier a hardware table walker needs before it may use
// a new entry (aarch64: DSB ISHST) is inside those functions, not the core's business.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lichen::platform {

// --- Physical memory and the direct map ------------------------------------------------------

// mm::Pages() hands out kernel virtual addresses of the direct map; page-table entries hold
// physical addresses. The two conversions (the identity in the simulator).
uintptr_t KernelToPhys(uintptr_t kva);
uintptr_t PhysToKernel(uintptr_t pa);

// --- User address space ----------------------------------------------------------------------

// User virtual addresses are [kUserVaBottom, kUserVaTop): 48 bits, the first page never mapped
// (a null pointer dereference always faults).
inline constexpr uintptr_t kUserVaTop = uintptr_t{1} << 48;
inline constexpr uintptr_t kUserVaBottom = 4096;

// The permissions user code (EL0) has on a page. The kernel never uses these mappings itself
// (it copies through the direct map), so they say nothing about kernel access.
struct PageProt {
  bool read = false;
  bool write = false;
  bool exec = false;
  friend bool operator==(const PageProt&, const PageProt&) = default;
};

// --- Entries -----------------------------------------------------------------------------

// Levels: 0 is the root (bits 47..39 of the address), 3 the last (bits 20..12). A table at
// level L < 3 holds table entries (pointing at a level L+1 table) or invalid entries; a
// level-3 table holds page entries or invalid entries. The core maps no block (huge) pages.
inline constexpr int kPageTableLevels = 4;
inline constexpr size_t kEntriesPerTable = 512;

// An entry pointing at the next-level table at physical address `next_table_pa` (page
// aligned), valid, for any level 0..2.
uint64_t EncodeTableEntry(uintptr_t next_table_pa);

// A level-3 entry mapping the 4 KiB page at `page_pa` for user code with `prot`, valid.
// Encoding PROT_NONE is allowed (a valid entry no user access may use).
uint64_t EncodeUserPage(uintptr_t page_pa, PageProt prot);

// The page allocator's owner tag (kernel/mm/page_alloc.h) of the core's page-table pages, so
// that a platform can check that a root it is given is a live table (the simulator does).
inline constexpr uint8_t kPageTableTag = 3;

// 0 is the invalid entry on every platform: a zeroed page is an empty table.
inline constexpr uint64_t kInvalidEntry = 0;

// True when `e` is a valid entry of any kind.
bool EntryValid(uint64_t e);
// True when `e`, read from a table at `level` (0..3), points at a next-level table.
bool EntryIsTable(uint64_t e, int level);
// The physical address in a valid entry (the next table's, or the page's).
uintptr_t EntryAddress(uint64_t e);
// The user permissions of a valid level-3 page entry.
PageProt EntryProt(uint64_t e);

// --- ASIDs and TLBs ------------------------------------------------------------------------

// Width of the ASIDs this machine supports: 8 or 16 (aarch64: ID_AA64MMFR0_EL1.ASIDBits).
// ASID 0 is reserved by the core's allocator (kernel/vm/asid.h) for "no user space".
uint32_t AsidBits();

// Invalidates the translation of `va` (user, page aligned) tagged `asid` on every CPU and
// waits until that is done everywhere (aarch64: DSB ISHST; TLBI VAE1IS; DSB ISH).
void TlbFlushPage(uint32_t asid, uintptr_t va);
// Invalidates every translation tagged `asid` on every CPU, and waits (TLBI ASIDE1IS).
void TlbFlushAsid(uint32_t asid);
// Invalidates every user translation of every ASID on this CPU only (after an ASID
// rollover; the allocator asks each CPU to do it before it next uses an ASID).
void TlbFlushAllLocal();

// Makes `root_pa` (the level-0 table's physical address) with `asid` this CPU's user
// translation (aarch64: TTBR0_EL1 = asid << 48 | root_pa; ISB). root_pa 0: no user
// translation at all (kernel threads); asid is then ignored. Called with IRQs masked.
void SetUserTranslation(uintptr_t root_pa, uint32_t asid);

}  // namespace lichen::platform

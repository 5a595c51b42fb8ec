// VMSAv8-64 stage-1 descriptors of the user half (TTBR0) and TTBR0_EL1 itself: the encoding
// behind platform::EncodeUserPage & co. (user_mmu.cc), shared with the ktests that build a
// user address space by hand (ktests/user_el0_tests.cc).
#pragma once

#include <cstdint>

#include "platform/aarch64/asm_defs.h"
#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/mmu.h"
#include "platform/aarch64/sysreg.h"

namespace lichen::aarch64::pte {

// Stage-1 descriptor bits (Arm ARM D8.3, 4 KiB granule).
inline constexpr uint64_t kValid = uint64_t{1} << 0;
inline constexpr uint64_t kTableOrPage = uint64_t{1} << 1;  // levels 0-2: table; level 3: page
inline constexpr uint64_t kAttrNormal = uint64_t{LICHEN_MAIR_NORMAL_INDEX} << 2;
inline constexpr uint64_t kApEl0 = uint64_t{1} << 6;       // AP[1]: EL0 may access
inline constexpr uint64_t kApReadOnly = uint64_t{1} << 7;  // AP[2]: read-only (EL0 and EL1)
inline constexpr uint64_t kShInner = uint64_t{3} << 8;
inline constexpr uint64_t kAf = uint64_t{1} << 10;         // access flag: set, no AF faults
inline constexpr uint64_t kNotGlobal = uint64_t{1} << 11;  // nG: tagged with the ASID
inline constexpr uint64_t kPxn = uint64_t{1} << 53;
inline constexpr uint64_t kUxn = uint64_t{1} << 54;
inline constexpr uint64_t kAddressMask = 0x0000fffffffff000ULL;  // output address [47:12]

// An entry of a level 0-2 table pointing at the next level. No hierarchical limits (APTable,
// XNTable = 0): the leaf decides.
constexpr uint64_t Table(uint64_t next_table_pa) {
  return (next_table_pa & kAddressMask) | kValid | kTableOrPage;
}

// A level-3 user page: Normal write-back, inner shareable, accessed, tagged with the ASID,
// never executable at EL1 (PXN). The architecture has no write-only page: write implies read,
// as on Linux. No user access at all (PROT_NONE) is AP[1] = 0 with UXN; execute-only is AP[1]
// = 0 without UXN. With SCTLR_EL1.WXN set, a writable page is never executable.
constexpr uint64_t UserPage(uint64_t page_pa, bool read, bool write, bool exec) {
  uint64_t e = (page_pa & kAddressMask) | kValid | kTableOrPage | kAttrNormal | kShInner | kAf |
               kNotGlobal | kPxn;
  if (read || write) e |= kApEl0;
  if (!write) e |= kApReadOnly;
  if (!exec) e |= kUxn;
  return e;
}

constexpr bool UserRead(uint64_t e) {
  return (e & kApEl0) != 0;
}
constexpr bool UserWrite(uint64_t e) {
  return (e & kApEl0) != 0 && (e & kApReadOnly) == 0;
}
constexpr bool UserExec(uint64_t e) {
  return (e & kUxn) == 0;
}

// TLBI operands: the ASID in [63:48], VA[55:12] in [43:0].
constexpr uint64_t AsidOperand(uint32_t asid) {
  return uint64_t{asid} << 48;
}

// This CPU's TTBR0_EL1: `root_pa` tagged with `asid`, or with root_pa 0 the empty table (ASID
// 0, which no address space gets: nothing is found and nothing is cached under it). Any entry
// written before is visible to the walker first (DSB ISHST); ISB so the next instruction uses
// the new translation.
inline void SetTtbr0(uint64_t root_pa, uint32_t asid) {
  const uint64_t ttbr = root_pa == 0 ? VirtToPhys(reinterpret_cast<uintptr_t>(lichen_empty_table))
                                     : (root_pa & kAddressMask) | AsidOperand(asid);
  DsbIshSt();
  asm volatile("msr ttbr0_el1, %0" ::"r"(ttbr) : "memory");
  Isb();
}

// Invalidates every translation tagged `asid`, on every CPU, and waits.
inline void FlushAsid(uint32_t asid) {
  DsbIshSt();
  asm volatile("tlbi aside1is, %0" ::"r"(AsidOperand(asid)) : "memory");
  DsbIsh();
  Isb();
}

}  // namespace lichen::aarch64::pte

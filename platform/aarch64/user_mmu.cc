// The aarch64 side of the portable page tables (kernel/base/platform_mmu.h): the direct map's
// conversions, EL0 page descriptors (user_pte.h), ASID width, TLB maintenance by broadcast
// TLBI ...IS, and TTBR0_EL1 (docs/aarch64.md, "Memory map").
#include "kernel/base/platform_mmu.h"

#include "platform/aarch64/direct_map.h"
#include "platform/aarch64/sysreg.h"
#include "platform/aarch64/user_pte.h"

namespace lichen::platform {

uintptr_t KernelToPhys(uintptr_t kva) {
  return aarch64::VirtToPhys(kva);
}

uintptr_t PhysToKernel(uintptr_t pa) {
  return aarch64::PhysToVirt(pa);
}

uint64_t EncodeTableEntry(uintptr_t next_table_pa) {
  return aarch64::pte::Table(next_table_pa);
}

uint64_t EncodeUserPage(uintptr_t page_pa, PageProt prot) {
  return aarch64::pte::UserPage(page_pa, prot.read, prot.write, prot.exec);
}

bool EntryValid(uint64_t e) {
  return (e & aarch64::pte::kValid) != 0;
}

bool EntryIsTable(uint64_t e, int level) {
  using namespace aarch64::pte;
  return level < 3 && (e & (kValid | kTableOrPage)) == (kValid | kTableOrPage);
}

uintptr_t EntryAddress(uint64_t e) {
  return e & aarch64::pte::kAddressMask;
}

PageProt EntryProt(uint64_t e) {
  PageProt prot;
  prot.read = aarch64::pte::UserRead(e);
  prot.write = aarch64::pte::UserWrite(e);
  prot.exec = aarch64::pte::UserExec(e);
  return prot;
}

uint32_t AsidBits() {
  // ID_AA64MMFR0_EL1.ASIDBits [7:4]: 0b0010 = 16 bits (and boot.S then set TCR_EL1.AS).
  return ((LICHEN_READ_SYSREG(id_aa64mmfr0_el1) >> 4) & 0xf) == 2 ? 16 : 8;
}

void TlbFlushPage(uint32_t asid, uintptr_t va) {
  // The entry's change reaches every CPU's table walker before the invalidation.
  aarch64::DsbIshSt();
  const uint64_t operand = aarch64::pte::AsidOperand(asid) | ((va >> 12) & 0xfffffffffffULL);
  asm volatile("tlbi vae1is, %0" ::"r"(operand) : "memory");
  aarch64::DsbIsh();
  aarch64::Isb();
}

void TlbFlushAsid(uint32_t asid) {
  aarch64::pte::FlushAsid(asid);
}

void TlbFlushAllLocal() {
  asm volatile("dsb nshst\n\ttlbi vmalle1\n\tdsb nsh\n\tisb" ::: "memory");
}

void SetUserTranslation(uintptr_t root_pa, uint32_t asid) {
  aarch64::pte::SetTtbr0(root_pa, asid);
}

}  // namespace lichen::platform

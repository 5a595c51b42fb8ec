// AArch64 system-register access, barriers and MMIO accessors for the platform code.
//
// Every accessor is a single instruction wrapped in inline asm with a "memory" clobber where
// ordering against surrounding loads and stores matters (DAIF, barriers, MMIO), so the
// compiler cannot move memory accesses across it.
#pragma once

#include <cstdint>

// Reads system register `name` (spelled as the assembler knows it, e.g. mpidr_el1).
#define LICHEN_READ_SYSREG(name)                                 \
  ({                                                             \
    uint64_t lichen_sysreg_value_;                               \
    asm volatile("mrs %0, " #name : "=r"(lichen_sysreg_value_)); \
    lichen_sysreg_value_;                                        \
  })

// Writes `value` to system register `name`.
#define LICHEN_WRITE_SYSREG(name, value) \
  asm volatile("msr " #name ", %0" ::"r"(static_cast<uint64_t>(value)) : "memory")

namespace lichen::aarch64 {

// Instruction synchronization barrier: later instructions see earlier system-register writes.
inline void Isb() {
  asm volatile("isb" ::: "memory");
}
// Full-system data synchronization barrier.
inline void DsbSy() {
  asm volatile("dsb sy" ::: "memory");
}
// Inner-shareable data synchronization barrier (all CPUs of this system).
inline void DsbIsh() {
  asm volatile("dsb ish" ::: "memory");
}
// Inner-shareable store barrier: earlier stores complete before later ones (and before a
// following system-register write such as an SGI).
inline void DsbIshSt() {
  asm volatile("dsb ishst" ::: "memory");
}
// Wakes CPUs waiting in WFE.
inline void Sev() {
  asm volatile("sev" ::: "memory");
}

// DAIF bit 7: IRQs masked.
inline constexpr uint64_t kDaifIrqBit = uint64_t{1} << 7;

// Masks IRQs on this CPU (DAIF.I = 1).
inline void MaskIrqs() {
  asm volatile("msr daifset, #2" ::: "memory");
}
// Unmasks IRQs on this CPU (DAIF.I = 0); a pending interrupt is taken right after.
inline void UnmaskIrqs() {
  asm volatile("msr daifclr, #2" ::: "memory");
}
// Unmasks SError (DAIF.A = 0) so that asynchronous aborts are reported, not left pending.
inline void UnmaskSError() {
  asm volatile("msr daifclr, #4" ::: "memory");
}
// The whole DAIF register.
inline uint64_t ReadDaif() {
  uint64_t v;
  asm volatile("mrs %0, daif" : "=r"(v)::"memory");
  return v;
}

// --- Address translation queries ---------------------------------------------------------------

// PAR_EL1 after an AT instruction: F (bit 0) set when the walk faulted; otherwise ATTR (the
// MAIR encoding of the memory type) in [63:56] and the output address in [47:12].
inline constexpr uint64_t kParFault = 1;
inline constexpr uint64_t kParAttrShift = 56;
inline constexpr uint64_t kParAddressMask = 0x0000fffffffff000ULL;

// Asks this CPU's MMU how an EL1 read of `va` translates (AT S1E1R), without touching it.
// IRQs are masked around the query so that no handler's own query replaces PAR_EL1 between
// the AT and the read.
inline uint64_t TranslateKernelRead(uint64_t va) {
  const uint64_t daif = ReadDaif();
  MaskIrqs();
  uint64_t par;
  asm volatile("at s1e1r, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
  asm volatile("msr daif, %0" ::"r"(daif) : "memory");
  return par;
}

// MPIDR_EL1 affinity fields (Aff3 at [39:32], Aff2..Aff0 at [23:0]); drops U, MT and RES1.
inline constexpr uint64_t kMpidrAffinityMask = 0xff00ffffffULL;

// --- MMIO -------------------------------------------------------------------------------------
// Device registers are mapped Device-nGnRE: accesses are neither merged nor reordered with
// each other, but still need DSB against normal-memory accesses where that matters.

// 32- and 64-bit device register accesses at `addr` (single LDR/STR, never split or merged).
inline uint32_t Read32(uintptr_t addr) {
  uint32_t v;
  asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
  return v;
}
inline void Write32(uintptr_t addr, uint32_t v) {
  asm volatile("str %w0, [%1]" ::"r"(v), "r"(addr) : "memory");
}
inline uint64_t Read64(uintptr_t addr) {
  uint64_t v;
  asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
  return v;
}
inline void Write64(uintptr_t addr, uint64_t v) {
  asm volatile("str %0, [%1]" ::"r"(v), "r"(addr) : "memory");
}

}  // namespace lichen::aarch64

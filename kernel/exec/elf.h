// A checker and reader of the ELF64 executables Lichen runs: static Linux aarch64 programs,
// ET_EXEC (`gcc -static`) and static-pie ET_DYN (`gcc -static-pie`), as stock toolchains
// write them.
//
// The file comes from outside the kernel (the initramfs), so every value is checked before it
// is used: the header, every program header against the file's size, the LOAD segments
// against each other and against the user half of the address space, the entry point against
// the executable segments. What passes is an ElfImage: the plain description a loader needs to
// map the segments and build the initial stack (AT_PHDR, AT_PHENT, AT_PHNUM, AT_ENTRY), with
// no pointer into the file left to check again. Every multi-byte field is read byte by byte,
// so the file may sit at any address. docs/exec.md lists what is refused and why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernel/exec/rejection.h"
#include "lib/result.h"

namespace lichen::exec {

// The page size the image is checked against (Lichen's, and Linux arm64's default granule).
inline constexpr uint64_t kElfPageSize = 4096;
// User addresses lie below 2^48 (TTBR0 with 48-bit virtual addresses); the first page stays
// unmapped so that a null pointer faults.
inline constexpr uint64_t kUserTop = uint64_t{1} << 48;
// LOAD segments an image may have; stock static binaries have two to four.
inline constexpr uint32_t kMaxLoadSegments = 16;
// The program header table may be at most one page, as Linux requires (load_elf_phdrs).
inline constexpr uint32_t kMaxPhdrTableSize = kElfPageSize;

// ELF constants the parser and its tests use.
inline constexpr uint16_t kEtExec = 2;
inline constexpr uint16_t kEtDyn = 3;
inline constexpr uint16_t kEmAarch64 = 183;
inline constexpr uint16_t kPnXnum = 0xffff;
inline constexpr uint32_t kPtLoad = 1;
inline constexpr uint32_t kPtDynamic = 2;
inline constexpr uint32_t kPtInterp = 3;
inline constexpr uint32_t kPtPhdr = 6;
inline constexpr uint32_t kPtTls = 7;
inline constexpr uint32_t kPtGnuStack = 0x6474e551;
inline constexpr uint32_t kPfX = 1;
inline constexpr uint32_t kPfW = 2;
inline constexpr uint32_t kPfR = 4;
inline constexpr size_t kElfHeaderSize = 64;
inline constexpr size_t kElfPhdrSize = 56;

// A LOAD segment: memsz bytes at vaddr, of which the first filesz come from the file at
// `offset` and the rest are zero. Addresses are before the load bias (see ElfImage::bias_align).
struct ElfSegment {
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint32_t flags = 0;  // kPfR | kPfW | kPfX

  bool readable() const { return (flags & kPfR) != 0; }
  bool writable() const { return (flags & kPfW) != 0; }
  bool executable() const { return (flags & kPfX) != 0; }
};

// The PT_TLS segment: the initial image of the thread-local block (filesz bytes at vaddr, in a
// LOAD segment, then zeros up to memsz), and its alignment. The C library sets it up itself in
// a static program; a loader only passes the program headers on.
struct ElfTls {
  bool present = false;
  uint64_t vaddr = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
  uint64_t align = 0;
};

struct ElfImage {
  uint16_t type = 0;  // kEtExec (bias 0) or kEtDyn (any bias that is a multiple of bias_align)
  uint64_t entry = 0;
  ElfSegment segments[kMaxLoadSegments];  // sorted by vaddr, no two sharing a page
  uint32_t segment_count = 0;
  // [lowest page of any segment, end of the highest segment rounded up to a page): what the
  // image occupies before the bias. An ET_DYN loader picks a bias that is a multiple of
  // bias_align (the largest LOAD p_align, at least a page, as Linux does) and keeps
  // [min_vaddr + bias, max_vaddr + bias) inside the user half.
  uint64_t min_vaddr = 0;
  uint64_t max_vaddr = 0;
  uint64_t bias_align = kElfPageSize;
  // Where the program headers are in memory (AT_PHDR, before the bias): PT_PHDR's address or,
  // without one, computed from the LOAD segment whose file range holds them, as Linux does.
  // 0 when no LOAD segment maps them (Linux then passes the bias alone; glibc's static
  // start-up falls back to __ehdr_start).
  bool phdr_mapped = false;
  uint64_t phdr_vaddr = 0;
  uint16_t phent = 0;  // AT_PHENT
  uint16_t phnum = 0;  // AT_PHNUM
  ElfTls tls;
  // PT_GNU_STACK's flags, or 0 without one. Linux on arm64 gives a 64-bit program a
  // non-executable stack either way; an executable one needs PT_GNU_STACK with PF_X.
  bool has_gnu_stack = false;
  uint32_t stack_flags = 0;
  bool stack_executable() const { return has_gnu_stack && (stack_flags & kPfX) != 0; }
};

// Checks the ELF file `file` and describes it in `out` (partially filled on error). Errors:
// kMalformed (the bytes break the format or the rules in docs/exec.md), kUnsupported (a valid
// file this kernel does not run: another machine, class or byte order, a dynamically linked
// program (PT_INTERP), PN_XNUM or a program header table over a page, more than
// kMaxLoadSegments LOAD segments, or two of them sharing a page).
Result<void> ParseElf(std::span<const uint8_t> file, ElfImage& out, Rejection* why = nullptr);

}  // namespace lichen::exec

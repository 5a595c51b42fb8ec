#include "kernel/exec/elf.h"

namespace lichen::exec {

namespace {

Error Reject(Rejection* why, Error error, const char* reason, uint64_t offset) {
  if (why != nullptr) *why = {reason, offset};
  return error;
}

uint16_t Le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
uint32_t Le32(const uint8_t* p) {
  return uint32_t{Le16(p)} | uint32_t{Le16(p + 2)} << 16;
}
uint64_t Le64(const uint8_t* p) {
  return uint64_t{Le32(p)} | uint64_t{Le32(p + 4)} << 32;
}

uint64_t PageDown(uint64_t a) {
  return a & ~(kElfPageSize - 1);
}
// Callers pass a <= kUserTop, so this cannot wrap.
uint64_t PageUp(uint64_t a) {
  return PageDown(a + kElfPageSize - 1);
}

bool IsPowerOfTwo(uint64_t x) {
  return x != 0 && (x & (x - 1)) == 0;
}

// [start, start + len) inside [base, base + size); all given as non-wrapping.
bool Inside(uint64_t start, uint64_t len, uint64_t base, uint64_t size) {
  return start >= base && start - base <= size && len <= size - (start - base);
}

// A program header, fields in file order.
struct Phdr {
  uint32_t type, flags;
  uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

Phdr ReadPhdr(const uint8_t* p) {
  return {Le32(p),      Le32(p + 4),  Le64(p + 8),  Le64(p + 16),
          Le64(p + 24), Le64(p + 32), Le64(p + 40), Le64(p + 48)};
}

// The rules a segment with contents (LOAD, TLS) obeys: its file range is in the file, it does
// not need more file bytes than it has memory for, and its memory is in the user half.
Result<void> CheckRanges(const Phdr& ph, uint64_t file_size, uint64_t at, Rejection* why) {
  if (ph.offset > file_size || ph.filesz > file_size - ph.offset)
    return Reject(why, Error::kMalformed, "segment's file range outside the file", at);
  if (ph.filesz > ph.memsz)
    return Reject(why, Error::kMalformed, "segment's filesz larger than its memsz", at);
  if (ph.vaddr > kUserTop || ph.memsz > kUserTop - ph.vaddr)
    return Reject(why, Error::kMalformed, "segment outside the user half (2^48)", at);
  // p_align 0 and 1 mean none; otherwise a power of two, and a bias that large must fit.
  if (ph.align > 1 && (!IsPowerOfTwo(ph.align) || ph.align >= kUserTop))
    return Reject(why, Error::kMalformed, "segment's p_align not a power of two below 2^48", at);
  return {};
}

}  // namespace

Result<void> ParseElf(std::span<const uint8_t> file, ElfImage& out, Rejection* why) {
  out = {};
  const uint8_t* f = file.data();
  const uint64_t size = file.size();
  if (size < kElfHeaderSize)
    return Reject(why, Error::kMalformed, "file shorter than an ELF64 header", 0);
  if (f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F')
    return Reject(why, Error::kMalformed, "no ELF magic", 0);
  if (f[4] == 1) return Reject(why, Error::kUnsupported, "32-bit ELF (ELFCLASS32)", 4);
  if (f[4] != 2) return Reject(why, Error::kMalformed, "EI_CLASS neither 32 nor 64 bits", 4);
  if (f[5] == 2) return Reject(why, Error::kUnsupported, "big-endian ELF (ELFDATA2MSB)", 5);
  if (f[5] != 1) return Reject(why, Error::kMalformed, "EI_DATA neither little nor big", 5);
  if (f[6] != 1) return Reject(why, Error::kMalformed, "EI_VERSION is not 1", 6);

  const uint16_t type = Le16(f + 16);
  const uint16_t machine = Le16(f + 18);
  const uint32_t version = Le32(f + 20);
  const uint64_t entry = Le64(f + 24);
  const uint64_t phoff = Le64(f + 32);
  const uint16_t ehsize = Le16(f + 52);
  const uint16_t phentsize = Le16(f + 54);
  const uint16_t phnum = Le16(f + 56);
  if (type != kEtExec && type != kEtDyn)
    return Reject(why, Error::kUnsupported, "neither ET_EXEC nor ET_DYN", 16);
  if (machine != kEmAarch64)
    return Reject(why, Error::kUnsupported, "e_machine is not EM_AARCH64", 18);
  if (version != 1) return Reject(why, Error::kMalformed, "e_version is not 1", 20);
  if (ehsize != kElfHeaderSize) return Reject(why, Error::kMalformed, "e_ehsize is not 64", 52);
  if (phentsize != kElfPhdrSize) return Reject(why, Error::kMalformed, "e_phentsize is not 56", 54);
  if (phnum == 0) return Reject(why, Error::kMalformed, "no program headers", 56);
  // With PN_XNUM the real count is in section header 0; it is at least 0xffff, so the table
  // would be far over the page Linux (and this parser) allows.
  if (phnum == kPnXnum)
    return Reject(why, Error::kUnsupported, "e_phnum is PN_XNUM (over 65534 headers)", 56);
  const uint64_t table_size = uint64_t{phnum} * kElfPhdrSize;
  if (table_size > kMaxPhdrTableSize)
    return Reject(why, Error::kUnsupported, "program header table over a page", 56);
  if (phoff > size || table_size > size - phoff)
    return Reject(why, Error::kMalformed, "program header table outside the file", 32);

  out.type = type;
  out.entry = entry;
  out.phent = phentsize;
  out.phnum = phnum;
  bool has_pt_phdr = false;
  uint64_t pt_phdr_vaddr = 0;
  uint64_t pt_phdr_at = 0;
  uint64_t max_align = kElfPageSize;
  for (uint32_t i = 0; i < phnum; ++i) {
    const uint64_t at = phoff + uint64_t{i} * kElfPhdrSize;
    const Phdr ph = ReadPhdr(f + at);
    switch (ph.type) {
      case kPtInterp:
        return Reject(why, Error::kUnsupported, "dynamically linked (PT_INTERP)", at);
      case kPtLoad: {
        LICHEN_TRY(CheckRanges(ph, size, at, why));
        // The loader maps file pages at page-aligned addresses: a byte's offset in its page
        // must be the same in the file and in memory (Linux's mmap would refuse otherwise).
        if (ph.offset % kElfPageSize != ph.vaddr % kElfPageSize)
          return Reject(why, Error::kMalformed, "LOAD p_offset and p_vaddr differ mod page", at);
        if (type == kEtExec && ph.vaddr < kElfPageSize)
          return Reject(why, Error::kMalformed, "ET_EXEC LOAD segment in the first page", at);
        if (ph.memsz == 0) break;  // maps nothing
        if (ph.align > max_align) max_align = ph.align;
        if (out.segment_count > 0) {
          const ElfSegment& prev = out.segments[out.segment_count - 1];
          if (ph.vaddr < prev.vaddr)
            return Reject(why, Error::kMalformed, "LOAD segments not sorted by p_vaddr", at);
          if (ph.vaddr < prev.vaddr + prev.memsz)
            return Reject(why, Error::kMalformed, "LOAD segments overlap", at);
          // Legal ELF, and Linux maps it (the later segment's page replaces the earlier's),
          // but no stock link does it and a page with two sources and two sets of
          // permissions is a trap for the loader.
          if (PageDown(ph.vaddr) < PageUp(prev.vaddr + prev.memsz))
            return Reject(why, Error::kUnsupported, "two LOAD segments share a page", at);
        }
        if (out.segment_count == kMaxLoadSegments)
          return Reject(why, Error::kUnsupported, "more LOAD segments than kMaxLoadSegments", at);
        out.segments[out.segment_count++] = {ph.vaddr, ph.memsz, ph.offset, ph.filesz,
                                             ph.flags & (kPfR | kPfW | kPfX)};
        break;
      }
      case kPtTls:
        if (out.tls.present) return Reject(why, Error::kMalformed, "two PT_TLS segments", at);
        LICHEN_TRY(CheckRanges(ph, size, at, why));
        out.tls = {true, ph.vaddr, ph.offset, ph.filesz, ph.memsz, ph.align};
        break;
      case kPtPhdr:
        if (has_pt_phdr) return Reject(why, Error::kMalformed, "two PT_PHDR segments", at);
        has_pt_phdr = true;
        pt_phdr_vaddr = ph.vaddr;
        pt_phdr_at = at;
        break;
      case kPtGnuStack:
        out.has_gnu_stack = true;
        out.stack_flags = ph.flags;
        break;
      default:
        break;  // PT_DYNAMIC (static-pie relocates itself), notes, GNU_RELRO...: not ours
    }
  }
  if (out.segment_count == 0)
    return Reject(why, Error::kMalformed, "no LOAD segment with memory", phoff);
  const ElfSegment& last = out.segments[out.segment_count - 1];
  out.min_vaddr = PageDown(out.segments[0].vaddr);
  out.max_vaddr = PageUp(last.vaddr + last.memsz);
  out.bias_align = max_align;

  // The entry point must be an instruction from the file in an executable segment.
  bool entry_ok = false;
  for (uint32_t i = 0; i < out.segment_count; ++i) {
    const ElfSegment& s = out.segments[i];
    if (s.executable() && entry >= s.vaddr && entry - s.vaddr < s.filesz) entry_ok = true;
  }
  if (!entry_ok)
    return Reject(why, Error::kMalformed, "entry point outside the executable LOAD segments", 24);

  // The C library copies the TLS initial image from memory: it must be loaded from the file.
  if (out.tls.present && out.tls.filesz != 0) {
    bool tls_ok = false;
    for (uint32_t i = 0; i < out.segment_count; ++i) {
      const ElfSegment& s = out.segments[i];
      if (Inside(out.tls.vaddr, out.tls.filesz, s.vaddr, s.filesz)) tls_ok = true;
    }
    if (!tls_ok)
      return Reject(why, Error::kMalformed, "PT_TLS image outside the LOAD segments' file data",
                    phoff);
  }

  // AT_PHDR: the C library reads the program headers (to find PT_TLS) from memory.
  if (has_pt_phdr) {
    for (uint32_t i = 0; i < out.segment_count; ++i) {
      const ElfSegment& s = out.segments[i];
      if (Inside(pt_phdr_vaddr, table_size, s.vaddr, s.filesz)) out.phdr_mapped = true;
    }
    if (!out.phdr_mapped)
      return Reject(why, Error::kMalformed, "PT_PHDR outside the LOAD segments' file data",
                    pt_phdr_at);
    out.phdr_vaddr = pt_phdr_vaddr;
  } else {
    for (uint32_t i = 0; i < out.segment_count; ++i) {
      const ElfSegment& s = out.segments[i];
      if (!out.phdr_mapped && Inside(phoff, table_size, s.offset, s.filesz)) {
        out.phdr_mapped = true;
        out.phdr_vaddr = s.vaddr + (phoff - s.offset);
      }
    }
  }
  return {};
}

}  // namespace lichen::exec

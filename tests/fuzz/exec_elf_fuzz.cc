// libFuzzer target of the ELF checker (kernel/exec/elf.cc), seeded with the static binaries of
// tests/data/elf. Whatever the bytes, ParseElf must refuse them with a reason or describe an
// image a loader can map as it is; it must never read outside the file (AddressSanitizer: the
// file is an exactly-sized heap copy), make a misaligned load (UBSan: the copy sits at an odd
// address), overflow or loop forever. What an accepted image must satisfy is checked here
// again, independently of the parser's own code.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "kernel/exec/elf.h"

namespace {

using namespace lichen::exec;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "exec_elf_fuzz: accepted, but %s\n", what);
  std::abort();
}

uint64_t PageDown(uint64_t a) {
  return a & ~(kElfPageSize - 1);
}

// [a, a + alen) inside [b, b + blen), none of them wrapping.
bool Inside(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a >= b && a - b <= blen && alen <= blen - (a - b);
}

void CheckAccepted(const ElfImage& image, size_t file_size) {
  if (image.type != kEtExec && image.type != kEtDyn) Fail("neither ET_EXEC nor ET_DYN");
  if (image.segment_count == 0 || image.segment_count > kMaxLoadSegments)
    Fail("segment count out of range");
  bool entry_ok = false;
  for (uint32_t i = 0; i < image.segment_count; ++i) {
    const ElfSegment& s = image.segments[i];
    if (s.memsz == 0) Fail("an empty segment");
    if (s.filesz > s.memsz) Fail("filesz > memsz");
    if (s.offset > file_size || s.filesz > file_size - s.offset) Fail("file range past the end");
    if (s.vaddr >= kUserTop || s.memsz > kUserTop - s.vaddr) Fail("segment outside user half");
    if (s.vaddr % kElfPageSize != s.offset % kElfPageSize) Fail("offset/vaddr not congruent");
    if (image.type == kEtExec && s.vaddr < kElfPageSize) Fail("ET_EXEC in the first page");
    if ((s.flags & ~(kPfR | kPfW | kPfX)) != 0) Fail("stray flag bits");
    if (i > 0) {
      const ElfSegment& p = image.segments[i - 1];
      if (PageDown(s.vaddr) < p.vaddr + p.memsz || PageDown(s.vaddr) <= PageDown(p.vaddr))
        Fail("segments unsorted or sharing a page");
    }
    if (s.executable() && Inside(image.entry, 1, s.vaddr, s.filesz)) entry_ok = true;
  }
  if (!entry_ok) Fail("entry outside the executable file bytes");
  const ElfSegment& last = image.segments[image.segment_count - 1];
  if (image.min_vaddr != PageDown(image.segments[0].vaddr)) Fail("min_vaddr");
  if (image.max_vaddr < last.vaddr + last.memsz || image.max_vaddr > kUserTop ||
      image.max_vaddr % kElfPageSize != 0)
    Fail("max_vaddr");
  if (image.bias_align < kElfPageSize || (image.bias_align & (image.bias_align - 1)) != 0 ||
      image.bias_align >= kUserTop)
    Fail("bias alignment");
  if (image.phent != kElfPhdrSize || image.phnum == 0 ||
      uint64_t{image.phnum} * kElfPhdrSize > kMaxPhdrTableSize)
    Fail("program header table shape");
  if (image.phdr_mapped) {
    bool in = false;
    for (uint32_t i = 0; i < image.segment_count; ++i) {
      const ElfSegment& s = image.segments[i];
      if (Inside(image.phdr_vaddr, uint64_t{image.phnum} * kElfPhdrSize, s.vaddr, s.filesz))
        in = true;
    }
    if (!in) Fail("AT_PHDR not in a segment's file bytes");
  } else if (image.phdr_vaddr != 0) {
    Fail("phdr address without a mapping");
  }
  if (image.tls.present) {
    if (image.tls.filesz > image.tls.memsz) Fail("TLS filesz > memsz");
    if (image.tls.filesz != 0) {
      bool in = false;
      for (uint32_t i = 0; i < image.segment_count; ++i) {
        const ElfSegment& s = image.segments[i];
        if (Inside(image.tls.vaddr, image.tls.filesz, s.vaddr, s.filesz)) in = true;
      }
      if (!in) Fail("TLS image not in a segment's file bytes");
    }
  }
  if (image.stack_executable() && !image.has_gnu_stack) Fail("executable stack by default");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> storage(new uint8_t[size + 1]);
  uint8_t* copy = storage.get() + 1;
  if (size != 0) std::memcpy(copy, data, size);
  ElfImage image;
  Rejection why;
  const lichen::Result<void> parsed = ParseElf(std::span<const uint8_t>(copy, size), image, &why);
  if (parsed.ok()) {
    CheckAccepted(image, size);
  } else if (why.reason == nullptr || why.reason[0] == '\0' || why.offset > size) {
    Fail("an error without a reason or with an offset past the end");
  }
  return 0;
}

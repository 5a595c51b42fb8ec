// Host tests of the ELF checker (kernel/exec/elf.cc): the real static binaries of
// tests/data/elf (made by its `regenerate` script; the expectations are what readelf -lhW
// prints for them) must be described exactly, and every broken image must be refused by the
// rule that names its fault, never read outside the file (each parse runs on an exactly-sized
// heap copy at an odd address, under AddressSanitizer and UBSan).
#include "kernel/exec/elf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernel/exec/cpio.h"
#include "lib/random.h"
#include "tests/exec/exec_test_support.h"
#include "tests/support/property.h"

namespace lichen::exec {
namespace {

using test::ExactCopy;

std::vector<uint8_t> ReadElf(const std::string& name) {
  return test::ReadFile(std::string(LICHEN_TEST_DATA_DIR) + "/elf/" + name);
}

struct Ph {
  uint32_t type = kPtLoad;
  uint32_t flags = kPfR;
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
  uint64_t align = 0x1000;
};

// Writes an ELF64 file with every header field settable. The default is a valid static
// ET_EXEC: a text segment holding the headers and the entry point, a data segment with .bss,
// and PT_GNU_STACK.
struct ElfWriter {
  uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  uint16_t type = kEtExec;
  uint16_t machine = kEmAarch64;
  uint32_t version = 1;
  uint64_t entry = 0x400100;
  uint64_t phoff = 64;
  uint16_t ehsize = 64;
  uint16_t phentsize = 56;
  int32_t phnum = -1;  // -1: phdrs.size()
  size_t file_size = 0x2000;
  std::vector<Ph> phdrs = {
      {kPtLoad, kPfR | kPfX, 0, 0x400000, 0x1000, 0x1000, 0x1000},
      {kPtLoad, kPfR | kPfW, 0x1000, 0x401000, 0x100, 0x800, 0x1000},
      {kPtGnuStack, kPfR | kPfW, 0, 0, 0, 0, 0x10},
  };

  std::vector<uint8_t> Build() const {
    const uint16_t count =
        phnum < 0 ? static_cast<uint16_t>(phdrs.size()) : static_cast<uint16_t>(phnum);
    std::vector<uint8_t> out(file_size, 0);
    auto put = [&](uint64_t at, uint64_t value, int bytes) {
      for (int i = 0; i < bytes; ++i) {
        if (at + i < out.size()) out[at + i] = static_cast<uint8_t>(value >> (8 * i));
      }
    };
    for (int i = 0; i < 16; ++i)
      put(i, ident[i], 1);
    put(16, type, 2);
    put(18, machine, 2);
    put(20, version, 4);
    put(24, entry, 8);
    put(32, phoff, 8);
    put(52, ehsize, 2);
    put(54, phentsize, 2);
    put(56, count, 2);
    for (size_t i = 0; i < phdrs.size(); ++i) {
      const uint64_t at = phoff + i * 56;
      if (phoff > out.size() || at > out.size() || out.size() - at < 56) break;  // no wrapping
      const Ph& p = phdrs[i];
      put(at, p.type, 4);
      put(at + 4, p.flags, 4);
      put(at + 8, p.offset, 8);
      put(at + 16, p.vaddr, 8);
      put(at + 24, p.vaddr, 8);
      put(at + 32, p.filesz, 8);
      put(at + 40, p.memsz, 8);
      put(at + 48, p.align, 8);
    }
    return out;
  }
};

Result<void> Parse(const std::vector<uint8_t>& bytes, ElfImage& image, Rejection* why = nullptr) {
  ExactCopy copy(bytes);
  return ParseElf(std::span<const uint8_t>(copy.data(), copy.size()), image, why);
}

ElfImage ParseOk(const std::vector<uint8_t>& bytes) {
  ElfImage image;
  Rejection why;
  const Result<void> parsed = Parse(bytes, image, &why);
  EXPECT_TRUE(parsed.ok()) << "refused: " << (why.reason ? why.reason : "?") << " at "
                           << why.offset;
  return image;
}

void ExpectRefused(const std::vector<uint8_t>& bytes, Error error, const std::string& reason) {
  ElfImage image;
  Rejection why;
  const Result<void> parsed = Parse(bytes, image, &why);
  ASSERT_FALSE(parsed.ok()) << "accepted; expected: " << reason;
  EXPECT_EQ(parsed.error(), error) << ErrorName(parsed.error()) << ": " << why.reason;
  ASSERT_NE(why.reason, nullptr);
  EXPECT_NE(std::string(why.reason).find(reason), std::string::npos)
      << "refused for \"" << why.reason << "\", expected \"" << reason << "\"";
}

void ExpectSegment(const ElfSegment& s, uint64_t vaddr, uint64_t memsz, uint64_t offset,
                   uint64_t filesz, uint32_t flags) {
  EXPECT_EQ(s.vaddr, vaddr);
  EXPECT_EQ(s.memsz, memsz);
  EXPECT_EQ(s.offset, offset);
  EXPECT_EQ(s.filesz, filesz);
  EXPECT_EQ(s.flags, flags);
}

TEST(ElfReal, TinyStaticExec) {
  const ElfImage image = ParseOk(ReadElf("tiny-static"));
  EXPECT_EQ(image.type, kEtExec);
  EXPECT_EQ(image.entry, 0x400120u);
  ASSERT_EQ(image.segment_count, 2u);
  ExpectSegment(image.segments[0], 0x400000, 0x178, 0, 0x178, kPfR | kPfX);
  ExpectSegment(image.segments[1], 0x401178, 8, 0x178, 8, kPfR | kPfW);
  EXPECT_TRUE(image.segments[0].executable());
  EXPECT_FALSE(image.segments[0].writable());
  EXPECT_TRUE(image.segments[1].writable());
  EXPECT_EQ(image.min_vaddr, 0x400000u);
  EXPECT_EQ(image.max_vaddr, 0x402000u);
  EXPECT_EQ(image.bias_align, 0x1000u);
  // No PT_PHDR in a static binary: found through the LOAD segment holding e_phoff.
  EXPECT_TRUE(image.phdr_mapped);
  EXPECT_EQ(image.phdr_vaddr, 0x400040u);
  EXPECT_EQ(image.phent, 56);
  EXPECT_EQ(image.phnum, 4);
  EXPECT_TRUE(image.tls.present);
  EXPECT_EQ(image.tls.vaddr, 0x401178u);
  EXPECT_EQ(image.tls.offset, 0x178u);
  EXPECT_EQ(image.tls.filesz, 4u);
  EXPECT_EQ(image.tls.memsz, 4u);
  EXPECT_EQ(image.tls.align, 4u);
  EXPECT_TRUE(image.has_gnu_stack);
  EXPECT_EQ(image.stack_flags, kPfR | kPfW);
  EXPECT_FALSE(image.stack_executable());
}

TEST(ElfReal, TinyStaticPie) {
  const ElfImage image = ParseOk(ReadElf("tiny-pie"));
  EXPECT_EQ(image.type, kEtDyn);
  EXPECT_EQ(image.entry, 0x204u);
  ASSERT_EQ(image.segment_count, 2u);
  ExpectSegment(image.segments[0], 0, 0x270, 0, 0x270, kPfR | kPfX);
  ExpectSegment(image.segments[1], 0x1f0c, 0xf8, 0xf0c, 0xf8, kPfR | kPfW);
  EXPECT_EQ(image.min_vaddr, 0u);
  EXPECT_EQ(image.max_vaddr, 0x3000u);
  EXPECT_EQ(image.bias_align, 0x1000u);
  EXPECT_TRUE(image.phdr_mapped);
  EXPECT_EQ(image.phdr_vaddr, 0x40u);
  EXPECT_EQ(image.phnum, 7);
  EXPECT_TRUE(image.tls.present);
  EXPECT_EQ(image.tls.vaddr, 0x1f0cu);
  EXPECT_FALSE(image.stack_executable());
}

TEST(ElfReal, GlibcStaticHello) {
  const ElfImage image = ParseOk(ReadElf("hello-static"));
  EXPECT_EQ(image.type, kEtExec);
  EXPECT_EQ(image.entry, 0x400540u);
  ASSERT_EQ(image.segment_count, 2u);
  ExpectSegment(image.segments[0], 0x400000, 0x7d1e2, 0, 0x7d1e2, kPfR | kPfX);
  ExpectSegment(image.segments[1], 0x48c800, 0xad28, 0x8c800, 0x5820, kPfR | kPfW);
  EXPECT_EQ(image.min_vaddr, 0x400000u);
  EXPECT_EQ(image.max_vaddr, 0x498000u);
  EXPECT_EQ(image.bias_align, 0x10000u);
  EXPECT_EQ(image.phdr_vaddr, 0x400040u);
  EXPECT_EQ(image.phnum, 6);
  EXPECT_TRUE(image.tls.present);
  EXPECT_EQ(image.tls.filesz, 0x18u);
  EXPECT_EQ(image.tls.memsz, 0x60u);
  EXPECT_EQ(image.tls.align, 8u);
  EXPECT_FALSE(image.stack_executable());
}

TEST(ElfReal, EveryTruncationOfARealBinaryIsRefused) {
  const std::vector<uint8_t> full = ReadElf("tiny-static");
  // The last byte any LOAD segment needs is the data segment's (0x178 + 8).
  for (size_t size = 0; size < 0x180; ++size) {
    ElfImage image;
    EXPECT_FALSE(Parse(std::vector<uint8_t>(full.begin(), full.begin() + size), image).ok())
        << size;
  }
  // Past that, the section headers are not needed to run it.
  ParseOk(std::vector<uint8_t>(full.begin(), full.begin() + 0x180));
}

// The path the kernel will take: the program out of the initramfs, parsed in place (the
// archive's 4-byte alignment is all the data gets).
TEST(ElfReal, AProgramStraightFromTheInitramfs) {
  ExactCopy copy(test::ReadFile(std::string(LICHEN_TEST_DATA_DIR) + "/cpio/dot.cpio"));
  CpioArchive archive;
  ASSERT_TRUE(CpioArchive::Open(copy.data(), copy.size(), archive).ok());
  Result<CpioEntry> tiny = archive.Lookup("/bin/tiny");
  ASSERT_TRUE(tiny.ok());
  ElfImage image;
  ASSERT_TRUE(ParseElf(tiny.value().data, image).ok());
  EXPECT_EQ(image.entry, 0x400120u);
  EXPECT_EQ(image.segment_count, 2u);
}

TEST(Elf, TheWritersDefaultIsValid) {
  const ElfImage image = ParseOk(ElfWriter().Build());
  EXPECT_EQ(image.segment_count, 2u);
  EXPECT_EQ(image.entry, 0x400100u);
  EXPECT_EQ(image.phdr_vaddr, 0x400040u);
  EXPECT_FALSE(image.tls.present);
  EXPECT_EQ(image.max_vaddr, 0x402000u);
}

TEST(Elf, PtPhdrGivesThePhdrAddress) {
  // PT_PHDR wins over the address computed from e_phoff (0x400040): here it says a copy of
  // the table sits in the data segment.
  ElfWriter w;
  w.phdrs.insert(w.phdrs.begin(), Ph{kPtPhdr, kPfR, 0x1000, 0x401000, 56 * 4, 56 * 4, 8});
  const ElfImage image = ParseOk(w.Build());
  EXPECT_TRUE(image.phdr_mapped);
  EXPECT_EQ(image.phdr_vaddr, 0x401000u);
  EXPECT_EQ(image.phnum, 4);
}

TEST(Elf, PhdrsOutsideEveryLoadSegmentAreNotMapped) {
  ElfWriter w;
  w.phoff = 0x1800;  // after the data segment's file bytes
  const ElfImage image = ParseOk(w.Build());
  EXPECT_FALSE(image.phdr_mapped);
  EXPECT_EQ(image.phdr_vaddr, 0u);
}

TEST(Elf, ExecutableStackOnlyWithPtGnuStackX) {
  ElfWriter w;
  w.phdrs[2].flags = kPfR | kPfW | kPfX;
  EXPECT_TRUE(ParseOk(w.Build()).stack_executable());
  w.phdrs.pop_back();
  const ElfImage none = ParseOk(w.Build());
  EXPECT_FALSE(none.has_gnu_stack);
  EXPECT_FALSE(none.stack_executable());
}

TEST(Elf, EmptyLoadSegmentsMapNothing) {
  ElfWriter w;
  w.phdrs.insert(w.phdrs.begin() + 1, Ph{kPtLoad, kPfR, 0x800, 0x400800, 0, 0, 0x1000});
  EXPECT_EQ(ParseOk(w.Build()).segment_count, 2u);
}

TEST(Elf, StaticPieAtZeroAndItsBiasAlignment) {
  ElfWriter w;
  w.type = kEtDyn;
  w.entry = 0x100;
  w.phdrs[0].vaddr = 0;
  w.phdrs[1].vaddr = 0x21000;
  w.phdrs[1].align = 0x20000;
  w.phdrs[0].align = 0x10000;
  w.phdrs[1].offset = 0x1000;
  const ElfImage image = ParseOk(w.Build());
  EXPECT_EQ(image.min_vaddr, 0u);
  EXPECT_EQ(image.max_vaddr, 0x22000u);
  EXPECT_EQ(image.bias_align, 0x20000u);
  EXPECT_EQ(image.phdr_vaddr, 0x40u);
}

TEST(Elf, TheLargestTableIsOnePage) {
  ElfWriter w;
  w.phnum = 73;  // 73 * 56 = 4088 bytes; the extra ones are PT_NULL (zeros)
  ParseOk(w.Build());
}

// The rules, one broken input each.

TEST(ElfRefuses, ShortFileAndMagic) {
  const std::vector<uint8_t> good = ElfWriter().Build();
  ExpectRefused(std::vector<uint8_t>(good.begin(), good.begin() + 63), Error::kMalformed,
                "shorter than an ELF64 header");
  ExpectRefused({}, Error::kMalformed, "shorter than an ELF64 header");
  for (int i = 0; i < 4; ++i) {
    ElfWriter w;
    w.ident[i] ^= 0x20;
    ExpectRefused(w.Build(), Error::kMalformed, "no ELF magic");
  }
}

TEST(ElfRefuses, IdentClassDataVersion) {
  ElfWriter w;
  w.ident[4] = 1;
  ExpectRefused(w.Build(), Error::kUnsupported, "ELFCLASS32");
  w.ident[4] = 3;
  ExpectRefused(w.Build(), Error::kMalformed, "EI_CLASS");
  w.ident[4] = 0;
  ExpectRefused(w.Build(), Error::kMalformed, "EI_CLASS");
  w = ElfWriter();
  w.ident[5] = 2;
  ExpectRefused(w.Build(), Error::kUnsupported, "big-endian");
  w.ident[5] = 0;
  ExpectRefused(w.Build(), Error::kMalformed, "EI_DATA");
  w = ElfWriter();
  w.ident[6] = 0;
  ExpectRefused(w.Build(), Error::kMalformed, "EI_VERSION");
}

TEST(ElfRefuses, TypeMachineVersion) {
  for (uint16_t type : {0, 1, 4, 0xfe00}) {
    ElfWriter w;
    w.type = type;
    ExpectRefused(w.Build(), Error::kUnsupported, "neither ET_EXEC nor ET_DYN");
  }
  ElfWriter w;
  w.machine = 62;  // x86-64
  ExpectRefused(w.Build(), Error::kUnsupported, "EM_AARCH64");
  w = ElfWriter();
  w.version = 0;
  ExpectRefused(w.Build(), Error::kMalformed, "e_version");
}

TEST(ElfRefuses, HeaderSizes) {
  ElfWriter w;
  w.ehsize = 52;
  ExpectRefused(w.Build(), Error::kMalformed, "e_ehsize");
  w = ElfWriter();
  w.phentsize = 32;
  ExpectRefused(w.Build(), Error::kMalformed, "e_phentsize");
}

TEST(ElfRefuses, NoProgramHeaders) {
  ElfWriter w;
  w.phnum = 0;
  ExpectRefused(w.Build(), Error::kMalformed, "no program headers");
}

TEST(ElfRefuses, PnXnum) {
  ElfWriter w;
  w.phnum = kPnXnum;
  ExpectRefused(w.Build(), Error::kUnsupported, "PN_XNUM");
}

TEST(ElfRefuses, TableOverAPage) {
  ElfWriter w;
  w.phnum = 74;  // 4144 bytes
  w.file_size = 0x3000;
  ExpectRefused(w.Build(), Error::kUnsupported, "over a page");
}

TEST(ElfRefuses, TableOutsideTheFile) {
  for (uint64_t phoff :
       {uint64_t{0x2000}, uint64_t{0x2000 - 56 * 3 + 1}, ~uint64_t{0} - 55, ~uint64_t{0}}) {
    ElfWriter w;
    w.phoff = phoff;
    ExpectRefused(w.Build(), Error::kMalformed, "program header table outside the file");
  }
}

TEST(ElfRefuses, DynamicallyLinked) {
  for (uint16_t type : {kEtExec, kEtDyn}) {
    ElfWriter w;
    w.type = type;
    w.phdrs.insert(w.phdrs.begin(), Ph{kPtInterp, kPfR, 0x200, 0x400200, 27, 27, 1});
    ExpectRefused(w.Build(), Error::kUnsupported, "PT_INTERP");
  }
}

TEST(ElfRefuses, SegmentFileRangeOutsideTheFile) {
  struct Case {
    uint64_t offset, filesz;
  } cases[] = {{0x1000, 0x1001}, {0x2001, 0}, {~uint64_t{0}, 2}, {0x1000, ~uint64_t{0}}};
  for (const Case& c : cases) {
    ElfWriter w;
    w.phdrs[1].offset = c.offset;
    w.phdrs[1].vaddr = 0x401000 + c.offset % 0x1000;
    w.phdrs[1].filesz = c.filesz;
    w.phdrs[1].memsz = ~uint64_t{0};
    ExpectRefused(w.Build(), Error::kMalformed, "file range outside the file");
  }
}

TEST(ElfRefuses, FileszOverMemsz) {
  ElfWriter w;
  w.phdrs[1].memsz = 0xff;
  ExpectRefused(w.Build(), Error::kMalformed, "filesz larger than its memsz");
}

TEST(ElfRefuses, SegmentOutsideTheUserHalf) {
  struct Case {
    uint64_t vaddr, memsz;
  } cases[] = {{kUserTop - 0x100, 0x101},
               {kUserTop, 0x1000},
               {~uint64_t{0} - 0xfff, 0x1000},
               {0x401000, ~uint64_t{0}}};
  for (const Case& c : cases) {
    ElfWriter w;
    w.phdrs[1].vaddr = c.vaddr;
    w.phdrs[1].offset = 0x1000 + c.vaddr % 0x1000;
    w.phdrs[1].filesz = 0;
    w.phdrs[1].memsz = c.memsz;
    ExpectRefused(w.Build(), Error::kMalformed, "outside the user half");
  }
  // The last page below 2^48 is fine.
  ElfWriter w;
  w.phdrs[1].vaddr = kUserTop - 0x1000;
  w.phdrs[1].memsz = 0x1000;
  EXPECT_EQ(ParseOk(w.Build()).max_vaddr, kUserTop);
}

TEST(ElfRefuses, AlignmentNotAPowerOfTwo) {
  for (uint64_t align : {uint64_t{3}, uint64_t{0x1800}, kUserTop, uint64_t{1} << 63}) {
    ElfWriter w;
    w.phdrs[0].align = align;
    ExpectRefused(w.Build(), Error::kMalformed, "p_align");
  }
  for (uint64_t align : {uint64_t{0}, uint64_t{1}, uint64_t{0x10000}}) {
    ElfWriter w;
    w.phdrs[0].align = align;
    ParseOk(w.Build());
  }
}

TEST(ElfRefuses, OffsetAndVaddrDifferModuloPage) {
  ElfWriter w;
  w.phdrs[1].vaddr = 0x401010;
  ExpectRefused(w.Build(), Error::kMalformed, "differ mod page");
}

TEST(ElfRefuses, ExecSegmentInTheFirstPage) {
  ElfWriter w;
  w.phdrs[0].vaddr = 0;
  w.entry = 0x100;
  ExpectRefused(w.Build(), Error::kMalformed, "first page");
}

TEST(ElfRefuses, LoadSegmentsNotSorted) {
  ElfWriter w;
  std::swap(w.phdrs[0], w.phdrs[1]);
  ExpectRefused(w.Build(), Error::kMalformed, "not sorted");
}

TEST(ElfRefuses, LoadSegmentsOverlap) {
  ElfWriter w;
  w.phdrs[0].memsz = 0x1001;
  ExpectRefused(w.Build(), Error::kMalformed, "overlap");
}

TEST(ElfRefuses, LoadSegmentsShareAPage) {
  ElfWriter w;
  w.phdrs[0].memsz = w.phdrs[0].filesz = 0x800;
  w.phdrs[1].vaddr = 0x400800;
  w.phdrs[1].offset = 0x800;
  ExpectRefused(w.Build(), Error::kUnsupported, "share a page");
}

TEST(ElfRefuses, TooManyLoadSegments) {
  ElfWriter w;
  w.phdrs.resize(1);
  for (uint64_t i = 1; i <= kMaxLoadSegments; ++i)
    w.phdrs.push_back(Ph{kPtLoad, kPfR, 0x1000, 0x400000 + i * 0x2000, 0x10, 0x10, 0x1000});
  ExpectRefused(w.Build(), Error::kUnsupported, "more LOAD segments");
  w.phdrs.pop_back();
  EXPECT_EQ(ParseOk(w.Build()).segment_count, kMaxLoadSegments);
}

TEST(ElfRefuses, NoLoadSegmentWithMemory) {
  ElfWriter w;
  w.phdrs = {Ph{kPtGnuStack, kPfR | kPfW, 0, 0, 0, 0, 0x10}};
  ExpectRefused(w.Build(), Error::kMalformed, "no LOAD segment");
  w.phdrs.push_back(Ph{kPtLoad, kPfR | kPfX, 0, 0x400000, 0, 0, 0x1000});
  ExpectRefused(w.Build(), Error::kMalformed, "no LOAD segment");
}

TEST(ElfRefuses, EntryOutsideTheExecutableSegments) {
  for (uint64_t entry : {uint64_t{0x3ffffc}, uint64_t{0x401000}, uint64_t{0x401010},
                         uint64_t{0x401200}, uint64_t{0}, ~uint64_t{0}}) {
    ElfWriter w;
    w.entry = entry;
    ExpectRefused(w.Build(), Error::kMalformed, "entry point outside");
  }
  // In a segment's memory but past its file bytes.
  ElfWriter w;
  w.phdrs[0].filesz = 0x80;
  w.entry = 0x400100;
  ExpectRefused(w.Build(), Error::kMalformed, "entry point outside");
  // In a segment that is not executable.
  w = ElfWriter();
  w.phdrs[0].flags = kPfR;
  ExpectRefused(w.Build(), Error::kMalformed, "entry point outside");
}

TEST(ElfRefuses, TlsRules) {
  const Ph tls{kPtTls, kPfR, 0x1000, 0x401000, 0x10, 0x40, 8};
  {
    ElfWriter w;
    w.phdrs.push_back(tls);
    const ElfImage image = ParseOk(w.Build());
    EXPECT_TRUE(image.tls.present);
    EXPECT_EQ(image.tls.memsz, 0x40u);
  }
  {
    ElfWriter w;
    w.phdrs.push_back(tls);
    w.phdrs.push_back(tls);
    ExpectRefused(w.Build(), Error::kMalformed, "two PT_TLS");
  }
  {
    ElfWriter w;
    w.phdrs.push_back(tls);
    w.phdrs.back().memsz = 8;
    ExpectRefused(w.Build(), Error::kMalformed, "filesz larger than its memsz");
  }
  {
    ElfWriter w;
    w.phdrs.push_back(tls);
    w.phdrs.back().vaddr = 0x4010f8;  // runs past the data segment's 0x100 file bytes
    ExpectRefused(w.Build(), Error::kMalformed, "PT_TLS image outside");
  }
  {
    ElfWriter w;
    w.phdrs.push_back(tls);
    w.phdrs.back().vaddr = 0x500000;
    ExpectRefused(w.Build(), Error::kMalformed, "PT_TLS image outside");
  }
}

TEST(ElfRefuses, PtPhdrRules) {
  const Ph phdr{kPtPhdr, kPfR, 64, 0x400040, 56 * 4, 56 * 4, 8};
  {
    ElfWriter w;
    w.phdrs.insert(w.phdrs.begin(), phdr);
    w.phdrs.insert(w.phdrs.begin(), phdr);
    ExpectRefused(w.Build(), Error::kMalformed, "two PT_PHDR");
  }
  for (uint64_t vaddr : {uint64_t{0x401040}, uint64_t{0x4010f0}, uint64_t{0x300000}}) {
    ElfWriter w;
    w.phdrs.insert(w.phdrs.begin(), phdr);
    w.phdrs[0].vaddr = vaddr;
    ExpectRefused(w.Build(), Error::kMalformed, "PT_PHDR outside");
  }
}

// Property: images written from a random model (a few LOAD segments with random gaps, sizes
// and permissions, the entry in an executable one, optional TLS and PT_PHDR) are described
// exactly as the model says.
TEST(ElfProperty, DescribesWhatWasWritten) {
  test::ForEachSeed("elf-model", 300, [](uint64_t seed) {
    Rng rng(seed);
    ElfWriter w;
    w.type = rng.Chance(1, 2) ? kEtExec : kEtDyn;
    w.phdrs.clear();
    const uint64_t count = rng.Range(1, 6);
    uint64_t vaddr = w.type == kEtExec ? 0x400000 : 0;
    uint64_t offset = 0;
    std::vector<ElfSegment> model;
    for (uint64_t i = 0; i < count; ++i) {
      ElfSegment s;
      s.offset = i == 0 ? 0 : offset + rng.Below(0x1000);  // the first one holds the headers
      s.vaddr = vaddr + (s.offset % 0x1000);
      s.filesz = i == 0 ? 0x200 + rng.Below(0x1000) : rng.Below(0x1000);
      s.memsz = s.filesz + (rng.Chance(1, 2) ? rng.Below(0x4000) : 0);
      if (s.memsz == 0) s.memsz = 1;
      s.flags = kPfR | (i == 0 ? kPfX : static_cast<uint32_t>(rng.Below(4)) << 0);
      s.flags &= kPfR | kPfW | kPfX;
      model.push_back(s);
      w.phdrs.push_back(Ph{kPtLoad, s.flags, s.offset, s.vaddr, s.filesz, s.memsz, 0x1000});
      offset = (s.offset + s.filesz + 0xfff) & ~uint64_t{0xfff};
      vaddr = ((s.vaddr + s.memsz + 0xfff) & ~uint64_t{0xfff}) + rng.Below(4) * 0x1000;
    }
    w.file_size = offset + 0x1000;
    w.entry = model[0].vaddr + 0x100 + rng.Below(model[0].filesz - 0x100);
    const bool with_phdr = rng.Chance(1, 2);
    if (with_phdr) {
      w.phdrs.insert(w.phdrs.begin(),
                     Ph{kPtPhdr, kPfR, 64, model[0].vaddr - model[0].offset + 64, 0, 0, 8});
    }
    const bool with_tls = rng.Chance(1, 2);
    if (with_tls) {
      w.phdrs.push_back(Ph{kPtTls, kPfR, model[0].offset, model[0].vaddr, 0x10, 0x30, 8});
    }
    const ElfImage image = ParseOk(w.Build());
    ASSERT_EQ(image.segment_count, count);
    for (uint64_t i = 0; i < count; ++i) {
      SCOPED_TRACE(i);
      ExpectSegment(image.segments[i], model[i].vaddr, model[i].memsz, model[i].offset,
                    model[i].filesz, model[i].flags);
    }
    EXPECT_EQ(image.type, w.type);
    EXPECT_EQ(image.entry, w.entry);
    EXPECT_EQ(image.min_vaddr, model[0].vaddr & ~uint64_t{0xfff});
    EXPECT_EQ(image.max_vaddr,
              (model.back().vaddr + model.back().memsz + 0xfff) & ~uint64_t{0xfff});
    EXPECT_EQ(image.phnum, w.phdrs.size());
    EXPECT_TRUE(image.phdr_mapped);
    EXPECT_EQ(image.phdr_vaddr, model[0].vaddr - model[0].offset + 64);
    EXPECT_EQ(image.tls.present, with_tls);
  });
}

}  // namespace
}  // namespace lichen::exec

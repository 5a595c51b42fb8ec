// The ELF loader, in the simulator (the address space needs the scheduler's Mutex): segments
// become image-backed regions, the initial stack is Linux's, static-pie gets a load base.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel/exec/elf.h"
#include "kernel/proc/loader.h"
#include "kernel/proc/usermem.h"
#include "kernel/vm/address_space.h"
#include "tests/proc/proc_test_util.h"

namespace lichen::test {
namespace {

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

uint64_t Read64(vm::AddressSpace& as, uint64_t addr) {
  uint64_t v = 0;
  LICHEN_ASSERT(proc::CopyFromUser(as, &v, addr, 8), "stack read at {:#x}", addr);
  return v;
}

std::string ReadString(vm::AddressSpace& as, uint64_t addr) {
  char buf[256];
  const int64_t n = proc::CopyStringFromUser(as, buf, sizeof(buf), addr);
  LICHEN_ASSERT(n >= 0, "string at {:#x}: {}", addr, n);
  return std::string(buf, static_cast<size_t>(n));
}

void CheckLoad(const std::vector<uint8_t>& file, bool pie) {
  exec::ElfImage image;
  ASSERT_TRUE(exec::ParseElf(file, image).ok());
  ASSERT_EQ(image.type == exec::kEtDyn, pie);
  const sim::Outcome result = RunProc(1, 1, [&] {
    vm::AddressSpace* as = vm::AddressSpace::Create().value();
    const char* argv[] = {"/bin/prog", "-x", "arg two", nullptr};
    const char* envp[] = {"HOME=/", "TERM=vt100", nullptr};
    proc::LoadedImage li =
        proc::LoadImage(*as, file.data(), image, argv, envp, "/bin/prog").value();
    LICHEN_ASSERT(pie == (li.bias != 0), "bias {:#x}", li.bias);
    LICHEN_ASSERT(li.regs.pc == image.entry + li.bias, "pc {:#x}", li.regs.pc);
    LICHEN_ASSERT(li.regs.sp % 16 == 0, "sp {:#x} not 16-aligned", li.regs.sp);
    // Every LOAD segment is an image region with its permissions.
    for (uint32_t i = 0; i < image.segment_count; ++i) {
      const exec::ElfSegment& s = image.segments[i];
      vm::RegionInfo info;
      LICHEN_ASSERT(as->RegionAt(s.vaddr + li.bias, &info), "segment {} not mapped", i);
      LICHEN_ASSERT(info.has_image, "segment {} is not image-backed", i);
      LICHEN_ASSERT(info.prot.write == s.writable() && info.prot.exec == s.executable(),
                    "segment {} permissions", i);
      // Its first file bytes read back through the address space.
      uint8_t byte = 0;
      if (s.filesz > 0) {
        LICHEN_ASSERT(proc::CopyFromUser(*as, &byte, s.vaddr + li.bias, 1), "read");
        LICHEN_ASSERT(byte == file[s.offset], "segment {} first byte", i);
      }
      // And its zero tail (bss) reads as zeros.
      if (s.memsz > s.filesz) {
        LICHEN_ASSERT(proc::CopyFromUser(*as, &byte, s.vaddr + li.bias + s.memsz - 1, 1), "bss");
        LICHEN_ASSERT(byte == 0, "segment {} bss", i);
      }
    }
    // argc, argv, envp, auxv.
    uint64_t at = li.regs.sp;
    LICHEN_ASSERT(Read64(*as, at) == 3, "argc");
    LICHEN_ASSERT(ReadString(*as, Read64(*as, at + 8)) == "/bin/prog", "argv[0]");
    LICHEN_ASSERT(ReadString(*as, Read64(*as, at + 16)) == "-x", "argv[1]");
    LICHEN_ASSERT(ReadString(*as, Read64(*as, at + 24)) == "arg two", "argv[2]");
    LICHEN_ASSERT(Read64(*as, at + 32) == 0, "argv end");
    LICHEN_ASSERT(ReadString(*as, Read64(*as, at + 40)) == "HOME=/", "envp[0]");
    LICHEN_ASSERT(ReadString(*as, Read64(*as, at + 48)) == "TERM=vt100", "envp[1]");
    LICHEN_ASSERT(Read64(*as, at + 56) == 0, "envp end");
    at += 64;
    uint64_t seen = 0;
    for (int n = 0; n < 64; ++n, at += 16) {
      const uint64_t type = Read64(*as, at);
      const uint64_t value = Read64(*as, at + 8);
      if (type == proc::kAtNull) break;
      seen |= uint64_t{1} << type;
      if (type == proc::kAtEntry) LICHEN_ASSERT(value == li.regs.pc, "AT_ENTRY");
      if (type == proc::kAtPhnum) LICHEN_ASSERT(value == image.phnum, "AT_PHNUM");
      if (type == proc::kAtPhent) LICHEN_ASSERT(value == 56, "AT_PHENT");
      if (type == proc::kAtPagesz) LICHEN_ASSERT(value == 4096, "AT_PAGESZ");
      if (type == proc::kAtPhdr) {
        // The program headers, read back at AT_PHDR, are the file's.
        uint8_t ph[56];
        LICHEN_ASSERT(proc::CopyFromUser(*as, ph, value, sizeof(ph)), "AT_PHDR readable");
        uint64_t phoff = 0;
        std::memcpy(&phoff, &file[32], 8);
        LICHEN_ASSERT(std::memcmp(ph, &file[phoff], sizeof(ph)) == 0, "AT_PHDR contents");
      }
      if (type == proc::kAtRandom) LICHEN_ASSERT(value == li.random_addr, "AT_RANDOM");
      if (type == proc::kAtExecfn) LICHEN_ASSERT(ReadString(*as, value) == "/bin/prog", "execfn");
      if (type == proc::kAtPlatform) LICHEN_ASSERT(ReadString(*as, value) == "aarch64", "platform");
    }
    for (uint64_t type :
         {proc::kAtPhdr, proc::kAtPhent, proc::kAtPhnum, proc::kAtPagesz, proc::kAtEntry,
          proc::kAtRandom, proc::kAtHwcap, proc::kAtClktck, proc::kAtUid, proc::kAtEuid,
          proc::kAtGid, proc::kAtEgid, proc::kAtSecure, proc::kAtExecfn}) {
      LICHEN_ASSERT((seen >> type) & 1, "auxv lacks type {}", type);
    }
    // The break starts after the last segment.
    LICHEN_ASSERT(as->Brk(0) == li.brk, "brk {:#x} vs {:#x}", as->Brk(0), li.brk);
    LICHEN_ASSERT(li.brk >= image.max_vaddr + li.bias, "brk below the image");
    as->Put();
  });
  ASSERT_TRUE(result.ok) << Explain(result);
}

// The test data of kernel/exec: real static binaries built by the stock cross toolchain.
TEST(Loader, MapsAStaticGlibcProgramAndBuildsLinuxsInitialStack) {
  const std::vector<uint8_t> file = ReadFile(LICHEN_TEST_DATA_DIR "/elf/hello-static");
  ASSERT_FALSE(file.empty());
  CheckLoad(file, false);
}

TEST(Loader, LoadsAStaticPieProgramAtALoadBase) {
  const std::vector<uint8_t> file = ReadFile(LICHEN_TEST_DATA_DIR "/elf/tiny-pie");
  ASSERT_FALSE(file.empty());
  CheckLoad(file, true);
}

// AT_RANDOM's 16 bytes differ between two loads (a real generator, not a constant).
TEST(Loader, AtRandomDiffersBetweenLoads) {
  const std::vector<uint8_t> file = ReadFile(LICHEN_TEST_DATA_DIR "/elf/hello-static");
  exec::ElfImage image;
  ASSERT_TRUE(exec::ParseElf(file, image).ok());
  const sim::Outcome result = RunProc(1, 3, [&] {
    uint8_t seen[2][16];
    for (auto& bytes : seen) {
      vm::AddressSpace* as = vm::AddressSpace::Create().value();
      const char* argv[] = {"p", nullptr};
      proc::LoadedImage li = proc::LoadImage(*as, file.data(), image, argv, nullptr, "p").value();
      LICHEN_ASSERT(proc::CopyFromUser(*as, bytes, li.random_addr, 16), "AT_RANDOM bytes");
      as->Put();
    }
    LICHEN_ASSERT(std::memcmp(seen[0], seen[1], 16) != 0, "AT_RANDOM repeated");
  });
  ASSERT_TRUE(result.ok) << Explain(result);
}

}  // namespace
}  // namespace lichen::test

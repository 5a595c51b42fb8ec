// libFuzzer target of the initramfs reader (kernel/exec/cpio.cc), seeded with the archives of
// tests/data/cpio and tests/fuzz/corpus/exec_cpio. Whatever the bytes, Open must refuse them
// with a reason or accept an archive whose every entry, and every Lookup, stays inside the
// blob; nothing may read outside it (AddressSanitizer: an exactly-sized heap copy), overflow,
// or loop forever. The properties of an accepted archive are checked here independently.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "kernel/exec/cpio.h"

namespace {

using namespace lichen::exec;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "exec_cpio_fuzz: accepted, but %s\n", what);
  std::abort();
}

bool InBlob(const void* p, size_t len, const uint8_t* blob, size_t size) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  return b >= blob && static_cast<size_t>(b - blob) <= size &&
         len <= size - static_cast<size_t>(b - blob);
}

void CheckEntry(const CpioEntry& entry, const uint8_t* blob, size_t size) {
  if (entry.name.empty() || entry.name.size() >= kCpioMaxName) Fail("name size out of range");
  if (std::memchr(entry.name.data(), 0, entry.name.size()) != nullptr) Fail("NUL in a name");
  if (!InBlob(entry.name.data(), entry.name.size() + 1, blob, size)) Fail("name outside blob");
  if (entry.name.data()[entry.name.size()] != '\0') Fail("name not NUL-terminated");
  if (!InBlob(entry.data.data(), entry.data.size(), blob, size)) Fail("data outside the blob");
  if (entry.name == "TRAILER!!!") Fail("the iterator handed out a trailer");
  if (entry.offset % 4 != 0 || entry.offset + kCpioHeaderSize > size) Fail("header offset");
  if (entry.IsSymlink() && (entry.data.empty() || entry.data.size() > kCpioMaxSymlink ||
                            std::memchr(entry.data.data(), 0, entry.data.size()) != nullptr))
    Fail("bad symlink target");
  if (!entry.IsRegular() && !entry.IsSymlink() && !entry.data.empty())
    Fail("data in an entry that holds none");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> storage(new uint8_t[size + 1]);
  uint8_t* copy = storage.get() + 1;
  if (size != 0) std::memcpy(copy, data, size);
  CpioArchive archive;
  Rejection why;
  const lichen::Result<void> opened = CpioArchive::Open(copy, size, archive, &why);
  if (!opened.ok()) {
    if (why.reason == nullptr || why.reason[0] == '\0' || why.offset > size)
      Fail("an error without a reason or with an offset past the end");
    return 0;
  }
  uint64_t previous = 0;
  uint32_t looked_up = 0;
  bool first = true;
  for (const CpioEntry& entry : archive) {
    CheckEntry(entry, copy, size);
    if (!first && entry.offset <= previous) Fail("entries out of order");
    first = false;
    previous = entry.offset;
    // Lookup walks the whole archive: a few per input keep an input linear-ish.
    if (looked_up++ < 8) {
      lichen::Result<CpioEntry> found = archive.Lookup(entry.name);
      if (!found.ok()) Fail("an entry's own name is not found");
      CheckEntry(found.value(), copy, size);
      if (found.value().offset < entry.offset) Fail("Lookup did not return the last occurrence");
    }
  }
  lichen::Result<CpioEntry> root = archive.Lookup("/");
  if (root.ok()) CheckEntry(root.value(), copy, size);
  return 0;
}

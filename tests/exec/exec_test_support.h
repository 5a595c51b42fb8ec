// Helpers shared by the exec parsers' host tests: reading test data, parsing from an
// exactly-sized heap copy (so ASan catches any read past the end), and a writer of newc cpio
// archives whose every field can be set, to make the broken ones.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lichen::test {

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// An exactly-sized heap copy of `bytes` at an odd address: a read past its end is an ASan
// report, a misaligned multi-byte load a UBSan one.
class ExactCopy {
 public:
  explicit ExactCopy(const std::vector<uint8_t>& bytes)
      : storage_(std::make_unique<uint8_t[]>(bytes.size() + 1)), size_(bytes.size()) {
    std::copy(bytes.begin(), bytes.end(), storage_.get() + 1);
  }
  const uint8_t* data() const { return storage_.get() + 1; }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> storage_;
  size_t size_;
};

// One newc entry's fields, all settable (defaults: a regular file, mode 0644).
struct CpioFields {
  uint32_t ino = 1;
  uint32_t mode = 0100644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 1;
  uint32_t mtime = 0;
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  uint32_t check = 0;
};

class CpioWriter {
 public:
  // Appends an entry. `name_size` and `file_size` default to the true ones (name + NUL, data);
  // passing others writes a lying header, with the bytes as given.
  CpioWriter& Add(std::string_view name, std::string_view data, CpioFields f = {},
                  int64_t name_size = -1, int64_t file_size = -1) {
    const uint32_t ns =
        name_size < 0 ? static_cast<uint32_t>(name.size() + 1) : static_cast<uint32_t>(name_size);
    const uint32_t fs =
        file_size < 0 ? static_cast<uint32_t>(data.size()) : static_cast<uint32_t>(file_size);
    const uint32_t fields[13] = {f.ino,        f.mode, f.uid,       f.gid,       f.nlink,
                                 f.mtime,      fs,     f.dev_major, f.dev_minor, f.rdev_major,
                                 f.rdev_minor, ns,     f.check};
    Append("070701");
    for (uint32_t v : fields) {
      char hex[9];
      std::snprintf(hex, sizeof(hex), "%08X", v);
      Append(hex);
    }
    Append(name);
    bytes_.push_back(0);
    Pad4();
    Append(data);
    Pad4();
    return *this;
  }
  CpioWriter& Dir(std::string_view name) { return Add(name, "", {.mode = 0040755, .nlink = 2}); }
  CpioWriter& Symlink(std::string_view name, std::string_view target) {
    return Add(name, target, {.mode = 0120777});
  }
  CpioWriter& Trailer() { return Add("TRAILER!!!", "", {.ino = 0, .mode = 0, .nlink = 1}); }
  // Zero bytes up to a multiple of `block` (cpio pads its output to 512-byte blocks).
  CpioWriter& PadTo(size_t block) {
    while (bytes_.size() % block != 0)
      bytes_.push_back(0);
    return *this;
  }
  CpioWriter& Raw(std::string_view raw) {
    Append(raw);
    return *this;
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  void Append(std::string_view s) { bytes_.insert(bytes_.end(), s.begin(), s.end()); }
  void Pad4() {
    while (bytes_.size() % 4 != 0)
      bytes_.push_back(0);
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace lichen::test

// A read-only reader of the initramfs: "newc" cpio archives (the format `cpio -o -H newc` and
// Linux's gen_init_cpio write, and the one Linux's initramfs unpacker reads), as QEMU hands it
// over with -initrd.
//
// The blob comes from outside the kernel, so Open() checks all of it before anything is handed
// out: every header, name and data range lies inside the blob, every field is eight hex
// digits, every name is NUL-terminated at its stated size, every archive ends with its
// "TRAILER!!!". After a successful Open() the iterator and Lookup() cannot fail and cannot read
// outside the blob, whatever its bytes were. Nothing is copied: entries are views into the
// blob, which must outlive them. docs/exec.md lists what is refused and why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/exec/rejection.h"
#include "lib/result.h"

namespace lichen::exec {

// File types in the mode field (the st_mode bits Linux uses, which cpio stores as is).
inline constexpr uint32_t kModeTypeMask = 0170000;
inline constexpr uint32_t kModeSocket = 0140000;
inline constexpr uint32_t kModeSymlink = 0120000;
inline constexpr uint32_t kModeRegular = 0100000;
inline constexpr uint32_t kModeBlockDevice = 0060000;
inline constexpr uint32_t kModeDirectory = 0040000;
inline constexpr uint32_t kModeCharDevice = 0020000;
inline constexpr uint32_t kModeFifo = 0010000;

// One entry of the archive, as stored. The name is as the archive spells it ("./bin/sh",
// "bin/sh" or "/bin/sh"), without its NUL.
struct CpioEntry {
  std::string_view name;
  std::span<const uint8_t> data;  // a regular file's contents, or a symlink's target
  uint64_t offset = 0;            // of the entry's header in the blob
  uint32_t archive = 0;           // which of the blob's back-to-back archives holds it, from 0
  uint32_t ino = 0;
  uint32_t mode = 0;  // type (kMode*) and permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 0;
  uint32_t mtime = 0;
  uint32_t dev_major = 0;  // of the device holding the file (with ino: hard links)
  uint32_t dev_minor = 0;
  uint32_t rdev_major = 0;  // of the device a device node stands for
  uint32_t rdev_minor = 0;

  uint32_t type() const { return mode & kModeTypeMask; }
  bool IsRegular() const { return type() == kModeRegular; }
  bool IsDirectory() const { return type() == kModeDirectory; }
  bool IsSymlink() const { return type() == kModeSymlink; }
  // A symlink's target (its data, which Open() checked holds no NUL).
  std::string_view SymlinkTarget() const {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }
};

// Limits, Linux's: a name (with its NUL) or a symlink target (without) of at most PATH_MAX.
inline constexpr uint32_t kCpioMaxName = 4096;
inline constexpr uint32_t kCpioMaxSymlink = 4095;
// The size of a newc header: the magic and thirteen 8-digit hex fields.
inline constexpr size_t kCpioHeaderSize = 110;

class CpioArchive {
 public:
  // Checks the whole blob [data, data + size) and on success makes `out` a view of it. A blob
  // may hold several archives back to back (as Linux accepts: an early-microcode archive
  // before the main one), each ending with its trailer and starting at a 4-aligned offset;
  // zero bytes may pad between and after them (cpio pads its output to 512-byte blocks).
  // Errors: kMalformed (the bytes break the format, including an archive without its trailer:
  // a truncated initrd), kUnsupported (another cpio format, or a compressed initramfs).
  static Result<void> Open(const void* data, size_t size, CpioArchive& out,
                           Rejection* why = nullptr);

  // The entries in archive order, every archive's trailer left out.
  class Iterator {
   public:
    const CpioEntry& operator*() const { return entry_; }
    const CpioEntry* operator->() const { return &entry_; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return offset_ == other.offset_; }

   private:
    friend class CpioArchive;
    Iterator(const CpioArchive* archive, size_t offset);
    // Moves to the first entry at or after offset_ that is not a trailer, or to the end.
    void Settle();

    const CpioArchive* archive_;
    size_t offset_;    // of entry_'s header; archive_->size_ at the end
    size_t next_ = 0;  // of what follows entry_
    uint32_t archive_index_ = 0;
    CpioEntry entry_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size_); }

  // The entry for `path`, compared by components: "/bin/sh", "bin/sh", "./bin//sh/" and the
  // stored "./bin/sh" are one name; "/" and "." name the root entry ("." in an archive made by
  // `find .`). When a name occurs more than once the last occurrence wins, as in Linux's
  // unpacker, which overwrites. A regular file stored as a hard link (nlink > 1, no data)
  // gets the data of the entry of the same archive with the same (dev, ino) that carries it
  // (GNU cpio writes the data once, with the last link). Symlinks are returned, not followed.
  // Error: kNotFound.
  Result<CpioEntry> Lookup(std::string_view path) const;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace lichen::exec

#include "kernel/exec/cpio.h"

#include "lib/assert.h"

namespace lichen::exec {

namespace {

constexpr std::string_view kTrailerName = "TRAILER!!!";

Error Reject(Rejection* why, Error error, const char* reason, uint64_t offset) {
  if (why != nullptr) *why = {reason, offset};
  return error;
}

// One header field: exactly eight hex digits (either case). Linux's unpacker runs them through
// simple_strtoul and takes whatever prefix parses; a stray byte here means a corrupt or
// misaligned archive, which is refused rather than read as a different number.
bool ParseHex8(const uint8_t* p, uint32_t& out) {
  uint32_t value = 0;
  for (int i = 0; i < 8; ++i) {
    const uint8_t c = p[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = value << 4 | digit;
  }
  out = value;
  return true;
}

// `offset` rounded up to a multiple of 4, or `size` if that is past it (the padding after the
// last entry of a blob may be cut off; nothing can follow it then).
size_t PadTo4(size_t offset, size_t size) {
  const size_t pad = (4 - offset % 4) % 4;
  return pad > size - offset ? size : offset + pad;
}

bool HasMagic(const uint8_t* p, const char* magic) {
  for (int i = 0; i < 6; ++i) {
    if (p[i] != static_cast<uint8_t>(magic[i])) return false;
  }
  return true;
}

// The next path component of `rest` that is not empty and not ".", removed from `rest`; empty
// when none is left.
std::string_view NextComponent(std::string_view& rest) {
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (!part.empty() && part != ".") return part;
  }
  return {};
}

bool SamePath(std::string_view a, std::string_view b) {
  for (;;) {
    const std::string_view x = NextComponent(a);
    const std::string_view y = NextComponent(b);
    if (x != y) return false;
    if (x.empty()) return true;
  }
}

bool HasDotDot(std::string_view name) {
  for (std::string_view part = NextComponent(name); !part.empty(); part = NextComponent(name)) {
    if (part == "..") return true;
  }
  return false;
}

// Parses and checks the entry whose header starts at `offset` (a multiple of 4, below `size`).
// On success fills `entry` (but not entry.archive) and sets `next` to the offset after its
// padded data (at most `size`).
Result<void> ParseEntry(const uint8_t* blob, size_t size, size_t offset, CpioEntry& entry,
                        size_t& next, Rejection* why) {
  if (size - offset < kCpioHeaderSize)
    return Reject(why, Error::kMalformed, "cpio header cut off by the end of the blob", offset);
  const uint8_t* h = blob + offset;
  if (!HasMagic(h, "070701")) {
    if (h[0] == 0x1f && (h[1] == 0x8b || h[1] == 0x9e))
      return Reject(why, Error::kUnsupported, "compressed initramfs (gzip)", offset);
    if (HasMagic(h, "070702"))
      return Reject(why, Error::kUnsupported, "cpio with checksums (070702); use -H newc", offset);
    if (HasMagic(h, "070707"))
      return Reject(why, Error::kUnsupported, "old portable cpio (070707); use -H newc", offset);
    return Reject(why, Error::kMalformed, "no cpio newc magic (070701)", offset);
  }
  uint32_t field[13];
  for (int i = 0; i < 13; ++i) {
    if (!ParseHex8(h + 6 + 8 * i, field[i]))
      return Reject(why, Error::kMalformed, "cpio header field is not 8 hex digits", offset);
  }
  entry = {};
  entry.offset = offset;
  entry.ino = field[0];
  entry.mode = field[1];
  entry.uid = field[2];
  entry.gid = field[3];
  entry.nlink = field[4];
  entry.mtime = field[5];
  const uint32_t file_size = field[6];
  entry.dev_major = field[7];
  entry.dev_minor = field[8];
  entry.rdev_major = field[9];
  entry.rdev_minor = field[10];
  const uint32_t name_size = field[11];  // field[12] is the checksum, unused by 070701

  // The name: name_size bytes, the last one its NUL, after the header.
  if (name_size == 0)
    return Reject(why, Error::kMalformed, "cpio name size 0 (it counts the NUL)", offset);
  if (name_size > kCpioMaxName)
    return Reject(why, Error::kMalformed, "cpio name longer than PATH_MAX", offset);
  const size_t name_start = offset + kCpioHeaderSize;
  if (name_size > size - name_start)
    return Reject(why, Error::kMalformed, "cpio name cut off by the end of the blob", offset);
  const char* name = reinterpret_cast<const char*>(blob + name_start);
  if (name[name_size - 1] != '\0')
    return Reject(why, Error::kMalformed, "cpio name not NUL-terminated at its size", offset);
  entry.name = std::string_view(name, name_size - 1);
  if (entry.name.find('\0') != std::string_view::npos)
    return Reject(why, Error::kMalformed, "cpio name holds a NUL before its end", offset);
  if (entry.name.empty())
    return Reject(why, Error::kMalformed, "cpio entry without a name", offset);

  // The data: file_size bytes from the next multiple of 4.
  const size_t data_start = PadTo4(name_start + name_size, size);
  if (file_size > size - data_start)
    return Reject(why, Error::kMalformed, "cpio data cut off by the end of the blob", offset);
  entry.data = std::span<const uint8_t>(blob + data_start, file_size);
  next = PadTo4(data_start + file_size, size);

  // The trailer has no type (mode 0 from every writer); nothing more to check in it.
  if (entry.name == kTrailerName) return {};

  switch (entry.type()) {
    case kModeRegular:
      break;
    case kModeSymlink:
      if (file_size == 0)
        return Reject(why, Error::kMalformed, "cpio symlink with an empty target", offset);
      if (file_size > kCpioMaxSymlink)
        return Reject(why, Error::kMalformed, "cpio symlink target longer than PATH_MAX", offset);
      if (entry.SymlinkTarget().find('\0') != std::string_view::npos)
        return Reject(why, Error::kMalformed, "cpio symlink target holds a NUL", offset);
      break;
    case kModeDirectory:
    case kModeCharDevice:
    case kModeBlockDevice:
    case kModeFifo:
    case kModeSocket:
      if (file_size != 0)
        return Reject(why, Error::kMalformed, "cpio directory or special file with data", offset);
      break;
    default:
      return Reject(why, Error::kMalformed, "cpio mode of no known file type", offset);
  }
  // Linux unpacks into / with the names as given, so "../x" would land outside the directory
  // the writer meant; no honest archive has one.
  if (HasDotDot(entry.name))
    return Reject(why, Error::kMalformed, "cpio name with a '..' component", offset);
  return {};
}

}  // namespace

Result<void> CpioArchive::Open(const void* data, size_t size, CpioArchive& out, Rejection* why) {
  const uint8_t* blob = static_cast<const uint8_t*>(data);
  if (blob == nullptr && size != 0)
    return Reject(why, Error::kInvalidArgument, "cpio blob is a null pointer", 0);
  bool in_archive = false;
  size_t offset = 0;
  while (offset < size) {
    if (!in_archive) {
      // Between archives (and before the first): zero padding, then an archive that starts
      // at a multiple of 4, as the 4-byte alignment of its entries is counted from there.
      if (blob[offset] == 0) {
        ++offset;
        continue;
      }
      if (offset % 4 != 0)
        return Reject(why, Error::kMalformed, "cpio archive starts at an unaligned offset", offset);
      in_archive = true;
    }
    CpioEntry entry;
    size_t next = 0;
    LICHEN_TRY(ParseEntry(blob, size, offset, entry, next, why));
    if (entry.name == kTrailerName) in_archive = false;
    offset = next;
  }
  // Linux unpacks an archive without its trailer up to where the bytes end. Here the end of
  // the blob comes from the device tree: a missing trailer means a truncated or misplaced
  // initrd, and refusing it says so at boot instead of as a missing file much later.
  if (in_archive)
    return Reject(why, Error::kMalformed, "cpio archive without its TRAILER!!! entry", size);
  out.data_ = blob;
  out.size_ = size;
  return {};
}

CpioArchive::Iterator::Iterator(const CpioArchive* archive, size_t offset)
    : archive_(archive), offset_(offset) {
  Settle();
}

void CpioArchive::Iterator::Settle() {
  const uint8_t* blob = archive_->data_;
  const size_t size = archive_->size_;
  while (offset_ < size) {
    // Inside an archive a header starts with '0'; a zero byte is padding between archives.
    if (blob[offset_] == 0) {
      ++offset_;
      continue;
    }
    const Result<void> parsed = ParseEntry(blob, size, offset_, entry_, next_, nullptr);
    LICHEN_ASSERT(parsed.ok(), "cpio entry at {} changed since Open checked it", offset_);
    entry_.archive = archive_index_;
    if (entry_.name != kTrailerName) return;
    ++archive_index_;
    offset_ = next_;
  }
  offset_ = size;
}

CpioArchive::Iterator& CpioArchive::Iterator::operator++() {
  offset_ = next_;
  Settle();
  return *this;
}

Result<CpioEntry> CpioArchive::Lookup(std::string_view path) const {
  bool found = false;
  CpioEntry last;
  for (const CpioEntry& entry : *this) {
    if (SamePath(entry.name, path)) {
      last = entry;
      found = true;
    }
  }
  if (!found) return Error::kNotFound;
  if (last.IsRegular() && last.nlink > 1 && last.data.empty()) {
    // A hard link whose data another link of the same inode carries (in this archive: Linux
    // forgets inodes at each trailer).
    for (const CpioEntry& entry : *this) {
      if (entry.archive == last.archive && entry.IsRegular() && entry.nlink > 1 &&
          entry.ino == last.ino && entry.dev_major == last.dev_major &&
          entry.dev_minor == last.dev_minor && !entry.data.empty()) {
        last.data = entry.data;
      }
    }
  }
  return last;
}

}  // namespace lichen::exec

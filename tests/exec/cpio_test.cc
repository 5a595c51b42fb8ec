// Host tests of the initramfs reader (kernel/exec/cpio.cc): archives written by GNU cpio
// (tests/data/cpio, made by its `regenerate` script) must read back as the tree they were made
// from, and every broken archive must be refused by the rule that names its fault, never read
// outside the blob (each parse runs on an exactly-sized heap copy under AddressSanitizer).
#include "kernel/exec/cpio.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "lib/random.h"
#include "tests/exec/exec_test_support.h"
#include "tests/support/property.h"

namespace lichen::exec {
namespace {

using test::CpioFields;
using test::CpioWriter;
using test::ExactCopy;

std::vector<uint8_t> ReadCpio(const std::string& name) {
  return test::ReadFile(std::string(LICHEN_TEST_DATA_DIR) + "/cpio/" + name);
}

std::string AsString(std::span<const uint8_t> data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

// Opens `bytes` (from an exact copy kept alive by `copy`) and expects success.
CpioArchive OpenOk(const ExactCopy& copy) {
  CpioArchive archive;
  Rejection why;
  const Result<void> opened = CpioArchive::Open(copy.data(), copy.size(), archive, &why);
  EXPECT_TRUE(opened.ok()) << "refused: " << (why.reason ? why.reason : "?") << " at "
                           << why.offset;
  return archive;
}

// Expects `bytes` to be refused with `error` by the rule whose reason contains `reason`.
void ExpectRefused(const std::vector<uint8_t>& bytes, Error error, const std::string& reason) {
  ExactCopy copy(bytes);
  CpioArchive archive;
  Rejection why;
  const Result<void> opened = CpioArchive::Open(copy.data(), copy.size(), archive, &why);
  ASSERT_FALSE(opened.ok()) << "accepted; expected: " << reason;
  EXPECT_EQ(opened.error(), error) << ErrorName(opened.error()) << ": " << why.reason;
  ASSERT_NE(why.reason, nullptr);
  EXPECT_NE(std::string(why.reason).find(reason), std::string::npos)
      << "refused for \"" << why.reason << "\", expected \"" << reason << "\"";
}

std::vector<std::string> Names(const CpioArchive& archive) {
  std::vector<std::string> names;
  for (const CpioEntry& entry : archive)
    names.emplace_back(entry.name);
  return names;
}

// A good archive: one file, then the trailer.
CpioWriter OneFile() {
  CpioWriter w;
  w.Add("init", "hello").Trailer();
  return w;
}

TEST(CpioReal, GnuCpioArchiveOfDotReadsBackAsTheTree) {
  ExactCopy copy(ReadCpio("dot.cpio"));
  CpioArchive archive = OpenOk(copy);
  EXPECT_EQ(Names(archive),
            (std::vector<std::string>{".", "bin", "bin/sh", "bin/tiny", "empty", "etc",
                                      "etc/link-a", "etc/link-b", "etc/motd"}));

  const std::vector<uint8_t> tiny =
      test::ReadFile(std::string(LICHEN_TEST_DATA_DIR) + "/elf/tiny-static");
  for (const char* path : {"bin/tiny", "/bin/tiny", "./bin/tiny", "bin//tiny/", "/./bin/./tiny"}) {
    SCOPED_TRACE(path);
    Result<CpioEntry> entry = archive.Lookup(path);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry.value().name, "bin/tiny");
    EXPECT_TRUE(entry.value().IsRegular());
    EXPECT_EQ(entry.value().mode, 0100755u);
    EXPECT_EQ(std::vector<uint8_t>(entry.value().data.begin(), entry.value().data.end()), tiny);
    EXPECT_EQ(entry.value().mtime, 1700000000u);
    EXPECT_EQ(entry.value().uid, 0u);
    EXPECT_EQ(entry.value().nlink, 1u);
  }

  Result<CpioEntry> sh = archive.Lookup("/bin/sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_TRUE(sh.value().IsSymlink());
  EXPECT_EQ(sh.value().SymlinkTarget(), "tiny");

  Result<CpioEntry> root = archive.Lookup("/");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root.value().name, ".");
  EXPECT_TRUE(root.value().IsDirectory());
  EXPECT_EQ(archive.Lookup(".").value().name, ".");
  EXPECT_EQ(archive.Lookup("").value().name, ".");

  Result<CpioEntry> empty = archive.Lookup("/empty/");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value().IsDirectory());
  EXPECT_TRUE(empty.value().data.empty());

  EXPECT_EQ(AsString(archive.Lookup("etc/motd").value().data), "Lichen initramfs test archive\n");

  for (const char* missing : {"bin/ti", "bin/tiny/x", "tiny", "etc/motd2", "nope"}) {
    Result<CpioEntry> entry = archive.Lookup(missing);
    ASSERT_FALSE(entry.ok()) << missing;
    EXPECT_EQ(entry.error(), Error::kNotFound);
  }
}

TEST(CpioReal, HardLinksShareTheDataGnuCpioStoresWithTheLastLink) {
  ExactCopy copy(ReadCpio("dot.cpio"));
  CpioArchive archive = OpenOk(copy);
  // As stored: the first link has no data, the last one carries it.
  std::map<std::string, size_t> stored;
  for (const CpioEntry& entry : archive)
    stored[std::string(entry.name)] = entry.data.size();
  EXPECT_EQ(stored["etc/link-a"], 0u);
  EXPECT_EQ(stored["etc/link-b"], 20u);
  // Looked up: both names give the file's contents, as after Linux unpacks them.
  for (const char* path : {"etc/link-a", "etc/link-b"}) {
    Result<CpioEntry> entry = archive.Lookup(path);
    ASSERT_TRUE(entry.ok()) << path;
    EXPECT_EQ(entry.value().nlink, 2u);
    EXPECT_EQ(AsString(entry.value().data), "one file, two names\n") << path;
  }
}

TEST(CpioReal, ArchiveWithoutRootEntry) {
  ExactCopy copy(ReadCpio("plain.cpio"));
  CpioArchive archive = OpenOk(copy);
  EXPECT_EQ(Names(archive).size(), 8u);
  EXPECT_EQ(archive.Lookup("/").error(), Error::kNotFound);
  EXPECT_TRUE(archive.Lookup("/bin/tiny").ok());
}

TEST(CpioReal, ConcatenatedArchivesAreOneTreeAndTheLaterEntryWins) {
  std::vector<uint8_t> bytes = ReadCpio("dot.cpio");
  const std::vector<uint8_t> second = CpioWriter().Add("bin/tiny", "replaced").Trailer().bytes();
  bytes.insert(bytes.end(), second.begin(), second.end());
  ExactCopy copy(bytes);
  CpioArchive archive = OpenOk(copy);
  EXPECT_EQ(Names(archive).size(), 10u);
  Result<CpioEntry> tiny = archive.Lookup("bin/tiny");
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(AsString(tiny.value().data), "replaced");
  EXPECT_EQ(tiny.value().archive, 1u);
  EXPECT_EQ(archive.Lookup("etc/motd").value().archive, 0u);
}

TEST(Cpio, NamesWithDotSlashAndSlashPrefixesLookUpAlike) {
  CpioWriter w;
  w.Dir(".").Dir("./bin").Add("./bin/prog", "p").Add("/etc/abs", "a").Add("sbin//x/", "x");
  ExactCopy copy(w.Trailer().bytes());
  CpioArchive archive = OpenOk(copy);
  EXPECT_EQ(AsString(archive.Lookup("/bin/prog").value().data), "p");
  EXPECT_EQ(AsString(archive.Lookup("bin/prog").value().data), "p");
  EXPECT_EQ(AsString(archive.Lookup("etc/abs").value().data), "a");
  EXPECT_EQ(AsString(archive.Lookup("./sbin/x").value().data), "x");
  EXPECT_EQ(archive.Lookup("/").value().name, ".");
  EXPECT_EQ(archive.Lookup("/bin").value().name, "./bin");
}

TEST(Cpio, DuplicateNamesTheLastOneWins) {
  CpioWriter w;
  w.Add("etc/conf", "first").Add("./etc/conf", "second").Add("bin/x", "x");
  w.Add("/etc/conf", "", {.mode = 0040755});  // now a directory, as Linux's unpacker replaces it
  w.Add("a", "one").Add("a", "two");
  ExactCopy copy(w.Trailer().bytes());
  CpioArchive archive = OpenOk(copy);
  EXPECT_TRUE(archive.Lookup("etc/conf").value().IsDirectory());
  EXPECT_EQ(archive.Lookup("etc/conf").value().name, "/etc/conf");
  EXPECT_EQ(AsString(archive.Lookup("a").value().data), "two");
}

TEST(Cpio, DeviceNodesAndAllFields) {
  CpioWriter w;
  w.Add("dev/console", "",
        {.ino = 0x1234abcd,
         .mode = 0020600,
         .uid = 1000,
         .gid = 1001,
         .nlink = 1,
         .mtime = 0xfedcba98,
         .dev_major = 8,
         .dev_minor = 1,
         .rdev_major = 5,
         .rdev_minor = 1});
  w.Add("dev/sda", "", {.mode = 0060600, .rdev_major = 8});
  w.Add("run/fifo", "", {.mode = 0010644});
  w.Add("run/sock", "", {.mode = 0140755});
  ExactCopy copy(w.Trailer().bytes());
  CpioArchive archive = OpenOk(copy);
  const CpioEntry console = archive.Lookup("/dev/console").value();
  EXPECT_EQ(console.type(), kModeCharDevice);
  EXPECT_EQ(console.mode, 0020600u);
  EXPECT_EQ(console.ino, 0x1234abcdu);
  EXPECT_EQ(console.uid, 1000u);
  EXPECT_EQ(console.gid, 1001u);
  EXPECT_EQ(console.mtime, 0xfedcba98u);
  EXPECT_EQ(console.dev_major, 8u);
  EXPECT_EQ(console.dev_minor, 1u);
  EXPECT_EQ(console.rdev_major, 5u);
  EXPECT_EQ(console.rdev_minor, 1u);
  EXPECT_EQ(console.offset, 0u);
  EXPECT_EQ(archive.Lookup("dev/sda").value().type(), kModeBlockDevice);
  EXPECT_EQ(archive.Lookup("run/fifo").value().type(), kModeFifo);
  EXPECT_EQ(archive.Lookup("run/sock").value().type(), kModeSocket);
}

TEST(Cpio, LowerAndUpperCaseHexDigits) {
  std::vector<uint8_t> bytes = CpioWriter().Add("f", "", {.mtime = 0xabcdef01}).Trailer().bytes();
  for (size_t i = 6; i < 110; ++i)
    bytes[i] = static_cast<uint8_t>(std::tolower(bytes[i]));
  ExactCopy copy(bytes);
  CpioArchive archive = OpenOk(copy);
  EXPECT_EQ(archive.Lookup("f").value().mtime, 0xabcdef01u);
}

TEST(Cpio, EmptyBlobAndZeroPaddingHoldNoEntries) {
  for (size_t size : {0, 4, 512}) {
    ExactCopy copy(std::vector<uint8_t>(size, 0));
    CpioArchive archive = OpenOk(copy);
    EXPECT_TRUE(archive.begin() == archive.end());
    EXPECT_EQ(archive.Lookup("/").error(), Error::kNotFound);
  }
}

TEST(Cpio, ZeroPaddingBeforeBetweenAndAfterArchives) {
  CpioWriter w;
  w.Raw(std::string(8, '\0')).Add("a", "1").Trailer().PadTo(512).Add("b", "2").Trailer();
  w.Raw(std::string(5, '\0'));
  ExactCopy copy(w.bytes());
  CpioArchive archive = OpenOk(copy);
  EXPECT_EQ(Names(archive), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(archive.Lookup("a").value().archive, 0u);
  EXPECT_EQ(archive.Lookup("b").value().archive, 1u);
}

TEST(Cpio, PaddingAfterTheTrailerMayBeCutOff) {
  std::vector<uint8_t> bytes = OneFile().bytes();
  // "TRAILER!!!" + NUL ends 1 byte after a multiple of 4: its 3 padding bytes are optional.
  ASSERT_EQ(bytes.size() % 4, 0u);
  bytes.resize(bytes.size() - 3);
  ExactCopy copy(bytes);
  CpioArchive archive = OpenOk(copy);
  EXPECT_EQ(Names(archive), (std::vector<std::string>{"init"}));
}

// The rules, one broken input each.

TEST(CpioRefuses, NullBlobWithASize) {
  CpioArchive archive;
  Rejection why;
  const Result<void> opened = CpioArchive::Open(nullptr, 512, archive, &why);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error(), Error::kInvalidArgument);
  EXPECT_STREQ(why.reason, "cpio blob is a null pointer");
  // No initrd at all (the device tree names none) is an empty archive.
  ASSERT_TRUE(CpioArchive::Open(nullptr, 0, archive).ok());
  EXPECT_TRUE(archive.begin() == archive.end());
}

TEST(CpioRefuses, OtherFormatsAndNoMagic) {
  std::vector<uint8_t> bytes = OneFile().bytes();
  bytes[5] = '2';
  ExpectRefused(bytes, Error::kUnsupported, "070702");
  bytes[5] = '7';
  ExpectRefused(bytes, Error::kUnsupported, "070707");
  bytes[0] = 0x1f;
  bytes[1] = 0x8b;
  ExpectRefused(bytes, Error::kUnsupported, "compressed");
  bytes[0] = 'x';
  ExpectRefused(bytes, Error::kMalformed, "no cpio newc magic");
}

TEST(CpioRefuses, GarbageAfterTheTrailer) {
  std::vector<uint8_t> bytes = OneFile().PadTo(16).bytes();
  bytes.insert(bytes.end(), 200, 'j');
  ExpectRefused(bytes, Error::kMalformed, "no cpio newc magic");
}

TEST(CpioRefuses, HeaderCutOff) {
  std::vector<uint8_t> bytes = OneFile().bytes();
  for (size_t size : {1, 6, 50, 109}) {
    ExpectRefused(std::vector<uint8_t>(bytes.begin(), bytes.begin() + size), Error::kMalformed,
                  "header cut off");
  }
}

TEST(CpioRefuses, AFieldThatIsNotEightHexDigits) {
  for (int field = 0; field < 13; ++field) {
    for (char bad : {'g', ' ', 'x', '\0', '-'}) {
      SCOPED_TRACE(testing::Message() << "field " << field << " byte " << int(bad));
      std::vector<uint8_t> bytes = OneFile().bytes();
      bytes[6 + 8 * field + 3] = static_cast<uint8_t>(bad);
      ExpectRefused(bytes, Error::kMalformed, "not 8 hex digits");
    }
  }
}

TEST(CpioRefuses, NameSizeZero) {
  ExpectRefused(CpioWriter().Add("init", "x", {}, 0).Trailer().bytes(), Error::kMalformed,
                "name size 0");
}

TEST(CpioRefuses, NameLongerThanPathMax) {
  const std::string long_name(4096, 'n');  // 4097 with the NUL
  ExpectRefused(CpioWriter().Add(long_name, "x").Trailer().bytes(), Error::kMalformed,
                "longer than PATH_MAX");
  // The longest allowed name is fine.
  const std::string longest(4095, 'n');
  ExactCopy copy(CpioWriter().Add(longest, "x").Trailer().bytes());
  OpenOk(copy);
  // And a name size near 2^32 is refused without overflowing the offset arithmetic.
  ExpectRefused(CpioWriter().Add("a", "x", {}, 0xffffffff).Trailer().bytes(), Error::kMalformed,
                "longer than PATH_MAX");
}

TEST(CpioRefuses, NameCutOffByTheEnd) {
  std::vector<uint8_t> bytes = CpioWriter().Add("init", "").bytes();
  bytes.resize(110 + 3);  // the header and "ini"
  ExpectRefused(bytes, Error::kMalformed, "name cut off");
  ExpectRefused(CpioWriter().Add("init", "", {}, 4000).bytes(), Error::kMalformed, "name cut off");
}

TEST(CpioRefuses, NameNotNulTerminatedAtItsSize) {
  // The header says 4 ("ini" + NUL) where the NUL is after "init".
  ExpectRefused(CpioWriter().Add("init", "x", {}, 4).Trailer().bytes(), Error::kMalformed,
                "not NUL-terminated");
}

TEST(CpioRefuses, NulInsideTheName) {
  ExpectRefused(CpioWriter().Add(std::string_view("in\0it", 5), "x").Trailer().bytes(),
                Error::kMalformed, "NUL before its end");
}

TEST(CpioRefuses, EmptyName) {
  ExpectRefused(CpioWriter().Add("", "x").Trailer().bytes(), Error::kMalformed, "without a name");
}

TEST(CpioRefuses, DataCutOffByTheEnd) {
  std::vector<uint8_t> bytes = CpioWriter().Add("init", "0123456789").bytes();
  bytes.resize(bytes.size() - 6);
  ExpectRefused(bytes, Error::kMalformed, "data cut off");
  // A file size near 2^32 fails the same way, whatever the offsets would add up to.
  for (uint32_t size : {0xffffffffu, 0xfffffffcu, 0x80000000u}) {
    ExpectRefused(CpioWriter().Add("init", "x", {}, -1, size).Trailer().bytes(), Error::kMalformed,
                  "data cut off");
  }
}

TEST(CpioRefuses, SymlinkTargets) {
  ExpectRefused(CpioWriter().Symlink("l", "").Trailer().bytes(), Error::kMalformed, "empty target");
  ExpectRefused(CpioWriter().Symlink("l", std::string(4096, 't')).Trailer().bytes(),
                Error::kMalformed, "target longer than PATH_MAX");
  ExpectRefused(CpioWriter().Symlink("l", std::string_view("a\0b", 3)).Trailer().bytes(),
                Error::kMalformed, "target holds a NUL");
  ExactCopy copy(CpioWriter().Symlink("l", std::string(4095, 't')).Trailer().bytes());
  OpenOk(copy);
}

TEST(CpioRefuses, DataInADirectoryOrSpecialFile) {
  for (uint32_t type :
       {kModeDirectory, kModeCharDevice, kModeBlockDevice, kModeFifo, kModeSocket}) {
    ExpectRefused(CpioWriter().Add("d", "data", {.mode = type | 0755}).Trailer().bytes(),
                  Error::kMalformed, "directory or special file with data");
  }
}

TEST(CpioRefuses, ModeOfNoKnownType) {
  for (uint32_t mode : {0u, 0644u, 0170644u, 0030644u, 0050644u}) {
    ExpectRefused(CpioWriter().Add("f", "", {.mode = mode}).Trailer().bytes(), Error::kMalformed,
                  "no known file type");
  }
}

TEST(CpioRefuses, DotDotComponent) {
  for (const char* name : {"..", "../etc/passwd", "a/../../b", "/..", "a/.."}) {
    ExpectRefused(CpioWriter().Add(name, "x").Trailer().bytes(), Error::kMalformed, "'..'");
  }
  // Names that merely contain dots are fine.
  ExactCopy copy(CpioWriter().Add("a/..b/...", "x").Add(".hidden", "y").Trailer().bytes());
  OpenOk(copy);
}

TEST(CpioRefuses, MissingTrailer) {
  ExpectRefused(CpioWriter().Add("init", "x").bytes(), Error::kMalformed, "without its TRAILER");
  ExpectRefused(CpioWriter().Add("init", "x").PadTo(512).bytes(), Error::kMalformed,
                "no cpio newc magic");
  // The second of two archives is cut short.
  ExpectRefused(OneFile().PadTo(512).Add("b", "x").bytes(), Error::kMalformed,
                "without its TRAILER");
}

TEST(CpioRefuses, ArchiveStartingAtAnUnalignedOffset) {
  CpioWriter w;
  w.Add("a", "1").Trailer().Raw(std::string(3, '\0'));
  std::vector<uint8_t> bytes = w.bytes();
  const std::vector<uint8_t> second = CpioWriter().Add("b", "2").Trailer().bytes();
  bytes.insert(bytes.end(), second.begin(), second.end());
  ExpectRefused(bytes, Error::kMalformed, "unaligned offset");
}

TEST(CpioRefuses, EveryTruncationOfAGoodArchive) {
  // Cut anywhere before the trailer's name is complete, the archive is refused (and never
  // read past the cut: ASan).
  const std::vector<uint8_t> full = ReadCpio("dot.cpio");
  const std::string_view trailer = "TRAILER!!!";
  const size_t name_at =
      std::search(full.begin(), full.end(), trailer.begin(), trailer.end()) - full.begin();
  ASSERT_LT(name_at, full.size());
  for (size_t size = 1; size < name_at + trailer.size() + 1; ++size) {
    ExactCopy copy(std::vector<uint8_t>(full.begin(), full.begin() + size));
    CpioArchive archive;
    EXPECT_FALSE(CpioArchive::Open(copy.data(), copy.size(), archive).ok()) << size;
  }
}

// Property: archives written from a random model (files, directories, symlinks, repeated
// names spelled differently, several archives) read back as the model says: every entry in
// order, and Lookup of every name (in several spellings) giving the last entry of that name.
TEST(CpioProperty, ReadsBackWhatWasWritten) {
  test::ForEachSeed("cpio-model", 300, [](uint64_t seed) {
    Rng rng(seed);
    struct Item {
      std::string name;  // canonical: "a/b"
      std::string spelled;
      uint32_t mode;
      std::string data;
      uint32_t archive;
    };
    std::vector<Item> items;
    CpioWriter w;
    const uint32_t archives = static_cast<uint32_t>(rng.Range(1, 3));
    const char* parts[] = {"bin", "etc", "x", "init", "lib64", "a.b"};
    for (uint32_t a = 0; a < archives; ++a) {
      const uint64_t count = rng.Below(12);
      for (uint64_t i = 0; i < count; ++i) {
        std::string name;
        const uint64_t depth = rng.Range(1, 3);
        for (uint64_t d = 0; d < depth; ++d)
          name += std::string(d ? "/" : "") + parts[rng.Below(6)];
        const char* prefixes[] = {"", "./", "/", "././"};
        const std::string spelled = prefixes[rng.Below(4)] + name;
        Item item{name, spelled, 0, "", a};
        switch (rng.Below(3)) {
          case 0:
            item.mode = 0100000 | static_cast<uint32_t>(rng.Below(01000));
            item.data = std::string(rng.Below(40), static_cast<char>('a' + rng.Below(26)));
            break;
          case 1:
            item.mode = 0040755;
            break;
          default:
            item.mode = 0120777;
            item.data = "target-" + std::to_string(rng.Below(100));
        }
        w.Add(item.spelled, item.data, {.ino = static_cast<uint32_t>(i + 1), .mode = item.mode});
        items.push_back(item);
      }
      w.Trailer();
      if (rng.Chance(1, 2)) w.PadTo(512);
    }
    ExactCopy copy(w.bytes());
    CpioArchive archive = OpenOk(copy);
    size_t index = 0;
    for (const CpioEntry& entry : archive) {
      ASSERT_LT(index, items.size());
      EXPECT_EQ(entry.name, items[index].spelled);
      EXPECT_EQ(entry.mode, items[index].mode);
      EXPECT_EQ(AsString(entry.data), items[index].data);
      EXPECT_EQ(entry.archive, items[index].archive);
      ++index;
    }
    EXPECT_EQ(index, items.size());
    std::map<std::string, const Item*> last;
    for (const Item& item : items)
      last[item.name] = &item;
    for (const auto& [name, item] : last) {
      for (const std::string& path : {name, "/" + name, "./" + name, name + "/"}) {
        Result<CpioEntry> found = archive.Lookup(path);
        ASSERT_TRUE(found.ok()) << path;
        EXPECT_EQ(found.value().name, item->spelled) << path;
        EXPECT_EQ(AsString(found.value().data), item->data) << path;
        EXPECT_EQ(found.value().archive, item->archive) << path;
      }
    }
    EXPECT_EQ(archive.Lookup("not/there").error(), Error::kNotFound);
  });
}

}  // namespace
}  // namespace lichen::exec

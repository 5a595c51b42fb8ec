// Files: the console (fds 0, 1, 2, /dev/console, /dev/tty), /dev/null, and read-only files
// and directories of the initramfs (kernel/exec's cpio lookup). Nothing is writable: the
// initramfs is the only file system and it is read-only (EROFS).
#include <string_view>

#include "kernel/base/platform_user.h"
#include "kernel/exec/cpio.h"
#include "kernel/proc/process.h"
#include "kernel/syscall/calls.h"

namespace lichen::syscall {

namespace {

constexpr int32_t kAtFdcwd = -100;
constexpr uint32_t kAtSymlinkNofollow = 0x100;
constexpr uint32_t kAtEmptyPath = 0x1000;
constexpr uint32_t kAtNoAutomount = 0x800;

// open(2)'s flags on arm64 (O_DIRECTORY and O_NOFOLLOW differ from x86).
constexpr uint32_t kOAccmode = 03;
constexpr uint32_t kORdonly = 0;
constexpr uint32_t kOCreat = 0100;
constexpr uint32_t kOExcl = 0200;
constexpr uint32_t kOTrunc = 01000;
constexpr uint32_t kODirectory = 040000;
constexpr uint32_t kONofollow = 0100000;
constexpr uint32_t kOCloexec = 02000000;
constexpr uint32_t kOPath = 010000000;

constexpr size_t kPathMax = 4096;
constexpr int kMaxSymlinks = 40;

constexpr uint32_t kConsoleRdev = (5 << 8) | 1;  // /dev/console: char 5, 1
constexpr uint32_t kNullRdev = (1 << 8) | 3;     // /dev/null: char 1, 3

// ioctl requests the console answers.
constexpr uint64_t kTcgets = 0x5401;
constexpr uint64_t kTcsets = 0x5402;
constexpr uint64_t kTcsetsw = 0x5403;
constexpr uint64_t kTcsetsf = 0x5404;
constexpr uint64_t kTiocgpgrp = 0x540f;
constexpr uint64_t kTiocgwinsz = 0x5413;
constexpr uint64_t kTiocswinsz = 0x5414;

constexpr int kSeekSet = 0;
constexpr int kSeekCur = 1;
constexpr int kSeekEnd = 2;

constexpr int kFDupfd = 0;
constexpr int kFGetfd = 1;
constexpr int kFSetfd = 2;
constexpr int kFGetfl = 3;
constexpr int kFSetfl = 4;
constexpr int kFDupfdCloexec = 1030;
constexpr uint32_t kFdCloexec = 1;

// struct stat on arm64 (asm-generic/stat.h, 128 bytes).
struct Stat {
  uint64_t dev;
  uint64_t ino;
  uint32_t mode;
  uint32_t nlink;
  uint32_t uid;
  uint32_t gid;
  uint64_t rdev;
  uint64_t pad1;
  int64_t size;
  int32_t blksize;
  int32_t pad2;
  int64_t blocks;
  int64_t atime;
  uint64_t atime_nsec;
  int64_t mtime;
  uint64_t mtime_nsec;
  int64_t ctime;
  uint64_t ctime_nsec;
  uint32_t unused[2];
};
static_assert(sizeof(Stat) == 128);

// The arm64 kernel's struct termios (36 bytes): what TCGETS answers.
struct Termios {
  uint32_t iflag;
  uint32_t oflag;
  uint32_t cflag;
  uint32_t lflag;
  uint8_t line;
  uint8_t cc[19];
};
static_assert(sizeof(Termios) == 36);

struct Winsize {
  uint16_t rows;
  uint16_t cols;
  uint16_t xpixel;
  uint16_t ypixel;
};

// A copy of an fd's slot, taken under the process's lock.
bool GetFile(Call& c, int32_t fd, proc::File* out) {
  if (fd < 0 || fd >= proc::kMaxFiles) return false;
  LockGuard<SpinLock> guard(c.process.lock);
  *out = c.process.files[fd];
  return out->kind != proc::FileKind::kNone;
}

// The lowest free fd at or above `from` holding `file`, or -EMFILE.
int64_t InstallFile(Call& c, const proc::File& file, int from = 0) {
  LockGuard<SpinLock> guard(c.process.lock);
  const uint64_t limit = c.process.limits[proc::kRlimitNofile].cur;
  for (int fd = from; fd < proc::kMaxFiles && static_cast<uint64_t>(fd) < limit; ++fd) {
    if (c.process.files[fd].kind == proc::FileKind::kNone) {
      c.process.files[fd] = file;
      return fd;
    }
  }
  return Err(Errno::kMFile);
}

// Resolves `path` (absolute, or relative to the root: every process's cwd is "/") in the
// initramfs, following symlinks of the last component unless `nofollow`. Intermediate
// components are compared as written (a symlinked directory in the middle is not followed).
int64_t Resolve(const char* path, bool nofollow, exec::CpioEntry* out) {
  const exec::CpioArchive* archive = proc::Initramfs();
  if (archive == nullptr) return Err(Errno::kNoEnt);
  char buf[kPathMax];
  std::string_view name(path);
  for (int hops = 0; hops <= kMaxSymlinks; ++hops) {
    Result<exec::CpioEntry> entry = archive->Lookup(name);
    if (!entry.ok()) return Err(Errno::kNoEnt);
    if (!entry.value().IsSymlink() || nofollow) {
      *out = entry.value();
      return 0;
    }
    // A relative target is relative to the link's directory.
    const std::string_view target = entry.value().SymlinkTarget();
    size_t n = 0;
    if (target.empty() || target[0] != '/') {
      const size_t slash = name.rfind('/');
      if (slash != std::string_view::npos) {
        for (size_t i = 0; i <= slash && n < sizeof(buf) - 1; ++i)
          buf[n++] = name[i];
      }
    }
    for (size_t i = 0; i < target.size() && n < sizeof(buf) - 1; ++i)
      buf[n++] = target[i];
    buf[n] = '\0';
    name = std::string_view(buf, n);
  }
  return Err(Errno::kLoop);
}

// Copies the path argument; -EFAULT, -ENAMETOOLONG, or -ENOENT for "".
int64_t PathArg(Call& c, uintptr_t upath, char (&path)[kPathMax], bool allow_empty = false) {
  const int64_t len = proc::CopyStringFromUser(c.as, path, sizeof(path), upath);
  if (len < 0) return len;
  if (len == 0 && !allow_empty) return Err(Errno::kNoEnt);
  return len;
}

// Makes a relative `path` absolute: relative to "/" (every process's cwd) for AT_FDCWD, to
// the directory's name for a directory fd. -EBADF, -ENOTDIR, -ENAMETOOLONG.
int64_t CheckDirfd(Call& c, int32_t dirfd, char (&path)[kPathMax]) {
  if (path[0] == '/' || dirfd == kAtFdcwd) return 0;
  proc::File dir;
  if (!GetFile(c, dirfd, &dir)) return Err(Errno::kBadF);
  if (dir.kind != proc::FileKind::kDirectory) return Err(Errno::kNotDir);
  size_t len = 0;
  while (path[len] != '\0')
    ++len;
  const size_t total = dir.name_len + 1 + len;
  if (total + 1 > kPathMax) return Err(Errno::kNameTooLong);
  // Shift the relative path right and put "<dir>/" in front.
  for (size_t i = len + 1; i-- > 0;)
    path[dir.name_len + 1 + i] = path[i];
  for (size_t i = 0; i < dir.name_len; ++i)
    path[i] = dir.name[i];
  path[dir.name_len] = '/';
  return 0;
}

// The special files outside the initramfs.
enum class Special : uint8_t { kNone, kConsole, kNull, kSelfExe };
Special SpecialFile(std::string_view path) {
  if (path == "/dev/console" || path == "/dev/tty") return Special::kConsole;
  if (path == "/dev/null") return Special::kNull;
  if (path == "/proc/self/exe") return Special::kSelfExe;
  return Special::kNone;
}

proc::File DeviceFile(Special s) {
  proc::File f;
  f.kind = s == Special::kNull ? proc::FileKind::kNull : proc::FileKind::kConsole;
  f.mode = 0020666;
  f.rdev = s == Special::kNull ? kNullRdev : kConsoleRdev;
  return f;
}

proc::File FileOf(const exec::CpioEntry& e) {
  proc::File f;
  f.kind = e.IsDirectory() ? proc::FileKind::kDirectory : proc::FileKind::kRegular;
  f.data = e.data.data();
  f.size = e.data.size();
  f.mode = e.mode;
  f.ino = e.ino;
  f.mtime = e.mtime;
  if (e.IsDirectory()) {
    f.name = e.name.data();
    f.name_len = static_cast<uint32_t>(e.name.size());
  }
  return f;
}

Stat StatOf(const proc::File& f) {
  Stat st = {};
  st.dev = f.kind == proc::FileKind::kRegular || f.kind == proc::FileKind::kDirectory ? 1 : 5;
  st.ino = f.ino;
  st.mode = f.mode;
  st.nlink = 1;
  st.rdev = f.rdev;
  st.size = static_cast<int64_t>(f.size);
  st.blksize = 4096;
  st.blocks = static_cast<int64_t>((f.size + 511) / 512);
  st.atime = st.mtime = st.ctime = f.mtime;
  return st;
}

// Writes [buf, buf + len) of user memory to the console, in chunks.
int64_t ConsoleWriteUser(Call& c, uintptr_t buf, uint64_t len) {
  uint64_t done = 0;
  while (done < len) {
    char chunk[256];
    const size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
    if (!proc::CopyFromUser(c.as, chunk, buf + done, n)) {
      return done > 0 ? static_cast<int64_t>(done) : Err(Errno::kFault);
    }
    platform::ConsoleWrite(chunk, n);
    done += n;
  }
  return static_cast<int64_t>(done);
}

// Reads from a regular file at `offset` (or the fd's position when `offset` < 0, advancing
// it). The position is reserved under the lock before the copy.
int64_t FileRead(Call& c, int32_t fd, uintptr_t buf, uint64_t len, int64_t offset) {
  const uint8_t* data = nullptr;
  uint64_t start = 0;
  uint64_t n = 0;
  {
    LockGuard<SpinLock> guard(c.process.lock);
    proc::File& f = c.process.files[fd];
    start = offset >= 0 ? static_cast<uint64_t>(offset) : f.offset;
    n = start < f.size ? f.size - start : 0;
    if (n > len) n = len;
    if (offset < 0) f.offset = start + n;
    data = f.data;
  }
  if (n > 0 && !proc::CopyToUser(c.as, buf, data + start, n)) return Err(Errno::kFault);
  return static_cast<int64_t>(n);
}

int64_t ReadFd(Call& c, int32_t fd, uintptr_t buf, uint64_t len, int64_t offset) {
  proc::File f;
  if (!GetFile(c, fd, &f)) return Err(Errno::kBadF);
  if ((f.open_flags & kOPath) != 0 || (f.open_flags & kOAccmode) == 1) return Err(Errno::kBadF);
  if (static_cast<int64_t>(len) < 0) return Err(Errno::kInval);
  switch (f.kind) {
    case proc::FileKind::kConsole:
      // No console input driver: end of file (a reader sees an empty terminal).
      if (offset >= 0) return Err(Errno::kSPipe);
      return 0;
    case proc::FileKind::kNull:
      return 0;
    case proc::FileKind::kDirectory:
      return Err(Errno::kIsDir);
    case proc::FileKind::kRegular:
      return FileRead(c, fd, buf, len, offset);
    case proc::FileKind::kNone:
      break;
  }
  return Err(Errno::kBadF);
}

int64_t WriteFd(Call& c, int32_t fd, uintptr_t buf, uint64_t len) {
  proc::File f;
  if (!GetFile(c, fd, &f)) return Err(Errno::kBadF);
  if (static_cast<int64_t>(len) < 0) return Err(Errno::kInval);
  switch (f.kind) {
    case proc::FileKind::kConsole:
      return ConsoleWriteUser(c, buf, len);
    case proc::FileKind::kNull:
      return static_cast<int64_t>(len);
    case proc::FileKind::kRegular:
    case proc::FileKind::kDirectory:
      return Err(Errno::kBadF);  // opened read-only (the only way they open)
    case proc::FileKind::kNone:
      break;
  }
  return Err(Errno::kBadF);
}

// readv/writev: struct iovec {base, len} x iovcnt (at most UIO_MAXIOV, 1024).
template <typename Op>
int64_t Vectored(Call& c, uintptr_t iov, int64_t iovcnt, Op op) {
  if (iovcnt < 0 || iovcnt > 1024) return Err(Errno::kInval);
  int64_t total = 0;
  for (int64_t i = 0; i < iovcnt; ++i) {
    struct {
      uint64_t base;
      uint64_t len;
    } v;
    if (!In(c, &v, iov + 16 * static_cast<uint64_t>(i))) {
      return total > 0 ? total : Err(Errno::kFault);
    }
    if (static_cast<int64_t>(v.len) < 0) return Err(Errno::kInval);
    if (v.len == 0) continue;
    const int64_t n = op(v.base, v.len);
    if (n < 0) return total > 0 ? total : n;
    total += n;
    if (static_cast<uint64_t>(n) < v.len) break;  // a short transfer ends the call
  }
  return total;
}

}  // namespace

int64_t SysRead(Call& c) {
  return ReadFd(c, c.iarg(0), c.arg(1), c.arg(2), -1);
}

int64_t SysPread64(Call& c) {
  if (static_cast<int64_t>(c.arg(3)) < 0) return Err(Errno::kInval);
  return ReadFd(c, c.iarg(0), c.arg(1), c.arg(2), static_cast<int64_t>(c.arg(3)));
}

int64_t SysWrite(Call& c) {
  return WriteFd(c, c.iarg(0), c.arg(1), c.arg(2));
}

int64_t SysReadv(Call& c) {
  const int32_t fd = c.iarg(0);
  proc::File f;
  if (!GetFile(c, fd, &f)) return Err(Errno::kBadF);
  return Vectored(c, c.arg(1), static_cast<int64_t>(c.arg(2)),
                  [&](uint64_t base, uint64_t len) { return ReadFd(c, fd, base, len, -1); });
}

int64_t SysWritev(Call& c) {
  const int32_t fd = c.iarg(0);
  proc::File f;
  if (!GetFile(c, fd, &f)) return Err(Errno::kBadF);
  return Vectored(c, c.arg(1), static_cast<int64_t>(c.arg(2)),
                  [&](uint64_t base, uint64_t len) { return WriteFd(c, fd, base, len); });
}

int64_t SysOpenat(Call& c) {
  const int32_t dirfd = c.iarg(0);
  const uint32_t flags = static_cast<uint32_t>(c.arg(2));
  char path[kPathMax];
  const int64_t len = PathArg(c, c.arg(1), path);
  if (len < 0) return len;
  const int64_t dir_ok = CheckDirfd(c, dirfd, path);
  if (dir_ok != 0) return dir_ok;
  proc::File file;
  const Special special = SpecialFile(path);
  if (special == Special::kConsole || special == Special::kNull) {
    file = DeviceFile(special);
  } else {
    exec::CpioEntry entry;
    const int64_t found = Resolve(path, (flags & kONofollow) != 0, &entry);
    if (found != 0) {
      // A file that does not exist cannot be created on a read-only file system.
      if (found == Err(Errno::kNoEnt) && (flags & kOCreat) != 0) return Err(Errno::kRoFs);
      return found;
    }
    if (entry.IsSymlink()) return Err(Errno::kLoop);  // O_NOFOLLOW on a symlink
    if ((flags & kOCreat) != 0 && (flags & kOExcl) != 0) return Err(Errno::kExist);
    if ((flags & kODirectory) != 0 && !entry.IsDirectory()) return Err(Errno::kNotDir);
    const uint32_t acc = flags & kOAccmode;
    if ((flags & kOPath) == 0 && (acc != kORdonly || (flags & kOTrunc) != 0)) {
      return entry.IsDirectory() ? Err(Errno::kIsDir) : Err(Errno::kRoFs);
    }
    file = FileOf(entry);
  }
  file.open_flags = flags & ~(kOCreat | kOExcl | kOTrunc | kOCloexec | kONofollow);
  file.cloexec = (flags & kOCloexec) != 0;
  return InstallFile(c, file);
}

int64_t SysClose(Call& c) {
  const int32_t fd = c.iarg(0);
  if (fd < 0 || fd >= proc::kMaxFiles) return Err(Errno::kBadF);
  LockGuard<SpinLock> guard(c.process.lock);
  if (c.process.files[fd].kind == proc::FileKind::kNone) return Err(Errno::kBadF);
  c.process.files[fd] = proc::File{};
  return 0;
}

int64_t SysLseek(Call& c) {
  const int32_t fd = c.iarg(0);
  const int64_t offset = static_cast<int64_t>(c.arg(1));
  const int whence = c.iarg(2);
  proc::File f;
  if (!GetFile(c, fd, &f)) return Err(Errno::kBadF);
  if (f.kind == proc::FileKind::kConsole) return Err(Errno::kSPipe);
  if (f.kind == proc::FileKind::kNull) return 0;
  LockGuard<SpinLock> guard(c.process.lock);
  proc::File& file = c.process.files[fd];
  int64_t base = 0;
  switch (whence) {
    case kSeekSet:
      base = 0;
      break;
    case kSeekCur:
      base = static_cast<int64_t>(file.offset);
      break;
    case kSeekEnd:
      base = static_cast<int64_t>(file.size);
      break;
    default:
      return Err(Errno::kInval);
  }
  int64_t next = 0;
  if (__builtin_add_overflow(base, offset, &next)) return Err(Errno::kOverflow);
  if (next < 0) return Err(Errno::kInval);
  file.offset = static_cast<uint64_t>(next);
  return next;
}

int64_t SysFstat(Call& c) {
  proc::File f;
  if (!GetFile(c, c.iarg(0), &f)) return Err(Errno::kBadF);
  if (!Out(c, c.arg(1), StatOf(f))) return Err(Errno::kFault);
  return 0;
}

int64_t SysNewfstatat(Call& c) {
  const int32_t dirfd = c.iarg(0);
  const uint32_t flags = static_cast<uint32_t>(c.arg(3));
  if ((flags & ~(kAtSymlinkNofollow | kAtEmptyPath | kAtNoAutomount)) != 0) {
    return Err(Errno::kInval);
  }
  char path[kPathMax];
  const int64_t len = PathArg(c, c.arg(1), path, (flags & kAtEmptyPath) != 0);
  if (len < 0) return len;
  proc::File f;
  if (len == 0) {
    // AT_EMPTY_PATH: the file dirfd refers to (fstat).
    if (!GetFile(c, dirfd, &f)) return Err(Errno::kBadF);
  } else {
    const int64_t dir_ok = CheckDirfd(c, dirfd, path);
    if (dir_ok != 0) return dir_ok;
    const Special special = SpecialFile(path);
    if (special == Special::kConsole || special == Special::kNull) {
      f = DeviceFile(special);
    } else {
      exec::CpioEntry entry;
      const int64_t found = Resolve(path, (flags & kAtSymlinkNofollow) != 0, &entry);
      if (found != 0) return found;
      f = FileOf(entry);
    }
  }
  if (!Out(c, c.arg(2), StatOf(f))) return Err(Errno::kFault);
  return 0;
}

int64_t SysReadlinkat(Call& c) {
  const int32_t dirfd = c.iarg(0);
  const int64_t bufsiz = static_cast<int64_t>(c.arg(3));
  char path[kPathMax];
  const int64_t len = PathArg(c, c.arg(1), path);
  if (len < 0) return len;
  if (bufsiz <= 0) return Err(Errno::kInval);
  const int64_t dir_ok = CheckDirfd(c, dirfd, path);
  if (dir_ok != 0) return dir_ok;
  std::string_view target;
  if (SpecialFile(path) == Special::kSelfExe) {
    target = c.process.exe;
  } else {
    exec::CpioEntry entry;
    const int64_t found = Resolve(path, /*nofollow=*/true, &entry);
    if (found != 0) return found;
    if (!entry.IsSymlink()) return Err(Errno::kInval);
    target = entry.SymlinkTarget();
  }
  const size_t n =
      target.size() < static_cast<uint64_t>(bufsiz) ? target.size() : static_cast<size_t>(bufsiz);
  if (!proc::CopyToUser(c.as, c.arg(2), target.data(), n)) return Err(Errno::kFault);
  return static_cast<int64_t>(n);
}

int64_t SysIoctl(Call& c) {
  proc::File f;
  if (!GetFile(c, c.iarg(0), &f)) return Err(Errno::kBadF);
  if (f.kind != proc::FileKind::kConsole) return Err(Errno::kNoTty);
  const uint64_t request = c.arg(1) & 0xffffffff;
  switch (request) {
    case kTcgets: {
      // A cooked terminal at 38400 baud, 8 bits: what Linux's console reports by default.
      Termios t = {};
      t.iflag = 0x0500;  // ICRNL | IXON
      t.oflag = 0x0005;  // OPOST | ONLCR
      t.cflag = 0x00bf;  // B38400 | CS8 | CREAD
      t.lflag = 0x8a3b;  // ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
      const uint8_t cc[] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22};
      for (size_t i = 0; i < sizeof(cc); ++i)
        t.cc[i] = cc[i];
      if (!Out(c, c.arg(2), t)) return Err(Errno::kFault);
      return 0;
    }
    case kTcsets:
    case kTcsetsw:
    case kTcsetsf: {
      Termios t;
      if (!In(c, &t, c.arg(2))) return Err(Errno::kFault);
      return 0;  // accepted, not applied: the console has no line discipline
    }
    case kTiocgwinsz: {
      const Winsize ws{24, 80, 0, 0};
      if (!Out(c, c.arg(2), ws)) return Err(Errno::kFault);
      return 0;
    }
    case kTiocswinsz: {
      Winsize ws;
      if (!In(c, &ws, c.arg(2))) return Err(Errno::kFault);
      return 0;
    }
    case kTiocgpgrp: {
      const int32_t pgrp = static_cast<int32_t>(c.process.pid);
      if (!Out(c, c.arg(2), pgrp)) return Err(Errno::kFault);
      return 0;
    }
    default:
      return Err(Errno::kNoTty);
  }
}

int64_t SysFcntl(Call& c) {
  const int32_t fd = c.iarg(0);
  const int cmd = c.iarg(1);
  proc::File f;
  if (!GetFile(c, fd, &f)) return Err(Errno::kBadF);
  switch (cmd) {
    case kFDupfd:
    case kFDupfdCloexec: {
      const int64_t from = static_cast<int64_t>(c.arg(2));
      if (from < 0 || from >= proc::kMaxFiles) return Err(Errno::kInval);
      f.cloexec = cmd == kFDupfdCloexec;
      return InstallFile(c, f, static_cast<int>(from));
    }
    case kFGetfd:
      return f.cloexec ? kFdCloexec : 0;
    case kFSetfd: {
      LockGuard<SpinLock> guard(c.process.lock);
      c.process.files[fd].cloexec = (c.arg(2) & kFdCloexec) != 0;
      return 0;
    }
    case kFGetfl:
      return f.kind == proc::FileKind::kConsole || f.kind == proc::FileKind::kNull ? 2  // O_RDWR
                                                                                   : f.open_flags;
    case kFSetfl:
      return 0;  // O_APPEND, O_NONBLOCK...: nothing here would behave differently
    default:
      return Err(Errno::kInval);
  }
}

int64_t SysFaccessat(Call& c) {
  const int32_t dirfd = c.iarg(0);
  const uint32_t mode = static_cast<uint32_t>(c.arg(2));
  if ((mode & ~7u) != 0) return Err(Errno::kInval);
  char path[kPathMax];
  const int64_t len = PathArg(c, c.arg(1), path);
  if (len < 0) return len;
  const int64_t dir_ok = CheckDirfd(c, dirfd, path);
  if (dir_ok != 0) return dir_ok;
  if (SpecialFile(path) != Special::kNone) return 0;
  exec::CpioEntry entry;
  const int64_t found = Resolve(path, false, &entry);
  if (found != 0) return found;
  if ((mode & 2) != 0) return Err(Errno::kRoFs);  // W_OK on a read-only file system
  return 0;
}

int64_t SysGetcwd(Call& c) {
  // Every process runs in "/" (there is no chdir).
  if (c.arg(1) < 2) return Err(Errno::kRange);
  const char root[2] = {'/', '\0'};
  if (!proc::CopyToUser(c.as, c.arg(0), root, sizeof(root))) return Err(Errno::kFault);
  return 2;  // the raw call returns the length with the NUL
}

}  // namespace lichen::syscall

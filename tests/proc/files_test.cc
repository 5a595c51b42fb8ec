// Files from the initramfs through the system calls, and StartInit's refusals, in the
// simulator.
#include <gtest/gtest.h>

#include <string>

#include "kernel/exec/cpio.h"
#include "kernel/proc/loader.h"
#include "tests/exec/exec_test_support.h"
#include "tests/proc/proc_test_util.h"

namespace lichen::test {
namespace {

constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);
constexpr char kMotd[] = "lichen says hello to user space\n";

exec::CpioArchive g_archive;
std::vector<uint8_t> g_blob;

void BuildInitramfs() {
  CpioWriter w;
  w.Dir(".").Dir("etc").Add("etc/motd", kMotd, {.ino = 7}).Symlink("etc/link", "motd");
  w.Symlink("etc/loop", "loop").Dir("bin").Add("bin/prog", "not an ELF file", {.ino = 9});
  w.Trailer().PadTo(512);
  g_blob = w.bytes();
  ASSERT_TRUE(exec::CpioArchive::Open(g_blob.data(), g_blob.size(), g_archive).ok());
}

void Put(UserRegs& regs, uint64_t addr, const char* s) {
  // 8-byte words, zero padded (addr 8-aligned).
  for (size_t i = 0;; i += 8) {
    uint64_t word = 0;
    bool end = false;
    for (size_t j = 0; j < 8; ++j) {
      if (!end && s[i + j] == '\0') end = true;
      if (!end) word |= uint64_t{static_cast<uint8_t>(s[i + j])} << (8 * j);
    }
    sim::UserStore64(regs, addr + i, word);
    if (end) return;
  }
}

std::string Get(UserRegs& regs, uint64_t addr, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t word = sim::UserLoad64(regs, addr + i);
    for (size_t j = 0; j < 8 && i + j < n; ++j)
      out.push_back(static_cast<char>(word >> (8 * j)));
  }
  return out;
}

void FilesProgram(UserRegs& regs) {
  const uint64_t m = MapAnon(regs, 4 * 4096);
  Put(regs, m, "/etc/motd");
  Put(regs, m + 64, "/etc/link");
  Put(regs, m + 128, "etc/loop");
  Put(regs, m + 192, "/nonexistent");
  Put(regs, m + 256, "motd");
  Put(regs, m + 320, "/etc");
  const uint64_t buf = m + 4096;
  const int64_t fd = sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m, 0);
  LICHEN_ASSERT(fd == 3, "openat /etc/motd: {}", fd);
  int64_t n = sim::UserSyscall(regs, sys::kRead, fd, buf, 10);
  LICHEN_ASSERT(n == 10 && Get(regs, buf, 10) == std::string(kMotd, 10), "read: {}", n);
  n = sim::UserSyscall(regs, sys::kRead, fd, buf, 1000);
  LICHEN_ASSERT(n == static_cast<int64_t>(sizeof(kMotd) - 1 - 10), "read rest: {}", n);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kRead, fd, buf, 1000) == 0, "read at end");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kLseek, fd, 7, 0) == 7, "lseek SET");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kLseek, fd, -2, 2) == sizeof(kMotd) - 3, "lseek END");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kLseek, fd, -100, 1) == E(Errno::kInval), "lseek <0");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kPread64, fd, buf, 6, 0) == 6, "pread");
  LICHEN_ASSERT(Get(regs, buf, 6) == "lichen", "pread contents");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kFstat, fd, buf) == 0, "fstat");
  LICHEN_ASSERT(sim::UserLoad64(regs, buf + 48) == sizeof(kMotd) - 1, "st_size");
  LICHEN_ASSERT(sim::UserLoad64(regs, buf + 8) == 7, "st_ino");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kWrite, fd, buf, 1) == E(Errno::kBadF), "write ro");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kClose, fd) == 0, "close");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kClose, fd) == E(Errno::kBadF), "close twice");
  // Through a symlink, relative to a directory fd, and the refusals.
  const int64_t fd2 = sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m + 64, 0);
  LICHEN_ASSERT(fd2 == 3, "openat through a symlink: {}", fd2);
  LICHEN_ASSERT(
      sim::UserSyscall(regs, sys::kRead, fd2, buf, 6) == 6 && Get(regs, buf, 6) == "lichen",
      "read through a symlink");
  const int64_t dir = sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m + 320, 040000);
  LICHEN_ASSERT(dir == 4, "open /etc as a directory: {}", dir);
  const int64_t fd3 = sim::UserSyscall(regs, sys::kOpenat, dir, m + 256, 0);
  LICHEN_ASSERT(fd3 == 5, "openat relative to /etc: {}", fd3);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m + 128, 0) == E(Errno::kLoop),
                "a symlink loop");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m + 192, 0) == E(Errno::kNoEnt),
                "a missing file");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m, 1) == E(Errno::kRoFs),
                "open for writing");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m + 192, 0100) == E(Errno::kRoFs),
                "O_CREAT of a missing file");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kOpenat, kAtFdcwd, m, 040000) == E(Errno::kNotDir),
                "O_DIRECTORY on a file");
  // readlinkat of a symlink and of /proc/self/exe; newfstatat.
  n = sim::UserSyscall(regs, sys::kReadlinkat, kAtFdcwd, m + 64, buf, 64);
  LICHEN_ASSERT(n == 4 && Get(regs, buf, 4) == "motd", "readlinkat: {}", n);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kReadlinkat, kAtFdcwd, m, buf, 64) == E(Errno::kInval),
                "readlinkat of a file");
  Put(regs, m + 384, "/proc/self/exe");
  n = sim::UserSyscall(regs, sys::kReadlinkat, kAtFdcwd, m + 384, buf, 64);
  LICHEN_ASSERT(n == 5 && Get(regs, buf, 5) == "/test", "readlinkat /proc/self/exe: {}", n);
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kNewfstatat, kAtFdcwd, m + 64, buf, 0) == 0, "stat");
  LICHEN_ASSERT(sim::UserLoad64(regs, buf + 48) == sizeof(kMotd) - 1, "stat follows the link");
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kNewfstatat, kAtFdcwd, m + 64, buf, 0x100) == 0,
                "lstat");
  LICHEN_ASSERT((sim::UserLoad64(regs, buf + 16) & 0170000) == 0120000, "lstat sees the link");
  // The console: a terminal.
  LICHEN_ASSERT(sim::UserSyscall(regs, sys::kIoctl, 1, 0x5413, buf) == 0, "TIOCGWINSZ");
  LICHEN_ASSERT((sim::UserLoad64(regs, buf) & 0xffffffff) == ((80u << 16) | 24u), "24x80");
  sim::UserSyscall(regs, sys::kExitGroup, 0);
}

TEST(Files, InitramfsFilesOpenReadSeekStatAndRefuseWriting) {
  BuildInitramfs();
  const sim::Outcome result = RunProc(1, 1, [] {
    proc::SetInitramfs(&g_archive);
    proc::Process* p = StartProcess(&FilesProgram);
    const int status = proc::WaitExit(p);
    LICHEN_ASSERT(status == proc::ExitedStatus(0), "status {:#x}", status);
    proc::SetInitramfs(nullptr);
  });
  ASSERT_TRUE(result.ok) << Explain(result);
}

TEST(Files, StartInitRefusesABadInitramfsAMissingProgramAndANonElf) {
  BuildInitramfs();
  const sim::Outcome result = RunProc(1, 1, [] {
    const char* argv[] = {"init", nullptr};
    const uint8_t junk[16] = {'n', 'o', 't', ' ', 'c', 'p', 'i', 'o'};
    LICHEN_ASSERT(!proc::StartInit(junk, sizeof(junk), "/init", argv, nullptr).ok(), "junk");
    Result<void> r = proc::StartInit(g_blob.data(), g_blob.size(), "/sbin/init", argv, nullptr);
    LICHEN_ASSERT(!r.ok() && r.error() == Error::kNotFound, "missing program");
    r = proc::StartInit(g_blob.data(), g_blob.size(), "/bin/prog", argv, nullptr);
    LICHEN_ASSERT(!r.ok() && r.error() == Error::kMalformed, "not an ELF file");
    r = proc::StartInit(g_blob.data(), g_blob.size(), "/etc", argv, nullptr);
    LICHEN_ASSERT(!r.ok() && r.error() == Error::kNotFound, "a directory");
    LICHEN_ASSERT(proc::LiveProcesses() == 0, "a process was left behind");
    proc::SetInitramfs(nullptr);
  });
  ASSERT_TRUE(result.ok) << Explain(result);
}

}  // namespace
}  // namespace lichen::test

// Threads, identity, limits, futex, and the machine: the process-side calls.
#include "kernel/base/platform.h"
#include "kernel/base/platform_user.h"
#include "kernel/base/version.h"
#include "kernel/futex/futex.h"
#include "kernel/proc/clone.h"
#include "kernel/proc/random.h"
#include "kernel/syscall/calls.h"
#include "lib/log.h"

namespace lichen::syscall {

namespace {

// struct robust_list_head's size on arm64 (three words).
constexpr uint64_t kRobustListHeadSize = 24;

// reboot(2)'s magic numbers and commands.
constexpr uint32_t kRebootMagic1 = 0xfee1dead;
constexpr uint32_t kRebootMagic2[] = {672274793, 85072278, 369367448, 537993216};
constexpr uint32_t kRebootCmdPowerOff = 0x4321fedc;
constexpr uint32_t kRebootCmdHalt = 0xcdef0123;
constexpr uint32_t kRebootCmdRestart = 0x01234567;
constexpr uint32_t kRebootCmdCadOn = 0x89abcdef;
constexpr uint32_t kRebootCmdCadOff = 0x00000000;

// getrandom's flags.
constexpr uint32_t kGrndNonblock = 1;
constexpr uint32_t kGrndRandom = 2;
constexpr uint32_t kGrndInsecure = 4;

// prctl options a C library or busybox asks for.
constexpr int kPrSetName = 15;
constexpr int kPrGetName = 16;

}  // namespace

int64_t SysExit(Call& c) {
  proc::ExitThread(c.iarg(0) & 0xff);
}

int64_t SysExitGroup(Call& c) {
  proc::ExitGroup(c.iarg(0) & 0xff);
}

int64_t SysClone(Call& c) {
  // arm64's order: flags, newsp, parent_tid, tls, child_tid.
  return proc::Clone(c.regs, c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4));
}

int64_t SysClone3(Call&) {
  // glibc and musl fall back to clone on ENOSYS.
  return Err(Errno::kNoSys);
}

int64_t SysExecve(Call&) {
  // One program per boot (init): there is no exec yet.
  return Err(Errno::kNoSys);
}

int64_t SysWait4(Call& c) {
  // No call makes a child process (clone makes threads only), so there is nothing to wait
  // for. Options are checked first, as Linux does.
  constexpr uint64_t kKnown = 0x1 | 0x2 | 0x8 | 0x01000000 | 0x20000000 | 0x40000000 |
                              0x80000000;  // WNOHANG WUNTRACED WCONTINUED WEXITED __W*
  if ((c.arg(2) & ~kKnown) != 0) return Err(Errno::kInval);
  return Err(Errno::kChild);
}

int64_t SysWaitid(Call& c) {
  if (c.iarg(0) < 0 || c.iarg(0) > 3) return Err(Errno::kInval);  // P_ALL..P_PIDFD
  return Err(Errno::kChild);
}

int64_t SysSetTidAddress(Call& c) {
  c.thread.clear_child_tid = c.arg(0);
  return c.thread.tid;
}

int64_t SysSetRobustList(Call& c) {
  if (c.arg(1) != kRobustListHeadSize) return Err(Errno::kInval);
  c.thread.robust_list = c.arg(0);
  c.thread.robust_list_len = c.arg(1);
  return 0;
}

int64_t SysGetRobustList(Call& c) {
  proc::Thread* t = proc::FindThread(static_cast<uint32_t>(c.iarg(0)));
  if (c.iarg(0) < 0 || t == nullptr) {
    if (t != nullptr) proc::PutThread(t);
    return Err(Errno::kSrch);
  }
  const uint64_t head = t->robust_list;
  const uint64_t len = kRobustListHeadSize;
  proc::PutThread(t);
  if (!Out(c, c.arg(2), len)) return Err(Errno::kFault);
  if (!Out(c, c.arg(1), head)) return Err(Errno::kFault);
  return 0;
}

int64_t SysGetpid(Call& c) {
  return c.process.pid;
}

int64_t SysGetppid(Call& c) {
  return c.process.parent != nullptr ? c.process.parent->pid : 0;
}

int64_t SysGettid(Call& c) {
  return c.thread.tid;
}

int64_t SysGetuid(Call&) {
  return 0;  // every process is root (uid, euid, gid, egid 0), as init on Linux
}

int64_t SysGetpgid(Call& c) {
  // Each process is its own group and session leader: pgid = sid = pid.
  const int32_t pid = c.iarg(0);
  if (pid < 0) return Err(Errno::kSrch);
  if (pid == 0 || static_cast<uint32_t>(pid) == c.process.pid) return c.process.pid;
  proc::Process* p = proc::FindProcess(static_cast<uint32_t>(pid));
  if (p == nullptr) return Err(Errno::kSrch);
  const uint32_t pgid = p->pid;
  proc::PutProcess(p);
  return pgid;
}

int64_t SysGetsid(Call& c) {
  return SysGetpgid(c);
}

int64_t SysSetpgid(Call& c) {
  const int32_t pid = c.iarg(0);
  const int32_t pgid = c.iarg(1);
  if (pgid < 0) return Err(Errno::kInval);
  if (pid != 0 && static_cast<uint32_t>(pid) != c.process.pid) return Err(Errno::kSrch);
  // Already its own group leader; joining another group is not possible (it has none).
  if (pgid != 0 && static_cast<uint32_t>(pgid) != c.process.pid) return Err(Errno::kPerm);
  return 0;
}

int64_t SysSetsid(Call&) {
  return Err(Errno::kPerm);  // already a group leader, as setsid(2) answers one
}

int64_t SysUmask(Call& c) {
  (void)c;
  return 022;  // no file is ever created: the mask is reported, never stored
}

int64_t SysPrctl(Call& c) {
  switch (c.iarg(0)) {
    case kPrSetName: {
      char name[16];
      if (proc::CopyStringFromUser(c.as, name, sizeof(name), c.arg(1)) == Err(Errno::kFault)) {
        return Err(Errno::kFault);
      }
      return 0;  // the task keeps its p<pid>.t<tid> name
    }
    case kPrGetName: {
      char name[16] = {};
      const char* exe = c.process.exe;
      const char* base = exe;
      for (const char* s = exe; *s != '\0'; ++s)
        if (*s == '/') base = s + 1;
      for (int i = 0; i < 15 && base[i] != '\0'; ++i)
        name[i] = base[i];
      if (!proc::CopyToUser(c.as, c.arg(1), name, sizeof(name))) return Err(Errno::kFault);
      return 0;
    }
    default:
      return Err(Errno::kInval);  // as Linux for an option it does not know
  }
}

int64_t SysRseq(Call&) {
  // Restartable sequences are optional: glibc and musl carry on without them.
  return Err(Errno::kNoSys);
}

int64_t SysMembarrier(Call&) {
  return Err(Errno::kNoSys);
}

int64_t SysFutex(Call& c) {
  futex::Args args;
  args.uaddr = c.arg(0);
  args.op = static_cast<uint32_t>(c.arg(1));
  args.val = static_cast<uint32_t>(c.arg(2));
  args.timeout = c.arg(3);
  args.uaddr2 = c.arg(4);
  args.val3 = static_cast<uint32_t>(c.arg(5));
  return proc::FutexCall(args);
}

int64_t SysPrlimit64(Call& c) {
  const int32_t pid = c.iarg(0);
  const uint32_t resource = static_cast<uint32_t>(c.arg(1));
  if (resource >= static_cast<uint32_t>(proc::kRlimitCount)) return Err(Errno::kInval);
  if (pid < 0) return Err(Errno::kInval);
  if (pid != 0 && static_cast<uint32_t>(pid) != c.process.pid) return Err(Errno::kSrch);
  proc::Rlimit next;
  const bool set = c.arg(2) != 0;
  if (set) {
    if (!In(c, &next, c.arg(2))) return Err(Errno::kFault);
    if (next.cur > next.max) return Err(Errno::kInval);
    if (resource == proc::kRlimitNofile && next.max > proc::kMaxFiles) {
      return Err(Errno::kPerm);  // Linux: above nr_open is EPERM
    }
  }
  proc::Rlimit old;
  {
    LockGuard<SpinLock> guard(c.process.lock);
    old = c.process.limits[resource];
    if (set) c.process.limits[resource] = next;
  }
  if (c.arg(3) != 0 && !Out(c, c.arg(3), old)) return Err(Errno::kFault);
  return 0;
}

int64_t SysGetrlimit(Call& c) {
  const uint32_t resource = static_cast<uint32_t>(c.arg(0));
  if (resource >= static_cast<uint32_t>(proc::kRlimitCount)) return Err(Errno::kInval);
  proc::Rlimit old;
  {
    LockGuard<SpinLock> guard(c.process.lock);
    old = c.process.limits[resource];
  }
  if (!Out(c, c.arg(1), old)) return Err(Errno::kFault);
  return 0;
}

int64_t SysSetrlimit(Call& c) {
  const uint32_t resource = static_cast<uint32_t>(c.arg(0));
  if (resource >= static_cast<uint32_t>(proc::kRlimitCount)) return Err(Errno::kInval);
  proc::Rlimit next;
  if (!In(c, &next, c.arg(1))) return Err(Errno::kFault);
  if (next.cur > next.max) return Err(Errno::kInval);
  if (resource == proc::kRlimitNofile && next.max > proc::kMaxFiles) return Err(Errno::kPerm);
  LockGuard<SpinLock> guard(c.process.lock);
  c.process.limits[resource] = next;
  return 0;
}

int64_t SysReboot(Call& c) {
  const uint32_t magic1 = static_cast<uint32_t>(c.arg(0));
  const uint32_t magic2 = static_cast<uint32_t>(c.arg(1));
  const uint32_t cmd = static_cast<uint32_t>(c.arg(2));
  bool magic_ok = false;
  for (uint32_t m : kRebootMagic2)
    magic_ok = magic_ok || m == magic2;
  if (magic1 != kRebootMagic1 || !magic_ok) return Err(Errno::kInval);
  switch (cmd) {
    case kRebootCmdCadOn:
    case kRebootCmdCadOff:
      return 0;
    case kRebootCmdPowerOff:
    case kRebootCmdHalt:
    case kRebootCmdRestart:
      // The machine stops here with status 0, as Linux's power-off is a clean one (QEMU
      // then exits 0). In the simulator PowerOff returns and the run goes on: the process
      // ends as if by exit_group(0), which is what the caller sees of a power-off.
      LICHEN_LOG_INFO("process {}: reboot({:#x}): power off", c.process.pid, cmd);
      platform::PowerOff(0);
      proc::ExitGroup(0);
    default:
      return Err(Errno::kInval);
  }
}

int64_t SysUname(Call& c) {
  // struct utsname: six fields of 65 bytes.
  struct Utsname {
    char sysname[65];
    char nodename[65];
    char release[65];
    char version[65];
    char machine[65];
    char domainname[65];
  } u = {};
  auto put = [](char* dst, const char* src) {
    for (int i = 0; i < 64 && src[i] != '\0'; ++i)
      dst[i] = src[i];
  };
  put(u.sysname, "Lichen");
  put(u.nodename, "lichen");
  // A release C libraries accept as "new enough" (glibc compares it with its minimum).
  put(u.release, "6.1.0-lichen");
  put(u.version, kVersion);
  put(u.machine, "aarch64");
  put(u.domainname, "(none)");
  if (!Out(c, c.arg(0), u)) return Err(Errno::kFault);
  return 0;
}

int64_t SysGetrandom(Call& c) {
  const uint64_t flags = c.arg(2);
  if ((flags & ~uint64_t{kGrndNonblock | kGrndRandom | kGrndInsecure}) != 0) {
    return Err(Errno::kInval);
  }
  if ((flags & kGrndRandom) != 0 && (flags & kGrndInsecure) != 0) return Err(Errno::kInval);
  uint64_t len = c.arg(1);
  // Linux caps one call at INT_MAX bytes (and a short read is allowed).
  constexpr uint64_t kMaxLen = 0x7fffffff;
  if (len > kMaxLen) len = kMaxLen;
  uintptr_t dst = c.arg(0);
  uint64_t done = 0;
  while (done < len) {
    uint8_t chunk[256];
    const size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
    proc::RandomBytes(chunk, n);
    if (!proc::CopyToUser(c.as, dst + done, chunk, n)) {
      return done > 0 ? static_cast<int64_t>(done) : Err(Errno::kFault);
    }
    done += n;
  }
  return static_cast<int64_t>(done);
}

}  // namespace lichen::syscall

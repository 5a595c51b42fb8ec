// Linux errno values, for the system-call layer and the parts that speak its language (the
// futex core). They are the numbers of asm-generic/errno-base.h and errno.h, which arm64 uses;
// a Linux program compares them with its own <errno.h>, so they must be these.
//
// Convention: a function that implements a system call returns int64_t, the value the
// syscall hands back in x0: a result >= 0, or -errno (SyscallError(Errno::kAgain) == -11).
// That is what the arm64 entry code stores as is, and what libc turns into errno.
#pragma once

#include <cstdint>

namespace lichen {

enum class Errno : int32_t {
  kPerm = 1,          // EPERM
  kNoEnt = 2,         // ENOENT: no such file
  kSrch = 3,          // ESRCH: no such process or thread
  kIntr = 4,          // EINTR: interrupted (a signal, later; sched::Interrupt now)
  kIo = 5,            // EIO
  kNxio = 6,          // ENXIO: no such device (a tty with no terminal behind it)
  kTooBig = 7,        // E2BIG
  kNoExec = 8,        // ENOEXEC: not an executable this kernel runs
  kBadF = 9,          // EBADF: not an open file descriptor
  kChild = 10,        // ECHILD: no child to wait for
  kAgain = 11,        // EAGAIN (== EWOULDBLOCK): the futex word was not the expected value
  kNoMem = 12,        // ENOMEM: out of memory, or no room in the address space (mmap)
  kAcces = 13,        // EACCES
  kFault = 14,        // EFAULT: a bad user pointer
  kBusy = 16,         // EBUSY
  kExist = 17,        // EEXIST: a file that exists; MAP_FIXED_NOREPLACE over a mapping
  kXDev = 18,         // EXDEV: a rename or link across file systems
  kNoDev = 19,        // ENODEV
  kNotDir = 20,       // ENOTDIR
  kIsDir = 21,        // EISDIR
  kInval = 22,        // EINVAL
  kNFile = 23,        // ENFILE
  kMFile = 24,        // EMFILE: the file table is full
  kNoTty = 25,        // ENOTTY: not a terminal (an ioctl the file does not answer)
  kTxtBsy = 26,       // ETXTBSY
  kFBig = 27,         // EFBIG
  kNoSpc = 28,        // ENOSPC
  kSPipe = 29,        // ESPIPE: not seekable
  kRoFs = 30,         // EROFS: read-only file system
  kMLink = 31,        // EMLINK
  kPipe = 32,         // EPIPE: a write to a pipe nobody reads
  kRange = 34,        // ERANGE
  kNameTooLong = 36,  // ENAMETOOLONG: a user string longer than its bound
  kNoSys = 38,        // ENOSYS: no such operation
  kNotEmpty = 39,     // ENOTEMPTY: rmdir of a directory with entries
  kLoop = 40,         // ELOOP: too many symbolic links
  kOverflow = 75,     // EOVERFLOW
  kNotSup = 95,       // EOPNOTSUPP
  kTimedOut = 110,    // ETIMEDOUT

  // Kernel-internal, never seen by user space (Linux's include/linux/errno.h): a blocking
  // call interrupted by a signal returns one of these, and the signal layer, on the way back
  // to user space, turns it into EINTR or restarts the call, as SA_RESTART and the kind of
  // call decide. A result still holding one when no handler ran is restarted.
  kRestartSys = 512,           // ERESTARTSYS: EINTR if a handler without SA_RESTART ran
  kRestartNoIntr = 513,        // ERESTARTNOINTR: always restarted
  kRestartNoHand = 514,        // ERESTARTNOHAND: EINTR if any handler ran
  kRestartRestartBlock = 516,  // ERESTART_RESTARTBLOCK: restarted via restart_syscall
};

// The syscall return value for `e`: -errno.
constexpr int64_t SyscallError(Errno e) {
  return -static_cast<int64_t>(e);
}

}  // namespace lichen

// The ELF loader and the first process.
//
// LoadImage maps a static aarch64 program (ET_EXEC, or static-pie ET_DYN at a load base it
// picks) into an address space: each PT_LOAD segment becomes an image-backed region of
// kernel/vm (its pages are filled from the initramfs on first touch, the rest of the segment
// reads as zeros), the stack is an anonymous region below the top of user space, and the
// initial stack holds what Linux's binfmt_elf puts there: argc, argv[], NULL, envp[], NULL,
// the auxiliary vector (AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY,
// AT_UID/EUID/GID/EGID, AT_PLATFORM, AT_HWCAP, AT_HWCAP2, AT_CLKTCK, AT_SECURE, AT_RANDOM,
// AT_EXECFN, AT_MINSIGSTKSZ, AT_NULL), then the strings and AT_RANDOM's 16 bytes. The break
// starts after the highest segment.
//
// StartInit is the boot's last step (contract decision 10): it checks the initramfs, loads
// `path` from it, starts it as process 1 and hands its end to a reaper task, which powers the
// machine off with the program's status (exit code, or 128 + signal) once no process is left.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/exec/cpio.h"
#include "kernel/exec/elf.h"
#include "kernel/proc/process.h"
#include "kernel/user/regs.h"
#include "lib/result.h"

namespace lichen::vm {
class AddressSpace;
}

namespace lichen::proc {

// Where things go (docs/process.md).
inline constexpr uint64_t kStackTop = (uint64_t{1} << 48) - (uint64_t{1} << 20);  // 1 MiB gap
inline constexpr uint64_t kStackSize = 8u << 20;                                  // RLIMIT_STACK
// A static-pie program's load base: Linux arm64's ELF_ET_DYN_BASE (2/3 of the 48-bit space),
// rounded down to the program's alignment.
inline constexpr uint64_t kEtDynBase = (uint64_t{1} << 48) / 3 * 2;
// The initial stack's arguments and environment may take at most this much (Linux allows a
// quarter of the stack limit; a boot command line is far smaller).
inline constexpr size_t kMaxArgBytes = 64 * 1024;
inline constexpr int kMaxArgs = 256;

// The auxiliary vector's types (<linux/auxvec.h>, <asm/auxvec.h>).
inline constexpr uint64_t kAtNull = 0;
inline constexpr uint64_t kAtPhdr = 3;
inline constexpr uint64_t kAtPhent = 4;
inline constexpr uint64_t kAtPhnum = 5;
inline constexpr uint64_t kAtPagesz = 6;
inline constexpr uint64_t kAtBase = 7;
inline constexpr uint64_t kAtFlags = 8;
inline constexpr uint64_t kAtEntry = 9;
inline constexpr uint64_t kAtUid = 11;
inline constexpr uint64_t kAtEuid = 12;
inline constexpr uint64_t kAtGid = 13;
inline constexpr uint64_t kAtEgid = 14;
inline constexpr uint64_t kAtPlatform = 15;
inline constexpr uint64_t kAtHwcap = 16;
inline constexpr uint64_t kAtClktck = 17;
inline constexpr uint64_t kAtSecure = 23;
inline constexpr uint64_t kAtRandom = 25;
inline constexpr uint64_t kAtHwcap2 = 26;
inline constexpr uint64_t kAtExecfn = 31;
inline constexpr uint64_t kAtMinsigstksz = 51;

// AT_HWCAP: FP and ASIMD, which every ARMv8-A CPU QEMU models has. Features a C library
// would probe further (AES, SHA, atomics, CPUID's MRS emulation) are not announced: the core
// cannot read the CPU's ID registers, and announcing CPUID would make glibc read MIDR_EL1 from
// EL0, which only a kernel that emulates that trap may allow.
inline constexpr uint64_t kHwcapFp = 1u << 0;
inline constexpr uint64_t kHwcapAsimd = 1u << 1;
inline constexpr uint64_t kHwcap = kHwcapFp | kHwcapAsimd;

// What LoadImage decided.
struct LoadedImage {
  UserRegs regs{};    // pc = entry, sp = the initial stack (argc), everything else 0
  uint64_t bias = 0;  // the load base (0 for ET_EXEC)
  uint64_t brk = 0;   // the break's start
  uint64_t stack_pointer = 0;
  uint64_t random_addr = 0;  // AT_RANDOM's 16 bytes
};

// Maps `file` (already checked: `image`) into `as` and builds the initial stack with `argv`
// and `envp` (null-terminated arrays of kernel strings) and `execfn` (AT_EXECFN). `file` must
// outlive `as` (the initramfs does). kNoMemory; kInvalidArgument when the arguments are too
// large or a segment cannot be mapped where it asks.
Result<LoadedImage> LoadImage(vm::AddressSpace& as, const uint8_t* file,
                              const exec::ElfImage& image, const char* const* argv,
                              const char* const* envp, const char* execfn);

// Loads `path` from the initramfs (SetInitramfs) as a new process with one thread, child of
// `parent` (null: init). The caller owns the returned reference (WaitExit). kNotFound (no
// such file, or not a regular one), kMalformed / kUnsupported (not a program this kernel
// runs), kNoMemory.
Result<Process*> Exec(const char* path, const char* const* argv, const char* const* envp,
                      Process* parent);

// Boot: checks the initramfs blob [cpio, cpio + len), loads `path` as process 1 with `argv`
// and `envp`, and starts it. When it has exited and no process is left, the machine powers
// off with its status (platform::PowerOff(ShellStatus)). Errors as Exec, plus kMalformed /
// kUnsupported for the blob.
Result<void> StartInit(const void* cpio, size_t len, const char* path, const char* const* argv,
                       const char* const* envp);

}  // namespace lichen::proc

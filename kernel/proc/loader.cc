// The ELF loader, the initial stack, and process 1.
#include "kernel/proc/loader.h"

#include "kernel/proc/files.h"

#include "kernel/base/platform_user.h"
#include "kernel/proc/random.h"
#include "kernel/proc/usermem.h"
#include "kernel/sched/sched.h"
#include "kernel/vm/address_space.h"
#include "lib/log.h"
#include "lib/no_destroy.h"

namespace lichen::proc {

namespace {

constexpr uint64_t kPage = 4096;

uint64_t PageDown(uint64_t v) {
  return v & ~(kPage - 1);
}
uint64_t PageUp(uint64_t v) {
  return (v + kPage - 1) & ~(kPage - 1);
}

size_t Length(const char* s) {
  size_t n = 0;
  while (s[n] != '\0')
    ++n;
  return n;
}

int Count(const char* const* v) {
  int n = 0;
  while (v != nullptr && v[n] != nullptr)
    ++n;
  return n;
}

uint32_t ProtOf(const exec::ElfSegment& s) {
  return (s.readable() ? vm::kProtRead : 0) | (s.writable() ? vm::kProtWrite : 0) |
         (s.executable() ? vm::kProtExec : 0);
}

// Writes the initial stack below kStackTop (see loader.h) and returns the stack pointer.
struct StackWriter {
  vm::AddressSpace& as;
  uint64_t top;
  bool ok = true;

  // Puts `len` bytes below `top` and returns their address.
  uint64_t Push(const void* data, size_t len) {
    top -= len;
    ok = ok && CopyToUser(as, top, data, len);
    return top;
  }
  uint64_t PushString(const char* s) { return Push(s, Length(s) + 1); }
};

// The initramfs as checked by StartInit, for its whole life (the kernel's: it is never freed).
NoDestroy<exec::CpioArchive> g_archive;

// The reaper of process 1: waits for its end, then powers the machine off with its status.
void InitReaper(void* arg) {
  Process* init = static_cast<Process*>(arg);
  const uint32_t pid = init->pid;
  const int status = WaitExit(init);
  LICHEN_LOG_INFO("init (pid {}) ended: {} {}", pid, StatusExited(status) ? "exit code" : "signal",
                  StatusExited(status) ? StatusExitCode(status) : StatusSignal(status));
  if (LiveProcesses() == 0) platform::PowerOff(ShellStatus(status));
}

}  // namespace

Result<LoadedImage> LoadImage(vm::AddressSpace& as, const uint8_t* file,
                              const exec::ElfImage& image, const char* const* argv,
                              const char* const* envp, const char* execfn) {
  LoadedImage out;
  // The bias: 0 for ET_EXEC; for static-pie, Linux's ELF_ET_DYN_BASE rounded to the
  // program's alignment, minus its lowest address.
  if (image.type == exec::kEtDyn) {
    const uint64_t align = image.bias_align < kPage ? kPage : image.bias_align;
    out.bias = (kEtDynBase & ~(align - 1)) - PageDown(image.min_vaddr);
  }
  for (uint32_t i = 0; i < image.segment_count; ++i) {
    const exec::ElfSegment& s = image.segments[i];
    if (s.memsz == 0) continue;
    const uint64_t start = s.vaddr + out.bias;
    const uint64_t page_off = start % kPage;
    vm::ImageBacking backing;
    backing.file = file;
    backing.offset = s.offset - page_off;
    backing.file_size = s.filesz + page_off;
    const uint64_t map_start = start - page_off;
    const uint64_t map_len = PageUp(page_off + s.memsz);
    const int64_t got =
        as.Map(map_start, map_len, ProtOf(s), vm::kMapFixed | vm::kMapPrivate, &backing);
    if (got < 0) {
      LICHEN_LOG_WARN("exec: segment {} at {:#x}+{:#x}: mmap error {}", i, map_start, map_len, got);
      return got == SyscallError(Errno::kNoMem) ? Error::kNoMemory : Error::kInvalidArgument;
    }
  }
  out.brk = PageUp(image.max_vaddr + out.bias);
  as.SetBrkStart(out.brk);

  // The stack: an anonymous region, demand-paged like any other.
  const int64_t stack = as.Map(kStackTop - kStackSize, kStackSize, vm::kProtRead | vm::kProtWrite,
                               vm::kMapFixed | vm::kMapPrivate | vm::kMapAnonymous);
  if (stack < 0) return Error::kNoMemory;

  const int argc = Count(argv);
  const int envc = Count(envp);
  if (argc > kMaxArgs || envc > kMaxArgs) return Error::kInvalidArgument;
  size_t string_bytes = Length(execfn) + 1;
  for (int i = 0; i < argc; ++i)
    string_bytes += Length(argv[i]) + 1;
  for (int i = 0; i < envc; ++i)
    string_bytes += Length(envp[i]) + 1;
  if (string_bytes > kMaxArgBytes) return Error::kInvalidArgument;

  // Strings at the top, as Linux: the file name, the environment, the arguments, then the
  // platform string and AT_RANDOM's bytes.
  StackWriter w{as, kStackTop};
  w.top -= 8;  // a null word at the very top, as Linux leaves
  const uint64_t execfn_addr = w.PushString(execfn);
  uint64_t env_addrs[kMaxArgs];
  uint64_t arg_addrs[kMaxArgs];
  for (int i = envc; i-- > 0;)
    env_addrs[i] = w.PushString(envp[i]);
  for (int i = argc; i-- > 0;)
    arg_addrs[i] = w.PushString(argv[i]);
  const uint64_t platform_addr = w.PushString("aarch64");
  uint8_t random[16];
  RandomBytes(random, sizeof(random));
  w.top &= ~uint64_t{15};
  out.random_addr = w.Push(random, sizeof(random));

  const uint64_t phdr = image.phdr_mapped ? image.phdr_vaddr + out.bias : out.bias;
  const uint64_t auxv[][2] = {
      {kAtPhdr, phdr},
      {kAtPhent, image.phent},
      {kAtPhnum, image.phnum},
      {kAtPagesz, kPage},
      {kAtBase, 0},  // no interpreter
      {kAtFlags, 0},
      {kAtEntry, image.entry + out.bias},
      {kAtUid, 0},
      {kAtEuid, 0},
      {kAtGid, 0},
      {kAtEgid, 0},
      {kAtPlatform, platform_addr},
      {kAtHwcap, kHwcap},
      {kAtHwcap2, 0},
      {kAtClktck, 100},
      {kAtSecure, 0},
      {kAtRandom, out.random_addr},
      {kAtExecfn, execfn_addr},
      {kAtMinsigstksz, kMinSigStackSize},
      {kAtNull, 0},
  };
  constexpr size_t kAuxWords = sizeof(auxv) / sizeof(uint64_t);
  const size_t words =
      1 + static_cast<size_t>(argc) + 1 + static_cast<size_t>(envc) + 1 + kAuxWords;
  // sp (at argc) is 16-byte aligned, as the AArch64 ABI requires at a process's entry.
  const uint64_t sp = (w.top - words * 8) & ~uint64_t{15};
  uint64_t at = sp;
  auto put = [&](uint64_t word) {
    w.ok = w.ok && CopyToUser(as, at, &word, sizeof(word));
    at += 8;
  };
  put(static_cast<uint64_t>(argc));
  for (int i = 0; i < argc; ++i)
    put(arg_addrs[i]);
  put(0);
  for (int i = 0; i < envc; ++i)
    put(env_addrs[i]);
  put(0);
  for (const auto& pair : auxv) {
    put(pair[0]);
    put(pair[1]);
  }
  if (!w.ok) return Error::kNoMemory;  // the stack is ours: only memory can fail a write

  out.stack_pointer = sp;
  out.regs.sp = sp;
  out.regs.pc = image.entry + out.bias;
  out.regs.pstate = kUserPstateInitial;
  // x0 = 0: no rtld_fini for a static program (glibc's _start passes it to atexit).
  return out;
}

Result<Process*> Exec(const char* path, const char* const* argv, const char* const* envp,
                      Process* parent) {
  ProgramImage program;
  if (FindProgram(parent, path, program) != 0) {
    LICHEN_LOG_WARN("exec {}: not a file in the initramfs", path);
    return Error::kNotFound;
  }
  exec::ElfImage image;
  exec::Rejection why;
  Result<void> parsed = exec::ParseElf({program.data, program.size}, image, &why);
  if (!parsed.ok()) {
    LICHEN_LOG_WARN("exec {}: {} at offset {}", path, why.reason != nullptr ? why.reason : "?",
                    why.offset);
    return parsed.error();
  }
  vm::AddressSpace* as = LICHEN_TRY(vm::AddressSpace::Create());
  Result<LoadedImage> loaded = LoadImage(*as, program.data, image, argv, envp, path);
  if (!loaded.ok()) {
    as->Put();
    return loaded.error();
  }
  Result<Process*> created = CreateProcess(as, parent, path);
  if (!created.ok()) {
    as->Put();
    return created.error();
  }
  Process* p = created.value();
  ThreadStart start;
  start.regs = loaded.value().regs;
  Result<uint32_t> tid = SpawnThread(p, start);
  if (!tid.ok()) {
    // Never started: it is reaped at once (WaitExit needs it to have exited).
    {
      LockGuard<SpinLock> guard(p->lock);
      p->zombie = true;
      p->status = SignaledStatus(kSigKill);
    }
    (void)WaitExit(p);
    return tid.error();
  }
  LICHEN_LOG_INFO("exec {}: pid {}, entry {:#x}, sp {:#x}, brk {:#x}", path, p->pid,
                  loaded.value().regs.pc, loaded.value().stack_pointer, loaded.value().brk);
  return p;
}

Result<void> StartInit(const void* cpio, size_t len, const char* path, const char* const* argv,
                       const char* const* envp) {
  Init();
  exec::Rejection why;
  Result<void> opened = exec::CpioArchive::Open(cpio, len, *g_archive, &why);
  if (!opened.ok()) {
    LICHEN_LOG_ERROR("initramfs: {} at offset {}", why.reason != nullptr ? why.reason : "?",
                     why.offset);
    return opened.error();
  }
  SetInitramfs(&*g_archive);
  Process* init = LICHEN_TRY(Exec(path, argv, envp, nullptr));
  sched::SpawnOptions options;
  options.name = "init-reaper";
  options.entry = &InitReaper;
  options.arg = init;
  options.detached = true;
  Result<Task*> reaper = sched::Spawn(options);
  if (!reaper.ok()) {
    KillProcess(init, SignaledStatus(kSigKill));
    (void)WaitExit(init);
    return reaper.error();
  }
  return {};
}

}  // namespace lichen::proc

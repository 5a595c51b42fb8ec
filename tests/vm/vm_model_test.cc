// vm::AddressSpace (kernel/vm) against a reference model: random sequences of mmap, munmap,
// mprotect, madvise(MADV_DONTNEED), brk, faults and user copies, each compared with a simple
// page-granular model of what Linux does (one map entry per page: its permissions, what backs
// it, and its bytes once touched). Every call must return what the model returns (the same
// address, the same errno), the mapped pages and their permissions must match after every
// step, and so must the bytes read back and which pages are resident.
//
// The space lives in the simulator on one CPU (its lock is a sleeping lock, which needs a
// task); the operations are confined to a window of 72 pages around the mmap base so that
// they collide often. A failing seed prints itself; LICHEN_SEED=n replays one, VM_TRACE=1
// prints each call with both results, VM_OPS=n sets the calls per seed (250).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "kernel/vm/address_space.h"
#include "kernel/vm/uaccess.h"
#include "lib/errno.h"
#include "lib/random.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

using vm::AddressSpace;
using vm::kPageSize;
using vm::PageProt;

constexpr uintptr_t kWindow = 0x100000;  // the window's first page
constexpr uintptr_t kWindowPages = 64;
constexpr uintptr_t kMmapBase = kWindow + kWindowPages * kPageSize;
constexpr uintptr_t kBrkStart = kWindow + 40 * kPageSize + 123;  // unaligned, as a loader's
constexpr size_t kFilePages = 5;
constexpr uintptr_t kTop = platform::kUserVaTop;

constexpr int64_t E(Errno e) {
  return SyscallError(e);
}

// The model: Linux's observable behaviour, one page at a time.
struct Model {
  struct Page {
    uint32_t prot = 0;       // PROT_* bits
    int64_t file_off = -1;   // the file offset of the page's first byte; -1: anonymous
    int64_t file_limit = 0;  // file offset where the image's bytes end (zeros after)
    bool resident = false;   // touched: `data` holds its bytes
    std::vector<uint8_t> data;
  };
  std::map<uintptr_t, Page> pages;  // by page address
  const std::vector<uint8_t>* file = nullptr;
  uintptr_t brk_start = 0;
  uintptr_t brk = 0;

  bool Mapped(uintptr_t va) const { return pages.count(va) != 0; }
  bool Free(uintptr_t start, uintptr_t end) const {
    auto it = pages.lower_bound(start);
    return it == pages.end() || it->first >= end;
  }
  void Erase(uintptr_t start, uintptr_t end) {
    pages.erase(pages.lower_bound(start), pages.lower_bound(end));
  }
  static bool Readable(uint32_t prot) { return (prot & 7) != 0; }

  void Materialize(uintptr_t va, Page& p) {
    if (p.resident) return;
    p.resident = true;
    p.data.assign(kPageSize, 0);
    if (p.file_off < 0) return;
    for (size_t i = 0; i < kPageSize; ++i) {
      const int64_t at = p.file_off + static_cast<int64_t>(i);
      if (at < p.file_limit) p.data[i] = (*file)[at];
    }
    (void)va;
  }

  uintptr_t FindFree(uintptr_t hint, size_t size) const {
    if (hint != 0) {
      uintptr_t s = hint & ~(kPageSize - 1);
      if (s < 4096) s = 4096;
      if (s <= kTop - size && Free(s, s + size)) return s;
    }
    if (kMmapBase >= 4096 + size) {
      for (uintptr_t end = kMmapBase; end - size >= 4096; end -= kPageSize) {
        if (Free(end - size, end)) return end - size;
      }
    }
    uintptr_t s = vm::kUnmappedBase;
    while (s <= kTop - size) {
      auto it = pages.lower_bound(s);
      if (it == pages.end() || it->first >= s + size) return s;
      s = it->first + kPageSize;
    }
    return 0;
  }

  int64_t Map(uintptr_t hint, size_t len, uint32_t prot, uint32_t flags,
              const vm::ImageBacking* image) {
    if (image == nullptr && (flags & vm::kMapAnonymous) == 0) return E(Errno::kBadF);
    if (len == 0) return E(Errno::kInval);
    if (len > SIZE_MAX - (kPageSize - 1)) return E(Errno::kNoMem);
    const size_t size = (len + kPageSize - 1) & ~(kPageSize - 1);
    if (size > kTop - 4096) return E(Errno::kNoMem);
    uintptr_t start;
    if ((flags & (vm::kMapFixed | vm::kMapFixedNoreplace)) != 0) {
      if (hint > kTop - size) return E(Errno::kNoMem);
      if (hint % kPageSize != 0) return E(Errno::kInval);
      if (hint < 4096) return E(Errno::kPerm);
      if ((flags & vm::kMapFixedNoreplace) != 0 && !Free(hint, hint + size)) {
        return E(Errno::kExist);
      }
      start = hint;
    } else {
      start = FindFree(hint, size);
      if (start == 0) return E(Errno::kNoMem);
    }
    const uint32_t type = flags & 0xf;
    if (type != 1 && type != 2 && (type != 3 || image == nullptr)) return E(Errno::kInval);
    Erase(start, start + size);
    for (uintptr_t va = start; va < start + size; va += kPageSize) {
      Page p;
      p.prot = prot & 7;
      if (image != nullptr) {
        p.file_off = static_cast<int64_t>(image->offset + (va - start));
        p.file_limit = static_cast<int64_t>(image->offset + image->file_size);
      }
      if ((flags & vm::kMapPopulate) != 0 && Readable(p.prot)) Materialize(va, p);
      pages[va] = p;
    }
    return static_cast<int64_t>(start);
  }

  int64_t Unmap(uintptr_t addr, size_t len) {
    if (addr % kPageSize != 0 || len == 0) return E(Errno::kInval);
    if (len > SIZE_MAX - (kPageSize - 1)) return E(Errno::kInval);
    const size_t size = (len + kPageSize - 1) & ~(kPageSize - 1);
    if (addr > kTop || size > kTop - addr) return E(Errno::kInval);
    Erase(addr, addr + size);
    return 0;
  }

  int64_t Protect(uintptr_t addr, size_t len, uint32_t prot) {
    if (addr % kPageSize != 0) return E(Errno::kInval);
    if (len == 0) return 0;
    if (len > SIZE_MAX - (kPageSize - 1)) return E(Errno::kNoMem);
    const size_t size = (len + kPageSize - 1) & ~(kPageSize - 1);
    if (size > UINTPTR_MAX - addr) return E(Errno::kNoMem);
    if ((prot & ~15u) != 0) return E(Errno::kInval);
    for (uintptr_t va = addr; va < addr + size; va += kPageSize) {
      auto it = pages.find(va);
      if (it == pages.end()) return E(Errno::kNoMem);
      it->second.prot = prot & 7;
    }
    return 0;
  }

  int64_t DontNeed(uintptr_t addr, size_t len) {
    if (addr % kPageSize != 0) return E(Errno::kInval);
    if (len > SIZE_MAX - (kPageSize - 1)) return E(Errno::kInval);
    const size_t size = (len + kPageSize - 1) & ~(kPageSize - 1);
    if (size > UINTPTR_MAX - addr) return E(Errno::kInval);
    if (size == 0) return 0;
    bool hole = false;
    for (uintptr_t va = addr; va < addr + size; va += kPageSize) {
      auto it = pages.find(va);
      if (it == pages.end()) {
        hole = true;
        continue;
      }
      it->second.resident = false;
      it->second.data.clear();
    }
    return hole ? E(Errno::kNoMem) : 0;
  }

  uintptr_t Brk(uintptr_t new_end) {
    if (new_end == 0 || new_end < brk_start || new_end > kTop - kPageSize) return brk;
    const uintptr_t old_top = (brk + kPageSize - 1) & ~(kPageSize - 1);
    const uintptr_t new_top = (new_end + kPageSize - 1) & ~(kPageSize - 1);
    if (new_top < old_top) {
      Erase(new_top, old_top);
    } else if (new_top > old_top) {
      if (!Free(old_top, new_top + kPageSize)) return brk;
      for (uintptr_t va = old_top; va < new_top; va += kPageSize) {
        Page p;
        p.prot = 3;
        pages[va] = p;
      }
    }
    brk = new_end;
    return brk;
  }

  // HandleFault's answer, and the page made resident.
  vm::FaultResult Fault(uintptr_t addr, vm::Access access) {
    const uintptr_t va = addr & ~(kPageSize - 1);
    auto it = pages.find(va);
    if (addr < 4096 || addr >= kTop || it == pages.end()) return vm::FaultResult::kSegvMapErr;
    const uint32_t prot = it->second.prot;
    const bool ok = access == vm::Access::kRead    ? Readable(prot)
                    : access == vm::Access::kWrite ? (prot & 2) != 0
                                                   : (prot & 4) != 0;
    if (!ok) return vm::FaultResult::kSegvAccErr;
    Materialize(va, it->second);
    return vm::FaultResult::kOk;
  }

  // StrncpyFromUser: pages in order up to the NUL or `cap` bytes.
  int64_t Strncpy(uintptr_t addr, size_t cap, char* out) {
    if (cap == 0) return E(Errno::kInval);
    if (addr < 4096 || addr >= kTop) return E(Errno::kFault);
    for (size_t done = 0; done < cap;) {
      const uintptr_t at = addr + done;
      const uintptr_t va = at & ~(kPageSize - 1);
      const size_t chunk = std::min<size_t>(cap - done, va + kPageSize - at);
      auto it = pages.find(va);
      if (it == pages.end() || !Readable(it->second.prot)) return E(Errno::kFault);
      Materialize(va, it->second);
      for (size_t i = 0; i < chunk; ++i) {
        out[done + i] = static_cast<char>(it->second.data[at - va + i]);
        if (out[done + i] == 0) return static_cast<int64_t>(done + i);
      }
      done += chunk;
    }
    return E(Errno::kNameTooLong);
  }

  // The futex word operations: a resident page only (no fault-in), aligned words only.
  int64_t Word(uintptr_t addr, bool add, uint32_t operand, uint32_t* old) {
    if (addr % 4 != 0 || addr < 4096 || addr >= kTop) return E(Errno::kFault);
    const uintptr_t va = addr & ~(kPageSize - 1);
    auto it = pages.find(va);
    if (it == pages.end() || !it->second.resident) return E(Errno::kFault);
    if (add ? (it->second.prot & 2) == 0 : !Readable(it->second.prot)) return E(Errno::kFault);
    uint8_t* p = &it->second.data[addr - va];
    uint32_t v;
    memcpy(&v, p, 4);
    *old = v;
    if (add) {
      v += operand;
      memcpy(p, &v, 4);
    }
    return 0;
  }

  // A copy of n bytes at `addr`: pages in order, stopping at the first inaccessible one
  // (what came before it is done). `write` given: copied in; `read` given: copied out.
  int64_t Copy(uintptr_t addr, size_t n, const uint8_t* write, uint8_t* read) {
    if (n == 0) return 0;
    if (addr < 4096 || addr >= kTop || n > kTop - addr) return E(Errno::kFault);
    for (size_t done = 0; done < n;) {
      const uintptr_t at = addr + done;
      const uintptr_t va = at & ~(kPageSize - 1);
      const size_t chunk = std::min<size_t>(n - done, va + kPageSize - at);
      auto it = pages.find(va);
      if (it == pages.end()) return E(Errno::kFault);
      const uint32_t prot = it->second.prot;
      if (write != nullptr ? (prot & 2) == 0 : !Readable(prot)) return E(Errno::kFault);
      Materialize(va, it->second);
      for (size_t i = 0; i < chunk; ++i) {
        if (write != nullptr) it->second.data[at - va + i] = write[done + i];
        if (read != nullptr) read[done + i] = it->second.data[at - va + i];
      }
      done += chunk;
    }
    return 0;
  }
};

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// One seed: `ops` random operations on a fresh space and on the model. Returns "" or what
// differed first.
std::string RunOne(uint64_t seed, int ops) {
  std::string failure;
  sim::Options options;
  options.ncpus = 1;
  options.seed = seed;
  auto body = [&] {
    Rng rng(seed);
    std::vector<uint8_t> file(kFilePages * kPageSize);
    for (uint8_t& b : file)
      b = static_cast<uint8_t>(rng.Next());
    Model model;
    model.file = &file;
    AddressSpace* as = AddressSpace::Create().value();
    if (std::getenv("VM_TRACE") != nullptr) {
      std::printf("root %#lx as %p\n", as->root_pa(), static_cast<void*>(as));
    }
    as->SetMmapBase(kMmapBase);
    as->SetBrkStart(kBrkStart);
    model.brk_start = model.brk = (kBrkStart + kPageSize - 1) & ~(kPageSize - 1);
    std::vector<vm::ImageBacking> images;  // kept alive: regions point at `file`

    auto addr_in_window = [&]() -> uintptr_t {
      return kWindow - 4 * kPageSize + rng.Below(72) * kPageSize;
    };
    auto any_len = [&]() -> size_t {
      switch (rng.Below(8)) {
        case 0:
          return 0;
        case 1:
          return 1 + rng.Below(3 * kPageSize);
        default:
          return (1 + rng.Below(8)) * kPageSize;
      }
    };
    auto any_prot = [&]() -> uint32_t {
      return rng.Below(16) == 0 ? static_cast<uint32_t>(rng.Below(64))
                                : static_cast<uint32_t>(rng.Below(8));
    };
    for (int step = 0; step < ops && failure.empty(); ++step) {
      std::string what;
      int64_t got = 0, want = 0;
      const uint64_t kind = rng.Below(100);
      if (kind < 22) {
        uintptr_t hint = rng.Below(4) == 0 ? 0 : addr_in_window();
        if (rng.Below(8) == 0) hint += rng.Below(kPageSize);  // unaligned
        const size_t len = any_len();
        const uint32_t prot = any_prot();
        uint32_t flags = rng.Below(10) == 0 ? static_cast<uint32_t>(rng.Below(4)) : vm::kMapPrivate;
        if (rng.Below(10) != 0) flags |= vm::kMapAnonymous;
        const uint64_t f = rng.Below(4);
        if (f == 1) flags |= vm::kMapFixed;
        if (f == 2) flags |= vm::kMapFixedNoreplace;
        if (rng.Below(10) == 0) flags |= vm::kMapPopulate;
        const vm::ImageBacking* image = nullptr;
        if (rng.Below(3) == 0) {
          vm::ImageBacking img;
          img.file = file.data();
          img.offset = rng.Below(2 * kPageSize);
          img.file_size = rng.Below(file.size() - img.offset + 1);
          images.push_back(img);
          image = &images.back();
          flags &= ~vm::kMapAnonymous;
        }
        // The model sees a copy: `images` may move when it grows.
        const vm::ImageBacking image_copy = image != nullptr ? *image : vm::ImageBacking{};
        got = as->Map(hint, len, prot, flags, image != nullptr ? &image_copy : nullptr);
        want = model.Map(hint, len, prot, flags, image != nullptr ? &image_copy : nullptr);
        what = "Map(" + Hex(hint) + ", " + Hex(len) + ", " + Hex(prot) + ", " + Hex(flags) +
               (image != nullptr ? ", image)" : ")");
      } else if (kind < 34) {
        uintptr_t addr = addr_in_window();
        if (rng.Below(10) == 0) addr += 1 + rng.Below(kPageSize - 1);
        const size_t len = any_len();
        got = as->Unmap(addr, len);
        want = model.Unmap(addr, len);
        what = "Unmap(" + Hex(addr) + ", " + Hex(len) + ")";
      } else if (kind < 46) {
        uintptr_t addr = addr_in_window();
        if (rng.Below(10) == 0) addr += 1 + rng.Below(kPageSize - 1);
        const size_t len = any_len();
        const uint32_t prot = any_prot();
        got = as->Protect(addr, len, prot);
        want = model.Protect(addr, len, prot);
        what = "Protect(" + Hex(addr) + ", " + Hex(len) + ", " + Hex(prot) + ")";
      } else if (kind < 54) {
        uintptr_t addr = addr_in_window();
        if (rng.Below(10) == 0) addr += 1 + rng.Below(kPageSize - 1);
        const size_t len = any_len();
        got = as->AdviseDontNeed(addr, len);
        want = model.DontNeed(addr, len);
        what = "AdviseDontNeed(" + Hex(addr) + ", " + Hex(len) + ")";
      } else if (kind < 62) {
        const uintptr_t end = rng.Below(10) == 0
                                  ? rng.Below(2 * kBrkStart)
                                  : kBrkStart - 2 * kPageSize + rng.Below(30 * kPageSize);
        got = static_cast<int64_t>(as->Brk(end));
        want = static_cast<int64_t>(model.Brk(end));
        what = "Brk(" + Hex(end) + ")";
      } else if (kind < 72) {
        const uintptr_t addr = addr_in_window() + rng.Below(kPageSize);
        const auto access = static_cast<vm::Access>(rng.Below(3));
        got = static_cast<int64_t>(vm::HandleFault(*as, addr, access));
        want = static_cast<int64_t>(model.Fault(addr, access));
        what = "HandleFault(" + Hex(addr) + ", " + std::to_string(static_cast<int>(access)) + ")";
      } else if (kind < 86) {
        const uintptr_t addr = addr_in_window() + rng.Below(kPageSize);
        const size_t n = rng.Below(3 * kPageSize);
        std::vector<uint8_t> bytes(n);
        for (uint8_t& b : bytes)
          b = static_cast<uint8_t>(rng.Next());
        got = vm::CopyToUser(*as, addr, bytes.data(), n);
        want = model.Copy(addr, n, bytes.data(), nullptr);
        what = "CopyToUser(" + Hex(addr) + ", " + Hex(n) + ")";
      } else if (kind < 88) {
        const uintptr_t addr = addr_in_window() + rng.Below(kPageSize);
        const size_t n = rng.Below(3 * kPageSize);
        std::vector<uint8_t> mine(n, 0xee), theirs(n, 0xee);
        got = vm::CopyFromUser(*as, mine.data(), addr, n);
        want = model.Copy(addr, n, nullptr, theirs.data());
        what = "CopyFromUser(" + Hex(addr) + ", " + Hex(n) + ")";
        if (got == 0 && want == 0 && mine != theirs) {
          for (size_t i = 0; i < n; ++i) {
            if (mine[i] != theirs[i]) {
              failure = what + ": byte " + Hex(addr + i) + " is " + Hex(mine[i]) + ", model " +
                        Hex(theirs[i]);
              break;
            }
          }
        }
      } else if (kind < 93) {
        const uintptr_t addr = addr_in_window() + rng.Below(kPageSize);
        const size_t cap = rng.Below(4) == 0 ? rng.Below(64) : rng.Below(2 * kPageSize);
        std::vector<char> mine(cap + 1, 'x'), theirs(cap + 1, 'x');
        got = vm::StrncpyFromUser(*as, mine.data(), addr, cap);
        want = model.Strncpy(addr, cap, theirs.data());
        what = "StrncpyFromUser(" + Hex(addr) + ", " + Hex(cap) + ")";
        if (got >= 0 && got == want && memcmp(mine.data(), theirs.data(), got + 1) != 0) {
          failure = what + ": the string differs from the model's";
        }
      } else if (kind < 96) {
        const uintptr_t addr = addr_in_window() + rng.Below(kPageSize);
        const size_t n = rng.Below(2 * kPageSize);
        const std::vector<uint8_t> zeros(n, 0);
        got = vm::ClearUser(*as, addr, n);
        want = model.Copy(addr, n, zeros.data(), nullptr);
        what = "ClearUser(" + Hex(addr) + ", " + Hex(n) + ")";
      } else {
        // The futex word operations: no fault-in, so EFAULT unless the page is resident.
        const uintptr_t addr = addr_in_window() + 4 * rng.Below(kPageSize / 4) +
                               (rng.Below(16) == 0 ? 1 + rng.Below(3) : 0);
        const uint64_t op = rng.Below(3);
        uint32_t mine = 0, theirs = 0;
        if (op == 0) {
          got = vm::LoadWordNoFault(*as, addr, &mine);
          want = model.Word(addr, false, 0, &theirs);
          what = "LoadWordNoFault(" + Hex(addr) + ")";
        } else if (op == 1) {
          const uint32_t add = static_cast<uint32_t>(rng.Next());
          got = vm::FetchOpWordNoFault(
              *as, addr, [](uint32_t v, uint32_t a) { return v + a; }, add, &mine);
          want = model.Word(addr, true, add, &theirs);
          what = "FetchOpWordNoFault(" + Hex(addr) + ", +" + Hex(add) + ")";
        } else {
          const auto access = static_cast<vm::Access>(rng.Below(2));
          got = vm::FaultInWord(*as, addr, access);
          want = model.Fault(addr, access) == vm::FaultResult::kOk ? 0 : E(Errno::kFault);
          what = "FaultInWord(" + Hex(addr) + ", " + std::to_string(static_cast<int>(access)) + ")";
        }
        if (got == 0 && want == 0 && op < 2 && mine != theirs) {
          failure = what + ": word " + Hex(mine) + ", model " + Hex(theirs);
        }
      }
      if (std::getenv("VM_TRACE") != nullptr) {
        std::printf("step %d: %s = %lld (model %lld)\n", step, what.c_str(),
                    static_cast<long long>(got), static_cast<long long>(want));
      }
      if (failure.empty() && got != want) {
        failure = what + " returned " + std::to_string(got) + ", model " + std::to_string(want);
      }
      // The layout and the resident pages, after every step.
      std::map<uintptr_t, uint32_t> layout;
      as->ForEachRegion([&](const vm::RegionInfo& r) {
        for (uintptr_t va = r.start; va < r.end; va += kPageSize)
          layout[va] = (r.prot.read ? 1 : 0) | (r.prot.write ? 2 : 0) | (r.prot.exec ? 4 : 0);
      });
      size_t resident = 0;
      for (const auto& [va, page] : model.pages) {
        if (!failure.empty()) break;
        auto it = layout.find(va);
        if (it == layout.end()) {
          failure = "after " + what + ": page " + Hex(va) + " is not mapped, the model has it";
        } else if (it->second != page.prot) {
          failure = "after " + what + ": page " + Hex(va) + " has prot " + Hex(it->second) +
                    ", model " + Hex(page.prot);
        }
        uintptr_t pa = 0;
        PageProt prot;
        const bool present = as->Translate(va, &pa, &prot);
        if (failure.empty() && present != page.resident) {
          failure = "after " + what + ": page " + Hex(va) + (present ? " is" : " is not") +
                    " resident, the model says otherwise";
        }
        if (failure.empty() && present &&
            !(prot == PageProt{page.prot != 0, (page.prot & 2) != 0, (page.prot & 4) != 0})) {
          failure = "after " + what + ": page " + Hex(va) + "'s entry has stale permissions";
        }
        resident += page.resident ? 1 : 0;
      }
      if (failure.empty() && layout.size() != model.pages.size()) {
        failure = "after " + what + ": " + std::to_string(layout.size()) + " pages mapped, model " +
                  std::to_string(model.pages.size());
      }
      if (failure.empty() && as->ResidentPages() != resident) {
        failure = "after " + what + ": " + std::to_string(as->ResidentPages()) +
                  " resident pages counted, model " + std::to_string(resident);
      }
    }
    // Emptied, the space holds no page and no table but its root.
    if (failure.empty()) {
      LICHEN_ASSERT(as->Unmap(4096, kMmapBase + 64 * kPageSize) == 0, "final unmap");
      LICHEN_ASSERT(as->Unmap(vm::kUnmappedBase, 1 << 20) == 0, "final unmap");
      if (as->RegionCount() != 0 || as->ResidentPages() != 0 || as->TablePages() != 1) {
        as->ForEachRegion([&](const vm::RegionInfo& r) {
          failure += "[" + Hex(r.start) + ", " + Hex(r.end) + ") ";
        });
        failure += "emptied space: " + std::to_string(as->RegionCount()) + " regions, " +
                   std::to_string(as->ResidentPages()) + " pages, " +
                   std::to_string(as->TablePages()) + " tables";
      }
    }
    as->Put();
  };
  const sim::Outcome outcome = sim::Run(options, [&] {
    // The test's frames are large under ASan: a stack of its own, beyond the default 16 KiB.
    sched::SpawnOptions spawn;
    spawn.name = "vm-model";
    spawn.stack_size = 256 * 1024;
    sched::Join(test::SpawnBody(spawn, body));
  });
  if (!outcome.ok) return "simulation failed: " + test::Explain(outcome);
  return failure;
}

TEST(VmModel, RandomCallsMatchTheReferenceModel) {
  test::ForEachSeed("vm-model", 60, [](uint64_t seed) {
    const char* ops_env = std::getenv("VM_OPS");
    const std::string failure = RunOne(seed, ops_env != nullptr ? std::atoi(ops_env) : 250);
    ASSERT_TRUE(failure.empty()) << "seed " << seed << ": " << failure;
  });
}

}  // namespace
}  // namespace lichen

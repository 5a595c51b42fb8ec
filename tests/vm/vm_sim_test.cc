// kernel/vm's races in the simulator, many seeds each, 2 and 4 virtual CPUs: threads of one
// address space first-touching the same pages on every CPU (the seed's AlreadyMapped bug),
// faults and user copies racing munmap, the futex word operations racing munmap, and the ASID
// allocator rolling over with more address spaces than ASIDs on 4 CPUs.
//
// The regression tests turn one fix off (kernel/base/debug.h's vm_* faults) and expect the
// same scenario to fail within a bounded number of seeds. Failing seeds print a replay line
// (LICHEN_SEED=n ... --gtest_filter=...).
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "kernel/base/debug.h"
#include "kernel/base/irq_state.h"
#include "kernel/base/platform.h"
#include "kernel/base/platform_mmu.h"
#include "kernel/lock/spinlock.h"
#include "kernel/mm/kmem.h"
#include "kernel/sched/sched.h"
#include "kernel/sync/mutex.h"
#include "kernel/vm/address_space.h"
#include "kernel/vm/asid.h"
#include "kernel/vm/uaccess.h"
#include "lib/assert.h"
#include "lib/atomic.h"
#include "lib/cpumask.h"
#include "lib/errno.h"
#include "lib/random.h"
#include "lib/units.h"
#include "platform/sim/mmu.h"
#include "platform/sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tests/support/property.h"

namespace lichen {
namespace {

using vm::AddressSpace;
using vm::FaultResult;
using vm::kPageSize;

constexpr uintptr_t kBase = 0x40000000;  // where the tests map their regions
constexpr int64_t kEFault = SyscallError(Errno::kFault);

// Even seeds run with the simulator's store buffers (weak memory), so that an entry published
// or cleared with too weak an order shows.
sim::Outcome RunSim(uint32_t ncpus, uint64_t seed, const std::function<void()>& root) {
  sim::Options options;
  options.ncpus = ncpus;
  options.seed = seed;
  options.weak_memory = seed % 2 == 0;
  return sim::Run(options, root);
}

// Runs `root(rng, ncpus)` on each CPU count for `seeds` seeds; a failing seed is printed with
// its replay line.
void RunSeeds(const char* name, uint64_t seeds, std::initializer_list<uint32_t> cpu_counts,
              const std::function<void(Rng&, uint32_t)>& root) {
  test::ForEachSeed(name, seeds, [&](uint64_t seed) {
    for (uint32_t ncpus : cpu_counts) {
      const sim::Outcome result = RunSim(ncpus, seed, [&] {
        Rng rng(seed * 7919 + ncpus);
        root(rng, ncpus);
      });
      ASSERT_TRUE(result.ok) << ncpus << " CPUs: " << test::Explain(result);
    }
  });
}

// Spawns one task per CPU running body(cpu), pinned there, and joins them all.
void OnEveryCpu(uint32_t ncpus, const std::function<void(uint32_t)>& body) {
  std::vector<std::function<void()>> bodies(ncpus);
  std::vector<Task*> tasks(ncpus);
  for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
    bodies[cpu] = [&body, cpu] { body(cpu); };
    sched::SpawnOptions options;
    options.name = "vm-cpu";
    options.affinity = CpuMask::Single(cpu);
    options.stack_size = 64 * 1024;  // ASan frames
    tasks[cpu] = test::SpawnBody(options, bodies[cpu]);
  }
  for (Task* t : tasks)
    sched::Join(t);
}

int64_t MapAnon(AddressSpace& as, uintptr_t at, size_t pages) {
  return as.Map(at, pages * kPageSize, vm::kProtRead | vm::kProtWrite,
                vm::kMapPrivate | vm::kMapAnonymous | vm::kMapFixed);
}

// ---- First touch of the same pages on every CPU ---------------------------------------------

constexpr uint32_t kTouchPages = 6;

// Every CPU's task faults the same pages in, in its own random order, for writing, then
// writes its mark at its own offset in each. Every fault succeeds, each page is mapped once
// (one page per address: every mark is found in it afterwards), and nothing else is mapped.
void FirstTouch(Rng& rng, uint32_t ncpus) {
  AddressSpace* as = AddressSpace::Create().value();
  LICHEN_ASSERT(MapAnon(*as, kBase, kTouchPages) == static_cast<int64_t>(kBase), "map");
  std::vector<uint64_t> seeds(ncpus);
  for (uint64_t& s : seeds)
    s = rng.Next();
  OnEveryCpu(ncpus, [&](uint32_t cpu) {
    Rng mine(seeds[cpu]);
    uint32_t order[kTouchPages];
    for (uint32_t i = 0; i < kTouchPages; ++i)
      order[i] = i;
    for (uint32_t i = kTouchPages - 1; i > 0; --i)
      std::swap(order[i], order[mine.Below(i + 1)]);
    for (uint32_t i : order) {
      const uintptr_t page = kBase + i * kPageSize;
      const FaultResult r = vm::HandleFault(*as, page + mine.Below(kPageSize), vm::Access::kWrite);
      LICHEN_ASSERT(r == FaultResult::kOk, "CPU {}: first touch of {:#x} ended in {}", cpu, page,
                    vm::FaultResultName(r));
      const uint64_t mark = 0x1000 + cpu;
      LICHEN_ASSERT(vm::CopyToUser(*as, page + 8 * cpu, &mark, sizeof mark) == 0, "mark");
    }
  });
  for (uint32_t i = 0; i < kTouchPages; ++i) {
    for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
      uint64_t mark = 0;
      LICHEN_ASSERT(vm::CopyFromUser(*as, &mark, kBase + i * kPageSize + 8 * cpu, 8) == 0, "read");
      LICHEN_ASSERT(mark == 0x1000 + cpu, "page {} lost CPU {}'s mark: two pages were mapped", i,
                    cpu);
    }
  }
  LICHEN_ASSERT(as->ResidentPages() == kTouchPages, "{} pages resident, want {}",
                as->ResidentPages(), kTouchPages);
  as->Put();
}

TEST(VmSim, ThreadsFirstTouchingTheSamePagesOnEveryCpuAllSucceed) {
  RunSeeds("vm-first-touch", 40, {2, 4}, FirstTouch);
}

// The seed's AlreadyMapped bug: the second thread to fault a page gets SIGSEGV.
TEST(VmSim, AlreadyMappedAsAnErrorIsCaught) {
  test::FaultScope fault(&Faults::vm_already_mapped_is_an_error);
  test::ExpectCaughtWithin(20, {{sim::Failure::kPanic, "first touch"}}, [](uint64_t seed) {
    return RunSim(4, seed, [seed] {
      Rng rng(seed);
      FirstTouch(rng, 4);
    });
  });
}

// ---- A fault racing munmap --------------------------------------------------------------------

constexpr uint32_t kRacePages = 4;

// Tasks on every CPU but 0 fault the region's pages in over and over while CPU 0 unmaps it
// once. Each fault ends in success (before the unmap) or SEGV_MAPERR (after), and once the
// unmap has returned and the faults are over, no page is left mapped in the range.
void FaultVsMunmap(Rng& rng, uint32_t ncpus) {
  AddressSpace* as = AddressSpace::Create().value();
  LICHEN_ASSERT(MapAnon(*as, kBase, kRacePages) == static_cast<int64_t>(kBase), "map");
  const uint64_t delay = rng.Below(20 * kUs);
  Atomic<bool> unmapped{false};
  OnEveryCpu(ncpus, [&](uint32_t cpu) {
    if (cpu == 0) {
      sim::Compute(delay);
      LICHEN_ASSERT(as->Unmap(kBase, kRacePages * kPageSize) == 0, "unmap");
      unmapped.Store(true, std::memory_order_release);
      return;
    }
    for (uint32_t round = 0; round < 6; ++round) {
      for (uint32_t i = 0; i < kRacePages; ++i) {
        const bool after = unmapped.Load(std::memory_order_acquire);
        const FaultResult r = vm::HandleFault(*as, kBase + i * kPageSize, vm::Access::kWrite);
        LICHEN_ASSERT(r == FaultResult::kOk || r == FaultResult::kSegvMapErr,
                      "fault racing munmap ended in {}", vm::FaultResultName(r));
        LICHEN_ASSERT(!after || r == FaultResult::kSegvMapErr,
                      "a fault after munmap returned succeeded");
      }
      sim::Compute(1 * kUs);
    }
  });
  for (uint32_t i = 0; i < kRacePages; ++i) {
    LICHEN_ASSERT(!as->Translate(kBase + i * kPageSize, nullptr, nullptr),
                  "stale mapping: page {:#x} is mapped after munmap", kBase + i * kPageSize);
  }
  LICHEN_ASSERT(as->ResidentPages() == 0, "stale mapping: {} pages resident after munmap",
                as->ResidentPages());
  LICHEN_ASSERT(as->TablePages() == 1, "{} tables left after munmap", as->TablePages());
  as->Put();
}

TEST(VmSim, AFaultRacingMunmapEndsInSegvOrSuccessNeverAStaleMapping) {
  RunSeeds("vm-fault-vs-munmap", 60, {2, 4}, FaultVsMunmap);
}

// The handler that drops the lock to allocate and installs without looking again.
TEST(VmSim, AFaultThatDropsTheLockToFillIsCaughtLeavingAStaleMapping) {
  test::FaultScope fault(&Faults::vm_fault_drops_lock_to_fill);
  test::ExpectCaughtWithin(200, {{sim::Failure::kPanic, "stale mapping"}}, [](uint64_t seed) {
    return RunSim(4, seed, [seed] {
      Rng rng(seed);
      FaultVsMunmap(rng, 4);
    });
  });
}

// ---- User copies and futex word operations racing munmap
// -----------------------------------------

// Tasks on every CPU but 0 copy to and from the region, and read and update futex words in
// it, while CPU 0 unmaps it and maps it again (fresh zeros) a few times. Every copy either
// succeeds or is EFAULT; a successful read sees the task's own last write or zeros (the
// region was replaced since), never anything else; no freed page is ever touched (ASan,
// through the page allocator's poisoning, would stop the run).
void CopyVsMunmap(Rng& rng, uint32_t ncpus) {
  AddressSpace* as = AddressSpace::Create().value();
  LICHEN_ASSERT(MapAnon(*as, kBase, kRacePages) == static_cast<int64_t>(kBase), "map");
  std::vector<uint64_t> delays(4);
  for (uint64_t& d : delays)
    d = rng.Below(10 * kUs);
  Atomic<bool> done{false};
  OnEveryCpu(ncpus, [&](uint32_t cpu) {
    if (cpu == 0) {
      for (uint64_t d : delays) {
        sim::Compute(d);
        LICHEN_ASSERT(as->Unmap(kBase, kRacePages * kPageSize) == 0, "unmap");
        sim::Compute(d / 2);
        LICHEN_ASSERT(MapAnon(*as, kBase, kRacePages) == static_cast<int64_t>(kBase), "remap");
      }
      done.Store(true, std::memory_order_release);
      return;
    }
    // Each task owns a slot that straddles two pages, and a futex word.
    const uintptr_t slot = kBase + cpu * kPageSize - 24;
    const uintptr_t word = kBase + (kRacePages - 1) * kPageSize + 2048 + 4 * cpu;
    uint8_t pattern[48];
    for (uint32_t round = 0; !done.Load(std::memory_order_acquire) || round < 4; ++round) {
      for (uint8_t& b : pattern)
        b = static_cast<uint8_t>(round * 7 + cpu);
      const int64_t w = vm::CopyToUser(*as, slot, pattern, sizeof pattern);
      LICHEN_ASSERT(w == 0 || w == kEFault, "CopyToUser racing munmap returned {}", w);
      uint8_t back[48];
      const int64_t r = vm::CopyFromUser(*as, back, slot, sizeof back);
      LICHEN_ASSERT(r == 0 || r == kEFault, "CopyFromUser racing munmap returned {}", r);
      if (r == 0) {
        for (size_t i = 0; i < sizeof back; ++i) {
          LICHEN_ASSERT(back[i] == pattern[i] || back[i] == 0,
                        "CPU {} read {:#x} at byte {}: neither its write nor a fresh page", cpu,
                        back[i], i);
        }
      }
      uint32_t value = 0;
      const int64_t l = vm::LoadWordNoFault(*as, word, &value);
      LICHEN_ASSERT(l == 0 || l == kEFault, "LoadWordNoFault returned {}", l);
      uint32_t old = 0;
      const int64_t f = vm::FetchOpWordNoFault(
          *as, word, [](uint32_t v, uint32_t add) { return v + add; }, 1, &old);
      LICHEN_ASSERT(f == 0 || f == kEFault, "FetchOpWordNoFault returned {}", f);
      if (f != 0) {
        const int64_t in = vm::FaultInWord(*as, word, vm::Access::kWrite);
        LICHEN_ASSERT(in == 0 || in == kEFault, "FaultInWord returned {}", in);
      }
      sim::Compute(500);
    }
  });
  LICHEN_ASSERT(as->Unmap(kBase, kRacePages * kPageSize) == 0, "final unmap");
  LICHEN_ASSERT(as->ResidentPages() == 0 && as->TablePages() == 1,
                "an emptied space holds {} pages and {} tables", as->ResidentPages(),
                as->TablePages());
  as->Put();
}

TEST(VmSim, CopiesAndFutexWordsRacingMunmapSucceedOrFaultAndTouchNoFreedPage) {
  RunSeeds("vm-copy-vs-munmap", 40, {2, 4}, CopyVsMunmap);
}

// ---- Copies of mapped pages do not queue on the space's lock --------------------------------

// While one task holds the space's sleeping lock (as an mmap or a fault does), a task on
// another CPU copies to and from a page that is already mapped. The copy must not wait for
// the lock: every system call copies, and when copies took it, the threads of a process
// queued behind each other (usertest's affinity case: 12 s on 4 vCPUs instead of 0.1 s).
// Returns whether the copy finished while the lock was still held; the holder waits at most
// 20 ms of simulated time for it, so the version that blocks ends too.
bool CopyFinishesWhileTheSpaceIsLocked() {
  AddressSpace* as = AddressSpace::Create().value();
  LICHEN_ASSERT(MapAnon(*as, kBase, 1) == static_cast<int64_t>(kBase), "map");
  LICHEN_ASSERT(vm::HandleFault(*as, kBase, vm::Access::kWrite) == FaultResult::kOk, "touch");
  Atomic<bool> locked{false};
  Atomic<bool> copied{false};
  bool copied_while_locked = false;
  OnEveryCpu(2, [&](uint32_t cpu) {
    if (cpu == 0) {
      LockGuard<Mutex> guard(as->lock());
      locked.Store(true, std::memory_order_release);
      for (int i = 0; i < 200 && !copied.Load(std::memory_order_acquire); ++i)
        sched::SleepFor(100 * kUs);
      copied_while_locked = copied.Load(std::memory_order_acquire);
    } else {
      while (!locked.Load(std::memory_order_acquire))
        sched::SleepFor(10 * kUs);
      const uint64_t out = 0x5eed;
      uint64_t in = 0;
      LICHEN_ASSERT(vm::CopyToUser(*as, kBase + 64, &out, sizeof out) == 0, "copy out");
      LICHEN_ASSERT(vm::CopyFromUser(*as, &in, kBase + 64, sizeof in) == 0 && in == out, "copy in");
      copied.Store(true, std::memory_order_release);
    }
  });
  as->Put();
  return copied_while_locked;
}

TEST(VmSim, CopiesOfMappedPagesDoNotWaitForTheSpaceLock) {
  test::ForEachSeed("vm-copy-unlocked", 10, [](uint64_t seed) {
    bool ok = false;
    const sim::Outcome result = RunSim(2, seed, [&] { ok = CopyFinishesWhileTheSpaceIsLocked(); });
    ASSERT_TRUE(result.ok) << test::Explain(result);
    EXPECT_TRUE(ok) << "seed " << seed << ": the copy waited for the space's lock";
  });
}

TEST(VmSim, CopiesTakingTheSpaceLockAreCaught) {
  test::FaultScope fault(&Faults::vm_copy_takes_space_lock);
  bool ok = true;
  const sim::Outcome result = RunSim(2, 1, [&] { ok = CopyFinishesWhileTheSpaceIsLocked(); });
  ASSERT_TRUE(result.ok) << test::Explain(result);
  EXPECT_FALSE(ok) << "the copy finished while the space's lock was held, fault or not";
}

// ---- ASIDs ------------------------------------------------------------------------------------

constexpr uint32_t kAsidBits = 3;  // 7 ASIDs
constexpr uint32_t kSpaces = 12;   // more spaces than ASIDs
constexpr uint32_t kSwitches = 60;

// Every CPU switches among 12 spaces at random (with 7 ASIDs, so the allocator rolls over
// again and again), sometimes to no space, and now and then replaces a space by a new one
// (dropping its reference while other CPUs may still have it active), and maps, touches and
// unmaps a page of the space it switched to (a TLB flush by ASID). After each switch,
// with IRQs masked, the test checks that the CPU runs the space with the space's current
// ASID, that no other CPU runs another space with the same ASID at the same time, and that
// no (generation, ASID) was ever given to two spaces. The simulator's TLB model (mmu.h)
// checks that no CPU starts using an ASID whose entries there belong to another space.
// True when the page at `root` is no longer a page table. A root that is back in the page
// allocator makes BlockContaining panic ("lies in a free block"), which fails the run too.
bool RootFreed(uintptr_t root) {
  const uintptr_t kva = platform::PhysToKernel(root);
  const mm::PageBlock block = mm::Pages().BlockContaining(kva);
  return block.base != kva || block.tag != platform::kPageTableTag;
}

LockClass g_ids_class("test.asid-ids", LockRank::kTestC);

void AsidRollover(Rng& rng, uint32_t ncpus) {
  struct Slot {
    AddressSpace* as = nullptr;
    uint32_t serial = 0;
  };
  // The spaces, replaced at random by CPU 0. The table is under a mutex, and a CPU takes a
  // reference of its own to a space before it lets go of the mutex, so that a replacement
  // cannot free the space while it switches to it.
  Mutex table_lock;
  Slot slots[kSpaces];
  uint32_t next_serial = 1;
  for (Slot& s : slots) {
    s.as = AddressSpace::Create().value();
    s.serial = next_serial++;
  }
  // Per CPU: what it runs now, serial << 32 | asid (0: nothing, or in the middle of a switch).
  Atomic<uint64_t> running[kMaxCpus];
  // Every context id given out, and the serial of the space it went to.
  std::map<uint64_t, uint32_t> ids;
  SpinLock ids_lock(g_ids_class);
  std::vector<uint64_t> seeds(ncpus);
  for (uint64_t& s : seeds)
    s = rng.Next();

  OnEveryCpu(ncpus, [&](uint32_t cpu) {
    Rng mine(seeds[cpu]);
    for (uint32_t n = 0; n < kSwitches; ++n) {
      const uint32_t pick = static_cast<uint32_t>(mine.Below(kSpaces + 2));
      if (cpu == 0 && pick == kSpaces + 1) {
        // Replace a space: the old one lives on while some CPU has it active.
        const uint32_t victim = static_cast<uint32_t>(mine.Below(kSpaces));
        AddressSpace* fresh = AddressSpace::Create().value();
        AddressSpace* old;
        {
          LockGuard<Mutex> guard(table_lock);
          old = slots[victim].as;
          slots[victim].as = fresh;
          slots[victim].serial = next_serial++;
        }
        old->Put();
        continue;
      }
      AddressSpace* as = nullptr;
      uint32_t serial = 0;
      if (pick < kSpaces) {
        LockGuard<Mutex> guard(table_lock);
        as = slots[pick].as;
        serial = slots[pick].serial;
        as->Get();  // held across the switch, so a replacement cannot free it meanwhile
      }
      {
        IrqGuard irqs;
        // Each CPU checks its own translation, with IRQs masked so that it cannot change (a
        // check of another CPU's would race with that CPU switching away and freeing).
        // The space this CPU still runs has not been freed under it (its root table is not
        // back in the page allocator, which poisons freed pages under ASan).
        const uintptr_t root = sim::CurrentTranslation(cpu).root;
        LICHEN_ASSERT(root == 0 || !RootFreed(root),
                      "CPU {} runs a space whose root table was freed", cpu);
        running[cpu].Store(0, std::memory_order_seq_cst);
        vm::Activate(as);
        if (as != nullptr) {
          const sim::UserTranslation t = sim::CurrentTranslation(cpu);
          const uint64_t id = as->context_id().Load(std::memory_order_seq_cst);
          const uint32_t asid = vm::Asids().AsidOf(id);
          LICHEN_ASSERT(t.root == as->root_pa() && t.asid == asid,
                        "CPU {} runs space {} with ASID {}, its current ASID is {}", cpu, serial,
                        t.asid, asid);
          running[cpu].Store(uint64_t{serial} << 32 | asid, std::memory_order_seq_cst);
          for (uint32_t other = 0; other < ncpus; ++other) {
            const uint64_t o = running[other].Load(std::memory_order_seq_cst);
            LICHEN_ASSERT(
                other == cpu || o == 0 || (o >> 32) == serial || static_cast<uint32_t>(o) != asid,
                "ASID {} shared: space {} on CPU {}, space {} on CPU {}", asid, serial, cpu,
                o >> 32, other);
          }
          LockGuard<SpinLock> guard(ids_lock, irqs.token());
          auto [it, fresh] = ids.try_emplace(id, serial);
          LICHEN_ASSERT(fresh || it->second == serial,
                        "context id {:#x} given to spaces {} and {} (one generation)", id,
                        it->second, serial);
        }
      }
      if (as != nullptr && mine.Below(3) == 0) {
        // Touch and unmap a page of the space: the TLB flush goes to its current ASID.
        const uintptr_t page = kBase + cpu * kPageSize;
        LICHEN_ASSERT(MapAnon(*as, page, 1) == static_cast<int64_t>(page), "map");
        LICHEN_ASSERT(vm::HandleFault(*as, page, vm::Access::kWrite) == FaultResult::kOk, "touch");
        LICHEN_ASSERT(as->Unmap(page, kPageSize) == 0, "unmap");
      }
      if (as != nullptr) as->Put();  // the CPU's own reference (Activate's) keeps it alive
      sim::Compute(mine.Below(3 * kUs));
    }
    IrqGuard irqs;
    running[cpu].Store(0, std::memory_order_seq_cst);
    vm::Activate(nullptr);
  });
  for (Slot& s : slots)
    s.as->Put();
  const sim::MmuCounters totals = sim::MmuTotals();
  LICHEN_ASSERT(totals.stale_asid_uses == 0,
                "{} switches to an ASID with another space's TLB entries", totals.stale_asid_uses);
  LICHEN_ASSERT(vm::Asids().Rollovers() > 0, "no rollover happened");
}

class VmAsid : public ::testing::Test {
 protected:
  void SetUp() override { sim::SetAsidBits(kAsidBits); }
  void TearDown() override { sim::SetAsidBits(16); }
};

TEST_F(VmAsid, RolloverWithMoreSpacesThanAsidsOnFourCpusNeverSharesAnAsid) {
  RunSeeds("vm-asid-rollover", 30, {2, 4}, AsidRollover);
}

// Rollover without the reserved ASIDs: a CPU keeps running a space with an ASID that is
// given to another space.
TEST_F(VmAsid, RolloverThatForgetsActiveAsidsIsCaught) {
  test::FaultScope fault(&Faults::vm_asid_rollover_forgets_active);
  test::ExpectCaughtWithin(40, {{sim::Failure::kPanic, "ASID"}}, [](uint64_t seed) {
    return RunSim(4, seed, [seed] {
      Rng rng(seed);
      AsidRollover(rng, 4);
    });
  });
}

// A CPU that runs a space without holding a reference: the space's last Put frees its tables
// while the CPU still has them as its translation.
TEST_F(VmAsid, ActivateWithoutAReferenceIsCaughtRunningAFreedSpace) {
  test::FaultScope fault(&Faults::vm_activate_takes_no_reference);
  test::ExpectCaughtWithin(40,
                           {{sim::Failure::kPanic, "root table was freed"},
                            {sim::Failure::kPanic, "lies in a free block"},
                            {sim::Failure::kPanic, "not a live page table"}},
                           [](uint64_t seed) {
                             return RunSim(4, seed, [seed] {
                               Rng rng(seed);
                               AsidRollover(rng, 4);
                             });
                           });
}

// Rollover without the flush-pending marks: a CPU reuses an ASID with another space's TLB
// entries still in its TLB, which the simulator's TLB model counts.
TEST_F(VmAsid, RolloverThatSkipsTheLocalFlushIsCaughtByTheTlbModel) {
  test::FaultScope fault(&Faults::vm_asid_rollover_skips_flush);
  test::ExpectCaughtWithin(40, {{sim::Failure::kPanic, "another space's TLB entries"}},
                           [](uint64_t seed) {
                             return RunSim(4, seed, [seed] {
                               Rng rng(seed);
                               AsidRollover(rng, 4);
                             });
                           });
}

}  // namespace
}  // namespace lichen

// ASIDs: which address space a TLB entry belongs to, so that switching spaces needs no TLB
// flush. There are few of them (2^8 or 2^16), so they are handed out in generations, with
// Linux arm64's algorithm (arch/arm64/mm/context.c):
//
//   - A space's context id is generation | asid (asid in the low bits, generation above);
//     it is current when its generation is the allocator's.
//   - Each CPU publishes the context id it runs (active) in an atomic. Switching to a space
//     whose id is current is a compare-exchange of that atomic and nothing else: no lock.
//   - Otherwise, under the allocator's lock, the space gets a new id: its old ASID again if
//     that is still free (or was reserved for it, below) in the new generation, else the next
//     free one in the bitmap.
//   - When the bitmap is full: rollover. The generation advances, the bitmap is cleared, and
//     each CPU's active ASID (or, if it is between spaces, the one it last reserved) is kept
//     as reserved and set in the new bitmap: spaces running now keep their ASID, so the CPUs
//     running them need not stop. Every CPU is marked flush-pending: its TLB may hold entries
//     of ASIDs that are now free to be given to other spaces, so before it next takes the
//     slow path it flushes its whole TLB (TlbFlushAllLocal). A CPU that keeps running a
//     reserved ASID keeps only entries of the space that owns it.
//
// So two live spaces never share an ASID within a generation, and no CPU uses an ASID with
// entries from an earlier owner. ASIDs are not freed when a space dies: its number stays
// taken until the next rollover, which flushes every TLB before it can be given out again.
//
// ASID 0 is never given out. A CPU that switches to a kernel thread (no user space, root 0)
// keeps its last context id active, as Linux's lazy TLB mode does: its TLB may still hold
// that ASID's entries, so the ASID must stay reserved across a rollover until the CPU takes
// the slow path (and flushes) again. A space that dies meanwhile keeps its ASID out of use
// until then, which costs one ASID per CPU at most and is never a stale reuse.
#pragma once

#include <cstdint>

#include "kernel/base/percpu.h"
#include "kernel/lock/spinlock.h"
#include "lib/atomic.h"
#include "lib/thread_annotations.h"

namespace lichen::vm {

class AddressSpace;

// The allocator, a class so that tests can make one with a handful of ASIDs.
class AsidAllocator {
 public:
  // Up to 16 bits (65536 ASIDs, 8 KiB of bitmap); `bits` >= 2.
  static constexpr uint32_t kMaxBits = 16;

  explicit AsidAllocator(uint32_t bits);
  AsidAllocator(const AsidAllocator&) = delete;
  AsidAllocator& operator=(const AsidAllocator&) = delete;

  // The ASID this CPU must run `context_id` (a space's context id, updated in place) with,
  // allocating or renewing it; flushes this CPU's TLB first when a rollover asked for it.
  // Called with IRQs masked, on the CPU that is about to run the space.
  uint32_t Acquire(Atomic<uint64_t>& context_id) TA_REQ(g_irqs_off);

  uint32_t bits() const { return bits_; }
  // Usable ASIDs: 2^bits - 1 (0 is never given out).
  uint32_t Capacity() const { return (uint32_t{1} << bits_) - 1; }
  // The generation now (counts rollovers; starts at 1).
  uint64_t Generation() const;
  // Rollovers so far.
  uint64_t Rollovers() const;

  // The ASID of a context id, and its generation.
  uint32_t AsidOf(uint64_t context_id) const {
    return static_cast<uint32_t>(context_id & ((uint64_t{1} << bits_) - 1));
  }
  uint64_t GenerationOf(uint64_t context_id) const { return context_id >> bits_; }

 private:
  uint64_t NewContext(uint64_t old_id) TA_REQ(lock_);
  void Rollover() TA_REQ(lock_);
  bool UpdateReserved(uint64_t old_id, uint64_t new_id) TA_REQ(lock_);
  bool TestAndSet(uint32_t asid) TA_REQ(lock_);

  const uint32_t bits_;
  SpinLock lock_;
  // generation << bits_; read without the lock by the fast path.
  Atomic<uint64_t> generation_{0};
  Atomic<uint64_t> rollovers_{0};
  uint64_t map_[(uint32_t{1} << kMaxBits) / 64] TA_GUARDED(lock_) = {};
  uint32_t next_ TA_GUARDED(lock_) = 1;
  // Per CPU: the context id it runs (0: none, or cleared by a rollover), written by its CPU
  // and by a rollover's exchange; the id it keeps across a rollover (under lock_); whether
  // it must flush its TLB before its next slow-path switch (under lock_).
  PerCpuArray<Atomic<uint64_t>> active_;
  PerCpuArray<uint64_t> reserved_ TA_GUARDED(lock_);
  PerCpuArray<bool> flush_pending_ TA_GUARDED(lock_);
};

// The kernel's allocator, sized by platform::AsidBits() on first use.
AsidAllocator& Asids();

// Makes `as` the user address space of this CPU (IRQs masked), or none (nullptr: kernel
// threads; root 0): takes an ASID, sets the platform's user translation, and moves this
// CPU's reference from the space it ran before to `as` (a space is freed only once no CPU
// has it active; see AddressSpace). Switching to the space already active is cheap.
void Activate(AddressSpace* as) TA_REQ(g_irqs_off);

// The space this CPU has active (nullptr: none). IRQs masked.
AddressSpace* ActiveSpace() TA_REQ(g_irqs_off);

}  // namespace lichen::vm

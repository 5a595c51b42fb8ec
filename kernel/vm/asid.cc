#include "kernel/vm/asid.h"

#include <new>

#include "kernel/base/debug.h"
#include "kernel/base/platform_mmu.h"
#include "kernel/vm/address_space.h"
#include "lib/assert.h"
#include "lib/sim_reset.h"

namespace lichen::vm {

namespace {
LockClass g_asid_class("vm.asid", LockRank::kAsid);
}  // namespace

AsidAllocator::AsidAllocator(uint32_t bits) : bits_(bits), lock_(g_asid_class) {
  LICHEN_ASSERT(bits >= 2 && bits <= kMaxBits, "AsidAllocator: {} bits", bits);
  generation_.Store(uint64_t{1} << bits_, std::memory_order_relaxed);
  map_[0] = 1;  // ASID 0 is never given out
}

uint64_t AsidAllocator::Generation() const {
  return generation_.Load(std::memory_order_relaxed) >> bits_;
}

uint64_t AsidAllocator::Rollovers() const {
  return rollovers_.Load(std::memory_order_relaxed);
}

bool AsidAllocator::TestAndSet(uint32_t asid) {
  uint64_t& word = map_[asid / 64];
  const uint64_t bit = uint64_t{1} << (asid % 64);
  const bool was = (word & bit) != 0;
  word |= bit;
  return was;
}

bool AsidAllocator::UpdateReserved(uint64_t old_id, uint64_t new_id) {
  // Every CPU that reserved this id must see the new one: the space may run on several.
  bool hit = false;
  for (uint32_t cpu = 0; cpu < platform::CpuCount(); ++cpu) {
    if (reserved_[cpu] == old_id) {
      hit = true;
      reserved_[cpu] = new_id;
    }
  }
  return hit;
}

void AsidAllocator::Rollover() {
  const uint32_t words = ((uint32_t{1} << bits_) + 63) / 64;
  for (uint32_t i = 0; i < words; ++i)
    map_[i] = 0;
  map_[0] = 1;
  for (uint32_t cpu = 0; cpu < platform::CpuCount(); ++cpu) {
    // The exchange makes the CPU's next switch take the slow path (its compare-exchange
    // fails), where it flushes; until then it runs on, with the ASID kept here.
    uint64_t id = active_[cpu].Exchange(0, std::memory_order_seq_cst);
    // 0: the CPU has not switched since the last rollover; what it runs is what it reserved.
    if (id == 0) id = reserved_[cpu];
    if (LICHEN_FAULT(vm_asid_rollover_forgets_active)) id = 0;
    TestAndSet(AsidOf(id));
    reserved_[cpu] = id;
    flush_pending_[cpu] = !LICHEN_FAULT(vm_asid_rollover_skips_flush);
  }
  rollovers_.FetchAdd(1, std::memory_order_relaxed);
}

uint64_t AsidAllocator::NewContext(uint64_t old_id) {
  uint64_t generation = generation_.Load(std::memory_order_relaxed);
  const uint32_t capacity = uint32_t{1} << bits_;
  if (old_id != 0) {
    const uint64_t renewed = generation | AsidOf(old_id);
    // Running somewhere across the rollover: it keeps its ASID (reserved for it).
    if (UpdateReserved(old_id, renewed)) return renewed;
    // Its old ASID is still free in this generation: take it back, no TLB of another space
    // can hold entries under it since the rollover's flushes.
    if (!TestAndSet(AsidOf(old_id))) return renewed;
  }
  uint32_t asid = capacity;
  for (uint32_t a = next_; a < capacity; ++a) {
    if ((map_[a / 64] & (uint64_t{1} << (a % 64))) == 0) {
      asid = a;
      break;
    }
  }
  if (asid == capacity) {
    generation = generation_.FetchAdd(uint64_t{1} << bits_, std::memory_order_seq_cst) +
                 (uint64_t{1} << bits_);
    Rollover();
    for (uint32_t a = 1; a < capacity; ++a) {
      if ((map_[a / 64] & (uint64_t{1} << (a % 64))) == 0) {
        asid = a;
        break;
      }
    }
    // Reserved ASIDs are at most one per CPU; the allocator has more ASIDs than CPUs.
    LICHEN_ASSERT(asid != capacity, "ASID rollover left no free ASID ({} bits)", bits_);
  }
  TestAndSet(asid);
  next_ = asid;
  return generation | asid;
}

uint32_t AsidAllocator::Acquire(Atomic<uint64_t>& context_id) {
  const uint32_t cpu = platform::ThisCpu();
  uint64_t id = context_id.Load(std::memory_order_seq_cst);
  uint64_t active = active_[cpu].Load(std::memory_order_seq_cst);
  // Fast path: the space's id is of this generation, and no rollover has cleared this CPU's
  // active id since (a rollover exchanges it for 0, and the compare-exchange then fails).
  if (active != 0 && (id >> bits_) == (generation_.Load(std::memory_order_seq_cst) >> bits_) &&
      active_[cpu].CompareExchange(active, id, std::memory_order_seq_cst,
                                   std::memory_order_seq_cst)) {
    return AsidOf(id);
  }
  LockGuard<SpinLock> guard(lock_, AssumeIrqsOff());
  id = context_id.Load(std::memory_order_seq_cst);
  if ((id >> bits_) != (generation_.Load(std::memory_order_seq_cst) >> bits_)) {
    id = NewContext(id);
    context_id.Store(id, std::memory_order_seq_cst);
  }
  if (flush_pending_[cpu]) {
    flush_pending_[cpu] = false;
    platform::TlbFlushAllLocal();
  }
  active_[cpu].Store(id, std::memory_order_seq_cst);
  return AsidOf(id);
}

namespace {

// The kernel's allocator, constructed on first use (AsidBits is known only once the platform
// is up), in static storage: no global constructor, no heap.
alignas(AsidAllocator) unsigned char g_asids_storage[sizeof(AsidAllocator)];
Atomic<AsidAllocator*> g_asids{nullptr};
SpinLock g_asids_init_lock(g_asid_class);

// Per CPU: the space it has active, holding one reference. Only its CPU touches its entry,
// with IRQs masked.
PerCpuArray<AddressSpace*> g_active;

#if defined(LICHEN_HOST)
// Each simulated boot reads AsidBits again and starts with no space active anywhere (the
// spaces of the previous boot died with its memory).
void ResetAsids() {
  g_asids.Store(nullptr, std::memory_order_relaxed);
  for (uint32_t cpu = 0; cpu < PerCpuArray<AddressSpace*>::Size(); ++cpu)
    g_active[cpu] = nullptr;
}
const ResetRegistrar g_reset_asids("vm.asid", ResetStage::kAny, &ResetAsids);
#endif

}  // namespace

AsidAllocator& Asids() {
  AsidAllocator* a = g_asids.Load(std::memory_order_acquire);
  if (a != nullptr) return *a;
  LockGuard<SpinLock> guard(g_asids_init_lock);
  a = g_asids.Load(std::memory_order_relaxed);
  if (a == nullptr) {
    a = new (g_asids_storage) AsidAllocator(platform::AsidBits());
    g_asids.Store(a, std::memory_order_release);
  }
  return *a;
}

void Activate(AddressSpace* as) {
  const uint32_t cpu = platform::ThisCpu();
  AddressSpace* prev = g_active[cpu];
  const bool counted = !LICHEN_FAULT(vm_activate_takes_no_reference);
  if (as != nullptr) {
    if (as != prev && counted) as->Get();
    const uint32_t asid = Asids().Acquire(as->context_id());
    platform::SetUserTranslation(as->root_pa(), asid);
  } else {
    platform::SetUserTranslation(0, 0);
  }
  g_active[cpu] = as;
  // After the switch: this CPU no longer walks prev's tables. The last reference may go here
  // (the process was reaped while this CPU still had its space active).
  if (prev != nullptr && prev != as && counted) prev->Put();
}

AddressSpace* ActiveSpace() {
  return g_active[platform::ThisCpu()];
}

}  // namespace lichen::vm

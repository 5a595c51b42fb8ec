// One registry of the core's resets between simulations, instead of a hand-kept list.
//
// The simulator boots many kernels in one process, so every part of the core that keeps
// globals (per-CPU state, the scheduler, the task registry, lockdep, the trace rings, memory)
// must put them back to their boot state before each boot. Each part registers, next to those
// globals, the function that does it:
//
//   #if defined(LICHEN_HOST)
//   void ResetRings() { ... }
//   const ResetRegistrar g_reset_rings("trace", ResetStage::kAny, &ResetRings);
//   #endif
//
// and the simulator calls ResetAllForSimulation() once, before each boot. A part that is not
// linked into a program has no globals there to reset, and no registrar either; a new part
// cannot be forgotten in a list somewhere else.
//
// Order. Registrars are built during static initialisation, whose order across translation
// units C++ leaves unspecified (in practice it follows the link order). So the list does not
// keep that order: each registrar is inserted in its place by (stage, name), and the resets
// run in that order, the same in every build and every link. kLast is for memory, whose reset
// must come after every part whose objects live in the memory it hands out; every other part
// is kAny (their resets touch only their own globals). Names are unique (checked).
//
// Host only: on the machine the kernel boots once, and nothing here is compiled in.
#pragma once

#include <cstdint>

#if defined(LICHEN_HOST)

namespace lichen {

enum class ResetStage : uint8_t {
  kAny = 0,   // touches only its own part's globals
  kLast = 1,  // memory: after everything that lives in it
};

class ResetList;

// One part's reset, linked into a list (by default the process's) when constructed.
class ResetRegistrar {
 public:
  using Fn = void (*)();

  ResetRegistrar(const char* name, ResetStage stage, Fn reset);
  ResetRegistrar(const char* name, ResetStage stage, Fn reset, ResetList& list);
  ResetRegistrar(const ResetRegistrar&) = delete;
  ResetRegistrar& operator=(const ResetRegistrar&) = delete;

  const char* name() const { return name_; }
  ResetStage stage() const { return stage_; }
  const ResetRegistrar* next() const { return next_; }

 private:
  friend class ResetList;

  const char* name_;
  ResetStage stage_;
  Fn reset_;
  ResetRegistrar* next_ = nullptr;
};

// Registrars sorted by (stage, name). Constant-initialised, so that registrars built during
// static initialisation find it ready whatever their order.
class ResetList {
 public:
  constexpr ResetList() = default;
  ResetList(const ResetList&) = delete;
  ResetList& operator=(const ResetList&) = delete;

  // Links `registrar` in at its place; panics on a name already in the list.
  void Insert(ResetRegistrar& registrar);
  // Calls every registered reset, in list order.
  void RunAll() const;
  const ResetRegistrar* first() const { return head_; }

 private:
  ResetRegistrar* head_ = nullptr;
};

// The process's list: every registrar that names no list.
ResetList& SimulationResets();

// Puts every global of the core back to its boot state (the simulator, before each boot;
// no CPU may be running kernel code).
void ResetAllForSimulation();

}  // namespace lichen

#endif  // LICHEN_HOST

// NoDestroy<T>: a T with static storage duration whose destructor never runs.
//
// Kernel-wide objects (the task registry, per-CPU state) live as long as the machine, and
// their destructors check that they are empty. On the host, where the simulator boots many
// kernels in one process and abandons the last one's state, such checks would fire at
// process exit for state that is simply never torn down. NoDestroy constructs the object in
// place and never destroys it; Reset() rebuilds it from scratch (the simulator, between runs).
#pragma once

#include <new>
#include <utility>

namespace lichen {

template <typename T>
class NoDestroy {
 public:
  template <typename... Args>
  explicit NoDestroy(Args&&... args) {
    new (storage_) T(std::forward<Args>(args)...);
  }
  NoDestroy(const NoDestroy&) = delete;
  NoDestroy& operator=(const NoDestroy&) = delete;
  ~NoDestroy() = default;  // deliberately leaves the T alone

  T& get() { return *std::launder(reinterpret_cast<T*>(storage_)); }
  const T& get() const { return *std::launder(reinterpret_cast<const T*>(storage_)); }
  T* operator->() { return &get(); }
  T& operator*() { return get(); }

  // Abandons the current T (without destroying it: it may hold links to freed memory) and
  // constructs a fresh one.
  template <typename... Args>
  void Reset(Args&&... args) {
    new (storage_) T(std::forward<Args>(args)...);
  }

 private:
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace lichen

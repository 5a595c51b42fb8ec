// Helpers shared by the real-thread stress tests.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace lichen::test {

// Starts every thread of a group at the same moment (so they really contend), then joins them.
// A plain std::atomic is right here: this is test scaffolding, not lib/ code, and the
// simulator's interleaving hook has no business in real threads.
class StartingGate {
 public:
  // Blocks the calling thread until Open().
  void Wait() const {
    while (!open_.load(std::memory_order_acquire))
      std::this_thread::yield();
  }
  void Open() { open_.store(true, std::memory_order_release); }

 private:
  std::atomic<bool> open_{false};
};

}  // namespace lichen::test

// The C++ case: the standard library's threads, mutexes, condition variables, futures and
// thread_local objects, built with the stock g++ as a static program.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "usertest.h"

namespace {

std::atomic<int> constructed{0};
std::atomic<int> destroyed{0};

// A thread_local with a constructor and a destructor: the destructor runs at thread exit
// (__cxa_thread_atexit), once per thread that used it.
struct PerThread {
  PerThread() : id(constructed.fetch_add(1) + 1) {}
  ~PerThread() { destroyed.fetch_add(1); }
  int id;
};
thread_local PerThread per_thread;

bool MutexCounter() {
  std::mutex m;
  long counter = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; i++) {
    threads.emplace_back([&] {
      for (int k = 0; k < 500; k++) {
        std::lock_guard<std::mutex> guard(m);
        counter++;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return UT_EXPECT(counter == 32 * 500, "counter %ld", counter);
}

bool ProducerConsumer() {
  std::mutex m;
  std::condition_variable not_empty, not_full;
  std::deque<int> queue;
  constexpr int kItems = 2000, kProducers = 2, kConsumers = 2, kCapacity = 8;
  long sum = 0;
  int consumed = 0;
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; p++) {
    threads.emplace_back([&, p] {
      for (int i = p; i < kItems; i += kProducers) {
        std::unique_lock<std::mutex> lock(m);
        not_full.wait(lock, [&] { return queue.size() < kCapacity; });
        queue.push_back(i);
        not_empty.notify_one();
      }
    });
  }
  for (int c = 0; c < kConsumers; c++) {
    threads.emplace_back([&] {
      for (;;) {
        std::unique_lock<std::mutex> lock(m);
        not_empty.wait(lock, [&] { return !queue.empty() || consumed == kItems; });
        if (queue.empty()) return;
        sum += queue.front();
        queue.pop_front();
        if (++consumed == kItems) not_empty.notify_all();
        not_full.notify_one();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return UT_EXPECT(consumed == kItems && sum == (long)kItems * (kItems - 1) / 2,
                   "consumed %d sum %ld", consumed, sum);
}

bool FuturesAndExceptions() {
  auto square = std::async(
      std::launch::async, [](int x) { return x * x; }, 12);
  if (!UT_EXPECT(square.get() == 144)) return false;
  // An exception thrown in one thread and rethrown in another: unwinding in a static binary.
  std::promise<int> promise;
  std::future<int> future = promise.get_future();
  std::thread thrower([&] {
    try {
      throw std::runtime_error("from a thread");
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  });
  bool caught = false;
  try {
    future.get();
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "from a thread";
  }
  thrower.join();
  return UT_EXPECT(caught);
}

bool ThreadLocals() {
  int before_c = constructed.load(), before_d = destroyed.load();
  std::vector<std::thread> threads;
  std::atomic<int> distinct{0};
  for (int i = 0; i < 16; i++) {
    threads.emplace_back([&] {
      int id = per_thread.id;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (per_thread.id == id) distinct.fetch_add(1);
    });
  }
  for (auto& t : threads)
    t.join();
  return UT_EXPECT(distinct.load() == 16) &&
         UT_EXPECT(constructed.load() - before_c == 16, "constructed %d",
                   constructed.load() - before_c) &&
         UT_EXPECT(destroyed.load() - before_d == 16, "destroyed %d", destroyed.load() - before_d);
}

bool SleepFor() {
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  return UT_EXPECT(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(3));
}

}  // namespace

extern "C" int case_cxx_threads(void) {
  if (!MutexCounter()) return 1;
  if (!ProducerConsumer()) return 1;
  if (!FuturesAndExceptions()) return 1;
  if (!ThreadLocals()) return 1;
  if (!SleepFor()) return 1;
  return 0;
}

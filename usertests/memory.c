// Cases about memory: first touches from many CPUs, mmap/munmap/mprotect/madvise/brk
// semantics, churn under threads, and faults racing munmap.
//
// Access is probed through the kernel, which answers EFAULT instead of killing the process:
// a read probe is FUTEX_WAIT with an expired timeout (the kernel reads the word: EAGAIN or
// ETIMEDOUT if readable), a write probe is getcpu() storing its answer there.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "usertest.h"

enum { kPage = 4096 };

static bool probe_read(const void* p) {
  struct timespec zero = {0, 0};
  long r = ut_futex((volatile uint32_t*)p, FUTEX_WAIT_PRIVATE, 0x5a5a5a5a, &zero, NULL, 0);
  int e = errno;
  UT_EXPECT(r == -1 && (e == EAGAIN || e == ETIMEDOUT || e == EFAULT), "read probe: %ld errno %d",
            r, e);
  return e != EFAULT;
}

static bool probe_write(void* p) {
  long r = syscall(SYS_getcpu, (unsigned*)p, NULL, NULL);
  UT_EXPECT(r == 0 || errno == EFAULT, "write probe: %ld errno %d", r, errno);
  return r == 0;
}

static void* map_anon(size_t len) {
  return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

// --- first_touch: many threads fault the same fresh pages at once --------------------------
// The seed's AlreadyMapped bug: two CPUs faulting one page, the second fault failed.

enum { kTouchThreads = 8, kTouchPages = 128, kTouchRounds = 3 };
static char* touch_area;
static ut_barrier touch_barrier;

static void* touch_thread(void* p) {
  int t = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(ut_cpu(t)));
  for (int round = 0; round < kTouchRounds; round++) {
    ut_barrier_wait(&touch_barrier);  // the main thread has mapped a fresh area
    char* area = touch_area;
    for (int k = 0; k < kTouchPages; k++) {
      int page = (k + t * 37) % kTouchPages;
      volatile uint64_t* slot = (volatile uint64_t*)(area + (size_t)page * kPage) + t;
      // Odd threads read first (a read fault, then a write fault on the same page).
      if (t & 1) UT_TCHECK(*slot == 0, "page %d slot %d not zero", page, t);
      *slot = (uint64_t)page * 16 + (uint64_t)t + 1;
    }
    ut_barrier_wait(&touch_barrier);  // every thread is done with the area
  }
  return NULL;
}

int case_first_touch(void) {
  ut_barrier_init(&touch_barrier, kTouchThreads + 1);
  pthread_t t[kTouchThreads];
  for (int i = 0; i < kTouchThreads; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, touch_thread, (void*)(intptr_t)i) == 0);
  }
  for (int round = 0; round < kTouchRounds; round++) {
    touch_area = map_anon((size_t)kTouchPages * kPage);
    UT_CHECK(touch_area != MAP_FAILED);
    ut_barrier_wait(&touch_barrier);
    ut_barrier_wait(&touch_barrier);
    for (int page = 0; page < kTouchPages; page++) {
      const uint64_t* w = (const uint64_t*)(touch_area + (size_t)page * kPage);
      for (int s = 0; s < kPage / 8; s++) {
        uint64_t want = s < kTouchThreads ? (uint64_t)page * 16 + (uint64_t)s + 1 : 0;
        UT_CHECK(w[s] == want, "round %d page %d word %d: %#llx", round, page, s,
                 (unsigned long long)w[s]);
      }
    }
    UT_CHECK(munmap(touch_area, (size_t)kTouchPages * kPage) == 0);
  }
  for (int i = 0; i < kTouchThreads; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  return 0;
}

// --- mmap_semantics: what mmap, munmap, mprotect, madvise and brk promise -------------------

int case_mmap_semantics(void) {
  // Fresh anonymous memory is page-aligned, zero and writable.
  char* a = map_anon(4 * kPage);
  UT_CHECK(a != MAP_FAILED && ((uintptr_t)a & (kPage - 1)) == 0);
  for (int i = 0; i < 4 * kPage; i++)
    UT_CHECK(a[i] == 0, "byte %d", i);
  memset(a, 0x11, 4 * kPage);

  // Malformed calls, as the kernel answers them (musl's mprotect rounds the address down).
  UT_CHECK_ERR(syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
  UT_CHECK_ERR(
      syscall(SYS_mmap, a + 1, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
      EINVAL);
  UT_CHECK_ERR(syscall(SYS_mmap, NULL, kPage, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
  UT_CHECK_ERR(syscall(SYS_munmap, a + 1, kPage), EINVAL);
  UT_CHECK_ERR(syscall(SYS_munmap, a, 0), EINVAL);
  UT_CHECK_ERR(syscall(SYS_mprotect, a + 1, kPage, PROT_READ), EINVAL);

  // MAP_FIXED replaces what was there with zero pages; NOREPLACE refuses to.
  char* b = mmap(a + kPage, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0);
  UT_CHECK(b == a + kPage);
  UT_CHECK(b[0] == 0 && b[kPage - 1] == 0 && a[kPage - 1] == 0x11 && a[2 * kPage] == 0x11);
  // qemu-user 7.2 does not know MAP_FIXED_NOREPLACE: it maps somewhere else, and its own
  // page bookkeeping goes wrong after that. Linux has had the flag since 4.17.
  const int noreplace = ut_qemu_user ? MAP_FIXED : MAP_FIXED_NOREPLACE;
  if (!ut_qemu_user) {
    UT_CHECK_ERR(mmap(a, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | noreplace, -1, 0), EEXIST);
  }

  // mprotect: read-only refuses writes, PROT_NONE refuses reads, contents survive.
  UT_CHECK(mprotect(a, 2 * kPage, PROT_READ) == 0);
  UT_CHECK(probe_read(a) && !probe_write(a) && !probe_write(a + kPage));
  UT_CHECK(probe_write(a + 2 * kPage));
  UT_CHECK(mprotect(a, kPage, PROT_NONE) == 0);
  UT_CHECK(!probe_read(a) && probe_read(a + kPage));
  UT_CHECK(mprotect(a, 2 * kPage, PROT_READ | PROT_WRITE) == 0);
  UT_CHECK(a[0] == 0x11 && a[kPage - 1] == 0x11);

  // munmap punches a hole; unmapping a hole again is fine; mprotect over it is ENOMEM.
  UT_CHECK(munmap(a + kPage, kPage) == 0);
  UT_CHECK(!probe_read(a + kPage) && probe_read(a) && probe_read(a + 2 * kPage));
  UT_CHECK(munmap(a + kPage, kPage) == 0);
  UT_CHECK_ERR(mprotect(a, 3 * kPage, PROT_READ), ENOMEM);
  // Linux has changed the pages before the hole by then (POSIX leaves it open): undo that.
  UT_CHECK(mprotect(a, kPage, PROT_READ | PROT_WRITE) == 0);
  // NOREPLACE into the hole lands exactly there.
  char* c = mmap(a + kPage, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | noreplace,
                 -1, 0);
  UT_CHECK(c == a + kPage, "got %p for %p", (void*)c, (void*)(a + kPage));
  UT_CHECK(c[0] == 0);

  // madvise(DONTNEED) on private anonymous memory: the next read sees zeros.
  memset(a, 0x22, 4 * kPage);
  UT_CHECK(madvise(a + kPage, 2 * kPage, MADV_DONTNEED) == 0);
  UT_CHECK(a[0] == 0x22 && a[kPage] == 0 && a[3 * kPage - 1] == 0 && a[3 * kPage] == 0x22);
  UT_CHECK(munmap(a, 4 * kPage) == 0);
  UT_CHECK(!probe_read(a) && !probe_read(a + 3 * kPage));

  // A large mapping costs nothing until touched.
  size_t big = 64u << 20;
  char* d = map_anon(big);
  UT_CHECK(d != MAP_FAILED);
  for (size_t off = 0; off < big; off += big / 16)
    d[off] = 1;
  UT_CHECK(d[big / 2] == 1 && d[big - 1] == 0);
  UT_CHECK(munmap(d, big) == 0);

  // brk: grows with zeroed, writable memory, and shrinks back.
  uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
  UT_CHECK(cur != 0);
  uintptr_t want = cur + 16 * kPage;
  UT_CHECK((uintptr_t)syscall(SYS_brk, want) == want);
  volatile char* heap = (volatile char*)cur;
  for (int i = 0; i < 16 * kPage; i += 512) {
    UT_CHECK(heap[i] == 0, "brk byte %d", i);
    heap[i] = 1;
  }
  UT_CHECK((uintptr_t)syscall(SYS_brk, cur) == cur);
  return 0;
}

// --- mmap_churn: map, protect, punch and unmap in four threads at once ---------------------

enum { kChurnThreads = 4, kChurnIterations = 60 };

static void* churn_thread(void* p) {
  int t = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(ut_cpu(t)));
  uint64_t rng = 0x1234 + (uint64_t)t;
  for (int it = 0; it < kChurnIterations && !ut_failed(); it++) {
    int n = 1 + (int)(ut_rand(&rng) % 16);
    size_t len = (size_t)n * kPage;
    char* m = map_anon(len);
    UT_TCHECK(m != MAP_FAILED);
    for (int i = 0; i < n; i++) {
      uint64_t* w = (uint64_t*)(m + (size_t)i * kPage);
      UT_TCHECK(w[0] == 0 && w[kPage / 8 - 1] == 0, "thread %d iteration %d: fresh page %d dirty",
                t, it, i);
      w[0] = (uint64_t)t << 32 | (uint64_t)it << 8 | (uint64_t)i;
    }
    UT_TCHECK(mprotect(m, kPage, PROT_READ) == 0);
    UT_TCHECK(!probe_write(m) && probe_read(m));
    UT_TCHECK(*(uint64_t*)m == ((uint64_t)t << 32 | (uint64_t)it << 8));
    UT_TCHECK(mprotect(m, kPage, PROT_READ | PROT_WRITE) == 0);
    UT_TCHECK(probe_write(m));
    // Only this thread's own mappings are probed: a page it unmaps may be another thread's
    // fresh mapping a moment later.
    if (n >= 3) {
      UT_TCHECK(munmap(m + kPage, kPage) == 0);
      UT_TCHECK(probe_read(m + 2 * kPage));
    }
    if (it % 16 == 0 && n >= 2) {
      UT_TCHECK(madvise(m + (size_t)(n - 1) * kPage, kPage, MADV_DONTNEED) == 0);
      UT_TCHECK(*(uint64_t*)(m + (size_t)(n - 1) * kPage) == 0);
    }
    for (int i = 2; i < n; i++) {
      uint64_t* w = (uint64_t*)(m + (size_t)i * kPage);
      if (i == n - 1 && it % 16 == 0) continue;
      UT_TCHECK(w[0] == ((uint64_t)t << 32 | (uint64_t)it << 8 | (uint64_t)i));
    }
    // Around the hole, which may hold another thread's mapping by now.
    if (n >= 3) {
      UT_TCHECK(munmap(m, kPage) == 0 && munmap(m + 2 * kPage, len - 2 * kPage) == 0);
    } else {
      UT_TCHECK(munmap(m, len) == 0);
    }
  }
  return NULL;
}

int case_mmap_churn(void) {
  pthread_t t[kChurnThreads];
  for (int i = 0; i < kChurnThreads; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, churn_thread, (void*)(intptr_t)i) == 0);
  }
  for (int i = 0; i < kChurnThreads; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  return 0;
}

// --- munmap_race: faults racing munmap never leave a stale mapping -------------------------
// One thread maps, checks, stamps and unmaps the same four pages over and over; the others
// make the kernel read those pages all the while (faulting them in when mapped). A fault
// that raced munmap and left its page mapped would show up in the next fresh mapping as the
// previous generation's stamp instead of zero.

enum { kRacePages = 4, kRaceGenerations = 300, kRaceProbers = 2 };
static char* race_area;
static volatile int race_stop;
static atomic_long race_hits, race_misses;
static ut_barrier race_start;

static void* race_prober(void* p) {
  int t = (int)(intptr_t)p;
  UT_TCHECK(ut_pin_self(ut_cpu(t + 1)));
  ut_barrier_wait(&race_start);  // race_area is chosen once every thread (and stack) exists
  long hits = 0, misses = 0;
  while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE) && !ut_failed()) {
    for (int i = 0; i < kRacePages; i++) {
      if (probe_read(race_area + (size_t)i * kPage + (size_t)t * 64)) {
        hits++;
      } else {
        misses++;
      }
    }
    if (t == 0 && ut_ncpus == 1) sched_yield();
  }
  atomic_fetch_add(&race_hits, hits);
  atomic_fetch_add(&race_misses, misses);
  return NULL;
}

int case_munmap_race(void) {
  const size_t len = kRacePages * kPage;
  race_stop = 0;
  atomic_store(&race_hits, 0);
  atomic_store(&race_misses, 0);
  ut_barrier_init(&race_start, kRaceProbers + 1);
  UT_CHECK(ut_pin_self(ut_cpu(0)));
  pthread_t t[kRaceProbers];
  for (int i = 0; i < kRaceProbers; i++) {
    UT_CHECK(pthread_create(&t[i], NULL, race_prober, (void*)(intptr_t)i) == 0);
  }
  // An address range nobody uses, found after the threads' stacks were mapped (musl maps a
  // fresh stack per thread: one could otherwise land in the range and be clobbered by
  // MAP_FIXED). Nothing maps memory from here on until the probers are joined.
  race_area = map_anon(len);
  UT_CHECK(race_area != MAP_FAILED);
  UT_CHECK(munmap(race_area, len) == 0);
  ut_barrier_wait(&race_start);
  int ok = 1;
  for (int g = 1; g <= kRaceGenerations && ok; g++) {
    char* m = mmap(race_area, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    ok = UT_EXPECT(m == race_area);
    for (int i = 0; i < kRacePages && ok; i++) {
      volatile uint64_t* w = (volatile uint64_t*)(m + (size_t)i * kPage);
      for (int s = 0; s < kRaceProbers + 1 && ok; s++) {
        ok = UT_EXPECT(w[s * 8] == 0, "generation %d page %d: %#llx left from before", g, i,
                       (unsigned long long)w[s * 8]);
      }
      w[0] = (uint64_t)g;
      w[kRaceProbers * 8] = (uint64_t)g;
    }
    if (ok) ok = UT_EXPECT(munmap(m, len) == 0);
    if (g % 64 == 0) sched_yield();
  }
  __atomic_store_n(&race_stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < kRaceProbers; i++)
    UT_CHECK(pthread_join(t[i], NULL) == 0);
  UT_CHECK(ut_unpin_self());
  ut_printf("# munmap_race: %ld reads of mapped pages, %ld of unmapped ones",
            atomic_load(&race_hits), atomic_load(&race_misses));
  return ok ? 0 : 1;
}

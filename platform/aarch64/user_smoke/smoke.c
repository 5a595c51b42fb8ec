// The platform's smoke test of user space (platform/aarch64/CMakeLists.txt, user-init-*): an
// unmodified static glibc program as process 1. The usertest suite (usertests/) is the real
// test of the kernel; this one checks the machine side alone: EL0 entry and return, syscalls,
// argv from the command line, a second thread (clone, futex, TPIDR_EL0) doing FP work on
// another CPU, and faults that end the process (not the kernel) with the right signal.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void* Worker(void* arg) {
  double* v = arg;
  *v = *v * 2.5;  // FP registers in a second thread
  return NULL;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "ok";
  printf("smoke: %s, argc %d\n", mode, argc);
  if (strcmp(mode, "segv") == 0) {
    *(volatile int*)16 = 1;  // unmapped: SIGSEGV, exit status 128 + 11
  } else if (strcmp(mode, "ill") == 0) {
    __asm__ volatile(".word 0");  // udf #0: SIGILL, exit status 128 + 4
  }
  // The virtual counter and its frequency, read directly as Linux lets EL0 do.
  unsigned long freq, c0, c1;
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(c0));
  for (volatile int i = 0; i < 100000; ++i) {
  }
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(c1));
  printf("smoke: counter %s\n", freq != 0 && c1 > c0 ? "ok" : "BROKEN");
  double v = 1.5 * argc;
  pthread_t t;
  if (pthread_create(&t, NULL, Worker, &v) != 0) {
    printf("smoke: pthread_create failed\n");
    return 1;
  }
  pthread_join(t, NULL);
  printf("smoke: thread result %.2f\n", v);
  return 7;
}

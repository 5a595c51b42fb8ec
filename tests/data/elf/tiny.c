// The smallest program the ELF tests read: no C library, one thread-local and one data word
// (so the image has a PT_TLS and a writable LOAD segment), and exit(49) by a raw syscall.
__thread int counter = 7;
int data_word = 42;

void _start(void) {
  register long x0 __asm__("x0") = counter + data_word;
  register long x8 __asm__("x8") = 93;  // exit
  __asm__ volatile("svc #0" : : "r"(x0), "r"(x8));
  for (;;) {
  }
}

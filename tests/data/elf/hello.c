// A real static glibc program, as usertest's will be built.
#include <stdio.h>

int main(void) {
  puts("hello from a static glibc program");
  return 0;
}

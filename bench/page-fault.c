/*
 * What a first touch of a memory page costs on this machine: maps 256 MiB of anonymous memory
 * three times, writes one byte per 4 KiB page, and prints the time per page; then the same with
 * madvise(MADV_HUGEPAGE) (transparent huge pages on request). docs/performance.md, session 29.
 *
 *   cc -O2 bench/page-fault.c -o /tmp/pf && /tmp/pf
 */
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

static double touch(int huge) {
  const size_t n = (size_t)256 << 20;
  char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  if (huge) madvise(p, n, MADV_HUGEPAGE);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  clock_gettime(CLOCK_MONOTONIC, &b);
  munmap(p, n);
  double us = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
  return us / (double)(n / 4096);
}

int main(void) {
  for (int huge = 0; huge <= 1; huge++)
    for (int r = 0; r < 3; r++)
      printf("%s: %.2f us per 4 KiB page\n", huge ? "MADV_HUGEPAGE" : "plain", touch(huge));
  return 0;
}

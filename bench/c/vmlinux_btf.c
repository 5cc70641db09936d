/* The C baseline of bench/btf.bench.ts: libbpf's btf__load_vmlinux_btf (read + parse of
 * /sys/kernel/btf/vmlinux) and btf__find_by_name_kind. It runs beside the bench so the two sides can
 * alternate rounds: each stdin line "load N" is answered with the best wall time of N loads (ms,
 * load + btf__free), "find NAME KIND N" with the time per lookup (µs) over N lookups of NAME of
 * BTF kind KIND (and the id found), one line each.
 * Usage: vmlinux_btf */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void best_load(int n) {
  double best = 1e18;
  for (int i = 0; i < n; i++) {
    double start = now_ms();
    struct btf *btf = btf__load_vmlinux_btf();
    double t = now_ms() - start;
    if (!btf) {
      printf("error\n");
      return;
    }
    btf__free(btf);
    if (t < best) best = t;
  }
  printf("%.4f\n", best);
}

static void time_find(struct btf *btf, const char *name, int kind, int n) {
  int id = 0;
  double start = now_ms();
  for (int i = 0; i < n; i++) id = btf__find_by_name_kind(btf, name, kind);
  printf("%.4f %d\n", (now_ms() - start) * 1e3 / n, id);
}

int main(void) {
  struct btf *btf = btf__load_vmlinux_btf();
  if (!btf) {
    printf("error\n");
    return 1;
  }
  char line[256], name[128];
  int n, kind;
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "load %d", &n) == 1) best_load(n);
    else if (sscanf(line, "find %127s %d %d", name, &kind, &n) == 3) time_find(btf, name, kind, n);
    else printf("error\n");
    fflush(stdout);
  }
  btf__free(btf);
  return 0;
}

/* C baseline of bench/load.bench.ts: libbpf's bpf_object__open_file + bpf_object__load +
 * bpf_object__close on one object, as a loader using libbpf does it.
 * Usage: load_object FILE PIN_ROOT. Loads the object once (printing "ok" or "error: ..."), then
 * answers each stdin line "ITERATIONS" with one line "CPU WALL": nanoseconds per open + load + close
 * of CPU time (user + system: the kernel's verifier included) and of elapsed time. The bench
 * alternates these rounds with its own. */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int silent(enum libbpf_print_level level, const char *fmt, va_list args) {
  (void)level, (void)fmt, (void)args;
  return 0;
}

static double now_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Opens, loads and closes the object; 0 or a negative errno. */
static int load_once(const char *file, const char *pin_root) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
  struct bpf_object *obj = bpf_object__open_file(file, &opts);
  long err = libbpf_get_error(obj);
  if (err) return (int)err;
  err = bpf_object__load(obj);
  bpf_object__close(obj);
  return (int)err;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE PIN_ROOT\n", argv[0]);
    return 2;
  }
  libbpf_set_print(silent);
  setvbuf(stdout, NULL, _IOLBF, 0);
  int err = load_once(argv[1], argv[2]);
  if (err) {
    char message[128];
    libbpf_strerror(err, message, sizeof(message));
    printf("error: %s\n", message);
    return 1;
  }
  printf("ok\n");
  long iterations;
  while (scanf("%ld", &iterations) == 1 && iterations > 0) {
    double cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID), wall = now_ns(CLOCK_MONOTONIC);
    for (long i = 0; i < iterations; i++) {
      if (load_once(argv[1], argv[2])) {
        printf("error: a later load failed\n");
        return 1;
      }
    }
    printf("%.0f %.0f\n", (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu) / iterations, (now_ns(CLOCK_MONOTONIC) - wall) / iterations);
  }
  return 0;
}

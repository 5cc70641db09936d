/* The C baseline of bench/inspect.bench.ts: libbpf's bpf_object__open_mem + bpf_object__close on
 * the bytes of each file given. It runs beside the bench so the two sides can alternate rounds:
 * first one JSON line per file, {"file": "...", "ok": true} or {"file": "...", "error": "..."};
 * then each stdin line "INDEX ITERS" is answered with one line, the CPU time (user + system, µs)
 * per open+close over ITERS opens of file INDEX (0-based, in argument order).
 * Usage: open_mem FILE... */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int silent(enum libbpf_print_level level, const char *fmt, va_list args) {
  (void)level, (void)fmt, (void)args;
  return 0;
}

/* CPU time of this process, as the TypeScript side measures its own (process.cpuUsage). */
static double cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  void *buf = malloc(n > 0 ? n : 1);
  if (buf && fread(buf, 1, n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE...\n", argv[0]);
    return 2;
  }
  libbpf_set_print(silent);
  int count = argc - 1;
  void **data = calloc(count, sizeof *data);
  size_t *size = calloc(count, sizeof *size);
  for (int f = 0; f < count; f++) {
    const char *path = argv[f + 1];
    data[f] = read_file(path, &size[f]);
    if (!data[f]) {
      printf("{\"file\": \"%s\", \"error\": \"cannot read: %s\"}\n", path, strerror(errno));
      continue;
    }
    struct bpf_object *probe = bpf_object__open_mem(data[f], size[f], NULL);
    long err = libbpf_get_error(probe);
    if (err) {
      char message[128];
      libbpf_strerror((int)err, message, sizeof(message));
      printf("{\"file\": \"%s\", \"error\": \"bpf_object__open_mem: %s\"}\n", path, message);
      free(data[f]);
      data[f] = NULL;
      continue;
    }
    bpf_object__close(probe);
    printf("{\"file\": \"%s\", \"ok\": true}\n", path);
  }
  fflush(stdout);
  int index, iters;
  while (scanf("%d %d", &index, &iters) == 2) {
    if (index < 0 || index >= count || !data[index] || iters <= 0) {
      printf("error\n");
    } else {
      double start = cpu_us();
      for (int i = 0; i < iters; i++) bpf_object__close(bpf_object__open_mem(data[index], size[index], NULL));
      printf("%.4f\n", (cpu_us() - start) / iters);
    }
    fflush(stdout);
  }
  for (int f = 0; f < count; f++) free(data[f]);
  free(data);
  free(size);
  return 0;
}

/* The C baseline of bench/inspect.bench.ts: libbpf's bpf_object__open_mem + bpf_object__close on
 * the bytes of each file given, timed the same way as the TypeScript side (batches of `iters`
 * calls, `samples` batches, median batch / iters). Prints one JSON line per file:
 *   {"file": "...", "us": <median µs per open+close> }  or  {"file": "...", "error": "..."}
 * Usage: open_mem ITERS SAMPLES FILE... */
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

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
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
  if (argc < 4) {
    fprintf(stderr, "usage: %s ITERS SAMPLES FILE...\n", argv[0]);
    return 2;
  }
  int iters = atoi(argv[1]), samples = atoi(argv[2]);
  libbpf_set_print(silent);
  double *batch = calloc(samples, sizeof(double));
  for (int f = 3; f < argc; f++) {
    size_t size;
    void *data = read_file(argv[f], &size);
    if (!data) {
      printf("{\"file\": \"%s\", \"error\": \"cannot read: %s\"}\n", argv[f], strerror(errno));
      continue;
    }
    struct bpf_object *probe = bpf_object__open_mem(data, size, NULL);
    long err = libbpf_get_error(probe);
    if (err) {
      char message[128];
      libbpf_strerror((int)err, message, sizeof(message));
      printf("{\"file\": \"%s\", \"error\": \"bpf_object__open_mem: %s\"}\n", argv[f], message);
      free(data);
      continue;
    }
    bpf_object__close(probe);
    for (int s = 0; s < samples; s++) {
      double start = now_us();
      for (int i = 0; i < iters; i++) bpf_object__close(bpf_object__open_mem(data, size, NULL));
      batch[s] = (now_us() - start) / iters;
    }
    qsort(batch, samples, sizeof(double), by_value);
    printf("{\"file\": \"%s\", \"us\": %.3f}\n", argv[f], batch[samples / 2]);
    fflush(stdout);
    free(data);
  }
  free(batch);
  return 0;
}

// C baseline for bench/map.bench.ts: raw bpf(2) loops on a hash map with 4-byte keys and 8-byte
// values, attrs sized and zeroed per call as libbpf does.
// Usage: map_ops ENTRIES BATCH_SIZE. Creates and fills the map, then answers each stdin line
// "OP ITERATIONS" (OP: lookup, update, getNextKey, batchLookup) with one line: CPU nanoseconds per
// operation (per element for batchLookup). The bench alternates these rounds with its own.
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ATTR_END(field) (offsetof(union bpf_attr, field) + sizeof(((union bpf_attr *)0)->field))
#define ELEM_SIZE ATTR_END(flags)
#define BATCH_ATTR_SIZE ATTR_END(batch.flags)

static int map_fd;
static uint32_t entries, batch_size;
static uint32_t *batch_keys;
static uint64_t *batch_values;

static long sys_bpf(int cmd, union bpf_attr *attr, size_t size) { return syscall(SYS_bpf, cmd, attr, size); }

// CPU time, not wall time: the machine is shared, and time spent waiting for a core is not the loop's.
static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static long elem_op(int cmd, uint32_t key, void *value, uint64_t flags) {
  union bpf_attr attr;
  memset(&attr, 0, ELEM_SIZE);
  attr.map_fd = map_fd;
  attr.key = (uintptr_t)&key;
  attr.value = (uintptr_t)value;
  attr.flags = flags;
  return sys_bpf(cmd, &attr, ELEM_SIZE);
}

static double single(int cmd, uint32_t iterations) {
  uint64_t value = 1;
  uint32_t next;
  double start = now_ns();
  for (uint32_t i = 0; i < iterations; i++) {
    long ret = cmd == BPF_MAP_GET_NEXT_KEY ? elem_op(cmd, i % entries, &next, 0)
                                           : elem_op(cmd, i % entries, &value, cmd == BPF_MAP_UPDATE_ELEM ? BPF_ANY : 0);
    if (ret < 0 && !(cmd == BPF_MAP_GET_NEXT_KEY && errno == ENOENT)) die("bpf");  // ENOENT: last key
  }
  return (now_ns() - start) / iterations;
}

// Whole-map sweeps of batch_size elements per call until `elements` have been read.
static double batch_lookup(uint32_t elements) {
  uint64_t done = 0;
  double start = now_ns();
  while (done < elements) {
    uint32_t in_batch = 0, out_batch = 0;
    int first = 1;
    for (;;) {
      union bpf_attr attr;
      memset(&attr, 0, BATCH_ATTR_SIZE);
      in_batch = out_batch;
      attr.batch.in_batch = first ? 0 : (uintptr_t)&in_batch;
      attr.batch.out_batch = (uintptr_t)&out_batch;
      attr.batch.keys = (uintptr_t)batch_keys;
      attr.batch.values = (uintptr_t)batch_values;
      attr.batch.count = batch_size;
      attr.batch.map_fd = map_fd;
      long ret = sys_bpf(BPF_MAP_LOOKUP_BATCH, &attr, BATCH_ATTR_SIZE);
      done += attr.batch.count;
      first = 0;
      if (ret < 0) {
        if (errno != ENOENT) die("BPF_MAP_LOOKUP_BATCH");
        break;  // the sweep is done
      }
    }
  }
  return (now_ns() - start) / done;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s ENTRIES BATCH_SIZE\n", argv[0]);
    return 2;
  }
  entries = (uint32_t)atoi(argv[1]);
  batch_size = (uint32_t)atoi(argv[2]);
  batch_keys = malloc(sizeof *batch_keys * batch_size);
  batch_values = malloc(sizeof *batch_values * batch_size);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_HASH;
  attr.key_size = 4;
  attr.value_size = 8;
  attr.max_entries = entries;
  map_fd = (int)sys_bpf(BPF_MAP_CREATE, &attr, ATTR_END(map_extra));
  if (map_fd < 0) die("BPF_MAP_CREATE");
  single(BPF_MAP_UPDATE_ELEM, entries);

  char op[32];
  unsigned iterations;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (scanf("%31s %u", op, &iterations) == 2) {
    double ns;
    if (!strcmp(op, "lookup")) ns = single(BPF_MAP_LOOKUP_ELEM, iterations);
    else if (!strcmp(op, "update")) ns = single(BPF_MAP_UPDATE_ELEM, iterations);
    else if (!strcmp(op, "getNextKey")) ns = single(BPF_MAP_GET_NEXT_KEY, iterations);
    else if (!strcmp(op, "batchLookup")) ns = batch_lookup(iterations);
    else {
      fprintf(stderr, "unknown op %s\n", op);
      return 2;
    }
    printf("%.2f\n", ns);
  }
  close(map_fd);
  return 0;
}

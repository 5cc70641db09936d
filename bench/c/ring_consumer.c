// The C baseline of bench/events.bench.ts: libbpf's perf_buffer__poll / ring_buffer__poll consumers
// reading what a producer thread makes a program of test/fixtures/events.o write (BPF_PROG_TEST_RUN
// with repeat, one record per run, test_run_producer.h as on the ebpf side).
// Usage: ring_consumer OBJECT perf|ringbuf RECORD_SIZE EVENTS PERF_PAGES REPEAT touch|copy [READER_CPU PRODUCER_CPU]
// The callback reads the first byte of each record (touch), or first copies the record into a 4 MiB
// buffer of its own (copy), as ebpf's reader copies every record out of the ring. With the two CPUs,
// the reading thread and the producer are pinned to them (as the ebpf side is).
// Prints one line: received lost wall_ns reader_cpu_ns
#include "test_run_producer.h"

#include <bpf/libbpf.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t received, lost_kernel;
static volatile uint8_t sink;  // records are touched, as a consumer would
static atomic_int producing = 1;
static int prog_fd;
static long events_wanted, repeat;
static int producer_cpu = -1;
static int copying;
static uint8_t copies[4 << 20];
static size_t copied;

/** The record's first byte, read from a copy of the record with `copying`. */
static uint8_t take(const void *data, size_t size) {
  if (!copying) return ((const uint8_t *)data)[0];
  if (copied + size > sizeof copies) copied = 0;
  memcpy(copies + copied, data, size);
  copied += size;
  return copies[copied - size];
}

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_ringbuf(void *ctx, void *data, size_t size) {
  (void)ctx;
  sink = take(data, size);
  received++;
  return 0;
}

static void on_perf(void *ctx, int cpu, void *data, __u32 size) {
  (void)ctx;
  (void)cpu;
  sink = take(data, size);
  received++;
}

static void on_lost(void *ctx, int cpu, __u64 count) {
  (void)ctx;
  (void)cpu;
  lost_kernel += count;
}

static void *produce(void *arg) {
  (void)arg;
  pin_thread(producer_cpu);
  if (produce_events(prog_fd, events_wanted, repeat) != 0) exit(1);
  atomic_store(&producing, 0);
  return NULL;
}

int main(int argc, char **argv) {
  if ((argc != 8 && argc != 10) || (strcmp(argv[7], "touch") != 0 && strcmp(argv[7], "copy") != 0)) {
    fprintf(stderr, "usage: %s OBJECT perf|ringbuf RECORD_SIZE EVENTS PERF_PAGES REPEAT touch|copy [READER_CPU PRODUCER_CPU]\n", argv[0]);
    return 2;
  }
  copying = strcmp(argv[7], "copy") == 0;
  if (argc == 10) {
    pin_thread(atoi(argv[8]));
    producer_cpu = atoi(argv[9]);
  }
  int perf = strcmp(argv[2], "perf") == 0;
  events_wanted = atol(argv[4]);
  repeat = atol(argv[6]);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (obj == NULL || bpf_object__load(obj) != 0) {
    fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  char name[32];
  snprintf(name, sizeof name, "%s_%s", perf ? "perf" : "ringbuf", argv[3]);
  prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, name));
  struct perf_buffer *pb = NULL;
  struct ring_buffer *rb = NULL;
  if (perf) pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "perf"), (size_t)atol(argv[5]), on_perf, on_lost, NULL, NULL);
  else rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_ringbuf, NULL, NULL);
  if (pb == NULL && rb == NULL) {
    fprintf(stderr, "cannot set up the %s consumer\n", argv[2]);
    return 1;
  }
  uint64_t wall0 = now_ns(CLOCK_MONOTONIC), cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  pthread_t producer;
  pthread_create(&producer, NULL, produce, NULL);
  while (atomic_load(&producing)) {
    if (perf) perf_buffer__poll(pb, 100);
    else ring_buffer__poll(rb, 100);
  }
  pthread_join(producer, NULL);
  if (perf) perf_buffer__consume(pb);
  else ring_buffer__consume(rb);
  uint64_t wall = now_ns(CLOCK_MONOTONIC) - wall0, cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  uint64_t failures = 0;
  int bss = bpf_object__find_map_fd_by_name(obj, "events.bss");
  uint8_t value[64] = {0};
  uint32_t zero = 0;
  if (bss >= 0 && bpf_map_lookup_elem(bss, &zero, value) == 0) memcpy(&failures, value + 8, 8);
  printf("%llu %llu %llu %llu\n", (unsigned long long)received, (unsigned long long)failures, (unsigned long long)wall,
         (unsigned long long)cpu);
  perf_buffer__free(pb);
  ring_buffer__free(rb);
  bpf_object__close(obj);
  return 0;
}

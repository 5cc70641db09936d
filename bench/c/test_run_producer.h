// The producer of bench/events.bench.ts, one definition for both sides (ring_consumer.c's thread and
// test_run_producer.c's process): BPF_PROG_TEST_RUN with a repeat on a program of
// test/fixtures/events.o, one record per run, until `events` runs are done.
#ifndef TEST_RUN_PRODUCER_H
#define TEST_RUN_PRODUCER_H
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>

/** Pins the calling thread to `cpu` (nothing when cpu < 0). */
static inline void pin_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/** Runs `prog_fd` `events` times in test runs of `repeat`; 0, or -1 with a message on stderr. */
static inline int produce_events(int prog_fd, long events, long repeat) {
  uint8_t packet[64] = {0};
  for (long done = 0; done < events; done += repeat) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof packet, .repeat = (int)repeat);
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
      perror("bpf_prog_test_run_opts");
      return -1;
    }
  }
  return 0;
}
#endif

// The ebpf side's producer in bench/events.bench.ts: a process running test_run_producer.h's loop, as
// ring_consumer.c's producer thread does, so that both readers face the same producer code and the
// reader's process holds nothing but the reader.
// Usage: test_run_producer EVENTS REPEAT [CPU], with the program's fd as fd 3. Prints "ready" once
// pinned, starts at the first byte on stdin, prints "done" when the runs are over.
#include "test_run_producer.h"

#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s EVENTS REPEAT [CPU] (program fd as fd 3)\n", argv[0]);
    return 2;
  }
  if (argc == 4) pin_thread(atoi(argv[3]));
  printf("ready\n");
  fflush(stdout);
  char go;
  if (read(0, &go, 1) != 1) return 1;
  if (produce_events(3, atol(argv[1]), atol(argv[2])) != 0) return 1;
  printf("done\n");
  fflush(stdout);
  return 0;
}

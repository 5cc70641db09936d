/* libFuzzer target (`make fuzz`): ring bytes framed as perf records and as BPF ring buffer records.
 * Input: one byte of record-array capacity (0-255), then the ring's bytes. Every framed record lies
 * inside the input, the consumed count never passes it, and a successful frame ends at a record
 * boundary or says it stopped early. */
#include "fuzz_walk.h"

static void frame(uint32_t (*parse)(const uint8_t *, uint32_t, uint64_t, ebpf_event_record *, uint32_t, uint32_t *, ebpf_event_batch *),
                  const uint8_t *ring, uint32_t size, uint32_t capacity) {
  ebpf_event_record *out = malloc((capacity ? capacity : 1) * sizeof *out);
  /* Exactly the index (ASan sees a write past it), or none with an odd capacity. */
  uint32_t *packed = capacity & 1 ? NULL : malloc(capacity ? 2 * capacity * sizeof *packed : 1);
  ebpf_event_batch batch;
  if (!out || (!packed && !(capacity & 1))) goto done;
  uint32_t status = parse(ring, size, 1234, out, capacity, packed, &batch);
  check(status == batch.status);
  check(batch.message[EBPF_EVENT_MESSAGE_MAX - 1] == 0 || batch.message[0] == 0);
  if (status == EBPF_OK) {
    check(batch.count <= capacity && batch.consumed <= size && batch.samples <= batch.count);
    uint32_t samples = 0;
    for (uint32_t i = 0; i < batch.count; i++) {
      check(out[i].kind == EBPF_EVENT_SAMPLE || out[i].kind == EBPF_EVENT_LOST);
      check(out[i].offset <= size && out[i].size <= size - out[i].offset);
      touch(ring + out[i].offset, out[i].size);
      if (out[i].kind != EBPF_EVENT_SAMPLE) continue;
      check(!packed || (packed[samples] == out[i].offset && packed[capacity + samples] == out[i].size));
      samples++;
    }
    check(samples == batch.samples);
  }
done:
  free(packed);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > UINT32_MAX) return 0;
  uint32_t capacity = data[0];
  uint8_t *ring = exact_copy(data + 1, (uint32_t)(size - 1));
  if (ring || size == 1) {
    frame(ebpf_perf_parse, ring, (uint32_t)(size - 1), capacity);
    frame(ebpf_ringbuf_parse, ring, (uint32_t)(size - 1), capacity);
  }
  free(ring);
  return 0;
}

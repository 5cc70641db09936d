/* Framing of BPF ring buffer records (kernel/bpf/ringbuf.c): an 8-byte header { u32 len; u32 pg_off; }
 * whose len carries BPF_RINGBUF_BUSY_BIT (reserved, not committed yet) and BPF_RINGBUF_DISCARD_BIT,
 * then len bytes of data; records start 8-byte aligned. */
#include "ring.h"

#define RINGBUF_BUSY (1u << 31)
#define RINGBUF_DISCARD (1u << 30)
#define RINGBUF_HEADER_SIZE 8u

uint32_t ebpf_ringbuf_parse(const uint8_t *data, uint32_t size, uint64_t position, ebpf_event_record *records,
                            uint32_t capacity, uint32_t *packed, ebpf_event_batch *batch) {
  const ring_out out = {records, packed, capacity, batch};
  uint32_t status = ring_batch_begin(data, size, &out);
  if (status != EBPF_OK) return status;
  ebpf_buf b = {data, size, 0};
  uint32_t off = 0;
  while (off < size) {
    uint32_t len;
    if (buf_u32(&b, off, &len) || (len & RINGBUF_BUSY)) {
      batch->incomplete = 1; /* a header cut off, or a record reserved but not committed yet */
      break;
    }
    uint32_t length = len & ~(RINGBUF_BUSY | RINGBUF_DISCARD);
    uint64_t total = ((uint64_t)length + RINGBUF_HEADER_SIZE + 7) & ~(uint64_t)7;
    if (total > size - off) {
      /* Committed but longer than what the producer position covers: that position was torn. */
      batch->incomplete = 1;
      break;
    }
    if (len & RINGBUF_DISCARD) {
      batch->discarded++;
    } else if (!ring_batch_push(&out, EBPF_EVENT_SAMPLE, off + RINGBUF_HEADER_SIZE, length, 0)) {
      break;
    }
    off += (uint32_t)total;
  }
  (void)position;
  batch->consumed = off;
  return EBPF_OK;
}

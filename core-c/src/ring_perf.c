/* Framing of perf event ring records (include/uapi/linux/perf_event.h): every record starts with
 * struct perf_event_header { u32 type; u16 misc; u16 size; } and is size bytes long in all. */
#include <stdarg.h>

#include "ring.h"

#define PERF_RECORD_LOST 2u
#define PERF_RECORD_SAMPLE 9u
#define PERF_HEADER_SIZE 8u

uint32_t ring_batch_begin(const uint8_t *data, uint32_t size, const ring_out *out) {
  if (out->batch == 0) return EBPF_ERR_ARG;
  *out->batch = (ebpf_event_batch){0};
  if ((data == 0 && size > 0) || out->records == 0)
    return ring_batch_fail(out->batch, EBPF_ERR_ARG, "ring parse: no data or no record array");
  return EBPF_OK;
}

uint32_t ring_batch_fail(ebpf_event_batch *batch, uint32_t status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  str_vformat(batch->message, sizeof batch->message, fmt, ap);
  va_end(ap);
  batch->status = status;
  return status;
}

int ring_batch_push(const ring_out *out, uint32_t kind, uint32_t offset, uint32_t size, uint64_t lost) {
  ebpf_event_batch *batch = out->batch;
  if (batch->count >= out->capacity) return 0;
  out->records[batch->count++] = (ebpf_event_record){kind, offset, size, 0, lost};
  if (kind != EBPF_EVENT_SAMPLE) return 1;
  if (out->packed) {
    /* samples < count <= capacity: both slots are inside the 2 * capacity index */
    out->packed[batch->samples] = offset;
    out->packed[out->capacity + batch->samples] = size;
  }
  batch->samples++;
  return 1;
}

/* One record at off (its header already read): pushes what it holds. 1 pushed or skipped, 0 when out
 * is full, -1 on a malformed record (batch failed). */
static int perf_record(const ebpf_buf *b, uint32_t off, uint32_t type, uint32_t rsize, uint64_t position,
                       const ring_out *out) {
  ebpf_event_batch *batch = out->batch;
  if (type == PERF_RECORD_SAMPLE) {
    uint32_t raw;
    if (rsize < PERF_HEADER_SIZE + 4 || buf_u32(b, off + PERF_HEADER_SIZE, &raw) || raw > rsize - PERF_HEADER_SIZE - 4) {
      ring_batch_fail(batch, EBPF_ERR_ARG, "perf ring: PERF_RECORD_SAMPLE at position %llu: raw size does not fit its %u-byte record",
                      (unsigned long long)(position + off), rsize);
      return -1;
    }
    return ring_batch_push(out, EBPF_EVENT_SAMPLE, off + PERF_HEADER_SIZE + 4, raw, 0);
  }
  if (type == PERF_RECORD_LOST) {
    uint64_t lost;
    if (rsize < PERF_HEADER_SIZE + 16 || buf_u64(b, off + PERF_HEADER_SIZE + 8, &lost)) {
      ring_batch_fail(batch, EBPF_ERR_ARG, "perf ring: PERF_RECORD_LOST at position %llu is %u bytes, expected 24",
                      (unsigned long long)(position + off), rsize);
      return -1;
    }
    if (!ring_batch_push(out, EBPF_EVENT_LOST, off, 0, lost)) return 0;
    batch->lost += lost;
    return 1;
  }
  batch->unknown++;
  return 1;
}

uint32_t ebpf_perf_parse(const uint8_t *data, uint32_t size, uint64_t position, ebpf_event_record *records,
                         uint32_t capacity, uint32_t *packed, ebpf_event_batch *batch) {
  const ring_out out = {records, packed, capacity, batch};
  uint32_t status = ring_batch_begin(data, size, &out);
  if (status != EBPF_OK) return status;
  ebpf_buf b = {data, size, 0};
  uint32_t off = 0;
  while (off < size) {
    uint32_t type;
    uint16_t rsize;
    if (buf_u32(&b, off, &type) || buf_u16(&b, off + 6, &rsize) || rsize > size - off) {
      batch->incomplete = 1; /* the producer position ends inside this record */
      break;
    }
    if (rsize < PERF_HEADER_SIZE)
      return ring_batch_fail(batch, EBPF_ERR_ARG, "perf ring: record at position %llu has size %u, smaller than its header",
                             (unsigned long long)(position + off), rsize);
    int pushed = perf_record(&b, off, type, rsize, position, &out);
    if (pushed < 0) return batch->status;
    if (pushed == 0) break;
    off += rsize;
  }
  batch->consumed = off;
  return EBPF_OK;
}

/* ebpf_core_events.h — record framing of perf event rings and BPF ring buffers (included by
 * ebpf_core.h). Same conventions: wasm32 layouts pinned by EBPF_WASM_LAYOUT.
 *
 * The caller copies the ring's unread bytes [tail, head) into WASM memory once per wakeup, unwrapped
 * (a record that wraps the ring's end is contiguous in the copy), and calls one parse function: it
 * frames the records into `out` (offsets into the copy) and says how many bytes it consumed, which
 * the caller adds to the ring's tail / consumer position. Records that do not fit `out` stay for the
 * next call; an incomplete record at the end (a producer position read while it was moving) is left
 * unconsumed and flagged, never handed over. */
#ifndef EBPF_CORE_EVENTS_H
#define EBPF_CORE_EVENTS_H

#include <stdint.h>

enum ebpf_event_kind {
  EBPF_EVENT_SAMPLE = 0, /* offset/size: the sample's raw data (perf) or the record's data (ringbuf) */
  EBPF_EVENT_LOST = 1,   /* lost: records the kernel dropped (perf's PERF_RECORD_LOST) */
};

/* wasm32 layout: 0 kind  4 offset (bytes into the copy)  8 size  12 reserved  16 lost (u64) */
typedef struct {
  uint32_t kind;
  uint32_t offset;
  uint32_t size;
  uint32_t reserved;
  uint64_t lost;
} ebpf_event_record;
EBPF_WASM_LAYOUT(ebpf_event_record, 24);

/* The result of one parse call. wasm32 layout:
 *  0 status  4 count (records in out)  8 consumed (bytes)  12 unknown (records of other types,
 * skipped)  16 discarded (ringbuf records with the discard bit, skipped)  20 incomplete (1 when the
 * bytes end inside a record or at a busy ringbuf record)  24 samples (SAMPLE records among count)
 * 28 reserved  32 lost (u64, sum of the LOST records)  40 message (NUL-terminated, empty when
 * status is 0) */
#define EBPF_EVENT_MESSAGE_MAX 216
typedef struct {
  uint32_t status;
  uint32_t count;
  uint32_t consumed;
  uint32_t unknown;
  uint32_t discarded;
  uint32_t incomplete;
  uint32_t samples;
  uint32_t reserved;
  uint64_t lost;
  char message[EBPF_EVENT_MESSAGE_MAX];
} ebpf_event_batch;
EBPF_WASM_LAYOUT(ebpf_event_batch, 256);

/* Both parse functions frame at most `capacity` records into `out`, in ring order, and count the
 * SAMPLEs among them in batch->samples. With `packed` (else NULL) they also write sample n's offset
 * to packed[n] and its size to packed[capacity + n]: the index a reader hands out with a batch,
 * made in the framing pass instead of a second pass over `out`. */

/* Frames perf_event records (struct perf_event_header; PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW
 * only, PERF_RECORD_LOST, other types counted as unknown). position: the ring position of data[0],
 * for messages. Returns the status (also in batch->status): EBPF_ERR_ARG for a malformed record. */
EBPF_EXPORT(ebpf_perf_parse)
uint32_t ebpf_perf_parse(const uint8_t *data, uint32_t size, uint64_t position, ebpf_event_record *out,
                         uint32_t capacity, uint32_t *packed, ebpf_event_batch *batch);

/* Frames BPF ring buffer records (8-byte header: u32 length with the busy (1<<31) and discard (1<<30)
 * bits, u32 page offset; data padded to 8 bytes). Stops at a busy record. */
EBPF_EXPORT(ebpf_ringbuf_parse)
uint32_t ebpf_ringbuf_parse(const uint8_t *data, uint32_t size, uint64_t position, ebpf_event_record *out,
                            uint32_t capacity, uint32_t *packed, ebpf_event_batch *batch);

#endif

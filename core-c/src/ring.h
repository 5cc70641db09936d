/* Shared by the two ring framings (ring_perf.c, ring_bpf.c): starting a batch and failing it. */
#ifndef EBPF_CORE_RING_H
#define EBPF_CORE_RING_H

#include "ebpf_core.h"
#include "internal.h"

/* Where a parse call frames records (ebpf_core_events.h): the record array, the packed sample index
 * (NULL: none), their capacity, and the batch. */
typedef struct {
  ebpf_event_record *records;
  uint32_t *packed;
  uint32_t capacity;
  ebpf_event_batch *batch;
} ring_out;

/* Zeroes the batch; EBPF_ERR_ARG (with a message) when the arguments cannot be used. */
uint32_t ring_batch_begin(const uint8_t *data, uint32_t size, const ring_out *out);
/* Records status and a formatted message (err_set's formats) in batch; returns status. */
uint32_t ring_batch_fail(ebpf_event_batch *batch, uint32_t status, const char *fmt, ...);
/* Appends a record (and a sample to the packed index); 0 when the record array is full. */
int ring_batch_push(const ring_out *out, uint32_t kind, uint32_t offset, uint32_t size, uint64_t lost);

#endif

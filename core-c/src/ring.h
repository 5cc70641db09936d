/* Shared by the two ring framings (ring_perf.c, ring_bpf.c): starting a batch and failing it. */
#ifndef EBPF_CORE_RING_H
#define EBPF_CORE_RING_H

#include "ebpf_core.h"
#include "internal.h"

/* Zeroes batch; EBPF_ERR_ARG (with a message) when the arguments cannot be used. */
uint32_t ring_batch_begin(const uint8_t *data, uint32_t size, ebpf_event_record *out, ebpf_event_batch *batch);
/* Records status and a formatted message (err_set's formats) in batch; returns status. */
uint32_t ring_batch_fail(ebpf_event_batch *batch, uint32_t status, const char *fmt, ...);
/* Appends a record; 0 when out is full. */
int ring_batch_push(ebpf_event_batch *batch, ebpf_event_record *out, uint32_t capacity, uint32_t kind,
                    uint32_t offset, uint32_t size, uint64_t lost);

#endif

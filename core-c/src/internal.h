/* Internal helpers shared by every module of the core: the one bounds-checked reader,
 * the per-object arena, and error formatting. Nothing here is exported from the WASM module. */
#ifndef EBPF_CORE_INTERNAL_H
#define EBPF_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- input bytes: every read of untrusted data goes through buf_span() ---- */

typedef struct {
  const uint8_t *data;
  uint32_t size;
  int big_endian; /* multi-byte fields are stored big-endian (ELF of -target bpfeb) */
} ebpf_buf;

/* The one bounds check: on success *out points at n readable bytes at off and 0 is returned;
 * when [off, off+n) is not wholly inside the buffer (overflow included) -1 is returned. */
int buf_span(const ebpf_buf *b, uint64_t off, uint64_t n, const uint8_t **out);

/* Endian-aware integer reads built on buf_span(); -1 when out of range. */
int buf_u8(const ebpf_buf *b, uint64_t off, uint8_t *out);
int buf_u16(const ebpf_buf *b, uint64_t off, uint16_t *out);
int buf_u32(const ebpf_buf *b, uint64_t off, uint32_t *out);
int buf_u64(const ebpf_buf *b, uint64_t off, uint64_t *out);
int buf_i32(const ebpf_buf *b, uint64_t off, int32_t *out);

/* Writes v at p (4 bytes, big- or little-endian): for the core's own output buffers. */
void store_u32_order(uint8_t *p, uint32_t v, int big_endian);

/* A sub-buffer [off, off+len) of b, same endianness; -1 when out of range. */
int buf_sub(const ebpf_buf *b, uint64_t off, uint64_t len, ebpf_buf *out);

/* A NUL-terminated string starting at off inside b: its length (without NUL) in *len;
 * -1 when off is outside b or no NUL occurs before the end of b. */
int buf_cstr(const ebpf_buf *b, uint64_t off, const char **str, uint32_t *len);

/* ---- arena: everything an object allocates is freed at once with it ---- */

typedef struct arena_block arena_block;
typedef struct {
  arena_block *head;
} arena;

/* Zeroed, 8-byte aligned memory; NULL when out of memory or when size overflows. */
void *arena_alloc(arena *a, uint64_t size);
/* n elements of size each, checked for overflow. */
void *arena_array(arena *a, uint64_t n, uint64_t size);
/* Like arena_array, not zeroed: for buffers about to be overwritten whole. */
void *arena_array_uninit(arena *a, uint64_t n, uint64_t size);
void arena_release(arena *a);

/* A growable array in an arena (used while the count is not yet known). */
typedef struct {
  uint8_t *items;
  uint32_t count;
  uint32_t capacity;
  uint32_t item_size;
} arena_vec;

void vec_init(arena_vec *v, uint32_t item_size);
/* Room for n items in all (no-op when there is); -1 when out of memory. */
int vec_reserve(arena *a, arena_vec *v, uint32_t n);
/* Appends one zeroed item and returns it; NULL when out of memory. */
void *vec_push(arena *a, arena_vec *v);

/* ---- sorting ---- */

/* Stable merge sort (O(n log n), O(n) for input already in order) with scratch space from the
 * arena; -1 when out of memory. wasi-libc's qsort is a smoothsort several times slower here. */
int sort_stable(arena *a, void *base, uint32_t n, uint32_t size, int (*cmp)(const void *, const void *));
/* Ascending sort of plain 64-bit keys (same bounds, no comparator calls): for hot paths that can
 * pack what they sort into one integer. */
int sort_u64(arena *a, uint64_t *keys, uint32_t n);

/* ---- errors: one message per failed call, naming what was wrong and where ---- */

#define EBPF_ERROR_MAX 512

typedef struct {
  int status; /* enum ebpf_status; 0 while no error */
  char message[EBPF_ERROR_MAX];
} ebpf_error;

/* Records the first error only (later ones would hide the cause) and returns status.
 * A tiny printf: %s (const char *), %.*s (int, const char *), %u %d (32-bit), %llu %lld (64-bit),
 * %x %llx (hex, no prefix), %% . Output is truncated at EBPF_ERROR_MAX-1 with a NUL. */
int err_set(ebpf_error *e, int status, const char *fmt, ...);
/* The same formatter into any buffer (cap >= 1): returns the length written, without the NUL. */
uint32_t str_vformat(char *out, uint32_t cap, const char *fmt, va_list ap);
uint32_t str_format(char *out, uint32_t cap, const char *fmt, ...);

#endif

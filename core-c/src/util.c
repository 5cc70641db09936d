/* The bounds-checked reader, the arena and the error formatter (see internal.h). */
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int buf_span(const ebpf_buf *b, uint64_t off, uint64_t n, const uint8_t **out) {
  if (off > b->size || n > (uint64_t)b->size - off) return -1;
  *out = b->data + off;
  return 0;
}

static uint64_t load_uint(const uint8_t *p, unsigned n, int big_endian) {
  uint64_t v = 0;
  if (!big_endian) { /* the common case on the hosts we run on: one unaligned load */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    switch (n) { /* constant sizes, so the copies compile to single loads */
      case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
      case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
      case 8: memcpy(&v, p, 8); return v;
    }
#endif
  }
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[big_endian ? n - 1 - i : i] << (8 * i);
  return v;
}

int buf_u8(const ebpf_buf *b, uint64_t off, uint8_t *out) {
  const uint8_t *p;
  if (buf_span(b, off, 1, &p)) return -1;
  *out = p[0];
  return 0;
}

int buf_u16(const ebpf_buf *b, uint64_t off, uint16_t *out) {
  const uint8_t *p;
  if (buf_span(b, off, 2, &p)) return -1;
  *out = (uint16_t)load_uint(p, 2, b->big_endian);
  return 0;
}

int buf_u32(const ebpf_buf *b, uint64_t off, uint32_t *out) {
  const uint8_t *p;
  if (buf_span(b, off, 4, &p)) return -1;
  *out = (uint32_t)load_uint(p, 4, b->big_endian);
  return 0;
}

int buf_u64(const ebpf_buf *b, uint64_t off, uint64_t *out) {
  const uint8_t *p;
  if (buf_span(b, off, 8, &p)) return -1;
  *out = load_uint(p, 8, b->big_endian);
  return 0;
}

int buf_i32(const ebpf_buf *b, uint64_t off, int32_t *out) {
  uint32_t v;
  if (buf_u32(b, off, &v)) return -1;
  *out = (int32_t)v;
  return 0;
}

void store_u32_order(uint8_t *p, uint32_t v, int big_endian) {
  for (int i = 0; i < 4; i++) p[big_endian ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

int buf_sub(const ebpf_buf *b, uint64_t off, uint64_t len, ebpf_buf *out) {
  const uint8_t *p;
  if (buf_span(b, off, len, &p)) return -1;
  out->data = p;
  out->size = (uint32_t)len;
  out->big_endian = b->big_endian;
  return 0;
}

int buf_cstr(const ebpf_buf *b, uint64_t off, const char **str, uint32_t *len) {
  const uint8_t *p;
  if (buf_span(b, off, 0, &p)) return -1;
  /* The NUL is looked for 8 bytes at a time (a word has a zero byte when (w - 0x01..) & ~w &
   * 0x80.. is not 0), then byte by byte: for the short names here this beats a memchr call,
   * which in WASM is wasi-libc's 4-byte loop behind an alignment prologue. */
  const uint8_t *q = p, *end = b->data + b->size;
  for (uint64_t w; end - q >= 8; q += 8) {
    memcpy(&w, q, 8);
    if ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) break;
  }
  while (q < end && *q) q++;
  if (q == end) return -1;
  *str = (const char *)p;
  *len = (uint32_t)(q - p);
  return 0;
}

/* ---- arena ---- */

struct arena_block {
  arena_block *next;
  uint64_t used; /* bytes handed out from the payload */
  uint64_t cap;  /* payload bytes; the payload follows, 8-byte aligned on wasm32 and 64-bit hosts */
};

/* Small allocations are carved from shared chunks (one malloc per chunk, not per allocation);
 * large ones get a block of their own. */
#define ARENA_CHUNK 16384u

static void *arena_take(arena *a, uint64_t size, int zeroed) {
  if (size > UINT32_MAX - sizeof(arena_block) - 8) return NULL;
  size = (size + 7) & ~(uint64_t)7;
  arena_block *head = a->head;
  if (!head || head->cap - head->used < size) {
    uint64_t cap = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
    arena_block *blk = malloc(sizeof(arena_block) + (size_t)cap);
    if (!blk) return NULL;
    blk->used = 0;
    blk->cap = cap;
    if (head && cap == size) { /* a block of its own: keep the current chunk's free space in use */
      blk->next = head->next;
      head->next = blk;
    } else {
      blk->next = head;
      a->head = blk;
    }
    head = blk;
  }
  uint8_t *p = (uint8_t *)(head + 1) + head->used;
  head->used += size;
  if (zeroed) memset(p, 0, (size_t)size);
  return p;
}

void *arena_alloc(arena *a, uint64_t size) { return arena_take(a, size, 1); }

void *arena_array(arena *a, uint64_t n, uint64_t size) {
  if (size != 0 && n > UINT32_MAX / size) return NULL;
  return arena_take(a, n * size, 1);
}

void *arena_array_uninit(arena *a, uint64_t n, uint64_t size) {
  if (size != 0 && n > UINT32_MAX / size) return NULL;
  return arena_take(a, n * size, 0);
}

void arena_release(arena *a) {
  arena_block *blk = a->head;
  while (blk) {
    arena_block *next = blk->next;
    free(blk);
    blk = next;
  }
  a->head = NULL;
}

void vec_init(arena_vec *v, uint32_t item_size) {
  v->items = NULL;
  v->count = 0;
  v->capacity = 0;
  v->item_size = item_size;
}

int vec_reserve(arena *a, arena_vec *v, uint32_t n) {
  if (n <= v->capacity) return 0;
  uint8_t *grown = arena_array_uninit(a, n, v->item_size);
  if (!grown) return -1;
  if (v->count) memcpy(grown, v->items, (size_t)v->count * v->item_size);
  v->items = grown;
  v->capacity = n;
  return 0;
}

void *vec_push(arena *a, arena_vec *v) {
  if (v->count == v->capacity) {
    uint32_t cap = v->capacity ? v->capacity * 2 : 16;
    if (cap < v->capacity) return NULL;
    uint8_t *grown = arena_array_uninit(a, cap, v->item_size); /* items are zeroed as pushed */
    if (!grown) return NULL;
    if (v->count) memcpy(grown, v->items, (size_t)v->count * v->item_size);
    /* the old block stays in the arena until the object is released: growth is geometric,
     * so the waste is bounded by the final size */
    v->items = grown;
    v->capacity = cap;
  }
  uint8_t *item = v->items + (size_t)v->count * v->item_size;
  /* zeroed with inline 8-byte stores: in WASM a memset call per push cost more than the push */
  uint32_t i = 0;
  for (const uint64_t zero = 0; i + 8 <= v->item_size; i += 8) memcpy(item + i, &zero, 8);
  if (i < v->item_size) memset(item + i, 0, v->item_size - i);
  v->count++;
  return item;
}

/* ---- sorting ---- */

/* Element copies inline as 4-byte words when they can (every record here is a multiple of 4):
 * a memcpy call per element would dominate the sort. */
static void copy_item(uint8_t *dst, const uint8_t *src, uint32_t size) {
  if (size % 4) {
    memcpy(dst, src, size);
    return;
  }
  for (uint32_t i = 0; i < size; i += 4) {
    uint32_t w;
    memcpy(&w, src + i, 4);
    memcpy(dst + i, &w, 4);
  }
}

/* Runs this short are sorted in place by insertion before the merge passes: fewer passes, and
 * nearly sorted input (section tables, symbols) costs few comparisons. */
#define SORT_RUN 16u

static void insertion_sort(uint8_t *items, uint32_t lo, uint32_t hi, uint32_t size,
                           int (*cmp)(const void *, const void *), uint8_t *hold) {
  for (uint32_t i = lo + 1; i < hi; i++) {
    uint8_t *cur = items + (size_t)i * size;
    if (cmp(cur - size, cur) <= 0) continue;
    uint32_t j = lo, end = i - 1; /* cur goes before the first item of [lo, i) larger than it */
    while (j < end) {
      uint32_t mid = j + (end - j) / 2;
      if (cmp(items + (size_t)mid * size, cur) > 0) end = mid;
      else j = mid + 1;
    }
    copy_item(hold, cur, size);
    memmove(items + (size_t)(j + 1) * size, items + (size_t)j * size, (size_t)(i - j) * size);
    copy_item(items + (size_t)j * size, hold, size);
  }
}

int sort_stable(arena *a, void *base, uint32_t n, uint32_t size, int (*cmp)(const void *, const void *)) {
  uint8_t *items = base;
  uint32_t i = 1;
  while (i < n && cmp(items + (size_t)(i - 1) * size, items + (size_t)i * size) <= 0) i++;
  if (i >= n) return 0; /* already in order: the usual case */
  uint8_t *tmp = arena_array_uninit(a, (uint64_t)n + 1, size), *src = items, *dst = tmp;
  if (!tmp) return -1;
  for (uint32_t lo = 0; lo < n; lo += SORT_RUN)
    insertion_sort(items, lo, n - lo > SORT_RUN ? lo + SORT_RUN : n, size, cmp, tmp + (size_t)n * size);
  for (uint64_t width = SORT_RUN; width < n; width *= 2) {
    for (uint64_t lo = 0; lo < n; lo += 2 * width) {
      uint64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      uint64_t x = lo, y = mid, k = lo;
      while (x < mid && y < hi) {
        int take_right = cmp(src + y * size, src + x * size) < 0;
        copy_item(dst + k++ * size, src + (take_right ? y++ : x++) * size, size);
      }
      if (x < mid) memcpy(dst + k * size, src + x * size, (size_t)(mid - x) * size), k += mid - x;
      if (y < hi) memcpy(dst + k * size, src + y * size, (size_t)(hi - y) * size);
    }
    uint8_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != items) memcpy(items, src, (size_t)n * size);
  return 0;
}

int sort_u64(arena *a, uint64_t *keys, uint32_t n) {
  uint32_t i = 1;
  while (i < n && keys[i - 1] <= keys[i]) i++;
  if (i >= n) return 0;
  for (uint32_t lo = 0; lo < n; lo += SORT_RUN) { /* insertion sort of each run */
    uint32_t hi = n - lo > SORT_RUN ? lo + SORT_RUN : n;
    for (uint32_t k = lo + 1; k < hi; k++) {
      uint64_t cur = keys[k];
      uint32_t j = k;
      for (; j > lo && keys[j - 1] > cur; j--) keys[j] = keys[j - 1];
      keys[j] = cur;
    }
  }
  if (n <= SORT_RUN) return 0;
  uint64_t *tmp = arena_array_uninit(a, n, sizeof *keys), *src = keys, *dst = tmp;
  if (!tmp) return -1;
  for (uint64_t width = SORT_RUN; width < n; width *= 2) {
    for (uint64_t lo = 0; lo < n; lo += 2 * width) {
      uint64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      uint64_t x = lo, y = mid, k = lo;
      while (x < mid && y < hi) dst[k++] = src[y] < src[x] ? src[y++] : src[x++];
      while (x < mid) dst[k++] = src[x++];
      while (y < hi) dst[k++] = src[y++];
    }
    uint64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != keys) memcpy(keys, src, (size_t)n * sizeof *keys);
  return 0;
}

/* ---- errors ---- */

typedef struct {
  char *out;
  size_t len;
  size_t cap;
} sink;

static void put(sink *s, const char *p, size_t n) {
  while (n-- && s->len + 1 < s->cap) s->out[s->len++] = *p++;
}

static void put_uint(sink *s, uint64_t v, unsigned base) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  while (n) put(s, &digits[--n], 1);
}

static void put_int(sink *s, int64_t v) {
  if (v < 0) {
    put(s, "-", 1);
    put_uint(s, (uint64_t)0 - (uint64_t)v, 10);
  } else {
    put_uint(s, (uint64_t)v, 10);
  }
}

uint32_t str_vformat(char *out, uint32_t cap, const char *fmt, va_list ap) {
  sink s = {out, 0, cap};
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      put(&s, f, 1);
      continue;
    }
    f++;
    if (*f == '%') {
      put(&s, "%", 1);
    } else if (f[0] == '.' && f[1] == '*' && f[2] == 's') {
      int n = va_arg(ap, int);
      const char *str = va_arg(ap, const char *);
      put(&s, str, n > 0 ? (size_t)n : 0);
      f += 2;
    } else if (*f == 's') {
      const char *str = va_arg(ap, const char *);
      put(&s, str, strlen(str));
    } else if (f[0] == 'l' && f[1] == 'l' && (f[2] == 'u' || f[2] == 'd' || f[2] == 'x')) {
      if (f[2] == 'd') put_int(&s, va_arg(ap, long long));
      else put_uint(&s, va_arg(ap, unsigned long long), f[2] == 'x' ? 16 : 10);
      f += 2;
    } else if (*f == 'u' || *f == 'x') {
      put_uint(&s, va_arg(ap, unsigned), *f == 'x' ? 16 : 10);
    } else if (*f == 'd') {
      put_int(&s, va_arg(ap, int));
    } else {
      put(&s, "?", 1); /* unknown directive: a bug in a format string, never a crash */
      if (!*f) break;
    }
  }
  s.out[s.len] = 0;
  return (uint32_t)s.len;
}

int err_set(ebpf_error *e, int status, const char *fmt, ...) {
  if (e->status) return e->status;
  e->status = status;
  va_list ap;
  va_start(ap, fmt);
  str_vformat(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return status;
}

uint32_t str_format(char *out, uint32_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  uint32_t n = str_vformat(out, cap, fmt, ap);
  va_end(ap);
  return n;
}

/* .BTF: header, types and strings, decoded in one pass into ebpf_btf_type/ebpf_btf_member records
 * (index = type id), then every type reference checked and reference loops rejected. */
#include <stdlib.h>
#include <string.h>

#include "btf.h"

#define BTF_MAGIC 0xeB9Fu
#define BTF_HEADER_SIZE 24u

static const char *const kind_names[] = {
    "void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef", "volatile",
    "const", "restrict", "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag", "enum64",
};

const char *btf_kind_name(uint32_t kind) {
  return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "unknown";
}

/* The kinds whose `type` is followed when resolving: a cycle through them can never end. */
static int is_chain_kind(uint32_t kind) {
  switch (kind) {
    case EBPF_BTF_PTR: case EBPF_BTF_ARRAY: case EBPF_BTF_TYPEDEF: case EBPF_BTF_VOLATILE:
    case EBPF_BTF_CONST: case EBPF_BTF_RESTRICT: case EBPF_BTF_FUNC: case EBPF_BTF_VAR:
    case EBPF_BTF_DECL_TAG: case EBPF_BTF_TYPE_TAG:
      return 1;
    default:
      return 0;
  }
}

static int is_modifier(uint32_t kind) {
  return kind == EBPF_BTF_TYPEDEF || kind == EBPF_BTF_VOLATILE || kind == EBPF_BTF_CONST ||
         kind == EBPF_BTF_RESTRICT || kind == EBPF_BTF_TYPE_TAG;
}

uint32_t btf_skip_mods_typedefs(const btf *b, uint32_t id) {
  for (int depth = 0; depth < BTF_MAX_CHAIN; depth++) {
    const ebpf_btf_type *t = btf_type_by_id(b, id);
    if (!t || !is_modifier(t->kind)) return id;
    id = t->type;
  }
  return id;
}

int btf_resolve_size(const btf *b, uint32_t id, uint64_t *size) {
  uint64_t count = 1; /* product of the array dimensions seen so far */
  uint32_t start = id;
  for (int depth = 0; depth < BTF_MAX_CHAIN; depth++) {
    const ebpf_btf_type *t = btf_type_by_id(b, id);
    if (!t) return err_set(b->err, EBPF_ERR_BTF, "BTF: type [%u] does not exist", id);
    uint64_t elem;
    switch (t->kind) {
      case EBPF_BTF_INT: case EBPF_BTF_FLOAT: case EBPF_BTF_STRUCT: case EBPF_BTF_UNION:
      case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64: case EBPF_BTF_DATASEC:
        elem = t->size;
        break;
      case EBPF_BTF_PTR:
        elem = 8; /* BPF is a 64-bit target */
        break;
      case EBPF_BTF_TYPEDEF: case EBPF_BTF_VOLATILE: case EBPF_BTF_CONST: case EBPF_BTF_RESTRICT:
      case EBPF_BTF_TYPE_TAG: case EBPF_BTF_VAR: case EBPF_BTF_DECL_TAG:
        id = t->type;
        continue;
      case EBPF_BTF_ARRAY:
        count *= t->nelems; /* both factors are < 2^32 until checked below */
        if (count > UINT32_MAX)
          return err_set(b->err, EBPF_ERR_BTF, "BTF: the size of type [%u] overflows 32 bits", start);
        id = t->type;
        continue;
      default:
        return err_set(b->err, EBPF_ERR_BTF, "BTF: type [%u] (%s) has no size", id, btf_kind_name(t->kind));
    }
    if (elem && count > UINT32_MAX / elem)
      return err_set(b->err, EBPF_ERR_BTF, "BTF: the size of type [%u] overflows 32 bits", start);
    *size = count * elem;
    return 0;
  }
  return err_set(b->err, EBPF_ERR_BTF, "BTF: type [%u] nests more than %u levels deep", start, BTF_MAX_CHAIN);
}

static int str_eq(ebpf_str s, const char *name) {
  size_t n = strlen(name);
  return s.len == n && memcmp(s.ptr, name, n) == 0;
}

uint32_t btf_find_by_name_kind(const btf *b, const char *name, uint32_t kind) {
  for (uint32_t id = 1; id < b->info.type_count; id++) {
    const ebpf_btf_type *t = &b->info.types[id];
    if (t->kind == kind && str_eq(t->name, name)) return id;
  }
  return 0;
}

const ebpf_btf_type *btf_find_datasec(const btf *b, const char *name) {
  return btf_type_by_id(b, btf_find_by_name_kind(b, name, EBPF_BTF_DATASEC));
}

/* ---- name tables ---- */

/* 8 bytes per step (xor, multiply, fold), then the tail (little-endian) and the length: section
 * names run to dozens of bytes, and a multiply per byte (FNV) made hashing them most of a lookup's
 * cost. hash_cstr computes the same while it looks for the NUL. */
#define HASH_SEED 0x9e3779b97f4a7c15ull
static uint64_t hash_word(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0xff51afd7ed558ccdull;
  return h ^ (h >> 32);
}

static uint32_t hash_end(uint64_t h, const char *tail, uint32_t n, uint32_t len) {
  uint64_t t = 0;
  for (uint32_t i = 0; i < n; i++) t |= (uint64_t)(uint8_t)tail[i] << (8 * i);
  h = (h ^ t ^ ((uint64_t)len * HASH_SEED)) * 0xc4ceb9fe1a85ec53ull;
  return (uint32_t)(h >> 32);
}

static uint32_t name_hash(const char *s, uint32_t len) {
  uint64_t h = HASH_SEED;
  uint32_t i = 0;
  for (uint64_t w; i + 8 <= len; i += 8) {
    memcpy(&w, s + i, 8);
    h = hash_word(h, w);
  }
  return hash_end(h, s + i, len - i, len);
}

/* The NUL-terminated string at off in b: its length and name_hash in one pass; -1 when off is
 * outside b or no NUL ends the string inside it. */
static int hash_cstr(const ebpf_buf *b, uint32_t off, ebpf_str *out, uint32_t *hash) {
  if (off >= b->size) return -1;
  const char *p = (const char *)b->data + off, *q = p, *end = (const char *)b->data + b->size;
  uint64_t h = HASH_SEED;
  for (uint64_t w; end - q >= 8; q += 8) {
    memcpy(&w, q, 8);
    if ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) break; /* a NUL in these 8 */
    h = hash_word(h, w);
  }
  const char *tail = q;
  while (q < end && *q) q++;
  if (q == end) return -1;
  *out = (ebpf_str){p, (uint32_t)(q - p)};
  *hash = hash_end(h, tail, (uint32_t)(q - tail), out->len);
  return 0;
}

int name_table_init(arena *mem, name_table *t, uint32_t capacity, ebpf_str (*key)(const void *, uint32_t), const void *ctx) {
  uint32_t size = 16;
  while (size < capacity * 2 && size < (1u << 29)) size *= 2;
  t->slots = arena_array(mem, size, 2 * sizeof(uint32_t));
  t->mask = size - 1;
  t->key = key;
  t->ctx = ctx;
  return t->slots ? 0 : -1;
}

/* Slots are (index + 1, hash) pairs side by side: most probes end at the hash, in one cache line. */
static uint32_t find_hashed(const name_table *t, const char *name, uint32_t len, uint32_t h) {
  for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
    uint32_t slot = t->slots[2 * i];
    if (!slot) return EBPF_NONE;
    if (t->slots[2 * i + 1] != h) continue;
    ebpf_str k = t->key(t->ctx, slot - 1);
    if (k.len == len && memcmp(k.ptr, name, len) == 0) return slot - 1;
  }
}

static void add_hashed(name_table *t, uint32_t index, uint32_t h) {
  uint32_t i = h & t->mask;
  while (t->slots[2 * i]) i = (i + 1) & t->mask;
  t->slots[2 * i] = index + 1;
  t->slots[2 * i + 1] = h;
}

uint32_t name_table_find(const name_table *t, const char *name, uint32_t len) {
  return find_hashed(t, name, len, name_hash(name, len));
}

void name_table_add(name_table *t, uint32_t index) {
  ebpf_str k = t->key(t->ctx, index);
  add_hashed(t, index, name_hash(k.ptr, k.len));
}

uint32_t btf_essential_len(ebpf_str n) {
  for (int64_t i = (int64_t)n.len - 5; i >= 0; i--) {
    const char *s = n.ptr + i;
    if (s[0] != '_' && s[1] == '_' && s[2] == '_' && s[3] == '_' && s[4] != '_') return (uint32_t)i + 1;
  }
  return n.len;
}

/* ---- the name index of btf_find ---- */

struct btf_name_index {
  name_table first; /* a name -> the lowest id carrying it */
  uint32_t *next;   /* id -> the next higher id with the same name, 0 at the end */
};

static ebpf_str type_name(const void *ctx, uint32_t id) { return btf_name_of(ctx, id); }

/* The string section holding string offset off of b, and off within it: a split BTF (a kernel
 * module's) continues its base's strings. */
static const ebpf_buf *string_sec(const btf *b, uint32_t *off) {
  if (!b->base) return &b->strings;
  if (*off < b->start_str) return &b->base->strings;
  *off -= b->start_str;
  return &b->strings;
}

/* The first id of b's own types (a split BTF's follow its base's), and id's index in its arrays. */
static uint32_t first_id(const btf *b) { return b->start_id ? b->start_id : 1; }
#define OWN(b, id) ((id) - (b)->start_id)

/* Notes a name with a ___flavor suffix for CO-RE's candidate search (ids ascending). */
static void note_flavor(btf *b, uint32_t id, ebpf_str name) {
  /* "___" covers a byte at an index that is 2 mod 3: look at those first */
  uint32_t i = 2;
  while (i < name.len && name.ptr[i] != '_') i += 3;
  if (i >= name.len || name.len < 5 || btf_essential_len(name) == name.len) return;
  uint32_t *slot = vec_push(b->mem, &b->flavored_vec);
  if (slot) *slot = id;
  else b->flavored_oom = 1;
}

/* Type id's name and its hash, 0 when it has none (anonymous, or a bad offset in a lazy BTF). */
static int indexed_name(const btf *b, uint32_t id, ebpf_str *name, uint32_t *h) {
  if (!b->lazy) {
    *name = b->info.types[id].name;
    *h = name_hash(name->ptr, name->len);
    return name->len != 0;
  }
  uint32_t off = b->name_offs[OWN(b, id)];
  if (!off) return 0;
  const ebpf_buf *strs = string_sec(b, &off); /* (before off is read: it maps off) */
  return !hash_cstr(strs, off, name, h) && name->len;
}

static struct btf_name_index *name_index(btf *b) {
  if (b->by_name) return b->by_name;
  uint32_t n = b->info.type_count;
  struct btf_name_index *x = arena_alloc(b->mem, sizeof *x);
  uint32_t own = n - b->start_id;
  uint32_t *last = malloc((size_t)own * sizeof *last); /* per chain head: its last id, while building */
  if (!x || !last || !(x->next = arena_array(b->mem, own, sizeof *x->next)) ||
      name_table_init(b->mem, &x->first, own, type_name, b)) {
    free(last);
    return NULL;
  }
  vec_init(&b->flavored_vec, sizeof(uint32_t));
  for (uint32_t id = first_id(b); id < n; id++) {
    ebpf_str name;
    uint32_t h;
    if (!indexed_name(b, id, &name, &h)) continue;
    note_flavor(b, id, name);
    uint32_t head = find_hashed(&x->first, name.ptr, name.len, h);
    if (head == EBPF_NONE) {
      add_hashed(&x->first, id, h);
      last[OWN(b, id)] = id;
    } else {
      x->next[OWN(b, last[OWN(b, head)])] = id;
      last[OWN(b, head)] = id;
    }
  }
  free(last);
  if (b->flavored_oom) return NULL;
  b->by_name = x;
  return x;
}

const uint32_t *btf_flavored(btf *b, uint32_t *count) {
  if (!name_index(b)) return NULL;
  static const uint32_t none[1] = {0};
  *count = b->flavored_vec.count;
  return b->flavored_vec.count ? (const uint32_t *)b->flavored_vec.items : none;
}

uint32_t btf_find_named(btf *b, const char *name, uint32_t len) {
  const struct btf_name_index *x = name_index(b);
  if (!x) return EBPF_NONE;
  uint32_t id = len ? name_table_find(&x->first, name, len) : EBPF_NONE;
  return id == EBPF_NONE ? 0 : id;
}

uint32_t btf_next_named(const btf *b, uint32_t id) {
  return b->by_name && id >= first_id(b) && id < b->info.type_count ? b->by_name->next[OWN(b, id)] : 0;
}

static uint32_t raw_kind(const btf *b, uint32_t id);

/* Whether type id is named exactly name (len bytes), read from the string section. */
static int named(const btf *b, uint32_t id, const char *name, uint32_t len) {
  if (!b->lazy) {
    ebpf_str n = b->info.types[id].name;
    return n.len == len && memcmp(n.ptr, name, len) == 0;
  }
  uint32_t o = b->name_offs[OWN(b, id)];
  if (!o) return 0;
  const ebpf_buf *strs = string_sec(b, &o);
  uint64_t off = o;
  const char *s = (const char *)strs->data;
  return off + len < strs->size && s[off] == name[0] && memcmp(s + off, name, len) == 0 && s[off + len] == 0;
}

/* Type id's name when it starts with the len bytes of prefix (and prefix is not empty), else an empty
 * string: the first byte is compared before the name's length is looked for. */
static ebpf_str name_with_prefix(const btf *b, uint32_t id, const char *prefix, uint32_t len) {
  ebpf_str none = {"", 0};
  if (!b->lazy) {
    ebpf_str n = b->info.types[id].name;
    return n.len >= len && memcmp(n.ptr, prefix, len) == 0 ? n : none;
  }
  uint32_t o = b->name_offs[OWN(b, id)];
  if (!o) return none;
  const ebpf_buf *strs = string_sec(b, &o);
  const char *s = (const char *)strs->data;
  if ((uint64_t)o + len >= strs->size || s[o] != prefix[0] || memcmp(s + o, prefix, len)) return none;
  ebpf_str n;
  return buf_cstr(strs, o, &n.ptr, &n.len) ? none : n;
}

/* The first two bytes of type id's name (the second 0 for a one-byte name; 0 for none). */
static uint16_t name_head(const btf *b, uint32_t id) {
  if (!b->lazy) {
    ebpf_str n = b->info.types[id].name;
    return n.len ? (uint16_t)((uint8_t)n.ptr[0] | (n.len > 1 ? (uint8_t)n.ptr[1] << 8 : 0)) : 0;
  }
  uint32_t o = b->name_offs[OWN(b, id)];
  if (!o) return 0;
  const ebpf_buf *strs = string_sec(b, &o);
  if ((uint64_t)o + 1 >= strs->size) return 0; /* (a string at the very end is its NUL) */
  return (uint16_t)(strs->data[o] | (strs->data[o] ? strs->data[o + 1] << 8 : 0));
}

/* The first two bytes of each own type's name (0 for anonymous), gathered once: scans then compare
 * a small array in order instead of reaching into the string section for every type. */
static const uint16_t *name_heads(btf *b) {
  if (b->heads) return b->heads;
  uint32_t own = b->info.type_count - b->start_id;
  uint16_t *h = arena_array_uninit(b->mem, own ? own : 1, sizeof(uint16_t));
  if (!h) return NULL;
  for (uint32_t i = 0; i < own; i++) h[i] = name_head(b, b->start_id + i);
  return b->heads = h;
}

uint32_t btf_scan_essential(btf *b, const char *name, uint32_t len, void (*fn)(void *, uint32_t), void *ctx) {
  uint32_t found = 0;
  const uint16_t *heads = name_heads(b);
  uint16_t want = len ? (uint16_t)((uint8_t)name[0] | (len > 1 ? (uint8_t)name[1] << 8 : 0)) : 0;
  for (uint32_t id = first_id(b); len && id < b->info.type_count; id++) {
    if (heads && heads[OWN(b, id)] != want && len > 1) continue;
    if (heads && (uint8_t)heads[OWN(b, id)] != (uint8_t)want) continue;
    ebpf_str n = name_with_prefix(b, id, name, len);
    if (!n.len || btf_essential_len(n) != len) continue;
    fn(ctx, id);
    found++;
  }
  return found;
}

/* The first searches go through the types one by one, as libbpf's btf__find_by_name_kind does:
 * that is cheaper than hashing ~126k names for a program that looks up one attach target. */
#define LINEAR_FINDS 8

static uint32_t find_linear(btf *b, const char *name, uint32_t len, uint32_t kind) {
  for (uint32_t id = first_id(b); id < b->info.type_count; id++) {
    if (!named(b, id, name, len) || raw_kind(b, id) != kind) continue;
    if (btf_type_by_id(b, id)) return id;
  }
  return 0;
}

uint32_t btf_find(btf *b, const char *name, uint32_t len, uint32_t kind) {
  if (!len) return 0;
  if (!b->by_name && b->linear_finds < LINEAR_FINDS) {
    b->linear_finds++;
    return find_linear(b, name, len, kind);
  }
  uint32_t id = btf_find_named(b, name, len);
  if (id == EBPF_NONE) return EBPF_NONE;
  for (; id; id = btf_next_named(b, id)) {
    const ebpf_btf_type *t = btf_type_by_id(b, id);
    if (t && t->kind == kind) return id;
  }
  return 0;
}

/* ---- parsing ---- */

typedef struct parser parser;
struct parser {
  btf *b;
  ebpf_error *err;      /* where decoding errors go: the BTF's, or a scratch one for lazy decoding */
  ebpf_buf types;
  arena_vec type_vec;   /* ebpf_btf_type (eager) */
  arena_vec member_vec; /* ebpf_btf_member (eager) */
  /* Room for the vlen members of t (of type id), its first_member set; NULL when out of memory. */
  ebpf_btf_member *(*member_room)(parser *p, ebpf_btf_type *t, uint32_t id);
};

static int read_name(parser *p, uint32_t off, ebpf_str *out, uint32_t id, uint32_t type_off) {
  const char *s;
  uint32_t len;
  if (!off) { /* anonymous: half of the kernel's types */
    *out = (ebpf_str){p->b->info.strings, 0};
    return 0;
  }
  uint32_t local = off;
  const ebpf_buf *strs = string_sec(p->b, &local); /* (before local is read: it maps local) */
  if (buf_cstr(strs, local, &s, &len))
    return err_set(p->err, EBPF_ERR_BTF,
                   "BTF: type [%u] at offset %u: name offset %u is outside the string section (%u bytes) or unterminated",
                   id, type_off, off, p->b->strings.size);
  out->ptr = s;
  out->len = len;
  return 0;
}

static const uint8_t member_rec_sizes[EBPF_BTF_ENUM64 + 1] = {
    [EBPF_BTF_STRUCT] = 12, [EBPF_BTF_UNION] = 12, [EBPF_BTF_ENUM] = 8,
    [EBPF_BTF_FUNC_PROTO] = 8, [EBPF_BTF_DATASEC] = 12, [EBPF_BTF_ENUM64] = 12,
};

static int read_member(parser *p, const ebpf_btf_type *t, uint32_t id, uint32_t type_off, uint32_t off, ebpf_btf_member *m) {
  uint32_t a, b2, c = 0;
  buf_u32(&p->types, off, &a); /* in range: the caller checked the span */
  buf_u32(&p->types, off + 4, &b2);
  if (member_rec_sizes[t->kind] == 12) buf_u32(&p->types, off + 8, &c);
  *m = (ebpf_btf_member){.name = {"", 0}};
  switch (t->kind) {
    case EBPF_BTF_STRUCT: case EBPF_BTF_UNION:
      m->type = b2;
      m->offset = t->kind_flag ? c & 0xffffff : c;
      m->bitfield_size = t->kind_flag ? c >> 24 : 0;
      return read_name(p, a, &m->name, id, type_off);
    case EBPF_BTF_ENUM:
      m->value = t->kind_flag ? (uint64_t)(int64_t)(int32_t)b2 : b2;
      return read_name(p, a, &m->name, id, type_off);
    case EBPF_BTF_ENUM64:
      m->value = (uint64_t)c << 32 | b2;
      return read_name(p, a, &m->name, id, type_off);
    case EBPF_BTF_FUNC_PROTO:
      m->type = b2;
      return read_name(p, a, &m->name, id, type_off);
    default: /* DATASEC: var id, offset, size */
      m->type = a;
      m->offset = b2;
      m->bitfield_size = c;
      return 0;
  }
}

/* Reads the vlen records after a type into member records. */
static int read_members(parser *p, ebpf_btf_type *t, uint32_t id, uint32_t type_off, uint32_t *off) {
  uint32_t rec = member_rec_sizes[t->kind];
  const uint8_t *span;
  if (buf_span(&p->types, *off, (uint64_t)t->vlen * rec, &span))
    return err_set(p->err, EBPF_ERR_BTF,
                   "BTF: type [%u] (%s '%.*s') at offset %u declares %u entries of %u bytes, but only %u bytes remain",
                   id, btf_kind_name(t->kind), (int)t->name.len, t->name.ptr, type_off, t->vlen, rec,
                   p->types.size - *off);
  ebpf_btf_member *m = p->member_room(p, t, id);
  if (!m) return err_set(p->err, EBPF_ERR_NOMEM, "BTF: out of memory for members");
  for (uint32_t i = 0; i < t->vlen; i++, *off += rec)
    if (read_member(p, t, id, type_off, *off, m + i)) return -1;
  return 0;
}

/* Words after the 12-byte header: INT 1, ARRAY 3, VAR 1, DECL_TAG 1. */
static uint32_t extra_words(uint32_t kind) {
  switch (kind) {
    case EBPF_BTF_INT: case EBPF_BTF_VAR: case EBPF_BTF_DECL_TAG: return 1;
    case EBPF_BTF_ARRAY: return 3;
    default: return 0;
  }
}

/* Fills t from the words after the header (the kind's own ones), or reads its members. */
static int read_body(parser *p, ebpf_btf_type *t, uint32_t id, uint32_t start, uint32_t size_type, const uint32_t *extra,
                     uint32_t *off) {
  switch (t->kind) {
    case EBPF_BTF_INT: {
      t->size = size_type;
      t->extra = extra[0];
      uint32_t bits = extra[0] & 0xff, bit_off = (extra[0] >> 16) & 0xff;
      if (size_type == 0 || size_type > 16 || bits > 128 || bits + bit_off > size_type * 8)
        return err_set(p->err, EBPF_ERR_BTF, "BTF: type [%u] (int '%.*s') has size %u with %u bits at bit %u",
                       id, (int)t->name.len, t->name.ptr, size_type, bits, bit_off);
      t->vlen = 0;
      return 0;
    }
    case EBPF_BTF_FLOAT:
      t->size = size_type;
      t->vlen = 0;
      return 0;
    case EBPF_BTF_PTR: case EBPF_BTF_TYPEDEF: case EBPF_BTF_VOLATILE: case EBPF_BTF_CONST:
    case EBPF_BTF_RESTRICT: case EBPF_BTF_TYPE_TAG: case EBPF_BTF_FWD:
      t->type = t->kind == EBPF_BTF_FWD ? 0 : size_type;
      t->vlen = 0;
      return 0;
    case EBPF_BTF_FUNC:
      t->type = size_type;
      t->extra = t->vlen; /* linkage */
      t->vlen = 0;
      return 0;
    case EBPF_BTF_ARRAY:
      t->type = extra[0];
      t->extra = extra[1];
      t->nelems = extra[2];
      t->vlen = 0;
      return 0;
    case EBPF_BTF_VAR: case EBPF_BTF_DECL_TAG:
      t->type = size_type;
      t->extra = extra[0];
      t->vlen = 0;
      return 0;
    case EBPF_BTF_STRUCT: case EBPF_BTF_UNION: case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64: case EBPF_BTF_DATASEC:
      t->size = size_type;
      return read_members(p, t, id, start, off);
    case EBPF_BTF_FUNC_PROTO:
      t->type = size_type;
      return read_members(p, t, id, start, off);
    default:
      return err_set(p->err, EBPF_ERR_BTF, "BTF: type [%u] at offset %u has unknown kind %u", id, start, t->kind);
  }
}

/* Decodes the type at *off into t, advancing *off past it. */
static int read_type(parser *p, uint32_t id, uint32_t *off, ebpf_btf_type *t) {
  uint32_t start = *off, name_off, info, size_type;
  if (buf_u32(&p->types, start, &name_off) || buf_u32(&p->types, start + 4, &info) ||
      buf_u32(&p->types, start + 8, &size_type))
    return err_set(p->err, EBPF_ERR_BTF, "BTF: type [%u] at offset %u is truncated (the type section has %u bytes)",
                   id, start, p->types.size);
  *off += 12;
  *t = (ebpf_btf_type){.name = {"", 0}};
  t->kind = (info >> 24) & 0x1f;
  t->kind_flag = info >> 31;
  t->vlen = info & 0xffff;
  if (read_name(p, name_off, &t->name, id, start)) return -1;
  uint32_t extra[3];
  for (uint32_t i = 0; i < extra_words(t->kind); i++, *off += 4) {
    if (buf_u32(&p->types, *off, &extra[i]))
      return err_set(p->err, EBPF_ERR_BTF, "BTF: type [%u] (%s) at offset %u is truncated (the type section has %u bytes)",
                     id, btf_kind_name(t->kind), start, p->types.size);
  }
  return read_body(p, t, id, start, size_type, extra, off);
}

static int bad_ref(const btf *b, ebpf_error *err, uint32_t id, const ebpf_btf_type *t, uint32_t ref, const char *what) {
  return err_set(err, EBPF_ERR_BTF, "BTF: type [%u] (%s '%.*s') %s type [%u], but the last type id is %u", id,
                 btf_kind_name(t->kind), (int)t->name.len, t->name.ptr, what, ref, b->info.type_count - 1);
}

/* A decl_tag's component index is -1 (the type itself) or names a member of the struct/union or a
 * parameter of the func it tags. */
static int check_tag_component(const btf *b, uint32_t id) {
  const ebpf_btf_type *t = &b->info.types[id], *target = &b->info.types[t->type];
  int32_t component = (int32_t)t->extra;
  if (component == -1) return 0;
  uint32_t count = 0;
  if (target->kind == EBPF_BTF_STRUCT || target->kind == EBPF_BTF_UNION) count = target->vlen;
  else if (target->kind == EBPF_BTF_FUNC && target->type < b->info.type_count) count = b->info.types[target->type].vlen;
  if (component >= 0 && (uint32_t)component < count) return 0;
  return err_set(b->err, EBPF_ERR_BTF, "BTF: decl_tag [%u] '%.*s' names component %d of type [%u] (%s), which has %u",
                 id, (int)t->name.len, t->name.ptr, component, t->type, btf_kind_name(target->kind), count);
}

/* The kind of type id, read from the raw type section (lazy BTF: without decoding it). */
static uint32_t raw_kind(const btf *b, uint32_t id) {
  if (id < b->start_id) return raw_kind(b->base, id);
  if (!b->lazy) return b->info.types[id].kind;
  uint32_t info = 0;
  buf_u32(&b->type_sec, (uint64_t)b->type_offsets[OWN(b, id)] + 4, &info);
  return (info >> 24) & 0x1f;
}

/* The references of one decoded type: existing ids, FUNCs of FUNC_PROTOs, DATASECs of VARs/FUNCs. */
static int check_type_refs(const btf *b, ebpf_error *err, uint32_t id, const ebpf_btf_type *t, const ebpf_btf_member *m) {
  uint32_t n = b->info.type_count;
  if (t->type >= n) return bad_ref(b, err, id, t, t->type, "refers to");
  if (t->kind == EBPF_BTF_ARRAY && t->extra >= n) return bad_ref(b, err, id, t, t->extra, "has index");
  if (t->kind == EBPF_BTF_FUNC && raw_kind(b, t->type) != EBPF_BTF_FUNC_PROTO)
    return err_set(err, EBPF_ERR_BTF, "BTF: func [%u] '%.*s' has type [%u], a %s, not a func_proto", id,
                   (int)t->name.len, t->name.ptr, t->type, btf_kind_name(raw_kind(b, t->type)));
  if (t->kind == EBPF_BTF_ENUM || t->kind == EBPF_BTF_ENUM64) return 0;
  for (uint32_t i = 0; i < t->vlen; i++) {
    if (m[i].type >= n) return bad_ref(b, err, id, t, m[i].type, "has a member of");
    uint32_t k = t->kind == EBPF_BTF_DATASEC ? raw_kind(b, m[i].type) : EBPF_BTF_VAR;
    if (k != EBPF_BTF_VAR && k != EBPF_BTF_FUNC)
      return err_set(err, EBPF_ERR_BTF, "BTF: datasec [%u] '%.*s' entry %u is type [%u], a %s, not a var", id,
                     (int)t->name.len, t->name.ptr, i, m[i].type, btf_kind_name(k));
  }
  return 0;
}

/* Every reference names an existing type, FUNCs point at FUNC_PROTOs, DATASECs hold VARs/FUNCs. */
static int check_refs(const btf *b) {
  for (uint32_t id = 1; id < b->info.type_count; id++) {
    const ebpf_btf_type *t = &b->info.types[id];
    if (check_type_refs(b, b->err, id, t, btf_members(b, t))) return b->err->status;
    if (t->kind == EBPF_BTF_DECL_TAG && check_tag_component(b, id)) return b->err->status;
  }
  return 0;
}

/* Rejects cycles through chain kinds (typedef -> const -> typedef ...), in linear time:
 * state 1 = on the path being walked, 2 = known to end. */
static int check_loops(const btf *b) {
  uint32_t n = b->info.type_count;
  uint8_t *state = arena_alloc(b->mem, n);
  if (!state) return err_set(b->err, EBPF_ERR_NOMEM, "BTF: out of memory for %u types", n);
  const ebpf_btf_type *types = b->info.types;
  for (uint32_t id = 1; id < n; id++) {
    uint32_t cur = id;
    while (cur && !state[cur] && is_chain_kind(types[cur].kind)) {
      state[cur] = 1;
      cur = types[cur].type;
    }
    if (cur && state[cur] == 1)
      return err_set(b->err, EBPF_ERR_BTF, "BTF: type [%u] (%s '%.*s') is part of a reference loop", cur,
                     btf_kind_name(types[cur].kind), (int)types[cur].name.len, types[cur].name.ptr);
    for (cur = id; cur && state[cur] == 1; cur = types[cur].type) state[cur] = 2;
  }
  return 0;
}

/* The header, string and type sections of a .BTF: a btf with its buffers set, no types yet. */
static int parse_header(arena *mem, const ebpf_buf *section, const btf *base, ebpf_error *err, btf **out) {
  ebpf_buf h = *section;
  h.big_endian = 0;
  uint16_t magic;
  uint8_t version;
  uint32_t hdr_len, type_off, type_len, str_off, str_len;
  if (buf_u16(&h, 0, &magic) || buf_u8(&h, 2, &version) || buf_u32(&h, 4, &hdr_len))
    return err_set(err, EBPF_ERR_BTF, "BTF: %u bytes are too short for a header", section->size);
  if (magic == BTF_MAGIC) h.big_endian = 0;
  else if (magic == 0x9FEBu) h.big_endian = 1;
  else return err_set(err, EBPF_ERR_BTF, "BTF: bad magic 0x%x (expected 0xeb9f)", magic);
  if (version != 1) return err_set(err, EBPF_ERR_BTF, "BTF: unsupported version %u", version);
  buf_u32(&h, 4, &hdr_len);
  if (hdr_len < BTF_HEADER_SIZE || hdr_len > h.size)
    return err_set(err, EBPF_ERR_BTF, "BTF: header length %u is outside [%u, %u]", hdr_len, BTF_HEADER_SIZE, h.size);
  buf_u32(&h, 8, &type_off);
  buf_u32(&h, 12, &type_len);
  buf_u32(&h, 16, &str_off);
  buf_u32(&h, 20, &str_len);
  ebpf_buf body, types, strings;
  buf_sub(&h, hdr_len, h.size - hdr_len, &body);
  if (buf_sub(&body, type_off, type_len, &types))
    return err_set(err, EBPF_ERR_BTF, "BTF: type section (offset %u, %u bytes) lies outside the %u bytes after the header",
                   type_off, type_len, body.size);
  if (buf_sub(&body, str_off, str_len, &strings))
    return err_set(err, EBPF_ERR_BTF, "BTF: string section (offset %u, %u bytes) lies outside the %u bytes after the header",
                   str_off, str_len, body.size);
  if (!base && (str_len == 0 || strings.data[0] != 0 || strings.data[str_len - 1] != 0))
    return err_set(err, EBPF_ERR_BTF, "BTF: the string section must start and end with a NUL (%u bytes)", str_len);
  if (base && str_len && strings.data[str_len - 1] != 0)
    return err_set(err, EBPF_ERR_BTF, "BTF: the string section must end with a NUL (%u bytes)", str_len);
  if (type_len % 4)
    return err_set(err, EBPF_ERR_BTF, "BTF: type section length %u is not a multiple of 4", type_len);
  btf *b = arena_alloc(mem, sizeof *b);
  if (!b) return err_set(err, EBPF_ERR_NOMEM, "BTF: out of memory");
  b->mem = mem;
  b->err = err;
  b->strings = strings;
  b->raw = h;
  b->type_sec = types;
  b->types_start = hdr_len + type_off;
  b->info.big_endian = (uint32_t)h.big_endian;
  b->info.string_size = str_len;
  b->info.strings = (const char *)strings.data;
  if (base) {
    b->base = base;
    b->start_id = base->info.type_count;
    b->start_str = base->info.string_size;
  }
  *out = b;
  return 0;
}

static ebpf_btf_member *eager_room(parser *p, ebpf_btf_type *t, uint32_t id) {
  (void)id;
  arena_vec *mv = &p->member_vec;
  t->first_member = mv->count;
  static ebpf_btf_member none[1];
  if (t->vlen == 0) return none; /* nothing is written: the member array may not exist yet */
  uint32_t need = mv->count + t->vlen; /* grown geometrically, and not per member */
  if (need > mv->capacity && vec_reserve(p->b->mem, mv, need > 2 * mv->capacity ? need : 2 * mv->capacity)) return NULL;
  ebpf_btf_member *m = (ebpf_btf_member *)mv->items + mv->count;
  mv->count = need;
  return m;
}

int btf_parse(arena *mem, const ebpf_buf *section, ebpf_error *err, btf **out) {
  btf *b;
  if (parse_header(mem, section, NULL, err, &b)) return err->status;
  uint32_t type_len = b->type_sec.size;
  parser p = {.b = b, .err = err, .types = b->type_sec, .member_room = eager_room};
  vec_init(&p.type_vec, sizeof(ebpf_btf_type));
  vec_init(&p.member_vec, sizeof(ebpf_btf_member));
  /* a type takes at least 12 bytes: that many records never need regrowing */
  uint32_t max_types = type_len / 12 + 1;
  b->type_offsets = arena_array_uninit(mem, max_types, sizeof(uint32_t));
  if (!b->type_offsets || vec_reserve(mem, &p.type_vec, max_types) || !vec_push(mem, &p.type_vec))
    return err_set(err, EBPF_ERR_NOMEM, "BTF: out of memory for type records");
  ((ebpf_btf_type *)p.type_vec.items)[0].name.ptr = "";
  for (uint32_t off = 0, id = 1; off < p.types.size; id++) {
    b->type_offsets[id] = off;
    if (read_type(&p, id, &off, (ebpf_btf_type *)p.type_vec.items + p.type_vec.count++)) return err->status;
  }
  b->info.types = (const ebpf_btf_type *)p.type_vec.items;
  b->info.type_count = p.type_vec.count;
  b->info.members = (const ebpf_btf_member *)p.member_vec.items;
  b->info.member_count = p.member_vec.count;
  if (check_refs(b) || check_loops(b)) return err->status;
  *out = b;
  return 0;
}

/* ---- lazy BTF: types decoded on first access (the kernel's ~126k, of which a load needs few) ---- */

/* The bytes a type takes in the type section, from its info word; 0 for an unknown kind. */
static uint64_t type_bytes(uint32_t info) {
  uint32_t kind = (info >> 24) & 0x1f, vlen = info & 0xffff;
  if (kind > EBPF_BTF_ENUM64 || kind == EBPF_BTF_VOID) return 0;
  return 12 + 4 * extra_words(kind) + (uint64_t)vlen * member_rec_sizes[kind];
}

static ebpf_btf_member *lazy_room(parser *p, ebpf_btf_type *t, uint32_t id) {
  t->first_member = p->b->member_first[OWN(p->b, id)];
  return p->b->member_records + t->first_member;
}

/* One pass over the type section: where each type starts, its name and where its members go
 * (arrays indexed by OWN(id); a base BTF's start with void). */
static int scan_types(btf *b) {
  const ebpf_buf *ts = &b->type_sec;
  uint32_t max_types = ts->size / 12 + 1, id = first_id(b), members = 0;
  b->type_offsets = arena_array_uninit(b->mem, max_types, sizeof(uint32_t));
  b->name_offs = arena_array_uninit(b->mem, max_types, sizeof(uint32_t));
  b->member_first = arena_array_uninit(b->mem, max_types, sizeof(uint32_t));
  if (!b->type_offsets || !b->name_offs || !b->member_first) return err_set(b->err, EBPF_ERR_NOMEM, "BTF: out of memory for %u types", max_types);
  b->name_offs[0] = 0;
  for (uint32_t off = 0; off < ts->size; id++) {
    uint32_t name_off, info;
    if (buf_u32(ts, off, &name_off) || buf_u32(ts, (uint64_t)off + 4, &info))
      return err_set(b->err, EBPF_ERR_BTF, "BTF: type [%u] at offset %u is truncated (the type section has %u bytes)", id, off, ts->size);
    uint64_t size = type_bytes(info);
    if (!size) return err_set(b->err, EBPF_ERR_BTF, "BTF: type [%u] at offset %u has unknown kind %u", id, off, (info >> 24) & 0x1f);
    if (size > ts->size - off)
      return err_set(b->err, EBPF_ERR_BTF, "BTF: type [%u] at offset %u takes %llu bytes, but only %u remain", id, off,
                     (unsigned long long)size, ts->size - off);
    b->type_offsets[OWN(b, id)] = off;
    b->name_offs[OWN(b, id)] = name_off;
    b->member_first[OWN(b, id)] = members;
    if (member_rec_sizes[(info >> 24) & 0x1f]) members += info & 0xffff;
    off += (uint32_t)size;
  }
  b->info.type_count = id;
  b->info.member_count = members;
  return 0;
}

static int parse_lazy(arena *mem, const ebpf_buf *section, const btf *base, ebpf_error *err, btf **out) {
  btf *b;
  if (parse_header(mem, section, base, err, &b) || scan_types(b)) return err->status;
  uint32_t own = b->info.type_count - b->start_id;
  b->lazy = 1;
  b->ready = arena_alloc(mem, own ? own : 1);
  ebpf_btf_type *types = arena_array_uninit(mem, own ? own : 1, sizeof(ebpf_btf_type));
  b->member_records = arena_array_uninit(mem, b->info.member_count ? b->info.member_count : 1, sizeof(ebpf_btf_member));
  if (!b->ready || !types || !b->member_records) return err_set(err, EBPF_ERR_NOMEM, "BTF: out of memory for %u types", own);
  if (!base) {
    types[0] = (ebpf_btf_type){.name = {"", 0}};
    b->ready[0] = 1;
  }
  b->info.types = types;
  b->info.members = b->member_records;
  *out = b;
  return 0;
}

int btf_parse_lazy(arena *mem, const ebpf_buf *section, ebpf_error *err, btf **out) {
  return parse_lazy(mem, section, NULL, err, out);
}

int btf_parse_lazy_split(arena *mem, const ebpf_buf *section, const btf *base, ebpf_error *err, btf **out) {
  return parse_lazy(mem, section, base, err, out);
}

/* Decodes type id of a lazy BTF into its record (once); 0, or -1 when it is malformed. */
static int materialize(btf *b, uint32_t id) {
  uint32_t own = OWN(b, id);
  if (b->ready[own]) return b->ready[own] == 1 ? 0 : -1;
  ebpf_error scratch = {0};
  parser p = {.b = b, .err = &scratch, .types = b->type_sec, .member_room = lazy_room};
  ebpf_btf_type *t = (ebpf_btf_type *)b->info.types + own;
  uint32_t off = b->type_offsets[own];
  int bad = read_type(&p, id, &off, t) || check_type_refs(b, &scratch, id, t, btf_members(b, t));
  b->ready[own] = bad ? 2 : 1;
  return bad ? -1 : 0;
}

const ebpf_btf_type *btf_type_by_id(const btf *b, uint32_t id) {
  if (id < b->start_id) return btf_type_by_id(b->base, id);
  if (id >= b->info.type_count) return NULL;
  if (b->lazy && materialize((btf *)b, id)) return NULL; /* the record is a cache of the raw type */
  return &b->info.types[OWN(b, id)];
}

const ebpf_btf_member *btf_members(const btf *b, const ebpf_btf_type *t) {
  if (b->base && (t < b->info.types || t >= b->info.types + (b->info.type_count - b->start_id)))
    return btf_members(b->base, t); /* a type of the base */
  return t->vlen ? b->info.members + t->first_member : NULL; /* members is NULL when no type has any */
}

ebpf_str btf_name_of(const btf *b, uint32_t id) {
  if (id < b->start_id) return btf_name_of(b->base, id);
  if (!b->lazy) return id < b->info.type_count ? b->info.types[id].name : (ebpf_str){"", 0};
  ebpf_str s = {"", 0};
  uint32_t off = id < b->info.type_count ? b->name_offs[OWN(b, id)] : 0;
  if (!off) return s;
  const ebpf_buf *strs = string_sec(b, &off); /* (before off is read: it maps off) */
  if (buf_cstr(strs, off, &s.ptr, &s.len)) s = (ebpf_str){"", 0};
  return s;
}

/* CO-RE relocation as libbpf's bpf_object__relocate_core and relo_core.c do it: each .BTF.ext
 * core_relo record resolved against a target BTF (values for the local and the target spec, the
 * candidates agreeing), then checked against its instruction by a dry run of the patch. The results
 * stay with the object; ebpf_program_relocate patches the image with core_apply. */
#include <stdarg.h>
#include <string.h>

#include "core_relo.h"
#include "elf.h"

#define INSN_SIZE 8u
#define POISON_IMM 0xbad2310 /* libbpf: "invalid func unknown#195896080" if the verifier reaches it */
#define SPEC_TEXT_MAX 256

static const char *const kind_names[] = {
    "byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64", "local_type_id",
    "target_type_id", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
};

/* libbpf's bpf_core_relo_res. */
typedef struct {
  uint64_t orig_val, new_val;
  uint32_t orig_sz, new_sz, orig_type_id, new_type_id;
  int poison, validate, fail_memsz;
} core_res;

typedef struct {
  uint32_t *ids;
  uint32_t *btfs; /* per candidate: its target (0 the kernel's, 1.. a module's) */
  uint32_t count;
} cand_list;

#define MAX_TARGETS 4096

typedef struct {
  ebpf_object *obj;
  const btf *local;
  btf *target;    /* the kernel's (or the one given) */
  btf **modules;  /* kernel modules' split BTFs, searched when the kernel's has no candidate */
  uint32_t module_count;
  uint32_t searching; /* the target being searched: 0 the kernel's, 1 + i module i */
  ebpf_error *err;
  cand_list *cands;  /* per local type id, found on first use (count EBPF_NONE: not yet) */
  arena_vec scratch; /* uint32_t pairs (target, id) while collecting candidates */
  core_spec specs[3]; /* local, candidate, chosen target */
  char why[EBPF_ERROR_MAX];
} core_ctx;

/* ---- text ---- */

static void append(char *buf, uint32_t *len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (*len < SPEC_TEXT_MAX - 1) *len += str_vformat(buf + *len, SPEC_TEXT_MAX - *len, fmt, ap);
  va_end(ap);
}

static ebpf_str keep(core_ctx *c, const char *s, uint32_t len) {
  char *copy = arena_alloc(&c->obj->mem, (uint64_t)len + 1);
  if (!copy) return (ebpf_str){"", 0};
  memcpy(copy, s, len);
  return (ebpf_str){copy, len};
}

static void format_enumval(const core_spec *s, const ebpf_btf_type *t, char *buf, uint32_t *len) {
  const ebpf_btf_member *e = btf_members(s->b, t) + s->raw[0];
  int nl = (int)e->name.len;
  if (t->kind == EBPF_BTF_ENUM && t->kind_flag) append(buf, len, "::%.*s = %d", nl, e->name.ptr, (int32_t)e->value);
  else if (t->kind == EBPF_BTF_ENUM) append(buf, len, "::%.*s = %u", nl, e->name.ptr, (uint32_t)e->value);
  else if (t->kind_flag) append(buf, len, "::%.*s = %lld", nl, e->name.ptr, (long long)e->value);
  else append(buf, len, "::%.*s = %llu", nl, e->name.ptr, (unsigned long long)e->value);
}

/* libbpf's bpf_core_format_spec: "<kind> [id] struct name.field[2] (0:1:2 @ offset 8)". */
static ebpf_str format_spec(core_ctx *c, const core_spec *s) {
  char buf[SPEC_TEXT_MAX];
  uint32_t len = 0;
  const ebpf_btf_type *t = btf_type_by_id(s->b, s->root_type_id);
  if (!t) return (ebpf_str){"", 0};
  append(buf, &len, "<%s> [%u] %s %.*s", kind_names[s->kind], s->root_type_id, btf_kind_name(t->kind),
         t->name.len ? (int)t->name.len : 6, t->name.len ? t->name.ptr : "<anon>");
  if (core_is_enumval_kind(s->kind) && s->raw_len) {
    const ebpf_btf_type *e = core_skip(s->b, s->root_type_id, NULL);
    if (e && s->raw[0] < e->vlen) format_enumval(s, e, buf, &len);
  } else if (core_is_field_kind(s->kind)) {
    for (uint32_t i = 0; i < s->len; i++) {
      if (s->acc[i].name.len) append(buf, &len, ".%.*s", (int)s->acc[i].name.len, s->acc[i].name.ptr);
      else if (i > 0 || s->acc[i].idx > 0) append(buf, &len, "[%u]", s->acc[i].idx);
    }
    append(buf, &len, " (");
    for (uint32_t i = 0; i < s->raw_len; i++) append(buf, &len, "%s%u", i ? ":" : "", s->raw[i]);
    if (s->bit_offset % 8) append(buf, &len, " @ offset %u.%u)", s->bit_offset / 8, s->bit_offset % 8);
    else append(buf, &len, " @ offset %u)", s->bit_offset / 8);
  }
  return keep(c, buf, len);
}

static int why(core_ctx *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  str_vformat(c->why, sizeof c->why, fmt, ap);
  va_end(ap);
  return code;
}

/* ---- values (libbpf's bpf_core_calc_*_relo) ---- */

typedef struct {
  uint64_t val;
  uint32_t field_sz, type_id;
} field_val;

static int array_field(core_ctx *c, const core_spec *s, const core_accessor *acc, field_val *out, int *validate) {
  uint64_t sz;
  if (s->kind != EBPF_CORE_FIELD_BYTE_OFFSET && s->kind != EBPF_CORE_FIELD_BYTE_SIZE)
    return why(c, CORE_ERR, "a %s relocation cannot apply to an array element", kind_names[s->kind]);
  if (core_type_size(s->b, acc->type_id, &sz)) return why(c, CORE_ERR, "type [%u] has no size", acc->type_id);
  if (s->kind == EBPF_CORE_FIELD_BYTE_OFFSET) {
    out->val = s->bit_offset / 8;
    out->field_sz = (uint32_t)sz;
    out->type_id = acc->type_id;
  } else {
    out->val = sz;
  }
  if (validate) *validate = 1;
  return 0;
}

/* Where a bitfield is loaded from: the smallest naturally aligned load covering it. */
static int bitfield_bytes(core_ctx *c, uint32_t bit_off, uint32_t bit_sz, uint32_t *byte_off, uint32_t *byte_sz) {
  if (*byte_sz == 0) return why(c, CORE_ERR, "a bitfield of a type of size 0");
  *byte_off = bit_off / 8 / *byte_sz * *byte_sz;
  while (bit_off + bit_sz - *byte_off * 8 > *byte_sz * 8) {
    if (*byte_sz >= 8) return why(c, CORE_ERR, "the bitfield cannot be read with a 64-bit load");
    *byte_sz *= 2;
    *byte_off = bit_off / 8 / *byte_sz * *byte_sz;
  }
  return 0;
}

static int calc_field(core_ctx *c, uint32_t kind, const core_spec *s, field_val *out, int *validate) {
  *out = (field_val){0, 0, 0};
  if (kind == EBPF_CORE_FIELD_EXISTS) return (int)(out->val = s ? 1 : 0, 0);
  if (!s) return CORE_POISON;
  const core_accessor *acc = &s->acc[s->len - 1];
  if (!acc->name.len) return array_field(c, s, acc, out, validate);
  const ebpf_btf_member *m = btf_members(s->b, btf_type_by_id(s->b, acc->type_id)) + acc->idx;
  uint32_t field_id;
  const ebpf_btf_type *mt = core_skip(s->b, m->type, &field_id);
  if (!mt) return why(c, CORE_ERR, "member '%.*s' has a bad type", (int)m->name.len, m->name.ptr);
  uint32_t bit_off = s->bit_offset, bit_sz = m->bitfield_size, byte_off, byte_sz;
  int bitfield = bit_sz > 0;
  if (bitfield) {
    byte_sz = mt->size;
    if (bitfield_bytes(c, bit_off, bit_sz, &byte_off, &byte_sz)) return CORE_ERR;
  } else {
    uint64_t sz;
    if (core_type_size(s->b, field_id, &sz)) return why(c, CORE_ERR, "member '%.*s' has no size", (int)m->name.len, m->name.ptr);
    byte_sz = (uint32_t)sz;
    byte_off = bit_off / 8;
    bit_sz = byte_sz * 8;
  }
  if (validate) *validate = !bitfield;
  switch (kind) {
    case EBPF_CORE_FIELD_BYTE_OFFSET:
      out->val = byte_off;
      if (!bitfield) out->field_sz = byte_sz, out->type_id = field_id;
      return 0;
    case EBPF_CORE_FIELD_BYTE_SIZE:
      out->val = byte_sz;
      return 0;
    case EBPF_CORE_FIELD_SIGNED:
      out->val = ((mt->kind == EBPF_BTF_ENUM || mt->kind == EBPF_BTF_ENUM64) && mt->kind_flag) ||
                 (mt->kind == EBPF_BTF_INT && ((mt->extra >> 24) & 1));
      if (validate) *validate = 1;
      return 0;
    case EBPF_CORE_FIELD_LSHIFT_U64: /* as the target kernel's byte order (the object's) reads it */
      out->val = c->obj->info.big_endian ? (8 - byte_sz) * 8 + (bit_off - byte_off * 8) : 64 - (bit_off + bit_sz - byte_off * 8);
      return 0;
    default: /* RSHIFT_U64 */
      out->val = 64 - bit_sz;
      if (validate) *validate = 1;
      return 0;
  }
}

static int calc_type(core_ctx *c, uint32_t kind, const core_spec *s, uint64_t *val, int *validate) {
  if (validate) *validate = 1;
  *val = 0;
  if (!s) return 0; /* type-based relocations are 0 when the type is not found */
  uint64_t sz;
  switch (kind) {
    case EBPF_CORE_TYPE_ID_TARGET:
      *val = s->root_type_id;
      if (validate) *validate = 0; /* ids change when objects are linked */
      return 0;
    case EBPF_CORE_TYPE_EXISTS: case EBPF_CORE_TYPE_MATCHES:
      *val = 1;
      return 0;
    default: /* TYPE_SIZE */
      if (core_type_size(s->b, s->root_type_id, &sz)) return why(c, CORE_ERR, "type [%u] has no size", s->root_type_id);
      *val = sz;
      return 0;
  }
}

static int calc_enumval(uint32_t kind, const core_spec *s, uint64_t *val) {
  if (kind == EBPF_CORE_ENUMVAL_EXISTS) return (int)(*val = s ? 1 : 0, 0);
  if (!s) return CORE_POISON;
  const ebpf_btf_type *t = btf_type_by_id(s->b, s->acc[0].type_id);
  const ebpf_btf_member *e = btf_members(s->b, t) + s->acc[0].idx;
  /* libbpf reads a 32-bit enumerator as a signed int whatever the enum's signedness */
  *val = t->kind == EBPF_BTF_ENUM ? (uint64_t)(int64_t)(int32_t)(uint32_t)e->value : e->value;
  return 0;
}

/* Loads and stores may change size only for pointers and unsigned integers (zero extension). */
static int memsz_adjust_fails(const core_spec *local, const core_spec *targ, const core_res *r) {
  if (r->orig_sz == r->new_sz) return 0;
  const ebpf_btf_type *o = btf_type_by_id(local->b, r->orig_type_id), *n = btf_type_by_id(targ->b, r->new_type_id);
  if (!o || !n) return 1;
  if (o->kind == EBPF_BTF_PTR && n->kind == EBPF_BTF_PTR) return 0;
  return !(o->kind == EBPF_BTF_INT && n->kind == EBPF_BTF_INT && ((o->extra >> 24) & 0xf) != 1 && ((n->extra >> 24) & 0xf) != 1);
}

static int calc_relo(core_ctx *c, uint32_t kind, const core_spec *local, const core_spec *targ, core_res *r) {
  *r = (core_res){.validate = 1};
  int err = CORE_ERR;
  if (core_is_field_kind(kind)) {
    field_val o, n;
    err = calc_field(c, kind, local, &o, &r->validate);
    if (!err) err = calc_field(c, kind, targ, &n, NULL);
    if (!err) {
      r->orig_val = o.val, r->orig_sz = o.field_sz, r->orig_type_id = o.type_id;
      r->new_val = n.val, r->new_sz = n.field_sz, r->new_type_id = n.type_id;
      r->fail_memsz = memsz_adjust_fails(local, targ, r);
    }
  } else if (core_is_type_kind(kind)) {
    err = calc_type(c, kind, local, &r->orig_val, &r->validate);
    if (!err) err = calc_type(c, kind, targ, &r->new_val, NULL);
  } else if (core_is_enumval_kind(kind)) {
    err = calc_enumval(kind, local, &r->orig_val);
    if (!err) err = calc_enumval(kind, targ, &r->new_val);
  }
  if (err == CORE_POISON) {
    r->poison = 1;
    why(c, 0, "no %s in the target BTF matches", core_is_enumval_kind(kind) ? "enumerator" : "field");
    return 0;
  }
  return err;
}

/* ---- candidates, kept per local type and narrowed as relocations match (libbpf's cand_cache) ---- */

static void collect(void *ctx, uint32_t id) {
  core_ctx *c = ctx;
  uint32_t *slot = vec_push(&c->obj->mem, &c->scratch);
  if (slot) slot[0] = c->searching, slot[1] = id;
}

static btf *target_of(const core_ctx *c, uint32_t k) { return k ? c->modules[k - 1] : c->target; }

/* The kernel's candidates; the modules' when it has none (libbpf's bpf_core_find_cands). */
static int search(core_ctx *c, const ebpf_btf_type *t) {
  for (c->searching = 0; c->searching <= c->module_count; c->searching++) {
    if (core_find_candidates(target_of(c, c->searching), t->name, t->kind, collect, c)) return -1;
    if (c->searching == 0 && c->scratch.count) return 0;
  }
  return 0;
}

static int candidates(core_ctx *c, uint32_t local_id, cand_list **out) {
  cand_list *l = &c->cands[local_id];
  *out = l;
  if (l->count != EBPF_NONE) return 0;
  const ebpf_btf_type *t = btf_type_by_id(c->local, local_id);
  if (!t->name.len) return why(c, CORE_ERR, "candidates are not searched for anonymous types");
  c->scratch.count = 0;
  if (search(c, t)) return why(c, CORE_ERR, "out of memory searching candidates");
  uint32_t n = c->scratch.count;
  l->ids = arena_array(&c->obj->mem, n ? n : 1, sizeof(uint32_t));
  l->btfs = arena_array(&c->obj->mem, n ? n : 1, sizeof(uint32_t));
  if (!l->ids || !l->btfs) return why(c, CORE_ERR, "out of memory for candidates");
  const uint32_t *pairs = (const uint32_t *)c->scratch.items;
  for (uint32_t i = 0; i < n; i++) l->btfs[i] = pairs[2 * i], l->ids[i] = pairs[2 * i + 1];
  l->count = n;
  return 0;
}

/* libbpf's bpf_core_calc_relo_insn over the candidates of the record's local type. */
static int resolve(core_ctx *c, const ebpf_btf_core_relo *rec, ebpf_core_result *out, core_res *res) {
  core_spec *local = &c->specs[0], *cand = &c->specs[1], *targ = &c->specs[2];
  if (core_parse_spec(c->local, rec->type_id, rec->kind, rec->access, local))
    return why(c, CORE_ERR, "the access string does not parse against the local type");
  out->local_spec = format_spec(c, local);
  if (rec->kind == EBPF_CORE_TYPE_ID_LOCAL) {
    *res = (core_res){.orig_val = rec->type_id, .new_val = rec->type_id};
    return 0;
  }
  cand_list *cands;
  if (candidates(c, rec->type_id, &cands)) return CORE_ERR;
  uint32_t j = 0;
  if (!cands->count || cands->btfs[0]) out->flags |= EBPF_CORE_NO_KERNEL_CANDIDATE;
  for (uint32_t i = 0; i < cands->count; i++) {
    int m = core_spec_match(local, target_of(c, cands->btfs[i]), cands->ids[i], cand);
    if (m < 0) return why(c, CORE_ERR, "error matching candidate [%u]", cands->ids[i]);
    if (m == 0) continue;
    core_res r;
    if (calc_relo(c, rec->kind, local, cand, &r)) return CORE_ERR;
    if (j == 0) {
      *res = r;
      *targ = *cand;
      out->target_btf = cands->btfs[i];
    } else if (cand->bit_offset != targ->bit_offset) {
      return why(c, CORE_ERR, "field offset ambiguity: candidates [%u] and [%u] put it at bit %u and %u", targ->root_type_id,
                 cand->root_type_id, targ->bit_offset, cand->bit_offset);
    } else if (r.poison != res->poison || r.new_val != res->new_val) {
      return why(c, CORE_ERR, "relocation decision ambiguity: candidates [%u] and [%u] give %s %llu and %s %llu",
                 targ->root_type_id, cand->root_type_id, res->poison ? "failure" : "success",
                 (unsigned long long)res->new_val, r.poison ? "failure" : "success", (unsigned long long)r.new_val);
    }
    cands->btfs[j] = cands->btfs[i];
    cands->ids[j++] = cands->ids[i];
  }
  out->candidates = j;
  if (j > 0) {
    cands->count = j;
    out->target_type_id = targ->root_type_id;
    out->target_spec = format_spec(c, targ);
    return 0;
  }
  if (calc_relo(c, rec->kind, local, NULL, res)) return CORE_ERR;
  const ebpf_btf_type *t = btf_type_by_id(c->local, rec->type_id);
  if (res->poison && !cands->count)
    why(c, 0, "the target BTF has no %s named '%.*s' (flavor ignored)", btf_kind_name(t->kind), (int)core_essential_len(t->name), t->name.ptr);
  else if (res->poison)
    why(c, 0, "none of the %u candidate types of the target BTF has a matching %s", cands->count,
        core_is_enumval_kind(rec->kind) ? "enumerator" : "field");
  return 0;
}

/* ---- instructions ---- */

static uint8_t src_reg(const uint8_t *insn, int be) { return be ? insn[1] & 0xf : insn[1] >> 4; }

static int16_t off_of(const uint8_t *insn, int be) {
  return (int16_t)(be ? (insn[2] << 8 | insn[3]) : (insn[3] << 8 | insn[2]));
}

static int32_t imm_of(const uint8_t *insn, int be) {
  ebpf_buf b = {insn, INSN_SIZE, be};
  int32_t v = 0;
  buf_i32(&b, 4, &v);
  return v;
}

static void set_off(uint8_t *insn, int16_t v, int be) {
  insn[be ? 2 : 3] = (uint8_t)((uint16_t)v >> 8);
  insn[be ? 3 : 2] = (uint8_t)v;
}

static void poison(uint8_t *insn, int be) {
  insn[0] = 0x85; /* BPF_JMP | BPF_CALL */
  insn[1] = 0;
  set_off(insn, 0, be);
  store_u32_order(insn + 4, POISON_IMM, be);
}

static int size_bytes(uint8_t code) {
  static const int sizes[] = {4, 2, 1, 8}; /* BPF_W, BPF_H, BPF_B, BPF_DW */
  return sizes[(code >> 3) & 3];
}

static int size_code(uint32_t bytes) {
  switch (bytes) {
    case 4: return 0x00;
    case 2: return 0x08;
    case 1: return 0x10;
    case 8: return 0x18;
    default: return -1;
  }
}

static void msgf(char *msg, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  str_vformat(msg, EBPF_ERROR_MAX, fmt, ap);
  va_end(ap);
}

static int patch_alu(const ebpf_core_result *r, uint8_t *insn, int be, char *msg) {
  if (insn[0] & 0x08) return (int)(msgf(msg, "an ALU instruction with a register source"), CORE_ERR);
  int32_t imm = imm_of(insn, be);
  if ((r->flags & EBPF_CORE_VALIDATE) && (uint64_t)(int64_t)imm != r->orig_val)
    return (int)(msgf(msg, "the ALU instruction holds %d, not the expected %llu", imm, (unsigned long long)r->orig_val), CORE_ERR);
  store_u32_order(insn + 4, (uint32_t)r->new_val, be);
  return 0;
}

static int patch_mem(const ebpf_core_result *r, uint8_t *insn, int be, char *msg) {
  int16_t off = off_of(insn, be);
  if ((r->flags & EBPF_CORE_VALIDATE) && (uint64_t)(int64_t)off != r->orig_val)
    return (int)(msgf(msg, "the load/store has offset %d, not the expected %llu", off, (unsigned long long)r->orig_val), CORE_ERR);
  if (r->new_val > INT16_MAX)
    return (int)(msgf(msg, "offset %llu is too big for a load/store", (unsigned long long)r->new_val), CORE_ERR);
  if (r->flags & EBPF_CORE_MEMSZ_FAILS) return CORE_POISON;
  if (r->new_sz != r->orig_sz) {
    int code = size_code(r->new_sz);
    if (size_bytes(insn[0]) != (int)r->orig_sz)
      return (int)(msgf(msg, "the load/store is of %d bytes, not the expected %u", size_bytes(insn[0]), r->orig_sz), CORE_ERR);
    if (code < 0) return (int)(msgf(msg, "no load/store is %u bytes wide", r->new_sz), CORE_ERR);
    insn[0] = (uint8_t)((insn[0] & 0xe7) | code);
  }
  set_off(insn, (int16_t)r->new_val, be);
  return 0;
}

static int patch_ld_imm64(const ebpf_core_result *r, uint8_t *insn, uint32_t avail, int be, char *msg) {
  uint8_t *next = insn + INSN_SIZE;
  if (insn[0] != 0x18 || avail < 2 || src_reg(insn, be) || off_of(insn, be) || next[0] || next[1] || off_of(next, be))
    return (int)(msgf(msg, "the ld_imm64 has an unexpected form"), CORE_ERR);
  uint64_t imm = (uint32_t)imm_of(insn, be) | (uint64_t)(uint32_t)imm_of(next, be) << 32;
  if ((r->flags & EBPF_CORE_VALIDATE) && imm != r->orig_val)
    return (int)(msgf(msg, "the ld_imm64 holds %llu, not the expected %llu", (unsigned long long)imm, (unsigned long long)r->orig_val), CORE_ERR);
  store_u32_order(insn + 4, (uint32_t)r->new_val, be);
  store_u32_order(next + 4, (uint32_t)(r->new_val >> 32), be);
  return 0;
}

int core_apply(const ebpf_core_result *r, uint8_t *insn, uint32_t avail, int be, char *msg) {
  msg[0] = 0;
  if (r->status == EBPF_CORE_POISONED) {
    if (insn[0] == 0x18 && avail > 1) poison(insn + INSN_SIZE, be);
    poison(insn, be);
    return 0;
  }
  switch (insn[0] & 7) {
    case 4: case 7: /* BPF_ALU, BPF_ALU64 */
      return patch_alu(r, insn, be, msg);
    case 1: case 2: case 3: { /* BPF_LDX, BPF_ST, BPF_STX */
      int p = patch_mem(r, insn, be, msg);
      if (p != CORE_POISON) return p;
      poison(insn, be);
      msgf(msg, "the load/store would change size from %u to %u bytes on a field that is neither a pointer nor an unsigned "
           "integer", r->orig_sz, r->new_sz);
      return 1;
    }
    case 0: /* BPF_LD */
      return patch_ld_imm64(r, insn, avail, be, msg);
    default:
      msgf(msg, "an instruction of opcode 0x%x cannot be relocated", insn[0]);
      return CORE_ERR;
  }
}

/* ---- the driver ---- */

typedef struct {
  ebpf_core_results out; /* first: the pointer handed out */
  ebpf_error err;
} results_owner;

static void store_res(ebpf_core_result *out, const core_res *r) {
  out->orig_val = r->orig_val;
  out->new_val = r->new_val;
  out->orig_sz = r->orig_sz;
  out->new_sz = r->new_sz;
  out->flags = (r->validate ? EBPF_CORE_VALIDATE : 0) | (r->fail_memsz ? EBPF_CORE_MEMSZ_FAILS : 0);
  out->status = r->poison ? EBPF_CORE_POISONED : EBPF_CORE_RELOCATED;
}

/* The message of a poisoned or failed record: program, instruction, kind, type and access string. */
static void set_message(core_ctx *c, ebpf_core_result *out, const char *what, const char *detail) {
  const ebpf_program *p = &c->obj->info.programs[out->program];
  const ebpf_btf_type *t = btf_type_by_id(c->local, out->local_type_id);
  char buf[EBPF_ERROR_MAX];
  uint32_t len = str_format(buf, sizeof buf, "program '%.*s': instruction %u: %s relocation on %s '%.*s' [%u], access string '%.*s', %s: %s",
                            (int)p->name.len, p->name.ptr, out->insn, kind_names[out->kind], btf_kind_name(t->kind),
                            (int)t->name.len, t->name.ptr, out->local_type_id, (int)out->access.len, out->access.ptr, what,
                            detail);
  out->message = keep(c, buf, len);
}

/* Checks the record against its instruction as the patch would (on a copy). */
static void dry_run(core_ctx *c, ebpf_core_result *out) {
  const ebpf_program *p = &c->obj->info.programs[out->program];
  const uint8_t *code;
  uint8_t copy[2 * INSN_SIZE] = {0};
  uint32_t avail = p->insn_count - out->insn;
  if (buf_span(&c->obj->file, (uint64_t)p->insns_offset + (uint64_t)out->insn * INSN_SIZE, (avail > 1 ? 2 : 1) * INSN_SIZE, &code)) {
    out->status = EBPF_CORE_FAILED;
    return set_message(c, out, "failed", "the instruction lies outside the file");
  }
  memcpy(copy, code, (avail > 1 ? 2 : 1) * INSN_SIZE);
  char msg[EBPF_ERROR_MAX];
  int r = core_apply(out, copy, avail, (int)c->obj->info.big_endian, msg);
  if (r == 1) out->status = EBPF_CORE_POISONED;
  if (r) set_message(c, out, r == 1 ? "poisoned" : "failed to patch the instruction", msg);
  if (r == CORE_ERR) out->status = EBPF_CORE_FAILED;
}

static void relocate_record(core_ctx *c, const ebpf_btf_ext_section *sec, const ebpf_btf_core_relo *rec, ebpf_core_result *out) {
  *out = (ebpf_core_result){.kind = rec->kind, .section = sec->section, .insn_off = rec->insn_off, .program = EBPF_NONE,
                            .local_type_id = rec->type_id, .access = rec->access, .status = EBPF_CORE_SKIPPED};
  int32_t p = sec->section == EBPF_NONE || rec->insn_off % INSN_SIZE ? -1 : relocs_find_program(c->obj, sec->section, rec->insn_off, 0);
  if (p < 0) return; /* in no function: libbpf skips these (eliminated weak subprograms) */
  out->program = (uint32_t)p;
  out->insn = (rec->insn_off - c->obj->info.programs[p].insn_offset) / INSN_SIZE;
  core_res res;
  c->why[0] = 0;
  if (resolve(c, rec, out, &res)) {
    out->status = EBPF_CORE_FAILED;
    return set_message(c, out, "failed", c->why);
  }
  store_res(out, &res);
  if (res.poison) set_message(c, out, "poisoned", c->why);
  dry_run(c, out);
}

static int relocate_all(core_ctx *c, results_owner *o) {
  const struct ebpf_btf_info *info = &c->local->info;
  ebpf_core_result *results = arena_array(&c->obj->mem, info->core_relo_count ? info->core_relo_count : 1, sizeof *results);
  c->cands = arena_array_uninit(&c->obj->mem, info->type_count, sizeof(cand_list));
  if (!results || !c->cands) return err_set(&o->err, EBPF_ERR_NOMEM, "CO-RE: out of memory for %u relocations", info->core_relo_count);
  for (uint32_t i = 0; i < info->type_count; i++) c->cands[i] = (cand_list){NULL, NULL, EBPF_NONE};
  vec_init(&c->scratch, 2 * sizeof(uint32_t));
  for (uint32_t s = 0; s < info->ext_section_count; s++) {
    const ebpf_btf_ext_section *sec = &info->ext_sections[s];
    for (uint32_t i = 0; i < sec->core_count; i++)
      relocate_record(c, sec, &info->core_relos[sec->core_first + i], &results[sec->core_first + i]);
  }
  o->out.results = results;
  o->out.count = info->core_relo_count;
  return 0;
}

const ebpf_core_results *ebpf_object_core_relocate(ebpf_object *obj, const struct ebpf_btf_info *target) {
  return ebpf_object_core_relocate_modules(obj, target, NULL, 0);
}

const ebpf_core_results *ebpf_object_core_relocate_modules(ebpf_object *obj, const struct ebpf_btf_info *target,
                                                           const struct ebpf_btf_info *const *modules, uint32_t module_count) {
  if (!obj) return NULL;
  results_owner *o = arena_alloc(&obj->mem, sizeof *o);
  if (!o) return NULL;
  const struct ebpf_btf_info *local = obj->info.btf;
  if (obj->info.status) err_set(&o->err, EBPF_ERR_ARG, "CO-RE: the object failed to open");
  else if (local && local->core_relo_count && !target) err_set(&o->err, EBPF_ERR_ARG, "CO-RE: no target BTF given");
  else if (module_count > MAX_TARGETS || (module_count && !modules))
    err_set(&o->err, EBPF_ERR_ARG, "CO-RE: %u module BTFs given (at most %u)", module_count, MAX_TARGETS);
  else if (local && local->core_relo_count) {
    core_ctx *c = arena_alloc(&obj->mem, sizeof *c);
    if (!c) err_set(&o->err, EBPF_ERR_NOMEM, "CO-RE: out of memory");
    else {
      *c = (core_ctx){.obj = obj, .local = (const btf *)local, .target = (btf *)target, .err = &o->err,
                      .modules = (btf **)modules, .module_count = module_count};
      relocate_all(c, o);
    }
  }
  o->out.status = (uint32_t)o->err.status;
  o->out.message = (ebpf_str){o->err.message, (uint32_t)strlen(o->err.message)};
  if (!o->err.status) obj->core_results = &o->out;
  return &o->out;
}

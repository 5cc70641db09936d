/* CO-RE matching, as libbpf's relo_core.c defines it: essential names (no ___flavor), candidate
 * target types, the compatibility and "types match" relations, and access strings ("0:1:2") parsed
 * into specs and matched against a candidate, through anonymous members and arrays. */
#include <string.h>

#include "core_relo.h"

int core_is_field_kind(uint32_t kind) { return kind <= EBPF_CORE_FIELD_RSHIFT_U64; }

int core_is_type_kind(uint32_t kind) {
  return kind == EBPF_CORE_TYPE_ID_LOCAL || kind == EBPF_CORE_TYPE_ID_TARGET || kind == EBPF_CORE_TYPE_EXISTS ||
         kind == EBPF_CORE_TYPE_MATCHES || kind == EBPF_CORE_TYPE_SIZE;
}

int core_is_enumval_kind(uint32_t kind) { return kind == EBPF_CORE_ENUMVAL_EXISTS || kind == EBPF_CORE_ENUMVAL_VALUE; }

static int is_enum(uint32_t kind) { return kind == EBPF_BTF_ENUM || kind == EBPF_BTF_ENUM64; }
static int is_composite(uint32_t kind) { return kind == EBPF_BTF_STRUCT || kind == EBPF_BTF_UNION; }
static int kinds_compat(uint32_t a, uint32_t b) { return a == b || (is_enum(a) && is_enum(b)); }
static uint32_t int_bit_offset(const ebpf_btf_type *t) { return (t->extra >> 16) & 0xff; }
static uint32_t int_encoding(const ebpf_btf_type *t) { return (t->extra >> 24) & 0x0f; }

uint32_t core_essential_len(ebpf_str n) { return btf_essential_len(n); }

/* Same essential name (both anonymous counts as equal only through the callers' rules). */
static int essential_eq(ebpf_str a, ebpf_str b) {
  uint32_t la = core_essential_len(a), lb = core_essential_len(b);
  return la == lb && memcmp(a.ptr, b.ptr, la) == 0;
}

const ebpf_btf_type *core_skip(const btf *b, uint32_t id, uint32_t *out) {
  uint32_t skipped = btf_skip_mods_typedefs(b, id);
  const ebpf_btf_type *t = btf_type_by_id(b, skipped);
  if (out) *out = skipped;
  return t && t->kind != EBPF_BTF_TYPEDEF && t->kind != EBPF_BTF_CONST && t->kind != EBPF_BTF_VOLATILE &&
                 t->kind != EBPF_BTF_RESTRICT && t->kind != EBPF_BTF_TYPE_TAG
             ? t
             : NULL;
}

int core_type_size(const btf *b, uint32_t id, uint64_t *size) {
  uint64_t count = 1;
  for (int depth = 0; depth < BTF_MAX_CHAIN; depth++) {
    const ebpf_btf_type *t = btf_type_by_id(b, id);
    if (!t) return -1;
    switch (t->kind) {
      case EBPF_BTF_INT: case EBPF_BTF_FLOAT: case EBPF_BTF_STRUCT: case EBPF_BTF_UNION:
      case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64: case EBPF_BTF_DATASEC: case EBPF_BTF_PTR: {
        uint64_t elem = t->kind == EBPF_BTF_PTR ? 8 : t->size;
        if (elem && count > UINT32_MAX / elem) return -1;
        *size = count * elem;
        return 0;
      }
      case EBPF_BTF_TYPEDEF: case EBPF_BTF_VOLATILE: case EBPF_BTF_CONST: case EBPF_BTF_RESTRICT:
      case EBPF_BTF_TYPE_TAG: case EBPF_BTF_VAR: case EBPF_BTF_DECL_TAG:
        id = t->type;
        continue;
      case EBPF_BTF_ARRAY:
        count *= t->nelems;
        if (count > UINT32_MAX) return -1;
        id = t->type;
        continue;
      default:
        return -1;
    }
  }
  return -1;
}

/* ---- candidates ---- */

/* The first candidate searches go through the types one by one, as libbpf's do: for a program of a
 * few local types that is cheaper than hashing the kernel's ~126k names, which later ones use. */
#define LINEAR_SCANS 12

typedef struct {
  void (*fn)(void *, uint32_t);
  void *ctx;
  const btf *target;
  uint32_t local_kind;
} kind_filter;

static void if_kind(void *ctx, uint32_t id) {
  const kind_filter *f = ctx;
  const ebpf_btf_type *t = btf_type_by_id(f->target, id);
  if (t && kinds_compat(t->kind, f->local_kind)) f->fn(f->ctx, id);
}

int core_find_candidates(btf *target, ebpf_str local, uint32_t local_kind, void (*fn)(void *, uint32_t), void *ctx) {
  uint32_t len = core_essential_len(local), nflavored;
  if (!target->by_name && target->linear_scans < LINEAR_SCANS) {
    target->linear_scans++;
    kind_filter f = {fn, ctx, target, local_kind};
    btf_scan_essential(target, local.ptr, len, if_kind, &f);
    return 0;
  }
  uint32_t exact = btf_find_named(target, local.ptr, len);
  const uint32_t *flavored = btf_flavored(target, &nflavored);
  if (exact == EBPF_NONE || !flavored) return -1;
  uint32_t f = 0;
  while (exact || f < nflavored) {
    uint32_t id;
    ebpf_str name;
    if (exact && (f >= nflavored || exact < flavored[f])) {
      id = exact;
      exact = btf_next_named(target, exact);
      name = btf_name_of(target, id);
      if (core_essential_len(name) != name.len) continue; /* listed among the flavored */
    } else {
      id = flavored[f++];
      name = btf_name_of(target, id);
      if (core_essential_len(name) != len || memcmp(name.ptr, local.ptr, len)) continue;
    }
    const ebpf_btf_type *t = btf_type_by_id(target, id);
    if (t && kinds_compat(t->kind, local_kind)) fn(ctx, id);
  }
  return 0;
}

/* ---- type relations ---- */

/* libbpf's __bpf_core_types_are_compat (TYPE_EXISTS, TYPE_SIZE, TYPE_ID_TARGET): 1, 0 or CORE_ERR. */
static int types_compat(const btf *lb, uint32_t lid, const btf *tb, uint32_t tid, int level);

static int protos_compat(const btf *lb, const ebpf_btf_type *lt, const btf *tb, const ebpf_btf_type *tt, int level) {
  if (lt->vlen != tt->vlen) return 0;
  const ebpf_btf_member *lp = btf_members(lb, lt), *tp = btf_members(tb, tt);
  for (uint32_t i = 0; i < lt->vlen; i++) {
    if (level <= 0) return CORE_ERR;
    uint32_t l = btf_skip_mods_typedefs(lb, lp[i].type), t = btf_skip_mods_typedefs(tb, tp[i].type);
    int r = types_compat(lb, l, tb, t, level - 1);
    if (r <= 0) return r;
  }
  return 1;
}

static int types_compat(const btf *lb, uint32_t lid, const btf *tb, uint32_t tid, int level) {
  const ebpf_btf_type *lt = btf_type_by_id(lb, lid), *tt = btf_type_by_id(tb, tid);
  if (!lt || !tt) return CORE_ERR;
  if (!kinds_compat(lt->kind, tt->kind)) return 0;
  for (int depth = CORE_DEPTH; depth > 0; depth--) {
    lt = core_skip(lb, lid, &lid);
    tt = core_skip(tb, tid, &tid);
    if (!lt || !tt) return CORE_ERR;
    if (!kinds_compat(lt->kind, tt->kind)) return 0;
    switch (lt->kind) {
      case EBPF_BTF_VOID: case EBPF_BTF_STRUCT: case EBPF_BTF_UNION: case EBPF_BTF_ENUM: case EBPF_BTF_FWD:
      case EBPF_BTF_ENUM64:
        return 1;
      case EBPF_BTF_INT:
        return int_bit_offset(lt) == 0 && int_bit_offset(tt) == 0;
      case EBPF_BTF_PTR: case EBPF_BTF_ARRAY:
        lid = lt->type;
        tid = tt->type;
        continue;
      case EBPF_BTF_FUNC_PROTO: {
        int r = protos_compat(lb, lt, tb, tt, level);
        if (r <= 0) return r;
        lid = btf_skip_mods_typedefs(lb, lt->type);
        tid = btf_skip_mods_typedefs(tb, tt->type);
        continue;
      }
      default:
        return 0;
    }
  }
  return CORE_ERR;
}

/* libbpf's bpf_core_fields_are_compat: a local field against the target's field of the same name. */
static int fields_compat(const btf *lb, uint32_t lid, const btf *tb, uint32_t tid) {
  for (int depth = 0; depth < CORE_DEPTH; depth++) {
    const ebpf_btf_type *lt = core_skip(lb, lid, &lid), *tt = core_skip(tb, tid, &tid);
    if (!lt || !tt) return CORE_ERR;
    if (is_composite(lt->kind) && is_composite(tt->kind)) return 1;
    if (!kinds_compat(lt->kind, tt->kind)) return 0;
    switch (lt->kind) {
      case EBPF_BTF_PTR: case EBPF_BTF_FLOAT:
        return 1;
      case EBPF_BTF_FWD: case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64: {
        uint32_t ll = core_essential_len(lt->name), tl = core_essential_len(tt->name);
        return ll == 0 || tl == 0 || (ll == tl && memcmp(lt->name.ptr, tt->name.ptr, ll) == 0);
      }
      case EBPF_BTF_INT:
        return int_bit_offset(lt) == 0 && int_bit_offset(tt) == 0;
      case EBPF_BTF_ARRAY:
        lid = lt->type;
        tid = tt->type;
        continue;
      default:
        return 0;
    }
  }
  return CORE_ERR;
}

/* libbpf's bpf_core_names_match: an anonymous target matches only an anonymous local. */
static int names_match(ebpf_str local, ebpf_str targ) {
  if (!targ.len) return !local.len;
  return essential_eq(local, targ);
}

static int enums_match(const btf *lb, const ebpf_btf_type *lt, const btf *tb, const ebpf_btf_type *tt) {
  if (lt->size != tt->size || lt->vlen > tt->vlen) return 0;
  const ebpf_btf_member *lm = btf_members(lb, lt), *tm = btf_members(tb, tt);
  for (uint32_t i = 0; i < lt->vlen; i++) {
    uint32_t j = 0;
    while (j < tt->vlen && !names_match(lm[i].name, tm[j].name)) j++;
    if (j == tt->vlen) return 0;
  }
  return 1;
}

static int types_match(const btf *lb, uint32_t lid, const btf *tb, uint32_t tid, int behind_ptr, int level);

static int composites_match(const btf *lb, const ebpf_btf_type *lt, const btf *tb, const ebpf_btf_type *tt,
                            int behind_ptr, int level) {
  if (lt->vlen > tt->vlen) return 0;
  const ebpf_btf_member *lm = btf_members(lb, lt), *tm = btf_members(tb, tt);
  for (uint32_t i = 0; i < lt->vlen; i++) {
    int matched = 0;
    for (uint32_t j = 0; j < tt->vlen && !matched; j++) {
      if (!names_match(lm[i].name, tm[j].name)) continue;
      int r = types_match(lb, lm[i].type, tb, tm[j].type, behind_ptr, level - 1);
      if (r < 0) return r;
      matched = r > 0;
    }
    if (!matched) return 0;
  }
  return 1;
}

/* Forward declarations and struct/union behind a pointer: kflag says union (1) or struct (0). */
static int fwd_match(const ebpf_btf_type *lt, const ebpf_btf_type *tt, int behind_ptr) {
  if (lt->kind == EBPF_BTF_FWD) {
    if (lt->kind == tt->kind) return lt->kind_flag == tt->kind_flag;
    return behind_ptr && ((tt->kind == EBPF_BTF_STRUCT && !lt->kind_flag) || (tt->kind == EBPF_BTF_UNION && lt->kind_flag));
  }
  if (lt->kind == tt->kind) return 1;
  return tt->kind == EBPF_BTF_FWD && (lt->kind == EBPF_BTF_UNION) == (tt->kind_flag != 0);
}

static int protos_match(const btf *lb, const ebpf_btf_type *lt, const btf *tb, const ebpf_btf_type *tt, int behind_ptr,
                        int level) {
  if (lt->vlen != tt->vlen) return 0;
  const ebpf_btf_member *lp = btf_members(lb, lt), *tp = btf_members(tb, tt);
  for (uint32_t i = 0; i < lt->vlen; i++) {
    int r = types_match(lb, lp[i].type, tb, tp[i].type, behind_ptr, level - 1);
    if (r <= 0) return r;
  }
  return 1;
}

/* libbpf's __bpf_core_types_match (TYPE_MATCHES): 1, 0 or CORE_ERR. */
static int types_match(const btf *lb, uint32_t lid, const btf *tb, uint32_t tid, int behind_ptr, int level) {
  if (level <= 0) return CORE_ERR;
  for (int depth = CORE_DEPTH; depth > 0; depth--) {
    const ebpf_btf_type *lt = core_skip(lb, lid, &lid), *tt = core_skip(tb, tid, &tid);
    if (!lt || !tt) return CORE_ERR;
    if (!names_match(lt->name, tt->name)) return 0;
    uint32_t lk = lt->kind, tk = tt->kind;
    switch (lk) {
      case EBPF_BTF_VOID:
        return lk == tk;
      case EBPF_BTF_FWD:
        return fwd_match(lt, tt, behind_ptr);
      case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64:
        return is_enum(tk) && enums_match(lb, lt, tb, tt);
      case EBPF_BTF_STRUCT: case EBPF_BTF_UNION:
        if (behind_ptr) return fwd_match(lt, tt, 1);
        return lk == tk && composites_match(lb, lt, tb, tt, behind_ptr, level);
      case EBPF_BTF_INT:
        return lk == tk && lt->size == tt->size && (int_encoding(lt) & 1) == (int_encoding(tt) & 1);
      case EBPF_BTF_PTR:
        if (lk != tk) return 0;
        behind_ptr = 1;
        lid = lt->type;
        tid = tt->type;
        continue;
      case EBPF_BTF_ARRAY:
        if (lk != tk || lt->nelems != tt->nelems) return 0;
        lid = lt->type;
        tid = tt->type;
        continue;
      case EBPF_BTF_FUNC_PROTO: {
        if (lk != tk) return 0;
        int r = protos_match(lb, lt, tb, tt, behind_ptr, level);
        if (r <= 0) return r;
        lid = lt->type;
        tid = tt->type;
        continue;
      }
      default:
        return 0;
    }
  }
  return CORE_ERR;
}

/* ---- access specs ---- */

/* "0:1:2" into spec->raw; CORE_ERR unless it is non-empty decimal indexes separated by ':'. */
static int parse_access(ebpf_str access, core_spec *spec) {
  uint32_t i = 0;
  if (!access.len || access.ptr[0] == ':') return CORE_ERR;
  while (i < access.len) {
    if (access.ptr[i] == ':') i++;
    uint64_t v = 0;
    uint32_t start = i;
    while (i < access.len && access.ptr[i] >= '0' && access.ptr[i] <= '9' && v <= INT32_MAX) v = v * 10 + (uint32_t)(access.ptr[i++] - '0');
    if (i == start || v > INT32_MAX || (i < access.len && access.ptr[i] != ':')) return CORE_ERR;
    if (spec->raw_len == CORE_SPEC_MAX) return CORE_ERR;
    spec->raw[spec->raw_len++] = (uint32_t)v;
  }
  return spec->raw_len ? 0 : CORE_ERR;
}

/* libbpf's is_flex_arr: an array of no elements that is the last member of the struct holding it. */
static int is_flex(const btf *b, const core_accessor *acc, const ebpf_btf_type *arr) {
  if (!acc->name.len || arr->nelems > 0) return 0;
  const ebpf_btf_type *t = btf_type_by_id(b, acc->type_id);
  return t && t->vlen && acc->idx == t->vlen - 1;
}

static int push_acc(core_spec *spec, uint32_t type_id, uint32_t idx, ebpf_str name) {
  if (spec->len == CORE_SPEC_MAX) return CORE_ERR;
  spec->acc[spec->len++] = (core_accessor){type_id, idx, name};
  return 0;
}

/* One step of a field access string past the root: a member or an array element. */
static int parse_step(const btf *b, core_spec *spec, uint32_t *id, uint32_t idx) {
  const ebpf_btf_type *t = core_skip(b, *id, id);
  if (!t) return CORE_ERR;
  if (is_composite(t->kind)) {
    if (idx >= t->vlen) return CORE_ERR;
    const ebpf_btf_member *m = btf_members(b, t) + idx;
    spec->bit_offset += m->offset;
    if (m->name.len && push_acc(spec, *id, idx, m->name)) return CORE_ERR;
    *id = m->type;
    return 0;
  }
  if (t->kind != EBPF_BTF_ARRAY) return CORE_ERR;
  int flex = is_flex(b, &spec->acc[spec->len - 1], t);
  if (!core_skip(b, t->type, id)) return CORE_ERR;
  if (!flex && idx >= t->nelems) return CORE_ERR;
  if (push_acc(spec, *id, idx, (ebpf_str){"", 0})) return CORE_ERR;
  uint64_t sz;
  if (core_type_size(b, *id, &sz)) return CORE_ERR;
  spec->bit_offset += (uint32_t)((uint64_t)idx * sz * 8);
  return 0;
}

int core_parse_spec(const btf *b, uint32_t type_id, uint32_t kind, ebpf_str access, core_spec *spec) {
  memset(spec, 0, sizeof *spec);
  spec->b = b;
  spec->root_type_id = type_id;
  spec->kind = kind;
  if (!access.len || access.ptr[0] == ':') return CORE_ERR;
  if (core_is_type_kind(kind)) return access.len == 1 && access.ptr[0] == '0' ? 0 : CORE_ERR;
  if (parse_access(access, spec)) return CORE_ERR;
  uint32_t id;
  const ebpf_btf_type *t = core_skip(b, type_id, &id);
  if (!t) return CORE_ERR;
  spec->acc[0] = (core_accessor){id, spec->raw[0], {"", 0}};
  spec->len = 1;
  if (core_is_enumval_kind(kind)) {
    if (!is_enum(t->kind) || spec->raw_len > 1 || spec->raw[0] >= t->vlen) return CORE_ERR;
    spec->acc[0].name = btf_members(b, t)[spec->raw[0]].name;
    return 0;
  }
  if (!core_is_field_kind(kind)) return CORE_ERR;
  uint64_t sz;
  if (core_type_size(b, id, &sz)) return CORE_ERR;
  spec->bit_offset = (uint32_t)((uint64_t)spec->raw[0] * sz * 8);
  for (uint32_t i = 1; i < spec->raw_len; i++)
    if (parse_step(b, spec, &id, spec->raw[i])) return CORE_ERR;
  return 0;
}

/* libbpf's bpf_core_match_member: finds the local accessor's member by name in target targ_id,
 * descending into anonymous members, extending spec's raw path and bit offset on the way. */
static int match_member(const btf *lb, const core_accessor *lacc, const btf *tb, uint32_t targ_id, core_spec *spec,
                        uint32_t *next_id) {
  const ebpf_btf_type *tt = core_skip(tb, targ_id, &targ_id);
  if (!tt) return CORE_ERR;
  if (!is_composite(tt->kind)) return 0;
  const ebpf_btf_member *lm = btf_members(lb, btf_type_by_id(lb, lacc->type_id)) + lacc->idx;
  const ebpf_btf_member *m = btf_members(tb, tt);
  for (uint32_t i = 0; i < tt->vlen; i++) {
    if (spec->raw_len == CORE_SPEC_MAX) return CORE_ERR;
    spec->bit_offset += m[i].offset;
    spec->raw[spec->raw_len++] = i;
    if (!m[i].name.len) {
      int found = match_member(lb, lacc, tb, m[i].type, spec, next_id);
      if (found) return found;
    } else if (m[i].name.len == lm->name.len && !memcmp(m[i].name.ptr, lm->name.ptr, lm->name.len)) {
      if (push_acc(spec, targ_id, i, m[i].name)) return CORE_ERR;
      *next_id = m[i].type;
      int found = fields_compat(lb, lm->type, tb, m[i].type);
      if (!found) spec->len--;
      return found;
    }
    spec->bit_offset -= m[i].offset;
    spec->raw_len--;
  }
  return 0;
}

static int match_enumval(const core_spec *local, const btf *tb, uint32_t targ_id, core_spec *out) {
  const ebpf_btf_type *tt = core_skip(tb, targ_id, &targ_id);
  if (!tt || !is_enum(tt->kind)) return 0;
  const ebpf_btf_member *m = btf_members(tb, tt);
  for (uint32_t i = 0; i < tt->vlen; i++) {
    if (!essential_eq(local->acc[0].name, m[i].name)) continue;
    out->acc[0] = (core_accessor){targ_id, i, m[i].name};
    out->len = 1;
    out->raw[0] = i;
    out->raw_len = 1;
    return 1;
  }
  return 0;
}

/* An array index step of the target: i > 0 needs an array of enough elements (or a flexible one). */
static int match_index(const core_accessor *lacc, uint32_t i, const btf *tb, uint32_t *targ_id, core_spec *out) {
  const ebpf_btf_type *tt = btf_type_by_id(tb, *targ_id);
  if (i > 0) {
    if (tt->kind != EBPF_BTF_ARRAY) return 0;
    int flex = is_flex(tb, &out->acc[out->len - 1], tt);
    if (!flex && lacc->idx >= tt->nelems) return 0;
    if (!core_skip(tb, tt->type, targ_id)) return CORE_ERR;
  }
  if (out->raw_len == CORE_SPEC_MAX || push_acc(out, *targ_id, lacc->idx, (ebpf_str){"", 0})) return CORE_ERR;
  out->raw[out->raw_len++] = lacc->idx;
  uint64_t sz;
  if (core_type_size(tb, *targ_id, &sz)) return CORE_ERR;
  out->bit_offset += (uint32_t)((uint64_t)lacc->idx * sz * 8);
  return 1;
}

int core_spec_match(const core_spec *local, const btf *tb, uint32_t targ_id, core_spec *out) {
  memset(out, 0, sizeof *out);
  out->b = tb;
  out->root_type_id = targ_id;
  out->kind = local->kind;
  if (core_is_type_kind(local->kind)) {
    if (local->kind == EBPF_CORE_TYPE_MATCHES) return types_match(local->b, local->root_type_id, tb, targ_id, 0, CORE_DEPTH);
    return types_compat(local->b, local->root_type_id, tb, targ_id, CORE_DEPTH);
  }
  if (core_is_enumval_kind(local->kind)) return match_enumval(local, tb, targ_id, out);
  if (!core_is_field_kind(local->kind)) return CORE_ERR;
  for (uint32_t i = 0; i < local->len; i++) {
    if (!core_skip(tb, targ_id, &targ_id)) return CORE_ERR;
    const core_accessor *lacc = &local->acc[i];
    int r = lacc->name.len ? match_member(local->b, lacc, tb, targ_id, out, &targ_id) : match_index(lacc, i, tb, &targ_id, out);
    if (r <= 0) return r;
  }
  return 1;
}

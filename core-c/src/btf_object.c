/* The BTF module's entry points: the object hooks (object.h), rendering, and a standalone
 * .BTF/.BTF.ext reader for tests and the fuzzer. */
#include <stdlib.h>
#include <string.h>

#include "btf.h"
#include "elf.h"
#include "object.h"

static ebpf_str elf_section_name(const void *ctx, uint32_t index) {
  return ((const ebpf_object *)ctx)->sections[index].name;
}

static int is_code(const ebpf_section *s) {
  return s->kind == EBPF_SEC_PROGRAM || s->kind == EBPF_SEC_TEXT;
}

static uint32_t section_by_name(void *ctx, const char *name, uint32_t len) {
  return name_table_find(ctx, name, len);
}

int btf_object_parse(ebpf_object *obj) {
  const ebpf_section *sec = object_find_section(obj, ".BTF");
  if (!sec) return EBPF_OK;
  ebpf_buf buf;
  btf *b;
  if (object_section_buf(obj, sec->index, &buf) || btf_parse(&obj->mem, &buf, &obj->err, &b)) return obj->err.status;
  const ebpf_section *ext = object_find_section(obj, ".BTF.ext");
  if (ext) {
    /* .BTF.ext names the sections whose code it describes: index the ELF's code sections by name
     * once (only those: hashing every debug and relocation section's name cost more than the rest) */
    uint32_t code = 0;
    for (uint32_t i = 1; i < obj->info.section_count; i++) code += is_code(&obj->sections[i]);
    name_table elf_names;
    if (name_table_init(&obj->mem, &elf_names, code, elf_section_name, obj))
      return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory indexing section names");
    for (uint32_t i = 1; i < obj->info.section_count; i++)
      if (is_code(&obj->sections[i])) name_table_add(&elf_names, i);
    if (object_section_buf(obj, ext->index, &buf) || btf_ext_parse(b, &buf, section_by_name, &elf_names))
      return obj->err.status;
  }
  obj->info.btf = &b->info;
  return EBPF_OK;
}

int btf_object_maps(ebpf_object *obj, uint32_t sec) {
  if (!obj->info.btf)
    return err_set(&obj->err, EBPF_ERR_MAP, "section '.maps' (index %u) needs BTF, but the object has no .BTF section", sec);
  return btf_decode_maps((btf *)obj->info.btf, obj, sec);
}

const ebpf_str *ebpf_btf_render(const struct ebpf_btf_info *info, uint32_t type_id) {
  if (!info) return NULL;
  btf *b = (btf *)info; /* info is the first member of struct btf */
  ebpf_str *out = arena_alloc(b->mem, sizeof *out);
  if (!out || btf_render(b, type_id, out)) return NULL;
  return out;
}

uint32_t ebpf_btf_error_status(const struct ebpf_btf_info *info) {
  return info ? (uint32_t)((const btf *)info)->err->status : EBPF_ERR_ARG;
}

const char *ebpf_btf_error_message(const struct ebpf_btf_info *info) {
  return info ? ((const btf *)info)->err->message : "";
}

typedef struct {
  ebpf_btf_open_result result; /* first: the pointer handed out */
  arena mem;
  ebpf_error err;
} standalone;

ebpf_btf_open_result *ebpf_btf_open_lazy(const uint8_t *data, uint32_t size) {
  standalone *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  ebpf_buf buf = {data, data ? size : 0, 0};
  btf *b;
  if (!btf_parse_lazy(&s->mem, &buf, &s->err, &b)) s->result.btf = &b->info;
  s->result.status = (uint32_t)s->err.status;
  s->result.message.ptr = s->err.message;
  s->result.message.len = (uint32_t)strlen(s->err.message);
  return &s->result;
}

ebpf_btf_open_result *ebpf_btf_open_split(const struct ebpf_btf_info *base, const uint8_t *data, uint32_t size) {
  standalone *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  ebpf_buf buf = {data, data ? size : 0, 0};
  btf *b;
  if (!base) err_set(&s->err, EBPF_ERR_ARG, "BTF: a split BTF needs its base");
  else if (!btf_parse_lazy_split(&s->mem, &buf, (const btf *)base, &s->err, &b)) s->result.btf = &b->info;
  s->result.status = (uint32_t)s->err.status;
  s->result.message.ptr = s->err.message;
  s->result.message.len = (uint32_t)strlen(s->err.message);
  return &s->result;
}

const ebpf_btf_type *ebpf_btf_type_at(const struct ebpf_btf_info *info, uint32_t type_id) {
  return info ? btf_type_by_id((const btf *)info, type_id) : NULL;
}

ebpf_btf_open_result *ebpf_btf_open(const uint8_t *data, uint32_t size, const uint8_t *ext, uint32_t ext_size) {
  standalone *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  ebpf_buf buf = {data, data ? size : 0, 0};
  btf *b;
  if (!btf_parse(&s->mem, &buf, &s->err, &b)) {
    ebpf_buf ext_buf = {ext, ext ? ext_size : 0, 0};
    if (!ext_size || !btf_ext_parse(b, &ext_buf, NULL, NULL)) s->result.btf = &b->info;
  }
  s->result.status = (uint32_t)s->err.status;
  s->result.message.ptr = s->err.message;
  s->result.message.len = (uint32_t)strlen(s->err.message);
  return &s->result;
}

uint32_t ebpf_btf_find(const struct ebpf_btf_info *info, const char *name, uint32_t len, uint32_t kind) {
  /* info is the first member of struct btf; the index built on first use is the only change */
  return info && (name || !len) ? btf_find((btf *)info, name, len, kind) : 0;
}

void ebpf_btf_close(ebpf_btf_open_result *result) {
  if (!result) return;
  standalone *s = (standalone *)result;
  arena_release(&s->mem);
  free(s);
}

static const ebpf_symbol *symbol_in(const ebpf_object *obj, uint32_t section, ebpf_str name) {
  for (uint32_t i = 1; i < obj->info.symbol_count; i++) {
    const ebpf_symbol *s = &obj->symbols[i];
    if (s->section == section && s->name.len == name.len && memcmp(s->name.ptr, name.ptr, name.len) == 0) return s;
  }
  return NULL;
}

/* Natural alignment of a variable of `size` bytes (1, 2, 4 or 8). */
static uint32_t var_align(uint32_t size) {
  uint32_t a = 1;
  while (a < 8 && a < size) a *= 2;
  return a;
}

typedef struct {
  uint32_t type, offset, size;
} var_entry;

static int var_before(const void *a, const void *b) {
  const var_entry *x = a, *y = b;
  return (x->offset > y->offset) - (x->offset < y->offset);
}

/* Extern FUNCs (kfunc declarations, in DATASEC ".ksyms") are BTF the kernel refuses: linkage extern,
 * and a DATASEC entry that is not a VAR. As libbpf does, they are made global with every parameter
 * named, and their DATASEC entries point at one VAR appended after the types (4 bytes of int; an int
 * type is appended too when the BTF has none). Extern VARs of no size (untyped __ksym: `const void`)
 * are refused too: as libbpf does, they become 4-byte ints. */
typedef struct {
  uint32_t var_id;     /* 0: no DATASEC lists a FUNC */
  uint32_t int_id;     /* an existing 4-byte int, or the appended one (after the VAR, if any); 0: not needed */
  uint32_t name_off;   /* a name for what is appended and for unnamed parameters: a kfunc's */
  uint32_t extra;      /* bytes appended to the type section */
} ksym_fixup;

/* An extern VAR whose type has no size (void behind const/volatile/typedefs). */
static int is_untyped_extern(const btf *b, const ebpf_btf_type *t) {
  return t->kind == EBPF_BTF_VAR && t->extra == 2 && btf_skip_mods_typedefs(b, t->type) == 0;
}

static ksym_fixup plan_ksym_fixup(const btf *b) {
  ksym_fixup f = {0, 0, 0, 0};
  uint32_t untyped_name = 0;
  for (uint32_t id = 1; id < b->info.type_count && !untyped_name; id++) {
    const ebpf_btf_type *t = &b->info.types[id];
    if (is_untyped_extern(b, t)) untyped_name = (uint32_t)(t->name.ptr - b->info.strings);
  }
  for (uint32_t id = 1; id < b->info.type_count && !f.var_id; id++) {
    const ebpf_btf_type *t = &b->info.types[id];
    if (t->kind != EBPF_BTF_DATASEC) continue;
    const ebpf_btf_member *vars = btf_members(b, t);
    for (uint32_t i = 0; i < t->vlen; i++) {
      const ebpf_btf_type *v = btf_type_by_id(b, vars[i].type);
      if (v && v->kind == EBPF_BTF_FUNC && v->name.len) {
        f.var_id = b->info.type_count;
        f.name_off = (uint32_t)(v->name.ptr - b->info.strings);
        break;
      }
    }
  }
  if (!f.var_id && !untyped_name) return f;
  if (f.var_id) f.extra = 16; /* struct btf_type + struct btf_var */
  else f.name_off = untyped_name;
  for (uint32_t id = 1; id < b->info.type_count && !f.int_id; id++) {
    const ebpf_btf_type *t = &b->info.types[id];
    if (t->kind == EBPF_BTF_INT && t->size == 4 && (t->extra & 0xff) == 32 && !(t->extra & 0xff0000)) f.int_id = id;
  }
  if (!f.int_id) {
    f.int_id = b->info.type_count + (f.var_id ? 1 : 0);
    f.extra += 16; /* struct btf_type + the int encoding */
  }
  return f;
}

/* The copy of .BTF with room for the fixup's types right after the type section (header lengths
 * and the string section's offset updated); NULL when the sections are not laid out types then
 * strings, or out of memory (err set). */
static uint8_t *copy_with_room(btf *b, const ksym_fixup *f) {
  uint32_t hdr_len = 0, type_off = 0, type_len = 0, str_off = 0;
  buf_u32(&b->raw, 4, &hdr_len); /* checked by btf_parse */
  buf_u32(&b->raw, 8, &type_off);
  buf_u32(&b->raw, 12, &type_len);
  buf_u32(&b->raw, 16, &str_off);
  uint32_t types_end = hdr_len + type_off + type_len;
  int room = f->extra && str_off >= type_off + type_len;
  uint64_t size = (uint64_t)b->raw.size + (room ? f->extra : 0);
  uint8_t *copy = arena_array_uninit(b->mem, size ? size : 1, 1);
  if (!copy) {
    err_set(b->err, EBPF_ERR_NOMEM, "BTF: out of memory copying %u bytes", b->raw.size);
    return NULL;
  }
  memcpy(copy, b->raw.data, types_end);
  memcpy(copy + types_end + (room ? f->extra : 0), b->raw.data + types_end, b->raw.size - types_end);
  if (room) {
    store_u32_order(copy + 12, type_len + f->extra, b->raw.big_endian);
    store_u32_order(copy + 16, str_off + f->extra, b->raw.big_endian);
  }
  return copy;
}

/* Writes the fixup's types at `at` and makes the extern FUNCs global with named parameters. */
static void apply_ksym_fixup(const btf *b, const ksym_fixup *f, uint8_t *types, uint8_t *at) {
  int be = b->raw.big_endian;
  uint32_t words[8] = {f->name_off, (uint32_t)EBPF_BTF_VAR << 24, f->int_id, 1 /* global allocated */,
                       f->name_off, (uint32_t)EBPF_BTF_INT << 24, 4, 32 /* bits */};
  const uint32_t *from = f->var_id ? words : words + 4; /* the VAR, then the int when appended */
  for (uint32_t i = 0; i < f->extra / 4; i++) store_u32_order(at + 4 * i, from[i], be);
  for (uint32_t id = 1; id < b->info.type_count; id++) {
    const ebpf_btf_type *t = &b->info.types[id];
    if (t->kind != EBPF_BTF_FUNC || t->extra != 2 /* extern */) continue;
    store_u32_order(types + b->type_offsets[id] + 4, (uint32_t)EBPF_BTF_FUNC << 24 | 1 /* global */, be);
    const ebpf_btf_type *proto = btf_type_by_id(b, t->type);
    if (!proto || proto->kind != EBPF_BTF_FUNC_PROTO) continue;
    const ebpf_btf_member *params = btf_members(b, proto);
    for (uint32_t i = 0; i < proto->vlen; i++)
      if (params[i].type && !params[i].name.len)
        store_u32_order(types + b->type_offsets[t->type] + 12 + 8 * i, f->name_off, be);
  }
}

/* Where each variable of DATASEC `t` goes, into entries: its ELF symbol's offset in section `sec`;
 * for .kconfig (kconfig) where the .kconfig map holds it; for other extern sections (.ksyms) in
 * order, naturally aligned. Returns the end of the variables placed by the last two rules. */
static uint32_t place_datasec_vars(btf *b, const ebpf_object *obj, const ksym_fixup *fix, const ebpf_btf_type *t,
                                   const ebpf_section *sec, int kconfig, var_entry *entries) {
  const ebpf_btf_member *vars = btf_members(b, t);
  uint32_t end = 0;
  for (uint32_t i = 0; i < t->vlen; i++) {
    uint32_t offset = vars[i].offset;
    ebpf_str var_name = b->info.types[vars[i].type].name;
    if (sec) {
      const ebpf_symbol *sym = symbol_in(obj, sec->index, var_name);
      if (sym) offset = (uint32_t)sym->value;
    } else if (kconfig) {
      int32_t at = data_kconfig_offset(obj, var_name);
      if (at >= 0) offset = (uint32_t)at;
      if (offset + vars[i].bitfield_size > end) end = offset + vars[i].bitfield_size;
    } else {
      uint32_t align = var_align(vars[i].bitfield_size);
      offset = (end + align - 1) & ~(align - 1);
      end = offset + vars[i].bitfield_size;
    }
    entries[i] = (var_entry){vars[i].type, offset, vars[i].bitfield_size};
    const ebpf_btf_type *v = btf_type_by_id(b, vars[i].type);
    if (fix->int_id && v && is_untyped_extern(b, v)) { /* now a 4-byte int */
      offset = (end + 3) & ~3u;
      end = offset + 4;
      entries[i] = (var_entry){vars[i].type, offset, 4};
    }
    if (fix->var_id && v && v->kind == EBPF_BTF_FUNC) { /* a kfunc: 4 bytes of the appended VAR */
      offset = (end + 3) & ~3u;
      end = offset + 4;
      entries[i] = (var_entry){fix->var_id, offset, 4};
    }
  }
  return end;
}

/* Rewrites the DATASEC `t` (its record at `rec` in the copy) as the kernel takes it: variables at
 * their real offsets, in offset order, and the section's real size. */
static int fix_datasec(btf *b, const ebpf_object *obj, const ksym_fixup *fix, const ebpf_btf_type *t, uint8_t *rec) {
  int be = b->raw.big_endian;
  char name[256];
  if (t->name.len >= sizeof name) return 0;
  memcpy(name, t->name.ptr, t->name.len);
  name[t->name.len] = 0;
  const ebpf_section *sec = object_find_section(obj, name);
  int kconfig = !sec && obj->kconfig_map >= 0 && t->name.len == 8 && !memcmp(t->name.ptr, ".kconfig", 8);
  var_entry *entries = arena_array(b->mem, t->vlen, sizeof(var_entry));
  if (t->vlen && !entries) return err_set(b->err, EBPF_ERR_NOMEM, "BTF: out of memory");
  uint32_t end = place_datasec_vars(b, obj, fix, t, sec, kconfig, entries);
  /* the kernel wants a DATASEC's variables in offset order */
  if (t->vlen > 1 && sort_stable(b->mem, entries, t->vlen, sizeof *entries, var_before))
    return err_set(b->err, EBPF_ERR_NOMEM, "BTF: out of memory");
  for (uint32_t i = 0; i < t->vlen; i++) {
    store_u32_order(rec + 12 + 12 * i, entries[i].type, be);
    store_u32_order(rec + 12 + 12 * i + 4, entries[i].offset, be);
    store_u32_order(rec + 12 + 12 * i + 8, entries[i].size, be);
  }
  if (kconfig) end = ((const ebpf_map *)obj->maps.items)[obj->kconfig_map].value_size;
  store_u32_order(rec + 8, sec ? sec->size : end, be);
  return 0;
}

int btf_kernel_blob(btf *b, const ebpf_object *obj, ebpf_str *out) {
  ksym_fixup fix = plan_ksym_fixup(b);
  uint8_t *copy = copy_with_room(b, &fix);
  if (!copy) return b->err->status;
  uint32_t type_len = 0, old_type_len = 0;
  buf_u32(&b->raw, 12, &old_type_len);
  ebpf_buf header = {copy, 24, b->raw.big_endian};
  buf_u32(&header, 12, &type_len);
  if (type_len == old_type_len && fix.extra) fix = (ksym_fixup){0, 0, 0, 0}; /* no room: the kernel will refuse it as it is */
  uint8_t *types = copy + b->types_start;
  int be = b->raw.big_endian, rc;
  if (fix.int_id) apply_ksym_fixup(b, &fix, types, types + old_type_len);
  for (uint32_t id = 1; id < b->info.type_count; id++) {
    const ebpf_btf_type *t = &b->info.types[id];
    uint8_t *rec = types + b->type_offsets[id];
    if (t->kind == EBPF_BTF_VAR && t->extra == 2) {
      if (fix.int_id && is_untyped_extern(b, t)) store_u32_order(rec + 8, fix.int_id, be);
      store_u32_order(rec + 12, 1, be); /* the kernel refuses extern VARs: the loader allocates them */
      continue;
    }
    if (t->kind == EBPF_BTF_DATASEC && (rc = fix_datasec(b, obj, &fix, t, rec))) return rc;
  }
  out->ptr = (const char *)copy;
  out->len = b->raw.size + fix.extra;
  return 0;
}

const ebpf_str *ebpf_btf_kernel_blob(ebpf_object *obj) {
  if (!obj || !obj->info.btf || obj->info.status) return NULL;
  btf *b = (btf *)obj->info.btf;
  ebpf_str *out = arena_alloc(b->mem, sizeof *out);
  if (!out || btf_kernel_blob(b, obj, out)) return NULL;
  return out;
}

/* BTF-defined maps (".maps"), decoded as libbpf's parse_btf_map_def does: each VAR of the DATASEC
 * is a struct whose members encode the attributes in their types, e.g. `int (*type)[BPF_MAP_TYPE_HASH]`
 * (__uint), `struct key *key` (__type), `struct inner *values[]` (__array). Strict like libbpf's
 * default: an unknown member is an error. */
#include <string.h>

#include "btf.h"
#include "elf.h"

#define MAP_TYPE_PROG_ARRAY 3
#define MAP_TYPE_ARRAY_OF_MAPS 12
#define MAP_TYPE_HASH_OF_MAPS 13
#define PIN_BY_NAME 1

typedef struct {
  btf *b;
  ebpf_object *obj;
  ebpf_str name; /* the map's name, for messages */
} map_ctx;

#define MAP_ERR(c, fmt, ...) \
  err_set(&(c)->obj->err, EBPF_ERR_MAP, "map '%.*s': " fmt, (int)(c)->name.len, (c)->name.ptr, __VA_ARGS__)

static const char *kind_of(const btf *b, uint32_t id) {
  const ebpf_btf_type *t = btf_type_by_id(b, id);
  return t ? btf_kind_name(t->kind) : "missing";
}

/* __uint(name, N): a pointer to an array of N elements. */
static int field_int(const map_ctx *c, const ebpf_btf_member *m, const char *name, uint32_t *out) {
  uint32_t id = btf_skip_mods_typedefs(c->b, m->type);
  const ebpf_btf_type *ptr = btf_type_by_id(c->b, id);
  if (ptr->kind != EBPF_BTF_PTR) return MAP_ERR(c, "attr '%s': expected PTR, got %s", name, kind_of(c->b, id));
  const ebpf_btf_type *arr = btf_type_by_id(c->b, ptr->type);
  if (arr->kind != EBPF_BTF_ARRAY)
    return MAP_ERR(c, "attr '%s': expected ARRAY, got %s", name, kind_of(c->b, ptr->type));
  *out = arr->nelems;
  return 0;
}

/* map_extra: __uint (32 bits) or __ulong (an enum/enum64 with one value). */
static int field_long(const map_ctx *c, const ebpf_btf_member *m, const char *name, uint64_t *out) {
  uint32_t id = btf_skip_mods_typedefs(c->b, m->type);
  const ebpf_btf_type *t = btf_type_by_id(c->b, id);
  if (t->kind == EBPF_BTF_PTR) {
    uint32_t v;
    if (field_int(c, m, name, &v)) return -1;
    *out = v;
    return 0;
  }
  if (t->kind != EBPF_BTF_ENUM && t->kind != EBPF_BTF_ENUM64)
    return MAP_ERR(c, "attr '%s': expected ENUM or ENUM64, got %s", name, btf_kind_name(t->kind));
  if (t->vlen != 1) return MAP_ERR(c, "attr '%s': invalid __ulong (%u enumerators)", name, t->vlen);
  const ebpf_btf_member *e = btf_members(c->b, t);
  *out = t->kind == EBPF_BTF_ENUM ? (uint64_t)(uint32_t)e->value : e->value;
  return 0;
}

/* __type(key|value, T): a pointer to T; the size is T's. */
static int field_type(const map_ctx *c, const ebpf_btf_member *m, const char *what, uint32_t *size, uint32_t *type_id) {
  const ebpf_btf_type *t = btf_type_by_id(c->b, m->type);
  if (t->kind != EBPF_BTF_PTR) return MAP_ERR(c, "%s spec is not PTR: %s", what, btf_kind_name(t->kind));
  uint64_t sz;
  if (btf_resolve_size(c->b, t->type, &sz)) {
    /* keep the resolver's reason, prefixed with the map */
    char why[EBPF_ERROR_MAX];
    memcpy(why, c->obj->err.message, sizeof why);
    c->obj->err.status = 0;
    return MAP_ERR(c, "can't determine %s size for type [%u]: %s", what, t->type, why);
  }
  if (*size && *size != sz) return MAP_ERR(c, "conflicting %s size %u != %u", what, *size, (uint32_t)sz);
  *size = (uint32_t)sz;
  *type_id = t->type;
  return 0;
}

static int field_size(const map_ctx *c, const ebpf_btf_member *m, const char *name, const char *what, uint32_t *size) {
  uint32_t sz;
  if (field_int(c, m, name, &sz)) return -1;
  if (*size && *size != sz) return MAP_ERR(c, "conflicting %s size %u != %u", what, *size, sz);
  *size = sz;
  return 0;
}

static int parse_def(map_ctx *c, const ebpf_btf_type *def, ebpf_map *out, uint32_t *inner_def_id, int is_inner);

/* __array(values, struct inner): a zero-length array of pointers to the inner definition
 * (map-in-map) or to a func_proto (prog array). */
static int field_values(map_ctx *c, const ebpf_btf_member *m, uint32_t i, uint32_t vlen, ebpf_map *out,
                        uint32_t *inner_def_id, int is_inner) {
  int in_map = out->type == MAP_TYPE_ARRAY_OF_MAPS || out->type == MAP_TYPE_HASH_OF_MAPS;
  int prog_array = out->type == MAP_TYPE_PROG_ARRAY;
  const char *desc = in_map ? "map-in-map inner" : "prog-array value";
  if (is_inner) return MAP_ERR(c, "multi-level inner maps not supported%s", "");
  if (i != vlen - 1) return MAP_ERR(c, "'%s' member should be last", "values");
  if (!in_map && !prog_array) return MAP_ERR(c, "'values' needs a map-in-map or prog-array type, not type %u", out->type);
  if (out->value_size && out->value_size != 4) return MAP_ERR(c, "conflicting value size %u != 4", out->value_size);
  out->value_size = 4;
  if (m->offset % 8) return MAP_ERR(c, "'values' at bit offset %u, not on a byte", m->offset);
  out->values_offset = m->offset / 8;
  const ebpf_btf_type *arr = btf_type_by_id(c->b, m->type);
  if (arr->kind != EBPF_BTF_ARRAY || arr->nelems) return MAP_ERR(c, "%s spec is not a zero-sized array", desc);
  uint32_t id = btf_skip_mods_typedefs(c->b, arr->type);
  const ebpf_btf_type *ptr = btf_type_by_id(c->b, id);
  if (ptr->kind != EBPF_BTF_PTR) return MAP_ERR(c, "%s def is of unexpected kind %s", desc, btf_kind_name(ptr->kind));
  id = btf_skip_mods_typedefs(c->b, ptr->type);
  const ebpf_btf_type *target = btf_type_by_id(c->b, id);
  if (prog_array) {
    if (target->kind != EBPF_BTF_FUNC_PROTO)
      return MAP_ERR(c, "prog-array value def is of unexpected kind %s", btf_kind_name(target->kind));
    return 0;
  }
  if (target->kind != EBPF_BTF_STRUCT)
    return MAP_ERR(c, "map-in-map inner def is of unexpected kind %s", btf_kind_name(target->kind));
  *inner_def_id = id;
  return 0;
}

/* A member name equal to a literal: the length first, so most names are told apart without a memcmp call. */
#define NAME_IS(s, lit) ((s).len == sizeof(lit) - 1 && memcmp((s).ptr, lit, sizeof(lit) - 1) == 0)

static int parse_def(map_ctx *c, const ebpf_btf_type *def, ebpf_map *out, uint32_t *inner_def_id, int is_inner) {
  const ebpf_btf_member *members = btf_members(c->b, def);
  for (uint32_t i = 0; i < def->vlen; i++) {
    const ebpf_btf_member *m = &members[i];
    ebpf_str name = m->name;
    if (name.len == 0) return MAP_ERR(c, "invalid field #%u (no name)", i);
    int rc;
    if (NAME_IS(name, "type")) rc = field_int(c, m, "type", &out->type);
    else if (NAME_IS(name, "max_entries")) rc = field_int(c, m, "max_entries", &out->max_entries);
    else if (NAME_IS(name, "map_flags")) rc = field_int(c, m, "map_flags", &out->flags);
    else if (NAME_IS(name, "numa_node")) rc = field_int(c, m, "numa_node", &out->numa_node);
    else if (NAME_IS(name, "key_size")) rc = field_size(c, m, "key_size", "key", &out->key_size);
    else if (NAME_IS(name, "value_size")) rc = field_size(c, m, "value_size", "value", &out->value_size);
    else if (NAME_IS(name, "key")) rc = field_type(c, m, "key", &out->key_size, &out->key_type_id);
    else if (NAME_IS(name, "value")) rc = field_type(c, m, "value", &out->value_size, &out->value_type_id);
    else if (NAME_IS(name, "values")) rc = field_values(c, m, i, def->vlen, out, inner_def_id, is_inner);
    else if (NAME_IS(name, "map_extra")) rc = field_long(c, m, "map_extra", &out->map_extra);
    else if (NAME_IS(name, "pinning")) {
      if (is_inner) return MAP_ERR(c, "inner def can't be pinned%s", "");
      rc = field_int(c, m, "pinning", &out->pinning);
      if (!rc && out->pinning > PIN_BY_NAME)
        return MAP_ERR(c, "invalid pinning value %u (0 none, 1 by name)", out->pinning);
    } else {
      /* no known attribute name is longer than 31 bytes: a longer one is reported cut */
      return MAP_ERR(c, "unknown field '%.*s'", (int)(name.len < 32 ? name.len : 31), name.ptr);
    }
    if (rc) return -1;
  }
  if (out->type == 0) return MAP_ERR(c, "map type isn't specified%s", "");
  return 0;
}

/* The symbol of a map in ".maps": compilers leave the DATASEC's offsets 0 in object files (libbpf
 * fixes them up from the symbol table), so the symbol gives the definition's offset and size. */
static const ebpf_symbol *find_symbol(const ebpf_object *obj, uint32_t section, ebpf_str name) {
  uint32_t first, end; /* only the section's symbols, lowest symbol index first among equal addresses */
  elf_section_symbols(obj, section, &first, &end);
  const ebpf_symbol *found = NULL;
  for (uint32_t k = first; k < end; k++) {
    const ebpf_symbol *s = &obj->symbols[obj->sym_by_addr[k].index];
    if (s->index == 0 || s->name.len != name.len || memcmp(s->name.ptr, name.ptr, name.len) != 0) continue;
    if (!found || s->index < found->index) found = s;
  }
  return found;
}

static int decode_var(btf *b, ebpf_object *obj, uint32_t section, uint32_t section_size, uint32_t index,
                      const ebpf_btf_member *vi) {
  const ebpf_btf_type *var = btf_type_by_id(b, vi->type);
  map_ctx c = {.b = b, .obj = obj, .name = var->name};
  if (var->name.len == 0) return err_set(&obj->err, EBPF_ERR_MAP, "section '.maps': map #%u has an empty name", index);
  if (var->kind != EBPF_BTF_VAR) return MAP_ERR(&c, "unexpected var kind %s", btf_kind_name(var->kind));
  const ebpf_symbol *sym = find_symbol(obj, section, var->name);
  if (!sym) return MAP_ERR(&c, "no symbol of this name in '.maps'%s", "");
  uint64_t offset = sym->value, size = sym->size;
  if (offset + size > section_size || offset > section_size)
    return MAP_ERR(&c, "BTF data is corrupted: offset %llu + size %llu is outside '.maps' (%u bytes)",
                   (unsigned long long)offset, (unsigned long long)size, section_size);
  if (var->extra != 1 /* BTF_VAR_GLOBAL_ALLOCATED */)
    return MAP_ERR(&c, "unsupported map linkage %s", var->extra == 0 ? "static" : var->extra == 2 ? "extern" : "unknown");
  const ebpf_btf_type *def = btf_type_by_id(b, btf_skip_mods_typedefs(b, var->type));
  if (def->kind != EBPF_BTF_STRUCT) return MAP_ERR(&c, "unexpected def kind %s", btf_kind_name(def->kind));
  if (def->size > size) return MAP_ERR(&c, "invalid def size %u > %llu", def->size, (unsigned long long)size);

  ebpf_map m = {0};
  m.values_offset = EBPF_NONE;
  uint32_t inner_def_id = 0;
  if (parse_def(&c, def, &m, &inner_def_id, 0)) return -1;
  ebpf_map *rec = object_add_map(obj);
  if (!rec) return -1;
  int32_t outer_index = (int32_t)obj->maps.count - 1;
  m.name = sym->name; /* the VAR's name (find_symbol matched it) in .strtab, which readers decode anyway */
  m.section = section;
  m.origin = EBPF_MAP_BTF;
  m.def_offset = (uint32_t)offset;
  m.symbol = sym->index;
  m.btf_var_type_id = vi->type;
  m.inner_map = -1;
  *rec = m;
  if (!inner_def_id) return 0;

  ebpf_map inner = {0};
  inner.values_offset = EBPF_NONE;
  ebpf_str inner_name = object_strf(obj, "%.*s.inner", (int)var->name.len, var->name.ptr);
  map_ctx ic = {.b = b, .obj = obj, .name = inner_name};
  uint32_t none = 0;
  if (parse_def(&ic, btf_type_by_id(b, inner_def_id), &inner, &none, 1)) return -1;
  ebpf_map *irec = object_add_map(obj);
  if (!irec) return -1;
  inner.name = inner_name;
  inner.section = section;
  inner.origin = EBPF_MAP_BTF;
  inner.def_offset = (uint32_t)offset;
  inner.symbol = EBPF_NONE;
  inner.inner_map = -1;
  inner.attrs = EBPF_MAP_INNER_TEMPLATE;
  *irec = inner;
  ((ebpf_map *)obj->maps.items)[outer_index].inner_map = (int32_t)obj->maps.count - 1;
  return 0;
}

int btf_decode_maps(btf *b, ebpf_object *obj, uint32_t section) {
  const ebpf_btf_type *sec = btf_find_datasec(b, ".maps");
  if (!sec) return err_set(&obj->err, EBPF_ERR_MAP, "section '.maps': DATASEC '.maps' not found in BTF");
  uint32_t size = obj->sections[section].size;
  const ebpf_btf_member *vars = btf_members(b, sec);
  for (uint32_t i = 0; i < sec->vlen; i++) {
    if (decode_var(b, obj, section, size, i, &vars[i])) return obj->err.status;
  }
  return 0;
}

/* Maps a loader derives from BTF data sections rather than from map definitions:
 * - ".kconfig": the extern __kconfig variables, packed as libbpf packs them (by descending
 *   alignment, then ascending size, then name), in one read-only array map;
 * - ".struct_ops" / ".struct_ops.link": one BPF_MAP_TYPE_STRUCT_OPS map per variable;
 * and the BTF value type (the DATASEC of the same name) of the .data/.rodata/.bss maps. */
#include <string.h>

#include "btf.h"
#include "elf.h"

#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_STRUCT_OPS 26
#define BPF_F_RDONLY_PROG (1u << 7)
#define BPF_F_LINK (1u << 13)

typedef struct {
  ebpf_str name;
  uint32_t size, align, offset, kind, flags;
} kconfig_var;

static int kconfig_before(const void *a, const void *b) {
  const kconfig_var *x = a, *y = b;
  if (x->align != y->align) return x->align > y->align ? -1 : 1;
  if (x->size != y->size) return x->size < y->size ? -1 : 1;
  uint32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
  int c = memcmp(x->name.ptr, y->name.ptr, n);
  return c ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

/* How a loader writes the value of a kconfig variable of BTF type `type` (libbpf's rules). */
static uint32_t kconfig_kind(const btf *b, uint32_t type, uint32_t *flags) {
  const ebpf_btf_type *t = btf_type_by_id(b, btf_skip_mods_typedefs(b, type));
  if (!t) return EBPF_KCONFIG_UNKNOWN;
  if (t->kind == EBPF_BTF_INT) {
    uint32_t encoding = (t->extra >> 24) & 0xf;
    if (encoding & 4) return t->size == 1 ? EBPF_KCONFIG_BOOL : EBPF_KCONFIG_UNKNOWN;
    if (encoding & 1) *flags |= EBPF_KCONFIG_SIGNED;
    if (t->size == 1) return EBPF_KCONFIG_CHAR;
    return t->size == 2 || t->size == 4 || t->size == 8 ? EBPF_KCONFIG_INT : EBPF_KCONFIG_UNKNOWN;
  }
  if (t->kind == EBPF_BTF_ENUM)
    return t->size == 4 && t->name.len == 15 && !memcmp(t->name.ptr, "libbpf_tristate", 15) ? EBPF_KCONFIG_TRISTATE
                                                                                           : EBPF_KCONFIG_UNKNOWN;
  if (t->kind == EBPF_BTF_ARRAY && t->nelems) {
    uint32_t element_flags = 0;
    return kconfig_kind(b, t->type, &element_flags) == EBPF_KCONFIG_CHAR ? EBPF_KCONFIG_CHAR_ARRAY : EBPF_KCONFIG_UNKNOWN;
  }
  return EBPF_KCONFIG_UNKNOWN;
}

/* Alignment of a kconfig value: integers, enums and pointers align to their size, char
 * arrays (strings) to 1. */
static uint32_t kconfig_align(const btf *b, uint32_t type, uint64_t size) {
  const ebpf_btf_type *t = btf_type_by_id(b, btf_skip_mods_typedefs(b, type));
  if (!t || t->kind == EBPF_BTF_ARRAY) return 1;
  return size == 2 || size == 4 || size == 8 ? (uint32_t)size : 1;
}

int data_add_kconfig_map(ebpf_object *obj) {
  const btf *b = (const btf *)obj->info.btf;
  const ebpf_btf_type *sec = b ? btf_find_datasec(b, ".kconfig") : NULL;
  if (!sec || sec->vlen == 0) return 0;
  const ebpf_btf_member *vars = btf_members(b, sec);
  kconfig_var *list = arena_array(&obj->mem, sec->vlen, sizeof(kconfig_var));
  if (!list) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for .kconfig");
  for (uint32_t i = 0; i < sec->vlen; i++) {
    const ebpf_btf_type *var = btf_type_by_id(b, vars[i].type);
    uint64_t size;
    if (!var || var->kind != EBPF_BTF_VAR)
      return err_set(&obj->err, EBPF_ERR_BTF, "BTF: .kconfig entry %u is type [%u], not a variable", i, vars[i].type);
    if (btf_resolve_size(b, var->type, &size)) return obj->err.status;
    if (size == 0 || size > 1u << 20)
      return err_set(&obj->err, EBPF_ERR_BTF, "BTF: .kconfig variable '%.*s' has size %llu", (int)var->name.len,
                     var->name.ptr, (unsigned long long)size);
    uint32_t flags = 0, kind = kconfig_kind(b, var->type, &flags);
    for (uint32_t k = 1; k < obj->info.symbol_count; k++) { /* weak: a missing value is 0 */
      const ebpf_symbol *sym = &obj->symbols[k];
      if (sym->section == 0 && sym->bind == 2 /* STB_WEAK */ && sym->name.len == var->name.len &&
          !memcmp(sym->name.ptr, var->name.ptr, var->name.len))
        flags |= EBPF_KCONFIG_WEAK;
    }
    list[i] = (kconfig_var){var->name, (uint32_t)size, kconfig_align(b, var->type, size), 0, kind, flags};
  }
  if (sort_stable(&obj->mem, list, sec->vlen, sizeof *list, kconfig_before))
    return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for .kconfig");
  uint32_t off = 0;
  for (uint32_t i = 0; i < sec->vlen; i++) {
    off = (off + list[i].align - 1) / list[i].align * list[i].align;
    list[i].offset = off;
    off += list[i].size;
  }
  ebpf_map *m = object_add_map(obj);
  if (!m) return obj->err.status;
  m->name = (ebpf_str){".kconfig", 8};
  m->origin = EBPF_MAP_KCONFIG;
  m->type = BPF_MAP_TYPE_ARRAY;
  m->key_size = 4;
  m->value_size = off;
  m->max_entries = 1;
  m->flags = BPF_F_RDONLY_PROG;
  m->value_type_id = (uint32_t)(sec - b->info.types);
  obj->kconfig_map = (int32_t)(obj->maps.count - 1);
  obj->kconfig_vars = list;
  obj->kconfig_var_count = sec->vlen;
  ebpf_kconfig_var *out = arena_array(&obj->mem, sec->vlen, sizeof *out);
  if (!out) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for .kconfig");
  for (uint32_t i = 0; i < sec->vlen; i++)
    out[i] = (ebpf_kconfig_var){list[i].name, list[i].offset, list[i].size, list[i].kind, list[i].flags};
  obj->kconfig = (ebpf_kconfig_vars){out, sec->vlen};
  return 0;
}

int32_t data_kconfig_offset(const ebpf_object *obj, ebpf_str name) {
  for (uint32_t i = 0; i < obj->kconfig_var_count; i++) { /* few variables; one lookup per extern */
    const kconfig_var *v = &((const kconfig_var *)obj->kconfig_vars)[i];
    if (v->name.len == name.len && memcmp(v->name.ptr, name.ptr, name.len) == 0) return (int32_t)v->offset;
  }
  return -1;
}

int data_add_struct_ops_maps(ebpf_object *obj) {
  const btf *b = (const btf *)obj->info.btf;
  for (uint32_t s = 1; s < obj->info.section_count; s++) {
    const ebpf_section *sec = &obj->sections[s];
    if (sec->kind != EBPF_SEC_STRUCT_OPS) continue;
    ebpf_buf data;
    if (object_section_buf(obj, s, &data)) return obj->err.status;
    /* the variables' BTF types, matched by name (DATASEC offsets are 0 in object files) */
    char dsname[32];
    const ebpf_btf_type *ds = NULL;
    if (b && sec->name.len < sizeof dsname) {
      memcpy(dsname, sec->name.ptr, sec->name.len);
      dsname[sec->name.len] = 0;
      ds = btf_find_datasec(b, dsname);
    }
    uint32_t first, end;
    elf_section_symbols(obj, s, &first, &end);
    for (uint32_t k = first; k < end; k++) {
      const ebpf_symbol *sym = &obj->symbols[obj->sym_by_addr[k].index];
      if (sym->type != 1 /* STT_OBJECT */ || !sym->name.len) continue;
      const uint8_t *p;
      if (!data.data || buf_span(&data, sym->value, sym->size, &p))
        return err_set(&obj->err, EBPF_ERR_MAP, "struct_ops '%.*s': offset %llu, size %llu lie outside section '%.*s'",
                       (int)sym->name.len, sym->name.ptr, (unsigned long long)sym->value,
                       (unsigned long long)sym->size, (int)sec->name.len, sec->name.ptr);
      ebpf_map *m = object_add_map(obj);
      if (!m) return obj->err.status;
      m->name = sym->name;
      m->section = s;
      m->origin = EBPF_MAP_STRUCT_OPS;
      m->type = BPF_MAP_TYPE_STRUCT_OPS;
      m->key_size = 4;
      m->value_size = (uint32_t)sym->size;
      m->max_entries = 1;
      m->flags = sec->name.len > 11 ? BPF_F_LINK : 0; /* ".struct_ops.link" */
      m->def_offset = (uint32_t)sym->value;
      m->symbol = sym->index;
      m->init_data = p;
      m->init_size = (uint32_t)sym->size;
      const ebpf_btf_member *vars = ds ? btf_members(b, ds) : NULL;
      for (uint32_t i = 0; vars && i < ds->vlen; i++) {
        const ebpf_btf_type *var = btf_type_by_id(b, vars[i].type);
        if (var && var->kind == EBPF_BTF_VAR && var->name.len == sym->name.len &&
            memcmp(var->name.ptr, sym->name.ptr, sym->name.len) == 0) {
          m->value_type_id = var->type;
          m->btf_var_type_id = vars[i].type;
          break;
        }
      }
    }
  }
  return 0;
}

int data_set_datasec_types(ebpf_object *obj) {
  const btf *b = (const btf *)obj->info.btf;
  if (!b) return 0;
  ebpf_map *maps = (ebpf_map *)obj->maps.items;
  for (uint32_t i = 0; i < obj->maps.count; i++) {
    ebpf_map *m = &maps[i];
    if (m->origin < EBPF_MAP_DATA || m->origin > EBPF_MAP_BSS) continue;
    char name[256];
    if (m->name.len >= sizeof name) continue;
    memcpy(name, m->name.ptr, m->name.len);
    name[m->name.len] = 0;
    const ebpf_btf_type *sec = btf_find_datasec(b, name);
    /* string literal sections (.rodata.str1.1) have no DATASEC: such maps get no BTF */
    if (sec) m->value_type_id = (uint32_t)(sec - b->info.types);
  }
  return 0;
}

const ebpf_kconfig_vars *ebpf_object_kconfig(const ebpf_object *obj) {
  return obj && !obj->info.status ? &obj->kconfig : NULL;
}

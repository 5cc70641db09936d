/* Maps of the legacy "maps" section: one definition per symbol, in goebpf's struct bpf_map_def
 * (5 x u32, padding, void *inner_map_def at 24, const char *persistent_path at 32: 40 bytes) or
 * older layouts of other sizes (first fields type, key_size, value_size, max_entries, map_flags).
 * Each definition is as long as its symbol (st_size), as cilium/ebpf reads it, so a section that
 * `bpftool gen object` linked from objects with different bpf_map_def layouts holds definitions of
 * several sizes; only where a map symbol has no size (st_size 0) are the definitions taken as equal
 * slices of the section. goebpf's two pointers are resolved through the relocations of the section. */
#include "elf.h"

#define GOEBPF_DEF_SIZE 40u
#define GOEBPF_INNER_OFF 24u
#define GOEBPF_PATH_OFF 32u

/* The byte size of map m's definition: its symbol's size, or `uniform` when the symbols have none. */
static uint32_t legacy_def_size(const ebpf_object *obj, const ebpf_map *m, uint32_t uniform) {
  return uniform ? uniform : (uint32_t)obj->symbols[m->symbol].size;
}

/* The map of this section whose definition holds byte `offset` (maps are in def_offset order). */
static int32_t legacy_map_holding(const ebpf_object *obj, uint32_t first_map, uint32_t uniform, uint64_t offset) {
  const ebpf_map *maps = (const ebpf_map *)obj->maps.items;
  uint32_t lo = 0, hi = obj->maps.count - first_map;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (maps[first_map + mid].def_offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return -1;
  const ebpf_map *m = &maps[first_map + lo - 1];
  if (offset - m->def_offset >= legacy_def_size(obj, m, uniform)) return -1;
  return (int32_t)(first_map + lo - 1);
}

static int resolve_pointer(ebpf_object *obj, const ebpf_section *sec, uint32_t first_map, uint32_t uniform,
                           ebpf_reloc *r) {
  ebpf_map *maps = (ebpf_map *)obj->maps.items;
  int32_t mi = legacy_map_holding(obj, first_map, uniform, r->offset);
  if (mi < 0)
    return err_set(&obj->err, EBPF_ERR_MAP, "section 'maps': relocation at offset %u against '%.*s' is in no map definition",
                   r->offset, (int)r->symbol_name.len, r->symbol_name.ptr);
  ebpf_map *m = &maps[mi];
  uint32_t field = r->offset - m->def_offset;
  r->kind = EBPF_RELOC_DATA_SLOT;
  r->map = mi;
  if (legacy_def_size(obj, m, uniform) != GOEBPF_DEF_SIZE || (field != GOEBPF_INNER_OFF && field != GOEBPF_PATH_OFF))
    return err_set(&obj->err, EBPF_ERR_MAP,
                   "section 'maps': relocation at offset %u (field offset %u of map '%.*s') against '%.*s' is not "
                   "bpf_map_def's inner_map_def (24) or persistent_path (32)",
                   r->offset, field, (int)m->name.len, m->name.ptr, (int)r->symbol_name.len, r->symbol_name.ptr);
  const ebpf_symbol *sym = &obj->symbols[r->symbol];
  if (sym->section == 0 || sym->section >= obj->info.section_count)
    return err_set(&obj->err, EBPF_ERR_MAP, "map '%.*s': pointer at offset %u refers to undefined symbol '%.*s'",
                   (int)m->name.len, m->name.ptr, r->offset, (int)sym->name.len, sym->name.ptr);
  ebpf_buf slot;
  uint64_t addend;
  object_section_buf(obj, sec->index, &slot);
  if (buf_u64(&slot, r->offset, &addend))
    return err_set(&obj->err, EBPF_ERR_MAP, "section 'maps': pointer slot at offset %u is outside the section", r->offset);
  uint64_t target = sym->value + addend;
  r->target_section = sym->section;
  r->target_offset = (uint32_t)target;
  if (field == GOEBPF_INNER_OFF) {
    int32_t inner = sym->section == sec->index ? legacy_map_holding(obj, first_map, uniform, target) : -1;
    if (inner < 0 || maps[inner].def_offset != target)
      return err_set(&obj->err, EBPF_ERR_MAP, "map '%.*s': inner_map_def '%.*s' is not a map definition in 'maps'",
                     (int)m->name.len, m->name.ptr, (int)sym->name.len, sym->name.ptr);
    m->inner_map = inner;
    return 0;
  }
  ebpf_buf strs;
  const char *path;
  uint32_t len;
  if (object_section_buf(obj, sym->section, &strs) || buf_cstr(&strs, target, &path, &len))
    return err_set(&obj->err, EBPF_ERR_MAP,
                   "map '%.*s': persistent_path points at offset %llu of section '%.*s', which holds no terminated string",
                   (int)m->name.len, m->name.ptr, (unsigned long long)target,
                   (int)obj->sections[sym->section].name.len, obj->sections[sym->section].name.ptr);
  m->persistent_path = (ebpf_str){path, len};
  return 0;
}

static int is_map_symbol(const ebpf_symbol *sym) {
  return sym->type != 3 /* STT_SECTION */ && sym->type != 4 /* STT_FILE */ && sym->name.len;
}

/* Objects whose map symbols carry no size: `count` definitions of equal size fill the section. */
static int uniform_def_size(ebpf_object *obj, const ebpf_section *sec, uint32_t count, uint32_t *size) {
  if (sec->size % count)
    return err_set(&obj->err, EBPF_ERR_MAP,
                   "section 'maps': size %u is not a multiple of its %u map definitions (their symbols have no size)",
                   sec->size, count);
  *size = sec->size / count;
  if (*size < 16)
    return err_set(&obj->err, EBPF_ERR_MAP, "section 'maps': map definitions of %u bytes are too small (16 at least)",
                   *size);
  return 0;
}

/* Checks where a definition lies: inside the section, on its slot (uniform size), after the previous one. */
static int check_placement(ebpf_object *obj, const ebpf_section *sec, uint32_t first_map, uint32_t uniform,
                           const ebpf_symbol *sym, uint64_t size) {
  if (size < 16)
    return err_set(&obj->err, EBPF_ERR_MAP, "map '%.*s': definition of %llu bytes in 'maps' is too small (16 at least)",
                   (int)sym->name.len, sym->name.ptr, (unsigned long long)size);
  if (sym->value > sec->size || size > sec->size - sym->value)
    return err_set(&obj->err, EBPF_ERR_MAP,
                   "map '%.*s': definition at offset %llu of 'maps' (%llu bytes) runs past its end (%u bytes)",
                   (int)sym->name.len, sym->name.ptr, (unsigned long long)sym->value, (unsigned long long)size,
                   sec->size);
  if (uniform && sym->value % uniform)
    return err_set(&obj->err, EBPF_ERR_MAP,
                   "map '%.*s': definition at offset %llu of 'maps' is not one of its %u-byte slots",
                   (int)sym->name.len, sym->name.ptr, (unsigned long long)sym->value, uniform);
  if (obj->maps.count == first_map) return 0;
  const ebpf_map *prev = &((const ebpf_map *)obj->maps.items)[obj->maps.count - 1];
  if (prev->def_offset == sym->value)
    return err_set(&obj->err, EBPF_ERR_MAP, "map '%.*s' shares its definition at offset %u of 'maps' with another map",
                   (int)sym->name.len, sym->name.ptr, prev->def_offset);
  uint32_t prev_end = prev->def_offset + legacy_def_size(obj, prev, uniform);
  if (sym->value < prev_end)
    return err_set(&obj->err, EBPF_ERR_MAP,
                   "map '%.*s': definition at offset %llu of 'maps' overlaps map '%.*s' (offsets %u to %u)",
                   (int)sym->name.len, sym->name.ptr, (unsigned long long)sym->value, (int)prev->name.len,
                   prev->name.ptr, prev->def_offset, prev_end);
  return 0;
}

/* One map from its symbol's definition: the leading u32 fields of every bpf_map_def layout. */
static int read_definition(ebpf_object *obj, const ebpf_section *sec, const ebpf_buf *data, uint32_t first_map,
                           uint32_t uniform, const ebpf_symbol *sym) {
  uint64_t size = uniform ? uniform : sym->size;
  if (check_placement(obj, sec, first_map, uniform, sym, size)) return obj->err.status;
  ebpf_map *m = object_add_map(obj);
  if (!m) return obj->err.status;
  uint32_t at = (uint32_t)sym->value;
  m->name = sym->name;
  m->section = sec->index;
  m->origin = EBPF_MAP_LEGACY;
  m->def_offset = at;
  m->symbol = sym->index;
  buf_u32(data, at, &m->type);
  buf_u32(data, at + 4, &m->key_size);
  buf_u32(data, at + 8, &m->value_size);
  buf_u32(data, at + 12, &m->max_entries);
  if (size >= 20) buf_u32(data, at + 16, &m->flags);
  return 0;
}

int maps_legacy_read(ebpf_object *obj) {
  const ebpf_section *sec = NULL;
  for (uint32_t i = 1; i < obj->info.section_count && !sec; i++)
    if (obj->sections[i].kind == EBPF_SEC_MAPS) sec = &obj->sections[i];
  if (!sec) return 0;
  ebpf_buf data;
  if (object_section_buf(obj, sec->index, &data)) return obj->err.status;
  if (sec->type == 8 /* NOBITS */)
    return err_set(&obj->err, EBPF_ERR_MAP, "section 'maps' has no contents (SHT_NOBITS)");

  uint32_t first, end, count = 0, unsized = 0;
  elf_section_symbols(obj, sec->index, &first, &end);
  for (uint32_t k = first; k < end; k++) {
    const ebpf_symbol *sym = &obj->symbols[obj->sym_by_addr[k].index];
    if (!is_map_symbol(sym)) continue;
    count++;
    if (sym->size == 0) unsized++;
  }
  if (count == 0) {
    if (sec->size)
      object_add_diag(obj, EBPF_DIAG_IGNORED, sec->index, 0, "section 'maps' has %u bytes but no map symbols",
                      sec->size);
    return obj->err.status;
  }
  uint32_t uniform = 0;
  if (unsized && uniform_def_size(obj, sec, count, &uniform)) return obj->err.status;

  uint32_t first_map = obj->maps.count;
  for (uint32_t k = first; k < end; k++) {
    const ebpf_symbol *sym = &obj->symbols[obj->sym_by_addr[k].index];
    if (is_map_symbol(sym) && read_definition(obj, sec, &data, first_map, uniform, sym)) return obj->err.status;
  }

  uint32_t rfirst, rcount;
  object_section_relocs(obj, sec->index, &rfirst, &rcount);
  for (uint32_t i = 0; i < rcount; i++) {
    ebpf_reloc *r = &((ebpf_reloc *)obj->relocs.items)[rfirst + i];
    if (resolve_pointer(obj, sec, first_map, uniform, r)) return obj->err.status;
  }
  return 0;
}

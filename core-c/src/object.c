/* ebpf_object_open/close/get_info: the order of the parsing steps and the shared helpers. */
#include <stdlib.h>
#include <string.h>

#include "elf.h"

/* Stand-ins until the BTF module (btf*.c) provides the real ones: an object with BTF still
 * opens, without the BTF part and without its ".maps". */
__attribute__((weak)) int btf_object_parse(ebpf_object *obj) {
  (void)obj;
  return EBPF_OK;
}

__attribute__((weak)) int btf_object_maps(ebpf_object *obj, uint32_t sec) {
  object_add_diag(obj, EBPF_DIAG_IGNORED, sec, 0, "BTF-defined maps in '.maps' are not decoded by this build");
  return EBPF_OK;
}

int object_section_buf(ebpf_object *obj, uint32_t index, ebpf_buf *out) {
  if (index == 0 || index >= obj->info.section_count)
    return err_set(&obj->err, EBPF_ERR_ELF, "section index %u is out of range (%u sections)", index,
                   obj->info.section_count);
  const ebpf_section *s = &obj->sections[index];
  if (s->type == 8 /* SHT_NOBITS */) {
    out->data = NULL;
    out->size = 0;
    out->big_endian = obj->file.big_endian;
    return 0;
  }
  if (buf_sub(&obj->file, s->offset, s->size, out))
    return err_set(&obj->err, EBPF_ERR_ELF, "section '%.*s' lies outside the file", (int)s->name.len, s->name.ptr);
  return 0;
}

const ebpf_section *object_find_section(const ebpf_object *obj, const char *name) {
  uint32_t n = (uint32_t)strlen(name);
  for (uint32_t i = 1; i < obj->info.section_count; i++) {
    const ebpf_section *s = &obj->sections[i];
    if (s->name.len == n && memcmp(s->name.ptr, name, n) == 0) return s;
  }
  return NULL;
}

ebpf_map *object_add_map(ebpf_object *obj) {
  ebpf_map *m = vec_push(&obj->mem, &obj->maps);
  if (!m) {
    err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for map records");
    return NULL;
  }
  m->inner_map = -1;
  m->symbol = EBPF_NONE;
  m->values_offset = EBPF_NONE;
  return m;
}

static ebpf_str vstrf(ebpf_object *obj, const char *fmt, va_list ap) {
  char tmp[EBPF_ERROR_MAX];
  uint32_t len = str_vformat(tmp, sizeof tmp, fmt, ap);
  char *copy = arena_alloc(&obj->mem, (uint64_t)len + 1);
  if (!copy) return (ebpf_str){"", 0};
  memcpy(copy, tmp, (size_t)len + 1);
  return (ebpf_str){copy, len};
}

ebpf_str object_strf(ebpf_object *obj, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ebpf_str s = vstrf(obj, fmt, ap);
  va_end(ap);
  return s;
}

ebpf_diagnostic *object_add_diag(ebpf_object *obj, uint32_t kind, uint32_t section, uint32_t offset,
                                 const char *fmt, ...) {
  ebpf_diagnostic *d = vec_push(&obj->mem, &obj->diagnostics);
  if (!d) {
    err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for diagnostics");
    return NULL;
  }
  va_list ap;
  va_start(ap, fmt);
  d->message = vstrf(obj, fmt, ap);
  va_end(ap);
  d->kind = kind;
  d->section = section;
  d->offset = offset;
  return d;
}

int32_t object_map_at(const ebpf_object *obj, uint32_t section, uint32_t offset) {
  const ebpf_map *maps = (const ebpf_map *)obj->maps.items;
  for (uint32_t i = 0; i < obj->maps.count; i++) {
    if (maps[i].section == section && maps[i].def_offset == offset) return (int32_t)i;
  }
  return -1;
}

void object_section_relocs(const ebpf_object *obj, uint32_t section, uint32_t *first, uint32_t *count) {
  if (!obj->rel_first || section >= obj->info.section_count) {
    *first = *count = 0;
    return;
  }
  *first = obj->rel_first[section];
  *count = obj->rel_count[section];
}

static int parse(ebpf_object *obj) {
  int rc;
  if ((rc = elf_read_sections(obj))) return rc;
  if ((rc = elf_read_symbols(obj))) return rc;
  if ((rc = data_read_license_version(obj))) return rc;
  if ((rc = relocs_read(obj))) return rc;
  if ((rc = maps_legacy_read(obj))) return rc;
  if ((rc = btf_object_parse(obj))) return err_set(&obj->err, rc, "BTF could not be parsed");
  const ebpf_section *dot_maps = object_find_section(obj, ".maps");
  if (dot_maps && (rc = btf_object_maps(obj, dot_maps->index)))
    return err_set(&obj->err, rc, "section '.maps' could not be decoded");
  if ((rc = data_add_global_maps(obj))) return rc;
  if ((rc = data_set_datasec_types(obj))) return rc;
  if ((rc = data_add_kconfig_map(obj))) return rc;
  if ((rc = data_add_struct_ops_maps(obj))) return rc;
  if ((rc = programs_read(obj))) return rc;
  return relocs_classify(obj);
}

ebpf_object *ebpf_object_open(const uint8_t *data, uint32_t size) {
  ebpf_object *obj = calloc(1, sizeof *obj);
  if (!obj) return NULL;
  obj->file.data = data;
  obj->file.size = data ? size : 0;
  obj->info.data = data;
  obj->info.data_size = obj->file.size;
  obj->kconfig_map = -1;
  vec_init(&obj->programs, sizeof(ebpf_program));
  vec_init(&obj->maps, sizeof(ebpf_map));
  vec_init(&obj->relocs, sizeof(ebpf_reloc));
  vec_init(&obj->diagnostics, sizeof(ebpf_diagnostic));
  vec_init(&obj->ksyms, sizeof(ebpf_ksym));
  vec_init(&obj->ksym_symbol_vec, sizeof(uint32_t));
  int rc = parse(obj);
  ebpf_object_info *info = &obj->info;
  if (rc) {
    if (!obj->err.status) err_set(&obj->err, rc, "object could not be parsed");
    info->status = (uint32_t)obj->err.status;
    info->message.ptr = obj->err.message;
    info->message.len = (uint32_t)strlen(obj->err.message);
    return obj;
  }
  info->sections = obj->sections;
  info->symbols = obj->symbols;
  info->programs = (const ebpf_program *)obj->programs.items;
  info->program_count = obj->programs.count;
  info->maps = (const ebpf_map *)obj->maps.items;
  info->map_count = obj->maps.count;
  info->relocs = (const ebpf_reloc *)obj->relocs.items;
  info->reloc_count = obj->relocs.count;
  info->diagnostics = (const ebpf_diagnostic *)obj->diagnostics.items;
  info->diagnostic_count = obj->diagnostics.count;
  info->message.ptr = "";
  return obj;
}

const ebpf_object_info *ebpf_object_get_info(const ebpf_object *obj) { return obj ? &obj->info : NULL; }

void ebpf_object_close(ebpf_object *obj) {
  if (!obj) return;
  arena_release(&obj->mem);
  free(obj);
}

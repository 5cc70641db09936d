/* "license", "version", and the global-data sections (.data*, .rodata*, .bss*, .kconfig) as the
 * single-entry array maps a loader creates for them. */
#include "elf.h"

#define BPF_MAP_TYPE_ARRAY 2
#define BPF_F_RDONLY_PROG (1u << 7)

int data_read_license_version(ebpf_object *obj) {
  for (uint32_t i = 1; i < obj->info.section_count; i++) {
    const ebpf_section *s = &obj->sections[i];
    ebpf_buf b;
    if (s->kind == EBPF_SEC_LICENSE) {
      if (object_section_buf(obj, i, &b)) return obj->err.status;
      const uint8_t *p;
      buf_span(&b, 0, b.size, &p);
      uint32_t n = 0;
      while (n < b.size && p[n]) n++; /* up to the NUL, or the whole section */
      obj->info.license = (ebpf_str){(const char *)p, n};
    } else if (s->kind == EBPF_SEC_VERSION) {
      if (object_section_buf(obj, i, &b)) return obj->err.status;
      if (b.size != 4 || buf_u32(&b, 0, &obj->info.kern_version))
        return err_set(&obj->err, EBPF_ERR_ELF, "section 'version' (offset %u): size %u, expected 4", s->offset,
                       s->size);
      obj->info.has_kern_version = 1;
    }
  }
  return 0;
}

static uint32_t origin_of(uint32_t kind) {
  return kind == EBPF_SEC_DATA ? EBPF_MAP_DATA : kind == EBPF_SEC_RODATA ? EBPF_MAP_RODATA : EBPF_MAP_BSS;
}

int data_add_global_maps(ebpf_object *obj) {
  for (uint32_t i = 1; i < obj->info.section_count; i++) {
    const ebpf_section *s = &obj->sections[i];
    /* .kconfig comes from BTF (maps_kconfig_struct_ops.c): compilers emit no such ELF section */
    if (s->kind < EBPF_SEC_DATA || s->kind > EBPF_SEC_BSS) continue;
    if (s->size == 0) continue; /* the kernel refuses a zero-sized value; nothing can refer to it */
    ebpf_buf b;
    if (object_section_buf(obj, i, &b)) return obj->err.status;
    ebpf_map *m = object_add_map(obj);
    if (!m) return obj->err.status;
    m->name = s->name;
    m->section = i;
    m->origin = origin_of(s->kind);
    m->type = BPF_MAP_TYPE_ARRAY;
    m->key_size = 4;
    m->value_size = s->size;
    m->max_entries = 1;
    if (s->kind == EBPF_SEC_RODATA) m->flags = BPF_F_RDONLY_PROG;
    m->init_data = b.data; /* NULL for .bss (SHT_NOBITS) */
    m->init_size = b.data ? b.size : 0;
    /* the section symbol, when the compiler emitted one */
    uint32_t first, end;
    elf_section_symbols(obj, i, &first, &end);
    for (uint32_t k = first; k < end; k++) {
      const ebpf_symbol *sym = &obj->symbols[obj->sym_by_addr[k].index];
      if (sym->type == 3 /* STT_SECTION */) {
        m->symbol = sym->index;
        break;
      }
    }
  }
  return 0;
}

/* The object being parsed: shared by the ELF modules (elf.c, programs.c, elf_relocations.c, maps_legacy.c,
 * data.c, object.c) and the BTF module (btf*.c). Not part of the ABI. */
#ifndef EBPF_CORE_OBJECT_H
#define EBPF_CORE_OBJECT_H

#include "ebpf_core.h"
#include "internal.h"

typedef struct {
  uint64_t value;
  uint32_t section;
  uint32_t index;
} sym_key;

struct ebpf_object {
  arena mem;
  ebpf_error err;
  ebpf_buf file;           /* the whole input */
  ebpf_object_info info;   /* what the caller reads; arrays below are published into it */
  ebpf_section *sections;  /* info.section_count entries, index = ELF section index */
  ebpf_symbol *symbols;    /* info.symbol_count entries */
  uint32_t symtab_index;   /* 0 when the object has no .symtab */
  uint32_t strtab_index;   /* the symtab's string table */
  arena_vec programs;      /* ebpf_program */
  arena_vec maps;          /* ebpf_map */
  arena_vec relocs;        /* ebpf_reloc */
  arena_vec diagnostics;   /* ebpf_diagnostic */
  int32_t kconfig_map;     /* the .kconfig map, or -1 */
  void *kconfig_vars;      /* its variables (name, size, align, offset), sorted as laid out */
  uint32_t kconfig_var_count;
  ebpf_kconfig_vars kconfig;  /* the same variables as the ABI lists them */
  arena_vec ksyms;            /* ebpf_ksym: extern kernel symbols (ksyms.c) */
  arena_vec ksym_symbol_vec;  /* uint32_t: the symbol index of each */
  const uint32_t *ksym_symbols;
  ebpf_ksyms ksym_list;       /* ksyms as the ABI lists them */
  uint32_t *rel_first;     /* per section: its raw relocations are relocs[rel_first .. +rel_count) */
  uint32_t *rel_count;
  const ebpf_core_results *core_results; /* of the last ebpf_object_core_relocate that succeeded */
  /* symbols sorted by (section, value) for address -> symbol lookups */
  sym_key *sym_by_addr;
  uint32_t sym_by_addr_count;
};

/* Bytes of section i (NULL data for SHT_NOBITS); -1 with an error set when out of the file. */
int object_section_buf(ebpf_object *obj, uint32_t index, ebpf_buf *out);
/* The section holding a name, or NULL. */
const ebpf_section *object_find_section(const ebpf_object *obj, const char *name);
/* Appends a record; NULL (with EBPF_ERR_NOMEM set) when out of memory. */
ebpf_map *object_add_map(ebpf_object *obj);
ebpf_diagnostic *object_add_diag(ebpf_object *obj, uint32_t kind, uint32_t section, uint32_t offset,
                                 const char *fmt, ...);
/* A NUL-terminated copy of a formatted string in the object's arena. */
ebpf_str object_strf(ebpf_object *obj, const char *fmt, ...);
/* The first map whose definition starts at (section, offset), or -1 (linear: for setup, not per relocation). */
int32_t object_map_at(const ebpf_object *obj, uint32_t section, uint32_t offset);
/* The relocation entries (in file order) of a section: indexes [first, first + count) of obj->relocs. */
void object_section_relocs(const ebpf_object *obj, uint32_t section, uint32_t *first, uint32_t *count);

/* ---- hooks implemented by the BTF module (btf*.c); object.c carries weak stubs ----
 * btf_object_parse: parses .BTF and .BTF.ext when present and sets obj->info.btf; returns
 * an ebpf_status (with err_set on failure).
 * btf_object_maps: decodes the ".maps" section (index sec) into map records via object_add_map
 * (origin EBPF_MAP_BTF); called after btf_object_parse and before the relocations are
 * classified, so maps can be referenced by offset. Inner-map templates are added as extra records
 * with attrs EBPF_MAP_INNER_TEMPLATE and referenced by inner_map. */
int btf_object_parse(ebpf_object *obj);
int btf_object_maps(ebpf_object *obj, uint32_t sec);

#endif

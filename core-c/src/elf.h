#ifndef EBPF_CORE_ELF_H
#define EBPF_CORE_ELF_H
#include "object.h"

/* Header, section table and names; sets obj->sections and the big_endian flag. */
int elf_read_sections(ebpf_object *obj);
/* The symbol table (if any) and its by-address index. */
int elf_read_symbols(ebpf_object *obj);
/* The by-address index range [*first, *end) of the symbols defined in a section. */
void elf_section_symbols(const ebpf_object *obj, uint32_t section, uint32_t *first, uint32_t *end);

/* Steps of ebpf_object_open after the ELF tables, one file each. */
int data_read_license_version(ebpf_object *obj);   /* data.c */
int data_add_global_maps(ebpf_object *obj);        /* data.c */
int data_add_kconfig_map(ebpf_object *obj);        /* maps_kconfig_struct_ops.c: needs BTF */
int data_add_struct_ops_maps(ebpf_object *obj);    /* maps_kconfig_struct_ops.c */
int data_set_datasec_types(ebpf_object *obj);      /* maps_kconfig_struct_ops.c: value_type_id of global data */
int32_t data_kconfig_offset(const ebpf_object *obj, ebpf_str name); /* -1 when not a kconfig variable */
int relocs_read(ebpf_object *obj);                 /* elf_relocations.c: raw entries of every SHT_REL */
int maps_legacy_read(ebpf_object *obj);            /* maps_legacy.c */
int programs_read(ebpf_object *obj);               /* programs.c */
int relocs_classify(ebpf_object *obj);             /* elf_relocations.c: kinds, programs, final order */
/* ksyms.c: the index of the extern kernel symbol `symbol` (called: by a call instruction), added on
 * first sight. */
int ksyms_add(ebpf_object *obj, uint32_t symbol, int called, uint32_t *index);
/* elf_relocations.c: the program of `section` holding byte `offset` (exact_start: starting there), or -1. */
int32_t relocs_find_program(const ebpf_object *obj, uint32_t section, uint32_t offset, int exact_start);
#endif

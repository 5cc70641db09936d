/* Programs: every function symbol of every executable section (several may share a section),
 * or the whole section when it has code but no function symbol. Functions of .text are
 * subprograms. Types come from the section name (secdefs.c). */
#include "elf.h"
#include "secdefs.h"

#define STT_FUNC 2
#define STB_GLOBAL 1

static int add_program(ebpf_object *obj, const ebpf_section *sec, const secdef_match *match, uint32_t base_flags,
                       const ebpf_symbol *sym, uint64_t offset, uint64_t size) {
  if (offset % 8 || size % 8 || offset > sec->size || size > sec->size - offset)
    return err_set(&obj->err, EBPF_ERR_ELF,
                   "program '%.*s' in section '%.*s': offset %llu, size %llu do not fit the section's %u bytes "
                   "of 8-byte instructions",
                   (int)(sym ? sym->name.len : sec->name.len), sym ? sym->name.ptr : sec->name.ptr,
                   (int)sec->name.len, sec->name.ptr, (unsigned long long)offset, (unsigned long long)size,
                   sec->size);
  ebpf_program *p = vec_push(&obj->mem, &obj->programs);
  if (!p) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for programs");
  p->name = sym ? sym->name : sec->name;
  p->section_name = sec->name;
  p->section = sec->index;
  p->symbol = sym ? sym->index : EBPF_NONE;
  p->insn_offset = (uint32_t)offset;
  p->insn_count = (uint32_t)(size / 8);
  p->insns_offset = sec->offset + (uint32_t)offset;
  p->flags = base_flags;
  if (sym && sym->bind == STB_GLOBAL) p->flags |= EBPF_PROG_GLOBAL;
  if (!sym) p->flags |= EBPF_PROG_NO_SYMBOL;
  if (match) {
    p->prog_type = match->prog_type;
    p->expected_attach_type = match->expected_attach_type;
    p->flags |= match->flags;
    p->load_flags = match->load_flags;
    p->sec_def = (ebpf_str){match->def_name, match->def_len};
    if (match->target_off)
      p->attach_target = (ebpf_str){sec->name.ptr + match->target_off, sec->name.len - match->target_off};
  }
  return 0;
}

static int read_section(ebpf_object *obj, const ebpf_section *sec) {
  if (sec->size % 8)
    return err_set(&obj->err, EBPF_ERR_ELF, "section '%.*s': size %u is not a whole number of 8-byte instructions",
                   (int)sec->name.len, sec->name.ptr, sec->size);
  secdef_match match, *m = NULL;
  uint32_t base = 0;
  if (sec->kind == EBPF_SEC_TEXT) {
    base = EBPF_PROG_SUBPROG;
  } else if (secdef_lookup(sec->name.ptr, sec->name.len, &match) == 0) {
    m = &match;
  } else {
    base = EBPF_PROG_UNKNOWN_SEC;
    if (!object_add_diag(obj, EBPF_DIAG_UNKNOWN_SECTION, sec->index, 0,
                         "section '%.*s': unknown program section name; its programs have type 0 (unspecified)",
                         (int)sec->name.len, sec->name.ptr))
      return obj->err.status;
  }

  uint32_t first, end, found = 0;
  elf_section_symbols(obj, sec->index, &first, &end);
  uint64_t last_value = UINT64_MAX;
  for (uint32_t k = first; k < end; k++) {
    const ebpf_symbol *sym = &obj->symbols[obj->sym_by_addr[k].index];
    if (sym->type != STT_FUNC) continue;
    if (sym->value == last_value) continue; /* an alias of the function just added */
    last_value = sym->value;
    uint64_t size = sym->size;
    if (size == 0) { /* no size recorded: up to the next function or the section end */
      size = sec->size > sym->value ? sec->size - sym->value : 0;
      for (uint32_t j = k + 1; j < end; j++) {
        const ebpf_symbol *next = &obj->symbols[obj->sym_by_addr[j].index];
        if (next->type == STT_FUNC && next->value > sym->value) {
          size = next->value - sym->value;
          break;
        }
      }
    }
    if (add_program(obj, sec, m, base, sym, sym->value, size)) return obj->err.status;
    found++;
  }
  if (!found) return add_program(obj, sec, m, base, NULL, 0, sec->size);
  return 0;
}

int programs_read(ebpf_object *obj) {
  for (uint32_t i = 1; i < obj->info.section_count; i++) {
    const ebpf_section *sec = &obj->sections[i];
    if (sec->kind != EBPF_SEC_PROGRAM && sec->kind != EBPF_SEC_TEXT) continue;
    if (sec->size == 0) continue;
    if (read_section(obj, sec)) return obj->err.status;
  }
  return 0;
}

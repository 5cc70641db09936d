/* The extern kernel symbols of an object: undefined symbols its code refers to that are not .kconfig
 * variables. Each is a kfunc (an extern FUNC in BTF, or any symbol called), a typed __ksym variable
 * (an extern VAR of a non-void type: the loader finds a VAR in the kernel's BTF) or an untyped one
 * (void, or no BTF: the loader finds its address in kallsyms), listed once for the loader, which
 * hands their values to ebpf_program_relocate. */
#include <string.h>

#include "btf.h"
#include "elf.h"
#include "object.h"

#define STB_WEAK 2
#define BTF_LINKAGE_EXTERN 2

/* The extern FUNC or VAR named like the symbol in the object's BTF, or NULL (linear: externs are few). */
static const ebpf_btf_type *extern_btf(const btf *b, ebpf_str name, uint32_t *id) {
  for (uint32_t i = 1; b && i < b->info.type_count; i++) {
    const ebpf_btf_type *t = &b->info.types[i];
    if ((t->kind == EBPF_BTF_FUNC || t->kind == EBPF_BTF_VAR) && t->extra == BTF_LINKAGE_EXTERN &&
        t->name.len == name.len && !memcmp(t->name.ptr, name.ptr, name.len)) {
      *id = i;
      return t;
    }
  }
  return NULL;
}

int ksyms_add(ebpf_object *obj, uint32_t symbol, int called, uint32_t *index) {
  for (uint32_t i = 0; i < obj->ksyms.count; i++)
    if (obj->ksym_symbols[i] == symbol) return (int)(*index = i, 0);
  const ebpf_symbol *sym = &obj->symbols[symbol];
  const btf *b = (const btf *)obj->info.btf;
  uint32_t id = 0;
  const ebpf_btf_type *t = extern_btf(b, sym->name, &id);
  ebpf_ksym k = {sym->name, EBPF_KSYM_VAR_UNTYPED, sym->bind == STB_WEAK ? EBPF_KSYM_WEAK : 0, id, EBPF_NONE};
  if (t && t->kind == EBPF_BTF_FUNC) {
    const ebpf_btf_type *proto = btf_type_by_id(b, t->type);
    k.kind = EBPF_KSYM_FUNC;
    if (proto && proto->kind == EBPF_BTF_FUNC_PROTO) k.param_count = proto->vlen;
  } else if (t) {
    k.kind = btf_skip_mods_typedefs(b, t->type) ? EBPF_KSYM_VAR : EBPF_KSYM_VAR_UNTYPED;
  } else if (called) {
    k.kind = EBPF_KSYM_FUNC;
  }
  ebpf_ksym *slot = vec_push(&obj->mem, &obj->ksyms);
  uint32_t *sym_slot = slot ? vec_push(&obj->mem, &obj->ksym_symbol_vec) : NULL;
  if (!sym_slot) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for extern kernel symbols");
  *slot = k;
  *sym_slot = symbol;
  obj->ksym_symbols = (const uint32_t *)obj->ksym_symbol_vec.items;
  obj->ksym_list = (ebpf_ksyms){(const ebpf_ksym *)obj->ksyms.items, obj->ksyms.count};
  *index = obj->ksyms.count - 1;
  return 0;
}

const ebpf_ksyms *ebpf_object_ksyms(const ebpf_object *obj) {
  return obj && !obj->info.status ? &obj->ksym_list : NULL;
}

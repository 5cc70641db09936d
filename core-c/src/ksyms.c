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

/* libbpf's bpf_core_types_are_compat: equal kinds once modifiers and typedefs are skipped (enum and
 * enum64 alike); structs, unions, enums, forward declarations and floats by kind alone, ints without
 * a bit offset; pointers and arrays by what they hold; prototypes by parameter count, then the
 * return and every parameter type. */
static int is_enum(uint32_t kind) { return kind == EBPF_BTF_ENUM || kind == EBPF_BTF_ENUM64; }

static int types_compatible(const btf *local, uint32_t local_id, const btf *kernel, uint32_t kernel_id, int depth) {
  if (depth > BTF_MAX_CHAIN) return 0;
  const ebpf_btf_type *l = btf_type_by_id(local, btf_skip_mods_typedefs(local, local_id));
  const ebpf_btf_type *k = btf_type_by_id(kernel, btf_skip_mods_typedefs(kernel, kernel_id));
  if (!l || !k) return 0;
  if (l->kind != k->kind && !(is_enum(l->kind) && is_enum(k->kind))) return 0;
  switch (l->kind) {
    case EBPF_BTF_VOID: case EBPF_BTF_STRUCT: case EBPF_BTF_UNION: case EBPF_BTF_ENUM: case EBPF_BTF_ENUM64:
    case EBPF_BTF_FWD: case EBPF_BTF_FLOAT:
      return 1;
    case EBPF_BTF_INT:
      return !(l->extra & 0xff0000) && !(k->extra & 0xff0000);
    case EBPF_BTF_PTR: case EBPF_BTF_ARRAY:
      return types_compatible(local, l->type, kernel, k->type, depth + 1);
    case EBPF_BTF_FUNC_PROTO: {
      if (l->vlen != k->vlen || !types_compatible(local, l->type, kernel, k->type, depth + 1)) return 0;
      const ebpf_btf_member *lp = btf_members(local, l), *kp = btf_members(kernel, k);
      for (uint32_t i = 0; i < l->vlen; i++)
        if (!types_compatible(local, lp[i].type, kernel, kp[i].type, depth + 1)) return 0;
      return 1;
    }
    default:
      return 0;
  }
}

uint32_t ebpf_ksym_compatible(const ebpf_object *obj, uint32_t ksym, const struct ebpf_btf_info *kernel, uint32_t kernel_id) {
  if (!obj || obj->info.status || ksym >= obj->ksym_list.count || !kernel) return 0;
  const ebpf_ksym *ks = &obj->ksym_list.ksyms[ksym];
  const btf *local = (const btf *)obj->info.btf, *kern = (const btf *)kernel; /* info is the first member */
  if (!ks->btf_id || !local) return 1; /* nothing declared to compare */
  const ebpf_btf_type *l = btf_type_by_id(local, ks->btf_id), *k = btf_type_by_id(kern, kernel_id);
  uint32_t want = ks->kind == EBPF_KSYM_FUNC ? EBPF_BTF_FUNC : EBPF_BTF_VAR;
  if (!l || !k || k->kind != want) return 0;
  return (uint32_t)types_compatible(local, l->type, kern, k->type, 0); /* FUNC: the prototypes; VAR: the types */
}

/* ebpf_core_relo.h — the CO-RE part of the core's ABI (included by ebpf_core.h).
 * Same conventions: wasm32 layouts pinned by EBPF_WASM_LAYOUT, strings are ebpf_str. */
#ifndef EBPF_CORE_RELO_H
#define EBPF_CORE_RELO_H

#include <stdint.h>

/* What became of one .BTF.ext core_relo record. */
enum ebpf_core_status {
  EBPF_CORE_RELOCATED = 0, /* patched with new_val (and new_sz for loads/stores) */
  EBPF_CORE_POISONED = 1,  /* cannot be satisfied: the instruction becomes call 0xbad2310 (libbpf's poison) */
  EBPF_CORE_FAILED = 2,    /* an error (ambiguous candidates, malformed record, unexpected instruction):
                            * the program holding it does not relocate; message says why */
  EBPF_CORE_SKIPPED = 3,   /* the instruction belongs to no function (a weak subprogram eliminated) */
};

enum ebpf_core_flag {
  EBPF_CORE_VALIDATE = 1u << 0,     /* the instruction must hold orig_val before patching */
  EBPF_CORE_MEMSZ_FAILS = 1u << 1,  /* a load/store would need a size change libbpf refuses (poisoned) */
  EBPF_CORE_NO_KERNEL_CANDIDATE = 1u << 2, /* the kernel's BTF has no type of the local type's name and
                                            * kind: a loader may look in the modules' BTFs */
};

/* The result of one record, in .BTF.ext order. wasm32 layout:
 *  0 status  4 kind (ebpf_core_relo_kind)  8 section (ELF index)  12 insn_off (bytes, in section)
 * 16 program (index of the function holding it, EBPF_NONE)  20 insn (instruction index in it)
 * 24 local_type_id  28 target_type_id (the matched candidate; 0 when none)  32 access ("0:1:2")
 * 40 local_spec  48 target_spec (libbpf's format: "<byte_off> [7] struct s.a[2] (0:1:2 @ offset 12)";
 *  len 0 when none)  56 message (why poisoned or failed, naming program, instruction, access string and
 *  type; len 0 otherwise)  64 orig_val (u64: what the compiler wrote)  72 new_val (u64)
 * 80 orig_sz  84 new_sz (load/store sizes in bytes, 0 when not a field offset)  88 candidates (target
 *  types that matched)  92 flags (ebpf_core_flag)  96 target_btf (where target_type_id is: 0 the
 *  kernel's BTF, 1 + i the module BTF modules[i])  100 reserved */
typedef struct {
  uint32_t status;
  uint32_t kind;
  uint32_t section;
  uint32_t insn_off;
  uint32_t program;
  uint32_t insn;
  uint32_t local_type_id;
  uint32_t target_type_id;
  ebpf_str access;
  ebpf_str local_spec;
  ebpf_str target_spec;
  ebpf_str message;
  uint64_t orig_val;
  uint64_t new_val;
  uint32_t orig_sz;
  uint32_t new_sz;
  uint32_t candidates;
  uint32_t flags;
  uint32_t target_btf;
  uint32_t reserved;
} ebpf_core_result;
EBPF_WASM_LAYOUT(ebpf_core_result, 104);

/* wasm32 layout: 0 status  4 message  12 results  16 count */
typedef struct {
  uint32_t status;
  ebpf_str message;
  const ebpf_core_result *results;
  uint32_t count;
} ebpf_core_results;
EBPF_WASM_LAYOUT(ebpf_core_results, 20);

/* Resolves every CO-RE relocation of the object against the target BTF `target` (ebpf_btf_open's:
 * the kernel's vmlinux BTF or a BTF the user gives) as libbpf's bpf_object__relocate_core does:
 * candidates by essential name (no ___flavor) and compatible kind, kept per local type and narrowed
 * to those that matched, in record order; several candidates must agree. The results stay with the
 * object (a later call replaces them) and ebpf_program_relocate patches the instructions with them;
 * without a call, an object with CO-RE relocations does not relocate. NULL for a NULL object or out
 * of memory; status EBPF_ERR_ARG for a failed object or NULL target. The target must stay open while
 * the object relocates programs. */
EBPF_EXPORT(ebpf_object_core_relocate)
const ebpf_core_results *ebpf_object_core_relocate(ebpf_object *obj, const struct ebpf_btf_info *target);

/* The same, with the split BTFs of kernel modules (ebpf_btf_open_split on the kernel's) searched for a
 * local type the kernel's BTF has no candidate for, as libbpf does. */
EBPF_EXPORT(ebpf_object_core_relocate_modules)
const ebpf_core_results *ebpf_object_core_relocate_modules(ebpf_object *obj, const struct ebpf_btf_info *target,
                                                           const struct ebpf_btf_info *const *modules, uint32_t module_count);

#endif

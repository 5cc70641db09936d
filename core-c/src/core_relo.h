/* CO-RE internals shared by core_match.c (names, candidates, type comparisons, access specs) and
 * core_relo.c (values, instruction patching, the per-object driver). Not part of the ABI. */
#ifndef EBPF_CORE_RELO_INTERNAL_H
#define EBPF_CORE_RELO_INTERNAL_H

#include "btf.h"

#define CORE_SPEC_MAX 64 /* libbpf's BPF_CORE_SPEC_MAX_LEN */
#define CORE_DEPTH 32    /* libbpf's recursion bound for type comparisons */
#define CORE_ERR (-1)    /* a malformed spec or type: the relocation fails (libbpf: -EINVAL) */
#define CORE_POISON (-2) /* the relocation cannot be satisfied: poison the instruction (-EUCLEAN) */

/* One high-level step of an access: a named member (name.len > 0) or an array index. */
typedef struct {
  uint32_t type_id; /* the struct/union holding the member, or the array's element type */
  uint32_t idx;     /* member index, or array index */
  ebpf_str name;    /* the member's name; len 0 for an array index */
} core_accessor;

/* A parsed access string against one BTF (libbpf's bpf_core_spec). */
typedef struct {
  const btf *b;
  uint32_t root_type_id;
  uint32_t kind;
  core_accessor acc[CORE_SPEC_MAX];
  uint32_t len;
  uint32_t raw[CORE_SPEC_MAX];
  uint32_t raw_len;
  uint32_t bit_offset;
} core_spec;

int core_is_field_kind(uint32_t kind);
int core_is_type_kind(uint32_t kind);
int core_is_enumval_kind(uint32_t kind);

/* Length of name without its ___flavor suffix (the last "X___Y", X and Y not '_'). */
uint32_t core_essential_len(ebpf_str name);
/* Size in bytes without touching the BTF's error slot: -1 when the type has none. */
int core_type_size(const btf *b, uint32_t id, uint64_t *size);
/* The id past typedefs and modifiers and its record (NULL on a bad id). */
const ebpf_btf_type *core_skip(const btf *b, uint32_t id, uint32_t *out);

/* Calls fn(ctx, id) for each target type whose essential name equals `local`'s and whose kind is
 * CO-RE compatible with local_kind, in id order; -1 when out of memory. */
int core_find_candidates(btf *target, ebpf_str local, uint32_t local_kind, void (*fn)(void *, uint32_t), void *ctx);

/* Parses the access string of a relocation on local type `type_id` (libbpf's bpf_core_parse_spec). */
int core_parse_spec(const btf *b, uint32_t type_id, uint32_t kind, ebpf_str access, core_spec *spec);
/* Matches a local spec against candidate targ_id: 1 match, 0 no match, CORE_ERR. */
int core_spec_match(const core_spec *local, const btf *targ, uint32_t targ_id, core_spec *out);

/* Patches the instruction(s) at insn (avail instructions to the end of the function, object byte
 * order be) with result r as libbpf's bpf_core_patch_insn: 0 patched, 1 poisoned for a load/store
 * size change libbpf refuses (msg says why), CORE_ERR when the instruction is not what the record
 * expects (msg says why; msg has EBPF_ERROR_MAX bytes). A POISONED result poisons. */
int core_apply(const ebpf_core_result *r, uint8_t *insn, uint32_t avail, int be, char *msg);

#endif

#ifndef EBPF_CORE_SECDEFS_H
#define EBPF_CORE_SECDEFS_H
#include "ebpf_core.h"

typedef struct {
  uint32_t prog_type;
  uint32_t expected_attach_type;
  const char *def_name; /* static storage: the matched pattern */
  uint32_t def_len;
  uint32_t target_off;  /* offset of the attach target in the section name; 0 when none */
  uint32_t flags;       /* ebpf_program_flag bits */
  uint32_t load_flags;  /* BPF_F_* for BPF_PROG_LOAD */
} secdef_match;

/* 0 and *out filled when the section name (not NUL-terminated) is a known program section. */
int secdef_lookup(const char *name, uint32_t len, secdef_match *out);
#endif

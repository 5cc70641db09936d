/* libFuzzer harness for the C core (`make fuzz`): opens arbitrary bytes as an eBPF object, then
 * reads every string and record the object info points at, so AddressSanitizer sees any pointer
 * or length that escapes the input or the core's own allocations. Built natively with
 * -fsanitize=fuzzer,address,undefined; any report or abort fails the run. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebpf_core.h"

static volatile uint8_t sink;

static void touch(const void *ptr, size_t len) {
  const uint8_t *bytes = ptr;
  uint8_t acc = 0;
  for (size_t i = 0; i < len; i++) acc ^= bytes[i];
  sink = acc;
}

static void touch_str(ebpf_str s) {
  if (s.len) touch(s.ptr, s.len);
}

static void walk(const ebpf_object_info *info, const uint8_t *data, size_t size) {
  touch_str(info->message);
  if (info->status != EBPF_OK) return;
  touch_str(info->license);
  for (uint32_t i = 0; i < info->section_count; i++) {
    const ebpf_section *s = &info->sections[i];
    touch_str(s->name);
    if (s->type != 8 /* SHT_NOBITS */ && (uint64_t)s->offset + s->size <= size) touch(data + s->offset, s->size);
    else if (s->type != 8 && s->size) abort(); /* a section reported with contents outside the input */
  }
  for (uint32_t i = 0; i < info->symbol_count; i++) touch_str(info->symbols[i].name);
  for (uint32_t i = 0; i < info->program_count; i++) {
    const ebpf_program *p = &info->programs[i];
    touch_str(p->name);
    touch_str(p->section_name);
    touch_str(p->attach_target);
    touch_str(p->sec_def);
    if ((uint64_t)p->insns_offset + (uint64_t)p->insn_count * 8 > size) abort();
    touch(data + p->insns_offset, (size_t)p->insn_count * 8);
    if ((uint64_t)p->reloc_first + p->reloc_count > info->reloc_count) abort();
  }
  for (uint32_t i = 0; i < info->map_count; i++) {
    const ebpf_map *m = &info->maps[i];
    touch_str(m->name);
    touch_str(m->persistent_path);
    if (m->init_data) touch(m->init_data, m->init_size);
    if (m->inner_map != -1 && (m->inner_map < 0 || (uint32_t)m->inner_map >= info->map_count)) abort();
  }
  for (uint32_t i = 0; i < info->reloc_count; i++) {
    const ebpf_reloc *r = &info->relocs[i];
    touch_str(r->symbol_name);
    if (r->map != -1 && (r->map < 0 || (uint32_t)r->map >= info->map_count)) abort();
    if (r->target_program != -1 && (r->target_program < 0 || (uint32_t)r->target_program >= info->program_count)) abort();
  }
  for (uint32_t i = 0; i < info->diagnostic_count; i++) touch_str(info->diagnostics[i].message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > UINT32_MAX) return 0;
  /* A private copy sized exactly, so a read one byte past the input is caught. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  ebpf_object *obj = ebpf_object_open(copy, (uint32_t)size);
  if (obj) {
    const ebpf_object_info *info = ebpf_object_get_info(obj);
    if (info) walk(info, copy, size);
    ebpf_object_close(obj);
  }
  free(copy);
  return 0;
}

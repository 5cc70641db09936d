/* Shared by the fuzz targets: read every string and record an object/BTF info points at, so
 * AddressSanitizer sees any pointer or length escaping the input or the core's allocations, and
 * abort() on indices that point outside their arrays (a consumer would trust them). */
#ifndef FUZZ_WALK_H
#define FUZZ_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ebpf_core.h"

static volatile uint8_t fuzz_sink;

static void touch(const void *ptr, size_t len) {
  const uint8_t *bytes = ptr;
  uint8_t acc = 0;
  for (size_t i = 0; i < len; i++) acc ^= bytes[i];
  fuzz_sink = acc;
}

static void touch_str(ebpf_str s) {
  if (s.len) touch(s.ptr, s.len);
}

static void check(int ok) {
  if (!ok) abort();
}

static int range_ok(uint64_t first, uint64_t count, uint64_t total) { return first + count <= total; }

static int has_members(uint32_t kind) {
  return kind == EBPF_BTF_STRUCT || kind == EBPF_BTF_UNION || kind == EBPF_BTF_ENUM || kind == EBPF_BTF_ENUM64
         || kind == EBPF_BTF_FUNC_PROTO || kind == EBPF_BTF_DATASEC;
}

/* The render limits of core-c/src/btf_render.c: per type, and for all of one BTF's types. */
#define FUZZ_MAX_TYPE_BYTES (1u << 20)
#define FUZZ_MAX_BTF_BYTES (64u << 20)

/* Renders type id as C: the text stays within the per-type limit, and a failure says why. */
static uint64_t render_checked(const struct ebpf_btf_info *btf, uint32_t id) {
  const ebpf_str *text = ebpf_btf_render(btf, id);
  if (!text) {
    const char *message = ebpf_btf_error_message(btf);
    check(ebpf_btf_error_status(btf) != EBPF_OK && message[0] != 0);
    return 0;
  }
  check(text->len <= FUZZ_MAX_TYPE_BYTES);
  touch_str(*text);
  return text->len;
}

/* Walks the decoded BTF and renders every type as C (bounded in bytes: per type and in total). */
static void walk_btf(const struct ebpf_btf_info *btf) {
  uint64_t rendered = 0;
  for (uint32_t id = 0; id < btf->type_count; id++) {
    const ebpf_btf_type *t = &btf->types[id];
    touch_str(t->name);
    if (has_members(t->kind)) check(range_ok(t->first_member, t->vlen, btf->member_count));
    rendered += render_checked(btf, id);
    check(rendered <= FUZZ_MAX_BTF_BYTES);
  }
  for (uint32_t i = 0; i < btf->member_count; i++) touch_str(btf->members[i].name);
  for (uint32_t i = 0; i < btf->ext_section_count; i++) {
    const ebpf_btf_ext_section *s = &btf->ext_sections[i];
    touch_str(s->name);
    check(range_ok(s->func_first, s->func_count, btf->func_info_count));
    check(range_ok(s->line_first, s->line_count, btf->line_info_count));
    check(range_ok(s->core_first, s->core_count, btf->core_relo_count));
  }
  for (uint32_t i = 0; i < btf->func_info_count; i++) check(btf->func_infos[i].type_id < btf->type_count);
  for (uint32_t i = 0; i < btf->line_info_count; i++) {
    touch_str(btf->line_infos[i].file);
    touch_str(btf->line_infos[i].line);
  }
  for (uint32_t i = 0; i < btf->core_relo_count; i++) touch_str(btf->core_relos[i].access);
}

static void walk_object(const ebpf_object_info *info, const uint8_t *data, size_t size) {
  touch_str(info->message);
  if (info->status != EBPF_OK) return;
  touch_str(info->license);
  for (uint32_t i = 0; i < info->section_count; i++) {
    const ebpf_section *s = &info->sections[i];
    touch_str(s->name);
    if (s->type == 8 /* SHT_NOBITS */) continue;
    check(range_ok(s->offset, s->size, size)); /* contents reported outside the input */
    touch(data + s->offset, s->size);
  }
  for (uint32_t i = 0; i < info->symbol_count; i++) touch_str(info->symbols[i].name);
  for (uint32_t i = 0; i < info->program_count; i++) {
    const ebpf_program *p = &info->programs[i];
    touch_str(p->name);
    touch_str(p->section_name);
    touch_str(p->attach_target);
    touch_str(p->sec_def);
    check(range_ok(p->insns_offset, (uint64_t)p->insn_count * 8, size));
    touch(data + p->insns_offset, (size_t)p->insn_count * 8);
    check(range_ok(p->reloc_first, p->reloc_count, info->reloc_count));
  }
  for (uint32_t i = 0; i < info->map_count; i++) {
    const ebpf_map *m = &info->maps[i];
    touch_str(m->name);
    touch_str(m->persistent_path);
    if (m->init_data) touch(m->init_data, m->init_size);
    check(m->inner_map == -1 || (m->inner_map >= 0 && (uint32_t)m->inner_map < info->map_count));
  }
  for (uint32_t i = 0; i < info->reloc_count; i++) {
    const ebpf_reloc *r = &info->relocs[i];
    touch_str(r->symbol_name);
    check(r->map == -1 || (r->map >= 0 && (uint32_t)r->map < info->map_count));
    check(r->target_program == -1 || (r->target_program >= 0 && (uint32_t)r->target_program < info->program_count));
  }
  for (uint32_t i = 0; i < info->diagnostic_count; i++) touch_str(info->diagnostics[i].message);
  if (info->btf) walk_btf(info->btf);
}

/* A private copy sized exactly, so a read one byte past the input is caught. */
static uint8_t *exact_copy(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (copy) for (size_t i = 0; i < size; i++) copy[i] = data[i];
  return copy;
}

#endif

/* libFuzzer target (`make fuzz`): CO-RE relocation with a random local object and target BTF. Input:
 * a little-endian u32 N (bit 31 set: the target is opened eagerly with ebpf_btf_open, else lazily
 * with ebpf_btf_open_lazy, as the kernel's BTF is), N bytes of an eBPF ELF object, then the target's
 * raw .BTF. ebpf_object_core_relocate resolves every record, each result is read whole, then every
 * program is relocated with the results; then again with the target's second half opened as a
 * module's split BTF on top of it; fuzz/core_seeds.mjs pairs the fixtures with BTFs. */
#include "fuzz_walk.h"

static void read_results(const ebpf_object_info *info, const ebpf_core_results *res) {
  touch_str(res->message);
  if (res->status != EBPF_OK) return;
  for (uint32_t i = 0; i < res->count; i++) {
    const ebpf_core_result *r = &res->results[i];
    check(r->status <= EBPF_CORE_SKIPPED && r->kind <= EBPF_CORE_TYPE_MATCHES);
    check(r->program == EBPF_NONE || r->program < info->program_count);
    check(r->program == EBPF_NONE || r->insn < info->programs[r->program].insn_count);
    touch_str(r->access);
    touch_str(r->local_spec);
    touch_str(r->target_spec);
    touch_str(r->message);
  }
}

static void relocate_programs(ebpf_object *obj, const ebpf_object_info *info) {
  int32_t *fds = calloc((size_t)info->map_count + 1, sizeof *fds);
  const ebpf_ksyms *ksyms = ebpf_object_ksyms(obj);
  uint32_t nksym = ksyms ? ksyms->count : 0;
  uint64_t *values = calloc((size_t)nksym + 1, sizeof *values);
  for (uint32_t p = 0; fds && values && p < info->program_count; p++) {
    ebpf_program_image *image = ebpf_program_relocate(obj, p, fds, info->map_count, values, nksym);
    if (!image) continue;
    touch_str(image->message);
    if (image->status == EBPF_OK) touch(image->insns, (size_t)image->insn_count * 8);
    ebpf_program_image_free(image);
  }
  free(fds);
  free(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4 || size > UINT32_MAX) return 0;
  uint32_t head = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
  uint32_t obj_size = head & 0x7fffffffu;
  if (obj_size > size - 4) obj_size = (uint32_t)(size - 4);
  uint32_t btf_size = (uint32_t)(size - 4 - obj_size);
  uint8_t *object = exact_copy(data + 4, obj_size), *target = exact_copy(data + 4 + obj_size, btf_size);
  ebpf_object *obj = object && target ? ebpf_object_open(object, obj_size) : NULL;
  ebpf_btf_open_result *t = NULL;
  if (obj) t = head >> 31 ? ebpf_btf_open(target, btf_size, NULL, 0) : ebpf_btf_open_lazy(target, btf_size);
  if (obj && t) {
    const ebpf_object_info *info = ebpf_object_get_info(obj);
    touch_str(t->message);
    if (info && info->status == EBPF_OK && t->status == EBPF_OK) {
      const ebpf_core_results *res = ebpf_object_core_relocate(obj, t->btf);
      if (res) read_results(info, res);
      relocate_programs(obj, info);
      /* the target's second half as a kernel module's split BTF on top of it */
      ebpf_btf_open_result *m = ebpf_btf_open_split(t->btf, target + btf_size / 2, btf_size - btf_size / 2);
      if (m && m->status == EBPF_OK) {
        const struct ebpf_btf_info *mods[1] = {m->btf};
        res = ebpf_object_core_relocate_modules(obj, t->btf, mods, 1);
        if (res) read_results(info, res);
        relocate_programs(obj, info);
        for (uint32_t id = 0; id < m->btf->type_count; id += 1 + id / 8) ebpf_btf_type_at(m->btf, id);
      }
      if (m) ebpf_btf_close(m);
      for (uint32_t id = 0; id < t->btf->type_count; id += 1 + id / 8) ebpf_btf_type_at(t->btf, id);
    }
  }
  if (t) ebpf_btf_close(t);
  ebpf_object_close(obj);
  free(object);
  free(target);
  return 0;
}

/* libFuzzer target (`make fuzz`): arbitrary bytes opened as an eBPF ELF object with
 * ebpf_object_open, every record walked, every BTF type rendered and every program relocated with
 * made-up map fds and kernel symbol values (the image, func_info and line_info read whole), the BTF prepared for the kernel,
 * then closed. */
#include "fuzz_walk.h"

static void relocate_all(ebpf_object *obj, const ebpf_object_info *info) {
  if (info->status != EBPF_OK) return;
  const ebpf_ksyms *ksyms = ebpf_object_ksyms(obj);
  uint32_t ksym_count = ksyms ? ksyms->count : 0;
  int32_t *fds = malloc(((size_t)info->map_count + 1) * sizeof *fds);
  uint64_t *values = malloc(((size_t)ksym_count + 1) * sizeof *values);
  if (!fds || !values) {
    free(fds);
    free(values);
    return;
  }
  for (uint32_t i = 0; i < info->map_count; i++) fds[i] = (int32_t)(100 + i);
  for (uint32_t i = 0; i < ksym_count; i++) { /* every kind of value: unresolved, weak-absent, found */
    touch_str(ksyms->ksyms[i].name);
    values[i] = i % 3 == 0 ? EBPF_KSYM_UNRESOLVED : i % 3 == 1 ? 0 : 1000 + i;
    /* the object's own BTF standing in for the kernel's: its declaration, then any type */
    if (info->btf) {
      check(ebpf_ksym_compatible(obj, i, info->btf, ksyms->ksyms[i].btf_id) <= 1);
      check(ebpf_ksym_compatible(obj, i, info->btf, i % info->btf->type_count) <= 1);
    }
  }
  for (uint32_t p = 0; p < info->program_count; p++) {
    ebpf_program_image *image = ebpf_program_relocate(obj, p, fds, info->map_count, values, ksym_count);
    if (!image) continue;
    touch_str(image->message);
    if (image->status == EBPF_OK) {
      check(image->insn_count >= info->programs[p].insn_count && image->function_count >= 1);
      touch(image->insns, (size_t)image->insn_count * 8);
      touch(image->func_info, (size_t)image->func_info_count * image->func_info_rec_size);
      touch(image->line_info, (size_t)image->line_info_count * image->line_info_rec_size);
    }
    ebpf_program_image_free(image);
  }
  free(fds);
  free(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > UINT32_MAX) return 0;
  uint8_t *copy = exact_copy(data, size);
  if (!copy) return 0;
  ebpf_object *obj = ebpf_object_open(copy, (uint32_t)size);
  if (obj) {
    const ebpf_object_info *info = ebpf_object_get_info(obj);
    if (info) {
      walk_object(info, copy, size);
      relocate_all(obj, info);
      const ebpf_kconfig_vars *kconfig = ebpf_object_kconfig(obj);
      for (uint32_t i = 0; kconfig && i < kconfig->count; i++) touch_str(kconfig->vars[i].name);
      const ebpf_str *blob = ebpf_btf_kernel_blob(obj);
      if (blob) touch_str(*blob);
    }
    ebpf_object_close(obj);
  }
  free(copy);
  return 0;
}

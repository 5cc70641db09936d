/* libFuzzer target (`make fuzz`): a raw .BTF and .BTF.ext pair opened with ebpf_btf_open, walked,
 * rendered and searched by name. Input: a little-endian u32 N, then N bytes of .BTF, then the .BTF.ext (possibly
 * empty); fuzz/btf_seeds.mjs cuts such seeds out of the fixtures. */
#include "fuzz_walk.h"

/* Every named type is found again by name and kind through the name index (the lowest id of the
 * pair, so never a later one). */
static void find_each_name(const struct ebpf_btf_info *info) {
  for (uint32_t id = 1; id < info->type_count; id++) {
    const ebpf_btf_type *t = &info->types[id];
    if (!t->name.len) continue;
    uint32_t found = ebpf_btf_find(info, t->name.ptr, t->name.len, t->kind);
    check(found == EBPF_NONE || (found && found <= id && info->types[found].kind == t->kind));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4 || size > UINT32_MAX) return 0;
  uint32_t btf_size = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
  if (btf_size > size - 4) btf_size = (uint32_t)(size - 4);
  uint32_t ext_size = (uint32_t)(size - 4 - btf_size);
  uint8_t *btf = exact_copy(data + 4, btf_size);
  uint8_t *ext = exact_copy(data + 4 + btf_size, ext_size);
  if (btf && ext) {
    ebpf_btf_open_result *result = ebpf_btf_open(btf, btf_size, ext_size ? ext : NULL, ext_size);
    if (result) {
      touch_str(result->message);
      if (result->status == EBPF_OK && result->btf) {
        walk_btf(result->btf);
        find_each_name(result->btf);
      }
      ebpf_btf_close(result);
    }
  }
  free(btf);
  free(ext);
  return 0;
}

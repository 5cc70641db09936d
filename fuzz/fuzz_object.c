/* libFuzzer target (`make fuzz`): arbitrary bytes opened as an eBPF ELF object with
 * ebpf_object_open, every record walked and every BTF type rendered, then closed. */
#include "fuzz_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > UINT32_MAX) return 0;
  uint8_t *copy = exact_copy(data, size);
  if (!copy) return 0;
  ebpf_object *obj = ebpf_object_open(copy, (uint32_t)size);
  if (obj) {
    const ebpf_object_info *info = ebpf_object_get_info(obj);
    if (info) walk_object(info, copy, size);
    ebpf_object_close(obj);
  }
  free(copy);
  return 0;
}

/* The BTF module's entry points: the object hooks (object.h), rendering, and a standalone
 * .BTF/.BTF.ext reader for tests and the fuzzer. */
#include <stdlib.h>
#include <string.h>

#include "btf.h"
#include "object.h"

static uint32_t section_by_name(void *ctx, const char *name, uint32_t len) {
  const ebpf_object *obj = ctx;
  for (uint32_t i = 1; i < obj->info.section_count; i++) {
    const ebpf_section *s = &obj->sections[i];
    if (s->name.len == len && memcmp(s->name.ptr, name, len) == 0) return i;
  }
  return EBPF_NONE;
}

int btf_object_parse(ebpf_object *obj) {
  const ebpf_section *sec = object_find_section(obj, ".BTF");
  if (!sec) return EBPF_OK;
  ebpf_buf buf;
  btf *b;
  if (object_section_buf(obj, sec->index, &buf) || btf_parse(&obj->mem, &buf, &obj->err, &b)) return obj->err.status;
  const ebpf_section *ext = object_find_section(obj, ".BTF.ext");
  if (ext && (object_section_buf(obj, ext->index, &buf) || btf_ext_parse(b, &buf, section_by_name, obj)))
    return obj->err.status;
  obj->info.btf = &b->info;
  return EBPF_OK;
}

int btf_object_maps(ebpf_object *obj, uint32_t sec) {
  if (!obj->info.btf)
    return err_set(&obj->err, EBPF_ERR_MAP, "'.maps' (section %u) needs BTF, but the object has no .BTF section", sec);
  return btf_decode_maps((btf *)obj->info.btf, obj, sec);
}

const ebpf_str *ebpf_btf_render(const struct ebpf_btf_info *info, uint32_t type_id) {
  if (!info) return NULL;
  btf *b = (btf *)info; /* info is the first member of struct btf */
  ebpf_str *out = arena_alloc(b->mem, sizeof *out);
  if (!out || btf_render(b, type_id, out)) return NULL;
  return out;
}

typedef struct {
  ebpf_btf_open_result result; /* first: the pointer handed out */
  arena mem;
  ebpf_error err;
} standalone;

ebpf_btf_open_result *ebpf_btf_open(const uint8_t *data, uint32_t size, const uint8_t *ext, uint32_t ext_size) {
  standalone *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  ebpf_buf buf = {data, data ? size : 0, 0};
  btf *b;
  if (!btf_parse(&s->mem, &buf, &s->err, &b)) {
    ebpf_buf ext_buf = {ext, ext ? ext_size : 0, 0};
    if (!ext_size || !btf_ext_parse(b, &ext_buf, NULL, NULL)) s->result.btf = &b->info;
  }
  s->result.status = (uint32_t)s->err.status;
  s->result.message.ptr = s->err.message;
  s->result.message.len = (uint32_t)strlen(s->err.message);
  return &s->result;
}

void ebpf_btf_close(ebpf_btf_open_result *result) {
  if (!result) return;
  standalone *s = (standalone *)result;
  arena_release(&s->mem);
  free(s);
}

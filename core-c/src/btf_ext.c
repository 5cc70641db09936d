/* .BTF.ext: func_info, line_info and CO-RE relocation records, grouped by the ELF section whose
 * instructions they describe. Strings and type ids refer to .BTF. */
#include <string.h>

#include "btf.h"

typedef struct {
  btf *b;
  btf_section_lookup lookup;
  void *ctx;
  arena_vec sections; /* ebpf_btf_ext_section */
  arena_vec recs[3];  /* func_info, line_info, core_relo */
  /* the last string looked up per field: consecutive line records repeat file and line */
  uint32_t memo_off[2];
  ebpf_str memo[2];
  name_table by_name; /* sections by name */
} ext_parser;

static ebpf_str section_key(const void *ctx, uint32_t index) {
  const ext_parser *p = ctx;
  return ((const ebpf_btf_ext_section *)p->sections.items)[index].name;
}

enum { EXT_FUNC, EXT_LINE, EXT_CORE };
static const char *const block_names[] = {"func_info", "line_info", "core_relo"};
static const uint32_t min_rec_sizes[] = {8, 16, 16};
static const uint32_t out_sizes[] = {sizeof(ebpf_btf_func_info), sizeof(ebpf_btf_line_info), sizeof(ebpf_btf_core_relo)};

static int ext_string(ext_parser *p, uint32_t off, ebpf_str *out, const char *what, uint32_t block, uint32_t rec_off) {
  const char *s;
  uint32_t len;
  if (buf_cstr(&p->b->strings, off, &s, &len))
    return err_set(p->b->err, EBPF_ERR_BTF, "BTF.ext: %s record at offset %u: %s offset %u is outside the BTF strings (%u bytes)",
                   block_names[block], rec_off, what, off, p->b->strings.size);
  out->ptr = s;
  out->len = len;
  return 0;
}

/* ext_string through a one-entry memo per field (slot). */
static int ext_string_memo(ext_parser *p, uint32_t slot, uint32_t off, ebpf_str *out, const char *what, uint32_t rec_off) {
  if (p->memo[slot].ptr && p->memo_off[slot] == off) {
    *out = p->memo[slot];
    return 0;
  }
  if (ext_string(p, off, out, what, EXT_LINE, rec_off)) return -1;
  p->memo_off[slot] = off;
  p->memo[slot] = *out;
  return 0;
}

static ebpf_btf_ext_section *section_named(ext_parser *p, ebpf_str name) {
  uint32_t i = name_table_find(&p->by_name, name.ptr, name.len);
  if (i != EBPF_NONE) return &((ebpf_btf_ext_section *)p->sections.items)[i];
  ebpf_btf_ext_section *s = vec_push(p->b->mem, &p->sections);
  if (!s) {
    err_set(p->b->err, EBPF_ERR_NOMEM, "BTF.ext: out of memory");
    return NULL;
  }
  s->name = name;
  s->section = p->lookup ? p->lookup(p->ctx, name.ptr, name.len) : EBPF_NONE;
  name_table_add(&p->by_name, p->sections.count - 1);
  return s;
}

static int bad_type(ext_parser *p, uint32_t block, ebpf_str sec, uint32_t rec_off, uint32_t id, const char *want) {
  const ebpf_btf_type *t = btf_type_by_id(p->b, id);
  return err_set(p->b->err, EBPF_ERR_BTF, "BTF.ext: %s of section '%.*s' at offset %u: type [%u] is %s, expected %s",
                 block_names[block], (int)sec.len, sec.ptr, rec_off, id, t ? btf_kind_name(t->kind) : "missing", want);
}

static int read_record(ext_parser *p, uint32_t block, const ebpf_buf *buf, uint32_t at, ebpf_str sec, void *out) {
  uint32_t w[4] = {0}; /* in bounds: the caller checked the whole block of records */
  for (uint32_t i = 0; i < min_rec_sizes[block] / 4; i++) buf_u32(buf, at + 4 * i, &w[i]);
  switch (block) {
    case EXT_FUNC: {
      ebpf_btf_func_info *f = out;
      const ebpf_btf_type *t = btf_type_by_id(p->b, w[1]);
      if (!t || t->kind != EBPF_BTF_FUNC) return bad_type(p, block, sec, at, w[1], "a func");
      f->insn_off = w[0];
      f->type_id = w[1];
      return 0;
    }
    case EXT_LINE: {
      ebpf_btf_line_info *l = out;
      l->insn_off = w[0];
      if (ext_string_memo(p, 0, w[1], &l->file, "file name", at) || ext_string_memo(p, 1, w[2], &l->line, "line", at))
        return -1;
      l->line_num = w[3] >> 10;
      l->column = w[3] & 0x3ff;
      return 0;
    }
    default: {
      ebpf_btf_core_relo *r = out;
      if (!btf_type_by_id(p->b, w[1]) || w[1] == 0) return bad_type(p, block, sec, at, w[1], "a type");
      if (w[3] > EBPF_CORE_TYPE_MATCHES)
        return err_set(p->b->err, EBPF_ERR_BTF, "BTF.ext: core_relo of section '%.*s' at offset %u has unknown kind %u",
                       (int)sec.len, sec.ptr, at, w[3]);
      r->insn_off = w[0];
      r->type_id = w[1];
      r->kind = w[3];
      return ext_string(p, w[2], &r->access, "access string", block, at);
    }
  }
}

/* One block: u32 record size, then per section {name_off, count, count records}. */
static int read_block(ext_parser *p, uint32_t block, const ebpf_buf *body, uint32_t off, uint32_t len) {
  btf *b = p->b;
  const char *what = block_names[block];
  if (len == 0) return 0;
  ebpf_buf buf;
  if (buf_sub(body, off, len, &buf))
    return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: %s (offset %u, %u bytes) lies outside the %u bytes after the header",
                   what, off, len, body->size);
  uint32_t rec_size;
  if (buf_u32(&buf, 0, &rec_size)) return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: %s is too short for its record size", what);
  if (rec_size < min_rec_sizes[block] || rec_size % 4)
    return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: %s record size %u is not a multiple of 4 of at least %u", what,
                   rec_size, min_rec_sizes[block]);
  for (uint32_t at = 4; at < len;) {
    uint32_t name_off, count;
    if (buf_u32(&buf, at, &name_off) || buf_u32(&buf, at + 4, &count))
      return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: %s is truncated at offset %u", what, at);
    ebpf_str name;
    if (ext_string(p, name_off, &name, "section name", block, at)) return -1;
    at += 8;
    const uint8_t *span;
    if (count == 0 || buf_span(&buf, at, (uint64_t)count * rec_size, &span))
      return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: %s of section '%.*s' declares %u records of %u bytes, but %u bytes remain",
                     what, (int)name.len, name.ptr, count, rec_size, len - at);
    ebpf_btf_ext_section *sec = section_named(p, name);
    if (!sec) return -1;
    uint32_t *first = block == EXT_FUNC ? &sec->func_first : block == EXT_LINE ? &sec->line_first : &sec->core_first;
    if (first[1])
      return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: %s lists section '%.*s' twice", what, (int)name.len, name.ptr);
    arena_vec *recs = &p->recs[block];
    first[0] = recs->count;
    first[1] = count;
    /* room for every record the rest of the block can hold: one allocation per block */
    if (vec_reserve(b->mem, recs, recs->count + (len - at) / rec_size + 1))
      return err_set(b->err, EBPF_ERR_NOMEM, "BTF.ext: out of memory");
    /* read_record fills every field of each record: no zeroing */
    uint8_t *rec = recs->items + (size_t)recs->count * recs->item_size;
    for (uint32_t i = 0; i < count; i++, at += rec_size, rec += recs->item_size) {
      if (read_record(p, block, &buf, at, name, rec)) return -1;
    }
    recs->count += count;
  }
  return 0;
}

int btf_ext_parse(btf *b, const ebpf_buf *section, btf_section_lookup lookup, void *ctx) {
  ebpf_buf h = *section;
  h.big_endian = 0;
  uint16_t magic;
  uint8_t version;
  uint32_t hdr_len;
  if (buf_u16(&h, 0, &magic) || buf_u8(&h, 2, &version) || buf_u32(&h, 4, &hdr_len))
    return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: %u bytes are too short for a header", section->size);
  if (magic == 0x9FEBu) h.big_endian = 1;
  else if (magic != 0xEB9Fu) return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: bad magic 0x%x (expected 0xeb9f)", magic);
  if (version != 1) return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: unsupported version %u", version);
  buf_u32(&h, 4, &hdr_len);
  if (hdr_len < 24 || hdr_len > h.size)
    return err_set(b->err, EBPF_ERR_BTF, "BTF.ext: header length %u is outside [24, %u]", hdr_len, h.size);
  uint32_t f[6] = {0}; /* func off/len, line off/len, core_relo off/len (when the header has them) */
  for (uint32_t i = 0; i < 6 && 8 + 4 * i + 4 <= hdr_len; i++) buf_u32(&h, 8 + 4 * i, &f[i]);
  ebpf_buf body;
  buf_sub(&h, hdr_len, h.size - hdr_len, &body);
  ext_parser p = {.b = b, .lookup = lookup, .ctx = ctx};
  vec_init(&p.sections, sizeof(ebpf_btf_ext_section));
  /* every section entry takes at least 12 bytes (name, count, a record of >= 4) */
  uint32_t max_sections = h.size / 12 + 1;
  if (vec_reserve(b->mem, &p.sections, max_sections) || name_table_init(b->mem, &p.by_name, max_sections, section_key, &p))
    return err_set(b->err, EBPF_ERR_NOMEM, "BTF.ext: out of memory");
  for (uint32_t k = 0; k < 3; k++) vec_init(&p.recs[k], out_sizes[k]);
  for (uint32_t k = 0; k < 3; k++) {
    if (read_block(&p, k, &body, f[2 * k], f[2 * k + 1])) return b->err->status;
  }
  b->info.has_ext = 1;
  b->info.ext_sections = (const ebpf_btf_ext_section *)p.sections.items;
  b->info.ext_section_count = p.sections.count;
  b->info.func_infos = (const ebpf_btf_func_info *)p.recs[EXT_FUNC].items;
  b->info.func_info_count = p.recs[EXT_FUNC].count;
  b->info.line_infos = (const ebpf_btf_line_info *)p.recs[EXT_LINE].items;
  b->info.line_info_count = p.recs[EXT_LINE].count;
  b->info.core_relos = (const ebpf_btf_core_relo *)p.recs[EXT_CORE].items;
  b->info.core_relo_count = p.recs[EXT_CORE].count;
  return 0;
}

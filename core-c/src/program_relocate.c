/* ebpf_program_relocate: one program's instruction image for BPF_PROG_LOAD. The program is copied,
 * the functions it reaches are appended once each (a worklist over the placed functions, so calls
 * between subprograms are followed too), and every relocated instruction is patched with map fds,
 * data offsets and call offsets relative to the image. Its .BTF.ext func and line info follow the
 * functions to their place in the image. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "btf.h"
#include "core_relo.h"
#include "elf.h"

#define INSN_SIZE 8u
#define INSN_LD_IMM64 0x18 /* BPF_LD | BPF_IMM | BPF_DW */
#define INSN_CALL 0x85     /* BPF_JMP | BPF_CALL */
#define PSEUDO_MAP_FD 1
#define PSEUDO_MAP_VALUE 2
#define PSEUDO_BTF_ID 3
#define PSEUDO_CALL 1
#define PSEUDO_KFUNC_CALL 2
#define PSEUDO_FUNC 4
#define POISON_CALL_KFUNC_BASE 2002000000 /* libbpf's helper id for a weak kfunc the kernel lacks */
#define FUNC_INFO_SIZE 8u  /* struct bpf_func_info: insn_off, type_id */
#define LINE_INFO_SIZE 16u /* struct bpf_line_info: insn_off, file_name_off, line_off, line_col */

typedef struct {
  ebpf_program_image out; /* first: the pointer handed out */
  arena mem;
  ebpf_error err;
} image_owner;

typedef struct {
  uint32_t program; /* index into the object's programs */
  uint32_t base;    /* its first instruction in the image */
} placement;

typedef struct {
  ebpf_object *obj;
  const ebpf_program *progs;
  uint32_t main;
  ebpf_buf fds;      /* the caller's int32 map fds */
  ebpf_buf ksyms;    /* the caller's uint64 extern kernel symbol values */
  image_owner *img;
  arena_vec insns;   /* 8-byte instructions */
  arena_vec placed;  /* placement, in image order */
  uint32_t *base_of; /* per program: base + 1 once placed, else 0 */
  int be;            /* the object's byte order, kept in the image */
} reloc_ctx;

static const char *const core_kind_names[] = {
    "byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64", "local_type_id",
    "target_type_id", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches",
};

/* An EBPF_ERR_RELOC naming the program, the image instruction and, inside an appended function,
 * that function and its own instruction index. */
static int fail_at(reloc_ctx *c, const placement *at, uint32_t j, const char *fmt, ...) {
  char detail[EBPF_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  str_vformat(detail, sizeof detail, fmt, ap);
  va_end(ap);
  const ebpf_program *m = &c->progs[c->main], *p = &c->progs[at->program];
  if (at->program == c->main)
    return err_set(&c->img->err, EBPF_ERR_RELOC, "program '%.*s': instruction %u: %s", (int)m->name.len, m->name.ptr,
                   at->base + j, detail);
  return err_set(&c->img->err, EBPF_ERR_RELOC, "program '%.*s': instruction %u (%u of function '%.*s' in '%.*s'): %s",
                 (int)m->name.len, m->name.ptr, at->base + j, j, (int)p->name.len, p->name.ptr,
                 (int)p->section_name.len, p->section_name.ptr, detail);
}

static uint8_t *insn_at(reloc_ctx *c, uint32_t index) { return c->insns.items + (uint64_t)index * INSN_SIZE; }

static uint8_t src_reg(const reloc_ctx *c, const uint8_t *insn) { return c->be ? insn[1] & 0xf : insn[1] >> 4; }

static void set_src_reg(const reloc_ctx *c, uint8_t *insn, uint8_t src) {
  insn[1] = c->be ? (uint8_t)((insn[1] & 0xf0) | src) : (uint8_t)((insn[1] & 0x0f) | (src << 4));
}

static void set_imm(const reloc_ctx *c, uint8_t *insn, int32_t imm) { store_u32_order(insn + 4, (uint32_t)imm, c->be); }

static int32_t imm_of(const reloc_ctx *c, uint8_t *insn) {
  ebpf_buf b = {insn, INSN_SIZE, c->be};
  int32_t imm = 0;
  buf_i32(&b, 4, &imm);
  return imm;
}

/* Places program p at the end of the image (once) and returns its base through *base. */
static int place(reloc_ctx *c, uint32_t p, uint32_t *base) {
  if (c->base_of[p]) {
    *base = c->base_of[p] - 1;
    return 0;
  }
  const ebpf_program *prog = &c->progs[p];
  const uint8_t *code;
  if (buf_span(&c->obj->file, prog->insns_offset, (uint64_t)prog->insn_count * INSN_SIZE, &code))
    return err_set(&c->img->err, EBPF_ERR_ELF, "function '%.*s': its %u instructions lie outside the file",
                   (int)prog->name.len, prog->name.ptr, prog->insn_count);
  uint32_t at = c->insns.count;
  placement *pl = vec_push(&c->img->mem, &c->placed);
  if (!pl || vec_reserve(&c->img->mem, &c->insns, at + prog->insn_count))
    return err_set(&c->img->err, EBPF_ERR_NOMEM, "out of memory for %u instructions", at + prog->insn_count);
  memcpy(c->insns.items + (uint64_t)at * INSN_SIZE, code, (size_t)prog->insn_count * INSN_SIZE);
  c->insns.count = at + prog->insn_count;
  pl->program = p;
  pl->base = at;
  c->base_of[p] = at + 1;
  *base = at;
  return 0;
}

/* The fd of map index `map` from the caller's array. */
static int map_fd(reloc_ctx *c, const placement *at, uint32_t j, int32_t map, const ebpf_reloc *r, int32_t *fd) {
  const ebpf_map *maps = c->obj->info.maps;
  if (map < 0 || (uint32_t)map >= c->obj->info.map_count)
    return fail_at(c, at, j, "'%.*s' refers to no map", (int)r->symbol_name.len, r->symbol_name.ptr);
  if (buf_i32(&c->fds, (uint64_t)map * 4, fd))
    return err_set(&c->img->err, EBPF_ERR_ARG, "map index %d is outside the %u map fds given", map, c->fds.size / 4);
  if (*fd < 0)
    return fail_at(c, at, j, "'%.*s' refers to map '%.*s', which has no fd (not created, or closed)", (int)r->symbol_name.len,
                   r->symbol_name.ptr, (int)maps[map].name.len, maps[map].name.ptr);
  return 0;
}

/* Points the call or callback address at `insn` (image index) to the function starting at byte
 * `target` of section `section`. */
static int link_function(reloc_ctx *c, const placement *at, uint32_t j, uint32_t section, int64_t target,
                         const char *what) {
  const ebpf_section *sec = &c->obj->sections[section];
  int32_t tp = target >= 0 && target < (int64_t)sec->size ? relocs_find_program(c->obj, section, (uint32_t)target, 1) : -1;
  if (tp < 0)
    return fail_at(c, at, j, "%s targets offset %lld of '%.*s', where no function starts", what, (long long)target,
                   (int)sec->name.len, sec->name.ptr);
  uint32_t base;
  if (place(c, (uint32_t)tp, &base)) return -1;
  uint8_t *insn = insn_at(c, at->base + j);
  set_imm(c, insn, (int32_t)((int64_t)base - (int64_t)(at->base + j) - 1));
  return 0;
}

static const char *const ksym_kind_names[] = {"", "kfunc", "__ksym variable", "untyped __ksym variable"};

/* An extern kernel symbol (kfunc, __ksym) patched with the value the loader resolved. */
static int apply_ksym(reloc_ctx *c, const placement *at, uint32_t j, uint8_t opcode, const ebpf_reloc *r) {
  const ebpf_ksyms *list = &c->obj->ksym_list;
  uint32_t k = r->target_offset;
  if (k >= list->count) return fail_at(c, at, j, "'%.*s' is not an extern kernel symbol", (int)r->symbol_name.len, r->symbol_name.ptr);
  const ebpf_ksym *ks = &list->ksyms[k];
  int nl = (int)ks->name.len;
  uint64_t value;
  if (buf_u64(&c->ksyms, (uint64_t)k * 8, &value))
    return err_set(&c->img->err, EBPF_ERR_ARG, "kernel symbol %u ('%.*s') is outside the %u values given", k, nl,
                   ks->name.ptr, c->ksyms.size / 8);
  if (value == EBPF_KSYM_UNRESOLVED) {
    c->img->out.unresolved_ksym = k;
    return fail_at(c, at, j, "%s '%.*s' is not resolved", ksym_kind_names[ks->kind], nl, ks->name.ptr);
  }
  uint8_t *insn = insn_at(c, at->base + j);
  if (opcode == INSN_CALL) {
    if (ks->kind != EBPF_KSYM_FUNC)
      return fail_at(c, at, j, "call to '%.*s', a %s, not a function", nl, ks->name.ptr, ksym_kind_names[ks->kind]);
    insn[2] = insn[3] = 0; /* off: the BTF's index in fd_array, 0 for the kernel's own */
    set_src_reg(c, insn, value ? PSEUDO_KFUNC_CALL : 0);
    set_imm(c, insn, value ? (int32_t)(uint32_t)value : (int32_t)(POISON_CALL_KFUNC_BASE + k));
    return 0;
  }
  int by_btf_id = ks->kind != EBPF_KSYM_VAR_UNTYPED && value;
  set_src_reg(c, insn, by_btf_id ? PSEUDO_BTF_ID : 0);
  set_imm(c, insn, (int32_t)(uint32_t)value);
  set_imm(c, insn_at(c, at->base + j + 1), by_btf_id ? 0 : (int32_t)(uint32_t)(value >> 32));
  return 0;
}

static int apply_reloc(reloc_ctx *c, const placement *at, uint32_t j, uint8_t opcode, const ebpf_reloc *r) {
  int yl = (int)r->symbol_name.len;
  const char *yn = r->symbol_name.ptr;
  int32_t fd;
  if (opcode == INSN_LD_IMM64 && r->kind != EBPF_RELOC_SUBPROG_ADDR && r->kind != EBPF_RELOC_CALL &&
      j + 1 >= c->progs[at->program].insn_count)
    return fail_at(c, at, j, "ld_imm64 of '%.*s' is cut off by the end of the function", yl, yn);
  switch (r->kind) {
    case EBPF_RELOC_MAP:
      if (map_fd(c, at, j, r->map, r, &fd)) return -1;
      set_src_reg(c, insn_at(c, at->base + j), PSEUDO_MAP_FD);
      set_imm(c, insn_at(c, at->base + j), fd);
      set_imm(c, insn_at(c, at->base + j + 1), 0);
      return 0;
    case EBPF_RELOC_EXTERN:
      if (r->map < 0) return apply_ksym(c, at, j, opcode, r);
      if (opcode == INSN_CALL) return fail_at(c, at, j, "call to '%.*s', a .kconfig variable", yl, yn);
      /* fallthrough: a .kconfig variable lives in the .kconfig map */
    case EBPF_RELOC_DATA:
      if (map_fd(c, at, j, r->map, r, &fd)) return -1;
      set_src_reg(c, insn_at(c, at->base + j), PSEUDO_MAP_VALUE);
      set_imm(c, insn_at(c, at->base + j), fd);
      set_imm(c, insn_at(c, at->base + j + 1), (int32_t)r->target_offset);
      return 0;
    case EBPF_RELOC_CALL:
      set_src_reg(c, insn_at(c, at->base + j), PSEUDO_CALL);
      return link_function(c, at, j, r->target_section, r->target_offset, "call");
    case EBPF_RELOC_SUBPROG_ADDR:
      if (opcode != INSN_LD_IMM64 || j + 1 >= c->progs[at->program].insn_count)
        return fail_at(c, at, j, "the address of '%.*s' is not taken by a whole ld_imm64", yl, yn);
      set_src_reg(c, insn_at(c, at->base + j), PSEUDO_FUNC);
      set_imm(c, insn_at(c, at->base + j + 1), 0);
      return link_function(c, at, j, r->target_section, r->target_offset, "callback address");
    default: {
      const ebpf_section *ts = r->target_section ? &c->obj->sections[r->target_section] : NULL;
      return fail_at(c, at, j, "relocation against '%.*s' in %s%.*s%s, which holds neither maps, global data nor code",
                     yl, yn, ts ? "section '" : "no section", ts ? (int)ts->name.len : 0, ts ? ts->name.ptr : "",
                     ts ? "'" : "");
    }
  }
}

static const ebpf_btf_ext_section *ext_section_of(const reloc_ctx *c, uint32_t section) {
  const struct ebpf_btf_info *btf = c->obj->info.btf;
  if (!btf) return NULL;
  for (uint32_t i = 0; i < btf->ext_section_count; i++)
    if (btf->ext_sections[i].section == section) return &btf->ext_sections[i];
  return NULL;
}

/* CO-RE first, as libbpf does: the records of this function patched with the results of
 * ebpf_object_core_relocate (refused when there are none, or when one of them failed). */
static int apply_core(reloc_ctx *c, const placement *at) {
  const ebpf_program *p = &c->progs[at->program];
  const ebpf_btf_ext_section *ext = ext_section_of(c, p->section);
  if (!ext || !ext->core_count) return 0;
  const struct ebpf_btf_info *btf = c->obj->info.btf;
  const ebpf_core_results *cr = c->obj->core_results;
  uint64_t end = (uint64_t)p->insn_offset + (uint64_t)p->insn_count * INSN_SIZE;
  for (uint32_t i = 0; i < ext->core_count; i++) {
    const ebpf_btf_core_relo *r = &btf->core_relos[ext->core_first + i];
    if (r->insn_off < p->insn_offset || r->insn_off >= end) continue;
    const ebpf_btf_type *t = &btf->types[r->type_id]; /* checked by the .BTF.ext reader */
    if (!cr)
      return fail_at(c, at, (r->insn_off - p->insn_offset) / INSN_SIZE,
                     "CO-RE relocations need a target BTF (%s relocation, access string '%.*s', on %s '%.*s' [%u])",
                     core_kind_names[r->kind], (int)r->access.len, r->access.ptr, btf_kind_name(t->kind),
                     (int)t->name.len, t->name.ptr, r->type_id);
    const ebpf_core_result *res = &cr->results[ext->core_first + i];
    if (res->status == EBPF_CORE_SKIPPED || res->program != at->program) continue;
    if (res->status == EBPF_CORE_FAILED)
      return err_set(&c->img->err, EBPF_ERR_RELOC, "CO-RE: %.*s", (int)res->message.len, res->message.ptr);
    char msg[EBPF_ERROR_MAX];
    if (core_apply(res, insn_at(c, at->base + res->insn), p->insn_count - res->insn, c->be, msg) < 0)
      return fail_at(c, at, res->insn, "CO-RE: %s", msg);
  }
  return 0;
}

/* Patches the instructions of one placed function; may place more functions. */
static int relocate_function(reloc_ctx *c, placement at) {
  const ebpf_program *p = &c->progs[at.program];
  if (apply_core(c, &at)) return -1;
  const ebpf_reloc *relocs = c->obj->info.relocs + p->reloc_first;
  uint32_t k = 0, nrel = p->reloc_count;
  for (uint32_t j = 0; j < p->insn_count; j++) {
    uint32_t off = p->insn_offset + j * INSN_SIZE;
    while (k < nrel && relocs[k].offset < off) k++;
    const ebpf_reloc *r = k < nrel && relocs[k].offset == off ? &relocs[k] : NULL;
    uint8_t *insn = insn_at(c, at.base + j);
    uint8_t opcode = insn[0], src = src_reg(c, insn);
    if (r) {
      if (apply_reloc(c, &at, j, opcode, r)) return -1;
    } else if (opcode == INSN_CALL && src == PSEUDO_CALL) {
      /* a call to a static function of the same section: no relocation, imm is relative */
      int64_t target = (int64_t)off + ((int64_t)imm_of(c, insn) + 1) * INSN_SIZE;
      if (link_function(c, &at, j, p->section, target, "call")) return -1;
    } else if (opcode == INSN_LD_IMM64 && src == PSEUDO_FUNC) {
      return fail_at(c, &at, j, "a callback address (BPF_PSEUDO_FUNC) without a relocation");
    }
    if (opcode == INSN_LD_IMM64) j++; /* its second half */
  }
  return 0;
}

static int info_before(const void *a, const void *b) {
  uint32_t x, y;
  memcpy(&x, a, 4);
  memcpy(&y, b, 4);
  return (x > y) - (x < y);
}

/* Appends one record of n host-order words. */
static int push_words(reloc_ctx *c, arena_vec *v, const uint32_t *words, uint32_t n) {
  uint8_t *rec = vec_push(&c->img->mem, v);
  if (!rec) return err_set(&c->img->err, EBPF_ERR_NOMEM, "out of memory for func_info/line_info");
  memcpy(rec, words, n * 4);
  return 0;
}

/* Sorted by insn_off (the kernel refuses records out of order; placements are in image order and
 * clang writes records in instruction order, so this is a check pass), then in object order. */
static int finish_records(reloc_ctx *c, arena_vec *v) {
  if (sort_stable(&c->img->mem, v->items, v->count, v->item_size, info_before))
    return err_set(&c->img->err, EBPF_ERR_NOMEM, "out of memory sorting func_info/line_info");
  for (uint64_t at = 0; at < (uint64_t)v->count * v->item_size; at += 4) {
    uint32_t w;
    memcpy(&w, v->items + at, 4);
    store_u32_order(v->items + at, w, c->be);
  }
  return 0;
}

/* func_info and line_info of the placed functions, rebased. Either is left empty when a placed
 * function has none at its start: the kernel wants one per function or none at all. */
static int rebase_btf_ext(reloc_ctx *c) {
  const struct ebpf_btf_info *btf = c->obj->info.btf;
  if (!btf || !btf->has_ext) return 0;
  arena_vec funcs, lines;
  vec_init(&funcs, FUNC_INFO_SIZE);
  vec_init(&lines, LINE_INFO_SIZE);
  int funcs_whole = 1, lines_whole = 1;
  const placement *placed = (const placement *)c->placed.items;
  for (uint32_t s = 0; s < c->placed.count; s++) {
    const ebpf_program *p = &c->progs[placed[s].program];
    const ebpf_btf_ext_section *ext = ext_section_of(c, p->section);
    uint64_t end = (uint64_t)p->insn_offset + (uint64_t)p->insn_count * INSN_SIZE;
    int has_func = 0, has_line = 0;
    for (uint32_t i = 0; ext && i < ext->func_count; i++) {
      const ebpf_btf_func_info *f = &btf->func_infos[ext->func_first + i];
      if (f->insn_off < p->insn_offset || f->insn_off >= end || f->insn_off % INSN_SIZE) continue;
      uint32_t insn = (f->insn_off - p->insn_offset) / INSN_SIZE;
      has_func |= insn == 0;
      uint32_t rec[2] = {placed[s].base + insn, f->type_id};
      if (push_words(c, &funcs, rec, 2)) return -1;
    }
    for (uint32_t i = 0; ext && i < ext->line_count; i++) {
      const ebpf_btf_line_info *l = &btf->line_infos[ext->line_first + i];
      if (l->insn_off < p->insn_offset || l->insn_off >= end || l->insn_off % INSN_SIZE) continue;
      uint32_t insn = (l->insn_off - p->insn_offset) / INSN_SIZE;
      has_line |= insn == 0;
      uint32_t rec[4] = {placed[s].base + insn, (uint32_t)(l->file.ptr - btf->strings),
                         (uint32_t)(l->line.ptr - btf->strings), (l->line_num << 10) | (l->column & 0x3ff)};
      if (push_words(c, &lines, rec, 4)) return -1;
    }
    funcs_whole &= has_func;
    lines_whole &= has_line;
  }
  ebpf_program_image *out = &c->img->out;
  if (funcs_whole && funcs.count) {
    if (finish_records(c, &funcs)) return -1;
    out->func_info = funcs.items;
    out->func_info_count = funcs.count;
  }
  if (lines_whole && lines.count) {
    if (finish_records(c, &lines)) return -1;
    out->line_info = lines.items;
    out->line_info_count = lines.count;
  }
  out->func_info_rec_size = FUNC_INFO_SIZE;
  out->line_info_rec_size = LINE_INFO_SIZE;
  return 0;
}

static int relocate(reloc_ctx *c) {
  const ebpf_object_info *info = &c->obj->info;
  if (info->status) return err_set(&c->img->err, EBPF_ERR_ARG, "the object failed to open: %s", info->message.ptr);
  if (c->main >= info->program_count)
    return err_set(&c->img->err, EBPF_ERR_ARG, "program index %u is out of range (%u programs)", c->main,
                   info->program_count);
  c->progs = info->programs;
  c->be = (int)info->big_endian;
  c->base_of = arena_array(&c->img->mem, info->program_count, sizeof(uint32_t));
  if (!c->base_of) return err_set(&c->img->err, EBPF_ERR_NOMEM, "out of memory");
  vec_init(&c->insns, INSN_SIZE);
  vec_init(&c->placed, sizeof(placement));
  uint32_t base;
  if (place(c, c->main, &base)) return -1;
  for (uint32_t s = 0; s < c->placed.count; s++) /* grows while functions are placed */
    if (relocate_function(c, ((const placement *)c->placed.items)[s])) return -1;
  if (rebase_btf_ext(c)) return -1;
  ebpf_program_image *out = &c->img->out;
  out->insns = c->insns.items;
  out->insn_count = c->insns.count;
  out->function_count = c->placed.count;
  return 0;
}

ebpf_program_image *ebpf_program_relocate(ebpf_object *obj, uint32_t program, const int32_t *map_fds,
                                          uint32_t map_fd_count, const uint64_t *ksym_values, uint32_t ksym_count) {
  image_owner *img = calloc(1, sizeof *img);
  if (!img) return NULL;
  img->out.unresolved_ksym = EBPF_NONE;
  reloc_ctx c = {.obj = obj, .main = program, .img = img};
  uint32_t fd_bytes = map_fds && map_fd_count <= UINT32_MAX / 4 ? map_fd_count * 4u : 0;
  c.fds = (ebpf_buf){(const uint8_t *)map_fds, fd_bytes, 0};
  uint32_t ksym_bytes = ksym_values && ksym_count <= UINT32_MAX / 8 ? ksym_count * 8u : 0;
  c.ksyms = (ebpf_buf){(const uint8_t *)ksym_values, ksym_bytes, 0}; /* host order: the caller's */
  if (!obj) err_set(&img->err, EBPF_ERR_ARG, "no object");
  else relocate(&c);
  uint32_t unresolved = img->err.status ? img->out.unresolved_ksym : EBPF_NONE;
  if (img->err.status) memset(&img->out, 0, sizeof img->out);
  img->out.unresolved_ksym = unresolved;
  img->out.status = (uint32_t)img->err.status;
  img->out.message.ptr = img->err.message;
  img->out.message.len = (uint32_t)strlen(img->err.message);
  return &img->out;
}

void ebpf_program_image_free(ebpf_program_image *image) {
  if (!image) return;
  image_owner *img = (image_owner *)image;
  arena_release(&img->mem);
  free(img);
}

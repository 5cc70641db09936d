/* Relocations: the raw entries of every SHT_REL section (relocs_read), then, once maps and
 * programs are known, their kinds and the programs holding them (relocs_classify). */

#include "elf.h"

#define SHT_REL 9u
#define SHT_NOBITS 8u
#define SHN_LORESERVE 0xff00u
#define REL_SIZE 16u
#define INSN_LD_IMM64 0x18 /* BPF_LD | BPF_IMM | BPF_DW */
#define INSN_CALL 0x85     /* BPF_JMP | BPF_CALL */

/* Bytes a relocation of this R_BPF_* type patches. */
static int reloc_width(uint32_t type) {
  switch (type) {
    case 0: return 0;                    /* R_BPF_NONE */
    case 1: case 2: return 8;            /* R_BPF_64_64 (ld_imm64), R_BPF_64_ABS64 */
    case 3: case 4: case 10: return 4;   /* R_BPF_64_ABS32, R_BPF_64_NODYLD32, R_BPF_64_32 */
    default: return -1;
  }
}

/* Relocations of debug info and BTF matter to linkers only. */
static int is_linker_only(const ebpf_object *obj, uint32_t target) {
  if (target == 0 || target >= obj->info.section_count) return 0;
  uint32_t kind = obj->sections[target].kind;
  return kind == EBPF_SEC_DEBUG || kind == EBPF_SEC_BTF || kind == EBPF_SEC_BTF_EXT;
}

static int read_rel_section(ebpf_object *obj, const ebpf_section *rel) {
  const char *rn = rel->name.ptr;
  int rl = (int)rel->name.len;
  if (rel->entsize != REL_SIZE || rel->size % REL_SIZE)
    return err_set(&obj->err, EBPF_ERR_ELF, "relocation section '%.*s': entry size %llu and size %u, expected 16-byte entries",
                   rl, rn, (unsigned long long)rel->entsize, rel->size);
  if (rel->info == 0 || rel->info >= obj->info.section_count)
    return err_set(&obj->err, EBPF_ERR_ELF, "relocation section '%.*s': target section %u is out of range", rl, rn,
                   rel->info);
  if (!obj->symtab_index || rel->link != obj->symtab_index)
    return err_set(&obj->err, EBPF_ERR_ELF, "relocation section '%.*s': symbol table index %u is not the symbol table",
                   rl, rn, rel->link);
  const ebpf_section *target = &obj->sections[rel->info];
  if (is_linker_only(obj, target->index)) return 0;
  if (obj->rel_count[target->index])
    return err_set(&obj->err, EBPF_ERR_ELF, "section '%.*s' has two relocation sections", (int)target->name.len,
                   target->name.ptr);
  ebpf_section *tw = &obj->sections[target->index];
  tw->rel_section = rel->index;
  ebpf_buf b;
  buf_sub(&obj->file, rel->offset, rel->size, &b); /* checked by elf_read_sections */
  uint32_t n = rel->size / REL_SIZE;
  obj->rel_first[target->index] = obj->relocs.count;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t off, info;
    buf_u64(&b, (uint64_t)i * REL_SIZE, &off);
    buf_u64(&b, (uint64_t)i * REL_SIZE + 8, &info);
    uint32_t sym = (uint32_t)(info >> 32), type = (uint32_t)info;
    if (sym >= obj->info.symbol_count)
      return err_set(&obj->err, EBPF_ERR_ELF, "relocation %u of section '%.*s': symbol index %u is out of range (%u symbols)",
                     i, (int)target->name.len, target->name.ptr, sym, obj->info.symbol_count);
    const ebpf_symbol *s = &obj->symbols[sym];
    int width = reloc_width(type);
    if (width < 0)
      return err_set(&obj->err, EBPF_ERR_RELOC, "section '%.*s': relocation at offset %llu against '%.*s' has unknown type %u",
                     (int)target->name.len, target->name.ptr, (unsigned long long)off, (int)s->name.len, s->name.ptr,
                     type);
    if (target->type == SHT_NOBITS || off >= target->size || (uint64_t)width > target->size - off)
      return err_set(&obj->err, EBPF_ERR_RELOC,
                     "section '%.*s': relocation at offset %llu against '%.*s' lies outside the section (%u bytes)",
                     (int)target->name.len, target->name.ptr, (unsigned long long)off, (int)s->name.len, s->name.ptr,
                     target->type == SHT_NOBITS ? 0 : target->size);
    ebpf_reloc *r = vec_push(&obj->mem, &obj->relocs);
    if (!r) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for relocations");
    r->symbol_name = s->name;
    r->section = target->index;
    r->offset = (uint32_t)off;
    r->symbol = sym;
    r->target_section = s->section < SHN_LORESERVE ? s->section : 0;
    r->type = type;
    r->map = -1;
    r->program = EBPF_NONE;
    r->target_program = -1;
  }
  obj->rel_count[target->index] = n;
  return 0;
}

int relocs_read(ebpf_object *obj) {
  uint32_t count = obj->info.section_count;
  obj->rel_first = arena_array(&obj->mem, count, sizeof(uint32_t));
  obj->rel_count = arena_array(&obj->mem, count, sizeof(uint32_t));
  if (!obj->rel_first || !obj->rel_count) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory");
  uint64_t total = 0; /* an upper bound, so the array is allocated once */
  for (uint32_t i = 1; i < count; i++)
    if (obj->sections[i].type == SHT_REL && !is_linker_only(obj, obj->sections[i].info))
      total += obj->sections[i].size / REL_SIZE;
  if (total > UINT32_MAX || vec_reserve(&obj->mem, &obj->relocs, (uint32_t)total))
    return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for %llu relocations", (unsigned long long)total);
  for (uint32_t i = 1; i < count; i++)
    if (obj->sections[i].type == SHT_REL && read_rel_section(obj, &obj->sections[i])) return obj->err.status;
  return 0;
}

/* ---- classification ---- */

typedef struct {
  uint32_t section, offset;
  int32_t map;
} map_key;

static int map_key_cmp(const void *a, const void *b) {
  const map_key *x = a, *y = b;
  if (x->section != y->section) return x->section < y->section ? -1 : 1;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  return x->map < y->map ? -1 : x->map > y->map;
}

static int reloc_offset_cmp(const void *a, const void *b) {
  const ebpf_reloc *x = a, *y = b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

typedef struct {
  ebpf_object *obj;
  map_key *maps;     /* non-template maps by (section, def_offset) */
  uint32_t map_count;
  int32_t *data_map; /* per section: its global-data map, or -1 */
  uint32_t cursor;   /* program of the previous relocation */
} classify_ctx;

static int32_t find_map(const classify_ctx *c, uint32_t section, uint32_t offset) {
  uint32_t lo = 0, hi = c->map_count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const map_key *k = &c->maps[mid];
    if (k->section < section || (k->section == section && k->offset < offset)) lo = mid + 1;
    else hi = mid;
  }
  if (lo < c->map_count && c->maps[lo].section == section && c->maps[lo].offset == offset) return c->maps[lo].map;
  return -1;
}

/* The map whose definition starts at or last before (section, offset): the one holding a slot. */
static int32_t find_map_holding(const classify_ctx *c, uint32_t section, uint32_t offset) {
  uint32_t lo = 0, hi = c->map_count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const map_key *k = &c->maps[mid];
    if (k->section < section || (k->section == section && k->offset <= offset)) lo = mid + 1;
    else hi = mid;
  }
  return lo && c->maps[lo - 1].section == section ? c->maps[lo - 1].map : -1;
}

/* The program of `section` whose instructions hold byte `offset`, or -1. Programs are in
 * (section, insn_offset) order. */
int32_t relocs_find_program(const ebpf_object *obj, uint32_t section, uint32_t offset, int exact_start) {
  const ebpf_program *p = (const ebpf_program *)obj->programs.items;
  uint32_t lo = 0, hi = obj->programs.count;
  while (lo < hi) { /* first program past (section, offset) */
    uint32_t mid = lo + (hi - lo) / 2;
    if (p[mid].section < section || (p[mid].section == section && p[mid].insn_offset <= offset)) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return -1;
  const ebpf_program *q = &p[lo - 1];
  if (q->section != section) return -1;
  if (exact_start) return q->insn_offset == offset ? (int32_t)(lo - 1) : -1;
  return offset - q->insn_offset < (uint64_t)q->insn_count * 8 ? (int32_t)(lo - 1) : -1;
}

/* Relocations of a section arrive by increasing offset, so the program holding each one is
 * found by walking forward from the previous one. */
static uint32_t program_at(classify_ctx *c, uint32_t section, uint32_t offset) {
  const ebpf_program *p = (const ebpf_program *)c->obj->programs.items;
  uint32_t n = c->obj->programs.count, i = c->cursor;
  if (i >= n || p[i].section != section || p[i].insn_offset > offset) {
    int32_t found = relocs_find_program(c->obj, section, offset, 0);
    if (found < 0) return EBPF_NONE;
    c->cursor = (uint32_t)found;
    return (uint32_t)found;
  }
  while (i + 1 < n && p[i + 1].section == section && p[i + 1].insn_offset <= offset) i++;
  c->cursor = i;
  return offset - p[i].insn_offset < (uint64_t)p[i].insn_count * 8 ? i : EBPF_NONE;
}

/* A relocation being classified: where it is and what it names, for the messages. */
typedef struct {
  classify_ctx *c;
  const ebpf_section *sec;
  const ebpf_symbol *sym;
  ebpf_reloc *r;
  int sl, yl;
  const char *sn, *yn;
} reloc_site;

/* The program of code section `tsec` starting at byte `target`, or -1. */
static int32_t function_at(const ebpf_object *obj, const ebpf_section *tsec, int64_t target) {
  return target >= 0 && target < (int64_t)tsec->size ? relocs_find_program(obj, tsec->index, (uint32_t)target, 1) : -1;
}

/* A symbol with no section: a kconfig variable (a slot of the kconfig map) or a kernel symbol. */
static int classify_extern(const reloc_site *x, uint8_t opcode) {
  ebpf_object *obj = x->c->obj;
  ebpf_reloc *r = x->r;
  r->kind = EBPF_RELOC_EXTERN;
  int32_t at = obj->kconfig_map >= 0 ? data_kconfig_offset(obj, x->sym->name) : -1;
  if (at >= 0) {
    r->map = obj->kconfig_map;
    r->target_offset = (uint32_t)at;
    return 0;
  }
  return ksyms_add(obj, r->symbol, opcode == INSN_CALL, &r->target_offset);
}

/* A call relocation: to the function starting imm + 1 instructions past the symbol. */
static int classify_call(const reloc_site *x, const ebpf_section *tsec, int32_t imm) {
  ebpf_object *obj = x->c->obj;
  ebpf_reloc *r = x->r;
  int tl = (int)tsec->name.len;
  if (tsec->kind != EBPF_SEC_PROGRAM && tsec->kind != EBPF_SEC_TEXT)
    return err_set(&obj->err, EBPF_ERR_RELOC, "section '%.*s': call at offset %u targets '%.*s' in non-code section '%.*s'",
                   x->sl, x->sn, r->offset, x->yl, x->yn, tl, tsec->name.ptr);
  int64_t target = (int64_t)x->sym->value + ((int64_t)imm + 1) * 8;
  int32_t tp = function_at(obj, tsec, target);
  if (tp < 0)
    return err_set(&obj->err, EBPF_ERR_RELOC,
                   "section '%.*s': call at offset %u to '%.*s' targets offset %lld of '%.*s', where no function starts",
                   x->sl, x->sn, r->offset, x->yl, x->yn, (long long)target, tl, tsec->name.ptr);
  r->kind = EBPF_RELOC_CALL;
  r->target_offset = (uint32_t)target;
  r->target_program = tp;
  return 0;
}

/* An ld_imm64 of a function's address (BPF_PSEUDO_FUNC). */
static int classify_subprog_addr(const reloc_site *x, const ebpf_section *tsec, int64_t target) {
  ebpf_object *obj = x->c->obj;
  ebpf_reloc *r = x->r;
  int32_t tp = function_at(obj, tsec, target);
  if (tp < 0)
    return err_set(&obj->err, EBPF_ERR_RELOC,
                   "section '%.*s': address of '%.*s' at offset %u is offset %lld of '%.*s', where no function starts",
                   x->sl, x->sn, x->yl, x->yn, r->offset, (long long)target, (int)tsec->name.len, tsec->name.ptr);
  r->kind = EBPF_RELOC_SUBPROG_ADDR;
  r->target_offset = (uint32_t)target;
  r->target_program = tp;
  return 0;
}

/* An ld_imm64 of a map defined in 'maps' or '.maps'. */
static int classify_map(const reloc_site *x, const ebpf_section *tsec, int64_t target) {
  ebpf_reloc *r = x->r;
  r->kind = EBPF_RELOC_MAP;
  /* a static map is referenced through the section symbol, its offset in the imm */
  r->map = target >= 0 && target <= UINT32_MAX ? find_map(x->c, tsec->index, (uint32_t)target) : -1;
  r->target_offset = target >= 0 && target <= UINT32_MAX ? (uint32_t)target : 0;
  if (r->map < 0 && tsec->kind == EBPF_SEC_MAPS)
    return err_set(&x->c->obj->err, EBPF_ERR_RELOC,
                   "section '%.*s': ld_imm64 at offset %u refers to '%.*s' at offset %lld of 'maps', where no map is defined",
                   x->sl, x->sn, r->offset, x->yl, x->yn, (long long)target);
  return 0;
}

/* An ld_imm64 of a global variable: an offset into the section's data map. */
static int classify_data(const reloc_site *x, const ebpf_section *tsec, int64_t target) {
  ebpf_reloc *r = x->r;
  if (target < 0 || target > (int64_t)tsec->size)
    return err_set(&x->c->obj->err, EBPF_ERR_RELOC,
                   "section '%.*s': ld_imm64 at offset %u refers to offset %lld of '%.*s' (%u bytes)", x->sl, x->sn,
                   r->offset, (long long)target, (int)tsec->name.len, tsec->name.ptr, tsec->size);
  r->kind = EBPF_RELOC_DATA;
  r->map = x->c->data_map[tsec->index];
  r->target_offset = (uint32_t)target;
  return 0;
}

/* An ld_imm64 against a symbol of `tsec`, by what the section holds. */
static int classify_ld_imm64(const reloc_site *x, const ebpf_section *tsec, int32_t imm) {
  int64_t target = (int64_t)x->sym->value + imm;
  switch (tsec->kind) {
    case EBPF_SEC_PROGRAM:
    case EBPF_SEC_TEXT: return classify_subprog_addr(x, tsec, target);
    case EBPF_SEC_MAPS:
    case EBPF_SEC_BTF_MAPS: return classify_map(x, tsec, target);
    case EBPF_SEC_DATA:
    case EBPF_SEC_RODATA:
    case EBPF_SEC_BSS:
    case EBPF_SEC_KCONFIG: return classify_data(x, tsec, target);
    default: return 0;
  }
}

/* The relocated instruction's opcode and imm: a whole ld_imm64 or a call at an instruction boundary. */
static int read_relocated_insn(const reloc_site *x, const ebpf_buf *code, uint8_t *opcode, int32_t *imm) {
  ebpf_object *obj = x->c->obj;
  uint32_t off = x->r->offset;
  if (off % 8 || buf_u8(code, off, opcode) || buf_i32(code, off + 4, imm))
    return err_set(&obj->err, EBPF_ERR_RELOC,
                   "section '%.*s': relocation at offset %u against '%.*s' is not at an instruction boundary", x->sl, x->sn,
                   off, x->yl, x->yn);
  if (*opcode == INSN_LD_IMM64) {
    if (off + 16u > x->sec->size)
      return err_set(&obj->err, EBPF_ERR_RELOC, "section '%.*s': ld_imm64 at offset %u against '%.*s' is truncated", x->sl,
                     x->sn, off, x->yl, x->yn);
  } else if (*opcode != INSN_CALL) {
    return err_set(&obj->err, EBPF_ERR_RELOC,
                   "section '%.*s': relocation at offset %u against '%.*s' is on instruction 0x%x, which is neither "
                   "ld_imm64 nor call",
                   x->sl, x->sn, off, x->yl, x->yn, *opcode);
  }
  return 0;
}

static int classify_code_reloc(classify_ctx *c, const ebpf_section *sec, ebpf_buf *code, ebpf_reloc *r) {
  ebpf_object *obj = c->obj;
  const ebpf_symbol *sym = &obj->symbols[r->symbol];
  reloc_site x = {c, sec, sym, r, (int)sec->name.len, (int)sym->name.len, sec->name.ptr, sym->name.ptr};
  uint8_t opcode;
  int32_t imm;
  int rc;
  if ((rc = read_relocated_insn(&x, code, &opcode, &imm))) return rc;
  r->program = program_at(c, sec->index, r->offset);
  if (sym->section == 0) return classify_extern(&x, opcode);
  if (sym->section >= SHN_LORESERVE) return 0; /* absolute or common: kind OTHER */
  const ebpf_section *tsec = &obj->sections[sym->section];
  return opcode == INSN_CALL ? classify_call(&x, tsec, imm) : classify_ld_imm64(&x, tsec, imm);
}

/* The maps by (section, definition offset) for find_map, and each data section's map. */
static int index_maps(classify_ctx *c) {
  ebpf_object *obj = c->obj;
  const ebpf_map *maps = (const ebpf_map *)obj->maps.items;
  c->maps = arena_array(&obj->mem, obj->maps.count, sizeof(map_key));
  c->data_map = arena_array(&obj->mem, obj->info.section_count, sizeof(int32_t));
  if ((obj->maps.count && !c->maps) || !c->data_map) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < obj->info.section_count; i++) c->data_map[i] = -1;
  for (uint32_t i = 0; i < obj->maps.count; i++) {
    if (maps[i].origin >= EBPF_MAP_DATA && maps[i].origin <= EBPF_MAP_KCONFIG && maps[i].section)
      c->data_map[maps[i].section] = (int32_t)i;
    if (!(maps[i].attrs & EBPF_MAP_INNER_TEMPLATE))
      c->maps[c->map_count++] = (map_key){maps[i].section, maps[i].def_offset, (int32_t)i};
  }
  if (sort_stable(&obj->mem, c->maps, c->map_count, sizeof(map_key), map_key_cmp))
    return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory");
  return 0;
}

/* A relocation of a data section (kind DATA_SLOT): the map whose definition holds it, the
 * program whose address it takes. */
static void classify_data_slot(classify_ctx *c, const ebpf_section *sec, ebpf_reloc *r) {
  ebpf_object *obj = c->obj;
  if (r->kind == EBPF_RELOC_OTHER) r->kind = EBPF_RELOC_DATA_SLOT;
  /* a slot of a map definition (BTF map-in-map `values`): name the map holding it */
  if (r->map < 0 && (sec->kind == EBPF_SEC_MAPS || sec->kind == EBPF_SEC_BTF_MAPS || sec->kind == EBPF_SEC_STRUCT_OPS))
    r->map = find_map_holding(c, sec->index, r->offset);
  /* a pointer to a function (struct_ops tables, callbacks): name the program */
  const ebpf_symbol *sym = &obj->symbols[r->symbol];
  if (sym->section && sym->section < SHN_LORESERVE && sym->value <= UINT32_MAX &&
      (obj->sections[sym->section].kind == EBPF_SEC_PROGRAM || obj->sections[sym->section].kind == EBPF_SEC_TEXT)) {
    r->target_program = relocs_find_program(obj, sym->section, (uint32_t)sym->value, 1);
    r->target_offset = (uint32_t)sym->value;
  }
}

/* Every relocation of section s: code relocations sorted by offset, then classified. */
static int classify_section(classify_ctx *c, uint32_t s) {
  ebpf_object *obj = c->obj;
  ebpf_reloc *raw = (ebpf_reloc *)obj->relocs.items;
  const ebpf_section *sec = &obj->sections[s];
  uint32_t first = obj->rel_first[s], n = obj->rel_count[s];
  if (!n) return 0;
  if (sec->kind != EBPF_SEC_PROGRAM && sec->kind != EBPF_SEC_TEXT) {
    for (uint32_t i = 0; i < n; i++) classify_data_slot(c, sec, &raw[first + i]);
    return 0;
  }
  if (sort_stable(&obj->mem, raw + first, n, sizeof(ebpf_reloc), reloc_offset_cmp))
    return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory");
  ebpf_buf code;
  if (object_section_buf(obj, s, &code)) return obj->err.status;
  for (uint32_t i = 0; i < n; i++)
    if (classify_code_reloc(c, sec, &code, &raw[first + i])) return obj->err.status;
  return 0;
}

/* Final order: each program's relocations (by offset), then every other one. */
static int reorder_by_program(ebpf_object *obj) {
  ebpf_reloc *raw = (ebpf_reloc *)obj->relocs.items;
  uint32_t total = obj->relocs.count;
  ebpf_reloc *out = arena_array_uninit(&obj->mem, total, sizeof(ebpf_reloc));
  if (total && !out) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for relocations");
  uint32_t n = 0;
  ebpf_program *progs = (ebpf_program *)obj->programs.items;
  for (uint32_t p = 0; p < obj->programs.count; p++) {
    ebpf_program *prog = &progs[p];
    uint32_t first = obj->rel_first[prog->section], cnt = obj->rel_count[prog->section];
    uint32_t lo = 0, hi = cnt; /* first relocation at or past the program's start */
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (raw[first + mid].offset < prog->insn_offset) lo = mid + 1;
      else hi = mid;
    }
    prog->reloc_first = n;
    for (uint32_t i = lo; i < cnt && raw[first + i].program == p; i++) out[n++] = raw[first + i];
    prog->reloc_count = n - prog->reloc_first;
  }
  for (uint32_t i = 0; i < total; i++)
    if (raw[i].program == EBPF_NONE) out[n++] = raw[i];
  obj->relocs.items = (uint8_t *)out;
  obj->relocs.count = n;
  obj->relocs.capacity = total;
  /* raw per-section ranges no longer index the reordered array */
  obj->rel_first = obj->rel_count = NULL;
  return 0;
}

int relocs_classify(ebpf_object *obj) {
  classify_ctx c = {obj, NULL, 0, NULL, 0};
  int rc;
  if ((rc = index_maps(&c))) return rc;
  for (uint32_t s = 1; s < obj->info.section_count; s++)
    if ((rc = classify_section(&c, s))) return rc;
  return reorder_by_program(obj);
}

/* ELF64 headers, section table, section names and the symbol table of an eBPF object. */
#include <string.h>

#include "elf.h"

#define EM_BPF 247
#define SHN_LORESERVE 0xff00u
#define SHN_XINDEX 0xffffu
#define SHT_NOBITS 8u
#define SHT_SYMTAB 2u
#define SHT_STRTAB 3u
#define SHT_REL 9u
#define SHT_PROGBITS 1u
#define SHF_EXECINSTR 4u
#define SHDR_SIZE 64u
#define SYM_SIZE 24u

static int name_is(const ebpf_str *s, const char *lit) {
  uint32_t n = (uint32_t)strlen(lit);
  return s->len == n && memcmp(s->ptr, lit, n) == 0;
}

static int name_has_prefix(const ebpf_str *s, const char *lit) {
  uint32_t n = (uint32_t)strlen(lit);
  return s->len >= n && memcmp(s->ptr, lit, n) == 0;
}

/* data-like section names: ".data", ".data.foo", ".data.rel.ro"... */
static int name_is_family(const ebpf_str *s, const char *base) {
  uint32_t n = (uint32_t)strlen(base);
  return name_has_prefix(s, base) && (s->len == n || s->ptr[n] == '.');
}

static uint32_t classify(const ebpf_section *s) {
  const ebpf_str *n = &s->name;
  if (s->type == SHT_SYMTAB) return EBPF_SEC_SYMTAB;
  if (s->type == SHT_STRTAB) return EBPF_SEC_STRTAB;
  if (s->type == SHT_REL) return EBPF_SEC_REL;
  if (name_has_prefix(n, ".debug") || name_has_prefix(n, ".llvm") || name_is(n, ".comment") ||
      name_has_prefix(n, ".note"))
    return EBPF_SEC_DEBUG;
  if (name_is(n, ".BTF")) return EBPF_SEC_BTF;
  if (name_is(n, ".BTF.ext")) return EBPF_SEC_BTF_EXT;
  if ((s->flags & SHF_EXECINSTR) && s->type == SHT_PROGBITS)
    return name_is(n, ".text") ? EBPF_SEC_TEXT : EBPF_SEC_PROGRAM;
  if (name_is(n, "maps")) return EBPF_SEC_MAPS;
  if (name_is(n, ".struct_ops") || name_is(n, ".struct_ops.link")) return EBPF_SEC_STRUCT_OPS;
  if (name_is(n, ".maps")) return EBPF_SEC_BTF_MAPS;
  if (name_is(n, "license")) return EBPF_SEC_LICENSE;
  if (name_is(n, "version")) return EBPF_SEC_VERSION;
  if (name_is(n, ".kconfig")) return EBPF_SEC_KCONFIG;
  if (name_is_family(n, ".rodata")) return EBPF_SEC_RODATA;
  if (name_is_family(n, ".bss")) return EBPF_SEC_BSS;
  if (name_is_family(n, ".data")) return EBPF_SEC_DATA;
  return EBPF_SEC_OTHER;
}

typedef struct {
  uint64_t start, end;
  uint32_t index; /* section index, or EBPF_NONE for the headers */
} extent;

static ebpf_str extent_name(ebpf_object *obj, const extent *e) {
  if (e->index == EBPF_NONE) return object_strf(obj, e->start == 0 ? "the ELF header" : "the section header table");
  const ebpf_str *n = &obj->sections[e->index].name;
  return object_strf(obj, "section '%.*s'", (int)n->len, n->ptr);
}

/* Sections' file ranges must lie inside the file and not overlap each other or the headers.
 * Extents are sorted by start as keys start << 32 | position (starts and positions are below
 * 2^32: the file is), then each is compared with the one before. */
static int check_overlaps(ebpf_object *obj, uint64_t shoff, uint32_t shnum) {
  extent *ext = arena_array_uninit(&obj->mem, (uint64_t)shnum + 2, sizeof(extent));
  uint64_t *order = arena_array_uninit(&obj->mem, (uint64_t)shnum + 2, sizeof(uint64_t));
  if (!ext || !order) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory");
  uint32_t n = 0;
  ext[n++] = (extent){0, 64, EBPF_NONE};
  ext[n++] = (extent){shoff, shoff + (uint64_t)shnum * SHDR_SIZE, EBPF_NONE};
  for (uint32_t i = 1; i < shnum; i++) {
    const ebpf_section *s = &obj->sections[i];
    if (s->type == SHT_NOBITS || s->size == 0) continue;
    ext[n++] = (extent){s->offset, (uint64_t)s->offset + s->size, i};
  }
  for (uint32_t i = 0; i < n; i++) order[i] = ext[i].start << 32 | i;
  if (sort_u64(&obj->mem, order, n)) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 1; i < n; i++) {
    const extent *cur = &ext[(uint32_t)order[i]], *prev = &ext[(uint32_t)order[i - 1]];
    if (cur->start < prev->end) {
      ebpf_str a = extent_name(obj, cur), b = extent_name(obj, prev);
      return err_set(&obj->err, EBPF_ERR_ELF, "%.*s (file offsets %llu..%llu) overlaps %.*s (file offsets %llu..%llu)",
                     (int)a.len, a.ptr, (unsigned long long)cur->start, (unsigned long long)cur->end, (int)b.len,
                     b.ptr, (unsigned long long)prev->start, (unsigned long long)prev->end);
    }
  }
  return 0;
}

/* e_ident: magic, ELFCLASS64, byte order (sets the big_endian flags), version. */
static int read_ident(ebpf_object *obj) {
  const ebpf_buf *f = &obj->file;
  const uint8_t *ident;
  if (buf_span(f, 0, 16, &ident))
    return err_set(&obj->err, EBPF_ERR_ELF, "not an ELF file: %u bytes is shorter than the ELF identification",
                   f->size);
  if (memcmp(ident, "\x7f" "ELF", 4) != 0)
    return err_set(&obj->err, EBPF_ERR_ELF, "not an ELF file: bad magic at offset 0");
  if (ident[4] != 2)
    return err_set(&obj->err, EBPF_ERR_ELF, "unsupported ELF class %u at offset 4: only ELFCLASS64 (2) eBPF objects",
                   ident[4]);
  if (ident[5] != 1 && ident[5] != 2)
    return err_set(&obj->err, EBPF_ERR_ELF, "bad ELF data encoding %u at offset 5 (1 little-endian, 2 big-endian)",
                   ident[5]);
  if (ident[6] != 1) return err_set(&obj->err, EBPF_ERR_ELF, "bad ELF version %u at offset 6", ident[6]);
  obj->file.big_endian = ident[5] == 2;
  obj->info.big_endian = obj->file.big_endian;
  return 0;
}

typedef struct {
  uint64_t shoff, shnum, shstrndx;
} section_table;

/* e_machine, e_shoff, e_shentsize, e_shnum, e_shstrndx (the counts possibly still escaped). */
static int read_header(ebpf_object *obj, section_table *t) {
  const ebpf_buf *f = &obj->file;
  uint16_t machine, shentsize, shnum16, shstrndx16;
  uint64_t shoff;
  if (buf_u16(f, 18, &machine) || buf_u64(f, 40, &shoff) || buf_u16(f, 58, &shentsize) ||
      buf_u16(f, 60, &shnum16) || buf_u16(f, 62, &shstrndx16))
    return err_set(&obj->err, EBPF_ERR_ELF, "truncated ELF header: file is %u bytes, the header needs 64",
                   f->size);
  if (machine != EM_BPF)
    return err_set(&obj->err, EBPF_ERR_ELF, "not an eBPF object: e_machine is %u at offset 18, expected EM_BPF (247)",
                   machine);
  if (shoff == 0) return err_set(&obj->err, EBPF_ERR_ELF, "ELF has no section header table (e_shoff is 0)");
  if (shentsize != SHDR_SIZE)
    return err_set(&obj->err, EBPF_ERR_ELF, "bad e_shentsize %u at offset 58, expected 64", shentsize);
  *t = (section_table){shoff, shnum16, shstrndx16};
  return 0;
}

/* e_shnum 0 and e_shstrndx SHN_XINDEX mean the real values are in section header 0; then the
 * table must fit in the file and the name table index lie inside it. */
static int resolve_counts(ebpf_object *obj, section_table *t) {
  const ebpf_buf *f = &obj->file;
  if (t->shnum == 0 || t->shstrndx == SHN_XINDEX) {
    uint64_t size0;
    uint32_t link0;
    if (buf_u64(f, t->shoff + 32, &size0) || buf_u32(f, t->shoff + 40, &link0))
      return err_set(&obj->err, EBPF_ERR_ELF, "section header 0 at offset %llu is outside the file (%u bytes)",
                     (unsigned long long)t->shoff, f->size);
    if (t->shnum == 0) t->shnum = size0;
    if (t->shstrndx == SHN_XINDEX) t->shstrndx = link0;
  }
  const uint8_t *table;
  if (t->shnum == 0 || buf_span(f, t->shoff, t->shnum * SHDR_SIZE, &table))
    return err_set(&obj->err, EBPF_ERR_ELF,
                   "section header table (%llu entries at offset %llu) does not fit in the file (%u bytes)",
                   (unsigned long long)t->shnum, (unsigned long long)t->shoff, f->size);
  if (t->shstrndx >= t->shnum)
    return err_set(&obj->err, EBPF_ERR_ELF, "section name table index %llu is out of range (%llu sections)",
                   (unsigned long long)t->shstrndx, (unsigned long long)t->shnum);
  return 0;
}

/* Section header i into obj->sections[i]; its name offset waits in name.len until resolve_names. */
static int read_section_header(ebpf_object *obj, uint64_t shoff, uint32_t i) {
  const ebpf_buf *f = &obj->file;
  uint64_t h = shoff + (uint64_t)i * SHDR_SIZE, off, size;
  ebpf_section *s = &obj->sections[i];
  uint32_t name_off;
  buf_u32(f, h, &name_off); /* the whole table was bounds-checked by resolve_counts */
  buf_u32(f, h + 4, &s->type);
  buf_u64(f, h + 8, &s->flags);
  buf_u64(f, h + 24, &off);
  buf_u64(f, h + 32, &size);
  buf_u32(f, h + 40, &s->link);
  buf_u32(f, h + 44, &s->info);
  buf_u64(f, h + 48, &s->addralign);
  buf_u64(f, h + 56, &s->entsize);
  s->index = i;
  s->name.len = name_off; /* resolved by resolve_names, once the name table is known */
  if (i == 0) {
    s->type = 0; /* header 0 may carry the extended counts; it is not a section */
    return 0;
  }
  if (s->type != SHT_NOBITS && (off > f->size || size > f->size - off))
    return err_set(&obj->err, EBPF_ERR_ELF,
                   "section %u: contents at offset %llu, size %llu lie outside the file (%u bytes)", i,
                   (unsigned long long)off, (unsigned long long)size, f->size);
  if (size > UINT32_MAX || off > UINT32_MAX)
    return err_set(&obj->err, EBPF_ERR_ELF, "section %u: size %llu is too large", i, (unsigned long long)size);
  s->offset = (uint32_t)off;
  s->size = (uint32_t)size;
  return 0;
}

/* Every section's name from the section name table, and its kind from the name and type. */
static int resolve_names(ebpf_object *obj, uint64_t shstrndx) {
  const ebpf_section *names = &obj->sections[shstrndx];
  ebpf_buf strs;
  if (names->type != SHT_STRTAB || buf_sub(&obj->file, names->offset, names->size, &strs))
    return err_set(&obj->err, EBPF_ERR_ELF, "section name table (section %llu) is not a string table",
                   (unsigned long long)shstrndx);
  for (uint32_t i = 1; i < obj->info.section_count; i++) {
    ebpf_section *s = &obj->sections[i];
    uint32_t off = s->name.len;
    if (buf_cstr(&strs, off, &s->name.ptr, &s->name.len))
      return err_set(&obj->err, EBPF_ERR_ELF,
                     "section %u: name offset %u is outside the section name table (%u bytes) or not terminated",
                     i, off, strs.size);
    s->kind = classify(s);
  }
  obj->sections[0].name.ptr = "";
  obj->sections[0].name.len = 0;
  return 0;
}

int elf_read_sections(ebpf_object *obj) {
  section_table t;
  int rc;
  if ((rc = read_ident(obj)) || (rc = read_header(obj, &t)) || (rc = resolve_counts(obj, &t))) return rc;
  obj->sections = arena_array(&obj->mem, t.shnum, sizeof(ebpf_section));
  if (!obj->sections) return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for %llu sections",
                                     (unsigned long long)t.shnum);
  obj->info.section_count = (uint32_t)t.shnum;
  for (uint32_t i = 0; i < t.shnum; i++)
    if ((rc = read_section_header(obj, t.shoff, i))) return rc;
  if ((rc = resolve_names(obj, t.shstrndx))) return rc;
  return check_overlaps(obj, t.shoff, (uint32_t)t.shnum);
}

/* Symbols sorted by (section, value, index) give per-section address lookups in O(log n). */
static int sym_key_cmp(const void *a, const void *b) {
  const sym_key *x = a, *y = b;
  if (x->section != y->section) return x->section < y->section ? -1 : 1;
  if (x->value != y->value) return x->value < y->value ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Fills obj->sym_by_addr in (section, value, index) order: symbols are first counted into place by
 * section (a stable pass, so each section's run keeps index order; the reserved indexes SHN_ABS,
 * SHN_COMMON, ... share the last run), then each run is sorted, which for clang's output usually
 * means finding it already in order. */
static int sort_symbols(ebpf_object *obj) {
  uint32_t count = obj->info.symbol_count, buckets = obj->info.section_count + 1;
  uint32_t *start = arena_array(&obj->mem, (uint64_t)buckets + 1, sizeof(uint32_t));
  if (!start) return -1;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t sec = obj->symbols[i].section;
    start[(sec < buckets - 1 ? sec : buckets - 1) + 1]++;
  }
  for (uint32_t b = 0; b < buckets; b++) start[b + 1] += start[b];
  for (uint32_t i = 0; i < count; i++) {
    const ebpf_symbol *sym = &obj->symbols[i];
    uint32_t b = sym->section < buckets - 1 ? sym->section : buckets - 1;
    obj->sym_by_addr[start[b]++] = (sym_key){sym->value, sym->section, i};
  }
  /* start[b] is now where bucket b ends */
  for (uint32_t b = 0, first = 0; b < buckets; first = start[b++]) {
    if (start[b] - first > 1 &&
        sort_stable(&obj->mem, obj->sym_by_addr + first, start[b] - first, sizeof(sym_key), sym_key_cmp))
      return -1;
  }
  return 0;
}

/* The one SHT_SYMTAB section's index (0 when there is none); more than one is an error. */
static int find_symtab(ebpf_object *obj, uint32_t *symtab) {
  *symtab = 0;
  for (uint32_t i = 1; i < obj->info.section_count; i++) {
    if (obj->sections[i].type != SHT_SYMTAB) continue;
    if (*symtab)
      return err_set(&obj->err, EBPF_ERR_ELF, "more than one symbol table (sections %u and %u)", *symtab, i);
    *symtab = i;
  }
  return 0;
}

/* The symbol table's entry size, size and string table link. */
static int check_symtab(ebpf_object *obj, const ebpf_section *st) {
  if (st->entsize != SYM_SIZE)
    return err_set(&obj->err, EBPF_ERR_ELF, "symbol table '%.*s': entry size %llu, expected 24",
                   (int)st->name.len, st->name.ptr, (unsigned long long)st->entsize);
  if (st->size % SYM_SIZE)
    return err_set(&obj->err, EBPF_ERR_ELF, "symbol table '%.*s': size %u is not a multiple of 24",
                   (int)st->name.len, st->name.ptr, st->size);
  if (st->link == 0 || st->link >= obj->info.section_count || obj->sections[st->link].type != SHT_STRTAB)
    return err_set(&obj->err, EBPF_ERR_ELF, "symbol table '%.*s': string table index %u is not a string table",
                   (int)st->name.len, st->name.ptr, st->link);
  return 0;
}

/* Symbol i of `syms` (names in `strs`, the string table section `ss`) into obj->symbols[i]. */
static int read_symbol(ebpf_object *obj, const ebpf_buf *syms, const ebpf_buf *strs, const ebpf_section *ss,
                       uint32_t i) {
  uint64_t at = (uint64_t)i * SYM_SIZE;
  ebpf_symbol *sym = &obj->symbols[i];
  uint32_t name_off;
  uint8_t info, other;
  uint16_t shndx;
  buf_u32(syms, at, &name_off);
  buf_u8(syms, at + 4, &info);
  buf_u8(syms, at + 5, &other);
  buf_u16(syms, at + 6, &shndx);
  buf_u64(syms, at + 8, &sym->value);
  buf_u64(syms, at + 16, &sym->size);
  sym->index = i;
  sym->reserved0 = 0;
  sym->reserved1 = 0;
  sym->type = info & 0xf;
  sym->bind = info >> 4;
  sym->visibility = other & 3;
  sym->section = shndx;
  if (buf_cstr(strs, name_off, &sym->name.ptr, &sym->name.len))
    return err_set(&obj->err, EBPF_ERR_ELF,
                   "symbol %u: name offset %u is outside the string table '%.*s' (%u bytes) or not terminated",
                   i, name_off, (int)ss->name.len, ss->name.ptr, strs->size);
  if (shndx == SHN_XINDEX)
    return err_set(&obj->err, EBPF_ERR_UNSUPPORTED, "symbol %u '%.*s': extended section indexes (SHN_XINDEX)",
                   i, (int)sym->name.len, sym->name.ptr);
  if (shndx < SHN_LORESERVE && shndx >= obj->info.section_count)
    return err_set(&obj->err, EBPF_ERR_ELF, "symbol %u '%.*s': section index %u is out of range (%u sections)",
                   i, (int)sym->name.len, sym->name.ptr, shndx, obj->info.section_count);
  /* section symbols have no name of their own: give them their section's */
  if (sym->type == 3 /* STT_SECTION */ && sym->name.len == 0 && shndx && shndx < SHN_LORESERVE)
    sym->name = obj->sections[shndx].name;
  return 0;
}

int elf_read_symbols(ebpf_object *obj) {
  uint32_t symtab;
  int rc;
  if ((rc = find_symtab(obj, &symtab))) return rc;
  if (!symtab) return 0; /* an object with no symbols: sections only */
  const ebpf_section *st = &obj->sections[symtab];
  if ((rc = check_symtab(obj, st))) return rc;
  const ebpf_section *ss = &obj->sections[st->link];
  ebpf_buf syms, strs;
  buf_sub(&obj->file, st->offset, st->size, &syms); /* both checked by elf_read_sections */
  buf_sub(&obj->file, ss->offset, ss->size, &strs);
  obj->symtab_index = symtab;
  obj->strtab_index = st->link;

  uint32_t count = st->size / SYM_SIZE;
  obj->symbols = arena_array_uninit(&obj->mem, count, sizeof(ebpf_symbol));
  obj->sym_by_addr = arena_array_uninit(&obj->mem, count, sizeof(sym_key));
  if (count && (!obj->symbols || !obj->sym_by_addr))
    return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for %u symbols", count);
  obj->info.symbol_count = count;
  for (uint32_t i = 0; i < count; i++)
    if ((rc = read_symbol(obj, &syms, &strs, ss, i))) return rc;
  obj->sym_by_addr_count = count;
  if (sort_symbols(obj))
    return err_set(&obj->err, EBPF_ERR_NOMEM, "out of memory for %u symbols", count);
  return 0;
}

void elf_section_symbols(const ebpf_object *obj, uint32_t section, uint32_t *first, uint32_t *end) {
  uint32_t lo = 0, hi = obj->sym_by_addr_count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (obj->sym_by_addr[mid].section < section) lo = mid + 1;
    else hi = mid;
  }
  *first = lo;
  hi = obj->sym_by_addr_count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (obj->sym_by_addr[mid].section <= section) lo = mid + 1;
    else hi = mid;
  }
  *end = lo;
}

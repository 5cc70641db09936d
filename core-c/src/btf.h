/* The BTF module's internal API (btf.c, btf_ext.c, btf_render.c, maps_btf_defined.c): parsing .BTF and
 * .BTF.ext into the records of ebpf_core_btf.h, type lookups, size resolution, BTF-defined maps,
 * and rendering types as C. The object hooks (btf_object_parse, btf_object_maps) are in object.h. */
#ifndef EBPF_CORE_BTF_H_INTERNAL
#define EBPF_CORE_BTF_H_INTERNAL

#include "ebpf_core.h"
#include "internal.h"

/* Resolution chains (typedef -> const -> array -> ...) longer than this are reported as errors:
 * deeper chains do not occur in compiler output, and the bound keeps malformed input from looping. */
#define BTF_MAX_CHAIN 32

/* A parsed .BTF (and optionally .BTF.ext). info is first so a btf * is an ebpf_btf_info *. */
typedef struct btf {
  struct ebpf_btf_info info; /* the exported view: types, members, .BTF.ext records */
  arena *mem;                /* where records and renderings are allocated (the object's arena) */
  ebpf_error *err;           /* where errors are reported */
  ebpf_buf strings;          /* the string section */
  ebpf_buf raw;              /* the whole .BTF section */
  uint32_t types_start;      /* offset of the type section in raw */
  uint32_t *type_offsets;    /* id -> offset of its btf_type in the type section (id 0 unused) */
  struct btf_name_index *by_name; /* built by the first btf_find (vmlinux: ~126k types), else NULL */
  uint32_t rendered_bytes;   /* C text btf_render has kept for this BTF (bounded by MAX_BTF_BYTES) */
  arena_vec flavored_vec;    /* uint32_t: ids whose name has a ___flavor suffix, ascending (with by_name) */
  int flavored_oom;
  uint32_t linear_finds;     /* btf_find calls answered without the name index */
  uint32_t linear_scans;     /* CO-RE candidate searches answered without the name index */
  uint16_t *heads;           /* per own type: the first two bytes of its name (built by the first scan) */
  ebpf_buf type_sec;         /* the type section */
  /* split BTF (a kernel module's): its ids follow its base's, its strings continue the base's */
  const struct btf *base;
  uint32_t start_id;         /* the first id of its own (0 without a base) */
  uint32_t start_str;        /* the first string offset of its own (0 without a base) */
  /* lazy BTF (btf_parse_lazy): records decoded on first access through btf_type_by_id */
  int lazy;
  uint8_t *ready;            /* per id: 0 not decoded, 1 decoded, 2 malformed */
  uint32_t *name_offs;       /* per id: its name's offset in the string section */
  uint32_t *member_first;    /* per id: where its members go in member_records */
  ebpf_btf_member *member_records;
} btf;

/* Parses a .BTF section (either endianness, detected from the magic). On failure returns an
 * ebpf_status with err set ("BTF: ..."), *out untouched. Records live in mem. */
int btf_parse(arena *mem, const ebpf_buf *section, ebpf_error *err, btf **out);

/* The same, lazily: one pass finds where each type starts; a type's record (and its members) is
 * decoded and checked on its first btf_type_by_id, which returns NULL for a malformed one. For the
 * kernel's BTF, of which a load needs a few types out of ~126k. Reference loops are not looked for:
 * every walk over lazy types is bounded. */
int btf_parse_lazy(arena *mem, const ebpf_buf *section, ebpf_error *err, btf **out);
/* A kernel module's split BTF on top of base (the kernel's, which must outlive it), lazily: ids from
 * base's type count on, string offsets from base's string size on; base's ids resolve in base. */
int btf_parse_lazy_split(arena *mem, const ebpf_buf *section, const struct btf *base, ebpf_error *err, btf **out);
/* The name of type id without decoding it (lazy BTF); empty for a bad id or offset. */
ebpf_str btf_name_of(const btf *b, uint32_t id);
/* Length of name without its ___flavor suffix (the last "X___Y", X and Y not '_'), as libbpf's
 * bpf_core_essential_name_len. */
uint32_t btf_essential_len(ebpf_str name);
/* Calls fn(ctx, id) for each of b's own types whose essential name is name (len bytes), ascending,
 * going through the types one by one (libbpf's candidate search); returns how many. */
uint32_t btf_scan_essential(btf *b, const char *name, uint32_t len, void (*fn)(void *, uint32_t), void *ctx);
/* The ids whose names carry a ___flavor suffix, ascending (built with the name index); NULL when
 * out of memory. */
const uint32_t *btf_flavored(btf *b, uint32_t *count);

/* Parses a .BTF.ext section against b (strings and type ids come from .BTF). section_index_of
 * maps a section name to its ELF index (EBPF_NONE when unknown); ctx is passed through. */
typedef uint32_t (*btf_section_lookup)(void *ctx, const char *name, uint32_t len);
int btf_ext_parse(btf *b, const ebpf_buf *section, btf_section_lookup section_index_of, void *ctx);

/* The record of type id, or NULL when id is out of range (id 0 is void, kind 0). */
const ebpf_btf_type *btf_type_by_id(const btf *b, uint32_t id);
/* Members (struct/union), parameters (func_proto), enumerators (enum/enum64) or variables
 * (datasec) of t: t->vlen records. */
const ebpf_btf_member *btf_members(const btf *b, const ebpf_btf_type *t);

/* Follows typedef/const/volatile/restrict/type_tag from id; returns the first other type id. */
uint32_t btf_skip_mods_typedefs(const btf *b, uint32_t id);
/* Size in bytes of type id (arrays multiply, pointers are 8); -1 with err set when the type has
 * no size (void, func, fwd), a reference is bad, a chain loops or the size overflows. */
int btf_resolve_size(const btf *b, uint32_t id, uint64_t *size);
/* First type with this name and kind (linear), or 0. */
uint32_t btf_find_by_name_kind(const btf *b, const char *name, uint32_t kind);
/* The same through a name index built on the first call (for large BTF searched many times, the
 * kernel's): the lowest id with this name and kind, 0 when none, EBPF_NONE when out of memory. */
uint32_t btf_find(btf *b, const char *name, uint32_t len, uint32_t kind);
/* The lowest id named exactly name (any kind), 0 when none, EBPF_NONE when out of memory; then
 * btf_next_named gives the next higher id of the same name (0 at the end), through the same index. */
uint32_t btf_find_named(btf *b, const char *name, uint32_t len);
uint32_t btf_next_named(const btf *b, uint32_t id);
/* The DATASEC named name, or NULL. Its variables are btf_members(): type = VAR id, offset, size. */
const ebpf_btf_type *btf_find_datasec(const btf *b, const char *name);

/* Decodes the BTF-defined maps of the ".maps" DATASEC into obj's map records (origin
 * EBPF_MAP_BTF) the way libbpf's parse_btf_map_def does (strict: unknown members are errors
 * naming map and member). The inner map of a map-in-map gets its own record, named
 * "<outer>.inner", flagged EBPF_MAP_INNER_TEMPLATE, and referenced by the outer's inner_map.
 * section: ELF index of ".maps". */
struct ebpf_object;
int btf_decode_maps(btf *b, struct ebpf_object *obj, uint32_t section);

/* C-like text of type id (a definition for struct/union/enum/typedef/func/var, a type
 * expression otherwise), allocated in b->mem. -1 with err set on a bad id or a nesting loop. */
int btf_render(btf *b, uint32_t id, ebpf_str *out);

/* A hash index of names (ELF sections, .BTF.ext sections): slots hold index + 1, 0 when empty.
 * key(ctx, index) gives the name of an indexed item. Sized once for at most `capacity` items. */
typedef struct {
  uint32_t *slots; /* pairs: index + 1 (0 when empty), the hash of its name */
  uint32_t mask;
  ebpf_str (*key)(const void *ctx, uint32_t index);
  const void *ctx;
} name_table;
int name_table_init(arena *mem, name_table *t, uint32_t capacity, ebpf_str (*key)(const void *, uint32_t), const void *ctx);
/* The index of the item named name, or EBPF_NONE. */
uint32_t name_table_find(const name_table *t, const char *name, uint32_t len);
/* Adds item index (its name given by key()); the caller stays within capacity. */
void name_table_add(name_table *t, uint32_t index);

/* The .BTF as BPF_BTF_LOAD takes it, copied into b->mem: each DATASEC's size and its variables'
 * offsets (which compilers leave 0 in objects) filled in from the ELF section of that name and the
 * variables' symbols, as libbpf does. Extern VARs become global (the loader allocates them) and a
 * DATASEC with no ELF section (.kconfig externs) is laid out in order, each variable naturally
 * aligned: the loader must use these offsets. */
int btf_kernel_blob(btf *b, const struct ebpf_object *obj, ebpf_str *out);

/* "int", "struct", ... for a kind; "unknown" otherwise. */
const char *btf_kind_name(uint32_t kind);

#endif

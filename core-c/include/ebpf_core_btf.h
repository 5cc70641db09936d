/* ebpf_core_btf.h — the BTF part of the core's ABI (included by ebpf_core.h).
 * Same conventions: wasm32 layouts pinned by EBPF_WASM_LAYOUT, strings are ebpf_str. */
#ifndef EBPF_CORE_BTF_H
#define EBPF_CORE_BTF_H

#include <stdint.h>

enum ebpf_btf_kind {
  EBPF_BTF_VOID = 0, EBPF_BTF_INT = 1, EBPF_BTF_PTR = 2, EBPF_BTF_ARRAY = 3, EBPF_BTF_STRUCT = 4,
  EBPF_BTF_UNION = 5, EBPF_BTF_ENUM = 6, EBPF_BTF_FWD = 7, EBPF_BTF_TYPEDEF = 8, EBPF_BTF_VOLATILE = 9,
  EBPF_BTF_CONST = 10, EBPF_BTF_RESTRICT = 11, EBPF_BTF_FUNC = 12, EBPF_BTF_FUNC_PROTO = 13,
  EBPF_BTF_VAR = 14, EBPF_BTF_DATASEC = 15, EBPF_BTF_FLOAT = 16, EBPF_BTF_DECL_TAG = 17,
  EBPF_BTF_TYPE_TAG = 18, EBPF_BTF_ENUM64 = 19,
};

/* One per type id (index = id; id 0 is void). wasm32 layout:
 *  0 name  8 kind  12 kind_flag  16 vlen  20 size (int, float, struct, union, enum, enum64,
 *  datasec)  24 type (ptr, typedef, volatile, const, restrict, type_tag, func, var, decl_tag:
 *  the referenced type; func_proto: the return type; array: the element type)
 * 28 extra (int: the encoding word, bits 0-7 size in bits, 16-23 bit offset, 24-27 encoding
 *  1 signed 2 char 4 bool; array: index type; var: linkage; func: linkage (= vlen);
 *  decl_tag: component index, -1 for the type itself)  32 nelems (array)
 * 36 first_member (index into ebpf_btf_info.members of the vlen members/params/enumerators/
 *  datasec variables) */
typedef struct {
  ebpf_str name;
  uint32_t kind;
  uint32_t kind_flag;
  uint32_t vlen;
  uint32_t size;
  uint32_t type;
  uint32_t extra;
  uint32_t nelems;
  uint32_t first_member;
} ebpf_btf_type;
EBPF_WASM_LAYOUT(ebpf_btf_type, 40);

/* wasm32 layout: 0 name (empty for datasec entries)  8 type (member, param, datasec VAR id;
 * 0 for enumerators)  12 offset (struct/union: bit offset; datasec: byte offset)
 * 16 bitfield_size (struct/union with kind_flag; datasec: the variable's size)  20 reserved
 * 24 value (u64; enum: sign-extended when the enum is signed (kind_flag); enum64: the value) */
typedef struct {
  ebpf_str name;
  uint32_t type;
  uint32_t offset;
  uint32_t bitfield_size;
  uint32_t reserved;
  uint64_t value;
} ebpf_btf_member;
EBPF_WASM_LAYOUT(ebpf_btf_member, 32);

/* .BTF.ext: offsets are byte offsets of an instruction within its ELF section. */
typedef struct { /* 0 insn_off  4 type_id (a FUNC) */
  uint32_t insn_off;
  uint32_t type_id;
} ebpf_btf_func_info;
EBPF_WASM_LAYOUT(ebpf_btf_func_info, 8);

typedef struct { /* 0 insn_off  4 file  12 line (source text)  20 line_num  24 column */
  uint32_t insn_off;
  ebpf_str file;
  ebpf_str line;
  uint32_t line_num;
  uint32_t column;
} ebpf_btf_line_info;
EBPF_WASM_LAYOUT(ebpf_btf_line_info, 28);

enum ebpf_core_relo_kind {
  EBPF_CORE_FIELD_BYTE_OFFSET = 0, EBPF_CORE_FIELD_BYTE_SIZE = 1, EBPF_CORE_FIELD_EXISTS = 2,
  EBPF_CORE_FIELD_SIGNED = 3, EBPF_CORE_FIELD_LSHIFT_U64 = 4, EBPF_CORE_FIELD_RSHIFT_U64 = 5,
  EBPF_CORE_TYPE_ID_LOCAL = 6, EBPF_CORE_TYPE_ID_TARGET = 7, EBPF_CORE_TYPE_EXISTS = 8,
  EBPF_CORE_TYPE_SIZE = 9, EBPF_CORE_ENUMVAL_EXISTS = 10, EBPF_CORE_ENUMVAL_VALUE = 11,
  EBPF_CORE_TYPE_MATCHES = 12,
};

typedef struct { /* 0 insn_off  4 type_id  8 access ("0:1:2")  16 kind (ebpf_core_relo_kind) */
  uint32_t insn_off;
  uint32_t type_id;
  ebpf_str access;
  uint32_t kind;
} ebpf_btf_core_relo;
EBPF_WASM_LAYOUT(ebpf_btf_core_relo, 20);

/* The .BTF.ext records of one ELF section: [first, first + count) of each array of the info.
 * wasm32 layout: 0 name  8 section (ELF index, EBPF_NONE when no code section has this name)
 * 12 func_first  16 func_count  20 line_first  24 line_count  28 core_first  32 core_count */
typedef struct {
  ebpf_str name;
  uint32_t section;
  uint32_t func_first;
  uint32_t func_count;
  uint32_t line_first;
  uint32_t line_count;
  uint32_t core_first;
  uint32_t core_count;
} ebpf_btf_ext_section;
EBPF_WASM_LAYOUT(ebpf_btf_ext_section, 36);

/* wasm32 layout:
 *  0 big_endian  4 type_count (ids 0 .. type_count-1, 0 being void)  8 string_size
 * 12 types  16 members  20 member_count  24 has_ext  28 ext_sections  32 ext_section_count
 * 36 func_infos  40 func_info_count  44 line_infos  48 line_info_count  52 core_relos
 * 56 core_relo_count  60 strings (the string section: a name's offset in it, as the kernel's
 * func/line info and CO-RE records want, is its ebpf_str.ptr - strings) */
struct ebpf_btf_info {
  uint32_t big_endian;
  uint32_t type_count;
  uint32_t string_size;
  const ebpf_btf_type *types;
  const ebpf_btf_member *members;
  uint32_t member_count;
  uint32_t has_ext;
  const ebpf_btf_ext_section *ext_sections;
  uint32_t ext_section_count;
  const ebpf_btf_func_info *func_infos;
  uint32_t func_info_count;
  const ebpf_btf_line_info *line_infos;
  uint32_t line_info_count;
  const ebpf_btf_core_relo *core_relos;
  uint32_t core_relo_count;
  const char *strings;
};
EBPF_WASM_LAYOUT(struct ebpf_btf_info, 64);

/* C-like text of a type of an open object's BTF (info = ebpf_object_info.btf). Returns a
 * pointer to an ebpf_str valid until the object is closed; NULL for a bad id or when the type
 * cannot be rendered (a nesting loop), or out of memory. */
EBPF_EXPORT(ebpf_btf_render) const ebpf_str *ebpf_btf_render(const struct ebpf_btf_info *info, uint32_t type_id);

/* Why the last failed call on this BTF failed (ebpf_btf_render's NULL): the enum ebpf_status, and
 * the NUL-terminated message naming the type and, for EBPF_ERR_LIMIT, the limit (rendering is bounded
 * in bytes: per type and per BTF). Valid until the next call on the object. */
EBPF_EXPORT(ebpf_btf_error_status) uint32_t ebpf_btf_error_status(const struct ebpf_btf_info *info);
EBPF_EXPORT(ebpf_btf_error_message) const char *ebpf_btf_error_message(const struct ebpf_btf_info *info);

/* The object's .BTF ready for BPF_BTF_LOAD (same byte order as the object): a copy in which each
 * DATASEC's size and its variables' offsets, left 0 by compilers, are taken from the ELF section of
 * that name and the variables' symbols, as libbpf does; extern VARs made global and a DATASEC without
 * an ELF section (.kconfig externs) laid out in order, naturally aligned. Valid until the object is closed; NULL
 * when the object has no BTF or failed to open, or when out of memory. */
EBPF_EXPORT(ebpf_btf_kernel_blob) const ebpf_str *ebpf_btf_kernel_blob(ebpf_object *obj);

/* A .BTF (and optional .BTF.ext, ext_size 0 for none) on its own, without an ELF: for tests and
 * the fuzzer. Returns NULL only when out of memory; read status/message, then btf (NULL on
 * failure). Sections named in .BTF.ext get section EBPF_NONE. */
typedef struct { /* 0 status  4 message  12 btf */
  uint32_t status;
  ebpf_str message;
  const struct ebpf_btf_info *btf;
} ebpf_btf_open_result;
EBPF_WASM_LAYOUT(ebpf_btf_open_result, 16);
EBPF_EXPORT(ebpf_btf_open) ebpf_btf_open_result *ebpf_btf_open(const uint8_t *data, uint32_t size,
                                                               const uint8_t *ext, uint32_t ext_size);
EBPF_EXPORT(ebpf_btf_close) void ebpf_btf_close(ebpf_btf_open_result *result);

/* A large .BTF (the kernel's vmlinux, ~126k types) opened for lookups: one pass finds where each type
 * starts; a type is decoded and checked the first time it is asked for. Its info's `types` and
 * `members` arrays hold only the types decoded so far: read a type with ebpf_btf_type_at (its
 * members then follow it in `members`). The caller's bytes must outlive it; close with
 * ebpf_btf_close. Searches (ebpf_btf_find), CO-RE (ebpf_object_core_relocate) and
 * ebpf_ksym_compatible take it as they take any BTF. */
EBPF_EXPORT(ebpf_btf_open_lazy) ebpf_btf_open_result *ebpf_btf_open_lazy(const uint8_t *data, uint32_t size);
/* A kernel module's BTF (/sys/kernel/btf/<module>: split BTF) on top of base (the kernel's, opened
 * with ebpf_btf_open_lazy, which must outlive it), lazily: its ids follow base's, its string offsets
 * continue base's; base's ids are resolved in base. Searches look at the module's own types only. */
EBPF_EXPORT(ebpf_btf_open_split)
ebpf_btf_open_result *ebpf_btf_open_split(const struct ebpf_btf_info *base, const uint8_t *data, uint32_t size);
/* The record of type_id (decoded now if the BTF is lazy); NULL for a bad id or a malformed type. */
EBPF_EXPORT(ebpf_btf_type_at) const ebpf_btf_type *ebpf_btf_type_at(const struct ebpf_btf_info *info, uint32_t type_id);

/* The lowest type id with this name (len bytes, no NUL needed) and kind (ebpf_btf_kind) in a BTF
 * (an open object's or ebpf_btf_open's), 0 when there is none, EBPF_NONE when out of memory. The
 * first call builds a name index (kept until the BTF is closed), so the kernel's BTF (~126k types)
 * is searched by hash: for attach targets, kfuncs and __ksym variables. */
EBPF_EXPORT(ebpf_btf_find) uint32_t ebpf_btf_find(const struct ebpf_btf_info *info, const char *name, uint32_t len, uint32_t kind);

#endif

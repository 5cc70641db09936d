/* ebpf_core.h — the whole ABI of the WASM core (wasm/ebpf_core.wasm).
 *
 * Conventions
 * - wasm32: pointers and size_t are 32-bit; every record below is a fixed-layout struct of
 *   uint32_t/uint64_t fields whose size is pinned by a static assert, so TypeScript reads it with a
 *   DataView at documented offsets. Keep fields naturally aligned and padded explicitly.
 * - Strings are ebpf_str {ptr, len}: an address in WASM memory (usually inside the caller's
 *   input bytes, which stay in WASM memory while the object is open) and a length in bytes, UTF-8,
 *   not NUL-terminated.
 * - Every exported function that can fail returns an enum ebpf_status; objects carry their own
 *   error message (no global error state). Malformed input is an error, never a trap.
 */
#ifndef EBPF_CORE_H
#define EBPF_CORE_H

#include <stdint.h>

#if defined(__wasm__)
#define EBPF_EXPORT(name) __attribute__((export_name(#name), visibility("default")))
#else
#define EBPF_EXPORT(name) __attribute__((visibility("default")))
#endif

#define EBPF_ABI_VERSION 1

enum ebpf_status {
  EBPF_OK = 0,
  EBPF_ERR_ELF = 1,         /* malformed or unsupported ELF */
  EBPF_ERR_BTF = 2,         /* malformed BTF or BTF.ext */
  EBPF_ERR_MAP = 3,         /* a map definition that cannot be decoded */
  EBPF_ERR_RELOC = 4,       /* a relocation that cannot be applied */
  EBPF_ERR_NOMEM = 5,       /* out of WASM memory */
  EBPF_ERR_ARG = 6,         /* bad argument from the caller (index out of range, ...) */
  EBPF_ERR_UNSUPPORTED = 7, /* valid input the core does not handle yet; the message says what */
  EBPF_ERR_LIMIT = 8,       /* input past a resource limit (rendered text, memory); the message names it */
};

typedef struct {
  const char *ptr; /* 32-bit on wasm32; a real pointer in native builds (fuzzing) */
  uint32_t len;
} ebpf_str;

/* Record sizes are pinned for wasm32 only: native builds (the fuzzer) have 8-byte pointers. */
#if defined(__wasm32__)
#define EBPF_WASM_LAYOUT(type, size) _Static_assert(sizeof(type) == (size), #type " layout")
#else
#define EBPF_WASM_LAYOUT(type, size) _Static_assert(1, "")
#endif

#define EBPF_NONE 0xffffffffu /* "no such index" in u32 index fields */

/* Memory for the caller's buffers (input bytes, output arrays). */
EBPF_EXPORT(ebpf_alloc) void *ebpf_alloc(uint32_t size);
EBPF_EXPORT(ebpf_free) void ebpf_free(void *ptr);
EBPF_EXPORT(ebpf_abi_version) uint32_t ebpf_abi_version(void);

/* ---- objects ------------------------------------------------------------------------------
 * ebpf_object_open() parses an ELF held in WASM memory (data stays owned by the caller and must
 * outlive the object). It returns NULL only when out of memory; otherwise read
 * ebpf_object_get_info() — status and message first. ebpf_object_close() frees everything it made.
 * The records' layout is defined below (the ELF part) and in ebpf_core_btf.h (the BTF part).
 */
typedef struct ebpf_object ebpf_object;

EBPF_EXPORT(ebpf_object_open) ebpf_object *ebpf_object_open(const uint8_t *data, uint32_t size);
EBPF_EXPORT(ebpf_object_close) void ebpf_object_close(ebpf_object *obj);


/* The object's description, valid until ebpf_object_close(). NULL only for a NULL object. */
typedef struct ebpf_object_info ebpf_object_info;
EBPF_EXPORT(ebpf_object_get_info) const ebpf_object_info *ebpf_object_get_info(const ebpf_object *obj);

/* ---- sections ---- */
enum ebpf_section_kind {
  EBPF_SEC_OTHER = 0,
  EBPF_SEC_PROGRAM = 1,  /* SHF_EXECINSTR with a known or unknown program section name */
  EBPF_SEC_TEXT = 2,     /* .text: subprograms only */
  EBPF_SEC_MAPS = 3,     /* legacy "maps" */
  EBPF_SEC_BTF_MAPS = 4, /* ".maps" */
  EBPF_SEC_DATA = 5,     /* .data* */
  EBPF_SEC_RODATA = 6,   /* .rodata* */
  EBPF_SEC_BSS = 7,      /* .bss* */
  EBPF_SEC_KCONFIG = 8,  /* .kconfig */
  EBPF_SEC_LICENSE = 9,
  EBPF_SEC_VERSION = 10,
  EBPF_SEC_BTF = 11,
  EBPF_SEC_BTF_EXT = 12,
  EBPF_SEC_SYMTAB = 13,
  EBPF_SEC_STRTAB = 14,
  EBPF_SEC_REL = 15,
  EBPF_SEC_DEBUG = 16,   /* .debug_*, .llvm_addrsig and other tool sections */
  EBPF_SEC_STRUCT_OPS = 17, /* .struct_ops, .struct_ops.link: kernel operation tables */
};

/* wasm32 layout (byte offsets):
 *  0 name  8 index  12 type(sh_type)  16 flags(u64)  24 addralign(u64)  32 entsize(u64)
 * 40 offset(file)  44 size  48 link  52 info  56 kind  60 rel_section (SHT_REL section that
 * relocates this one, or 0). Contents of non-NOBITS sections: input data + offset. */
typedef struct {
  ebpf_str name;
  uint32_t index;
  uint32_t type;
  uint64_t flags;
  uint64_t addralign;
  uint64_t entsize;
  uint32_t offset;
  uint32_t size;
  uint32_t link;
  uint32_t info;
  uint32_t kind;
  uint32_t rel_section;
} ebpf_section;
EBPF_WASM_LAYOUT(ebpf_section, 64);

/* ---- symbols (the whole .symtab, in order; index 0 is the null symbol) ----
 *  0 name  8 index  12 section(st_shndx)  16 value(u64)  24 size(u64)
 * 32 type(u8 STT_*)  33 bind(u8 STB_*)  34 visibility(u8)  35 reserved(u8)  36 reserved(u32) */
typedef struct {
  ebpf_str name;
  uint32_t index;
  uint32_t section;
  uint64_t value;
  uint64_t size;
  uint8_t type;
  uint8_t bind;
  uint8_t visibility;
  uint8_t reserved0;
  uint32_t reserved1;
} ebpf_symbol;
EBPF_WASM_LAYOUT(ebpf_symbol, 40);

/* ---- programs and subprograms ---- */
enum ebpf_program_flag {
  EBPF_PROG_SUBPROG = 1u << 0,       /* a function in .text (callable, not loadable alone) */
  EBPF_PROG_GLOBAL = 1u << 1,        /* STB_GLOBAL symbol */
  EBPF_PROG_UNKNOWN_SEC = 1u << 2,   /* section name matched no known pattern: type 0 */
  EBPF_PROG_RETPROBE = 1u << 3,      /* kretprobe/uretprobe/kretsyscall */
  EBPF_PROG_NO_SYMBOL = 1u << 4,     /* code without a function symbol, named after its section */
  EBPF_PROG_NEEDS_TARGET = 1u << 5,  /* attach needs a BTF target (fentry/fexit/lsm/iter/tp_btf/...) */
  EBPF_PROG_HAS_ATTACH_TYPE = 1u << 6, /* expected_attach_type is meaningful (it may be 0) */
  EBPF_PROG_NO_AUTOLOAD = 1u << 7,   /* SEC("?name"): libbpf does not load it unless asked */
};

/* wasm32 layout:
 *  0 name  8 section_name  16 attach_target (the part of the section name after the matched
 *  prefix, e.g. "syscalls/sys_enter_open" or "tcp_v4_connect"; len 0 when none)
 * 24 section(index)  28 symbol(index or EBPF_NONE)  32 insn_offset (bytes, in section)
 * 36 insn_count  40 prog_type (enum bpf_prog_type)  44 expected_attach_type (enum bpf_attach_type)
 * 48 flags (ebpf_program_flag)  52 reloc_first  56 reloc_count (this program's relocations are
 * relocs[reloc_first .. +reloc_count), sorted by offset)  60 insns_offset (file offset of the first
 * instruction: instructions are input data + insns_offset, insn_count * 8 bytes, object endianness)
 * 64 sec_def (the matched section pattern, e.g. "kretprobe/", "xdp.frags", "socket_filter")
 * 72 load_flags (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS for BPF_PROG_LOAD)  76 reserved */
typedef struct {
  ebpf_str name;
  ebpf_str section_name;
  ebpf_str attach_target;
  uint32_t section;
  uint32_t symbol;
  uint32_t insn_offset;
  uint32_t insn_count;
  uint32_t prog_type;
  uint32_t expected_attach_type;
  uint32_t flags;
  uint32_t reloc_first;
  uint32_t reloc_count;
  uint32_t insns_offset;
  ebpf_str sec_def;
  uint32_t load_flags;
  uint32_t reserved;
} ebpf_program;
EBPF_WASM_LAYOUT(ebpf_program, 80);

/* ---- maps: legacy "maps", BTF ".maps", and the global-data maps a loader creates ---- */
enum ebpf_map_origin {
  EBPF_MAP_LEGACY = 0,  /* struct bpf_map_def in "maps" (goebpf layout or older libbpf layouts) */
  EBPF_MAP_BTF = 1,     /* BTF-defined, in ".maps" (decoded by the BTF module) */
  EBPF_MAP_DATA = 2,    /* .data* */
  EBPF_MAP_RODATA = 3,  /* .rodata* */
  EBPF_MAP_BSS = 4,     /* .bss* */
  EBPF_MAP_KCONFIG = 5, /* .kconfig: the extern __kconfig variables, laid out as libbpf does */
  EBPF_MAP_STRUCT_OPS = 6, /* a variable of .struct_ops(.link): BPF_MAP_TYPE_STRUCT_OPS */
};

enum ebpf_map_attr {
  EBPF_MAP_INNER_TEMPLATE = 1u << 0, /* only describes the inner maps of a map-in-map */
};

/* wasm32 layout:
 *  0 name  8 persistent_path (goebpf; len 0 none)  16 section(index)  20 origin (ebpf_map_origin)
 * 24 type  28 key_size  32 value_size  36 max_entries  40 flags (map_flags)  44 pinning
 * 48 numa_node  52 inner_map (index into maps, or -1)  56 map_extra(u64)  64 key_type_id
 * 68 value_type_id (BTF; 0 none; the DATASEC of global data, the struct of struct_ops)
 * 72 def_offset (offset of the definition in its section)  76 symbol (index, or EBPF_NONE)
 * 80 init_data (pointer; initial contents for .data/.rodata/struct_ops, NULL otherwise: .bss,
 * and .kconfig, which has no section: section 0)  84 init_size  88 attrs (ebpf_map_attr)
 * 92 btf_var_type_id  96 values_offset (BTF maps of maps and prog arrays: byte offset of the
 * `values` member in the definition, where `.rel.maps` relocations fill slots; EBPF_NONE without) */
typedef struct {
  ebpf_str name;
  ebpf_str persistent_path;
  uint32_t section;
  uint32_t origin;
  uint32_t type;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t max_entries;
  uint32_t flags;
  uint32_t pinning;
  uint32_t numa_node;
  int32_t inner_map;
  uint64_t map_extra;
  uint32_t key_type_id;
  uint32_t value_type_id;
  uint32_t def_offset;
  uint32_t symbol;
  const uint8_t *init_data;
  uint32_t init_size;
  uint32_t attrs;
  uint32_t btf_var_type_id;
  uint32_t values_offset;
} ebpf_map;
EBPF_WASM_LAYOUT(ebpf_map, 104);

/* ---- relocations ---- */
enum ebpf_reloc_kind {
  EBPF_RELOC_OTHER = 0,
  EBPF_RELOC_MAP = 1,        /* ld_imm64 of a map (legacy or BTF): map holds its index */
  EBPF_RELOC_DATA = 2,       /* ld_imm64 of a global-data map: map + target_offset */
  EBPF_RELOC_CALL = 3,       /* bpf-to-bpf call: target_program + target_offset (bytes) */
  EBPF_RELOC_SUBPROG_ADDR = 4, /* ld_imm64 of a function's address (callbacks) */
  EBPF_RELOC_EXTERN = 5,     /* undefined symbol: .kconfig variable or kernel symbol (ksym) */
  EBPF_RELOC_DATA_SLOT = 6,  /* a relocation in a data/map section (e.g. goebpf map pointers) */
};

/* wasm32 layout:
 *  0 symbol_name  8 section (the section being relocated)  12 offset (in that section, bytes)
 * 16 symbol (index)  20 target_section (symbol's section; 0 for an extern)  24 type (R_BPF_*)
 * 28 kind (ebpf_reloc_kind)  32 map (index or -1; for a slot in a map section, the map holding it;
 * for an extern __kconfig variable, the .kconfig map, with its offset in target_offset)  36 program (index of the program holding the
 * instruction, or EBPF_NONE)  40 target_offset (data: offset in the map value; map: offset of
 * the map's definition in its section; call/subprog: byte offset of the target in target_section;
 * an extern that is not a .kconfig variable: its index in ebpf_object_ksyms)  44 target_program (index or -1; also set for data-slot
 * pointers to functions, e.g. in .struct_ops) */
typedef struct {
  ebpf_str symbol_name;
  uint32_t section;
  uint32_t offset;
  uint32_t symbol;
  uint32_t target_section;
  uint32_t type;
  uint32_t kind;
  int32_t map;
  uint32_t program;
  uint32_t target_offset;
  int32_t target_program;
} ebpf_reloc;
EBPF_WASM_LAYOUT(ebpf_reloc, 48);

/* ---- extern kernel symbols: kfuncs and __ksym variables a loader resolves before load ----
 * ebpf_object_ksyms() lists the undefined symbols the object's code refers to that are not .kconfig
 * variables, once each (EBPF_RELOC_EXTERN relocations name theirs by index in target_offset):
 * - EBPF_KSYM_FUNC: a kfunc (an extern FUNC of the object's BTF, or a called symbol without BTF);
 *   its value is the FUNC's id in the kernel's BTF; param_count is the parameter count of its
 *   prototype in the object's BTF (EBPF_NONE without BTF), for the loader to check against the kernel's;
 * - EBPF_KSYM_VAR: a typed __ksym variable (an extern VAR of non-void type): the id of the VAR of
 *   that name in the kernel's BTF;
 * - EBPF_KSYM_VAR_UNTYPED: an untyped one (void, or no BTF): its address (kallsyms).
 * btf_id is the FUNC or VAR in the object's BTF (0 without). A weak symbol the kernel lacks has value
 * 0, as libbpf resolves it. NULL for a NULL or failed object; count 0 when there are none.
 * wasm32 layout: ebpf_ksym 0 name  8 kind  12 flags  16 btf_id  20 param_count; ebpf_ksyms 0 ksyms
 * 4 count */
enum ebpf_ksym_kind { EBPF_KSYM_FUNC = 1, EBPF_KSYM_VAR = 2, EBPF_KSYM_VAR_UNTYPED = 3 };
enum ebpf_ksym_flag { EBPF_KSYM_WEAK = 1u << 0 };
typedef struct {
  ebpf_str name;
  uint32_t kind;
  uint32_t flags;
  uint32_t btf_id;
  uint32_t param_count;
} ebpf_ksym;
EBPF_WASM_LAYOUT(ebpf_ksym, 24);
typedef struct {
  const ebpf_ksym *ksyms;
  uint32_t count;
} ebpf_ksyms;
EBPF_WASM_LAYOUT(ebpf_ksyms, 8);
EBPF_EXPORT(ebpf_object_ksyms) const ebpf_ksyms *ebpf_object_ksyms(const ebpf_object *obj);

/* Whether kernel symbol `ksym` of the object is declared compatibly with type `kernel_id` of the
 * kernel's BTF `kernel` (from ebpf_btf_open; a FUNC for a kfunc, a VAR for a typed variable) as libbpf
 * judges it (bpf_core_types_are_compat: equal kinds past modifiers and typedefs, prototypes of as many
 * parameters of compatible types, ...): 1 yes (also for a symbol without BTF), 0 no. */
struct ebpf_btf_info; /* ebpf_core_btf.h */
EBPF_EXPORT(ebpf_ksym_compatible)
uint32_t ebpf_ksym_compatible(const ebpf_object *obj, uint32_t ksym, const struct ebpf_btf_info *kernel, uint32_t kernel_id);

/* A ksym value meaning "not resolved": relocating an instruction that refers to it fails. */
#define EBPF_KSYM_UNRESOLVED UINT64_MAX

/* ---- relocation: one program's instructions as BPF_PROG_LOAD takes them ----
 * ebpf_program_relocate() copies program `program` (index into programs), then appends once each
 * function it reaches through bpf-to-bpf calls and callback addresses (BPF_PSEUDO_FUNC), from .text
 * or any executable section, transitively, and patches: map references (src_reg BPF_PSEUDO_MAP_FD,
 * imm = fd), global data and .kconfig externs (BPF_PSEUDO_MAP_VALUE, imm = fd, next imm = offset in
 * the value), call and callback offsets, and extern kernel symbols: ksym_values[i] (ksym_count
 * entries) is the value of ebpf_object_ksyms' symbol i (or EBPF_KSYM_UNRESOLVED). A kfunc call gets
 * src_reg BPF_PSEUDO_KFUNC_CALL and imm = its BTF id (0: a weak kfunc the kernel lacks, turned into
 * a call the verifier rejects only if reached, as libbpf does); an ld_imm64 of a kfunc or typed
 * variable src_reg BPF_PSEUDO_BTF_ID and imm = its BTF id (0: the constant 0); of an untyped one
 * the address. map_fds[i] (map_fd_count entries, in WASM memory) is the fd
 * of the object's map i, or -1 when it was not created. The .BTF.ext func_info and line_info of the
 * functions placed are rebased to the image (insn_off counted in instructions, as the kernel wants),
 * with string offsets into .BTF; both are left empty when some placed function lacks them. CO-RE
 * relocations are patched with the results of ebpf_object_core_relocate (before the others, as libbpf
 * does); an object with CO-RE relocations and no results, a FAILED result in a placed function,
 * unresolved kernel symbols and references to sections that are neither maps,
 * data nor code are EBPF_ERR_RELOC errors naming the program, the instruction and the symbol
 * (unresolved_ksym then says which kernel symbol, else EBPF_NONE).
 * Returns NULL only when out of memory; read status and message first; free with
 * ebpf_program_image_free (the object must stay open until then).
 * wasm32 layout: 0 status  4 message  12 insns (object byte order)  16 insn_count  20 func_info
 * (struct bpf_func_info records)  24 func_info_count  28 func_info_rec_size  32 line_info (struct
 * bpf_line_info records)  36 line_info_count  40 line_info_rec_size  44 function_count (functions
 * placed, the program itself included)  48 unresolved_ksym */
typedef struct {
  uint32_t status;
  ebpf_str message;
  const uint8_t *insns;
  uint32_t insn_count;
  const uint8_t *func_info;
  uint32_t func_info_count;
  uint32_t func_info_rec_size;
  const uint8_t *line_info;
  uint32_t line_info_count;
  uint32_t line_info_rec_size;
  uint32_t function_count;
  uint32_t unresolved_ksym;
} ebpf_program_image;
EBPF_WASM_LAYOUT(ebpf_program_image, 52);

EBPF_EXPORT(ebpf_program_relocate)
ebpf_program_image *ebpf_program_relocate(ebpf_object *obj, uint32_t program, const int32_t *map_fds, uint32_t map_fd_count,
                                          const uint64_t *ksym_values, uint32_t ksym_count);
EBPF_EXPORT(ebpf_program_image_free) void ebpf_program_image_free(ebpf_program_image *image);

/* ---- .kconfig: the extern __kconfig variables a loader gives values before load ----
 * ebpf_object_kconfig() lists them as the .kconfig map (ebpf_map origin EBPF_MAP_KCONFIG) lays them
 * out; the loader writes each value at its offset (libbpf's rules: bool and tristate from y/n/m,
 * char as the letter, integers, strings into char arrays; a weak variable without a value is 0).
 * NULL for a NULL or failed object; count 0 when there are none.
 * wasm32 layout: ebpf_kconfig_var 0 name  8 offset  12 size  16 kind  20 flags;
 * ebpf_kconfig_vars 0 vars  4 count */
enum ebpf_kconfig_kind {
  EBPF_KCONFIG_UNKNOWN = 0, EBPF_KCONFIG_BOOL = 1, EBPF_KCONFIG_CHAR = 2, EBPF_KCONFIG_TRISTATE = 3,
  EBPF_KCONFIG_INT = 4, EBPF_KCONFIG_CHAR_ARRAY = 5,
};
enum ebpf_kconfig_flag { EBPF_KCONFIG_WEAK = 1u << 0, EBPF_KCONFIG_SIGNED = 1u << 1 };
typedef struct {
  ebpf_str name;
  uint32_t offset;
  uint32_t size;
  uint32_t kind;
  uint32_t flags;
} ebpf_kconfig_var;
EBPF_WASM_LAYOUT(ebpf_kconfig_var, 24);
typedef struct {
  const ebpf_kconfig_var *vars;
  uint32_t count;
} ebpf_kconfig_vars;
EBPF_WASM_LAYOUT(ebpf_kconfig_vars, 8);
EBPF_EXPORT(ebpf_object_kconfig) const ebpf_kconfig_vars *ebpf_object_kconfig(const ebpf_object *obj);

/* ---- diagnostics: things a loader would warn about, not errors ---- */
enum ebpf_diag_kind {
  EBPF_DIAG_UNKNOWN_SECTION = 1, /* executable section with an unknown name: type 0 */
  EBPF_DIAG_IGNORED = 2,         /* a section or record that was skipped; the message says why */
};

/* wasm32 layout: 0 message  8 section (index or 0)  12 offset  16 kind  20 reserved */
typedef struct {
  ebpf_str message;
  uint32_t section;
  uint32_t offset;
  uint32_t kind;
  uint32_t reserved;
} ebpf_diagnostic;
EBPF_WASM_LAYOUT(ebpf_diagnostic, 24);

#include "ebpf_core_btf.h"
#include "ebpf_core_events.h"
#include "ebpf_core_relo.h"

/* wasm32 layout:
 *  0 status  4 message (NUL-terminated too; len 0 when status is 0)  12 big_endian
 * 16 license (len 0 when absent)  24 kern_version  28 has_kern_version  32 data  36 data_size
 * 40 sections  44 section_count  48 symbols  52 symbol_count  56 programs  60 program_count
 * 64 maps  68 map_count  72 relocs  76 reloc_count  80 diagnostics  84 diagnostic_count
 * 88 btf (NULL when the object has no .BTF)  92 reserved
 * Relocations: those of each program first (in program order, see ebpf_program.reloc_first),
 * then those of non-program sections (program == EBPF_NONE). */
struct ebpf_object_info {
  uint32_t status;
  ebpf_str message;
  uint32_t big_endian;
  ebpf_str license;
  uint32_t kern_version;
  uint32_t has_kern_version;
  const uint8_t *data;
  uint32_t data_size;
  const ebpf_section *sections;
  uint32_t section_count;
  const ebpf_symbol *symbols;
  uint32_t symbol_count;
  const ebpf_program *programs;
  uint32_t program_count;
  const ebpf_map *maps;
  uint32_t map_count;
  const ebpf_reloc *relocs;
  uint32_t reloc_count;
  const ebpf_diagnostic *diagnostics;
  uint32_t diagnostic_count;
  const struct ebpf_btf_info *btf;
  uint32_t reserved;
};
EBPF_WASM_LAYOUT(ebpf_object_info, 96);

#endif

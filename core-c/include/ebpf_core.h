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
};

typedef struct {
  uint32_t ptr;
  uint32_t len;
} ebpf_str;

/* Memory for the caller's buffers (input bytes, output arrays). */
EBPF_EXPORT(ebpf_alloc) void *ebpf_alloc(uint32_t size);
EBPF_EXPORT(ebpf_free) void ebpf_free(void *ptr);
EBPF_EXPORT(ebpf_abi_version) uint32_t ebpf_abi_version(void);

/* ---- objects ------------------------------------------------------------------------------
 * ebpf_object_open() parses an ELF held in WASM memory (data stays owned by the caller and must
 * outlive the object). It returns NULL only when out of memory; otherwise read
 * ebpf_object_info() — status and message first. ebpf_object_close() frees everything it made.
 * The records' layout is defined below (the ELF part) and in ebpf_core_btf.h (the BTF part).
 */
typedef struct ebpf_object ebpf_object;

EBPF_EXPORT(ebpf_object_open) ebpf_object *ebpf_object_open(const uint8_t *data, uint32_t size);
EBPF_EXPORT(ebpf_object_close) void ebpf_object_close(ebpf_object *obj);

/* TODO(core helper): ebpf_object_info and the section/symbol/program/map/reloc records. */

#endif

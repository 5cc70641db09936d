// Object names as the kernel takes them (bpf_obj_name_cpy): at most BPF_OBJ_NAME_LEN - 1 bytes of
// letters, digits, '_' and '.'; anything else makes BPF_PROG_LOAD fail with EINVAL.

/** BPF_OBJ_NAME_LEN: the kernel's name field, NUL included. */
export const OBJ_NAME_LEN = 16;

/**
 * The name handed to the kernel for `name`: characters the kernel refuses are dropped, then the rest is
 * cut to 15 bytes as libbpf does (so "xdp-prog/v1" becomes "xdpprogv1"). Full names stay in user space.
 */
export function kernelObjectName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '').slice(0, OBJ_NAME_LEN - 1);
}

/** Writes kernelObjectName(name) NUL-padded into a 16-byte name field (one pass, no strings made: once per program load). */
export function writeObjectName(field: Uint8Array, name: string): void {
  let length = 0;
  for (let i = 0; i < name.length && length < OBJ_NAME_LEN - 1; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e) field[length++] = c;
  }
}

/** Reads a NUL-terminated name field. */
export function readObjectName(field: Uint8Array): string {
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

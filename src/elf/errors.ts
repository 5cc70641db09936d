// The error for objects the core cannot read: its message names what was wrong and where.

/** enum ebpf_status of core-c/include/ebpf_core.h: what every core export returns. */
export const Status = {
  Ok: 0,
  Elf: 1,
  Btf: 2,
  Map: 3,
  Relocation: 4,
  NoMem: 5,
  Argument: 6,
  Unsupported: 7,
} as const;

/** Status names, by status. */
export const STATUS_NAMES: readonly string[] = [
  'ok', 'elf', 'btf', 'map', 'relocation', 'out-of-memory', 'argument', 'unsupported', 'limit',
];

/** The most memory the WASM core may grow to (Makefile's WASM_MAX_MEMORY): 1 GiB. */
export const WASM_MAX_MEMORY = 1 << 30;

/** An object the core cannot read: the message names what was wrong and where (section, offset). */
export class ElfError extends Error {
  /** enum ebpf_status: 1 ELF, 2 BTF, 3 map, 4 relocation, 5 out of memory, 7 unsupported, 8 a limit (named in the message). */
  readonly status: number;

  constructor(message: string, status: number) {
    // Out of memory means the core's capped memory: say which limit that is.
    super(status === Status.NoMem ? `${message} (the WASM core's memory is limited to ${WASM_MAX_MEMORY / 2 ** 20} MiB)` : message);
    this.name = 'ElfError';
    this.status = status;
  }

  get statusName(): string {
    return STATUS_NAMES[this.status] ?? `status ${this.status}`;
  }
}

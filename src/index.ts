// ebpf: the package's main entry point, a plain list of re-exports.
export * from './inspect.js';
// Maps (src/map)
export * from './map/index.js';
// Programs (src/program)
export * from './program/index.js';
// Both the ELF description and the kernel side have a MapSpec and a ProgramSpec: the kernel side's
// keep the short names here; the ELF ones are ElfMapSpec / ElfProgramSpec (plain names in ebpf/inspect).
export type { MapSpec } from './map/index.js';
export type { ProgramSpec } from './program/index.js';
export type { MapSpec as ElfMapSpec, ProgramSpec as ElfProgramSpec } from './inspect.js';
// Attachments (src/link)
export * from './link/index.js';
// Events (src/events)
export * from './events/index.js';

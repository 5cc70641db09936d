// ebpf: the package's main entry point, a plain list of re-exports.
export * from './inspect.js';
// Maps (src/map)
export * from './map/index.js';
// Programs (src/program)
export * from './program/index.js';
// Kernel enums that are not a map's or a program's own (MapType and ProgramType come with them).
export { AttachType, LinkType } from './sys/generated.js';
// Kernel feature probes (src/features)
export * from './features/index.js';
// Attaching programs (src/link)
export * from './link/index.js';
// The rtnetlink side of network hooks (src/netlink): interfaces, their XDP programs, tc filters.
export {
  NetlinkError,
  getInterface,
  interfaceIndex,
  interfaceName,
  listInterfaces,
  listQdiscs,
  listFilters,
  type Interface,
  type XdpState,
  type XdpAttachedMode,
  type TcFilter,
  type Qdisc,
} from './netlink/index.js';
// Both the ELF description and the kernel side have a MapSpec and a ProgramSpec: the kernel side's
// keep the short names here; the ELF ones are ElfMapSpec / ElfProgramSpec (plain names in ebpf/inspect).
export type { MapSpec } from './map/index.js';
export type { ProgramSpec } from './program/index.js';
export type { MapSpec as ElfMapSpec, ProgramSpec as ElfProgramSpec } from './inspect.js';
// Attachments (src/link)
export * from './link/index.js';
// Events (src/events)
export * from './events/index.js';

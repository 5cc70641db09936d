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
// Both the ELF description and the kernel side have a map spec and a program spec: MapSpec and
// ProgramSpec are the kernel side's (what EbpfMap.create and new Program take), ElfMapSpec and
// ElfProgramSpec the object's (from ebpf/inspect too), under the same names in both entry points.
export type { MapSpec } from './map/index.js';
export type { ProgramSpec } from './program/index.js';
// Attachments (src/link)
export * from './link/index.js';
// Events (src/events)
export * from './events/index.js';

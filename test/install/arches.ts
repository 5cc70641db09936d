// The platforms scripts/prebuild.mjs builds, as the install tests check them.
import type { Tool } from '../kernel/support.js';

/** The file node-gyp-build loads from prebuilds/linux-<arch>/. */
export const PREBUILD = 'ebpf_bridge.napi.uv1.glibc.node';

/** Prebuilt architectures: ELF e_machine and GNU triple of the cross compiler. */
export const ARCHES = {
  x64: { machine: 62, cross: 'x86_64-linux-gnu' },
  arm64: { machine: 183, cross: 'aarch64-linux-gnu' },
} as const;
export type Arch = keyof typeof ARCHES;

/** This machine's architecture where a prebuild exists for it. */
export const hostArch = process.arch in ARCHES ? (process.arch as Arch) : undefined;

/** The compiler scripts/prebuild.mjs uses for `arch`: the host's g++, or the cross compiler. */
export function compilerFor(arch: Arch): Tool {
  return process.arch === arch ? 'g++' : `${ARCHES[arch].cross}-g++`;
}

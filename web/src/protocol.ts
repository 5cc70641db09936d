// The messages between the inspector page and its Web Worker, which parses objects off the main thread.
import type { BtfKind, BtfType, DisasmInstruction, ObjectInfo } from '../../src/inspect.js';

/** Something in the object that `ebpf` would refuse or change when loading it, or worth knowing. */
export interface Problem {
  severity: 'error' | 'warning' | 'note';
  message: string;
  /** What it is about, as a page route ('program/NAME', 'map/NAME', 'section/3'), when it is about one thing. */
  subject?: string;
}

/** What the main thread keeps of the object's BTF: a kind, name and label per type id. The types
 *  themselves stay in the worker (a kernel-sized BTF is over 100,000 of them) and come on request. */
export interface BtfSummary {
  kinds: BtfKind[];
  names: string[];
  /** 'struct iphdr', 'const char *', '(anonymous union)'. */
  labels: string[];
}

/** A BtfSummary as it crosses to the page: three values, not 300,000, for the structured clone. */
export interface PackedBtfSummary {
  /** Index into BTF_KINDS, per type id. */
  kinds: Uint8Array;
  /** Names and labels joined by '\n' (which BTF names and the labels' first lines never hold). */
  names: string;
  labels: string;
}

/** An object as the page shows it: its description plus what the page needs beside it. */
export interface ObjectModel {
  name: string;
  size: number;
  /** The description, without `btf.types` (see `btf`). */
  info: ObjectInfo;
  btf?: PackedBtfSummary;
  /** The key and value types of the maps, by id. */
  mapTypes: Record<number, BtfType>;
  /** Each program's CO-RE relocations spelled as field paths (`struct task_struct.pid`), by program index. */
  coreAccess: Record<number, string[]>;
  problems: Problem[];
  /** Each global-data map's contents formatted through BTF as `bpftool map dump` shows them, by map index. */
  globalData: Record<number, string>;
  /** The first bytes of each global-data map's initial contents, by map index. */
  initialData: Record<number, Uint8Array>;
  /** Milliseconds the worker took to parse. */
  parseMs: number;
}

/** Programs longer than this many instructions come a page at a time (the rest stays in the worker). */
export const DISASSEMBLY_PAGE = 4000;

/** A program's disassembly, whole, or one page of it for a long program. */
export interface DisassemblyResult {
  program: string;
  /** Instructions from position `start` (in the program's instruction list, not slot index). */
  instructions: DisasmInstruction[];
  start: number;
  /** Instructions in the whole program. */
  total: number;
  /** formatDisassembly() of these instructions, with source lines and bytes, as the CLI prints them. */
  text: string;
  /** The same without bytes. */
  textWithoutRaw: string;
}

export type Request =
  | { kind: 'open'; id: number; name: string; bytes: ArrayBuffer }
  /** `at`: the page holding this instruction slot (default the first). */
  | { kind: 'disassemble'; id: number; program: string; at?: number }
  | { kind: 'type'; id: number; typeId: number }
  | { kind: 'header'; id: number; typeId: number }
  | { kind: 'section'; id: number; sectionIndex: number };

/** A BTF type with the ids of the types referring to it. */
export interface TypeResult {
  type: BtfType;
  referredBy: number[];
}

export type Response =
  | { kind: 'opened'; id: number; model: ObjectModel }
  | { kind: 'disassembled'; id: number; result: DisassemblyResult }
  | { kind: 'type'; id: number; result: TypeResult }
  | { kind: 'header'; id: number; text: string }
  | { kind: 'section'; id: number; bytes: Uint8Array | null; size: number }
  | { kind: 'error'; id: number; message: string };

// The messages between the inspector page and its Web Worker, which parses objects off the main thread.
import type { DisasmInstruction, ObjectInfo } from '../../src/inspect.js';

/** Something in the object that `ebpf` would refuse or change when loading it, or worth knowing. */
export interface Problem {
  severity: 'error' | 'warning' | 'note';
  message: string;
  /** What it is about, as a page route ('program/NAME', 'map/NAME', 'section/3'), when it is about one thing. */
  subject?: string;
}

/** An object as the page shows it: its description plus what the page needs beside it. */
export interface ObjectModel {
  name: string;
  size: number;
  info: ObjectInfo;
  problems: Problem[];
  /** The first bytes of each global-data map's initial contents, by map index. */
  initialData: Record<number, Uint8Array>;
  /** Milliseconds the worker took to parse. */
  parseMs: number;
}

export interface DisassemblyResult {
  program: string;
  instructions: DisasmInstruction[];
  /** formatDisassembly() of the instructions, with source lines and with bytes, as the CLI prints it. */
  text: string;
  /** The same without bytes. */
  textWithoutRaw: string;
}

export type Request =
  | { kind: 'open'; id: number; name: string; bytes: ArrayBuffer }
  | { kind: 'disassemble'; id: number; program: string };

export type Response =
  | { kind: 'opened'; id: number; model: ObjectModel }
  | { kind: 'disassembled'; id: number; result: DisassemblyResult }
  | { kind: 'error'; id: number; message: string };

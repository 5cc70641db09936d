// ProgramLike and SystemLike: the public faces of Program and System as interfaces (goebpf's `Program`
// and `System` interfaces), implemented by the kernel classes and by MockProgram / MockSystem
// (ebpf/mock). Code typed against them is unit-testable without a kernel.
import type { MapLike } from '../map/like.js';
import type { AttachType } from '../sys/generated.js';
import type { Attachment } from '../link/attachment-base.js';
import type { AttachOptions, AttachTarget } from '../link/plan.js';
import type { ProgramInfo } from './info.js';
import type { LoadOptions, ProgramType, TestRunOptions, TestRunResult } from './program.js';
import type { Constants } from './constants.js';
import type { SystemLoadOptions } from './system.js';

export interface ProgramLike extends Disposable {
  readonly name: string;
  /** The ELF section it came from. */
  readonly section: string | undefined;
  readonly type: ProgramType;
  readonly expectedAttachType: AttachType | undefined;
  /** What the section names after its type (attach()'s default target). */
  readonly sectionTarget: string | undefined;
  readonly license: string;
  readonly instructions: Uint8Array;
  /** Size of the instructions in bytes. */
  readonly size: number;
  readonly loaded: boolean;
  /** Throws if not loaded or closed. */
  readonly fd: number;
  readonly pinnedPath: string | undefined;
  /** The verifier's log of the last load, when asked for with `logLevel`. */
  readonly verifierLog: string | undefined;
  load(options?: LoadOptions): this;
  pin(path: string): void;
  unpin(): void;
  info(): ProgramInfo;
  testRun(options?: TestRunOptions): TestRunResult;
  /** Attaches where the program's type says (src/link/attach.ts); tracked until detached. */
  attach(target?: AttachTarget, options?: AttachOptions): Attachment;
  /** What attach() made and is not detached yet. */
  readonly attachments: readonly Attachment[];
  /** Detaches every attachment (goebpf's Detach). */
  detach(): void;
  /** Detaches, then unloads. Idempotent. */
  close(): void;
}

export interface SystemLike extends Disposable {
  /** `.rodata` constants written into later loads. */
  setConstants(constants: Constants): this;
  loadElf(path: string, options?: SystemLoadOptions): this;
  load(bytes: Uint8Array, options?: SystemLoadOptions): this;
  /** Every map, by its name in the object. */
  getMaps(): ReadonlyMap<string, MapLike>;
  /** Every program, by function name. */
  getPrograms(): ReadonlyMap<string, ProgramLike>;
  getMapByName(name: string): MapLike | undefined;
  getProgramByName(name: string): ProgramLike | undefined;
  /** What went wrong without failing a load. */
  readonly warnings: readonly string[];
  /** Closes every program and map it made. Idempotent. */
  close(): void;
}

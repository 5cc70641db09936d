// MockProgram: goebpf's MockProgram (name, type, fd, attached state) with Program's whole surface,
// and a testRun that calls a JS function standing in for the program, so code around a program
// (counters in maps, verdicts on packets) is unit-testable without a kernel.
import { createHash } from 'node:crypto';
import { programTypeName, type AttachType, type ProgramType } from '../sys/generated.js';
import type { ProgramInfo } from '../program/info.js';
import type { ProgramLike } from '../program/like.js';
import type { LoadOptions, TestRunOptions, TestRunResult } from '../program/program.js';
import { kernelObjectName } from '../program/name.js';
import { describeProgram } from '../sys/describe.js';
import { allocateFd, allocateId, releaseFd } from './registry.js';
import { INSTRUCTION_SIZE } from '../elf/types.js';
import { planAttach, type AttachOptions, type AttachTarget } from '../link/plan.js';
import { MockAttachment } from './attachment.js';

/** What a stand-in for the program is given on each run. */
export interface MockRunInput {
  /** A copy of the packet; changing it in place changes the output packet. */
  data: Uint8Array;
  /** A copy of the context, when one was given. */
  ctx: Uint8Array | undefined;
  program: MockProgram;
}

/** A stand-in returns the program's return value, or that with a new packet / context. */
export type MockRunOutput = number | { retval: number; data?: Uint8Array; ctx?: Uint8Array };

/** The JS function a MockProgram runs in place of its instructions. */
export type MockRun = (input: MockRunInput) => MockRunOutput;

/** A MockProgram's spec: the fields of ProgramSpec it models. */
export interface MockProgramSpec {
  name: string;
  type: ProgramType;
  section?: string;
  /** What the section names after its type (attach()'s default target). */
  sectionTarget?: string;
  expectedAttachType?: AttachType;
  /** Default "GPL". */
  license?: string;
  /** Default: `r0 = 0; exit`. A non-empty multiple of 8 bytes. */
  instructions?: Uint8Array;
  /** What testRun runs. */
  run?: MockRun;
  /** Thrown by load() (a VerifierError, say), leaving the program unloaded. */
  loadError?: Error;
}

export { INSTRUCTION_SIZE };
/** mov64 r0, 0; exit. */
const RETURN_ZERO = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

/** An in-memory program for unit tests: load/pin/attach bookkeeping, and testRun calling `run`, a JS function standing in for the program. */
export class MockProgram implements ProgramLike {
  readonly name: string;
  readonly section: string | undefined;
  readonly type: ProgramType;
  readonly expectedAttachType: AttachType | undefined;
  readonly sectionTarget: string | undefined;
  readonly license: string;
  readonly instructions: Uint8Array;
  readonly verifierLog: string | undefined = undefined;
  /** What testRun calls; may be set or replaced at any time. */
  run: MockRun | undefined;
  /** Thrown by the next load() while set. */
  loadError: Error | undefined;
  /** Runs made by testRun (each repeat counts). */
  runCount = 0;
  #fd = -1;
  #id = 0;
  #closed = false;
  #loadTime: Date | undefined;
  #pinnedPath: string | undefined;
  #attachTarget: unknown;
  readonly #attachments = new Set<MockAttachment>();

  constructor(spec: MockProgramSpec) {
    const instructions = spec.instructions ?? RETURN_ZERO.slice();
    if (instructions.byteLength === 0 || instructions.byteLength % INSTRUCTION_SIZE !== 0) {
      throw new RangeError(`${describeProgram({ program: spec.name, section: spec.section })}: instructions are ${instructions.byteLength} bytes, not a non-empty multiple of ${INSTRUCTION_SIZE}`);
    }
    this.name = spec.name;
    this.section = spec.section;
    this.type = spec.type;
    this.expectedAttachType = spec.expectedAttachType;
    this.sectionTarget = spec.sectionTarget;
    this.license = spec.license ?? 'GPL';
    this.instructions = instructions;
    this.run = spec.run;
    this.loadError = spec.loadError;
  }

  get size(): number {
    return this.instructions.byteLength;
  }
  get loaded(): boolean {
    return this.#fd >= 0;
  }
  get fd(): number {
    this.#live();
    return this.#fd;
  }
  /** The made-up kernel id (0 before load); what a prog array lookup returns. */
  get id(): number {
    return this.#id;
  }
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }
  /** goebpf's MockProgram.Attached. */
  get attached(): boolean {
    return this.#attachments.size > 0;
  }
  /** What attach() made and is not detached yet. */
  get attachments(): readonly MockAttachment[] {
    return [...this.#attachments];
  }
  /** What attach() was given last (an interface name, a cgroup path, ...). */
  get attachTarget(): unknown {
    return this.#attachTarget;
  }

  load(_options?: LoadOptions): this {
    if (this.#fd >= 0 || this.#closed) throw new Error(`${this.#describe()} ${this.#closed ? 'was loaded and closed: a Program loads once' : 'is already loaded'}`);
    if (this.loadError !== undefined) throw this.loadError;
    this.#id = allocateId();
    this.#fd = allocateFd(this);
    this.#loadTime = new Date();
    return this;
  }

  /** Records the path (nothing is written anywhere). */
  pin(path: string): void {
    this.#live();
    this.#pinnedPath = path;
  }

  unpin(): void {
    this.#pinnedPath = undefined;
  }

  /**
   * Attaches as Program.attach does, in memory: the same plan (hook from the program type and section,
   * target checked, AttachError for bad input, wrong type or a program not loaded / closed) and a
   * MockAttachment of the same shape. The network hooks' own parameter checks (interface names, modes)
   * are the kernel path's.
   */
  attach(target?: AttachTarget, options: AttachOptions = {}): MockAttachment {
    let attachment: MockAttachment;
    const plan = planAttach(this, target, options);
    const legacy = options.legacy === true || ('legacy' in plan && plan.legacy === true) || (typeof target === 'object' && target !== null && (target as { legacy?: boolean }).legacy === true);
    attachment = MockAttachment.fromPlan(this, plan, legacy);
    this.#attachTarget = target;
    this.#attachments.add(attachment);
    attachment.onDetach(() => this.#attachments.delete(attachment));
    return attachment;
  }

  /** Detaches every attachment (goebpf's Detach). */
  detach(): void {
    for (const attachment of [...this.#attachments]) attachment.detach();
  }

  info(): ProgramInfo {
    this.#live();
    const loadTime = this.#loadTime!;
    return {
      name: kernelObjectName(this.name),
      // The kernel's tag is the SHA-1 of the instructions (map fds zeroed): its first 8 bytes in hex.
      tag: createHash('sha1').update(this.instructions).digest('hex').slice(0, 16),
      type: this.type,
      id: this.#id,
      fd: this.#fd,
      jitedProgramLen: 0,
      xlatedProgramLen: this.size,
      loadTime,
      loadTimeNs: BigInt(loadTime.getTime()) * 1_000_000n,
      createdByUid: typeof process !== 'undefined' ? (process.getuid?.() ?? 0) : 0,
      mapIds: [],
      runCount: BigInt(this.runCount),
      runTimeNs: 0n,
      recursionMisses: 0n,
      verifiedInsns: this.size / INSTRUCTION_SIZE,
      btfId: 0,
      gplCompatible: /^(GPL|GPL v2|GPL and additional rights|Dual BSD\/GPL|Dual MIT\/GPL|Dual MPL\/GPL)$/.test(this.license),
      ifindex: 0,
      attachBtfObjId: 0,
      attachBtfId: 0,
    };
  }

  /**
   * Calls `run` `repeat` times (default once) on copies of data and ctx, as BPF_PROG_TEST_RUN runs
   * the program; returns the last run's return value and output, and the average duration.
   */
  testRun(options: TestRunOptions = {}): TestRunResult {
    this.#live();
    const run = this.run;
    if (run === undefined) throw new Error(`${this.#describe()}: MockProgram has no run function to stand in for the program (set program.run)`);
    const repeat = Math.max(1, options.repeat ?? 1);
    const wantCtx = options.ctx !== undefined || options.ctxSizeOut !== undefined;
    let result: TestRunResult | undefined;
    const start = performance.now();
    for (let i = 0; i < repeat; i++) {
      const input: MockRunInput = { data: (options.data ?? new Uint8Array(0)).slice(), ctx: options.ctx?.slice(), program: this };
      const out = run(input);
      this.runCount++;
      const r = typeof out === 'number' ? { retval: out } : out;
      result = { retval: r.retval >>> 0, data: r.data ?? input.data, durationNs: 0 };
      if (wantCtx) result.ctx = r.ctx ?? input.ctx ?? new Uint8Array(options.ctxSizeOut ?? 0);
    }
    result!.durationNs = Math.round(((performance.now() - start) * 1e6) / repeat);
    return result!;
  }

  /** Unloads (idempotent): detaches, and the fd goes away. */
  close(): void {
    if (this.#fd < 0) return;
    this.detach();
    releaseFd(this.#fd);
    this.#fd = -1;
    this.#closed = true;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `MockProgram(${this.name}, ${programTypeName(this.type)}${this.loaded ? `, fd ${this.#fd}` : ''})`;
  }

  #live(): void {
    if (this.#fd < 0) throw new Error(`${this.#describe()} is ${this.#closed ? 'closed' : 'not loaded'}`);
  }

  #describe(): string {
    return describeProgram({ program: this.name, section: this.section });
  }
}

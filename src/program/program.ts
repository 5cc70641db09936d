// Program: an eBPF program's instructions and how to load them (BPF_PROG_LOAD), with the verifier's
// log on failure, pinning, test runs, and programs reopened from the kernel by fd, id or pin path.
import { unlinkSync } from 'node:fs';
import { FD, getFdById, objGet, objPin } from '../sys/bpf.js';
import { Errno, SyscallError, check } from '../sys/errors.js';
import { byteLengthOf, integerArg, optionalU32, u32Arg } from '../sys/integers.js';
import { ATTR, AttachType, BpfCmd, ProgramType, programTypeName } from '../sys/generated.js';
import { native } from '../sys/native.js';
import { disassembleLoaded, type LoadedDisassembly } from './disassemble.js';
import { assertProgramFd, listPrograms, programIds, programInfo, xlatedInstructions, type ProgramInfo } from './info.js';
import { writeObjectName } from './name.js';
import { describeProgram } from '../sys/describe.js';
import { VerifierError } from './verifier.js';
import type { ProgramLike } from './like.js';
import { INSTRUCTION_SIZE } from '../elf/types.js';
import { attachProgram, type AttachOptions, type AttachTarget } from '../link/attach.js';
import type { Attachment } from '../link/attachment-base.js';

export { ProgramType };

export { INSTRUCTION_SIZE };

/** BTF describing a program: the loaded BTF object and the .BTF.ext records for this program. */
export interface ProgramBtf {
  /** fd of the program's BTF, loaded with BPF_BTF_LOAD. */
  fd: number;
  /** bpf_func_info records (instruction offsets in instructions, not bytes). */
  funcInfo?: Uint8Array;
  funcInfoRecSize?: number;
  /** bpf_line_info records. */
  lineInfo?: Uint8Array;
  lineInfoRecSize?: number;
}

/** Everything BPF_PROG_LOAD needs to load one program. */
export interface ProgramSpec {
  /** The program's name (its function name); the kernel keeps 15 characters of it. */
  name: string;
  /** The ELF section it came from (SEC("xdp")), for error messages. */
  section?: string;
  /** What the section names after its type (`syscalls/sys_enter_execve` of `tracepoint/syscalls/sys_enter_execve`): attach()'s default target. */
  sectionTarget?: string;
  type: ProgramType;
  expectedAttachType?: AttachType;
  /** "GPL", "Dual BSD/GPL", ...: decides which helpers the program may call. */
  license: string;
  /** Raw little-endian 8-byte instructions; handed to the kernel in place, never copied. */
  instructions: Uint8Array;
  /** LINUX_VERSION_CODE, which kernels before 5.0 demanded of kprobes. */
  kernVersion?: number;
  btf?: ProgramBtf;
  /** BTF id of the attach target (fentry/fexit/LSM/struct_ops/freplace). */
  attachBtfId?: number;
  /** fd of the BTF object holding attachBtfId when it is a module's, or of the target program (freplace). */
  attachFd?: number;
  /** BPF_F_* program flags (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, ...). */
  flags?: number;
  /** Offload device. */
  ifindex?: number;
}

/** How program.load() asks the verifier: log level and log buffer sizes. */
export interface LoadOptions {
  /**
   * Verifier log level (1: the instructions walked, 2: every state; 4: statistics only). With a level,
   * even the first load carries a log buffer and the log is kept on success in `verifierLog`; without
   * one, a failed load is retried once with level 1 to explain the failure.
   */
  logLevel?: number;
  /** First log buffer size in bytes (default 64 KiB, at least 128); it grows on ENOSPC up to logSizeMax. */
  logSize?: number;
  /** Largest log buffer tried (default 16 MiB - 1, libbpf's BPF_LOG_BUF_SIZE). */
  logSizeMax?: number;
}

/** What BPF_PROG_TEST_RUN hands the program: packet, context, repeats, flags. */
export interface TestRunOptions {
  /** Packet (XDP, TC, socket filter...) handed to the program. */
  data?: Uint8Array;
  /** Context (struct xdp_md, struct __sk_buff...) handed to the program. */
  ctx?: Uint8Array;
  /** Room for the output packet (default: data's length + 512, for programs that grow it). */
  dataSizeOut?: number;
  /** Room for the output context (default: ctx's length). */
  ctxSizeOut?: number;
  /** Runs in a row; durationNs is their average. */
  repeat?: number;
  /** BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES... */
  flags?: number;
  /** With BPF_F_TEST_RUN_ON_CPU: the CPU to run on. */
  cpu?: number;
}

/** What a test run gives back: return value, output packet and context, time per run. */
export interface TestRunResult {
  /** The program's return value (XDP action, TC verdict, bytes a socket filter keeps...). */
  retval: number;
  /** The packet after the program ran. */
  data: Uint8Array;
  /** The context after the program ran, when one was given. */
  ctx?: Uint8Array;
  /** Average nanoseconds per run, measured by the kernel. */
  durationNs: number;
}

const DEFAULT_LOG_SIZE = 64 * 1024;
/** libbpf's BPF_LOG_BUF_SIZE: the largest log_size kernels before 5.2 accept (UINT32_MAX >> 8). */
const MAX_LOG_SIZE = 0xffffffff >>> 8;
/** Kernels refuse smaller log buffers with EINVAL. */
const MIN_LOG_SIZE = 128;
const TEST_RUN_DATA_SLACK = 512;
/** BPF_PROG_LOAD tries while the verifier is interrupted by signals (libbpf's PROG_LOAD_ATTEMPTS). */
const PROG_LOAD_ATTEMPTS = 5;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A single eBPF program: a spec to load, or a program already in the kernel. */
export class Program implements ProgramLike {
  readonly name: string;
  readonly section: string | undefined;
  readonly type: ProgramType;
  readonly expectedAttachType: AttachType | undefined;
  /** What the section names after its type: attach()'s default target. */
  readonly sectionTarget: string | undefined;
  /** The spec's license; for programs opened from the kernel, "GPL" if it says GPL-compatible, else "Proprietary". */
  readonly license: string;
  /** The verifier's log of the last successful load, when asked for with `logLevel`. */
  verifierLog: string | undefined;
  readonly #spec: ProgramSpec | undefined;
  #instructions: Uint8Array | undefined;
  #fd: FD | undefined;
  #pinnedPath: string | undefined;
  readonly #attachments = new Set<Attachment>();

  constructor(spec: ProgramSpec) {
    checkProgramSpec(spec);
    this.name = spec.name;
    this.section = spec.section;
    this.type = spec.type;
    this.expectedAttachType = spec.expectedAttachType;
    this.sectionTarget = spec.sectionTarget;
    this.license = spec.license;
    this.#spec = spec;
    this.#instructions = spec.instructions;
  }

  /** The instructions: the spec's, or for programs opened from the kernel, its rewritten (xlated) ones. */
  get instructions(): Uint8Array {
    this.#instructions ??= xlatedInstructions(this.#liveFd());
    return this.#instructions;
  }

  /** Size of the instructions in bytes. */
  get size(): number {
    return this.instructions.byteLength;
  }

  get loaded(): boolean {
    return this.#fd !== undefined && !this.#fd.closed;
  }

  /** The program's fd; throws if it is not loaded or was closed. */
  get fd(): number {
    return this.#liveFd().fd;
  }

  /** Where pin() put it, until unpin(). */
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }

  /**
   * BPF_PROG_LOAD. The first try goes without a verifier log unless options.logLevel asks for one;
   * a failure is retried with a log (growing on ENOSPC) and thrown as a VerifierError quoting it.
   *
   * A program of a System is relocated by the WASM core first: map references get the System's map
   * fds, global data (.data, .rodata, .bss) and .kconfig variables become map values, every function
   * it calls (.text or its own section, callbacks such as bpf_loop's included) is appended once, and
   * it goes with the object's BTF func and line info (so verifier logs and `bpftool prog dump xlated`
   * show source lines). What the running kernel must provide is looked up in it, as libbpf does: the
   * BTF id of the attach target of fentry/fexit/fmod_ret (the function), tp_btf (`btf_trace_<name>`),
   * lsm (`bpf_lsm_<hook>`) and iter (`bpf_iter_<name>`) programs, in /sys/kernel/btf/vmlinux (read
   * and indexed once per process); kfuncs there too, and typed `__ksym` variables by BTF id, both
   * checked against the kernel's declaration (kinds, parameter counts and types); untyped ones
   * (`const void`) by their /proc/kallsyms address; weak ones the kernel lacks are 0. A target or
   * symbol the kernel lacks is a KernelSymbolError naming the program and what is missing; what
   * cannot load yet (freplace, struct_ops) an UnsupportedError naming program, instruction and
   * symbol. A program array slot (`.values`) that refuses the program (another program type) fails
   * the load, and the slots it was put in get back what they held.
   */
  load(options: LoadOptions = {}): this {
    const spec = this.#spec;
    if (spec === undefined || this.#fd !== undefined) {
      throw new Error(`${this.#describe()} ${this.#fd?.closed === true ? 'was loaded and closed: a Program loads once' : 'is already loaded'}`);
    }
    return this.withLoadSpec(spec, (loadSpec) => this.#load(loadSpec, options));
  }

  /**
   * Hands load() the spec BPF_PROG_LOAD gets: by default the one given to the constructor. A
   * subclass may prepare another (relocated instructions, BTF) that lives only during the call.
   */
  protected withLoadSpec(spec: ProgramSpec, load: (spec: ProgramSpec) => this): this {
    return load(spec);
  }

  #load(spec: ProgramSpec, options: LoadOptions): this {
    checkProgramSpec(spec);
    const what = `${this.#describe()}: load`;
    const maxSize = Math.max(MIN_LOG_SIZE, integerArg(options.logSizeMax ?? MAX_LOG_SIZE, `${what} logSizeMax`, 0, MAX_LOG_SIZE));
    let level = u32Arg(options.logLevel ?? 0, `${what} logLevel`);
    let size = Math.min(maxSize, Math.max(MIN_LOG_SIZE, u32Arg(options.logSize ?? DEFAULT_LOG_SIZE, `${what} logSize`)));
    let firstErrno: number | undefined;
    if (level === 0) {
      const ret = progLoad(spec, null, 0);
      if (ret >= 0) return this.#loaded(ret, undefined);
      firstErrno = -ret;
      level = 1;
    }
    for (;;) {
      const log = new Uint8Array(size);
      const ret = progLoad(spec, log, level);
      const text = decodeLog(log);
      if (ret >= 0) return this.#loaded(ret, firstErrno === undefined ? text : undefined);
      const errno = -ret;
      if (errno === Errno.ENOSPC && size < maxSize) {
        // Kernels since 6.4 say how much room the whole log needs.
        const needed = loadAttrView.getUint32(LOAD.logTrueSize, true);
        size = Math.min(maxSize, Math.max(size * 4, needed));
        continue;
      }
      const truncated = errno === Errno.ENOSPC;
      // A truncated log hides the verdict's errno: the log-less first try had it.
      const cause = truncated && firstErrno !== undefined ? firstErrno : errno;
      const origin = { program: this.name, section: this.section };
      if (text.trim() === '') throw new SyscallError(cause, 'BPF_PROG_LOAD', `${describeProgram(origin)} (type ${programTypeName(spec.type)})`);
      throw new VerifierError(cause, origin, text, truncated);
    }
  }

  #loaded(fd: number, log: string | undefined): this {
    this.#fd = new FD(fd);
    this.verifierLog = log;
    return this;
  }

  /** BPF_OBJ_PIN at path (on a bpffs mount): the program outlives this process until unpinned. */
  pin(path: string): void {
    try {
      objPin(this.#liveFd(), path);
    } catch (e) {
      if (e instanceof SyscallError) throw new SyscallError(e.errno, e.syscall, `${this.#describe()} at ${path}`);
      throw e;
    }
    this.#pinnedPath = path;
  }

  /** Removes the pin made by pin() (or the path the program was opened from with fromPinned). */
  unpin(): void {
    const path = this.#pinnedPath;
    if (path === undefined) return;
    unlinkSync(path);
    this.#pinnedPath = undefined;
  }

  /**
   * The loaded program as the kernel holds it (its rewritten, xlated instructions), disassembled in
   * LLVM syntax with maps, helpers, kfuncs, functions and source lines named, as `bpftool prog dump
   * xlated` shows it; with the xlated and JIT-ed sizes. Throws if the program is not loaded.
   */
  disassemble(): LoadedDisassembly {
    return disassembleLoaded(this.#liveFd());
  }

  /** What the kernel says about this program now (run counts change between calls). */
  info(): ProgramInfo {
    return programInfo(this.#liveFd());
  }

  /**
   * BPF_PROG_TEST_RUN: runs the program on data/ctx without traffic. If the output outgrows
   * dataSizeOut the program is run again with room for all of it (side effects then happen twice).
   */
  testRun(options: TestRunOptions = {}): TestRunResult {
    const fd = this.#liveFd();
    const F = ATTR.PROG_TEST_RUN;
    const what = `${this.#describe()}: testRun`;
    const data = options.data;
    const ctx = options.ctx;
    // Sizes from the views' real lengths (a subclass's byteLength getter may say anything).
    const dataSize = data === undefined ? 0 : byteLengthOf(data, `${what} data`);
    const ctxSize = ctx === undefined ? undefined : byteLengthOf(ctx, `${what} ctx`);
    const repeat = u32Arg(options.repeat ?? 1, `${what} repeat`);
    const flags = u32Arg(options.flags ?? 0, `${what} flags`);
    const cpu = u32Arg(options.cpu ?? 0, `${what} cpu`);
    const dataSizeOut = optionalU32(options.dataSizeOut, `${what} dataSizeOut`);
    const ctxSizeOut = optionalU32(options.ctxSizeOut, `${what} ctxSizeOut`);
    let dataOut = new Uint8Array(dataSizeOut ?? dataSize + TEST_RUN_DATA_SLACK);
    const ctxOut = ctxSize === undefined && ctxSizeOut === undefined ? null : new Uint8Array(ctxSizeOut ?? ctxSize ?? 0);
    for (;;) {
      const attr = new Uint8Array(F.SIZE);
      const view = new DataView(attr.buffer);
      view.setUint32(F.prog_fd.offset, fd.fd, true);
      view.setUint32(F.data_size_in.offset, dataSize, true);
      view.setUint32(F.data_size_out.offset, dataOut.byteLength, true);
      view.setUint32(F.ctx_size_in.offset, ctxSize ?? 0, true);
      view.setUint32(F.ctx_size_out.offset, ctxOut?.byteLength ?? 0, true);
      view.setUint32(F.repeat.offset, repeat, true);
      view.setUint32(F.flags.offset, flags, true);
      view.setUint32(F.cpu.offset, cpu, true);
      const ret = native().bpf(BpfCmd.ProgTestRun, attr, F.data_in.offset, data ?? null, F.data_out.offset, dataOut.byteLength > 0 ? dataOut : null, F.ctx_in.offset, ctx ?? null, F.ctx_out.offset, ctxOut !== null && ctxOut.byteLength > 0 ? ctxOut : null);
      const outSize = view.getUint32(F.data_size_out.offset, true);
      if (ret === -Errno.ENOSPC && outSize > dataOut.byteLength) {
        dataOut = new Uint8Array(outSize);
        continue;
      }
      if (ret < 0) throw new SyscallError(-ret, 'BPF_PROG_TEST_RUN', this.#describe());
      const result: TestRunResult = {
        retval: view.getUint32(F.retval.offset, true),
        data: dataOut.subarray(0, outSize),
        durationNs: view.getUint32(F.duration.offset, true),
      };
      if (ctxOut !== null) result.ctx = ctxOut.subarray(0, view.getUint32(F.ctx_size_out.offset, true));
      return result;
    }
  }

  /**
   * Attaches the program where its type says (goebpf's Attach; see src/link/attach.ts for the table):
   * a tracepoint 'category/name', a raw tracepoint's name, a kernel function, 'path:symbol' for
   * uprobes, a cgroup path, ... or the hook's params object; nothing when the section names the
   * target. A bpf_link where the kernel has one (gone with the process); `options.legacy` for the
   * older forms (some outlive the process: see AttachOptions). The attachment is tracked: detach()
   * and close() undo it.
   */
  attach(target?: AttachTarget, options?: AttachOptions): Attachment {
    const attachment = attachProgram(this, target, options);
    this.#attachments.add(attachment);
    attachment.onDetach(() => this.#attachments.delete(attachment));
    return attachment;
  }

  /** What attach() made and is not detached yet. */
  get attachments(): readonly Attachment[] {
    return [...this.#attachments];
  }

  /** Detaches everything attach() attached (goebpf's Detach). Every one is tried; the first error is thrown. */
  detach(): void {
    let first: unknown;
    for (const attachment of [...this.#attachments]) {
      try {
        attachment.detach();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  /** Detaches its attachments and closes the fd (idempotent); a pinned program stays in the kernel. */
  close(): void {
    try {
      this.detach();
    } finally {
      this.#fd?.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `Program(${this.name}, ${programTypeName(this.type)}${this.loaded ? `, fd ${this.fd}` : ''})`;
  }

  #liveFd(): FD {
    if (this.#fd === undefined || this.#fd.closed) throw new Error(`${this.#describe()} is ${this.#fd === undefined ? 'not loaded' : 'closed'}`);
    return this.#fd;
  }

  #describe(): string {
    return describeProgram({ program: this.name, section: this.section });
  }

  /**
   * Opens a loaded program by fd; the name and type come from the kernel. A number fd is borrowed:
   * the program works on its own duplicate (the caller still closes theirs, and closing either never
   * closes the other's). An FD object is handed over. An fd that is not a program is refused.
   */
  static fromFd(fd: number | FD): Program {
    if (fd instanceof FD) return Program.adoptFd(fd);
    const raw = integerArg(fd, 'Program.fromFd: fd', 0, 0x7fffffff);
    assertProgramFd(raw, 'Program.fromFd');
    return Program.adoptFd(new FD(check(native().dup(raw), 'dup', `fd ${raw} given to Program.fromFd`)));
  }

  /**
   * Adopts fd (closed with the program): only for an fd nothing else will close. An fd that is not
   * a program is refused: a number stays the caller's, an FD is closed.
   */
  static adoptFd(fd: number | FD): Program {
    try {
      assertProgramFd(fd, 'Program.fromFd');
    } catch (e) {
      if (typeof fd !== 'number') fd.close();
      throw e;
    }
    const owned = typeof fd === 'number' ? new FD(fd) : fd;
    try {
      return Program.#fromKernel(owned, programInfo(owned));
    } catch (e) {
      owned.close();
      throw e;
    }
  }

  /** Opens the program pinned at path (unpin() then removes that pin). */
  static fromPinned(path: string): Program {
    const program = Program.adoptFd(objGet(path));
    program.#pinnedPath = path;
    return program;
  }

  /** Opens the program with this kernel id (CAP_SYS_ADMIN). */
  static fromId(id: number): Program {
    return Program.adoptFd(getFdById('prog', u32Arg(id, 'Program.fromId: id')));
  }

  /** Ids of every program loaded on the system (BPF_PROG_GET_NEXT_ID). */
  static ids(): Generator<number> {
    return programIds();
  }

  /** ProgramInfo of every program on the system (as EbpfMap.list()); programs unloaded during the walk are skipped. */
  static list(): Generator<ProgramInfo> {
    return listPrograms();
  }

  static #fromKernel(fd: FD, info: ProgramInfo): Program {
    // The instructions are fetched (xlated) only when asked for; a placeholder passes the spec check.
    const program = new Program({ name: info.name, type: info.type, license: info.gplCompatible ? 'GPL' : 'Proprietary', instructions: new Uint8Array(INSTRUCTION_SIZE) });
    program.#instructions = undefined;
    program.#fd = fd;
    return program;
  }
}

/** The spec's numbers are u32 fields of BPF_PROG_LOAD; its instructions whole (by their real length). */
function checkProgramSpec(spec: ProgramSpec): void {
  const what = describeProgram({ program: spec.name, section: spec.section });
  const bytes = byteLengthOf(spec.instructions, `${what}: instructions`);
  if (bytes === 0 || bytes % INSTRUCTION_SIZE !== 0) {
    throw new RangeError(`${what}: instructions are ${bytes} bytes, not a non-empty multiple of ${INSTRUCTION_SIZE}`);
  }
  u32Arg(spec.type, `${what}: type`);
  optionalU32(spec.expectedAttachType, `${what}: expectedAttachType`);
  optionalU32(spec.kernVersion, `${what}: kernVersion`);
  optionalU32(spec.attachBtfId, `${what}: attachBtfId`);
  optionalU32(spec.attachFd, `${what}: attachFd`);
  optionalU32(spec.flags, `${what}: flags`);
  optionalU32(spec.ifindex, `${what}: ifindex`);
  const btf = spec.btf;
  if (btf !== undefined) {
    u32Arg(btf.fd, `${what}: btf.fd`);
    optionalU32(btf.funcInfoRecSize, `${what}: btf.funcInfoRecSize`);
    optionalU32(btf.lineInfoRecSize, `${what}: btf.lineInfoRecSize`);
  }
}

const L = ATTR.PROG_LOAD;
/** The BPF_PROG_LOAD attr offsets, as plain numbers read once (a load per program reads them all). */
const LOAD = {
  progType: L.prog_type.offset, insnCnt: L.insn_cnt.offset, insns: L.insns.offset, license: L.license.offset,
  logLevel: L.log_level.offset, logSize: L.log_size.offset, logBuf: L.log_buf.offset, kernVersion: L.kern_version.offset,
  progFlags: L.prog_flags.offset, progName: L.prog_name.offset, progNameSize: L.prog_name.size, progIfindex: L.prog_ifindex.offset,
  expectedAttachType: L.expected_attach_type.offset, progBtfFd: L.prog_btf_fd.offset,
  funcInfoRecSize: L.func_info_rec_size.offset, funcInfo: L.func_info.offset, funcInfoCnt: L.func_info_cnt.offset,
  lineInfoRecSize: L.line_info_rec_size.offset, lineInfo: L.line_info.offset, lineInfoCnt: L.line_info_cnt.offset,
  attachBtfId: L.attach_btf_id.offset, attachProgFd: L.attach_prog_fd.offset, logTrueSize: L.log_true_size.offset, SIZE: L.SIZE,
} as const;

// The one BPF_PROG_LOAD attr, rewritten for each load: loads are synchronous and never nested, and a
// buffer of this size is an off-heap allocation (and a sweep) per program otherwise.
const loadAttr = new Uint8Array(LOAD.SIZE);
const loadAttrView = new DataView(loadAttr.buffer);

/** The bpf_attr for BPF_PROG_LOAD of spec, without its pointer fields (see progLoad): valid until the next load. */
function writeLoadAttr(spec: ProgramSpec): Uint8Array {
  const attr = loadAttr;
  const view = loadAttrView;
  attr.fill(0);
  view.setUint32(LOAD.progType, spec.type, true);
  view.setUint32(LOAD.insnCnt, byteLengthOf(spec.instructions, 'instructions') / INSTRUCTION_SIZE, true);
  view.setUint32(LOAD.kernVersion, spec.kernVersion ?? 0, true);
  view.setUint32(LOAD.progFlags, spec.flags ?? 0, true);
  writeObjectName(attr.subarray(LOAD.progName, LOAD.progName + LOAD.progNameSize), spec.name);
  view.setUint32(LOAD.progIfindex, spec.ifindex ?? 0, true);
  view.setUint32(LOAD.expectedAttachType, spec.expectedAttachType ?? 0, true);
  view.setUint32(LOAD.attachBtfId, spec.attachBtfId ?? 0, true);
  view.setUint32(LOAD.attachProgFd, spec.attachFd ?? 0, true);
  const btf = spec.btf;
  if (btf !== undefined) {
    view.setUint32(LOAD.progBtfFd, btf.fd, true);
    if (btf.funcInfo !== undefined && btf.funcInfoRecSize) {
      view.setUint32(LOAD.funcInfoRecSize, btf.funcInfoRecSize, true);
      view.setUint32(LOAD.funcInfoCnt, Math.floor(byteLengthOf(btf.funcInfo, 'btf.funcInfo') / btf.funcInfoRecSize), true);
    }
    if (btf.lineInfo !== undefined && btf.lineInfoRecSize) {
      view.setUint32(LOAD.lineInfoRecSize, btf.lineInfoRecSize, true);
      view.setUint32(LOAD.lineInfoCnt, Math.floor(byteLengthOf(btf.lineInfo, 'btf.lineInfo') / btf.lineInfoRecSize), true);
    }
  }
  return attr;
}

// The last license encoded: an object's programs all carry the same one.
let lastLicense = '';
let lastLicenseBytes = encoder.encode('\0');

function licenseBytes(license: string): Uint8Array {
  if (license !== lastLicense) {
    lastLicenseBytes = encoder.encode(`${license}\0`);
    lastLicense = license;
  }
  return lastLicenseBytes;
}

/**
 * BPF_PROG_LOAD of spec with an optional log; returns the fd or -errno. The attr stays readable
 * (log_true_size) in loadAttrView until the next load.
 */
function progLoad(spec: ProgramSpec, log: Uint8Array | null, logLevel: number): number {
  const bridge = native();
  const attr = writeLoadAttr(spec);
  if (log !== null) {
    loadAttrView.setUint32(LOAD.logLevel, logLevel, true);
    loadAttrView.setUint32(LOAD.logSize, log.byteLength, true);
  }
  const btf = spec.btf;
  const funcInfo = btf?.funcInfo !== undefined && btf.funcInfoRecSize ? btf.funcInfo : null;
  const lineInfo = btf?.lineInfo !== undefined && btf.lineInfoRecSize ? btf.lineInfo : null;
  const license = licenseBytes(spec.license);
  // The verifier gives up with EAGAIN when a signal is pending (a profiler's SIGPROF, a child's
  // SIGCHLD); like libbpf, try again a few times before calling it a failure.
  for (let attempt = 1; ; attempt++) {
    const ret = bridge.bpf(BpfCmd.ProgLoad, attr, LOAD.insns, spec.instructions, LOAD.license, license, LOAD.funcInfo, funcInfo, LOAD.lineInfo, lineInfo, LOAD.logBuf, log);
    if (ret !== -Errno.EAGAIN || attempt === PROG_LOAD_ATTEMPTS) return ret;
  }
}

/** The NUL-terminated text the kernel wrote into a log buffer. */
function decodeLog(log: Uint8Array): string {
  const end = log.indexOf(0);
  return decoder.decode(end < 0 ? log : log.subarray(0, end));
}

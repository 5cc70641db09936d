// Program type, helper and attach type probes: load the smallest program (`r0 = 0; exit`, or a call
// to the helper first) and read the kernel's answer, as `bpftool feature probe` and cilium/ebpf's
// features package do.
import { kernelBtf } from '../program/kernel-btf.js';
import { Program } from '../program/program.js';
import { VerifierError } from '../program/verifier.js';
import { AttachType, attachTypeName, BPF_F_SLEEPABLE, ProgramType, programTypeName } from '../sys/generated.js';
import { cached, fromError, REFUSALS, supported, unsupported, type FeatureResult } from './result.js';

const MOV_R0_0 = [0xb7, 0, 0, 0, 0, 0, 0, 0];
const EXIT = [0x95, 0, 0, 0, 0, 0, 0, 0];

function call(helper: number): number[] {
  return [0x85, 0, 0, 0, helper & 0xff, (helper >> 8) & 0xff, (helper >> 16) & 0xff, helper >>> 24];
}

/** What a probe program of a type needs besides its instructions. */
interface ProbeLoad {
  expectedAttachType?: AttachType;
  attachBtfId?: number;
  flags?: number;
}

/** Kernel functions every BTF kernel has, for the probes of types loaded against one (as cilium/ebpf). */
const TRACING_TARGET: Partial<Record<ProgramType, { attach: AttachType; func: string }>> = {
  [ProgramType.Tracing]: { attach: AttachType.TraceFentry, func: 'bpf_init' },
  [ProgramType.LSM]: { attach: AttachType.LSMMac, func: 'bpf_lsm_file_mprotect' },
};

/** The BTF target each BTF-attached attach type is probed against: [name, kind]. */
const BTF_TARGET: Partial<Record<AttachType, [string, 'func' | 'typedef']>> = {
  [AttachType.TraceFentry]: ['bpf_init', 'func'],
  [AttachType.TraceFexit]: ['bpf_init', 'func'],
  [AttachType.ModifyReturn]: ['bpf_modify_return_test', 'func'],
  [AttachType.TraceRawTp]: ['btf_trace_sched_switch', 'typedef'],
  [AttachType.TraceIter]: ['bpf_iter_task', 'func'],
  [AttachType.LSMMac]: ['bpf_lsm_file_mprotect', 'func'],
  [AttachType.LSMCgroup]: ['bpf_lsm_file_mprotect', 'func'],
};

function probeLoad(type: ProgramType): ProbeLoad {
  switch (type) {
    case ProgramType.CgroupSockAddr: return { expectedAttachType: AttachType.CgroupInet4Connect };
    case ProgramType.CgroupSockopt: return { expectedAttachType: AttachType.CgroupGetsockopt };
    case ProgramType.SKLookup: return { expectedAttachType: AttachType.SKLookup };
    case ProgramType.Netfilter: return { expectedAttachType: AttachType.Netfilter };
    case ProgramType.Syscall: return { flags: BPF_F_SLEEPABLE };
    default: {
      const target = TRACING_TARGET[type];
      if (target === undefined) return {};
      return { expectedAttachType: target.attach, attachBtfId: kernelBtf().find(target.func, 'func') };
    }
  }
}

/** Loads a probe program; throws the kernel's error. */
function load(type: ProgramType, body: number[], extra: ProbeLoad): void {
  const p = new Program({
    name: 'ebpf_probe',
    type,
    license: 'GPL',
    instructions: Uint8Array.from([...body, ...MOV_R0_0, ...EXIT]),
    ...extra,
  });
  try {
    p.load();
  } finally {
    p.close();
  }
}

/** Whether the kernel loads programs of this type (cached per process). */
export function haveProgramType(type: ProgramType): FeatureResult {
  const feature = `program type ${programTypeName(type)}`;
  return cached(feature, () => {
    if (type === ProgramType.Unspec) return unsupported(feature, 'not a program type');
    if (type === ProgramType.Ext) {
      // An extension loads only against a BTF-described target program: it exists where tracing does.
      const tracing = haveProgramType(ProgramType.Tracing);
      return tracing.supported ? supported(feature, 'inferred from program type tracing') : unsupported(feature, `inferred from program type tracing: ${tracing.reason}`);
    }
    try {
      load(type, [], probeLoad(type));
      return supported(feature);
    } catch (e) {
      // A struct_ops program without its struct: ENOTSUPP means the type is known (cilium/ebpf's rule).
      if (type === ProgramType.StructOps && e instanceof Error && 'code' in e && e.code === 'ENOTSUPP') return supported(feature, 'known to the kernel (ENOTSUPP without a struct_ops map)');
      return fromError(feature, e, REFUSALS);
    }
  });
}

/** Whether a load failed in the verifier (so after every check of type and attach type). */
function verifierRan(e: unknown): boolean {
  return e instanceof VerifierError && e.log.trim() !== '';
}

/** Verifier messages that mean a helper does not exist or is not allowed in this program type. */
const HELPER_REFUSED = /invalid func|unknown func|program of this type cannot use helper|helper call might sleep|cannot call helper/;

/**
 * Whether programs of this type may call the helper (by its number, e.g. 130 for bpf_ringbuf_output;
 * cached per process). A verifier complaint about the probe's arguments means the helper is there.
 */
export function haveProgramHelper(type: ProgramType, helper: number): FeatureResult {
  const feature = `helper #${helper} in ${programTypeName(type)} programs`;
  return cached(feature, () => {
    const typeResult = haveProgramType(type);
    if (!typeResult.supported) return unsupported(feature, typeResult.reason ?? 'program type not supported');
    try {
      load(type, call(helper), probeLoad(type));
      return supported(feature);
    } catch (e) {
      if (e instanceof VerifierError) {
        const refusal = HELPER_REFUSED.exec(e.log);
        return refusal === null ? supported(feature, 'the verifier knows the helper (it refused the probe\'s arguments)') : unsupported(feature, e.log.split('\n').find((l) => HELPER_REFUSED.test(l)) ?? refusal[0]);
      }
      return fromError(feature, e, REFUSALS);
    }
  });
}

/** The program type each attach type belongs to (libbpf's attach_type_to_prog_type). */
export function attachTypeProgramType(attach: AttachType): ProgramType | undefined {
  const A = AttachType;
  switch (attach) {
    case A.CgroupInetIngress: case A.CgroupInetEgress: return ProgramType.CgroupSKB;
    case A.CgroupInetSockCreate: case A.CgroupInetSockRelease: case A.CgroupInet4PostBind: case A.CgroupInet6PostBind: return ProgramType.CgroupSock;
    case A.CgroupInet4Bind: case A.CgroupInet6Bind: case A.CgroupInet4Connect: case A.CgroupInet6Connect:
    case A.CgroupUDP4Sendmsg: case A.CgroupUDP6Sendmsg: case A.CgroupUDP4Recvmsg: case A.CgroupUDP6Recvmsg:
    case A.CgroupInet4Getpeername: case A.CgroupInet6Getpeername: case A.CgroupInet4Getsockname: case A.CgroupInet6Getsockname:
    case A.CgroupUnixConnect: case A.CgroupUnixSendmsg: case A.CgroupUnixRecvmsg: case A.CgroupUnixGetpeername: case A.CgroupUnixGetsockname:
      return ProgramType.CgroupSockAddr;
    case A.CgroupSockOps: return ProgramType.SockOps;
    case A.CgroupDevice: return ProgramType.CgroupDevice;
    case A.CgroupSysctl: return ProgramType.CgroupSysctl;
    case A.CgroupGetsockopt: case A.CgroupSetsockopt: return ProgramType.CgroupSockopt;
    case A.SKSKBStreamParser: case A.SKSKBStreamVerdict: case A.SKSKBVerdict: return ProgramType.SKSKB;
    case A.SKMsgVerdict: return ProgramType.SKMsg;
    case A.LircMode2: return ProgramType.LircMode2;
    case A.FlowDissector: return ProgramType.FlowDissector;
    case A.TraceRawTp: case A.TraceFentry: case A.TraceFexit: case A.ModifyReturn: case A.TraceIter: return ProgramType.Tracing;
    case A.LSMMac: case A.LSMCgroup: return ProgramType.LSM;
    case A.XDPDevMap: case A.XDPCPUMap: case A.XDP: return ProgramType.XDP;
    case A.SKLookup: return ProgramType.SKLookup;
    case A.SKReusePortSelect: case A.SKReusePortSelectOrMigrate: return ProgramType.SKReusePort;
    case A.PerfEvent: return ProgramType.PerfEvent;
    case A.TraceKprobeMulti: case A.TraceUprobeMulti: case A.TraceKprobeSession: case A.TraceUprobeSession: return ProgramType.Kprobe;
    case A.StructOps: return ProgramType.StructOps;
    case A.Netfilter: return ProgramType.Netfilter;
    case A.TCXIngress: case A.TCXEgress: case A.NetkitPrimary: case A.NetkitPeer: return ProgramType.SchedCLS;
    default: return undefined;
  }
}

/**
 * Whether the kernel knows this attach type: a program of its type loads with it as the expected
 * attach type (types the kernel ignores at load, e.g. cgroup_skb's, are known where the program type
 * is). Cached per process.
 */
export function haveAttachType(attach: AttachType): FeatureResult {
  const feature = `attach type ${attachTypeName(attach)}`;
  return cached(feature, () => {
    const type = attachTypeProgramType(attach);
    if (type === undefined) return unsupported(feature, 'no program type attaches with it');
    // BTF-attached types are probed each against its own target: a kernel may allow iterators and
    // refuse trampolines (as the VMs here do).
    const typeResult = haveProgramType(type);
    if (!typeResult.supported && BTF_TARGET[attach] === undefined) return unsupported(feature, typeResult.reason ?? `program type ${programTypeName(type)} not supported`);
    if (type === ProgramType.StructOps) return supported(feature, 'inferred from program type struct_ops');
    try {
      const btfTarget = BTF_TARGET[attach];
      const extra = btfTarget === undefined ? {} : { attachBtfId: kernelBtf().find(btfTarget[0], btfTarget[1]) };
      load(type, [], { ...probeLoad(type), ...extra, expectedAttachType: attach });
      return supported(feature);
    } catch (e) {
      // The verifier ran: the attach type passed the checks before it (some want another return value).
      if (verifierRan(e)) return supported(feature, 'the verifier ran (the probe\'s return value did not suit it)');
      return fromError(feature, e, REFUSALS);
    }
  });
}

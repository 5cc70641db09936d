// The first half of a load, as cilium/ebpf's CollectionSpec: a pure plan of what to create and load
// (object + options + constants → map specs with options applied, initial contents, slots, program
// specs), computed without touching the kernel. System applies it to the kernel, MockSystem to
// memory: one planning path, so the mock cannot drift from the real loader. Imports no node: module.
import { describeMap, describeProgram } from '../sys/describe.js';
import { unloadableReason } from '../elf/problems.js';
import { INSTRUCTION_SIZE } from '../elf/types.js';
import { mapInitialData, type ElfMapSpec, type ObjectInfo, type ElfProgramSpec } from '../inspect.js';
import type { MapLike } from '../map/like.js';
import type { MapSpec } from '../map/map.js';
import { AttachType, MapType, ProgramType } from '../sys/generated.js';
import { rodataWithConstants, type Constants } from './constants.js';
import {
  checkMapOptions, checkReplacement, elfMapSizes, elfMapTakesBtf, initialSlots, innerTemplateOf, mapPinPath, withMapOptions,
  type InitialSlot, type MapOptions, type ProgramSlot,
} from './elf-map.js';
import { checkObjectLimits, type ObjectLimits } from './limits.js';
import type { KernelBtfSource } from './kernel-btf.js';
import { kernelObjectName } from './name.js';

/** How a load is asked for: the options of System.load / MockSystem.load. */
export interface SystemLoadOptions {
  /** Types of programs whose section name says none (SEC("anything")), by program name. */
  programTypes?: Record<string, ProgramType>;
  /** Where maps with `pinning: LIBBPF_PIN_BY_NAME` are reused from or pinned to (default /sys/fs/bpf). */
  pinRoot?: string;
  /** `.rodata` variables to set before load, on top of (and overriding) those of setConstants. */
  constants?: Constants;
  /** The object's name in error messages (loadElf: its path). */
  objectName?: string;
  /**
   * Sizes, flags or the inner map template to give maps of the object, by name, before they are
   * created (libbpf's bpf_map__set_max_entries and friends); or a map to use in place of one
   * (replaceWith), or where it is pinned (persistentPath). A name the object has no map for (or a
   * struct_ops map) is an error before anything is created. See MapOptions.
   */
  maps?: Readonly<Record<string, MapOptions>>;
  /**
   * Caps on what the object may ask of the kernel (number of maps, total entries, estimated map
   * memory), for services loading objects their users upload: past one, the load fails with a
   * RangeError before anything is created. Off by default.
   */
  limits?: ObjectLimits;
  /**
   * The BTF CO-RE relocations resolve against, for kernels without /sys/kernel/btf/vmlinux (or to
   * relocate for another kernel): a path or the bytes of raw BTF or of an ELF holding .BTF (BTFHub's
   * files). Default: the running kernel's /sys/kernel/btf/vmlinux, read once per process. System only.
   */
  kernelBtf?: KernelBtfSource;
}

/** What a plan needs to know of where it will be applied. */
export interface PlanTarget {
  /** The page size ring buffers are rounded to. */
  pageSize(): number;
  /** Possible CPUs, for the per-CPU value size of a map given in place of one. */
  possibleCpus(): number;
  /**
   * The .kconfig map's value (valueSize bytes); throws why it cannot be made, and the map is then
   * left out with a warning. Absent: the target makes no .kconfig map (MockSystem).
   */
  kconfig?: (valueSize: number) => Uint8Array;
  /** Names the target already has (a second object may not reuse them). */
  hasMap(name: string): boolean;
  hasProgram(name: string): boolean;
}

/** One map to create (or to take from the caller), in the object's order. */
export interface MapPlan {
  /** The object's definition with the load's options applied. */
  readonly elf: ElfMapSpec;
  /** What to create: every field present, undefined or not (see kernelMapSpec). */
  readonly spec: MapSpec;
  /** Written at key 0 once created (global data, .kconfig), or null. */
  readonly initial: Uint8Array | null;
  /** .rodata and .kconfig are frozen after their contents are written. */
  readonly freeze: boolean;
  /** Created with the BTF of its key and value (libbpf's choice for this map type). */
  readonly withBtf: boolean;
  /** A map of the caller's to use as it is (MapOptions.replaceWith), already checked against spec. */
  readonly replaceWith: MapLike | undefined;
}

/** One program to make (not the subprograms, which are appended where they are called). */
export interface ProgramPlan {
  readonly elf: ElfProgramSpec;
  readonly name: string;
  readonly section: string;
  readonly type: ProgramType;
  readonly expectedAttachType: AttachType | undefined;
  readonly license: string;
  /** The instructions as in the ELF: a view on the object's bytes (relocated when loaded). */
  readonly instructions: Uint8Array;
  readonly kernVersion: number | undefined;
  readonly flags: number | undefined;
  /** Why the program cannot be loaded yet, or undefined. */
  readonly unloadable: string | undefined;
}

/** What a load creates and loads, before anything is. */
export interface LoadPlan {
  readonly object: ObjectInfo;
  readonly maps: readonly MapPlan[];
  readonly programs: readonly ProgramPlan[];
  /** Map-of-maps slots the object's BTF definitions fill with its other maps. */
  readonly slots: readonly InitialSlot[];
  /** Program-array slots filled as their programs load. */
  readonly programSlots: readonly ProgramSlot[];
  /** Maps left out, and why. */
  readonly warnings: readonly string[];
}

/**
 * Plans a load of the object (its bytes and what the core read of them): every check that can fail
 * without the kernel runs here (constants, map options, slots, names already taken, replacements),
 * so the executor's first side effect comes after the last check that needs none.
 */
export function planLoad(bytes: Uint8Array, object: ObjectInfo, options: SystemLoadOptions, target: PlanTarget): LoadPlan {
  const rodata = rodataWithConstants(bytes, object, options.constants ?? {}, options.objectName);
  checkMapOptions(object, options.maps, options.objectName);
  checkObjectLimits(object, options.maps, options.limits, options.objectName, () => target.possibleCpus());
  const { slots, programSlots } = initialSlots(object, options.maps);
  const warnings: string[] = [];
  const maps: MapPlan[] = [];
  const mapNames = new Set<string>();
  for (const original of object.maps) {
    if (original.innerTemplate) continue;
    if (original.origin === 'struct-ops') {
      warnings.push(`${describeMap(original.name)} (${object.sections[original.sectionIndex]?.name ?? 'struct_ops'}) is not created: struct_ops maps need the kernel's BTF for their type, which is not supported yet`);
      continue;
    }
    if (target.hasMap(original.name) || mapNames.has(original.name)) throw new Error(`${describeMap(original.name)} is already in this System`);
    const mapOptions = options.maps?.[original.name];
    const elf = withMapOptions(original, mapOptions);
    const spec = kernelMapSpec(object, elf, options, target);
    const replaceWith = mapOptions?.replaceWith;
    if (replaceWith !== undefined) checkReplacement(elf.name, spec, replaceWith, () => target.possibleCpus());
    let initial = rodata.get(elf.index) ?? mapInitialData(bytes, elf);
    if (elf.origin === 'kconfig' && replaceWith === undefined) {
      if (target.kconfig === undefined) {
        warnings.push(`${describeMap(elf.name)} is not created: this System does not make the .kconfig map (the running kernel's config)`);
        continue;
      }
      try {
        initial = target.kconfig(elf.valueSize);
      } catch (e) {
        warnings.push(`${describeMap('.kconfig')} is not created: ${(e as Error).message}`);
        continue;
      }
    }
    mapNames.add(elf.name);
    maps.push({ elf, spec, initial, freeze: elf.origin === 'rodata' || elf.origin === 'kconfig', withBtf: elfMapTakesBtf(elf), replaceWith });
  }
  const programs: ProgramPlan[] = [];
  const programNames = new Set<string>();
  for (const spec of object.programs) {
    if (spec.subprogram) continue;
    if (target.hasProgram(spec.name) || programNames.has(spec.name)) throw new Error(`${describeProgram({ program: spec.name, section: spec.section })} is already in this System`);
    programNames.add(spec.name);
    programs.push(programPlan(bytes, object, spec, options));
  }
  return { object, maps, programs, slots, programSlots, warnings };
}

/**
 * The spec of an ELF map to create; an inner template becomes a spec the outer map uses briefly.
 * Every field is present, undefined or not (btf is set by the executor): all specs share one shape, so
 * EbpfMap reads them without property-lookup misses.
 */
function kernelMapSpec(object: ObjectInfo, spec: ElfMapSpec, options: SystemLoadOptions, target: PlanTarget): MapSpec {
  const { innerMapFd, inner } = innerTemplateOf(object, spec, options.maps);
  const sizes = elfMapSizes(spec, () => target.pageSize());
  return {
    name: kernelObjectName(spec.name),
    type: spec.type as MapType,
    keySize: sizes.keySize,
    valueSize: sizes.valueSize,
    maxEntries: sizes.maxEntries,
    flags: spec.flags,
    innerMap: inner === undefined ? undefined : kernelMapSpec(object, inner, options, target),
    innerMapFd,
    persistentPath: mapPinPath(spec, options.pinRoot),
    numaNode: spec.numaNode === 0 ? undefined : spec.numaNode,
    mapExtra: BigInt(spec.mapExtra),
    ifindex: undefined,
    btf: undefined,
  };
}

function programPlan(bytes: Uint8Array, object: ObjectInfo, spec: ElfProgramSpec, options: SystemLoadOptions): ProgramPlan {
  const type = options.programTypes?.[spec.name] ?? (spec.type as ProgramType);
  return {
    elf: spec,
    name: spec.name,
    section: spec.section,
    type,
    expectedAttachType: spec.expectedAttachType === null ? undefined : (spec.expectedAttachType as AttachType),
    license: object.license ?? '',
    instructions: bytes.subarray(spec.fileOffset, spec.fileOffset + spec.insnCount * INSTRUCTION_SIZE),
    kernVersion: object.kernelVersion ?? undefined,
    flags: spec.loadFlags === 0 ? undefined : spec.loadFlags,
    unloadable: unloadableReason(type),
  };
}

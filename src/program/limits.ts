// Caps on what one object may ask of the kernel, for services that load objects their users upload
// (System load options `limits`, off by default): checked on the plan, before anything is created.
// No `node:` import: the mock System checks the same.
import { inObject } from '../sys/describe.js';
import type { MapSpec as ElfMapSpec, ObjectInfo } from '../elf/types.js';
import { mapShape } from '../map/shape.js';
import { integerArg } from '../sys/integers.js';
import { MapType } from '../sys/generated.js';
import { withMapOptions, type MapOptions } from './elf-map.js';

/** Limits on one load; every one is off (unlimited) unless given. */
export interface ObjectLimits {
  /** Most maps the object may create. */
  maxMaps?: number;
  /** Most entries (the sum of max_entries) over the object's maps. */
  maxMapEntries?: number;
  /**
   * Most memory in bytes the object's maps may ask for, estimated as max_entries × (key size + value
   * size, per CPU for per-CPU maps) per map, and a ring buffer's size for ring buffers (the kernel's
   * own overhead comes on top).
   */
  maxMapMemory?: number;
}

/** The memory a map asks for (see ObjectLimits.maxMapMemory). */
export function mapMemoryEstimate(spec: Pick<ElfMapSpec, 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'>, possibleCpus: () => number): number {
  if (spec.type === MapType.RingBuf || spec.type === MapType.UserRingBuf) return spec.maxEntries;
  const s = mapShape({ type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags }, possibleCpus);
  return s.maxEntries * (s.keySize + s.valueRealSize);
}

/**
 * Throws a RangeError naming the object, the limit and what the object asks for when its maps (with
 * the load's map options applied; maps replaced by the caller's own do not count) pass a limit.
 */
export function checkObjectLimits(object: ObjectInfo, maps: Readonly<Record<string, MapOptions>> | undefined, limits: ObjectLimits | undefined,
  objectName: string | undefined, possibleCpus: () => number): void {
  if (limits === undefined) return;
  const maxMaps = limits.maxMaps === undefined ? Infinity : integerArg(limits.maxMaps, 'limits.maxMaps', 0, Number.MAX_SAFE_INTEGER);
  const maxEntries = limits.maxMapEntries === undefined ? Infinity : integerArg(limits.maxMapEntries, 'limits.maxMapEntries', 0, Number.MAX_SAFE_INTEGER);
  const maxMemory = limits.maxMapMemory === undefined ? Infinity : integerArg(limits.maxMapMemory, 'limits.maxMapMemory', 0, Number.MAX_SAFE_INTEGER);
  let count = 0, entries = 0, memory = 0;
  for (const spec of object.maps) {
    const options = maps?.[spec.name];
    if (options?.replaceWith !== undefined) continue;
    const final = withMapOptions(spec, options);
    count++;
    entries += final.maxEntries;
    memory += mapMemoryEstimate(final, possibleCpus);
  }
  if (count > maxMaps) throw new RangeError(inObject(objectName, `the object asks for ${count} maps, over the limit limits.maxMaps = ${maxMaps}`));
  if (entries > maxEntries) throw new RangeError(inObject(objectName, `the object's maps ask for ${entries} entries in all, over the limit limits.maxMapEntries = ${maxEntries}`));
  if (memory > maxMemory) throw new RangeError(inObject(objectName, `the object's maps ask for about ${memory} bytes (entries × (key + value)), over the limit limits.maxMapMemory = ${maxMemory}`));
}

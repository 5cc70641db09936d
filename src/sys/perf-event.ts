// struct perf_event_attr (include/uapi/linux/perf_event.h) as perf_event_open(2) takes it: the layout,
// the flag bits and ioctls this library uses, and the fields every caller sets. Shared by perf event
// attach points (src/link/perf.ts) and the perf event array reader (src/events/perf.ts).

/** sizeof(struct perf_event_attr) as of PERF_ATTR_SIZE_VER7. */
export const PERF_ATTR_SIZE = 128;
/** Byte offsets of the perf_event_attr fields set here. */
export const PERF_ATTR = { type: 0, size: 4, config: 8, samplePeriod: 16, sampleType: 24, flags: 40, wakeupEvents: 48, config1: 56, config2: 64 } as const;
/** perf_event_attr flag bits (the bitfield after read_format). */
export const PERF_ATTR_FLAG = { freq: 1n << 10n, watermark: 1n << 14n, writeBackward: 1n << 27n } as const;
/** perf_event_open flags. */
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;
/** _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32), _IOW('$', 9, __u32). */
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_DISABLE = 0x2401;
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;
export const PERF_EVENT_IOC_PAUSE_OUTPUT = 0x40042409;

/** A perf_event_attr with type, size, config and sample_period set; the view for the rest. */
export function perfEventAttr(type: number, config: bigint, samplePeriod: bigint): { attr: Uint8Array; view: DataView } {
  const attr = new Uint8Array(PERF_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(PERF_ATTR.type, type, true);
  view.setUint32(PERF_ATTR.size, PERF_ATTR_SIZE, true);
  view.setBigUint64(PERF_ATTR.config, config, true);
  view.setBigUint64(PERF_ATTR.samplePeriod, samplePeriod, true);
  return { attr, view };
}

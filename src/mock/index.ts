// ebpf/mock: in-memory stand-ins for System, EbpfMap and Program (goebpf's goebpf_mock), for unit tests
// of code typed against SystemLike / MapLike / ProgramLike. Imports no native addon and makes no
// kernel call: it works where the addon is not built, and on any OS.
export { MockMap, type MockMapSpec } from './map.js';
export { MockProgram, type MockProgramSpec, type MockRun, type MockRunInput, type MockRunOutput } from './program.js';
export { MockSystem, type MockSystemOptions } from './system.js';
export { MockAttachment } from './attachment.js';
export { Attachment, type AttachmentInfo } from '../link/attachment-base.js';
export { AttachError } from '../link/target.js';
export { KprobeAttachType } from '../link/kprobe-type.js';
export type { AttachTarget, AttachOptions } from '../link/plan.js';
// What tests written against mocks need, without importing the kernel side.
export { MapType, ProgramType, AttachType, BPF_ANY, BPF_NOEXIST, BPF_EXIST } from '../sys/generated.js';
export { SyscallError } from '../sys/errors.js';
export { MapBatchCursor } from '../map/shape.js';
export { LpmTrieKey, createLpmTrieKey, keyValueToBytes, type KeyValue } from '../map/keyvalue.js';
export type { MapLike } from '../map/like.js';
export type { ProgramLike, SystemLike } from '../program/like.js';
export type { MapSpec, MapValue, MapInfo } from '../map/map.js';
export type { TestRunOptions, TestRunResult } from '../program/program.js';

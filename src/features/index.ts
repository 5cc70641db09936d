// Kernel feature probes (src/features), as cilium/ebpf's features package and `bpftool feature probe`:
// each asks the running kernel once per process and says why not.
export { NotSupportedError, requireFeature, type FeatureResult } from './result.js';
export { kernelVersion, kernelAtLeast, kernelConfig, type KernelVersion } from './kernel.js';
export { haveMapType } from './map.js';
export { haveProgramType, haveProgramHelper, haveAttachType, attachTypeProgramType } from './program.js';
export { haveBpfLink, haveLinkType, havePmu } from './link.js';
export { probeAll, type FeatureReport } from './report.js';

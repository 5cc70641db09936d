#include <stdlib.h>

#include "ebpf_core.h"

void *ebpf_alloc(uint32_t size) { return malloc(size ? size : 1); }
void ebpf_free(void *ptr) { free(ptr); }
uint32_t ebpf_abi_version(void) { return EBPF_ABI_VERSION; }

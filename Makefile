# Build of the parts that are committed: the WASM core and the test fixtures.
# Paths are kept out of every output (-ffile-prefix-map) so a clone anywhere rebuilds byte for byte.
CLANG      ?= clang-19
WASM_LD    ?= wasm-ld-19
ROOT       := $(CURDIR)
CORE_SRCS  := $(sort $(wildcard core-c/src/*.c))
CORE_HDRS  := $(wildcard core-c/include/*.h core-c/src/*.h)
WASM_FLAGS := --target=wasm32-wasi --sysroot=/usr -std=c11 -O2 -Wall -Wextra -Werror \
              -Icore-c/include -ffile-prefix-map=$(ROOT)/=  -fno-ident \
              -mexec-model=reactor -nostartfiles -Wl,--no-entry -Wl,--strip-all \
              -Wl,--export=__heap_base -Wl,--export-dynamic

.PHONY: all wasm bridge sys check-reproducible
all: wasm

wasm: wasm/ebpf_core.wasm

wasm/ebpf_core.wasm: $(CORE_SRCS) $(CORE_HDRS) Makefile
	$(CLANG) $(WASM_FLAGS) -o $@ $(CORE_SRCS)
	@node -e 'const m=new WebAssembly.Module(require("fs").readFileSync("$@"));const i=WebAssembly.Module.imports(m);if(i.length){console.error("$@ imports",i);process.exit(1)}'

# The native bridge (node-gyp through npm, so npm's nodedir and node-gyp settings apply).
bridge:
	npm run build:bridge

# src/sys/generated.ts from the running kernel's BTF (every map/program type it has); see scripts/gen-sys.mjs.
sys:
	node scripts/gen-sys.mjs --vmlinux

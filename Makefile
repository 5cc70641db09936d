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

.PHONY: all wasm bridge sys fixtures check-reproducible
all: wasm fixtures

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

# eBPF test fixtures: every test/fixtures/*.c little-endian, the hand-written ones also big-endian.
# Sources are compiled by relative path and the build directory is mapped to `.`, so no absolute
# path lands in DWARF/BTF; -I points at the multiarch asm/ headers linux/bpf.h needs.
FIXTURE_DIR     := test/fixtures
FIXTURE_FLAGS   := -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -ffile-prefix-map=$(ROOT)=. \
                   -fdebug-compilation-dir=. -fno-ident
FIXTURE_LARGE   := $(FIXTURE_DIR)/large.c
FIXTURE_SRCS    := $(sort $(wildcard $(FIXTURE_DIR)/*.c) $(FIXTURE_LARGE))
FIXTURE_HANDSRC := $(filter-out $(FIXTURE_LARGE),$(FIXTURE_SRCS))
FIXTURE_OBJS    := $(FIXTURE_SRCS:.c=.o) $(FIXTURE_HANDSRC:.c=.bpfeb.o)

fixtures: $(FIXTURE_OBJS)

$(FIXTURE_LARGE): scripts/gen-large-fixture.mjs
	node scripts/gen-large-fixture.mjs $@

$(FIXTURE_DIR)/%.o: $(FIXTURE_DIR)/%.c $(wildcard $(FIXTURE_DIR)/*.h)
	$(CLANG) -target bpfel $(FIXTURE_FLAGS) -c $< -o $@

$(FIXTURE_DIR)/%.bpfeb.o: $(FIXTURE_DIR)/%.c $(wildcard $(FIXTURE_DIR)/*.h)
	$(CLANG) -target bpfeb $(FIXTURE_FLAGS) -c $< -o $@

# Rebuild everything committed from source (-B: git checkouts leave arbitrary mtimes) and fail if
# any byte differs from git or a build output is not committed.
check-reproducible:
	$(MAKE) -B wasm fixtures
	git diff --exit-code --stat -- wasm $(FIXTURE_DIR)
	@untracked=$$(git ls-files --others --exclude-standard -- wasm $(FIXTURE_DIR)); \
	if [ -n "$$untracked" ]; then echo "build outputs not in git: $$untracked"; exit 1; fi
	@echo "reproducible: wasm and fixtures match git"

# Build of the parts that are committed: the WASM core and the test fixtures.
# Paths are kept out of every output (-ffile-prefix-map) so a clone anywhere rebuilds byte for byte.
CLANG      ?= clang-19
WASM_LD    ?= wasm-ld-19
ROOT       := $(CURDIR)
CORE_SRCS  := $(sort $(wildcard core-c/src/*.c))
CORE_HDRS  := $(wildcard core-c/include/*.h core-c/src/*.h)
WASM_FLAGS := --target=wasm32-wasi --sysroot=/usr -std=c11 -O2 -Wall -Wextra -Werror \
              -Icore-c/include -ffile-prefix-map=$(ROOT)/=  -fno-ident \
              -flto -mexec-model=reactor -nostartfiles -Wl,--no-entry -Wl,--strip-all \
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

# insns.c exercises the v4 instruction set (sign extension, bswap, sdiv/smod, atomics with fetch).
$(FIXTURE_DIR)/insns.o $(FIXTURE_DIR)/insns.bpfeb.o: FIXTURE_FLAGS += -mcpu=v4

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

# libFuzzer + ASan + UBSan over the core: fuzz_object (ebpf_object_open/close on whole objects,
# every BTF type rendered) then fuzz_btf (ebpf_btf_open on raw .BTF/.BTF.ext), FUZZ_SECONDS split
# between them. Seeded with the fixtures and fuzz/regressions/ (past crash inputs, replayed
# first); corpora and crash artifacts live under build/fuzz/, not committed. Fails on any crash,
# sanitizer report, abort or hang (-timeout).
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_FLAGS   := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -Icore-c/include -Icore-c/src
FUZZ_RUN      = -max_total_time=$$(( ($(FUZZ_SECONDS) + 1) / 2 )) -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/
FUZZ_SEEDS   := $(filter-out $(FIXTURE_DIR)/large.o,$(FIXTURE_OBJS))

.PHONY: fuzz
fuzz: $(FUZZ_DIR)/fuzz_object $(FUZZ_DIR)/fuzz_btf
	mkdir -p $(FUZZ_DIR)/corpus-object $(FUZZ_DIR)/corpus-btf
	cp $(FUZZ_SEEDS) $(FUZZ_DIR)/corpus-object/
	node fuzz/btf_seeds.mjs $(FUZZ_DIR)/corpus-btf $(FUZZ_SEEDS)
	cp fuzz/regressions/*.btf $(FUZZ_DIR)/corpus-btf/
	$(FUZZ_DIR)/fuzz_object $(FUZZ_RUN) $(FUZZ_DIR)/corpus-object
	$(FUZZ_DIR)/fuzz_btf $(FUZZ_RUN) $(FUZZ_DIR)/corpus-btf

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_walk.h $(CORE_SRCS) $(CORE_HDRS)
	mkdir -p $(FUZZ_DIR)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(CORE_SRCS)

# The C baseline of `npm run bench` (bench/inspect.bench.ts): libbpf's bpf_object__open_mem.
.PHONY: bench-c
bench-c: build/bench/open_mem

build/bench/open_mem: bench/c/open_mem.c
	mkdir -p build/bench
	cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Werror -o $@ $< -lbpf

// ebpf_bridge: the syscalls ebpf needs and nothing else (its interface: NativeBridge in
// src/sys/native.ts). A call that reaches the kernel returns its result or -errno and never throws;
// exceptions are only for programmer errors: a TypeError for a missing or wrong-typed argument or a
// number that is not an integer, a RangeError for an integer out of range, an offset outside a buffer,
// or a size the kernel would read or write past the buffer it was given.
//
// Memory safety at the kernel boundary is this file's job (policy is not): every pointer handed to
// the kernel is checked against the sizes the kernel will use with it (see "The kernel boundary").
//
// `bpf`, `bpfPrepare` and `bpfRun` are the hot path (one call per map lookup), so they are written
// against the plain Node-API C interface: no allocation, no C++ objects, no exceptions on success,
// argument buffers read in place. bpfRun, the cheapest, is what EbpfMap's element calls use.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace {

// Data pointer and byte length of any ArrayBufferView (TypedArray or DataView). napi_get_buffer_info
// accepts every ArrayBufferView and tests only that, where napi_get_typedarray_info with the element
// type requested runs up to eleven Is*Array() tests: the largest Node-API cost of a bpf() call.
inline bool ViewBytes(napi_env env, napi_value value, void** data, size_t* length) {
  return napi_get_buffer_info(env, value, data, length) == napi_ok;
}

napi_value ThrowType(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

int64_t ErrnoResult(long ret) { return ret < 0 ? -errno : ret; }

constexpr double kInt32Min = -2147483648.0, kInt32Max = 2147483647.0, kUint32Max = 4294967295.0;
constexpr double kSafeMax = 9007199254740991.0;  // 2^53 - 1: integers a JS number holds exactly

// How an error names an argument: "<call>: <what>", or "argument <index>" without a call. Kept as
// parts and formatted only when there is an error to report: the calls that succeed format nothing.
struct ArgName {
  const char* call;
  const char* what;
  size_t index;
};

void FormatArgName(char* out, size_t size, ArgName name) {
  if (name.call != nullptr) snprintf(out, size, "%s: %s", name.call, name.what);
  else snprintf(out, size, "argument %zu", name.index);
}

// An integer argument in [min, max]. A number is not enough: NaN, fractions and out-of-range values
// would otherwise be converted silently (NaN to 0, so close(NaN) closed stdin). False with a pending
// TypeError (not an integer) or RangeError (out of range) naming the call and the argument.
bool IntegerArg(napi_env env, napi_value value, ArgName name, double min, double max, int64_t* out) {
  double number;
  char what[96];
  char message[192];
  if (napi_get_value_double(env, value, &number) != napi_ok || !std::isfinite(number) || std::trunc(number) != number) {
    FormatArgName(what, sizeof what, name);
    snprintf(message, sizeof message, "%s must be an integer", what);
    napi_throw_type_error(env, nullptr, message);
    return false;
  }
  if (number < min || number > max) {
    FormatArgName(what, sizeof what, name);
    snprintf(message, sizeof message, "%s %.0f is out of range [%.0f, %.0f]", what, number, min, max);
    napi_throw_range_error(env, nullptr, message);
    return false;
  }
  *out = static_cast<int64_t>(number);
  return true;
}

// ---- The kernel boundary: buffers, and what the kernel may touch through them -------------------
//
// The rule: every pointer the bridge hands the kernel comes with a length the bridge took from the
// real backing store (napi's buffer info, never a JS property), and every count or size the kernel
// will read or write through that pointer is checked against that length before the syscall. JS
// never sees an address, so the only pointers in an attr are the ones written here, per call, at the
// fields the command's rule table below names; table fields not given in a call are zeroed, and a
// pointer offered for a field not in the table is refused.

struct BufferFacts {
  bool shared;
  bool resizable;
};

// Shared and resizable, through Node-API alone (the prebuilt addon must not touch V8's C++ ABI):
// napi_is_arraybuffer is false for a SharedArrayBuffer, and `resizable` / `growable` are read as
// properties. A lie there (an own property on the buffer) gains nothing: every pointer the bridge
// gives the kernel is used within this synchronous call, while no JavaScript runs to resize anything;
// the check refuses honest mistakes early.
BufferFacts FactsOf(napi_env env, napi_value array_buffer) {
  bool plain = false;
  napi_is_arraybuffer(env, array_buffer, &plain);
  napi_value flag;
  bool resizable = false;
  if (napi_get_named_property(env, array_buffer, plain ? "resizable" : "growable", &flag) == napi_ok) napi_get_value_bool(env, flag, &resizable);
  return {!plain, resizable};
}

// The ArrayBuffer under a TypedArray or DataView.
bool ViewBuffer(napi_env env, napi_value view, napi_value* array_buffer) {
  if (napi_get_typedarray_info(env, view, nullptr, nullptr, nullptr, array_buffer, nullptr) == napi_ok) return true;
  size_t length;
  void* data;
  return napi_get_dataview_info(env, view, &length, &data, array_buffer, nullptr) == napi_ok;
}

enum class Sharing { kAllowed, kRefused };

// A buffer the kernel will access: its real data pointer and length, refusing detached and resizable
// buffers (and shared ones where the kernel reads sizes from it: attr, info). False with a pending
// TypeError naming the call and the argument.
bool KernelBuffer(napi_env env, napi_value value, const char* call, const char* what, Sharing sharing, void** data, size_t* length) {
  char message[192];
  napi_value array_buffer;
  if (!ViewBytes(env, value, data, length) || !ViewBuffer(env, value, &array_buffer)) {
    snprintf(message, sizeof message, "%s: %s must be a TypedArray or DataView", call, what);
    ThrowType(env, message);
    return false;
  }
  bool detached = false;
  napi_is_detached_arraybuffer(env, array_buffer, &detached);
  BufferFacts facts = FactsOf(env, array_buffer);
  const char* why = detached ? "is detached" : facts.resizable ? "is resizable (its length could change under the kernel)"
                    : facts.shared && sharing == Sharing::kRefused ? "is shared (another thread could change the sizes the kernel reads)" : nullptr;
  if (why == nullptr) return true;
  snprintf(message, sizeof message, "%s: %s's ArrayBuffer %s", call, what, why);
  ThrowType(env, message);
  return false;
}

// How many bytes the kernel accesses through one pointer field.
enum class Size : uint8_t {
  kField32,     // the u32 field at `a` holds the byte count
  kCountField,  // u32 count at `a` times the u32 record size at `b`
  kCountConst,  // u32 count at `a` times the constant `b`
  kCString,     // read up to a NUL, which must lie inside the buffer
  kMapKey,      // the map's key_size (map fd at the command's map_fd offset)
  kMapValue,    // the map's value size (per-CPU: roundup(value_size, 8) * possible CPUs)
  kBatchToken,  // a batch cursor: max(key_size, 4) (a hash's bucket index or an array's key)
  kBatchKeys,   // u32 count at `a` times key_size
  kBatchValues, // u32 count at `a` times the value size
  kRefused,     // a pointer field the bridge never fills (zeroed; offering one is an error)
};

struct PointerRule {
  uint16_t offset;
  Size size;
  uint16_t a;
  uint16_t b;
  // An out buffer whose size 0 would mean "no limit" to the kernel (test run data_out): size 0 refused.
  bool zero_means_unbounded;
};

constexpr uint16_t kNoMapFd = 0xffff;

struct CommandRules {
  uint32_t cmd;
  uint16_t map_fd_offset;  // where the map fd is, for the kMap*/kBatch* sizes
  const PointerRule* rules;
  size_t count;
  // Commands whose attr is a union chosen by a field (BPF_LINK_CREATE by attach_type): the rules
  // apply when the u32 at `variant_at` is `variant` (kNoVariant: always).
  uint16_t variant_at;
  uint32_t variant;
};
constexpr uint16_t kNoVariant = 0xffff;

// bpf_attr offsets (include/uapi/linux/bpf.h; the same numbers as src/sys/generated.ts's ATTR).
constexpr PointerRule kElemKeyValue[] = {{8, Size::kMapKey, 0, 0, false}, {16, Size::kMapValue, 0, 0, false}};
constexpr PointerRule kElemKey[] = {{8, Size::kMapKey, 0, 0, false}, {16, Size::kRefused, 0, 0, false}};
constexpr PointerRule kElemNextKey[] = {{8, Size::kMapKey, 0, 0, false}, {16, Size::kMapKey, 0, 0, false}};
constexpr PointerRule kBatch[] = {{0, Size::kBatchToken, 0, 0, false}, {8, Size::kBatchToken, 0, 0, false},
                                  {16, Size::kBatchKeys, 32, 0, false}, {24, Size::kBatchValues, 32, 0, false}};
constexpr PointerRule kBatchDelete[] = {{0, Size::kRefused, 0, 0, false}, {8, Size::kRefused, 0, 0, false},
                                        {16, Size::kBatchKeys, 32, 0, false}, {24, Size::kRefused, 0, 0, false}};
constexpr PointerRule kProgLoad[] = {
    {8, Size::kCountConst, 4, 8, false},      // insns: insn_cnt * sizeof(struct bpf_insn)
    {16, Size::kCString, 0, 0, false},        // license
    {32, Size::kField32, 28, 0, false},       // log_buf: log_size
    {80, Size::kCountField, 88, 76, false},   // func_info: func_info_cnt * func_info_rec_size
    {96, Size::kCountField, 104, 92, false},  // line_info: line_info_cnt * line_info_rec_size
    {120, Size::kRefused, 0, 0, false},       // fd_array: kernels before fd_array_cnt read it unbounded
    {128, Size::kCountField, 116, 136, false},// core_relos: core_relo_cnt * core_relo_rec_size
    {152, Size::kField32, 160, 0, false},     // signature: signature_size
};
constexpr PointerRule kObj[] = {{0, Size::kCString, 0, 0, false}};  // pathname
constexpr PointerRule kTestRun[] = {{16, Size::kField32, 8, 0, false}, {24, Size::kField32, 12, 0, true},
                                    {48, Size::kField32, 40, 0, false}, {56, Size::kField32, 44, 0, false}};
constexpr PointerRule kInfo[] = {{8, Size::kField32, 4, 0, false}};  // info: info_len
constexpr PointerRule kRawTracepoint[] = {{0, Size::kCString, 0, 0, false}};  // name
constexpr PointerRule kBtfLoad[] = {{0, Size::kField32, 16, 0, false}, {8, Size::kField32, 20, 0, false}};
constexpr PointerRule kProgQuery[] = {{16, Size::kCountConst, 24, 4, false}, {32, Size::kCountConst, 24, 4, false},
                                      {40, Size::kCountConst, 24, 4, false}, {48, Size::kCountConst, 24, 4, false}};
constexpr PointerRule kTaskFdQuery[] = {{16, Size::kField32, 12, 0, false}};  // buf: buf_len
// BPF_LINK_CREATE by attach type: kprobe_multi's syms is an array of string pointers the bridge
// cannot check (use addrs); uprobe_multi's path is a string, its arrays cnt u64s; iter's info a
// bpf_iter_link_info of iter_info_len bytes.
constexpr PointerRule kLinkKprobeMulti[] = {{24, Size::kRefused, 0, 0, false}, {32, Size::kCountConst, 20, 8, false},
                                            {40, Size::kCountConst, 20, 8, false}};
constexpr PointerRule kLinkUprobeMulti[] = {{16, Size::kCString, 0, 0, false}, {24, Size::kCountConst, 48, 8, false},
                                            {32, Size::kCountConst, 48, 8, false}, {40, Size::kCountConst, 48, 8, false}};
constexpr PointerRule kLinkIter[] = {{16, Size::kField32, 24, 0, false}};
constexpr uint32_t kTraceIter = 28, kTraceKprobeMulti = 42, kTraceUprobeMulti = 48, kTraceKprobeSession = 56, kTraceUprobeSession = 57;

#define RULES(cmd, map_fd, table) {cmd, map_fd, table, sizeof table / sizeof table[0], kNoVariant, 0}
#define LINK_RULES(attach_type, table) {BPF_LINK_CREATE, kNoMapFd, table, sizeof table / sizeof table[0], 8, attach_type}
constexpr CommandRules kCommands[] = {
    RULES(BPF_MAP_LOOKUP_ELEM, 0, kElemKeyValue),
    RULES(BPF_MAP_UPDATE_ELEM, 0, kElemKeyValue),
    RULES(BPF_MAP_DELETE_ELEM, 0, kElemKey),
    RULES(BPF_MAP_GET_NEXT_KEY, 0, kElemNextKey),
    RULES(BPF_MAP_LOOKUP_AND_DELETE_ELEM, 0, kElemKeyValue),
    RULES(BPF_MAP_LOOKUP_BATCH, 36, kBatch),
    RULES(BPF_MAP_LOOKUP_AND_DELETE_BATCH, 36, kBatch),
    RULES(BPF_MAP_UPDATE_BATCH, 36, kBatch),
    RULES(BPF_MAP_DELETE_BATCH, 36, kBatchDelete),
    RULES(BPF_PROG_LOAD, kNoMapFd, kProgLoad),
    RULES(BPF_OBJ_PIN, kNoMapFd, kObj),
    RULES(BPF_OBJ_GET, kNoMapFd, kObj),
    RULES(BPF_PROG_TEST_RUN, kNoMapFd, kTestRun),
    RULES(BPF_OBJ_GET_INFO_BY_FD, kNoMapFd, kInfo),
    RULES(BPF_RAW_TRACEPOINT_OPEN, kNoMapFd, kRawTracepoint),
    RULES(BPF_BTF_LOAD, kNoMapFd, kBtfLoad),
    RULES(BPF_PROG_QUERY, kNoMapFd, kProgQuery),
    RULES(BPF_TASK_FD_QUERY, kNoMapFd, kTaskFdQuery),
    LINK_RULES(kTraceKprobeMulti, kLinkKprobeMulti),
    LINK_RULES(kTraceKprobeSession, kLinkKprobeMulti),
    LINK_RULES(kTraceUprobeMulti, kLinkUprobeMulti),
    LINK_RULES(kTraceUprobeSession, kLinkUprobeMulti),
    LINK_RULES(kTraceIter, kLinkIter),
};

// The pointers inside bpf_*_info structs (BPF_OBJ_GET_INFO_BY_FD), by the kind of object the fd is.
constexpr PointerRule kProgInfo[] = {
    {24, Size::kField32, 16, 0, false},        // jited_prog_insns: jited_prog_len
    {32, Size::kField32, 20, 0, false},        // xlated_prog_insns: xlated_prog_len
    {56, Size::kCountConst, 52, 4, false},     // map_ids: nr_map_ids * 4
    {112, Size::kCountConst, 104, 8, false},   // jited_ksyms: nr_jited_ksyms * 8
    {120, Size::kCountConst, 108, 4, false},   // jited_func_lens: nr_jited_func_lens * 4
    {136, Size::kCountField, 144, 132, false}, // func_info: nr_func_info * func_info_rec_size
    {152, Size::kCountField, 148, 172, false}, // line_info: nr_line_info * line_info_rec_size
    {160, Size::kCountField, 168, 176, false}, // jited_line_info: nr_jited_line_info * rec size
    {184, Size::kCountConst, 180, 8, false},   // prog_tags: nr_prog_tags * BPF_TAG_SIZE
};
constexpr PointerRule kBtfInfo[] = {{0, Size::kField32, 8, 0, false}, {16, Size::kField32, 24, 0, false}};
// A nested pointer pair's offset: kNestedBase + the field's offset inside the info struct.
constexpr uint32_t kNestedBase = 0x10000;
// bpf_link_info: the union after type, id and prog_id holds per-link-type pointers. The link's type
// is read from the kernel first; the union is zeroed and only that type's pointers are filled.
constexpr size_t kLinkInfoUnion = 16;
constexpr PointerRule kLinkInfoName[] = {{16, Size::kField32, 24, 0, false}};  // raw_tracepoint tp_name, iter target_name
constexpr PointerRule kLinkInfoPerf[] = {{24, Size::kField32, 32, 0, false}};  // perf_event file/func/tp name: name_len
constexpr PointerRule kLinkInfoKprobeMulti[] = {{16, Size::kCountConst, 24, 8, false}, {40, Size::kCountConst, 24, 8, false}};
constexpr PointerRule kLinkInfoUprobeMulti[] = {{16, Size::kField32, 48, 0, false}, {24, Size::kCountConst, 52, 8, false},
                                                {32, Size::kCountConst, 52, 8, false}, {40, Size::kCountConst, 52, 8, false}};
constexpr uint32_t kLinkTypeRawTracepoint = 1, kLinkTypeIter = 4, kLinkTypePerfEvent = 7, kLinkTypeKprobeMulti = 8, kLinkTypeUprobeMulti = 12;

// A bpf_link's type (enum bpf_link_type), or 0 if the kernel does not say.
uint32_t LinkType(int fd) {
  uint32_t head[4] = {};
  uint64_t attr[2] = {};
  auto* fields = reinterpret_cast<uint32_t*>(attr);
  fields[0] = static_cast<uint32_t>(fd);
  fields[1] = sizeof head;
  attr[1] = reinterpret_cast<uintptr_t>(head);
  if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, attr, sizeof attr) < 0) return 0;
  return head[0];
}

// The rules of cmd for this attr (commands whose attr is a union: the variant's).
const CommandRules* RulesFor(uint32_t cmd, const uint8_t* attr, size_t size) {
  for (const CommandRules& rules : kCommands) {
    if (rules.cmd != cmd) continue;
    if (rules.variant_at == kNoVariant) return &rules;
    uint32_t variant = 0;
    if (size_t{rules.variant_at} + 4 <= size) memcpy(&variant, attr + rules.variant_at, 4);
    if (variant == rules.variant) return &rules;
  }
  return nullptr;
}

// The sizes a map's element and batch commands access, from the kernel (BPF_OBJ_GET_INFO_BY_FD).
struct MapSizes {
  uint64_t key;
  uint64_t value;
};

// Possible CPUs (per-CPU values hold one slot each), read once as libbpf does.
uint64_t PossibleCpus() {
  static const uint64_t cpus = [] {
    FILE* file = fopen("/sys/devices/system/cpu/possible", "re");
    uint64_t count = 0;
    if (file != nullptr) {
      unsigned long first, last;
      int c;
      while (fscanf(file, "%lu", &first) == 1) {
        last = first;
        if ((c = fgetc(file)) == '-' && fscanf(file, "%lu", &last) == 1) c = fgetc(file);
        if (last >= first) count = std::max<uint64_t>(count, last + 1);
        if (c != ',') break;
      }
      fclose(file);
    }
    return count == 0 ? uint64_t{1} : count;
  }();
  return cpus;
}

bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

// 0, or -errno when fd is not a map.
int ReadMapSizes(int fd, MapSizes* sizes) {
  bpf_map_info info{};
  union bpf_attr attr{};
  attr.info.bpf_fd = static_cast<uint32_t>(fd);
  attr.info.info_len = sizeof info;
  attr.info.info = reinterpret_cast<uintptr_t>(&info);
  if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) < 0) return -errno;
  char link[64], target[32] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  // Program, link and BTF fds answer too, in another layout: only a map's sizes are map sizes.
  // (Without procfs this cannot be told; then the kernel itself refuses a map command on such an
  // fd before touching any buffer, so at worst the sizes refuse a call that would fail anyway.)
  if (readlink(link, target, sizeof target - 1) >= 0 && strcmp(target, "anon_inode:bpf-map") != 0) return -EINVAL;
  uint64_t stride = IsPerCpu(info.type) ? (uint64_t{info.value_size} + 7) / 8 * 8 : info.value_size;
  sizes->key = info.key_size;
  sizes->value = IsPerCpu(info.type) ? stride * PossibleCpus() : stride;
  return 0;
}

uint32_t U32At(const uint8_t* base, size_t size, size_t offset) {
  uint32_t value = 0;
  if (offset + 4 <= size) memcpy(&value, base + offset, 4);
  return value;
}

// A pointer offered for one call: where it goes, and the real extent of its buffer.
struct GivenPointer {
  uint32_t offset;
  void* data;
  size_t length;
  bool used;
};

constexpr size_t kMaxPointers = 6;

// Bytes the kernel accesses through `rule`'s pointer; UINT64_MAX when it needs the map's sizes and
// `map` is null.
uint64_t BytesFor(const PointerRule& rule, const uint8_t* base, size_t size, const MapSizes* map) {
  switch (rule.size) {
    case Size::kField32: return U32At(base, size, rule.a);
    case Size::kCountField: return uint64_t{U32At(base, size, rule.a)} * U32At(base, size, rule.b);
    case Size::kCountConst: return uint64_t{U32At(base, size, rule.a)} * rule.b;
    case Size::kCString: case Size::kRefused: return 0;
    default: break;
  }
  if (map == nullptr) return UINT64_MAX;
  switch (rule.size) {
    case Size::kMapKey: return map->key;
    case Size::kMapValue: return map->value;
    case Size::kBatchToken: return std::max<uint64_t>(map->key, 4);
    case Size::kBatchKeys: return uint64_t{U32At(base, size, rule.a)} * map->key;
    default: return uint64_t{U32At(base, size, rule.a)} * map->value;
  }
}

bool NeedsMap(Size size) {
  return size == Size::kMapKey || size == Size::kMapValue || size == Size::kBatchToken || size == Size::kBatchKeys || size == Size::kBatchValues;
}

// Applies a rule table to the struct at base (attr, or an info struct): each rule's field gets the
// pointer given for it, checked, or 0. False with a pending exception.
bool ApplyRules(napi_env env, const char* call, const PointerRule* rules, size_t count, uint8_t* base, size_t size,
                GivenPointer* given, size_t given_count, uint32_t offset_base, const MapSizes* map) {
  char message[256];
  for (size_t r = 0; r < count; r++) {
    const PointerRule& rule = rules[r];
    if (size_t{rule.offset} + 8 > size) continue;
    GivenPointer* pointer = nullptr;
    for (size_t g = 0; g < given_count; g++)
      if (given[g].offset == offset_base + rule.offset) pointer = &given[g];
    uint64_t address = 0;
    if (pointer != nullptr && pointer->data != nullptr) {
      pointer->used = true;
      if (rule.size == Size::kRefused) {
        snprintf(message, sizeof message, "%s: the pointer at offset %u is not one the bridge fills for this command", call, rule.offset);
        napi_throw_type_error(env, nullptr, message);
        return false;
      }
      uint64_t bytes = BytesFor(rule, base, size, map);
      bool unterminated = rule.size == Size::kCString && memchr(pointer->data, 0, pointer->length) == nullptr;
      bool unbounded = rule.zero_means_unbounded && bytes == 0;
      if (unterminated || unbounded || bytes > pointer->length) {
        if (unterminated) snprintf(message, sizeof message, "%s: the string at offset %u has no NUL inside its %zu bytes", call, rule.offset, pointer->length);
        else if (unbounded) snprintf(message, sizeof message, "%s: the buffer at offset %u has a size field of 0, which the kernel reads as unbounded", call, rule.offset);
        else snprintf(message, sizeof message, "%s: the buffer at offset %u holds %zu bytes; the kernel would access %llu", call, rule.offset, pointer->length, static_cast<unsigned long long>(bytes));
        napi_throw_range_error(env, nullptr, message);
        return false;
      }
      address = reinterpret_cast<uintptr_t>(pointer->data);
    } else if (pointer != nullptr) {
      pointer->used = true;
    }
    memcpy(base + rule.offset, &address, sizeof address);
  }
  return true;
}

// Reads the (offset, buffer) pairs. False with a pending exception.
bool ReadPointers(napi_env env, const char* call, napi_value* pairs, size_t count, size_t attr_size, GivenPointer* given, size_t* given_count) {
  char message[160];
  if (count % 2 != 0 || count / 2 > kMaxPointers) {
    snprintf(message, sizeof message, "%s: pointer fix-ups come as at most %zu (offset, buffer) pairs", call, kMaxPointers);
    ThrowType(env, message);
    return false;
  }
  for (size_t i = 0; i < count; i += 2) {
    int64_t offset;
    if (!IntegerArg(env, pairs[i], {call, "pointer offset", 0}, 0, kUint32Max, &offset)) return false;
    bool nested = offset >= kNestedBase;
    if (offset % 8 != 0 || (!nested && static_cast<size_t>(offset) + 8 > attr_size)) {
      snprintf(message, sizeof message, "%s: pointer offset %lld is outside attr (%zu bytes) or not 8-aligned", call, static_cast<long long>(offset), attr_size);
      napi_throw_range_error(env, nullptr, message);
      return false;
    }
    GivenPointer& pointer = given[i / 2];
    pointer = {static_cast<uint32_t>(offset), nullptr, 0, false};
    napi_valuetype kind;
    napi_typeof(env, pairs[i + 1], &kind);
    if (kind != napi_null && kind != napi_undefined &&
        !KernelBuffer(env, pairs[i + 1], call, "pointer buffer", Sharing::kAllowed, &pointer.data, &pointer.length))
      return false;
  }
  *given_count = count / 2;
  return true;
}

// What an fd is, from /proc/self/fd: "anon_inode:bpf-prog", "anon_inode:btf", ...
void FdTarget(int fd, char* out, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, out, size - 1);
  out[n < 0 ? 0 : n] = '\0';
}

// BPF_OBJ_GET_INFO_BY_FD's info struct holds pointers of its own, by object kind.
bool ApplyInfoRules(napi_env env, const char* call, uint8_t* attr, size_t attr_size, GivenPointer* given, size_t given_count) {
  GivenPointer* info = nullptr;
  for (size_t g = 0; g < given_count; g++)
    if (given[g].offset == 8) info = &given[g];
  bool nested = false;
  for (size_t g = 0; g < given_count; g++) nested = nested || given[g].offset >= kNestedBase;
  if (info == nullptr || info->data == nullptr) {
    if (nested) return ThrowType(env, "bpf: nested info pointers need the info buffer"), false;
    return true;
  }
  auto* base = static_cast<uint8_t*>(info->data);
  size_t size = std::min<size_t>(U32At(attr, attr_size, 4), info->length);
  char target[48];
  FdTarget(static_cast<int>(U32At(attr, attr_size, 0)), target, sizeof target);
  const PointerRule* rules = nullptr;
  size_t count = 0;
  if (strcmp(target, "anon_inode:bpf-prog") == 0) rules = kProgInfo, count = sizeof kProgInfo / sizeof kProgInfo[0];
  else if (strcmp(target, "anon_inode:btf") == 0) rules = kBtfInfo, count = sizeof kBtfInfo / sizeof kBtfInfo[0];
  else if (strcmp(target, "anon_inode:bpf-link") == 0 && size > kLinkInfoUnion) {
    if (nested) {
      uint32_t type = LinkType(static_cast<int>(U32At(attr, attr_size, 0)));
      if (type == kLinkTypeRawTracepoint || type == kLinkTypeIter) rules = kLinkInfoName, count = 1;
      else if (type == kLinkTypePerfEvent) rules = kLinkInfoPerf, count = 1;
      else if (type == kLinkTypeKprobeMulti) rules = kLinkInfoKprobeMulti, count = 2;
      else if (type == kLinkTypeUprobeMulti) rules = kLinkInfoUprobeMulti, count = 4;
    }
    // Everything in the union goes but the size fields the chosen rules read (the caller's).
    uint32_t sizes[4] = {};
    for (size_t r = 0; r < count; r++) sizes[r] = U32At(base, size, rules[r].a);
    memset(base + kLinkInfoUnion, 0, size - kLinkInfoUnion);
    for (size_t r = 0; r < count; r++)
      if (size_t{rules[r].a} + 4 <= size) memcpy(base + rules[r].a, &sizes[r], 4);
  }
  if (!ApplyRules(env, call, rules, count, base, size, given, given_count, kNestedBase, nullptr)) return false;
  return true;
}

// Checks and writes every pointer of one bpf(2) call into attr. False with a pending exception.
bool PreparePointers(napi_env env, const char* call, uint32_t cmd, uint8_t* attr, size_t attr_size, GivenPointer* given, size_t given_count, MapSizes* map_out, bool* has_map) {
  char message[192];
  const CommandRules* rules = RulesFor(cmd, attr, attr_size);
  *has_map = false;
  if (rules == nullptr) {
    if (given_count == 0) return true;
    snprintf(message, sizeof message, "%s: command %u (with this attr) takes no pointers in the bridge's table (kCommands)", call, cmd);
    ThrowType(env, message);
    return false;
  }
  bool needs_map = false;
  for (size_t r = 0; r < rules->count; r++) {
    if (!NeedsMap(rules->rules[r].size)) continue;
    for (size_t g = 0; g < given_count; g++) needs_map = needs_map || (given[g].offset == rules->rules[r].offset && given[g].data != nullptr);
  }
  if (needs_map) {
    int err = ReadMapSizes(static_cast<int>(U32At(attr, attr_size, rules->map_fd_offset)), map_out);
    if (err < 0) {
      // Not a map (or closed): no size to check against, so no buffer reaches the kernel.
      for (size_t g = 0; g < given_count; g++) given[g].data = nullptr;
    } else {
      *has_map = true;
    }
  }
  if (!ApplyRules(env, call, rules->rules, rules->count, attr, attr_size, given, given_count, 0, *has_map ? map_out : nullptr)) return false;
  if (cmd == BPF_OBJ_GET_INFO_BY_FD && !ApplyInfoRules(env, call, attr, attr_size, given, given_count)) return false;
  for (size_t g = 0; g < given_count; g++) {
    if (given[g].used || given[g].offset >= kNestedBase) continue;
    snprintf(message, sizeof message, "%s: offset %u is not a pointer field of command %u", call, given[g].offset, cmd);
    napi_throw_type_error(env, nullptr, message);
    return false;
  }
  for (size_t g = 0; g < given_count; g++) {
    if (given[g].used || given[g].offset < kNestedBase) continue;
    snprintf(message, sizeof message, "%s: info offset %u is not a pointer field of that object's info", call, given[g].offset - kNestedBase);
    napi_throw_type_error(env, nullptr, message);
    return false;
  }
  return true;
}

// attr: not shared (the kernel reads sizes from it), at most a page (the kernel's own limit).
bool AttrBytes(napi_env env, napi_value value, const char* call, void** data, size_t* size) {
  if (!KernelBuffer(env, value, call, "attr", Sharing::kRefused, data, size)) return false;
  if (*size <= 4096) return true;
  char message[96];
  snprintf(message, sizeof message, "%s: attr of %zu bytes is larger than a page", call, *size);
  napi_throw_range_error(env, nullptr, message);
  return false;
}

// bpf(cmd, attr, off1?, buf1?, ... off6?, buf6?): writes the pointers (checked against the command's
// rules), then calls bpf(2) on attr.
napi_value Bpf(napi_env env, napi_callback_info info) {
  size_t argc = 2 + 2 * kMaxPointers + 1;
  napi_value argv[2 + 2 * kMaxPointers + 1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t cmd;
  void* attr;
  size_t attr_size;
  GivenPointer given[kMaxPointers];
  size_t given_count = 0;
  MapSizes map;
  bool has_map;
  if (!IntegerArg(env, argv[0], {"bpf", "cmd", 0}, 0, kUint32Max, &cmd) || !AttrBytes(env, argv[1], "bpf", &attr, &attr_size) ||
      !ReadPointers(env, "bpf", argv + 2, argc > 2 ? argc - 2 : 0, attr_size, given, &given_count) ||
      !PreparePointers(env, "bpf", static_cast<uint32_t>(cmd), static_cast<uint8_t*>(attr), attr_size, given, given_count, &map, &has_map))
    return nullptr;
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(ErrnoResult(syscall(SYS_bpf, static_cast<int>(cmd), attr, attr_size))), &result);
  return result;
}

// ---- Prepared element calls: the map hot path ----------------------------------------------------
//
// bpfPrepare(cmd, attr, keyOffset, key, valueOffset, value) checks a map element command once and
// keeps it in C memory for bpfRun, so a run converts nothing but the handle (and the flags):
// - the buffers are views on a `scratch` ArrayBuffer, memory the bridge allocated and frees only when
//   both the ArrayBuffer and every prepared call using it are gone (a reference count): detaching,
//   transferring or collecting the ArrayBuffer cannot free memory a prepared call writes to;
// - attr is a private copy (JS cannot change it between runs);
// - the map fd is a private dup whose key and value sizes the buffers were checked against: closing
//   or reusing the caller's fd number cannot point the call at another map.
// bpfRelease closes the dup and drops the scratch now (map.close()); the GC does it otherwise.

struct PollHandle;
struct Mapping;

struct Scratch {
  std::atomic<int> refs;
  size_t size;
  uint8_t* data;
};

// Per-environment state (one per main thread / worker), set as the addon's instance data.
struct Instance {
  std::unordered_map<void*, Mapping*> mappings;  // by address: munmap(buffer) finds its mapping
  std::unordered_map<void*, Scratch*> scratches; // by address: bpfPrepare finds a view's scratch
  std::unordered_set<PollHandle*> polls;  // active polls, stopped when the environment exits
};

Instance* GetInstance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<Instance*>(data);
}

void ReleaseScratch(Scratch* scratch) {
  if (scratch->refs.fetch_sub(1) != 1) return;
  free(scratch->data);
  delete scratch;
}

// Runs on the JS thread (Node-API's external ArrayBuffers are Buffers underneath).
void FinalizeScratch(napi_env env, void* /*data*/, void* hint) {
  auto* scratch = static_cast<Scratch*>(hint);
  if (Instance* instance = GetInstance(env)) instance->scratches.erase(scratch->data);
  ReleaseScratch(scratch);
}

// scratch(size): a zeroed, 8-aligned ArrayBuffer the bridge owns, for prepared calls' buffers.
napi_value ScratchBuffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  int64_t size;
  if (!IntegerArg(env, arg, {"scratch", "size", 0}, 1, 1 << 30, &size)) return nullptr;
  auto* scratch = new Scratch{{1}, static_cast<size_t>(size), static_cast<uint8_t*>(calloc(1, static_cast<size_t>(size)))};
  napi_value buffer;
  if (scratch->data == nullptr || napi_create_external_arraybuffer(env, scratch->data, scratch->size, FinalizeScratch, scratch, &buffer) != napi_ok) {
    free(scratch->data);
    delete scratch;
    napi_throw_error(env, nullptr, "scratch: cannot allocate");
    return nullptr;
  }
  GetInstance(env)->scratches[scratch->data] = scratch;
  return buffer;
}

// The scratch a view lies on (nullptr, with a TypeError pending, when it is not on a live one).
Scratch* ScratchOf(napi_env env, napi_value view, void** data, size_t* length) {
  napi_value array_buffer;
  void* base = nullptr;
  size_t base_length = 0;
  if (ViewBytes(env, view, data, length) && ViewBuffer(env, view, &array_buffer) &&
      napi_get_arraybuffer_info(env, array_buffer, &base, &base_length) == napi_ok && base != nullptr) {
    Instance* instance = GetInstance(env);
    auto found = instance->scratches.find(base);
    if (found != instance->scratches.end()) return found->second;
  }
  ThrowType(env, "bpfPrepare: buffers must be views on one live scratch() ArrayBuffer");
  return nullptr;
}

// The private dup of a map fd and the map's sizes, shared by the prepared calls of one map (each
// prepared from the first: bpfPrepare(cmd, firstPrepared, ...)); closed with the last of them.
struct MapRef {
  std::atomic<int> refs;
  int fd;
  int sizes_error;  // 0, or -errno when the fd is not a map (then no buffer reaches the kernel)
  MapSizes sizes;
};

void ReleaseMapRef(MapRef* map) {
  if (map->refs.fetch_sub(1) != 1) return;
  close(map->fd);
  delete map;
}

struct PreparedBpf {
  uint32_t magic;  // tells our Externals from another addon's
  uint32_t cmd;
  int map_fd;      // the MapRef's fd, -1 once released
  MapRef* map;
  Scratch* scratch;
  alignas(8) uint8_t attr[32];
};
constexpr uint32_t kPreparedMagic = 0x65627066;  // "ebpf"

void ReleasePrepared(PreparedBpf* prepared) {
  if (prepared->map != nullptr) ReleaseMapRef(prepared->map);
  prepared->map = nullptr;
  prepared->map_fd = -1;
  if (prepared->scratch != nullptr) ReleaseScratch(prepared->scratch);
  prepared->scratch = nullptr;
}

void FinalizePrepared(napi_env, void* data, void*) {
  auto* prepared = static_cast<PreparedBpf*>(data);
  ReleasePrepared(prepared);
  prepared->magic = 0;
  delete prepared;
}

PreparedBpf* PreparedArg(napi_env env, napi_value handle, const char* call) {
  void* data = nullptr;
  if (napi_get_value_external(env, handle, &data) != napi_ok || data == nullptr || static_cast<PreparedBpf*>(data)->magic != kPreparedMagic) {
    char message[96];
    snprintf(message, sizeof message, "%s(prepared): prepared must come from bpfPrepare", call);
    ThrowType(env, message);
    return nullptr;
  }
  return static_cast<PreparedBpf*>(data);
}

bool IsElementCommand(int64_t cmd) {
  return cmd == BPF_MAP_LOOKUP_ELEM || cmd == BPF_MAP_UPDATE_ELEM || cmd == BPF_MAP_DELETE_ELEM ||
         cmd == BPF_MAP_GET_NEXT_KEY || cmd == BPF_MAP_LOOKUP_AND_DELETE_ELEM;
}

// bpfRun(prepared, flags?): bpf(2) with the prepared command; the result or -errno (-EBADF once
// released). flags (the element flags, default 0) is the one field that changes between runs.
napi_value BpfRun(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  PreparedBpf* prepared = PreparedArg(env, argv[0], "bpfRun");
  if (prepared == nullptr) return nullptr;
  uint64_t flags = 0;
  if (argc > 1) {
    int64_t value;
    if (!IntegerArg(env, argv[1], {"bpfRun", "flags", 1}, 0, kSafeMax, &value)) return nullptr;
    flags = static_cast<uint64_t>(value);
  }
  long ret = -EBADF;
  if (prepared->map_fd >= 0) {
    memcpy(prepared->attr + 24, &flags, sizeof flags);
    ret = ErrnoResult(syscall(SYS_bpf, prepared->cmd, prepared->attr, sizeof prepared->attr));
  }
  if (ret == 0) return nullptr;  // undefined: creating the number 0 is a fifth of a run's cost
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(ret), &result);
  return result;
}

// Checks the pointers against the map behind the private fd (all on one scratch) and writes them
// into the private attr. False with a pending exception.
bool FillPrepared(napi_env env, PreparedBpf* prepared, napi_value* pairs, size_t pair_count) {
  GivenPointer given[2];
  for (size_t i = 0; i < pair_count; i++) {
    int64_t offset;
    if (!IntegerArg(env, pairs[2 * i], {"bpfPrepare", "pointer offset", 0}, 0, 31, &offset)) return false;
    given[i] = {static_cast<uint32_t>(offset), nullptr, 0, false};
    napi_valuetype kind;
    napi_typeof(env, pairs[2 * i + 1], &kind);
    if (kind == napi_null || kind == napi_undefined) continue;
    Scratch* scratch = ScratchOf(env, pairs[2 * i + 1], &given[i].data, &given[i].length);
    if (scratch == nullptr) return false;
    if (prepared->scratch != nullptr && prepared->scratch != scratch) return ThrowType(env, "bpfPrepare: both buffers must be on one scratch()"), false;
    if (prepared->scratch == nullptr) scratch->refs.fetch_add(1);
    prepared->scratch = scratch;
  }
  if (prepared->map->sizes_error < 0) {
    for (size_t i = 0; i < pair_count; i++) given[i].data = nullptr;  // not a map: runs answer the kernel's error
  }
  const CommandRules* rules = RulesFor(prepared->cmd, prepared->attr, sizeof prepared->attr);
  if (!ApplyRules(env, "bpfPrepare", rules->rules, rules->count, prepared->attr, sizeof prepared->attr, given, pair_count, 0, &prepared->map->sizes)) return false;
  for (size_t i = 0; i < pair_count; i++) {
    if (given[i].used) continue;
    char message[96];
    snprintf(message, sizeof message, "bpfPrepare: offset %u is not a pointer field of command %u", given[i].offset, prepared->cmd);
    ThrowType(env, message);
    return false;
  }
  return true;
}

// The map of a bpfPrepare call: a new private dup of the fd in attr, or the one of a prepared call
// given instead of attr. nullptr with *err set (-errno of the dup) or an exception pending.
MapRef* PrepareMap(napi_env env, napi_value source, int* err) {
  *err = 0;
  void* data = nullptr;
  napi_valuetype kind;
  napi_typeof(env, source, &kind);
  if (kind == napi_external) {
    PreparedBpf* base = PreparedArg(env, source, "bpfPrepare");
    if (base == nullptr) return nullptr;
    if (base->map == nullptr) {
      *err = -EBADF;  // released
      return nullptr;
    }
    base->map->refs.fetch_add(1);
    return base->map;
  }
  size_t size;
  if (!AttrBytes(env, source, "bpfPrepare", &data, &size)) return nullptr;
  if (size < 8) return ThrowType(env, "bpfPrepare: attr must hold the map fd"), nullptr;
  int fd = fcntl(static_cast<int>(U32At(static_cast<uint8_t*>(data), size, 0)), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    *err = -errno;
    return nullptr;
  }
  auto* map = new MapRef{{1}, fd, 0, {0, 0}};
  map->sizes_error = ReadMapSizes(fd, &map->sizes);
  return map;
}

// bpfPrepare(cmd, attrOrPrepared, off1?, buf1?, off2?, buf2?): an opaque handle for bpfRun (map
// element commands only). An attr supplies the map fd (duplicated; attr is not kept); a prepared
// call instead shares that call's dup.
napi_value BpfPrepare(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t cmd;
  if (!IntegerArg(env, argv[0], {"bpfPrepare", "cmd", 0}, 0, kUint32Max, &cmd)) return nullptr;
  if (!IsElementCommand(cmd)) return ThrowType(env, "bpfPrepare: only map element commands (with an attr holding the map fd) are prepared");
  if (argc > 6 || argc % 2 != 0) return ThrowType(env, "bpfPrepare: at most two (offset, buffer) pairs");
  int err;
  MapRef* map = PrepareMap(env, argv[1], &err);
  napi_value result;
  if (map == nullptr) {
    if (err < 0) napi_create_int32(env, err, &result);
    return err < 0 ? result : nullptr;
  }
  auto* prepared = new PreparedBpf{kPreparedMagic, static_cast<uint32_t>(cmd), map->fd, map, nullptr, {}};
  uint32_t fd_field = static_cast<uint32_t>(map->fd);
  memcpy(prepared->attr, &fd_field, sizeof fd_field);
  if (!FillPrepared(env, prepared, argv + 2, (argc - 2) / 2) || napi_create_external(env, prepared, FinalizePrepared, nullptr, &result) != napi_ok) {
    ReleasePrepared(prepared);
    delete prepared;
    return nullptr;
  }
  return result;
}

// bpfRelease(prepared): closes the prepared call's map fd and drops its scratch now (idempotent).
napi_value BpfRelease(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value handle;
  napi_get_cb_info(env, info, &argc, &handle, nullptr, nullptr);
  PreparedBpf* prepared = PreparedArg(env, handle, "bpfRelease");
  if (prepared != nullptr) ReleasePrepared(prepared);
  return nullptr;
}

// ---- Helpers for the node-addon-api calls below --------------------------------------------------

// An integer argument in [min, max] (by default an int: fds, socket options, flags).
bool ArgInt(const Napi::CallbackInfo& info, size_t i, int64_t* out, double min = kInt32Min, double max = kInt32Max) {
  return IntegerArg(info.Env(), info[i], {nullptr, nullptr, i}, min, max, out);
}

// A buffer argument (real pointer and length; detached and resizable buffers refused).
bool ArgView(const Napi::CallbackInfo& info, size_t i, void** data, size_t* length) {
  std::string what = "argument " + std::to_string(i);
  return KernelBuffer(info.Env(), info[i], "bridge", what.c_str(), Sharing::kAllowed, data, length);
}

// A Uint8Array or null/undefined (data = nullptr).
bool ArgOptionalView(const Napi::CallbackInfo& info, size_t i, void** data, size_t* length) {
  if (info[i].IsNull() || info[i].IsUndefined()) {
    *data = nullptr;
    *length = 0;
    return true;
  }
  return ArgView(info, i, data, length);
}

Napi::Value Result(const Napi::CallbackInfo& info, long ret) { return Napi::Number::New(info.Env(), static_cast<double>(ErrnoResult(ret))); }

Napi::Value Close(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return {};
  // Linux releases the fd even when close() reports EINTR, so never retry.
  return Result(info, close(static_cast<int>(fd)));
}

// fdIdentity(fd, out): what fd refers to now, as 40 bytes in out: st_dev, st_ino, st_mode (u64 each),
// then, for anonymous-inode files (every BPF map shares one inode, every program too), the first
// 16 bytes: the type and id from the kernel's BPF_OBJ_GET_INFO_BY_FD answer (maps, programs, links),
// then zeros (zeros throughout for other files). 0, or -errno when fd is not open. FD compares it before closing.
Napi::Value FdIdentity(const Napi::CallbackInfo& info) {
  int64_t fd;
  void* data;
  size_t length;
  if (!ArgInt(info, 0, &fd) || !ArgView(info, 1, &data, &length)) return {};
  if (length < 40) {
    Napi::RangeError::New(info.Env(), "fdIdentity: out must hold 40 bytes").ThrowAsJavaScriptException();
    return {};
  }
  struct stat st;
  if (syscall(SYS_fstat, static_cast<int>(fd), &st) < 0) return Result(info, -1);
  uint64_t words[3] = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_mode)};
  uint8_t object[16] = {0};
  if ((st.st_mode & S_IFMT) == 0) {
    union bpf_attr attr{};
    attr.info.bpf_fd = static_cast<uint32_t>(fd);
    attr.info.info_len = sizeof object;
    attr.info.info = reinterpret_cast<uintptr_t>(object);
    if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof attr) < 0) memset(object, 0, sizeof object);
    // Only type and id name the object: a link's next field (its program's id) changes on update.
    memset(object + 8, 0, sizeof object - 8);
  }
  memcpy(data, words, sizeof words);
  memcpy(static_cast<uint8_t*>(data) + sizeof words, object, sizeof object);
  return Napi::Number::New(info.Env(), 0);
}

// dup(fd): a new close-on-exec descriptor for the same open file.
Napi::Value Dup(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return {};
  return Result(info, fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 0));
}

// perfEventOpen(attr, pid, cpu, groupFd, flags): the kernel reads attr.size bytes (64, the first
// version's size, when 0), so attr.size is checked against the real buffer, on a private copy no
// other thread can change.
// perf_event_attr's config1 (a union with kprobe_func, uprobe_path, bp_addr).
constexpr size_t kPerfAttrConfig1 = 56;

Napi::Value PerfEventOpen(const Napi::CallbackInfo& info) {
  void* data;
  size_t length;
  int64_t pid, cpu, group_fd, flags;
  if (!KernelBuffer(info.Env(), info[0], "perfEventOpen", "attr", Sharing::kAllowed, &data, &length) || !ArgInt(info, 1, &pid) ||
      !ArgInt(info, 2, &cpu) || !ArgInt(info, 3, &group_fd) || !ArgInt(info, 4, &flags, 0, kUint32Max))
    return {};
  alignas(8) uint8_t attr[512] = {0};
  memcpy(attr, data, std::min(length, sizeof attr));
  uint32_t size = U32At(attr, sizeof attr, 4);
  uint32_t reads = size == 0 ? PERF_ATTR_SIZE_VER0 : size;
  if (length < PERF_ATTR_SIZE_VER0 || reads > length || reads > sizeof attr) {
    char message[160];
    snprintf(message, sizeof message, "perfEventOpen: attr.size %u asks the kernel to read %u bytes of a %zu-byte attr (at least %d, at most %zu)",
             size, reads, length, PERF_ATTR_SIZE_VER0, sizeof attr);
    Napi::RangeError::New(info.Env(), message).ThrowAsJavaScriptException();
    return {};
  }
  // The kprobe and uprobe PMUs read a function name or a path through config1 (kprobe_func /
  // uprobe_path): an optional NUL-terminated string, whose address the bridge writes there itself.
  if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull()) {
    void* text;
    size_t text_length;
    if (!KernelBuffer(info.Env(), info[5], "perfEventOpen", "config1 string", Sharing::kAllowed, &text, &text_length)) return {};
    if (memchr(text, 0, text_length) == nullptr) {
      Napi::RangeError::New(info.Env(), "perfEventOpen: the config1 string has no NUL inside its buffer").ThrowAsJavaScriptException();
      return {};
    }
    uint64_t address = reinterpret_cast<uintptr_t>(text);
    memcpy(attr + kPerfAttrConfig1, &address, sizeof address);
  }
  long ret = syscall(SYS_perf_event_open, attr, static_cast<pid_t>(pid), static_cast<int>(cpu), static_cast<int>(group_fd),
                     static_cast<unsigned long>(flags));
  int saved = errno;
  memcpy(data, attr, std::min<size_t>(length, sizeof attr));  // E2BIG writes the kernel's size back
  errno = saved;
  return Result(info, ret);
}

// How an ioctl uses its argument. Requests encode their argument's size (_IOC_SIZE) except the
// legacy ones, and some encoded ones take a value despite their encoding (perf's fd arguments).
enum class IoctlArg : uint8_t { kValue, kBuffer, kPerfAttr, kPerfQueryBpf };
struct IoctlRule {
  unsigned long request;
  IoctlArg arg;
  size_t size;
};
constexpr IoctlRule kIoctls[] = {
    {FIONREAD, IoctlArg::kBuffer, sizeof(int)},
    {TIOCOUTQ, IoctlArg::kBuffer, sizeof(int)},
    {PERF_EVENT_IOC_ENABLE, IoctlArg::kValue, 0},
    {PERF_EVENT_IOC_DISABLE, IoctlArg::kValue, 0},
    {PERF_EVENT_IOC_REFRESH, IoctlArg::kValue, 0},
    {PERF_EVENT_IOC_RESET, IoctlArg::kValue, 0},
    {PERF_EVENT_IOC_SET_OUTPUT, IoctlArg::kValue, 0},
    {PERF_EVENT_IOC_SET_BPF, IoctlArg::kValue, 0},
    {PERF_EVENT_IOC_PAUSE_OUTPUT, IoctlArg::kValue, 0},
    {PERF_EVENT_IOC_PERIOD, IoctlArg::kBuffer, sizeof(uint64_t)},
    {PERF_EVENT_IOC_ID, IoctlArg::kBuffer, sizeof(uint64_t)},
    {PERF_EVENT_IOC_MODIFY_ATTRIBUTES, IoctlArg::kPerfAttr, 0},
    {PERF_EVENT_IOC_QUERY_BPF, IoctlArg::kPerfQueryBpf, 0},
};

// The bytes the kernel accesses through an ioctl's buffer argument; -1 when the request takes a
// value, -2 when the bridge does not know the request's argument.
long IoctlBytes(unsigned long request, const uint8_t* data, size_t length) {
  for (const IoctlRule& rule : kIoctls) {
    if (rule.request != request) continue;
    switch (rule.arg) {
      case IoctlArg::kValue: return -1;
      case IoctlArg::kBuffer: return static_cast<long>(rule.size);
      case IoctlArg::kPerfAttr: {
        uint32_t size = length >= 8 ? U32At(data, length, 4) : 0;
        return size == 0 ? PERF_ATTR_SIZE_VER0 : size;
      }
      case IoctlArg::kPerfQueryBpf: return 8 + 4 * static_cast<long>(length >= 4 ? U32At(data, length, 0) : 0);  // ids_len, prog_cnt, ids[]
    }
  }
  return _IOC_DIR(request) == _IOC_NONE ? -2 : static_cast<long>(_IOC_SIZE(request));
}

// ioctl(fd, request, arg): a number for requests that take a value, a buffer large enough for
// requests that take a pointer (a number there would be an address the kernel writes to).
Napi::Value Ioctl(const Napi::CallbackInfo& info) {
  int64_t fd, request;
  // The kernel's request is an unsigned int: accept it as a u32 or as the same bits in an int32.
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &request, kInt32Min, kUint32Max)) return {};
  unsigned long req = static_cast<uint32_t>(request);
  char message[160];
  if (info[2].IsNumber()) {
    int64_t arg;
    if (!ArgInt(info, 2, &arg, -kSafeMax, kSafeMax)) return {};
    if (IoctlBytes(req, nullptr, 0) != -1 && arg != 0) {
      snprintf(message, sizeof message, "ioctl: request 0x%lx takes a buffer (or the bridge does not know it), not the number %lld", req, static_cast<long long>(arg));
      Napi::TypeError::New(info.Env(), message).ThrowAsJavaScriptException();
      return {};
    }
    return Result(info, ioctl(static_cast<int>(fd), req, static_cast<unsigned long>(arg)));
  }
  void* data;
  size_t length;
  if (!KernelBuffer(info.Env(), info[2], "ioctl", "arg", Sharing::kRefused, &data, &length)) return {};
  long bytes = IoctlBytes(req, static_cast<uint8_t*>(data), length);
  if (bytes < 0 || static_cast<size_t>(bytes) > length) {
    if (bytes < 0) snprintf(message, sizeof message, "ioctl: request 0x%lx takes %s, not a buffer", req, bytes == -1 ? "a number" : "an argument the bridge does not know");
    else snprintf(message, sizeof message, "ioctl: request 0x%lx accesses %ld bytes; the buffer holds %zu", req, bytes, length);
    if (bytes < 0) Napi::TypeError::New(info.Env(), message).ThrowAsJavaScriptException();
    else Napi::RangeError::New(info.Env(), message).ThrowAsJavaScriptException();
    return {};
  }
  return Result(info, ioctl(static_cast<int>(fd), req, data));
}

// ---- mmap: external ArrayBuffers over mappings ---------------------------------------------------

struct Mapping {
  void* address;
  size_t length;
};

void FinalizeMapping(napi_env env, void* /*data*/, void* hint) {
  auto* mapping = static_cast<Mapping*>(hint);
  if (mapping->address != nullptr) {
    munmap(mapping->address, mapping->length);
    if (Instance* instance = GetInstance(env)) instance->mappings.erase(mapping->address);
  }
  delete mapping;
}

Napi::Value Mmap(const Napi::CallbackInfo& info) {
  int64_t fd, length, prot, flags, offset;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &length, -kSafeMax, kSafeMax) || !ArgInt(info, 2, &prot) ||
      !ArgInt(info, 3, &flags) || !ArgInt(info, 4, &offset, 0, kSafeMax))
    return {};
  if (length <= 0) return Napi::Number::New(info.Env(), -EINVAL);
  // Pages past a regular file's end raise SIGBUS when touched, long after this call: refuse them
  // now. (Perf and ring-buffer fds are not regular files; the kernel checks their sizes itself.)
  struct stat st;
  if (syscall(SYS_fstat, static_cast<int>(fd), &st) == 0 && S_ISREG(st.st_mode) && offset + length > st.st_size) {
    char message[160];
    snprintf(message, sizeof message, "mmap: offset %lld + length %lld is past the end of the file (%lld bytes)",
             static_cast<long long>(offset), static_cast<long long>(length), static_cast<long long>(st.st_size));
    Napi::RangeError::New(info.Env(), message).ThrowAsJavaScriptException();
    return {};
  }
  void* address = mmap(nullptr, static_cast<size_t>(length), static_cast<int>(prot), static_cast<int>(flags),
                       static_cast<int>(fd), static_cast<off_t>(offset));
  if (address == MAP_FAILED) return Napi::Number::New(info.Env(), -errno);
  auto* mapping = new Mapping{address, static_cast<size_t>(length)};
  napi_value buffer;
  if (napi_create_external_arraybuffer(info.Env(), address, mapping->length, FinalizeMapping, mapping, &buffer) != napi_ok) {
    munmap(address, mapping->length);
    delete mapping;
    Napi::Error::New(info.Env(), "mmap: cannot create an external ArrayBuffer").ThrowAsJavaScriptException();
    return {};
  }
  GetInstance(info.Env())->mappings[address] = mapping;
  return Napi::Value(info.Env(), buffer);
}

// munmap(buffer): unmaps now and detaches the buffer (its length becomes 0), so no view can touch
// the unmapped pages; the finalizer then only frees the bookkeeping.
Napi::Value Munmap(const Napi::CallbackInfo& info) {
  if (!info[0].IsArrayBuffer()) {
    Napi::TypeError::New(info.Env(), "munmap(buffer): buffer must be an ArrayBuffer from mmap").ThrowAsJavaScriptException();
    return {};
  }
  auto buffer = info[0].As<Napi::ArrayBuffer>();
  Instance* instance = GetInstance(info.Env());
  auto found = instance->mappings.find(buffer.Data());
  if (buffer.ByteLength() == 0 || found == instance->mappings.end()) return Napi::Number::New(info.Env(), -EINVAL);
  Mapping* mapping = found->second;
  instance->mappings.erase(found);
  int ret = munmap(mapping->address, mapping->length);
  mapping->address = nullptr;
  buffer.Detach();
  return Result(info, ret);
}

// ---- sockets (netlink) ---------------------------------------------------------------------------

Napi::Value Socket(const Napi::CallbackInfo& info) {
  int64_t domain, type, protocol;
  if (!ArgInt(info, 0, &domain) || !ArgInt(info, 1, &type) || !ArgInt(info, 2, &protocol)) return {};
  return Result(info, socket(static_cast<int>(domain), static_cast<int>(type) | SOCK_CLOEXEC, static_cast<int>(protocol)));
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  int64_t fd;
  void* address;
  size_t length;
  if (!ArgInt(info, 0, &fd) || !ArgView(info, 1, &address, &length)) return {};
  return Result(info, bind(static_cast<int>(fd), static_cast<sockaddr*>(address), static_cast<socklen_t>(length)));
}

Napi::Value Sendmsg(const Napi::CallbackInfo& info) {
  int64_t fd;
  void *data, *address;
  size_t length, address_length;
  if (!ArgInt(info, 0, &fd) || !ArgView(info, 1, &data, &length) || !ArgOptionalView(info, 2, &address, &address_length))
    return {};
  iovec iov{data, length};
  msghdr message{};
  message.msg_name = address;
  message.msg_namelen = static_cast<socklen_t>(address_length);
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  ssize_t sent;
  do sent = sendmsg(static_cast<int>(fd), &message, 0);
  while (sent < 0 && errno == EINTR);
  return Result(info, sent);
}

Napi::Value Recvmsg(const Napi::CallbackInfo& info) {
  int64_t fd, flags;
  void* data;
  size_t length;
  if (!ArgInt(info, 0, &fd) || !ArgView(info, 1, &data, &length) || !ArgInt(info, 2, &flags)) return {};
  iovec iov{data, length};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  ssize_t received;
  do received = recvmsg(static_cast<int>(fd), &message, static_cast<int>(flags));
  while (received < 0 && errno == EINTR);
  return Result(info, received);
}

Napi::Value Setsockopt(const Napi::CallbackInfo& info) {
  int64_t fd, level, name;
  void* value;
  size_t length;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) || !ArgView(info, 3, &value, &length))
    return {};
  return Result(info, setsockopt(static_cast<int>(fd), static_cast<int>(level), static_cast<int>(name), value,
                                 static_cast<socklen_t>(length)));
}

Napi::Value Getsockopt(const Napi::CallbackInfo& info) {
  int64_t fd, level, name;
  void* value;
  size_t length;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) || !ArgView(info, 3, &value, &length))
    return {};
  socklen_t out_length = static_cast<socklen_t>(length);
  int ret = getsockopt(static_cast<int>(fd), static_cast<int>(level), static_cast<int>(name), value, &out_length);
  return Result(info, ret < 0 ? ret : static_cast<long>(out_length));
}

// ---- fd readiness on the calling thread's own loop -----------------------------------------------

struct PollHandle {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref self;  // keeps the JS handle (and so this struct) alive while polling
  napi_async_context context;
  bool stopping;
};

void OnPollClosed(uv_handle_t* handle) { delete static_cast<PollHandle*>(handle->data); }

// Stops polling and releases the references; the struct is freed once libuv has closed the handle.
void StopPoll(PollHandle* handle, bool release_js) {
  if (handle->stopping) return;
  handle->stopping = true;
  if (Instance* instance = GetInstance(handle->env)) instance->polls.erase(handle);
  uv_poll_stop(&handle->poll);
  if (release_js) {
    napi_delete_reference(handle->env, handle->callback);
    napi_delete_reference(handle->env, handle->self);
    napi_async_destroy(handle->env, handle->context);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&handle->poll), OnPollClosed);
}

void OnPollEvent(uv_poll_t* poll, int status, int events) {
  auto* handle = static_cast<PollHandle*>(poll->data);
  if (handle->stopping) return;
  napi_env env = handle->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, receiver, argv[2], result;
  napi_get_reference_value(env, handle->callback, &callback);
  napi_get_reference_value(env, handle->self, &receiver);  // make_callback needs an object receiver
  napi_create_int32(env, status, &argv[0]);
  napi_create_int32(env, events, &argv[1]);
  // make_callback runs the microtask queue afterwards and reports a throw as an uncaught exception.
  if (napi_make_callback(env, handle->context, receiver, callback, 2, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

// The JS handle is only finalized after pollStop released it (or at environment teardown).
void FinalizePollObject(napi_env, void*, void*) {}

Napi::Value Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd, events;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &events, 0, UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED)) return {};
  if (!info[2].IsFunction()) {
    Napi::TypeError::New(env, "poll(fd, events, callback): callback must be a function").ThrowAsJavaScriptException();
    return {};
  }
  uv_loop_s* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Napi::Error::New(env, "poll: no event loop for this thread").ThrowAsJavaScriptException();
    return {};
  }
  auto* handle = new PollHandle{};
  handle->env = env;
  handle->poll.data = handle;
  int ret = uv_poll_init(loop, &handle->poll, static_cast<int>(fd));
  if (ret < 0) {
    delete handle;  // uv_poll_init registers nothing when it fails
    return Napi::Number::New(env, ret);
  }
  ret = uv_poll_start(&handle->poll, static_cast<int>(events), OnPollEvent);
  if (ret < 0) {
    handle->stopping = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle->poll), OnPollClosed);
    return Napi::Number::New(env, ret);
  }
  Napi::Object object = Napi::Object::New(env);
  napi_wrap(env, object, handle, FinalizePollObject, nullptr, nullptr);
  napi_create_reference(env, info[2], 1, &handle->callback);
  napi_create_reference(env, object, 1, &handle->self);
  napi_async_init(env, object, Napi::String::New(env, "ebpf:poll"), &handle->context);
  GetInstance(env)->polls.insert(handle);
  return object;
}

Napi::Value PollStop(const Napi::CallbackInfo& info) {
  void* data = nullptr;
  if (!info[0].IsObject() || napi_unwrap(info.Env(), info[0], &data) != napi_ok || data == nullptr) {
    Napi::TypeError::New(info.Env(), "pollStop(handle): handle must come from poll()").ThrowAsJavaScriptException();
    return {};
  }
  napi_remove_wrap(info.Env(), info[0], nullptr);
  StopPoll(static_cast<PollHandle*>(data), true);
  return info.Env().Undefined();
}

// ---- ring head/tail with the memory ordering the kernel's ring protocol requires -----------------

template <typename T>
T* RingWord(const Napi::CallbackInfo& info) {
  if (!info[0].IsArrayBuffer() || !info[1].IsNumber()) {
    Napi::TypeError::New(info.Env(), "(buffer: ArrayBuffer, offset: number) expected").ThrowAsJavaScriptException();
    return nullptr;
  }
  auto buffer = info[0].As<Napi::ArrayBuffer>();
  int64_t offset;
  if (!ArgInt(info, 1, &offset, 0, kSafeMax)) return nullptr;
  if (offset % sizeof(T) != 0 || static_cast<size_t>(offset) + sizeof(T) > buffer.ByteLength()) {
    Napi::RangeError::New(info.Env(), "offset outside the buffer or not aligned").ThrowAsJavaScriptException();
    return nullptr;
  }
  return reinterpret_cast<T*>(static_cast<uint8_t*>(buffer.Data()) + offset);
}

Napi::Value LoadAcquireU64(const Napi::CallbackInfo& info) {
  uint64_t* word = RingWord<uint64_t>(info);
  if (word == nullptr) return {};
  return Napi::BigInt::New(info.Env(), __atomic_load_n(word, __ATOMIC_ACQUIRE));
}

// The value is a bigint, or a number (an integer up to 2^53 - 1): ring positions are numbers in the
// readers, and a number spares them a BigInt per read.
Napi::Value StoreReleaseU64(const Napi::CallbackInfo& info) {
  uint64_t* word = RingWord<uint64_t>(info);
  if (word == nullptr) return {};
  uint64_t value;
  if (info[2].IsNumber()) {
    int64_t number;
    if (!ArgInt(info, 2, &number, 0, kSafeMax)) return {};
    value = static_cast<uint64_t>(number);
  } else if (info[2].IsBigInt()) {
    bool lossless;
    value = info[2].As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) {
      Napi::RangeError::New(info.Env(), "storeReleaseU64: value is not a u64").ThrowAsJavaScriptException();
      return {};
    }
  } else {
    Napi::TypeError::New(info.Env(), "storeReleaseU64: value must be a bigint or an integer number").ThrowAsJavaScriptException();
    return {};
  }
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
  return info.Env().Undefined();
}

Napi::Value LoadAcquireU32(const Napi::CallbackInfo& info) {
  uint32_t* word = RingWord<uint32_t>(info);
  if (word == nullptr) return {};
  return Napi::Number::New(info.Env(), __atomic_load_n(word, __ATOMIC_ACQUIRE));
}

Napi::Value StoreReleaseU32(const Napi::CallbackInfo& info) {
  uint32_t* word = RingWord<uint32_t>(info);
  if (word == nullptr) return {};
  int64_t value;
  if (!ArgInt(info, 2, &value, 0, kUint32Max)) return {};
  __atomic_store_n(word, static_cast<uint32_t>(value), __ATOMIC_RELEASE);
  return info.Env().Undefined();
}

// ---- module ----------------------------------------------------------------------------------------

// Environment teardown (process exit, worker termination): stop every poll so no callback runs into a
// dead environment; the references die with the environment.
void CleanupInstance(napi_env, void* data, void*) {
  auto* instance = static_cast<Instance*>(data);
  for (PollHandle* handle : std::unordered_set<PollHandle*>(instance->polls)) StopPoll(handle, false);
  delete instance;
}

// Exports a plain Node-API callback (the hot-path calls are written against the C interface).
void ExportCallback(Napi::Env env, Napi::Object exports, const char* name, napi_callback callback) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, nullptr, &fn);
  exports.Set(name, Napi::Value(env, fn));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_set_instance_data(env, new Instance{}, CleanupInstance, nullptr);
  ExportCallback(env, exports, "bpf", Bpf);
  ExportCallback(env, exports, "bpfPrepare", BpfPrepare);
  ExportCallback(env, exports, "bpfRun", BpfRun);
  ExportCallback(env, exports, "scratch", ScratchBuffer);
  ExportCallback(env, exports, "bpfRelease", BpfRelease);
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("fdIdentity", Napi::Function::New(env, FdIdentity, "fdIdentity"));
  exports.Set("perfEventOpen", Napi::Function::New(env, PerfEventOpen, "perfEventOpen"));
  exports.Set("ioctl", Napi::Function::New(env, Ioctl, "ioctl"));
  exports.Set("mmap", Napi::Function::New(env, Mmap, "mmap"));
  exports.Set("munmap", Napi::Function::New(env, Munmap, "munmap"));
  exports.Set("socket", Napi::Function::New(env, Socket, "socket"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("sendmsg", Napi::Function::New(env, Sendmsg, "sendmsg"));
  exports.Set("recvmsg", Napi::Function::New(env, Recvmsg, "recvmsg"));
  exports.Set("setsockopt", Napi::Function::New(env, Setsockopt, "setsockopt"));
  exports.Set("getsockopt", Napi::Function::New(env, Getsockopt, "getsockopt"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("pollStop", Napi::Function::New(env, PollStop, "pollStop"));
  exports.Set("loadAcquireU64", Napi::Function::New(env, LoadAcquireU64, "loadAcquireU64"));
  exports.Set("storeReleaseU64", Napi::Function::New(env, StoreReleaseU64, "storeReleaseU64"));
  exports.Set("loadAcquireU32", Napi::Function::New(env, LoadAcquireU32, "loadAcquireU32"));
  exports.Set("storeReleaseU32", Napi::Function::New(env, StoreReleaseU32, "storeReleaseU32"));
  return exports;
}

}  // namespace

NODE_API_MODULE(ebpf_bridge, Init)

// ebpf_bridge: the syscalls ebpf needs and nothing else (its interface: NativeBridge in
// src/sys/native.ts). A call that reaches the kernel returns its result or -errno and never throws;
// exceptions are only for programmer errors: a TypeError for a missing or wrong-typed argument or a
// number that is not an integer, a RangeError for an integer out of range or an offset outside a buffer.
//
// `bpf`, `setPointers`, `bpfPrepare` and `bpfRun` are the hot path (one call per map lookup), so they
// are written against the plain Node-API C interface: no allocation, no C++ objects, no exceptions on
// success, argument buffers read in place. bpfRun, the cheapest, is what EbpfMap's element calls use.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace {

constexpr size_t kMaxPointerFixups = 4;

// Data pointer and byte length of any ArrayBufferView (TypedArray or DataView). napi_get_buffer_info
// accepts every ArrayBufferView and tests only that, where napi_get_typedarray_info with the element
// type requested runs up to eleven Is*Array() tests: the largest Node-API cost of a bpf() call.
inline bool ViewBytes(napi_env env, napi_value value, void** data, size_t* length) {
  return napi_get_buffer_info(env, value, data, length) == napi_ok;
}

// Only the data pointer (pointer fix-ups need no length): a TypedArray's without its type or length,
// which skips both the type tests and the length computation, else a DataView's.
inline bool ViewPointer(napi_env env, napi_value value, void** data) {
  if (napi_get_typedarray_info(env, value, nullptr, nullptr, data, nullptr, nullptr) == napi_ok) return true;
  size_t length;
  return napi_get_dataview_info(env, value, &length, data, nullptr, nullptr) == napi_ok;
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

// attr's bytes (a Uint8Array, or any ArrayBufferView); throws a TypeError naming the call otherwise.
bool AttrBytes(napi_env env, napi_value value, const char* call, void** data, size_t* size) {
  if (ViewBytes(env, value, data, size)) return true;
  char message[96];
  snprintf(message, sizeof message, "%s: attr must be a Uint8Array", call);
  ThrowType(env, message);
  return false;
}

// Writes the address of each (offset, buffer) pair's buffer (0 for null/undefined) as a u64 at that
// offset of attr. False with a pending exception for a malformed pair.
bool PatchPointers(napi_env env, const char* call, napi_value* pairs, size_t count, void* attr, size_t attr_size) {
  char message[128];
  if (count % 2 != 0) {
    snprintf(message, sizeof message, "%s: pointer fix-ups come as (offset, buffer) pairs", call);
    ThrowType(env, message);
    return false;
  }
  for (size_t i = 0; i < count; i += 2) {
    int64_t offset;
    if (!IntegerArg(env, pairs[i], {call, "pointer offset", 0}, 0, kUint32Max, &offset)) return false;
    if (offset % 8 != 0 || static_cast<size_t>(offset) + 8 > attr_size) {
      snprintf(message, sizeof message, "%s: pointer offset %lld is outside attr (%zu bytes) or not 8-aligned", call, static_cast<long long>(offset), attr_size);
      napi_throw_range_error(env, nullptr, message);
      return false;
    }
    void* data = nullptr;
    if (!ViewPointer(env, pairs[i + 1], &data)) {
      napi_valuetype kind;
      napi_typeof(env, pairs[i + 1], &kind);
      if (kind != napi_null && kind != napi_undefined) {
        snprintf(message, sizeof message, "%s: pointer buffer must be an ArrayBufferView or null", call);
        ThrowType(env, message);
        return false;
      }
      data = nullptr;
    }
    uint64_t address = reinterpret_cast<uintptr_t>(data);
    memcpy(static_cast<uint8_t*>(attr) + offset, &address, sizeof address);
  }
  return true;
}

// bpf(cmd, attr, off1?, buf1?, ... off4?, buf4?): patches the pointers, then calls bpf(2) on attr.
napi_value Bpf(napi_env env, napi_callback_info info) {
  // Most calls are bpf(cmd, attr): fetch two arguments, and the pairs only when there are more.
  size_t argc = 2;
  napi_value argv[2 + 2 * kMaxPointerFixups];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc > 2) {
    if (argc > 2 + 2 * kMaxPointerFixups) return ThrowType(env, "bpf(cmd, attr, ...): at most four pointer pairs");
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }
  // Missing arguments read as undefined (napi_get_cb_info fills argv up to the count asked for).
  int64_t cmd;
  void* attr;
  size_t attr_size;
  if (!IntegerArg(env, argv[0], {"bpf", "cmd", 0}, 0, kUint32Max, &cmd) || !AttrBytes(env, argv[1], "bpf", &attr, &attr_size) ||
      (argc > 2 && !PatchPointers(env, "bpf", argv + 2, argc - 2, attr, attr_size)))
    return nullptr;
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(ErrnoResult(syscall(SYS_bpf, static_cast<int>(cmd), attr, attr_size))), &result);
  return result;
}

// setPointers(attr, off1, buf1, ...): the same fix-ups without a syscall, for an attr reused across
// calls (then bpf(cmd, attr) alone). The addresses stay valid only while the buffers are alive and
// not detached: the caller keeps them together with attr.
napi_value SetPointers(napi_env env, napi_callback_info info) {
  size_t argc = 1 + 2 * kMaxPointerFixups;
  napi_value argv[1 + 2 * kMaxPointerFixups];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc > 1 + 2 * kMaxPointerFixups) return ThrowType(env, "setPointers(attr, ...): at most four pointer pairs");
  void* attr;
  size_t attr_size;
  if (!AttrBytes(env, argv[0], "setPointers", &attr, &attr_size) ||
      (argc > 1 && !PatchPointers(env, "setPointers", argv + 1, argc - 1, attr, attr_size)))
    return nullptr;
  return nullptr;
}

// A bpf(2) call prepared once and run many times: bpfPrepare resolves the command and attr's address
// into an External, so bpfRun converts no argument but that one. (A function bound per call, with the
// prepared call as its callback data, would skip even that, but calls through a per-object function
// miss V8's fast API-call path and cost more.) It holds a strong reference to attr, whose memory
// stays put; attr must not be detached while prepared.
struct PreparedBpf {
  uint32_t magic;  // tells our Externals from another addon's
  uint32_t cmd;
  void* attr;
  size_t attr_size;
  napi_ref attr_ref;
};
constexpr uint32_t kPreparedMagic = 0x65627066;  // "ebpf"

void FinalizePrepared(napi_env env, void* data, void*) {
  auto* prepared = static_cast<PreparedBpf*>(data);
  napi_delete_reference(env, prepared->attr_ref);
  prepared->magic = 0;
  delete prepared;
}

// bpfRun(prepared): bpf(2) with the prepared command and attr; the result or -errno.
napi_value BpfRun(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value handle;
  napi_get_cb_info(env, info, &argc, &handle, nullptr, nullptr);
  void* data = nullptr;
  if (argc < 1 || napi_get_value_external(env, handle, &data) != napi_ok || data == nullptr ||
      static_cast<PreparedBpf*>(data)->magic != kPreparedMagic)
    return ThrowType(env, "bpfRun(prepared): prepared must come from bpfPrepare");
  auto* prepared = static_cast<PreparedBpf*>(data);
  long ret = ErrnoResult(syscall(SYS_bpf, prepared->cmd, prepared->attr, prepared->attr_size));
  if (ret == 0) return nullptr;  // undefined: creating the number 0 is a fifth of a run's cost
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(ret), &result);
  return result;
}

// bpfPrepare(cmd, attr): an opaque handle for bpfRun.
napi_value BpfPrepare(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t cmd;
  void* attr;
  size_t attr_size;
  if (!IntegerArg(env, argv[0], {"bpfPrepare", "cmd", 0}, 0, kUint32Max, &cmd) || !AttrBytes(env, argv[1], "bpfPrepare", &attr, &attr_size))
    return nullptr;
  auto* prepared = new PreparedBpf{kPreparedMagic, static_cast<uint32_t>(cmd), attr, attr_size, nullptr};
  napi_value run;
  if (napi_create_external(env, prepared, FinalizePrepared, nullptr, &run) != napi_ok) {
    delete prepared;
    return nullptr;
  }
  napi_create_reference(env, argv[1], 1, &prepared->attr_ref);
  return run;
}

// ---- Helpers for the node-addon-api calls below --------------------------------------------------

// An integer argument in [min, max] (by default an int: fds, socket options, flags).
bool ArgInt(const Napi::CallbackInfo& info, size_t i, int64_t* out, double min = kInt32Min, double max = kInt32Max) {
  return IntegerArg(info.Env(), info[i], {nullptr, nullptr, i}, min, max, out);
}

bool ArgView(const Napi::CallbackInfo& info, size_t i, void** data, size_t* length) {
  if (!ViewBytes(info.Env(), info[i], data, length)) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a TypedArray or DataView")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
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

// dup(fd): a new close-on-exec descriptor for the same open file.
Napi::Value Dup(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return {};
  return Result(info, fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 0));
}

Napi::Value PerfEventOpen(const Napi::CallbackInfo& info) {
  void* attr;
  size_t size;
  int64_t pid, cpu, group_fd, flags;
  if (!ArgView(info, 0, &attr, &size) || !ArgInt(info, 1, &pid) || !ArgInt(info, 2, &cpu) ||
      !ArgInt(info, 3, &group_fd) || !ArgInt(info, 4, &flags, 0, kUint32Max))
    return {};
  if (size < PERF_ATTR_SIZE_VER0) {
    Napi::RangeError::New(info.Env(), "perfEventOpen: attr is smaller than perf_event_attr").ThrowAsJavaScriptException();
    return {};
  }
  return Result(info, syscall(SYS_perf_event_open, attr, static_cast<pid_t>(pid), static_cast<int>(cpu),
                              static_cast<int>(group_fd), static_cast<unsigned long>(flags)));
}

Napi::Value Ioctl(const Napi::CallbackInfo& info) {
  int64_t fd, request;
  // The kernel's request is an unsigned int: accept it as a u32 or as the same bits in an int32.
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &request, kInt32Min, kUint32Max)) return {};
  request = static_cast<uint32_t>(request);
  if (info[2].IsNumber()) {
    int64_t arg;
    if (!ArgInt(info, 2, &arg, -kSafeMax, kSafeMax)) return {};
    return Result(info, ioctl(static_cast<int>(fd), static_cast<unsigned long>(request), static_cast<unsigned long>(arg)));
  }
  void* data;
  size_t length;
  if (!ArgView(info, 2, &data, &length)) return {};
  return Result(info, ioctl(static_cast<int>(fd), static_cast<unsigned long>(request), data));
}

// ---- mmap: external ArrayBuffers over mappings ---------------------------------------------------

struct PollHandle;

struct Mapping {
  void* address;
  size_t length;
};

// Per-environment state (one per main thread / worker), set as the addon's instance data.
struct Instance {
  std::unordered_map<void*, Mapping*> mappings;  // by address: munmap(buffer) finds its mapping
  std::unordered_set<PollHandle*> polls;  // active polls, stopped when the environment exits
};

Instance* GetInstance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<Instance*>(data);
}

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

Napi::Value StoreReleaseU64(const Napi::CallbackInfo& info) {
  uint64_t* word = RingWord<uint64_t>(info);
  if (word == nullptr) return {};
  if (!info[2].IsBigInt()) {
    Napi::TypeError::New(info.Env(), "storeReleaseU64: value must be a bigint").ThrowAsJavaScriptException();
    return {};
  }
  bool lossless;
  uint64_t value = info[2].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) {
    Napi::RangeError::New(info.Env(), "storeReleaseU64: value is not a u64").ThrowAsJavaScriptException();
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_set_instance_data(env, new Instance{}, CleanupInstance, nullptr);
  napi_value bpf;
  napi_create_function(env, "bpf", NAPI_AUTO_LENGTH, Bpf, nullptr, &bpf);
  exports.Set("bpf", Napi::Value(env, bpf));
  napi_value set_pointers;
  napi_create_function(env, "setPointers", NAPI_AUTO_LENGTH, SetPointers, nullptr, &set_pointers);
  exports.Set("setPointers", Napi::Value(env, set_pointers));
  napi_value bpf_prepare;
  napi_create_function(env, "bpfPrepare", NAPI_AUTO_LENGTH, BpfPrepare, nullptr, &bpf_prepare);
  exports.Set("bpfPrepare", Napi::Value(env, bpf_prepare));
  napi_value bpf_run;
  napi_create_function(env, "bpfRun", NAPI_AUTO_LENGTH, BpfRun, nullptr, &bpf_run);
  exports.Set("bpfRun", Napi::Value(env, bpf_run));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
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

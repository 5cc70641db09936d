# The native bridge (bridge/ebpf_bridge.cc): Linux only. `npm install` runs scripts/build-bridge.mjs,
# which builds this with node-gyp on Linux and leaves the addon out (with a printed reason) elsewhere.
{
  "targets": [
    {
      "target_name": "ebpf_bridge",
      "sources": ["bridge/ebpf_bridge.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fno-exceptions", "-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", {"type": "none", "sources": []}]
      ]
    }
  ]
}

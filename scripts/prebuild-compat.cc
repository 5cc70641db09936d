// Linked into the prebuilt bridge only (scripts/prebuild.mjs). GCC 11+'s std::allocator calls
// std::__throw_bad_array_new_length, which libstdc++ exports only since GCC 11 (GLIBCXX_3.4.29).
// Defined here, hidden, the prebuild needs GLIBCXX_3.4.21 at most and so loads with the libstdc++ of
// the distributions Node 20 supports (glibc 2.28: RHEL 8, Ubuntu 20.04, Debian 10). The bridge is
// built without exceptions, where libstdc++'s own definition aborts too.
#include <cstdlib>

namespace std {
[[noreturn]] __attribute__((visibility("hidden"))) void __throw_bad_array_new_length() { abort(); }
}  // namespace std

#pragma once
// PARAMSCOPE_ASAN: 1 in AddressSanitizer builds (gcc defines __SANITIZE_ADDRESS__, clang
// has __has_feature), else 0. ASan reserves terabytes of address space, so address-space
// caps (the LibTorch helper's, tests run under prlimit) cannot apply there.

#if defined(__SANITIZE_ADDRESS__)
#define PARAMSCOPE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARAMSCOPE_ASAN 1
#endif
#endif
#ifndef PARAMSCOPE_ASAN
#define PARAMSCOPE_ASAN 0
#endif

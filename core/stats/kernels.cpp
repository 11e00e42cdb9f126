// The run-time choice of kernel set: AVX2 when this build compiled kernels_avx2.cpp
// (x86-64 only, PARAMSCOPE_STATS_HAVE_AVX2 set by CMakeLists.txt), the CPU reports AVX2,
// and PARAMSCOPE_STATS_NO_AVX2=1 is not set; else the baseline set.
#include "stats/kernels_p.h"

#include <QtGlobal>

namespace paramscope::stats_internal {

bool useAvx2()
{
#if PARAMSCOPE_STATS_HAVE_AVX2
    static const bool yes =
        __builtin_cpu_supports("avx2") && qEnvironmentVariableIntValue("PARAMSCOPE_STATS_NO_AVX2") == 0;
    return yes;
#else
    return false;
#endif
}

#if !PARAMSCOPE_STATS_HAVE_AVX2
// Never chosen (useAvx2() is false); defined so that the table's selection links.
template <typename Dec>
ChunkKernels<Dec> avx2Kernels()
{
    return sse2Kernels<Dec>();
}
#define PARAMSCOPE_STATS_INSTANTIATE(Dec) template ChunkKernels<Dec> avx2Kernels<Dec>();
PARAMSCOPE_STATS_DECODERS(PARAMSCOPE_STATS_INSTANTIATE)
#undef PARAMSCOPE_STATS_INSTANTIATE
#endif

}  // namespace paramscope::stats_internal

// The entry point of libparamscope_torch.so (see torchbackend.h).
#include "plugins/torch/torchimpl.h"

namespace {

const paramscope::detail::TorchBackend kBackend{
    paramscope::detail::kTorchBackendVersion,
    &paramscope::torchimpl::load,
    &paramscope::torchimpl::writePtArchive,
    &paramscope::torchimpl::picklePt,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const paramscope::detail::TorchBackend* paramscope_torch_backend()
{
    return &kBackend;
}

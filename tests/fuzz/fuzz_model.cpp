// libFuzzer target: the whole path of one file as the window and paramscope-cli take it:
// loadModel (native engine, the format found from the content) -> ModelIndex -> ModelTree
// -> statistics of the first few tensors -> export to .npy, .csv and .safetensors (read
// back and compared). .pt export needs the LibTorch plug-in and is left out.
#include "fuzzutil.h"

using namespace paramscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > (4u << 20))
        return 0;
    // No suffix that would pick the reader: loadModel must recognise the content.
    const QString path = fuzz::writeScratch(QStringLiteral("model"), data, size);
    LoadOptions o;
    o.engine = (size & 1) ? LoaderEngine::Native : LoaderEngine::Auto;
    auto r = loadModel(path, o);
    if (r)
        fuzz::exerciseModel(*r.value(), unsigned(size));
    return 0;
}

// libFuzzer target: the safetensors reader (formats/safetensors), both a single file
// and a sharded checkpoint's index. An input starting with '{' is a
// model.safetensors.index.json; after an optional "\n--shard--\n" separator come the bytes
// of a shard named fuzz.safetensors, and a valid shard named good.safetensors (tensors "a",
// "b.c") sits beside it. Any other input is a .safetensors file. What loads goes through
// fuzz::exerciseModel.
#include "formats/engines_p.h"
#include "fuzzutil.h"
#include "formats/sniff.h"

#include <cstring>
#include <string>
#include <string_view>

using namespace paramscope;

namespace {

void writeGoodShard()
{
    static bool done = false;
    if (done)
        return;
    done = true;
    std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b.c":{"dtype":"I16","shape":[2,2],"data_offsets":[8,16]},"__metadata__":{"format":"pt"}})";
    while (header.size() % 8)
        header += ' ';
    std::string file(8, '\0');
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
        file[size_t(i)] = char((n >> (8 * i)) & 0xff);
    file += header;
    const float a[2] = {1.5f, -2.0f};
    file.append(reinterpret_cast<const char*>(a), sizeof a);
    file.append("\x01\x00\x02\x00\xff\xff\x00\x80", 8);
    fuzz::writeScratch(QStringLiteral("good.safetensors"), file.data(), file.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > (1u << 20))
        return 0;
    writeGoodShard();
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    QString path;
    if (!in.empty() && in[0] == '{') {
        constexpr std::string_view sep = "\n--shard--\n";
        const size_t at = in.find(sep);
        const std::string_view index = in.substr(0, at);
        const std::string_view shard = at == std::string_view::npos ? std::string_view() : in.substr(at + sep.size());
        fuzz::writeScratch(QStringLiteral("fuzz.safetensors"), shard.data(), shard.size());
        path = fuzz::writeScratch(QStringLiteral("model.safetensors.index.json"), index.data(), index.size());
    } else {
        path = fuzz::writeScratch(QStringLiteral("model.safetensors"), data, size);
    }
    detail::isSafetensorsFile(path);
    LoadOptions o;
    o.engine = LoaderEngine::Native;
    auto r = detail::loadSafetensors(path, o);
    if (r)
        fuzz::exerciseModel(*r.value(), unsigned(size));
    return 0;
}

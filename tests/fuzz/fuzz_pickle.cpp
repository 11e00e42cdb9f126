// libFuzzer target: the restricted unpickler with PyTorch's semantics (formats/pickle and
// formats/torch). The input is a data.pkl. It is unpickled directly, then wrapped in
// a minimal stored zip archive beside four 64-byte storage records (data/0..data/3) and a
// version file, and opened as a torch.save checkpoint, or as a TorchScript archive (with
// constants.pkl and a code/ class header) when the pickle names a __torch__ class. What
// loads goes through fuzz::exerciseModel (tree, statistics, export).
#include "fuzzutil.h"
#include "formats/pickle/pickle.h"
#include "formats/engines_p.h"

#include <zlib.h>

#include <cstring>
#include <string>
#include <string_view>

using namespace paramscope;

namespace {

void put16(std::string& s, unsigned v)
{
    s.push_back(char(v & 0xff));
    s.push_back(char((v >> 8) & 0xff));
}
void put32(std::string& s, std::uint32_t v)
{
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}

/// A stored (uncompressed) zip of `members`, as PyTorch's writer lays it out minus ZIP64.
std::string storedZip(const std::vector<std::pair<std::string, std::string_view>>& members)
{
    std::string out, cd;
    for (const auto& [name, bytes] : members) {
        const std::uint32_t crc =
            std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), uInt(bytes.size())));
        const std::uint32_t offset = std::uint32_t(out.size());
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, 0);
        put16(out, 0);
        put16(out, 0);
        put16(out, 0);
        put32(out, crc);
        put32(out, std::uint32_t(bytes.size()));
        put32(out, std::uint32_t(bytes.size()));
        put16(out, unsigned(name.size()));
        put16(out, 0);
        out += name;
        out.append(bytes.data(), bytes.size());
        put32(cd, 0x02014b50);
        put16(cd, 20);
        put16(cd, 20);
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put32(cd, crc);
        put32(cd, std::uint32_t(bytes.size()));
        put32(cd, std::uint32_t(bytes.size()));
        put16(cd, unsigned(name.size()));
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put32(cd, 0);
        put32(cd, offset);
        cd += name;
    }
    const std::uint32_t cdOffset = std::uint32_t(out.size());
    out += cd;
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, unsigned(members.size()));
    put16(out, unsigned(members.size()));
    put32(out, std::uint32_t(cd.size()));
    put32(out, cdOffset);
    put16(out, 0);
    return out;
}

// Storage records: float-like patterns, including NaN and Inf bit patterns.
const std::string& records()
{
    static const std::string r = [] {
        std::string s(64, '\0');
        for (int i = 0; i < 64; ++i)
            s[size_t(i)] = char(i * 37 + 11);
        std::memcpy(&s[8], "\x00\x00\xc0\x7f\x00\x00\x80\x7f", 8);  // float NaN, +Inf
        return s;
    }();
    return r;
}

constexpr std::string_view kConstants("\x80\x02).", 4);  // an empty tuple
constexpr std::string_view kCode =
    "class M(Module):\n"
    "  __parameters__ = [\"weight\", \"bias\", ]\n"
    "  __buffers__ = [\"running_mean\", ]\n"
    "  weight : Tensor\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > (1u << 20))
        return 0;
    {
        auto doc = pickle::unpickle(data, size);
        if (doc) {
            pickle::describe(doc->root);
            for (const pickle::StorageRef& s : doc->storages)
                (void)s.key.size();
        }
    }
    const std::string_view pkl(reinterpret_cast<const char*>(data), size);
    const bool torchScript = pkl.find("__torch__") != std::string_view::npos;
    std::vector<std::pair<std::string, std::string_view>> members{
        {"archive/data.pkl", pkl},
        {"archive/data/0", records()},
        {"archive/data/1", std::string_view(records()).substr(0, 16)},
        {"archive/data/2", std::string_view(records()).substr(0, 2)},
        {"archive/data/3", std::string_view()},
        {"archive/version", "3\n"},
    };
    if (torchScript) {
        members.push_back({"archive/constants.pkl", kConstants});
        members.push_back({"archive/code/__torch__.py", kCode});
    }
    const std::string zip = storedZip(members);
    const QString path = fuzz::writeScratch(QStringLiteral("archive.pt"), zip.data(), zip.size());
    LoadOptions o;
    o.engine = LoaderEngine::Native;
    auto r = detail::loadTorchArchive(path, o);
    if (r)
        fuzz::exerciseModel(*r.value(), unsigned(size));
    return 0;
}

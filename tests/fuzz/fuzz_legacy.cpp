// libFuzzer target: the legacy torch.save readers (formats/legacy/legacyreader.h). The input
// is the whole file, read as the legacy pre-zip format or, when it has a tar header, as the
// tar format of PyTorch 0.1-0.3. Every storage record found must lie inside the file and
// match its storage's declared size; a file that loads then goes through the whole model path
// (tree, statistics, export) as fuzz_model's inputs do.
#include "fuzzutil.h"
#include "base/mappedfile.h"
#include "formats/legacy/legacyreader.h"

#include <unordered_map>

using namespace paramscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > (4u << 20))
        return 0;
    const QString path = fuzz::writeScratch(QStringLiteral("input.pt"), data, size);
    auto file = MappedFile::open(path);
    if (!file)
        return 0;
    const MappedFile& f = *file.value();
    const LoadOptions options;
    const bool tar = startsLikeTar(f.data(), f.size());
    auto c = tar ? readLegacyTar(f, options) : readLegacyTorchSave(f, options);
    if (c) {
        FUZZ_CHECK(c->format == (tar ? ModelFormat::TorchSaveTar : ModelFormat::TorchSaveLegacy),
                   "legacy: the container says another format");
        std::unordered_map<std::string, std::uint64_t> bytes;
        for (const LegacyRecord& r : c->records) {
            FUZZ_CHECK(f.contains(r.offset, r.bytes), "legacy: a storage record lies outside the file");
            FUZZ_CHECK(bytes.emplace(r.key, r.bytes).second, "legacy: two records of one storage key");
        }
        for (const auto& s : c->doc.storages) {
            auto it = bytes.find(std::string(s.key));
            if (it == bytes.end() || !s.dtype)
                continue;
            FUZZ_CHECK(it->second == std::uint64_t(s.numel) * std::uint64_t(dtypeItemSize(*s.dtype)),
                       "legacy: a record's size differs from its storage's numel x item size");
        }
    }
    auto r = detail::loadLegacy(path, options);
    if (!r)
        return 0;
    FUZZ_CHECK(c.ok(), "legacy: a file whose container is refused loads");
    fuzz::exerciseModel(*r.value(), unsigned(size));
    return 0;
}

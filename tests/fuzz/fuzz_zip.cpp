// libFuzzer target: the zip directory reader (formats/zip/zipreader.h). The input is the whole
// file; every member found is looked up by name and read (inflated when deflated, with the
// CRC checked), bounded to 1 MiB each.
#include "fuzzutil.h"
#include "base/mappedfile.h"
#include "formats/zip/zipreader.h"

using namespace paramscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const QString path = fuzz::writeScratch(QStringLiteral("input.zip"), data, size);
    auto file = MappedFile::open(path);
    if (!file)
        return 0;
    auto zip = ZipReader::open(file.value());
    if (!zip)
        return 0;
    const ZipReader& z = zip.value();
    std::size_t n = 0;
    for (const ZipEntry& e : z.entries()) {
        if (++n > 256)
            break;
        FUZZ_CHECK(file.value()->contains(e.dataOffset, e.isStored() ? e.compressedSize : 0),
                   "zip: a stored member's data lies outside the file");
        const ZipEntry* found = z.find(e.name);
        FUZZ_CHECK(found != nullptr, "zip: a listed member is not found by its name");
        auto bytes = z.read(e, std::uint64_t(1) << 20, (n & 1) != 0);
        if (bytes) {
            FUZZ_CHECK(bytes->size == e.uncompressedSize, "zip: a member read back with another size than declared");
            volatile std::uint8_t sink = 0;
            for (std::uint64_t i = 0; i < bytes->size; i += 4096)
                sink = sink + bytes->data[i];  // touch every page: the span must be readable
            if (bytes->size)
                sink = sink + bytes->data[bytes->size - 1];
        }
    }
    return 0;
}

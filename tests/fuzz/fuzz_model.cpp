// libFuzzer target: the whole path of one file as the window and paramscope-cli take it:
// loadModel (native engine, the format found from the content) -> ModelIndex -> ModelTree
// -> statistics of the first few tensors -> export to .npy, .csv and .safetensors (read
// back and compared). .pt export needs the LibTorch plug-in and is left out. Every fourth
// input also goes through paramscope-cli's list (plain and --json), tree and stats.
#include "cli/commandline.h"
#include "fuzzutil.h"
#include "base/textutil.h"

#include <QTextStream>

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
    if (!r)
        return 0;
    const ModelIndex& index = *r.value();
    fuzz::exerciseModel(index, unsigned(size));
    if (size % 4 != 0 || index.entries.size() > 2000)
        return 0;
    auto cli = [](const QStringList& args) {
        QString out, err;
        QTextStream o(&out), e(&err);
        const int rc = runCommandLine(args, o, e);
        o.flush();
        e.flush();
        FUZZ_CHECK(rc == 0 || rc == 1, "cli: a file that loads gives a usage error");
        return out;
    };
    const QString list = cli({QStringLiteral("list"), path});
    cli({QStringLiteral("list"), path, QStringLiteral("--json")});
    cli({QStringLiteral("tree"), path, QStringLiteral("--depth"), QStringLiteral("3")});
    if (!index.entries.empty() && fuzz::smallEnough(index.entries.front(), 1 << 16))
        cli({QStringLiteral("stats"), path, utf8ToQString(index.entries.front().name)});
    {
        // Names are escaped in plain-text output: a newline or an escape sequence in a name
        // neither breaks the rows nor reaches the terminal.
        for (QChar c : list)
            FUZZ_CHECK(c == QLatin1Char('\n') || c == QLatin1Char('\t') || c.category() != QChar::Other_Control,
                       "cli: a control character in plain-text output");
        FUZZ_CHECK(list.count(QLatin1Char('\n')) == qsizetype(index.entries.size()),
                   "cli: list prints another number of rows than tensors");
    }
    return 0;
}

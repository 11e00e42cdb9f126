// paramscope-cli as a user runs it: a real process on fixtures written by PyTorch.
#include "testutil.h"

#include <QProcess>
#include <QtTest>

using namespace paramscope::test;

namespace {

QStringList truthNames(const QString& fixtureName)
{
    QStringList names;
    for (const auto& e : readJson(fixture(fixtureName + ".json")).value(QStringLiteral("entries")).toArray())
        names << e.toObject().value(QStringLiteral("name")).toString();
    return names;
}

}  // namespace

class TestCommandLine : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listPlainMatchesPython();
    void listJsonMatchesPython_data();
    void listJsonMatchesPython();
    void listSearchModes_data();
    void listSearchModes();
    void tree();
    void errors_data();
    void errors();
    void help();
};

void TestCommandLine::listPlainMatchesPython()
{
    const CliRun r = runCli({QStringLiteral("list"), fixture(QStringLiteral("batchnorm.pt")), QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(r.code, 0);
    const QJsonArray truth = readJson(fixture(QStringLiteral("batchnorm.json"))).value(QStringLiteral("entries")).toArray();
    const QStringList lines = r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), truth.size());
    for (int i = 0; i < lines.size(); ++i) {
        const QStringList f = lines[i].split(QLatin1Char('\t'));
        const QJsonObject x = truth[i].toObject();
        QCOMPARE(f.size(), 5);
        QCOMPARE(f[0], x.value(QStringLiteral("name")).toString());
        QCOMPARE(f[1], x.value(QStringLiteral("kind")).toString());
        QCOMPARE(f[2], x.value(QStringLiteral("dtype")).toString());
        QStringList dims;
        qint64 numel = 1;
        for (const auto& d : x.value(QStringLiteral("shape")).toArray()) {
            dims << QString::number(d.toInteger());
            numel *= d.toInteger();
        }
        QCOMPARE(f[3], QStringLiteral("[%1]").arg(dims.join(QStringLiteral(", "))));
        QCOMPARE(f[4].toLongLong(), numel);
    }
    QCOMPARE(lines.last().section(QLatin1Char('\t'), 0, 0), QStringLiteral("bn.num_batches_tracked"));
}

void TestCommandLine::listJsonMatchesPython_data()
{
    QTest::addColumn<QString>("name");
    for (const char* n : {"seed", "tied", "dtypes", "frozen", "views"})
        QTest::newRow(n) << QString::fromLatin1(n);
}

void TestCommandLine::listJsonMatchesPython()
{
    QFETCH(QString, name);
    const CliRun r = runCli({QStringLiteral("list"), fixture(name + QStringLiteral(".pt")), QStringLiteral("--json"), QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(r.code, 0);
    QJsonParseError perr;
    const QJsonObject got = QJsonDocument::fromJson(r.out.toUtf8(), &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString()));
    QCOMPARE(got.value(QStringLiteral("format")).toString(), QStringLiteral("torchscript"));
    QCOMPARE(got.value(QStringLiteral("file")).toString(), fixture(name + QStringLiteral(".pt")));
    const QJsonArray entries = got.value(QStringLiteral("entries")).toArray();
    const QJsonArray truth = readJson(fixture(name + QStringLiteral(".json"))).value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries.size(), truth.size());
    const QHash<QString, int> itemSize{{"float32", 4}, {"float64", 8}, {"float16", 2}, {"bfloat16", 2}, {"int8", 1},
                                       {"int16", 2},   {"int32", 4},   {"int64", 8},   {"uint8", 1},    {"bool", 1},
                                       {"complex64", 8}};
    for (int i = 0; i < entries.size(); ++i) {
        const QJsonObject e = entries[i].toObject();
        const QJsonObject x = truth[i].toObject();
        for (const char* key : {"name", "kind", "dtype", "shape", "requires_grad", "shared_with"})
            QCOMPARE(e.value(QLatin1String(key)), x.value(QLatin1String(key)));
        qint64 numel = 1;
        for (const auto& d : x.value(QStringLiteral("shape")).toArray())
            numel *= d.toInteger();
        QCOMPARE(e.value(QStringLiteral("numel")).toInteger(), numel);
        QCOMPARE(e.value(QStringLiteral("bytes")).toInteger(), numel * itemSize.value(x.value(QStringLiteral("dtype")).toString()));
    }
}

void TestCommandLine::listSearchModes_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("exact") << QStringList{"--exact", "blocks.10.weight"} << QStringList{"blocks.10.weight"};
    QTest::newRow("contains") << QStringList{"--contains", "8000"} << QStringList{"experts.8000.weight", "experts.8000.bias"};
    QTest::newRow("glob crosses dots") << QStringList{"--glob", "chain.*.bias"} << QStringList{"chain.0.0.0.0.0.0.bias"};
    QTest::newRow("regex search") << QStringList{"--regex", R"(blocks\.1[01]\.b)"} << QStringList{"blocks.10.bias", "blocks.11.bias"};
    QTest::newRow("ignore case") << QStringList{"--exact", "EXPERTS.ALPHA.WEIGHT", "--ignore-case"} << QStringList{"experts.alpha.weight"};
    QTest::newRow("no match") << QStringList{"--contains", "nothing-like-this"} << QStringList{};
}

void TestCommandLine::listSearchModes()
{
    QFETCH(QStringList, options);
    QFETCH(QStringList, expected);
    const CliRun r = runCli(QStringList{QStringLiteral("list"), fixture(QStringLiteral("nested.pt")), QStringLiteral("--engine"), QStringLiteral("libtorch")} + options);
    QCOMPARE(r.code, 0);
    QStringList names;
    for (const QString& l : r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        names << l.section(QLatin1Char('\t'), 0, 0);
    QCOMPARE(names, expected);
    // Matches keep state_dict order: they are a subsequence of Python's key order.
    const QStringList all = truthNames(QStringLiteral("nested"));
    int last = -1;
    for (const QString& n : names) {
        const int at = int(all.indexOf(n));
        QVERIFY(at > last);
        last = at;
    }
}

void TestCommandLine::tree()
{
    const CliRun full = runCli({QStringLiteral("tree"), fixture(QStringLiteral("tied.pt")), QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(full.code, 0);
    const QStringList lines = full.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    // Header: file, format, totals with the tied weight counted once: 40 + 16 + 4 elements.
    QVERIFY2(lines[0].startsWith(QStringLiteral("tied.pt")), qPrintable(lines[0]));
    QVERIFY2(lines[0].contains(QStringLiteral("TorchScript archive")), qPrintable(lines[0]));
    QVERIFY2(lines[0].contains(QRegularExpression(QStringLiteral("\\b60\\s+240 B$"))), qPrintable(lines[0]));
    QVERIFY(full.out.contains(QStringLiteral("= embed.weight")));
    QCOMPARE(lines.size(), 1 + 3 + 4);  // header, 3 modules, 4 tensors

    const CliRun shallow = runCli({QStringLiteral("tree"), fixture(QStringLiteral("nested.pt")), QStringLiteral("--depth"), QStringLiteral("1"),
                             QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(shallow.code, 0);
    const QStringList sl = shallow.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(sl.size(), 1 + 4);  // features, blocks, experts, chain
    QVERIFY(sl[2].contains(QStringLiteral("blocks")));
    QVERIFY(sl[2].contains(QStringLiteral("24 tensors")));
    QVERIFY2(sl[2].contains(QRegularExpression(QStringLiteral("\\b360\\s+1.41 KiB$"))), qPrintable(sl[2]));

    const CliRun natural = runCli({QStringLiteral("tree"), fixture(QStringLiteral("nested.pt")), QStringLiteral("--depth"), QStringLiteral("2"),
                             QStringLiteral("--natural-sort"), QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(natural.code, 0);
    QVERIFY(natural.out.indexOf(QStringLiteral("─ 9 ")) < natural.out.indexOf(QStringLiteral("─ 10 ")));
}

void TestCommandLine::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing file") << QStringList{"list", "/nonexistent/model.pt"} << 1 << "'/nonexistent/model.pt' does not exist";
    QTest::newRow("not a model") << QStringList{"list", fixture("bad/text.pt"), "--engine", "libtorch"} << 1 << "'text.pt' is a text file, not a PyTorch model";
    QTest::newRow("invalid regex") << QStringList{"list", fixture("seed.pt"), "--regex", "lin(ear"} << 2 << "invalid pattern at position 7";
    QTest::newRow("two modes") << QStringList{"list", fixture("seed.pt"), "--exact", "a", "--regex", "b"} << 2 << "only one of";
    QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2 << "unknown command 'frobnicate'";
    QTest::newRow("unknown option") << QStringList{"list", fixture("seed.pt"), "--bogus"} << 2 << "Unknown option 'bogus'";
    QTest::newRow("bad depth") << QStringList{"tree", fixture("seed.pt"), "--depth", "x"} << 2 << "--depth takes a whole number";
    QTest::newRow("no file") << QStringList{"list"} << 2 << "expected one FILE";
    QTest::newRow("bad engine") << QStringList{"list", fixture("seed.pt"), "--engine", "magic"} << 1 << "unknown engine 'magic'";
}

void TestCommandLine::errors()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, message);
    const CliRun r = runCli(args);
    QCOMPARE(r.code, code);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
}

void TestCommandLine::help()
{
    const CliRun r = runCli({QStringLiteral("--help")});
    QCOMPARE(r.code, 0);
    for (const char* word : {"list", "tree", "--json", "--regex", "--depth", "--engine"})
        QVERIFY2(r.out.contains(QLatin1String(word)), word);
    const CliRun sub = runCli({QStringLiteral("list"), QStringLiteral("--help")});
    QCOMPARE(sub.code, 0);
    QVERIFY(sub.out.contains(QStringLiteral("--ignore-case")));
}

QTEST_GUILESS_MAIN(TestCommandLine)
#include "tst_commandline.moc"

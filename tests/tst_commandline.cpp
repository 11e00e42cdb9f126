// paramscope-cli as a user runs it: a real process on fixtures written by PyTorch.
#include "testutil.h"

#include <QProcess>
#include <QTemporaryDir>
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

// Odd names written by real PyTorch (torch.save of a dict), with what Python says about
// each: repr(name)[1:-1] (the escaped form plain-text output must show), the mean of its
// tensor, and whether re.search("(a+)+b|!", name) finds a match.
const char* kOddNamesScript = R"PY(
import json, re, sys, torch
out = sys.argv[1]
names = ["plain.weight", "nl\nname", "tab\tname", "esc\x1b[31mred", "back\\slash", "\ufeffw", "w",
         "pct%1q%2", "ls\u2028x", "bidi\u202eevil", "del\x7f", "c1\x85", "nbsp\u00a0x", "emoji\U0001F600",
         "tag\U000E0041", "\u00fcn\u00ef.\u6743\u91cd", "a" * 20 + "!"]
sd = {n: torch.arange(4, dtype=torch.float32) + 10 * i for i, n in enumerate(names)}
torch.save(sd, out + "/odd.pt")
truth = [{"name": n, "shown": repr(n)[1:-1], "mean": float(sd[n].mean()),
          "regex_hit": re.search(r"(a+)+b|!", n) is not None} for n in names]
json.dump({"entries": truth}, open(out + "/odd.json", "w"), ensure_ascii=True)
# 'a' is a tensor and a module (prefix of 'a.b').
torch.save({"a": torch.zeros(2), "a.b": torch.ones(3), "c.d": torch.ones(1)}, out + "/prefix.pt")
)PY";

/// The output bytes of paramscope-cli (stdout to a pipe, or to `stdoutFile` when given).
struct RawRun {
    int code = -1;
    QByteArray out;
    QString err;
};

RawRun runCliRaw(const QStringList& args, const QString& workingDir, const QString& stdoutFile = {})
{
    QProcess p;
    p.setWorkingDirectory(workingDir);
    if (!stdoutFile.isEmpty())
        p.setStandardOutputFile(stdoutFile);
    p.start(QStringLiteral(PARAMSCOPE_CLI), args);
    p.waitForFinished(120000);
    RawRun r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = stdoutFile.isEmpty() ? p.readAllStandardOutput() : QByteArray();
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

/// Stdout decoded without QString::fromUtf8's loss of a leading U+FEFF.
QString exactUtf8(const QByteArray& b)
{
    return b.startsWith("\xEF\xBB\xBF") ? QChar(0xFEFF) + QString::fromUtf8(b.mid(3)) : QString::fromUtf8(b);
}

}  // namespace

class TestCommandLine : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void listPlainMatchesPython();
    void listEscapesNamesLikePythonRepr();
    void listJsonKeepsNamesExact();
    void treeEscapesNames();
    void treeDepthZeroIsRootOnly();
    void byteOrderMarkIsKept();
    void percentInNamesAndPaths();
    void regexUndecidedIsReported();
    void globIsNeverInvalidNorUndecided();
    void helpAll();
    void exportToStdout();
    void exportFormatContradictsExtension();
    void listJsonMatchesPython_data();
    void listJsonMatchesPython();
    void listSearchModes_data();
    void listSearchModes();
    void tree();
    void errors_data();
    void errors();
    void help();

private:
    QTemporaryDir m_dir;
    QString odd() const { return m_dir.filePath(QStringLiteral("odd.pt")); }
    QJsonArray oddTruth() const
    {
        return readJson(m_dir.filePath(QStringLiteral("odd.json"))).value(QStringLiteral("entries")).toArray();
    }
};

void TestCommandLine::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QProcess py;
    py.start(QStringLiteral(PARAMSCOPE_PYTHON),
             {QStringLiteral("-c"), QString::fromUtf8(kOddNamesScript), m_dir.path()});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    QCOMPARE(oddTruth().size(), 17);
}

void TestCommandLine::listEscapesNamesLikePythonRepr()
{
    const RawRun r = runCliRaw({QStringLiteral("list"), odd()}, m_dir.path());
    QCOMPARE(r.code, 0);
    // Nothing a terminal would act on: no ESC, no C1 control, no bidi override, no line
    // separator; one row per tensor with five tab-separated fields.
    const QString out = exactUtf8(r.out);
    for (char16_t c : {u'\x1b', u'\x7f', u'\x85', u'\u2028', u'\u202e', u'\ufeff', u'\r'})
        QVERIFY2(!out.contains(QChar(c)), qPrintable(QString::number(c, 16)));
    const QStringList lines = out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    const QJsonArray truth = oddTruth();
    QCOMPARE(lines.size(), truth.size());
    for (int i = 0; i < lines.size(); ++i) {
        const QStringList f = lines[i].split(QLatin1Char('\t'));
        QCOMPARE(f.size(), 5);
        QCOMPARE(f[0], truth[i].toObject().value(QStringLiteral("shown")).toString());
    }
}

void TestCommandLine::listJsonKeepsNamesExact()
{
    const RawRun r = runCliRaw({QStringLiteral("list"), odd(), QStringLiteral("--json")}, m_dir.path());
    QCOMPARE(r.code, 0);
    // JSON escapes, not terminal escapes: the parsed names are Python's, character for character.
    QVERIFY(!r.out.contains('\x1b'));
    QJsonParseError perr;
    const QJsonArray entries =
        QJsonDocument::fromJson(r.out, &perr).object().value(QStringLiteral("entries")).toArray();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString()));
    const QJsonArray truth = oddTruth();
    QCOMPARE(entries.size(), truth.size());
    for (int i = 0; i < entries.size(); ++i)
        QCOMPARE(entries[i].toObject().value(QStringLiteral("name")).toString(),
                 truth[i].toObject().value(QStringLiteral("name")).toString());
}

void TestCommandLine::treeEscapesNames()
{
    const RawRun r = runCliRaw({QStringLiteral("tree"), odd()}, m_dir.path());
    QCOMPARE(r.code, 0);
    const QString out = exactUtf8(r.out);
    QVERIFY(!out.contains(QChar(0x1b)));
    QVERIFY(!out.contains(QChar(0x2028)));
    const QStringList lines = out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    // Header, 17 top-level rows, plus 'plain' and the module holding '权重' have one child each.
    QCOMPARE(lines.size(), 1 + 17 + 2);
    for (const char* shown : {"─ nl\\nname ", "─ esc\\x1b[31mred ", "─ back\\\\slash ", "─ \\ufeffw ", "─ ls\\u2028x "})
        QVERIFY2(out.contains(QString::fromUtf8(shown)), shown);
}

void TestCommandLine::treeDepthZeroIsRootOnly()
{
    const QString file = m_dir.filePath(QStringLiteral("prefix.pt"));
    const CliRun zero = runCli({QStringLiteral("tree"), file, QStringLiteral("--depth"), QStringLiteral("0")});
    QCOMPARE(zero.code, 0);
    const QStringList lines = zero.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines[0].startsWith(QStringLiteral("prefix.pt")), qPrintable(lines[0]));
    QVERIFY2(lines[0].contains(QRegularExpression(QStringLiteral("\\b6\\s+24 B$"))), qPrintable(lines[0]));
    // Depth 1: 'a' (tensor and module) and 'c', not 'a.b' nor 'c.d'.
    const CliRun one = runCli({QStringLiteral("tree"), file, QStringLiteral("--depth"), QStringLiteral("1")});
    QCOMPARE(one.code, 0);
    const QStringList l1 = one.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(l1.size(), 3);
    QVERIFY2(l1[1].startsWith(QStringLiteral("├─ a ")), qPrintable(l1[1]));
    QVERIFY2(l1[2].startsWith(QStringLiteral("└─ c ")), qPrintable(l1[2]));
}

void TestCommandLine::byteOrderMarkIsKept()
{
    // "\ufeffw" and "w" are two tensors; each name on the command line picks its own.
    const QJsonArray truth = oddTruth();
    for (const QString& name : {QString(QChar(0xFEFF)) + QStringLiteral("w"), QStringLiteral("w")}) {
        double mean = qQNaN();
        for (const auto& t : truth)
            if (t.toObject().value(QStringLiteral("name")).toString() == name)
                mean = t.toObject().value(QStringLiteral("mean")).toDouble();
        QVERIFY(!qIsNaN(mean));
        const RawRun r = runCliRaw({QStringLiteral("stats"), odd(), name, QStringLiteral("--json")}, m_dir.path());
        QCOMPARE(r.code, 0);
        const QJsonObject o = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(o.value(QStringLiteral("name")).toString(), name);
        QCOMPARE(o.value(QStringLiteral("mean")).toDouble(), mean);
        // Plain text shows the mark as an escape, so the two never look the same.
        const RawRun text = runCliRaw({QStringLiteral("stats"), odd(), name}, m_dir.path());
        QCOMPARE(text.code, 0);
        const QString nameLine = exactUtf8(text.out).section(QLatin1Char('\n'), 0, 0);
        QCOMPARE(nameLine.mid(14), name.size() == 2 ? QStringLiteral("\\ufeffw") : QStringLiteral("w"));
    }
    // --exact too, and the JSON list holds both.
    const RawRun list = runCliRaw(
        {QStringLiteral("list"), odd(), QStringLiteral("--exact"), QString(QChar(0xFEFF)) + QStringLiteral("w")},
        m_dir.path());
    QCOMPARE(list.code, 0);
    QCOMPARE(exactUtf8(list.out).section(QLatin1Char('\t'), 0, 0), QStringLiteral("\\ufeffw"));
}

void TestCommandLine::percentInNamesAndPaths()
{
    // %1..%9 in a name or a path are text, never placeholders.
    const QString copy = m_dir.filePath(QStringLiteral("m%1%2.pt"));
    QFile::remove(copy);
    QVERIFY(QFile::copy(odd(), copy));
    const CliRun missing = runCli({QStringLiteral("stats"), copy, QStringLiteral("x%2y%1")});
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains(QStringLiteral("no tensor named 'x%2y%1' in 'm%1%2.pt'")), qPrintable(missing.err));
    const CliRun stats = runCli({QStringLiteral("stats"), copy, QStringLiteral("pct%1q%2")});
    QCOMPARE(stats.code, 0);
    QVERIFY2(stats.out.startsWith(QStringLiteral("name          pct%1q%2\n")), qPrintable(stats.out));
    const CliRun exp = runCli({QStringLiteral("export"), copy, QStringLiteral("pct%1q%2"), QStringLiteral("-o"),
                               m_dir.filePath(QStringLiteral("out%1.npy"))});
    QCOMPARE(exp.code, 0);
    QVERIFY2(exp.out.contains(QStringLiteral("to ") + m_dir.filePath(QStringLiteral("out%1.npy"))),
             qPrintable(exp.out));
}

void TestCommandLine::regexUndecidedIsReported()
{
    // (a+)+b backtracks exponentially on "aaa…a!" before the alternative '!' is tried:
    // PCRE2's match limit stops it. Python's re.search matches; we must not say "no match".
    const QString pattern = QStringLiteral("(a+)+b|!");
    const CliRun r = runCli({QStringLiteral("list"), odd(), QStringLiteral("--regex"), pattern});
    QCOMPARE(r.code, 0);  // documented: undecided names are a warning
    QVERIFY2(r.err.contains(QStringLiteral("warning: 1 name could not be decided")), qPrintable(r.err));
    const QString longName = QString(20, QLatin1Char('a')) + QLatin1Char('!');
    QVERIFY2(r.err.contains(QLatin1Char('\'') + longName + QLatin1Char('\'')), qPrintable(r.err));
    QVERIFY(r.err.endsWith(QLatin1Char('\n')));
    // Every name is either listed (Python matches it too) or reported undecided.
    QStringList listed;
    for (const QString& l : r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        listed << l.section(QLatin1Char('\t'), 0, 0);
    for (const auto& t : oddTruth()) {
        const QJsonObject o = t.toObject();
        const QString shown = o.value(QStringLiteral("shown")).toString();
        if (shown == longName)
            QVERIFY(o.value(QStringLiteral("regex_hit")).toBool() && !listed.contains(shown));
        else
            QCOMPARE(listed.contains(shown), o.value(QStringLiteral("regex_hit")).toBool());
    }
    // export says the same, and writes the decided matches.
    const QString out = m_dir.filePath(QStringLiteral("undecided.safetensors"));
    const CliRun exp =
        runCli({QStringLiteral("export"), odd(), QStringLiteral("--regex"), pattern, QStringLiteral("-o"), out});
    QCOMPARE(exp.code, 0);
    QVERIFY2(exp.err.contains(QStringLiteral("paramscope-cli export: warning: 1 name could not be decided")),
             qPrintable(exp.err));
    QCOMPARE(listed, QStringList{QStringLiteral("tab\\tname")});  // "ab": the only decided match
    QVERIFY2(exp.out.startsWith(QStringLiteral("wrote 1 tensor (")), qPrintable(exp.out));
}

void TestCommandLine::globIsNeverInvalidNorUndecided()
{
    // A 70,000-character wildcard once became a regular expression too large for PCRE2
    // ("invalid pattern at position -1"); a wildcard is always valid and always decided.
    const CliRun longGlob =
        runCli({QStringLiteral("list"), odd(), QStringLiteral("--glob"), QString(70000, QLatin1Char('?'))});
    QCOMPARE(longGlob.code, 0);
    QVERIFY2(longGlob.err.isEmpty(), qPrintable(longGlob.err.left(300)));
    QVERIFY(longGlob.out.isEmpty());
    QString stars;
    for (int i = 0; i < 12; ++i)
        stars += QStringLiteral("*a");
    const CliRun many = runCli({QStringLiteral("list"), odd(), QStringLiteral("--glob"), stars + QStringLiteral("*!")});
    QCOMPARE(many.code, 0);
    QVERIFY2(many.err.isEmpty(), qPrintable(many.err));
    QCOMPARE(many.out.section(QLatin1Char('\t'), 0, 0), QString(20, QLatin1Char('a')) + QLatin1Char('!'));
    // A regular expression error names the pattern and the position in it.
    const CliRun bad = runCli({QStringLiteral("list"), odd(), QStringLiteral("--regex"), QStringLiteral("lin(ear")});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.contains(QStringLiteral("invalid regular expression 'lin(ear' at position 7: ")),
             qPrintable(bad.err));
}

void TestCommandLine::helpAll()
{
    for (const QStringList& args : {QStringList{QStringLiteral("--help-all")},
                                    QStringList{QStringLiteral("list"), odd(), QStringLiteral("--help-all")},
                                    QStringList{QStringLiteral("export"), QStringLiteral("--help-all")}}) {
        const CliRun r = runCli(args);
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains(QStringLiteral("--engine")), qPrintable(r.out));
        QVERIFY2(!r.out.contains(QStringLiteral("plain.weight")), qPrintable(r.out));
        QVERIFY(r.err.isEmpty());
    }
}

void TestCommandLine::exportToStdout()
{
    // -o - writes to standard output (a pipe, or a regular file the shell redirected to)
    // exactly what -o FILE writes, and creates no file named '-'.
    const QString file = m_dir.filePath(QStringLiteral("w.npy"));
    const RawRun toFile =
        runCliRaw({QStringLiteral("export"), odd(), QStringLiteral("w"), QStringLiteral("-o"), file}, m_dir.path());
    QCOMPARE(toFile.code, 0);
    const QByteArray expected = readAll(file);
    QVERIFY(expected.startsWith("\x93NUMPY"));
    const QStringList args{QStringLiteral("export"), odd(),
                           QStringLiteral("w"),      QStringLiteral("-o"),
                           QStringLiteral("-"),      QStringLiteral("--format"),
                           QStringLiteral("npy")};
    const RawRun piped = runCliRaw(args, m_dir.path());
    QCOMPARE(piped.code, 0);
    QCOMPARE(piped.out, expected);
    const QString redirected = m_dir.filePath(QStringLiteral("redirected.bin"));
    const RawRun toRegular = runCliRaw(args, m_dir.path(), redirected);
    QCOMPARE(toRegular.code, 0);
    QCOMPARE(readAll(redirected), expected);
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("-"))));
    // The values are Python's: w is torch.arange(4) + 60 (the 7th name).
    QProcess py;
    py.start(QStringLiteral(PARAMSCOPE_PYTHON),
             {QStringLiteral("-c"), QStringLiteral("import numpy, sys; print(numpy.load(sys.argv[1]).tolist())"),
              redirected});
    QVERIFY(py.waitForFinished(60000));
    QCOMPARE(QString::fromUtf8(py.readAllStandardOutput()).trimmed(), QStringLiteral("[60.0, 61.0, 62.0, 63.0]"));
    // Without --format there is nothing to tell the format from.
    const RawRun noFormat =
        runCliRaw({QStringLiteral("export"), odd(), QStringLiteral("w"), QStringLiteral("-o"), QStringLiteral("-")},
                  m_dir.path());
    QCOMPARE(noFormat.code, 2);
    QVERIFY2(noFormat.err.contains(QStringLiteral("needs --format")), qPrintable(noFormat.err));
    QVERIFY(noFormat.out.isEmpty());
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("-"))));
}

void TestCommandLine::exportFormatContradictsExtension()
{
    const QString out = m_dir.filePath(QStringLiteral("contradiction.npy"));
    const CliRun r = runCli({QStringLiteral("export"), odd(), QStringLiteral("w"), QStringLiteral("-o"), out,
                             QStringLiteral("--format"), QStringLiteral("pt")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QStringLiteral("'contradiction.npy' has the extension of npy but --format is pt")),
             qPrintable(r.err));
    QVERIFY(!QFileInfo::exists(out));
    // Agreeing, or an extension that names no format, is fine.
    QCOMPARE(runCli({QStringLiteral("export"), odd(), QStringLiteral("w"), QStringLiteral("-o"), out,
                     QStringLiteral("--format"), QStringLiteral("npy")})
                 .code,
             0);
    QCOMPARE(runCli({QStringLiteral("export"), odd(), QStringLiteral("w"), QStringLiteral("-o"),
                     m_dir.filePath(QStringLiteral("w.bin")), QStringLiteral("--format"), QStringLiteral("pt")})
                 .code,
             0);
}

void TestCommandLine::listPlainMatchesPython()
{
    const CliRun r = runCli({QStringLiteral("list"), fixture(QStringLiteral("batchnorm.pt")),
                             QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(r.code, 0);
    const QJsonArray truth =
        readJson(fixture(QStringLiteral("batchnorm.json"))).value(QStringLiteral("entries")).toArray();
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
    const CliRun r = runCli({QStringLiteral("list"), fixture(name + QStringLiteral(".pt")), QStringLiteral("--json"),
                             QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(r.code, 0);
    QJsonParseError perr;
    const QJsonObject got = QJsonDocument::fromJson(r.out.toUtf8(), &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString()));
    QCOMPARE(got.value(QStringLiteral("format")).toString(), QStringLiteral("torchscript"));
    QCOMPARE(got.value(QStringLiteral("file")).toString(), fixture(name + QStringLiteral(".pt")));
    const QJsonArray entries = got.value(QStringLiteral("entries")).toArray();
    const QJsonArray truth =
        readJson(fixture(name + QStringLiteral(".json"))).value(QStringLiteral("entries")).toArray();
    QCOMPARE(entries.size(), truth.size());
    const QHash<QString, int> itemSize{{"float32", 4}, {"float64", 8}, {"float16", 2},  {"bfloat16", 2},
                                       {"int8", 1},    {"int16", 2},   {"int32", 4},    {"int64", 8},
                                       {"uint8", 1},   {"bool", 1},    {"complex64", 8}};
    for (int i = 0; i < entries.size(); ++i) {
        const QJsonObject e = entries[i].toObject();
        const QJsonObject x = truth[i].toObject();
        for (const char* key : {"name", "kind", "dtype", "shape", "requires_grad", "shared_with"})
            QCOMPARE(e.value(QLatin1String(key)), x.value(QLatin1String(key)));
        qint64 numel = 1;
        for (const auto& d : x.value(QStringLiteral("shape")).toArray())
            numel *= d.toInteger();
        QCOMPARE(e.value(QStringLiteral("numel")).toInteger(), numel);
        QCOMPARE(e.value(QStringLiteral("bytes")).toInteger(),
                 numel * itemSize.value(x.value(QStringLiteral("dtype")).toString()));
    }
}

void TestCommandLine::listSearchModes_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("exact") << QStringList{"--exact", "blocks.10.weight"} << QStringList{"blocks.10.weight"};
    QTest::newRow("contains") << QStringList{"--contains", "8000"}
                              << QStringList{"experts.8000.weight", "experts.8000.bias"};
    QTest::newRow("glob crosses dots") << QStringList{"--glob", "chain.*.bias"}
                                       << QStringList{"chain.0.0.0.0.0.0.bias"};
    QTest::newRow("regex search") << QStringList{"--regex", R"(blocks\.1[01]\.b)"}
                                  << QStringList{"blocks.10.bias", "blocks.11.bias"};
    QTest::newRow("ignore case") << QStringList{"--exact", "EXPERTS.ALPHA.WEIGHT", "--ignore-case"}
                                 << QStringList{"experts.alpha.weight"};
    QTest::newRow("no match") << QStringList{"--contains", "nothing-like-this"} << QStringList{};
}

void TestCommandLine::listSearchModes()
{
    QFETCH(QStringList, options);
    QFETCH(QStringList, expected);
    const CliRun r = runCli(QStringList{QStringLiteral("list"), fixture(QStringLiteral("nested.pt")),
                                        QStringLiteral("--engine"), QStringLiteral("libtorch")} +
                            options);
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
    const CliRun full = runCli({QStringLiteral("tree"), fixture(QStringLiteral("tied.pt")), QStringLiteral("--engine"),
                                QStringLiteral("libtorch")});
    QCOMPARE(full.code, 0);
    const QStringList lines = full.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    // Header: file, format, totals with the tied weight counted once: 40 + 16 + 4 elements.
    QVERIFY2(lines[0].startsWith(QStringLiteral("tied.pt")), qPrintable(lines[0]));
    QVERIFY2(lines[0].contains(QStringLiteral("TorchScript archive")), qPrintable(lines[0]));
    QVERIFY2(lines[0].contains(QRegularExpression(QStringLiteral("\\b60\\s+240 B$"))), qPrintable(lines[0]));
    QVERIFY(full.out.contains(QStringLiteral("= embed.weight")));
    QCOMPARE(lines.size(), 1 + 3 + 4);  // header, 3 modules, 4 tensors

    const CliRun shallow =
        runCli({QStringLiteral("tree"), fixture(QStringLiteral("nested.pt")), QStringLiteral("--depth"),
                QStringLiteral("1"), QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(shallow.code, 0);
    const QStringList sl = shallow.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(sl.size(), 1 + 4);  // features, blocks, experts, chain
    QVERIFY(sl[2].contains(QStringLiteral("blocks")));
    QVERIFY(sl[2].contains(QStringLiteral("24 tensors")));
    QVERIFY2(sl[2].contains(QRegularExpression(QStringLiteral("\\b360\\s+1.41 KiB$"))), qPrintable(sl[2]));

    const CliRun natural = runCli({QStringLiteral("tree"), fixture(QStringLiteral("nested.pt")),
                                   QStringLiteral("--depth"), QStringLiteral("2"), QStringLiteral("--natural-sort"),
                                   QStringLiteral("--engine"), QStringLiteral("libtorch")});
    QCOMPARE(natural.code, 0);
    QVERIFY(natural.out.indexOf(QStringLiteral("─ 9 ")) < natural.out.indexOf(QStringLiteral("─ 10 ")));
}

void TestCommandLine::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing file") << QStringList{"list", "/nonexistent/model.pt"} << 1
                                  << "'/nonexistent/model.pt' does not exist";
    QTest::newRow("not a model") << QStringList{"list", fixture("bad/text.pt"), "--engine", "libtorch"} << 1
                                 << "'text.pt' is a text file, not a PyTorch model";
    QTest::newRow("invalid regex") << QStringList{"list", fixture("seed.pt"), "--regex", "lin(ear"} << 2
                                   << "invalid regular expression 'lin(ear' at position 7";
    QTest::newRow("two modes") << QStringList{"list", fixture("seed.pt"), "--exact", "a", "--regex", "b"} << 2
                               << "only one of";
    QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2 << "unknown command 'frobnicate'";
    QTest::newRow("unknown option") << QStringList{"list", fixture("seed.pt"), "--bogus"} << 2
                                    << "Unknown option 'bogus'";
    QTest::newRow("bad depth") << QStringList{"tree", fixture("seed.pt"), "--depth", "x"} << 2
                               << "--depth takes a whole number";
    QTest::newRow("no file") << QStringList{"list"} << 2 << "expected one FILE";
    QTest::newRow("bad engine") << QStringList{"list", fixture("seed.pt"), "--engine", "magic"} << 2
                                << "unknown engine 'magic'";
    QTest::newRow("bad engine, stats") << QStringList{"stats", fixture("seed.pt"), "x", "--engine", "bogus"} << 2
                                       << "unknown engine 'bogus'";
    QTest::newRow("bad engine, export") << QStringList{"export",   fixture("seed.pt"),
                                                       "-o",       "/nonexistent/x.npy",
                                                       "--engine", "bogus"}
                                        << 2 << "unknown engine 'bogus'";
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

// What a first-time user of paramscope-cli reads: each command's --help names the command,
// list's aligned table and summary (against PyTorch's own figures for the fixtures) with
// the tab-separated form kept for pipes and --tsv, stats' histogram bars and edges (against
// NumPy's histogram), and stats over several tensors (against NumPy, tensor by tensor).
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope::test;

namespace {

// What PyTorch says of the TorchScript fixtures, for list's table: per tensor its row
// (kind from the modules' _parameters/_buffers, elements with thousands separators, the
// size as 1024-based units), and the summary with storage shared by several names counted
// once (the first name of each storage counts). Also a state_dict with one very long name,
// and a runner that gives a command a terminal as its standard output.
const char* kListScript = R"PY(
import json, os, sys, torch
fixtures, out = sys.argv[1], sys.argv[2]
units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
def human(b):
    v, u = float(b), 0
    while v >= 1024 and u < 6:
        v, u = v / 1024, u + 1
    return "%d B" % b if u == 0 else ("%.2f %s" if v < 10 else "%.1f %s") % (v, units[u])
def grouped(n):
    return "{:,}".format(n)
truth = {}
for name in ["dtypes", "tied", "batchnorm", "views", "nested"]:
    m = torch.jit.load(os.path.join(fixtures, name + ".pt"))
    params, buffers = set(), set()
    def walk(mod, prefix):
        params.update(prefix + k for k in mod._parameters.keys())
        buffers.update(prefix + k for k in mod._buffers.keys())
        for cname, child in mod.named_children():
            walk(child, prefix + cname + ".")
    walk(m, "")
    rows, seen = [], set()
    kinds = {k: [0, 0] for k in ("parameter", "buffer", "tensor")}
    dtypes, total, shared = {}, [0, 0], 0
    for n, t in m.state_dict(keep_vars=True).items():
        kind = "parameter" if n in params else "buffer" if n in buffers else "tensor"
        dt = str(t.dtype).replace("torch.", "")
        key = t.storage().data_ptr() if t.storage().size() > 0 else ("empty", n)
        counted = key not in seen
        seen.add(key)
        shared += 0 if counted else 1
        nbytes = t.numel() * t.element_size()
        rows.append({"name": n, "kind": kind, "dtype": dt, "shape": "[" + ", ".join(map(str, t.shape)) + "]",
                     "numel": t.numel(), "elements": grouped(t.numel()), "size": human(nbytes)})
        kinds[kind][0] += 1
        d = dtypes.setdefault(dt, [0, 0])
        if counted:
            kinds[kind][1] += t.numel()
            d[0] += t.numel(); d[1] += nbytes
            total[0] += t.numel(); total[1] += nbytes
    truth[name] = {"rows": rows, "kinds": kinds, "total": total, "shared": shared,
                   "dtypes": {k: [grouped(v[0]), human(v[1])] for k, v in dtypes.items()},
                   "total_text": [grouped(total[0]), human(total[1]), grouped(total[1])]}
json.dump(truth, open(os.path.join(out, "list_truth.json"), "w"), indent=1)
sd = {"layers.%d.weight" % i: torch.ones(2) for i in range(30)}
sd["adapter." + "x" * 150 + ".weight"] = torch.ones(3)
torch.save(sd, os.path.join(out, "long.pt"))
)PY";

// A checkpoint for stats (torch.save of a dict, modules enc/dec, NaN, Inf and zeros
// planted), with NumPy's figures of each tensor over its finite values (float64) and
// np.histogram with 10 bins over [min, max].
const char* kStatsScript = R"PY(
import json, os, sys, numpy as np, torch
out = sys.argv[1]
g = torch.Generator().manual_seed(3)
sd = {
    "enc.0.weight": torch.randn(64, 32, generator=g),
    "enc.0.bias": torch.randn(64, generator=g) * 1e-3,
    "enc.1.weight": torch.randn(16, 64, generator=g) * 50,
    "enc.1.bias": torch.zeros(16),
    "dec.weight": torch.rand(8, 16, generator=g, dtype=torch.float64) + 1000,
    "dec.bias": torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), 0.0, -2.5]),
    "dec.scale": (torch.rand(300, generator=g) * 0.01 + 1000).double(),
    "steps": torch.arange(-5, 20, dtype=torch.int64),
    "half": torch.randn(40, generator=g).half(),
}
sd["enc.0.weight"][3, :7] = 0
torch.save(sd, os.path.join(out, "stats.pt"))
truth = {}
for name, t in sd.items():
    a = t.double().numpy() if t.dtype != torch.int64 else t.numpy().astype(np.float64)
    f = a[np.isfinite(a)]
    counts, edges = np.histogram(f, bins=10, range=(f.min(), f.max()))
    truth[name] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "numel": int(a.size),
                   "min": float(f.min()), "max": float(f.max()), "mean": float(f.mean()), "std": float(f.std()),
                   "nan": int(np.isnan(a).sum()), "inf": int(np.isinf(a).sum()), "zeros": int((a == 0).sum()),
                   "edges10": [float(e) for e in edges], "counts10": [int(c) for c in counts]}
json.dump({"order": list(sd), "tensors": truth}, open(os.path.join(out, "stats_truth.json"), "w"), indent=1)
)PY";

// Runs argv[1:] with a pseudo-terminal as its standard output; prints what it wrote (line
// ends as the program wrote them) and exits with its exit code.
const char* kTerminalScript = R"PY(
import os, subprocess, sys
master, slave = os.openpty()
p = subprocess.Popen(sys.argv[1:], stdout=slave, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
sys.exit(p.wait())
)PY";

CliRun runPython(const char* script, const QStringList& args)
{
    return runProcess(QStringLiteral(PARAMSCOPE_PYTHON),
                      QStringList{QStringLiteral("-c"), QString::fromUtf8(script)} + args, 300000);
}

QStringList lines(const QString& text)
{
    return text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

/// The table's cells: runs of two or more spaces separate them (names and shapes hold
/// single spaces at most).
QStringList cells(const QString& line)
{
    return line.trimmed().split(QRegularExpression(QStringLiteral("\\s{2,}")));
}

}  // namespace

class TestCliReadable : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void helpNamesTheCommand_data();
    void helpNamesTheCommand();
    void listTableMatchesPyTorch_data();
    void listTableMatchesPyTorch();
    void listTsvWhenPiped();
    void listTableOnATerminal();
    void listTableSearches();
    void listTableLongName();
    void listAllTableHasMetadata();
    void histogramBarsAndEdges_data();
    void histogramBarsAndEdges();
    void statsTableMatchesNumPy_data();
    void statsTableMatchesNumPy();
    void statsJsonOfSeveral();
    void statsOneMatchIsDetailed();
    void statsNoMatch();

private:
    QTemporaryDir m_dir;
    QJsonObject m_list, m_stats;
    QString statsFile() const { return m_dir.filePath(QStringLiteral("stats.pt")); }
};

void TestCliReadable::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const CliRun py = runPython(kListScript, {fixture(QString()), m_dir.path()});
    QVERIFY2(py.code == 0, qPrintable(py.err));
    m_list = readJson(m_dir.filePath(QStringLiteral("list_truth.json")));
    QCOMPARE(m_list.size(), 5);
    const CliRun stats = runPython(kStatsScript, {m_dir.path()});
    QVERIFY2(stats.code == 0, qPrintable(stats.err));
    m_stats = readJson(m_dir.filePath(QStringLiteral("stats_truth.json")));
    QCOMPARE(m_stats.value(QStringLiteral("order")).toArray().size(), 9);
}

void TestCliReadable::helpNamesTheCommand_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("arguments");
    QTest::newRow("list") << "list"
                          << "FILE";
    QTest::newRow("tree") << "tree"
                          << "FILE";
    QTest::newRow("stats") << "stats"
                           << "FILE [NAME]";
    QTest::newRow("export") << "export"
                            << "FILE [NAME]";
    QTest::newRow("scan") << "scan"
                          << "FILE";
    QTest::newRow("diff") << "diff"
                          << "A B";
    QTest::newRow("heatmap") << "heatmap"
                             << "FILE NAME";
}

void TestCliReadable::helpNamesTheCommand()
{
    // The tool is run by its full path (as from a build tree): the usage line still says
    // "paramscope-cli COMMAND", for --help and --help-all alike.
    QFETCH(QString, command);
    QFETCH(QString, arguments);
    QVERIFY(QStringLiteral(PARAMSCOPE_CLI).contains(QLatin1Char('/')));
    for (const char* help : {"--help", "--help-all", "-h"}) {
        const CliRun r = runCli({command, QLatin1String(help)});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out.section(QLatin1Char('\n'), 0, 0),
                 QStringLiteral("Usage: paramscope-cli %1 [options] %2").arg(command, arguments));
        QVERIFY(!r.out.contains(QStringLiteral(PARAMSCOPE_CLI)));
    }
}

void TestCliReadable::listTableMatchesPyTorch_data()
{
    QTest::addColumn<QString>("name");
    for (const char* n : {"dtypes", "tied", "batchnorm", "views"})
        QTest::newRow(n) << QString::fromLatin1(n);
}

void TestCliReadable::listTableMatchesPyTorch()
{
    QFETCH(QString, name);
    const QJsonObject t = m_list.value(name).toObject();
    const CliRun r = runCli({QStringLiteral("list"), fixture(name + QStringLiteral(".pt")), QStringLiteral("--table")});
    QCOMPARE(r.code, 0);
    const QStringList l = lines(r.out);
    const QJsonArray rows = t.value(QStringLiteral("rows")).toArray();
    const QJsonObject dtypes = t.value(QStringLiteral("dtypes")).toObject();
    QCOMPARE(l.size(), 1 + rows.size() + 1 + dtypes.size() + 1);
    QCOMPARE(cells(l[0]), (QStringList{"NAME", "KIND", "DTYPE", "SHAPE", "ELEMENTS", "SIZE"}));
    // Aligned: every column starts where its header does (the numbers end where theirs do).
    const qsizetype kindAt = l[0].indexOf(QStringLiteral("KIND")), sizeEnd = l[0].size();
    for (int i = 0; i < rows.size(); ++i) {
        const QJsonObject x = rows[i].toObject();
        const QString& row = l[1 + i];
        QCOMPARE(cells(row), (QStringList{x.value("name").toString(), x.value("kind").toString(),
                                          x.value("dtype").toString(), x.value("shape").toString(),
                                          x.value("elements").toString(), x.value("size").toString()}));
        QCOMPARE(row.indexOf(x.value("kind").toString(), kindAt), kindAt);
        QCOMPARE(row.size(), sizeEnd);
    }
    // The summary: tensors and elements per kind, each dtype's and the total size.
    const QJsonObject kinds = t.value(QStringLiteral("kinds")).toObject();
    const auto kind = [&](const char* k, int field) {
        return qint64(kinds.value(QLatin1String(k)).toArray()[field].toInteger());
    };
    const auto plural = [](qint64 n, const char* one, const char* many) {
        return QString::number(n) + QLatin1Char(' ') + QLatin1String(n == 1 ? one : many);
    };
    const auto elements = [](qint64 n) {
        return QLocale(QLocale::English).toString(n) + QLatin1String(n == 1 ? " element" : " elements");
    };
    QString kindsLine =
        QStringLiteral("%1: %2 (%3), %4 (%5)")
            .arg(plural(qint64(rows.size()), "tensor", "tensors"),
                 plural(kind("parameter", 0), "parameter", "parameters"), elements(kind("parameter", 1)),
                 plural(kind("buffer", 0), "buffer", "buffers"), elements(kind("buffer", 1)));
    if (kind("tensor", 0))
        kindsLine += QStringLiteral(", %1 of kind tensor (%2)").arg(kind("tensor", 0)).arg(elements(kind("tensor", 1)));
    QCOMPARE(l[1 + rows.size()], kindsLine);
    QStringList names = dtypes.keys();
    names.sort();
    for (int k = 0; k < names.size(); ++k) {
        const QJsonArray d = dtypes.value(names[k]).toArray();
        QCOMPARE(cells(l[2 + rows.size() + k]),
                 (QStringList{names[k], d[0].toString() + (d[0].toString() == "1" ? " element" : " elements"),
                              d[1].toString()}));
    }
    const QJsonArray total = t.value(QStringLiteral("total_text")).toArray();
    const QStringList last = cells(l.last());
    QCOMPARE(last.mid(0, 3), (QStringList{"total", total[0].toString() + " elements", total[1].toString()}));
    const qint64 shared = t.value(QStringLiteral("shared")).toInteger();
    QCOMPARE(last[3], QStringLiteral("(%1 bytes%2)")
                          .arg(total[2].toString(),
                               shared == 0 ? QString()
                                           : QStringLiteral("; %1 the storage of one listed before, counted once")
                                                 .arg(plural(shared, "tensor shares", "tensors share"))));
}

void TestCliReadable::listTsvWhenPiped()
{
    // Piped, without --table: the tab-separated lines scripts read, exactly, the same as
    // --tsv; no header, no summary.
    for (const char* name : {"dtypes", "tied", "nested"}) {
        const QString file = fixture(QLatin1String(name) + QStringLiteral(".pt"));
        QString expected;
        for (const auto& v : m_list.value(QLatin1String(name)).toObject().value("rows").toArray()) {
            const QJsonObject x = v.toObject();
            expected += QStringList{x.value("name").toString(), x.value("kind").toString(), x.value("dtype").toString(),
                                    x.value("shape").toString(), QString::number(x.value("numel").toInteger())}
                            .join(QLatin1Char('\t')) +
                        QLatin1Char('\n');
        }
        const CliRun piped = runCli({QStringLiteral("list"), file});
        QCOMPARE(piped.code, 0);
        QCOMPARE(piped.out, expected);
        const CliRun tsv = runCli({QStringLiteral("list"), file, QStringLiteral("--tsv")});
        QCOMPARE(tsv.code, 0);
        QCOMPARE(tsv.out, expected);
    }
    const CliRun both = runCli({QStringLiteral("list"), fixture(QStringLiteral("seed.pt")), QStringLiteral("--tsv"),
                                QStringLiteral("--table")});
    QCOMPARE(both.code, 2);
    QVERIFY2(both.err.contains(QStringLiteral("only one of --table, --tsv, --json")), qPrintable(both.err));
}

void TestCliReadable::listTableOnATerminal()
{
    // A terminal as standard output: the table by default, --tsv the lines.
    const QString file = fixture(QStringLiteral("tied.pt"));
    const CliRun table = runCli({QStringLiteral("list"), file, QStringLiteral("--table")});
    const CliRun tsv = runCli({QStringLiteral("list"), file, QStringLiteral("--tsv")});
    const CliRun onTty = runPython(kTerminalScript, {QStringLiteral(PARAMSCOPE_CLI), QStringLiteral("list"), file});
    QCOMPARE(onTty.code, 0);
    QCOMPARE(onTty.out, table.out);
    const CliRun tsvOnTty = runPython(
        kTerminalScript, {QStringLiteral(PARAMSCOPE_CLI), QStringLiteral("list"), file, QStringLiteral("--tsv")});
    QCOMPARE(tsvOnTty.code, 0);
    QCOMPARE(tsvOnTty.out, tsv.out);
    QVERIFY(table.out != tsv.out);
}

void TestCliReadable::listTableSearches()
{
    // The search options pick the rows of the table, and the summary counts those alone.
    const QString file = fixture(QStringLiteral("nested.pt"));
    const QJsonArray all = m_list.value(QStringLiteral("nested")).toObject().value("rows").toArray();
    const std::pair<QStringList, QRegularExpression> searches[] = {
        {{"--contains", "8000"}, QRegularExpression(QStringLiteral("8000"))},
        {{"--regex", R"(blocks\.1[01]\.)"}, QRegularExpression(QStringLiteral(R"(blocks\.1[01]\.)"))},
        {{"--glob", "*.BIAS", "--ignore-case"}, QRegularExpression(QStringLiteral(R"(\.bias$)"))},
    };
    for (const auto& [options, re] : searches) {
        QStringList want;
        qint64 elements = 0;
        for (const auto& v : all)
            if (re.match(v.toObject().value("name").toString()).hasMatch()) {
                want << v.toObject().value("name").toString();
                elements += v.toObject().value("numel").toInteger();
            }
        QVERIFY(!want.isEmpty());
        const CliRun r = runCli(QStringList{QStringLiteral("list"), file, QStringLiteral("--table")} + options);
        QCOMPARE(r.code, 0);
        const QStringList l = lines(r.out);
        QCOMPARE(l.size(), 1 + want.size() + 3);  // header, rows, kinds, float32, total
        QStringList got;
        for (int i = 1; i <= want.size(); ++i)
            got << cells(l[i]).first();
        QCOMPARE(got, want);
        QVERIFY2(l[1 + want.size()].startsWith(QStringLiteral("%1 tensors: %1 parameters (").arg(want.size())),
                 qPrintable(l[1 + want.size()]));
        QCOMPARE(cells(l.last()).mid(0, 3), (QStringList{"total", QStringLiteral("%1 elements").arg(elements),
                                                         QStringLiteral("%1 B").arg(elements * 4)}));
    }
}

void TestCliReadable::listTableLongName()
{
    // One name of 165 characters among 30 short ones: it stands on a line of its own, its
    // row's other cells below it in the columns every other row uses.
    const CliRun r =
        runCli({QStringLiteral("list"), m_dir.filePath(QStringLiteral("long.pt")), QStringLiteral("--table")});
    QCOMPARE(r.code, 0);
    const QStringList l = lines(r.out);
    const QString longName = QStringLiteral("adapter.") + QString(150, QLatin1Char('x')) + QStringLiteral(".weight");
    const qsizetype at = l.indexOf(longName);
    QVERIFY2(at > 0, qPrintable(r.out));
    const qsizetype kindAt = l[0].indexOf(QStringLiteral("KIND"));
    QVERIFY(kindAt < 30);
    QCOMPARE(l[at + 1].indexOf(QStringLiteral("tensor")), kindAt);
    QVERIFY(l[at + 1].left(kindAt).trimmed().isEmpty());
    QCOMPARE(cells(l[at + 1]), (QStringList{"tensor", "float32", "[3]", "3", "12 B"}));
    for (int i = 1; i < at; ++i)
        QCOMPARE(l[i].size(), l[0].size());  // the short rows are as wide as the header
}

// --all in the table form: the tensor table and summary as without it, then the count of the
// file's other values and those values aligned under NAME TYPE VALUE; the values are the ones
// PyTorch's own reading of the checkpoint gives (the fixture's truth file).
void TestCliReadable::listAllTableHasMetadata()
{
    const QString file = fixture(QStringLiteral("checkpoints/training_checkpoint.pt"));
    QFile truthFile(fixture(QStringLiteral("checkpoints/training_checkpoint.truth.json")));
    QVERIFY(truthFile.open(QIODevice::ReadOnly));
    const QJsonArray truth = QJsonDocument::fromJson(truthFile.readAll()).object().value("metadata").toArray();
    QVERIFY(truth.size() >= 3);
    const CliRun plain = runCli({QStringLiteral("list"), file, QStringLiteral("--table")});
    const CliRun all = runCli({QStringLiteral("list"), file, QStringLiteral("--table"), QStringLiteral("--all")});
    QCOMPARE(plain.code, 0);
    QCOMPARE(all.code, 0);
    QVERIFY2(all.out.startsWith(plain.out + QLatin1Char('\n')), qPrintable(all.out));
    const QStringList l = all.out.mid(plain.out.size() + 1).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY(l.size() >= 2);
    const QRegularExpressionMatch count =
        QRegularExpression(QStringLiteral("^(\\d+) metadata values \\(values of the file that are not tensors\\)$"))
            .match(l[0]);
    QVERIFY2(count.hasMatch(), qPrintable(l[0]));
    QCOMPARE(cells(l[1]), (QStringList{"NAME", "TYPE", "VALUE"}));
    const qsizetype typeAt = l[1].indexOf(QStringLiteral("TYPE")), valueAt = l[1].indexOf(QStringLiteral("VALUE"));
    // Rows: a name too wide for its column stands on a line of its own, its cells below.
    QMap<QString, QStringList> rows;
    for (int i = 2; i < l.size(); ++i) {
        QString name = l[i].left(typeAt).trimmed(), rest = l[i];
        if (l[i].size() <= typeAt || l[i].at(typeAt - 1) != QLatin1Char(' ')) {
            QVERIFY(i + 1 < l.size());
            name = l[i];
            rest = l[++i];
            QVERIFY2(rest.left(typeAt).trimmed().isEmpty(), qPrintable(rest));
        }
        QVERIFY2(rest.at(typeAt) != QLatin1Char(' ') && rest.at(typeAt - 1) == QLatin1Char(' '), qPrintable(rest));
        QVERIFY2(rest.at(valueAt) != QLatin1Char(' ') && rest.at(valueAt - 1) == QLatin1Char(' '), qPrintable(rest));
        rows.insert(name, {rest.mid(typeAt, valueAt - typeAt).trimmed(), rest.mid(valueAt)});
    }
    QCOMPARE(rows.size(), count.captured(1).toInt());
    for (const auto& v : truth) {
        const QJsonObject m = v.toObject();
        const QString name = m.value("name").toString();
        QVERIFY2(rows.contains(name), qPrintable(name));
        QCOMPARE(rows.value(name), (QStringList{m.value("type").toString(), m.value("value").toString()}));
    }
}

void TestCliReadable::histogramBarsAndEdges_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("longestEdge");                  // characters an edge may take
    QTest::newRow("normal") << "enc.0.weight" << 6;        // "-3.123": not 17 digits
    QTest::newRow("small") << "enc.0.bias" << 9;           // "-0.002345" or "2.345e-03"
    QTest::newRow("with nan and inf") << "dec.bias" << 5;  // finite values -2.5 .. 1: "-2.50"
    // 1000 + [0, 0.01): the edges need more digits to differ, and get them.
    QTest::newRow("narrow range far from 0") << "dec.scale" << 12;
}

void TestCliReadable::histogramBarsAndEdges()
{
    QFETCH(QString, name);
    QFETCH(int, longestEdge);
    const QJsonObject t = m_stats.value(QStringLiteral("tensors")).toObject().value(name).toObject();
    const CliRun r =
        runCli({QStringLiteral("stats"), statsFile(), name, QStringLiteral("--bins"), QStringLiteral("10")});
    QCOMPARE(r.code, 0);
    const QRegularExpression binLine(QStringLiteral(R"(^  \[( *)(\S+), ( *)(\S+)([)\]])  ( *)(\d+)(?:  (#+))?$)"));
    QStringList binLines;
    for (const QString& l : lines(r.out))
        if (l.startsWith(QStringLiteral("  [")))
            binLines << l;
    const QJsonArray counts = t.value(QStringLiteral("counts10")).toArray();
    const QJsonArray edges = t.value(QStringLiteral("edges10")).toArray();
    QCOMPARE(binLines.size(), counts.size());
    qint64 largest = 0;
    for (const auto& c : counts)
        largest = std::max(largest, qint64(c.toInteger()));
    double narrowest = qInf();
    for (int i = 0; i + 1 < edges.size(); ++i)
        narrowest = std::min(narrowest, edges[i + 1].toDouble() - edges[i].toDouble());
    QString previousRight;
    for (int i = 0; i < binLines.size(); ++i) {
        const QString& l = binLines[i];
        const auto m = binLine.match(l);
        QVERIFY2(m.hasMatch(), qPrintable(l));
        // Aligned: the commas, and the counts' ends, in one column each.
        QCOMPARE(m.capturedStart(4) - m.captured(3).size(), binLine.match(binLines[0]).capturedStart(3));
        QCOMPARE(m.capturedEnd(7), binLine.match(binLines[0]).capturedEnd(7));
        QCOMPARE(m.captured(5), QString(i + 1 == binLines.size() ? QStringLiteral("]") : QStringLiteral(")")));
        // The count is NumPy's; the bar is 40 '#' for the largest bin, the others in proportion.
        const qint64 count = m.captured(7).toLongLong();
        QCOMPARE(count, qint64(counts[i].toInteger()));
        const double ideal = 40.0 * double(count) / double(largest);
        const qsizetype bar = m.captured(8).size();
        if (count == 0)
            QCOMPARE(bar, qsizetype(0));
        else
            QVERIFY2(bar >= 1 && std::fabs(double(bar) - ideal) <= 0.5 + (ideal < 1 ? 1 : 0), qPrintable(l));
        if (count == largest)
            QCOMPARE(bar, qsizetype(40));
        // Edges: short, within a hundredth of a bin of NumPy's, adjacent ones different,
        // each bin starting where the one before ended.
        const QString left = m.captured(2), right = m.captured(4);
        for (const auto& [text, truth] :
             {std::pair{left, edges[i].toDouble()}, std::pair{right, edges[i + 1].toDouble()}}) {
            QVERIFY2(text.size() <= longestEdge, qPrintable(text));
            bool ok = false;
            QVERIFY2(std::fabs(text.toDouble(&ok) - truth) <= narrowest / 100 && ok, qPrintable(text));
        }
        QVERIFY(left != right);
        if (i)
            QCOMPARE(left, previousRight);
        previousRight = right;
    }
}

void TestCliReadable::statsTableMatchesNumPy_data()
{
    QTest::addColumn<QStringList>("selection");  // NAME or a search
    QTest::addColumn<QString>("pattern");        // the names Python's re.search picks
    QTest::newRow("module") << QStringList{"enc"} << R"(^enc\.)";
    QTest::newRow("contains") << QStringList{"--contains", ".b"} << R"(\.b)";
    QTest::newRow("glob") << QStringList{"--glob", "*.weight"} << R"(\.weight$)";
    QTest::newRow("regex") << QStringList{"--regex", "^dec|steps"} << "^dec|steps";
    QTest::newRow("ignore case") << QStringList{"--exact", "DEC.BIAS", "--ignore-case"} << "^(?!)";  // one: detailed
    QTest::newRow("every tensor") << QStringList{} << "";
}

void TestCliReadable::statsTableMatchesNumPy()
{
    QFETCH(QStringList, selection);
    QFETCH(QString, pattern);
    const QJsonObject tensors = m_stats.value(QStringLiteral("tensors")).toObject();
    QStringList want;
    for (const auto& v : m_stats.value(QStringLiteral("order")).toArray())
        if (QRegularExpression(pattern).match(v.toString()).hasMatch())
            want << v.toString();
    const CliRun r =
        runCli(QStringList{QStringLiteral("stats"), statsFile(), QStringLiteral("--threads"), QStringLiteral("2")} +
               selection);
    QCOMPARE(r.code, 0);
    if (want.isEmpty()) {  // --exact DEC.BIAS --ignore-case: one tensor, its detailed view
        QVERIFY2(r.out.startsWith(QStringLiteral("name          dec.bias\n")), qPrintable(r.out));
        QVERIFY(r.out.contains(QStringLiteral("\nhistogram     ")));
        return;
    }
    QVERIFY(want.size() > 1);
    const QStringList l = lines(r.out);
    QCOMPARE(cells(l[0]),
             (QStringList{"NAME", "DTYPE", "SHAPE", "ELEMENTS", "MIN", "MAX", "MEAN", "STD", "NAN", "INF", "ZEROS"}));
    QCOMPARE(l.size(), 1 + want.size());
    const auto close = [](const QString& text, double truth) {
        bool ok = false;
        const double v = text.toDouble(&ok);  // 4 significant digits
        return ok && std::fabs(v - truth) <= 5e-4 * std::fabs(truth) + 1e-300;
    };
    const auto count = [](const QString& text) { return QString(text).remove(QLatin1Char(',')).toLongLong(); };
    for (int i = 0; i < want.size(); ++i) {
        const QJsonObject x = tensors.value(want[i]).toObject();
        const QStringList c = cells(l[1 + i]);
        QCOMPARE(c.size(), 11);
        QCOMPARE(c[0], want[i]);
        QCOMPARE(c[1], x.value("dtype").toString());
        QStringList dims;
        for (const auto& d : x.value("shape").toArray())
            dims << QString::number(d.toInteger());
        QCOMPARE(c[2], QStringLiteral("[%1]").arg(dims.join(QStringLiteral(", "))));
        QCOMPARE(count(c[3]), x.value("numel").toInteger());
        const char* figures[] = {"min", "max", "mean", "std"};
        for (int k = 0; k < 4; ++k)
            QVERIFY2(close(c[4 + k], x.value(QLatin1String(figures[k])).toDouble()),
                     qPrintable(want[i] + QLatin1Char(' ') + QLatin1String(figures[k]) + QStringLiteral(": ") +
                                c[4 + k] + QStringLiteral(" vs ") +
                                QString::number(x.value(QLatin1String(figures[k])).toDouble(), 'g', 17)));
        QCOMPARE(count(c[8]), x.value("nan").toInteger());
        QCOMPARE(count(c[9]), x.value("inf").toInteger());
        QCOMPARE(count(c[10]), x.value("zeros").toInteger());
    }
}

void TestCliReadable::statsJsonOfSeveral()
{
    // {"file", "tensors": [...]}: per tensor the one-tensor object's members, at full precision.
    const QJsonObject tensors = m_stats.value(QStringLiteral("tensors")).toObject();
    const CliRun r = runCli({QStringLiteral("stats"), statsFile(), QStringLiteral("dec"), QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    QJsonParseError perr;
    const QJsonObject got = QJsonDocument::fromJson(r.out.toUtf8(), &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString() + r.out));
    QCOMPARE(got.keys(), (QStringList{"file", "tensors"}));
    QCOMPARE(got.value("file").toString(), statsFile());
    const QJsonArray a = got.value(QStringLiteral("tensors")).toArray();
    QStringList names;
    for (const auto& v : a)
        names << v.toObject().value("name").toString();
    QCOMPARE(names, (QStringList{"dec.weight", "dec.bias", "dec.scale"}));
    const CliRun single =
        runCli({QStringLiteral("stats"), statsFile(), QStringLiteral("dec.weight"), QStringLiteral("--json")});
    QJsonObject one = QJsonDocument::fromJson(single.out.toUtf8()).object();
    one.remove(QStringLiteral("file"));
    QCOMPARE(a[0].toObject(), one);  // the same members as `stats FILE NAME --json`
    for (const auto& v : a) {
        const QJsonObject o = v.toObject();
        const QJsonObject x = tensors.value(o.value("name").toString()).toObject();
        QCOMPARE(o.value("min").toDouble(), x.value("min").toDouble());
        QCOMPARE(o.value("max").toDouble(), x.value("max").toDouble());
        for (const char* f : {"mean", "std"})
            QVERIFY(std::fabs(o.value(QLatin1String(f)).toDouble() - x.value(QLatin1String(f)).toDouble()) <=
                    1e-12 * std::fabs(x.value(QLatin1String(f)).toDouble()));
        QCOMPARE(o.value("nan").toInteger(), x.value("nan").toInteger());
        QCOMPARE(o.value("pos_inf").toInteger() + o.value("neg_inf").toInteger(), x.value("inf").toInteger());
    }
}

void TestCliReadable::statsOneMatchIsDetailed()
{
    // A search that finds one tensor prints what `stats FILE NAME` prints.
    const CliRun byName = runCli({QStringLiteral("stats"), statsFile(), QStringLiteral("steps")});
    const CliRun bySearch =
        runCli({QStringLiteral("stats"), statsFile(), QStringLiteral("--glob"), QStringLiteral("st*s")});
    QCOMPARE(byName.code, 0);
    QCOMPARE(bySearch.code, 0);
    QCOMPARE(bySearch.out, byName.out);
    QVERIFY(byName.out.startsWith(QStringLiteral("name          steps\n")));
}

void TestCliReadable::statsNoMatch()
{
    const std::pair<QStringList, QString> cases[] = {
        {{"--contains", "nothing"}, "no tensor of 'stats.pt' matches --contains 'nothing'"},
        {{"--regex", "^x", "--ignore-case"}, "no tensor of 'stats.pt' matches --regex '^x' --ignore-case"},
        {{"enc.9"}, "no tensor named 'enc.9' in 'stats.pt', nor a module of that name"},
    };
    for (const auto& [selection, message] : cases) {
        const CliRun r = runCli(QStringList{QStringLiteral("stats"), statsFile()} + selection);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
    }
    const CliRun both = runCli({QStringLiteral("stats"), statsFile(), QStringLiteral("enc"),
                                QStringLiteral("--contains"), QStringLiteral("w")});
    QCOMPARE(both.code, 2);
    QVERIFY2(both.err.contains(QStringLiteral("NAME or a search option, not both")), qPrintable(both.err));
}

QTEST_GUILESS_MAIN(TestCliReadable)
#include "tst_clireadable.moc"

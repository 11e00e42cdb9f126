// paramscope-cli scan as a pipeline runs it: the JSON's figures against NumPy's
// (scan_expected.json, written with the PyTorch fixtures), the findings expected of the
// planted problems and none of the healthy model, the CSV read back by Python's csv module,
// --problems-only, the text table, and the exit codes of --fail-on and of misuse.
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace paramscope::test;

namespace {

bool close(double a, double b, double rel)
{
    return std::abs(a - b) <= rel * std::max({1e-30, std::abs(a), std::abs(b)});
}

QString sharded()
{
    return fixture(QStringLiteral("scan_sharded/model.safetensors.index.json"));
}

/// {name, kind} of the expected findings.
QSet<QString> expectedFindings(const QJsonObject& truth)
{
    QSet<QString> s;
    for (const QJsonValue& v : truth.value(QStringLiteral("findings")).toArray())
        s.insert(v.toArray().at(0).toString() + QLatin1Char('|') + v.toArray().at(1).toString());
    return s;
}

QSet<QString> findingsOf(const QJsonObject& report)
{
    QSet<QString> s;
    for (const QJsonValue& v : report.value(QStringLiteral("findings")).toArray())
        s.insert(v[QStringLiteral("name")].toString() + QLatin1Char('|') + v[QStringLiteral("kind")].toString());
    return s;
}

/// Runs Python with `script`, its stdin `input`; returns stdout (empty on failure).
QByteArray python(const QString& script, const QByteArray& input = {})
{
    QProcess p;
    p.start(QStringLiteral(PARAMSCOPE_PYTHON), {QStringLiteral("-c"), script});
    p.waitForStarted();
    p.write(input);
    p.closeWriteChannel();
    p.waitForFinished(120000);
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        qWarning("python failed: %s", p.readAllStandardError().constData());
        return {};
    }
    return p.readAllStandardOutput();
}

}  // namespace

class TestCliScan : public QObject {
    Q_OBJECT
    QJsonObject m_expected;

    /// The JSON report's tensors equal NumPy's figures and its findings the planted ones.
    void checkReport(const QJsonObject& report, const QJsonObject& truth)
    {
        const QJsonObject want = truth.value(QStringLiteral("tensors")).toObject();
        const QJsonArray tensors = report.value(QStringLiteral("tensors")).toArray();
        QCOMPARE(tensors.size(), want.size());
        for (const QJsonValue& v : tensors) {
            const QJsonObject t = v.toObject();
            const QString name = t.value(QStringLiteral("name")).toString();
            const QJsonObject e = want.value(name).toObject();
            QVERIFY2(!e.isEmpty(), qPrintable(name + QStringLiteral(": not in the truth file")));
            QVERIFY2(!t.contains(QStringLiteral("error")), qPrintable(name));
            for (const char* key : {"numel", "zeros", "nan", "pos_inf", "neg_inf"})
                QVERIFY2(t.value(QLatin1String(key)).toInteger(-1) == e.value(QLatin1String(key)).toInteger(),
                         qPrintable(name + QLatin1Char(' ') + QLatin1String(key)));
            // Shortest round-trip text: the very doubles NumPy found.
            for (const char* key : {"min", "max", "max_abs"})
                QVERIFY2(t.value(QLatin1String(key)).toDouble(-1e300) == e.value(QLatin1String(key)).toDouble(),
                         qPrintable(QStringLiteral("%1 %2: %3, NumPy %4")
                                        .arg(name, QLatin1String(key))
                                        .arg(t.value(QLatin1String(key)).toDouble(), 0, 'g', 17)
                                        .arg(e.value(QLatin1String(key)).toDouble(), 0, 'g', 17)));
            for (const char* key : {"mean", "std", "l2"})
                QVERIFY2(
                    close(t.value(QLatin1String(key)).toDouble(1e300), e.value(QLatin1String(key)).toDouble(), 1e-6),
                    qPrintable(name + QLatin1Char(' ') + QLatin1String(key)));
            QVERIFY(t.value(QStringLiteral("shape")).isArray());
            QVERIFY(!t.value(QStringLiteral("dtype")).toString().isEmpty());
        }
        QCOMPARE(findingsOf(report), expectedFindings(truth));
        for (const QJsonValue& f : report.value(QStringLiteral("findings")).toArray()) {
            QVERIFY(!f[QStringLiteral("detail")].toString().isEmpty());
            const QString kind = f[QStringLiteral("kind")].toString();
            const bool error = kind == QLatin1String("nan") || kind == QLatin1String("inf");
            QCOMPARE(f[QStringLiteral("severity")].toString(),
                     error ? QStringLiteral("error") : QStringLiteral("warning"));
        }
        QVERIFY(report.value(QStringLiteral("errors")).toArray().isEmpty());
        QCOMPARE(report.value(QStringLiteral("complete")).toBool(), true);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_expected = readJson(fixture(QStringLiteral("scan_expected.json")));
        QVERIFY2(!m_expected.isEmpty(), "scan_expected.json missing: run the fixtures_scan test first");
    }

    void jsonEqualsNumpy_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("truth");
        QTest::addColumn<QString>("format");
        QTest::addRow("checkpoint with problems") << fixture(QStringLiteral("scan_problems.pt"))
                                                  << QStringLiteral("scan_problems.pt") << QStringLiteral("torch.save");
        QTest::addRow("healthy checkpoint") << fixture(QStringLiteral("scan_clean.pt"))
                                            << QStringLiteral("scan_clean.pt") << QStringLiteral("torch.save");
        QTest::addRow("sharded safetensors")
            << sharded() << QStringLiteral("scan_sharded") << QStringLiteral("safetensors-sharded");
    }
    void jsonEqualsNumpy()
    {
        QFETCH(QString, path);
        QFETCH(QString, truth);
        QFETCH(QString, format);
        const CliRun r = runCli(
            {QStringLiteral("scan"), path, QStringLiteral("--json"), QStringLiteral("--threads"), QStringLiteral("2")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QJsonParseError pe;
        const QJsonObject report = QJsonDocument::fromJson(r.out.toUtf8(), &pe).object();
        QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(pe.errorString()));
        QCOMPARE(report.value(QStringLiteral("file")).toString(), path);
        QCOMPARE(report.value(QStringLiteral("format")).toString(), format);
        checkReport(report, m_expected.value(truth).toObject());
    }

    void problemsOnlyListsTheTensorsWithFindings()
    {
        const CliRun r = runCli({QStringLiteral("scan"), fixture(QStringLiteral("scan_problems.pt")),
                                 QStringLiteral("--json"), QStringLiteral("--problems-only")});
        QCOMPARE(r.code, 0);
        const QJsonObject report = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QSet<QString> listed, want;
        for (const QJsonValue& t : report.value(QStringLiteral("tensors")).toArray()) {
            listed.insert(t[QStringLiteral("name")].toString());
            QVERIFY(!t[QStringLiteral("findings")].toArray().isEmpty());
        }
        for (const QString& f : expectedFindings(m_expected.value(QStringLiteral("scan_problems.pt")).toObject()))
            want.insert(f.section(QLatin1Char('|'), 0, 0));
        QCOMPARE(listed, want);

        const CliRun clean = runCli({QStringLiteral("scan"), fixture(QStringLiteral("scan_clean.pt")),
                                     QStringLiteral("--json"), QStringLiteral("--problems-only")});
        QCOMPARE(clean.code, 0);
        QVERIFY(
            QJsonDocument::fromJson(clean.out.toUtf8()).object().value(QStringLiteral("tensors")).toArray().isEmpty());
    }

    // The CSV parsed by Python's csv module holds the JSON's rows: same names, same numbers.
    void csvReadBackByPython()
    {
        const QString file = fixture(QStringLiteral("scan_problems.pt"));
        const CliRun csv = runCli({QStringLiteral("scan"), file, QStringLiteral("--csv")});
        QCOMPARE(csv.code, 0);
        const CliRun json = runCli({QStringLiteral("scan"), file, QStringLiteral("--json")});
        QCOMPARE(json.code, 0);
        const QByteArray parsed = python(QStringLiteral("import csv, json, sys\n"
                                                        "rows = list(csv.DictReader(sys.stdin))\n"
                                                        "print(json.dumps(rows))\n"),
                                         csv.out.toUtf8());
        const QJsonArray rows = QJsonDocument::fromJson(parsed).array();
        const QJsonArray tensors =
            QJsonDocument::fromJson(json.out.toUtf8()).object()[QStringLiteral("tensors")].toArray();
        QCOMPARE(rows.size(), tensors.size());
        QVERIFY(rows.size() > 20);
        int withFindings = 0;
        for (qsizetype i = 0; i < rows.size(); ++i) {
            const QJsonObject row = rows[i].toObject(), t = tensors[i].toObject();
            QCOMPARE(row[QStringLiteral("name")].toString(), t[QStringLiteral("name")].toString());
            QCOMPARE(row[QStringLiteral("dtype")].toString(), t[QStringLiteral("dtype")].toString());
            QCOMPARE(QJsonDocument::fromJson(row[QStringLiteral("shape")].toString().toUtf8()).array(),
                     t[QStringLiteral("shape")].toArray());
            for (const char* key : {"numel", "zeros", "nan", "pos_inf", "neg_inf"})
                QCOMPARE(row[QLatin1String(key)].toString().toLongLong(), t[QLatin1String(key)].toInteger());
            for (const char* key : {"min", "max", "mean", "std", "max_abs", "l2"})
                QCOMPARE(row[QLatin1String(key)].toString().toDouble(), t[QLatin1String(key)].toDouble());
            QStringList kinds;
            for (const QJsonValue& k : t[QStringLiteral("findings")].toArray())
                kinds << k.toString();
            QCOMPARE(row[QStringLiteral("findings")].toString(), kinds.join(QLatin1Char(';')));
            withFindings += kinds.isEmpty() ? 0 : 1;
        }
        QCOMPARE(withFindings, 9);
    }

    // Names with commas, quotes and a newline survive the CSV quoting (a safetensors file
    // written here by Python with json + struct).
    void csvQuotesAwkwardNames()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("odd.safetensors"));
        const QByteArray ok = python(QStringLiteral("import json, struct, sys\n"
                                                    "names = ['w,1', 'say \"hi\"', 'two\\nlines', 'plain']\n"
                                                    "h = {}; data = b''\n"
                                                    "for n in names:\n"
                                                    "    h[n] = {'dtype': 'F32', 'shape': [2], 'data_offsets': "
                                                    "[len(data), len(data) + 8]}\n"
                                                    "    data += struct.pack('<2f', 1.5, float('nan'))\n"
                                                    "hb = json.dumps(h).encode()\n"
                                                    "open('%1', 'wb')"
                                                    ".write(struct.pack('<Q', len(hb)) + hb + data)\n"
                                                    "print('ok')\n")
                                         .arg(path));
        QCOMPARE(ok.trimmed(), QByteArray("ok"));
        const CliRun r = runCli({QStringLiteral("scan"), path, QStringLiteral("--csv")});
        QCOMPARE(r.code, 0);
        const QByteArray parsed = python(QStringLiteral("import csv, json, sys\n"
                                                        "print(json.dumps([[r['name'], r['nan'], r['max'], "
                                                        "r['findings']] for r in csv.DictReader(sys.stdin)]))\n"),
                                         r.out.toUtf8());
        QSet<QString> names;
        for (const QJsonValue& v : QJsonDocument::fromJson(parsed).array()) {
            names.insert(v[0].toString());
            QCOMPARE(v[1].toString(), QStringLiteral("1"));
            QCOMPARE(v[2].toString(), QStringLiteral("1.5"));
            QCOMPARE(v[3].toString(), QStringLiteral("nan"));
        }
        QCOMPARE(names, (QSet<QString>{QStringLiteral("w,1"), QStringLiteral("say \"hi\""),
                                       QStringLiteral("two\nlines"), QStringLiteral("plain")}));
    }

    void textTableAndSummary()
    {
        const CliRun r = runCli({QStringLiteral("scan"), fixture(QStringLiteral("scan_problems.pt"))});
        QCOMPARE(r.code, 0);
        const QStringList lines = r.out.split(QLatin1Char('\n'));
        QVERIFY(lines.first().startsWith(QLatin1String("name")));
        QVERIFY(lines.first().contains(QLatin1String("max|x|")));
        const int tensors = m_expected[QStringLiteral("scan_problems.pt")][QStringLiteral("tensors")].toObject().size();
        bool nanRow = false;
        for (const QString& l : lines)
            nanRow = nanRow ||
                     (l.startsWith(QLatin1String("model.layers.2.mlp.up.weight ")) && l.endsWith(QLatin1String("nan")));
        QVERIFY2(nanRow, qPrintable(r.out));
        QVERIFY(r.out.contains(QLatin1String("Findings: 2 errors, 9 warnings")));
        QVERIFY(r.out.contains(QStringLiteral("Scanned %1 of %1 tensors").arg(tensors)));
        // Columns line up: the zero counts are right-aligned under "zeros", no line ends in blanks.
        const qsizetype zerosEnd = lines.first().indexOf(QLatin1String("zeros")) + 5;
        for (int i = 1; i <= tensors; ++i) {
            QVERIFY2(lines[i].size() >= zerosEnd && lines[i][zerosEnd - 1].isDigit() &&
                         (lines[i].size() == zerosEnd || lines[i][zerosEnd] == QLatin1Char(' ')),
                     qPrintable(lines[i]));
            QVERIFY(!lines[i].endsWith(QLatin1Char(' ')));
        }

        const CliRun clean = runCli({QStringLiteral("scan"), fixture(QStringLiteral("scan_clean.pt"))});
        QCOMPARE(clean.code, 0);
        QVERIFY(clean.out.contains(QLatin1String("no problems found")));
        QVERIFY(!clean.out.contains(QLatin1String("Findings:")));
    }

    void exitCodes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        const QString problems = fixture(QStringLiteral("scan_problems.pt"));
        const QString clean = fixture(QStringLiteral("scan_clean.pt"));
        const QString s = QStringLiteral("scan");
        const QString failOn = QStringLiteral("--fail-on");
        QTest::addRow("no --fail-on, findings") << QStringList{s, problems} << 0;
        QTest::addRow("nan found") << QStringList{s, problems, failOn, QStringLiteral("nan")} << 3;
        QTest::addRow("errors found") << QStringList{s, problems, failOn, QStringLiteral("errors")} << 3;
        QTest::addRow("fp16-limit found") << QStringList{s, problems, failOn, QStringLiteral("fp16-limit")} << 3;
        QTest::addRow("list, one found") << QStringList{s, problems, failOn, QStringLiteral("zeros,outlier")} << 3;
        QTest::addRow("outlier across shards") << QStringList{s, sharded(), failOn, QStringLiteral("outlier")} << 3;
        QTest::addRow("healthy, any") << QStringList{s, clean, failOn, QStringLiteral("any")} << 0;
        QTest::addRow("healthy, nan,inf")
            << QStringList{s, clean, failOn, QStringLiteral("nan,inf"), QStringLiteral("--json")} << 0;
        QTest::addRow("unknown kind") << QStringList{s, problems, failOn, QStringLiteral("nan,bogus")} << 2;
        QTest::addRow("empty kinds") << QStringList{s, problems, failOn, QStringLiteral(",")} << 2;
        QTest::addRow("json and csv") << QStringList{s, problems, QStringLiteral("--json"), QStringLiteral("--csv")}
                                      << 2;
        QTest::addRow("bad threads") << QStringList{s, problems, QStringLiteral("--threads"), QStringLiteral("0")} << 2;
        QTest::addRow("no file") << QStringList{s} << 2;
        QTest::addRow("missing file") << QStringList{s, QStringLiteral("/nonexistent/model.pt"), failOn,
                                                     QStringLiteral("any")}
                                      << 1;
        QTest::addRow("not a model") << QStringList{s, QStringLiteral(PARAMSCOPE_SOURCE_DIR "/README.md")} << 1;
    }
    void exitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        const CliRun r = runCli(args);
        QVERIFY2(r.code == code,
                 qPrintable(QStringLiteral("exit %1, expected %2; stderr: %3").arg(r.code).arg(code).arg(r.err)));
        if (code == 1)
            QVERIFY(!r.err.isEmpty());
    }

    void helpNamesTheExitCodes()
    {
        const CliRun r = runCli({QStringLiteral("scan"), QStringLiteral("--help")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains(QLatin1String("3 a finding of a --fail-on kind exists")));
        QVERIFY(r.out.contains(QLatin1String("--problems-only")));
    }
};

QTEST_GUILESS_MAIN(TestCliScan)
#include "tst_cliscan.moc"

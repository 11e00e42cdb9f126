// Text from files shown to people: the terminal escaping of plain-text output and the
// Python snippet of the details panel, both checked against Python itself.
#include "ui/mainwindow.h"
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/snippet.h"
#include "base/textutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QComboBox>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope;

namespace {

/// Runs `script` with python3, `input` on stdin; returns its stdout parsed as JSON.
QJsonDocument python(const char* script, const QByteArray& input = {})
{
    QProcess p;
    p.start(QStringLiteral(PARAMSCOPE_PYTHON), {QStringLiteral("-c"), QString::fromUtf8(script)});
    p.write(input);
    p.closeWriteChannel();
    p.waitForFinished(120000);
    if (p.exitCode() != 0)
        qWarning("python: %s", p.readAllStandardError().constData());
    return QJsonDocument::fromJson(p.readAllStandardOutput());
}

/// One code point as a QString (not QString::fromUcs4: it drops U+FEFF).
QString codePoint(char32_t c)
{
    if (c < 0x10000)
        return QString(QChar(char16_t(c)));
    const QChar pair[] = {QChar(QChar::highSurrogate(c)), QChar(QChar::lowSurrogate(c))};
    return QString(pair, 2);
}

}  // namespace

class TestTextOutput : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void escapeAgreesWithPythonIsprintable();
    void escapeFormatIsPythonRepr();
    void escapeExamples();
    void utf8KeepsByteOrderMark();
    void pythonSnippetRoundTrips();
    void searchBarReportsUndecidedNames();
};

void TestTextOutput::escapeAgreesWithPythonIsprintable()
{
    // Qt 6.4 and Python 3.11 both use Unicode 14.0: over every code point, a character is
    // shown as itself exactly when Python's str.isprintable() says so (and it is not '\').
    const QJsonDocument d = python(R"PY(
import json, sys
runs, start = [], None
for c in range(0x110000):
    p = chr(c).isprintable()
    if p and start is None: start = c
    if not p and start is not None: runs.append([start, c]); start = None
if start is not None: runs.append([start, 0x110000])
import unicodedata
json.dump({"unicode": unicodedata.unidata_version, "runs": runs}, sys.stdout)
)PY");
    const QJsonArray runs = d.object().value(QStringLiteral("runs")).toArray();
    QVERIFY(runs.size() > 100);
    if (d.object().value(QStringLiteral("unicode")).toString() != QLatin1String("14.0.0") ||
        QChar::currentUnicodeVersion() != QChar::Unicode_14_0)
        QSKIP("Python and Qt use different Unicode versions");
    std::vector<char> printable(0x110000, 0);
    for (const auto& r : runs)
        for (int c = r.toArray().at(0).toInt(); c < r.toArray().at(1).toInt(); ++c)
            printable[size_t(c)] = 1;
    int escaped = 0;
    for (char32_t c = 0; c < 0x110000; ++c) {
        const QString s = codePoint(c);
        const QString e = escapeForTerminal(s);
        const bool asItself = e == s;
        if (asItself != (printable[c] && c != U'\\'))
            QFAIL(qPrintable(QStringLiteral("U+%1: shown as '%2'").arg(QString::number(uint(c), 16), e)));
        escaped += !asItself;
    }
    QVERIFY(escaped > 100000);  // unassigned, private use, surrogates, controls...
}

void TestTextOutput::escapeFormatIsPythonRepr()
{
    // The escape itself is the inside of Python's repr() (names without quotes).
    std::vector<char32_t> sample{0x0,     0x7,     0x8,     0x9,     0xa,      0xd,    0x1b,   0x1f,   0x5c,
                                 0x7f,    0x80,    0x85,    0x9f,    0xa0,     0xad,   0x200b, 0x200e, 0x2028,
                                 0x2029,  0x202e,  0x2066,  0x3000,  0xd800,   0xdfff, 0xe000, 0xfeff, 0xfffe,
                                 0x1f600, 0xe0001, 0xe0041, 0xf0000, 0x10ffff, U'a',   U'é',   U'权'};
    QJsonArray cps;
    for (char32_t c : sample)
        cps << int(c);
    const QJsonDocument d = python(R"PY(
import json, sys
cps = json.load(sys.stdin)
json.dump([repr(chr(c))[1:-1] for c in cps], sys.stdout, ensure_ascii=True)
)PY",
                                   QJsonDocument(cps).toJson());
    const QJsonArray reprs = d.array();
    QCOMPARE(reprs.size(), cps.size());
    for (int i = 0; i < cps.size(); ++i)
        QCOMPARE(escapeForTerminal(codePoint(sample[size_t(i)])), reprs[i].toString());
}

void TestTextOutput::escapeExamples()
{
    QCOMPARE(escapeForTerminal(std::string_view("a\nb\tc\x1b[31m\\d")), QStringLiteral("a\\nb\\tc\\x1b[31m\\\\d"));
    QCOMPARE(escapeForTerminal(std::string_view("\xEF\xBB\xBFw")), QStringLiteral("\\ufeffw"));
    QCOMPARE(escapeForTerminal(QStringLiteral("ünï.权重 😀")), QStringLiteral("ünï.权重 😀"));
    QCOMPARE(escapeForTerminal(std::string_view("%1%2")), QStringLiteral("%1%2"));
}

void TestTextOutput::utf8KeepsByteOrderMark()
{
    // QString::fromUtf8 drops one leading U+FEFF: the reason utf8ToQString exists.
    const std::string two = "\xEF\xBB\xBF\xEF\xBB\xBFw";
    QCOMPARE(utf8ToQString(two), QString(2, QChar(0xFEFF)) + QLatin1Char('w'));
    QCOMPARE(utf8ToQString(std::string_view("w")), QStringLiteral("w"));
    QCOMPARE(utf8ToQString(std::string_view("\xEF\xBB")), QString::fromUtf8("\xEF\xBB"));  // truncated: as fromUtf8
    const char* argv[] = {"prog", "\xEF\xBB\xBFx", "y"};
    QCOMPARE(argumentsFromArgv(3, argv),
             (QStringList{QStringLiteral("prog"), QChar(0xFEFF) + QStringLiteral("x"), QStringLiteral("y")}));
}

void TestTextOutput::pythonSnippetRoundTrips()
{
    const QStringList names{QStringLiteral("layer.weight"),
                            QStringLiteral("nl\nname"),
                            QStringLiteral("quote\"d"),
                            QStringLiteral("single'q"),
                            QStringLiteral("back\\slash\\"),
                            QStringLiteral("tab\tcr\r"),
                            QStringLiteral("esc\x1b[0m"),
                            QChar(0xFEFF) + QStringLiteral("w"),
                            QStringLiteral("ls\u2028ps\u2029"),
                            QStringLiteral("nul\u0000x"),
                            QStringLiteral("emoji\U0001F600 ünï 权重"),
                            QStringLiteral("del\x7f\u0085"),
                            QStringLiteral("\"\"\"triple"),
                            QStringLiteral("end\\")};
    ModelIndex idx;
    idx.format = ModelFormat::TorchScript;
    const TensorKind kinds[] = {TensorKind::Parameter, TensorKind::Buffer, TensorKind::Tensor};
    for (int i = 0; i < names.size(); ++i) {
        TensorEntry e;
        e.name = names[i].toStdString();
        e.kind = kinds[i % 3];
        e.dtype = DType::Float32;
        idx.entries.push_back(e);
    }
    idx.finalize();
    QJsonArray snippets;
    for (int i = 0; i < names.size(); ++i) {
        // One name per loader: TorchScript, torch.save, safetensors.
        idx.format = i % 3 == 0   ? ModelFormat::TorchScript
                     : i % 3 == 1 ? ModelFormat::TorchSave
                                  : ModelFormat::Safetensors;
        const QString s = pythonExpression(idx, i);
        QVERIFY2(!s.contains(QLatin1Char('\n')), qPrintable(s));  // one line to paste
        QCOMPARE(pythonSnippet(idx, i).section(QLatin1Char('\n'), -1), QStringLiteral("t = ") + s);
        snippets << s;
    }
    // Each expression parses as one Python subscript; its string literal is the name.
    const QJsonDocument d = python(R"PY(
import ast, json, sys
out = []
for s in json.load(sys.stdin):
    tree = ast.parse(s, mode="eval").body
    src = ast.get_source_segment(s, tree.slice)
    out.append({"call": ast.unparse(tree.value), "name": ast.literal_eval(src)})
json.dump(out, sys.stdout, ensure_ascii=True)
)PY",
                                   QJsonDocument(snippets).toJson());
    const QJsonArray got = d.array();
    QCOMPARE(got.size(), names.size());
    const QString calls[] = {QStringLiteral("m.state_dict()"), QStringLiteral("obj"), QStringLiteral("sd")};
    for (int i = 0; i < names.size(); ++i) {
        QCOMPARE(got[i].toObject().value(QStringLiteral("name")).toString(), names[i]);
        QCOMPARE(got[i].toObject().value(QStringLiteral("call")).toString(), calls[i % 3]);
    }
}

void TestTextOutput::searchBarReportsUndecidedNames()
{
    // The window's search bar says how many names the regular expression could not decide
    // (Python's re.search matches "aaa…a!" at '!'; PCRE2 gives up in (a+)+b first).
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir settings;
    MainWindow::setSettingsFile(settings.filePath(QStringLiteral("settings.ini")));
    auto index = std::make_shared<ModelIndex>();
    for (const QString& n :
         {QStringLiteral("x!"), QString(40, QLatin1Char('a')) + QLatin1Char('!'), QStringLiteral("zzz"),
          QStringLiteral("m.") + QString(50, QLatin1Char('a')) + QLatin1Char('!')}) {
        TensorEntry e;
        e.name = n.toStdString();
        e.dtype = DType::Float32;
        index->entries.push_back(e);
    }
    index->finalize();
    auto tree = std::make_shared<ModelTree>(ModelTree::build(*index));
    MainWindow w;
    w.show();
    w.setModel(index, tree);
    w.searchModeBox()->setCurrentIndex(w.searchModeBox()->findText(QStringLiteral("Regex")));
    w.searchEdit()->setText(QStringLiteral("(a+)+b|!"));
    w.flushSearch();
    QTRY_VERIFY2(w.matchCountLabel()->text().contains(QStringLiteral("2 names could not be decided")),
                 qPrintable(w.matchCountLabel()->text()));
    QVERIFY2(w.matchCountLabel()->text().startsWith(QStringLiteral("1 of 4 tensors")),
             qPrintable(w.matchCountLabel()->text()));
    QVERIFY(w.matchCountLabel()->toolTip().contains(QString(40, QLatin1Char('a')) + QLatin1Char('!')));
    // A pattern that decides every name says nothing of the kind.
    w.searchEdit()->setText(QStringLiteral("!$"));
    w.flushSearch();
    QTRY_COMPARE(w.matchCountLabel()->text(), QStringLiteral("3 of 4 tensors"));
}

QTEST_MAIN(TestTextOutput)
#include "tst_textoutput.moc"

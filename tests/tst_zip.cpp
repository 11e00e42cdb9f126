// The zip reader (formats/zip) on its own, over archives written by Python's zipfile
// (/usr/bin/python3, run here): stored and deflated members, ZIP64 extra fields, data
// descriptors (an unseekable writer), member names, and damaged copies (a bad local-header
// offset, a flipped data byte under the CRC, a truncated file, a duplicated name), each
// with its message and kind.
#include "base/mappedfile.h"
#include "formats/zip/zipreader.h"
#include "testutil.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramscope;

namespace {

// Writes the test archives into the folder given as argv[1].
const char* kWriter = R"(
import sys, os, zipfile, warnings
out = sys.argv[1]
stored = b"stored bytes " * 10
deflated = bytes(range(256)) * 64
with zipfile.ZipFile(os.path.join(out, "plain.zip"), "w") as z:
    z.writestr(zipfile.ZipInfo("top/stored.bin"), stored)  # ZipInfo defaults to ZIP_STORED
    z.writestr("top/dir/deflated.bin", deflated, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr("top/empty", b"")
with zipfile.ZipFile(os.path.join(out, "zip64.zip"), "w") as z:
    with z.open("top/big.bin", "w", force_zip64=True) as f:  # a ZIP64 extra field in the local header
        f.write(deflated)
    for i in range(70000):  # more than 65535 entries: the ZIP64 end-of-directory record
        z.writestr(zipfile.ZipInfo("top/n/%d" % i), b"%d" % i)
class Unseekable:
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): self.f.flush()
with open(os.path.join(out, "descriptor.zip"), "wb") as raw:
    with zipfile.ZipFile(Unseekable(raw), "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("top/a.bin", deflated)
        z.writestr("top/b.bin", stored)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with zipfile.ZipFile(os.path.join(out, "duplicate.zip"), "w") as z:
        z.writestr("top/x", b"1")
        z.writestr("top/x", b"2")
)";

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

quint32 le32(const QByteArray& b, int at)
{
    return quint32(quint8(b[at])) | quint32(quint8(b[at + 1])) << 8 | quint32(quint8(b[at + 2])) << 16 |
           quint32(quint8(b[at + 3])) << 24;
}

QByteArray expectedStored()
{
    return QByteArray("stored bytes ").repeated(10);
}
QByteArray expectedDeflated()
{
    QByteArray b;
    for (int r = 0; r < 64; ++r)
        for (int i = 0; i < 256; ++i)
            b.append(char(i));
    return b;
}

}  // namespace

class TestZip : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void storedAndDeflated();
    void zip64();
    void dataDescriptors();
    void sizeLimit();
    void badLocalHeaderOffset();
    void badCrc();
    void truncated();
    void duplicateName();

private:
    Result<ZipReader> open(const QString& name);
    QTemporaryDir m_dir;
};

void TestZip::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QProcess p;
    p.start(QStringLiteral(PARAMSCOPE_PYTHON), {QStringLiteral("-c"), QString::fromLatin1(kWriter), m_dir.path()});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
}

Result<ZipReader> TestZip::open(const QString& name)
{
    auto f = MappedFile::open(m_dir.filePath(name));
    if (!f)
        return Result<ZipReader>::failureFrom(f);
    return ZipReader::open(f.value());
}

void TestZip::storedAndDeflated()
{
    auto z = open(QStringLiteral("plain.zip"));
    QVERIFY2(z.ok(), qPrintable(z.error()));
    QCOMPARE(int(z->entries().size()), 3);
    QCOMPARE(QString::fromUtf8(z->entries()[0].name.data(), qsizetype(z->entries()[0].name.size())),
             QStringLiteral("top/stored.bin"));
    const ZipEntry* s = z->find("top/stored.bin");
    const ZipEntry* d = z->find("top/dir/deflated.bin");
    const ZipEntry* e = z->find("top/empty");
    QVERIFY(s && d && e);
    QVERIFY(!z->find("top/stored"));
    QVERIFY(!z->find("stored.bin"));
    QVERIFY(s->isStored());
    QCOMPARE(d->method, std::uint16_t(8));
    QVERIFY(d->compressedSize < d->uncompressedSize);
    const auto sb = z->read(*s, 1 << 20, true);
    QVERIFY2(sb.ok(), qPrintable(sb.error()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(sb->data), int(sb->size)), expectedStored());
    // Stored members are a span of the mapping (zero copy).
    QVERIFY(sb->data >= z->file()->data() && sb->data < z->file()->data() + z->file()->size());
    const auto db = z->read(*d, 1 << 20, true);
    QVERIFY2(db.ok(), qPrintable(db.error()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(db->data), int(db->size)), expectedDeflated());
    const auto eb = z->read(*e, 1 << 20, true);
    QVERIFY2(eb.ok(), qPrintable(eb.error()));
    QCOMPARE(eb->size, std::uint64_t(0));

    // Once a loader lets go of the directory's pages (a no-op on a file this small), entries
    // are still found; an entry kept without its reader reads the same bytes.
    z->releaseDirectoryPages();
    QCOMPARE(z->find("top/stored.bin"), s);
    QVERIFY(!z->find("top/stored"));
    const ZipEntry kept = *d;
    const std::shared_ptr<const MappedFile> file = z->file();
    z = Result<ZipReader>::failure(ErrorKind::Failed, QStringLiteral("gone"));
    const auto again = ZipReader::readMember(file, kept, 1 << 20, true);
    QVERIFY2(again.ok(), qPrintable(again.error()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(again->data), int(again->size)), expectedDeflated());
}

void TestZip::zip64()
{
    auto z = open(QStringLiteral("zip64.zip"));
    QVERIFY2(z.ok(), qPrintable(z.error()));
    const QByteArray raw = readAll(m_dir.filePath(QStringLiteral("zip64.zip")));
    // The first local header carries a ZIP64 extra field (id 0x0001).
    const int nameLen = quint8(raw[26]) | quint8(raw[27]) << 8;
    QCOMPARE(int(quint8(raw[30 + nameLen])), 1);
    QCOMPARE(int(quint8(raw[31 + nameLen])), 0);
    // The end-of-directory record says 0xFFFF entries: the count is in the ZIP64 record.
    QVERIFY(raw.contains(QByteArray("PK\x06\x06", 4)));
    const int eocd = raw.lastIndexOf(QByteArray("PK\x05\x06", 4));
    QCOMPARE(int(quint8(raw[eocd + 10])) | int(quint8(raw[eocd + 11])) << 8, 0xFFFF);
    QCOMPARE(int(z->entries().size()), 70001);
    const ZipEntry* last = z->find("top/n/69999");
    QVERIFY(last);
    const auto lb = z->read(*last, 64, true);
    QVERIFY2(lb.ok(), qPrintable(lb.error()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(lb->data), int(lb->size)), QByteArray("69999"));
    const ZipEntry* e = z->find("top/big.bin");
    QVERIFY(e);
    QCOMPARE(e->uncompressedSize, std::uint64_t(16384));
    const auto b = z->read(*e, 1 << 20, true);
    QVERIFY2(b.ok(), qPrintable(b.error()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(b->data), int(b->size)), expectedDeflated());
}

void TestZip::dataDescriptors()
{
    const QByteArray raw = readAll(m_dir.filePath(QStringLiteral("descriptor.zip")));
    QVERIFY(raw.startsWith("PK\x03\x04"));
    QVERIFY2(quint8(raw[6]) & 0x08, "zipfile wrote no data descriptor");  // general purpose flag bit 3
    QCOMPARE(le32(raw, 14), 0u);  // the local header's CRC is left 0: the sizes come from the directory
    auto z = open(QStringLiteral("descriptor.zip"));
    QVERIFY2(z.ok(), qPrintable(z.error()));
    const auto a = z->read(*z->find("top/a.bin"), 1 << 20, true);
    QVERIFY2(a.ok(), qPrintable(a.error()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(a->data), int(a->size)), expectedDeflated());
    const auto b = z->read(*z->find("top/b.bin"), 1 << 20, true);
    QVERIFY2(b.ok(), qPrintable(b.error()));
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(b->data), int(b->size)), expectedStored());
}

void TestZip::sizeLimit()
{
    auto z = open(QStringLiteral("plain.zip"));
    QVERIFY(z.ok());
    const auto r = z->read(*z->find("top/dir/deflated.bin"), 1000, true);
    QVERIFY(!r.ok());
    QCOMPARE(r.kind(), ErrorKind::Limit);
    QVERIFY2(r.error().contains(QStringLiteral("16384 bytes, limit 1000")), qPrintable(r.error()));
}

void TestZip::badLocalHeaderOffset()
{
    QByteArray raw = readAll(m_dir.filePath(QStringLiteral("plain.zip")));
    const int cd = raw.indexOf(QByteArray("PK\x01\x02", 4));
    QVERIFY(cd > 0);
    raw[cd + 42] = char(0x00);  // the first entry's local header offset: far past the file
    raw[cd + 43] = char(0x00);
    raw[cd + 44] = char(0x10);
    raw[cd + 45] = char(0x00);
    QVERIFY(writeAll(m_dir.filePath(QStringLiteral("badoffset.zip")), raw));
    const auto z = open(QStringLiteral("badoffset.zip"));
    QVERIFY(!z.ok());
    QCOMPARE(z.kind(), ErrorKind::Corrupt);
    QCOMPARE(z.error(), QStringLiteral("'badoffset.zip' is not a valid zip archive: entry 'top/stored.bin' points at a "
                                       "missing or damaged local header (offset 1048576)"));
}

void TestZip::badCrc()
{
    QByteArray raw = readAll(m_dir.filePath(QStringLiteral("plain.zip")));
    const int nameLen = quint8(raw[26]) | quint8(raw[27]) << 8;
    const int extraLen = quint8(raw[28]) | quint8(raw[29]) << 8;
    raw[30 + nameLen + extraLen + 3] = 'X';  // a byte of the stored member's data
    QVERIFY(writeAll(m_dir.filePath(QStringLiteral("badcrc.zip")), raw));
    auto z = open(QStringLiteral("badcrc.zip"));
    QVERIFY2(z.ok(), qPrintable(z.error()));  // the directory is intact
    const ZipEntry* e = z->find("top/stored.bin");
    QVERIFY(z->read(*e, 1 << 20, false).ok());  // unchecked: the bytes as they are
    const auto r = z->read(*e, 1 << 20, true);
    QVERIFY(!r.ok());
    QCOMPARE(r.kind(), ErrorKind::Corrupt);
    QVERIFY2(r.error().contains(QStringLiteral("is corrupt (CRC mismatch)")), qPrintable(r.error()));
}

void TestZip::truncated()
{
    const QByteArray raw = readAll(m_dir.filePath(QStringLiteral("plain.zip")));
    QVERIFY(writeAll(m_dir.filePath(QStringLiteral("half.zip")), raw.left(raw.size() / 2)));
    const auto z = open(QStringLiteral("half.zip"));
    QVERIFY(!z.ok());
    QCOMPARE(z.kind(), ErrorKind::Corrupt);
    QCOMPARE(z.error(), QStringLiteral("'half.zip' is not a valid zip archive: no end-of-central-directory record (the "
                                       "file is truncated or not a zip)"));
    QVERIFY(writeAll(m_dir.filePath(QStringLiteral("tiny.zip")), raw.left(20)));
    const auto tiny = open(QStringLiteral("tiny.zip"));
    QCOMPARE(tiny.kind(), ErrorKind::Corrupt);
    QVERIFY2(tiny.error().contains(QStringLiteral("too short (20 bytes)")), qPrintable(tiny.error()));
}

void TestZip::duplicateName()
{
    const auto z = open(QStringLiteral("duplicate.zip"));
    QVERIFY(!z.ok());
    QCOMPARE(z.kind(), ErrorKind::Corrupt);
    QCOMPARE(z.error(), QStringLiteral("'duplicate.zip' is not a valid zip archive: entry 'top/x' appears twice"));
}

QTEST_GUILESS_MAIN(TestZip)
#include "tst_zip.moc"

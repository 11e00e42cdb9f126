// The restricted pickle interpreter (formats/pickle) on its own: byte strings written by
// Python's pickle.dumps (protocols 2 to 5, run with /usr/bin/python3 here) and hand-built
// opcode sequences. Checks the value tree against what Python pickled, the memo, containers,
// the resource limits (with their kind) and callables off the allow-list (never called,
// reported once, built as opaque objects).
#include "formats/pickle/pickle.h"
#include "testutil.h"

#include <QProcess>
#include <QtTest>

using namespace paramscope;
using namespace paramscope::pickle;
using VT = Value::Type;

namespace {

/// pickle.dumps(<expr>, protocol=<protocol>) as written by Python.
QByteArray pythonPickle(const QString& expr, int protocol)
{
    QProcess p;
    const QString code =
        QStringLiteral("import sys, pickle, collections\nsys.stdout.buffer.write(pickle.dumps(%1, protocol=%2))")
            .arg(expr)
            .arg(protocol);
    p.start(QStringLiteral(PARAMSCOPE_PYTHON), {QStringLiteral("-c"), code});
    p.waitForFinished(60000);
    return p.exitCode() == 0 ? p.readAllStandardOutput() : QByteArray();
}

Result<Document> run(const QByteArray& bytes, const Limits& limits = {})
{
    return unpickle(reinterpret_cast<const std::uint8_t*>(bytes.constData()), std::size_t(bytes.size()), limits);
}

QByteArray bytesOf(std::initializer_list<int> b)
{
    QByteArray out;
    for (int c : b)
        out.append(char(c));
    return out;
}

}  // namespace

class TestPickle : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pythonValues_data();
    void pythonValues();
    void memoSharesValues();
    void orderedDictAndSet();
    void refusedGlobalIsOpaque();
    void malformedIsCorrupt_data();
    void malformedIsCorrupt();
    void limits_data();
    void limits();
    void unsupportedProtocol();
};

void TestPickle::pythonValues_data()
{
    QTest::addColumn<int>("protocol");
    for (int p = 2; p <= 5; ++p)
        QTest::newRow(qPrintable(QStringLiteral("protocol %1").arg(p))) << p;
}

void TestPickle::pythonValues()
{
    QFETCH(int, protocol);
    const QByteArray bytes = pythonPickle(
        QStringLiteral("{'i': -7, 'big': 2**40, 'huge': 2**70, 'f': 1.5, 's': 'h\\u00e9llo', 'b': b'\\x00\\xff', "
                       "'t': (1, 2, 3), 'l': [True, False, None], 'e': (), 'n': {}}"),
        protocol);
    QVERIFY2(!bytes.isEmpty(), "python3 could not pickle");
    const auto r = run(bytes);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const Value* root = r->root;
    QCOMPARE(root->type, VT::Dict);
    QCOMPARE(int(root->dictSize()), 10);
    QCOMPARE(root->get("i")->integer, std::int64_t(-7));
    QCOMPARE(root->get("big")->integer, std::int64_t(1) << 40);
    QVERIFY(root->get("huge")->bigInt);
    QCOMPARE(root->get("f")->real, 1.5);
    QCOMPARE(QString::fromUtf8(root->get("s")->text.data(), int(root->get("s")->text.size())),
             QStringLiteral("h\u00e9llo"));
    const Value* b = root->get("b");
    QCOMPARE(b->type, VT::Bytes);  // protocol 2 writes _codecs.encode(...), which is interpreted
    QCOMPARE(std::string(b->text), std::string("\x00\xff", 2));
    const Value* t = root->get("t");
    QCOMPARE(t->type, VT::Tuple);
    QCOMPARE(int(t->items.size()), 3);
    QCOMPARE(t->items[2]->integer, std::int64_t(3));
    const Value* l = root->get("l");
    QCOMPARE(l->type, VT::List);
    QCOMPARE(l->items[0]->boolean, true);
    QCOMPARE(l->items[1]->boolean, false);
    QCOMPARE(l->items[2]->type, VT::None);
    QCOMPARE(int(root->get("e")->items.size()), 0);
    QCOMPARE(root->get("n")->type, VT::Dict);
    QVERIFY(r->warnings.empty());
}

void TestPickle::memoSharesValues()
{
    // x = [1, 2]; pickle.dumps([x, x]): the second is a memo reference to the first.
    const QByteArray bytes = pythonPickle(QStringLiteral("(lambda x: [x, x, x])([1, 2])"), 4);
    const auto r = run(bytes);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(int(r->root->items.size()), 3);
    QCOMPARE(r->root->items[0], r->root->items[1]);
    QCOMPARE(r->root->items[0], r->root->items[2]);
    // Hand-built: a BINGET of a slot never written is an error, not a crash.
    const auto bad = run(bytesOf({0x80, 2, 'h', 5, '.'}));
    QVERIFY(!bad.ok());
    QCOMPARE(bad.kind(), ErrorKind::Corrupt);
}

void TestPickle::orderedDictAndSet()
{
    const QByteArray bytes =
        pythonPickle(QStringLiteral("[collections.OrderedDict([('b', 1), ('a', 2)]), {3}, frozenset([4])]"), 2);
    const auto r = run(bytes);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const Value* d = r->root->items[0];
    QCOMPARE(d->type, VT::Dict);
    QCOMPARE(int(d->dictSize()), 2);
    QCOMPARE(std::string(d->key(0)->text), std::string("b"));  // insertion order kept
    QCOMPARE(d->value(1)->integer, std::int64_t(2));
    QCOMPARE(r->root->items[1]->type, VT::Set);
    QCOMPARE(r->root->items[1]->items[0]->integer, std::int64_t(3));
    QCOMPARE(r->root->items[2]->type, VT::Set);
    QVERIFY(r->warnings.empty());
}

void TestPickle::refusedGlobalIsOpaque()
{
    // os.system('true') twice: built as opaque objects, never called, warned about once.
    const QByteArray bytes = pythonPickle(
        QStringLiteral("(lambda C: [C(), C()])(type('E', (), {'__reduce__': lambda s: (__import__('os').system, "
                       "('true',))}))"),
        3);
    QVERIFY(!bytes.isEmpty());
    const auto r = run(bytes);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r->root->items.size(), std::size_t(2));
    for (const Value* o : r->root->items) {
        QCOMPARE(o->type, VT::Object);
        QVERIFY(o->opaque);
        QCOMPARE(std::string(o->text), std::string("posix.system"));
        QCOMPARE(std::string(o->args->items[0]->text), std::string("true"));
    }
    QCOMPARE(r->warnings, std::vector<std::string>{"posix.system"});
}

void TestPickle::malformedIsCorrupt_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    QTest::newRow("no STOP") << bytesOf({0x80, 2, 'N'}) << "the pickle ends without STOP (truncated) (at byte 3)";
    QTest::newRow("pop from empty") << bytesOf({0x80, 2, '0', '.'}) << "POP pops from an empty stack (at byte 2)";
    QTest::newRow("two values at STOP") << bytesOf({0x80, 2, 'N', 'N', '.'})
                                        << "STOP with 2 values on the stack (expected 1) (at byte 4)";
    QTest::newRow("string past the end") << bytesOf({0x80, 2, 'X', 10, 0, 0, 0, 'a', '.'})
                                         << "BINUNICODE of 10 bytes runs past the end of the pickle (at byte 2)";
    QTest::newRow("invalid UTF-8") << bytesOf({0x80, 2, 0x8c, 1, 0xff, '.'})
                                   << "a text string is not valid UTF-8 (at byte 2)";
    QTest::newRow("SETITEM on a list") << bytesOf({0x80, 2, ']', 'N', 'N', 's', '.'})
                                       << "SETITEM on a list, not a dict (at byte 5)";
    QTest::newRow("TUPLE without MARK") << bytesOf({0x80, 2, 't', '.'}) << "TUPLE without a MARK (at byte 2)";
}

void TestPickle::malformedIsCorrupt()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    const auto r = run(bytes);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), message);
    QCOMPARE(r.kind(), ErrorKind::Corrupt);
}

void TestPickle::limits_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("which");  // 0 values, 1 stack, 2 marks, 3 memo, 4 items
    QTest::addColumn<QString>("message");
    // A list of 10 Nones: None is one shared value, the list another, the items 10.
    QByteArray tenNones = bytesOf({0x80, 2, ']', '('});
    for (int i = 0; i < 10; ++i)
        tenNones.append('N');
    tenNones.append("e.");
    QTest::newRow("items") << tenNones << 4 << "containers hold more than 5 items in total (at byte 14)";
    QTest::newRow("stack") << tenNones << 1 << "the stack grows beyond 5 entries (at byte 8)";
    QByteArray marks = bytesOf({0x80, 2});
    for (int i = 0; i < 6; ++i)
        marks.append('(');
    QTest::newRow("marks") << marks << 2 << "MARKs nested deeper than 5 (at byte 7)";
    QByteArray memo = bytesOf({0x80, 2, 'N'});
    for (int i = 0; i < 6; ++i)
        memo.append(char(0x94));  // MEMOIZE
    QTest::newRow("memo") << memo << 3 << "too many memo entries (limit 5) (at byte 8)";
    QByteArray values = bytesOf({0x80, 2, ']'});
    for (int i = 0; i < 6; ++i)
        values.append("]a");
    QTest::newRow("values") << values << 0 << "too many objects (limit 5) (at byte 11)";
}

void TestPickle::limits()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, which);
    QFETCH(QString, message);
    Limits l;
    std::size_t* fields[] = {&l.maxValues, &l.maxStack, &l.maxMarks, &l.maxMemo, &l.maxItems};
    *fields[which] = 5;
    const auto r = run(bytes, l);
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), message);
    QCOMPARE(r.kind(), ErrorKind::Limit);
    // The same bytes within the default limits are no limit failure.
    const auto unlimited = run(bytes);
    QVERIFY(unlimited.ok() || unlimited.kind() != ErrorKind::Limit);
}

void TestPickle::unsupportedProtocol()
{
    const auto r = run(bytesOf({0x80, 6, 'N', '.'}));
    QVERIFY(!r.ok());
    QCOMPARE(r.error(), QStringLiteral("pickle protocol 6 is not supported (2 to 5 are) (at byte 0)"));
    QCOMPARE(r.kind(), ErrorKind::Unsupported);
    const auto op = run(bytesOf({0x80, 2, 'i', '.'}));  // INST, a protocol 0 opcode
    QCOMPARE(op.kind(), ErrorKind::Unsupported);
}

QTEST_GUILESS_MAIN(TestPickle)
#include "tst_pickle.moc"

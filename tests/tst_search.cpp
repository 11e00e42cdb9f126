#include "modelindex.h"
#include "search.h"

#include <QElapsedTimer>
#include <QtTest>

using namespace paramscope;

Q_DECLARE_METATYPE(paramscope::MatchMode)

namespace {

const QStringList kNames{
    "encoder.layers.3.attn.q_proj.weight",
    "encoder.layers.3.attn.q_proj.bias",
    "encoder.layers.10.attn.q_proj.weight",
    "encoder.layers.3.mlp.fc1.weight",
    "decoder.Layers.0.attn.k_proj.weight",
    "bn.running_mean",
    "heads.8000.weight",
    "Ünïcode.权重",
    "a+b.c",
};

ModelIndex makeIndex(const QStringList& names)
{
    ModelIndex idx;
    for (const QString& n : names) {
        TensorEntry e;
        e.name = n.toStdString();
        e.dtype = DType::Float32;
        idx.entries.push_back(e);
    }
    idx.finalize();
    return idx;
}

}  // namespace

class TestSearch : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void modes_data();
    void modes();
    void invalidRegex_data();
    void invalidRegex();
    void emptyPatternMatchesAll();
    void catastrophicPatternStaysBounded();
};

void TestSearch::modes_data()
{
    QTest::addColumn<MatchMode>("mode");
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<bool>("caseSensitive");
    QTest::addColumn<QList<int>>("expected");  // indices into kNames

    QTest::newRow("exact hit") << MatchMode::Exact << "bn.running_mean" << true << QList<int>{5};
    QTest::newRow("exact is whole name only") << MatchMode::Exact << "bn.running" << true << QList<int>{};
    QTest::newRow("exact case-insensitive") << MatchMode::Exact << "BN.RUNNING_MEAN" << false << QList<int>{5};
    QTest::newRow("exact case-sensitive miss") << MatchMode::Exact << "BN.RUNNING_MEAN" << true << QList<int>{};
    QTest::newRow("contains") << MatchMode::Contains << "q_proj" << true << QList<int>{0, 1, 2};
    QTest::newRow("contains case") << MatchMode::Contains << "layers" << true << QList<int>{0, 1, 2, 3};
    QTest::newRow("contains ignore case") << MatchMode::Contains << "layers" << false << QList<int>{0, 1, 2, 3, 4};
    QTest::newRow("contains regex chars literally") << MatchMode::Contains << "a+b" << true << QList<int>{8};
    QTest::newRow("wildcard star crosses dots") << MatchMode::Wildcard << "encoder.*.weight" << true << QList<int>{0, 2, 3};
    QTest::newRow("wildcard anchored") << MatchMode::Wildcard << "*q_proj" << true << QList<int>{};
    QTest::newRow("wildcard question mark") << MatchMode::Wildcard << "encoder.layers.?.attn.*" << true << QList<int>{0, 1};
    QTest::newRow("wildcard two digits") << MatchMode::Wildcard << "encoder.layers.??.*" << true << QList<int>{2};
    QTest::newRow("wildcard dot is literal") << MatchMode::Wildcard << "bn?running_mean" << true << QList<int>{5};
    QTest::newRow("wildcard plus is literal") << MatchMode::Wildcard << "a+b.*" << true << QList<int>{8};
    QTest::newRow("wildcard ignore case") << MatchMode::Wildcard << "*LAYERS.0*" << false << QList<int>{4};
    QTest::newRow("regex search semantics") << MatchMode::Regex << R"(layers\.\d+\.attn)" << true << QList<int>{0, 1, 2};
    QTest::newRow("regex anchors") << MatchMode::Regex << R"(^heads\.\d{4}\.)" << true << QList<int>{6};
    QTest::newRow("regex ignore case") << MatchMode::Regex << R"(layers\.0)" << false << QList<int>{4};
    QTest::newRow("regex end anchor") << MatchMode::Regex << R"(bias$)" << true << QList<int>{1};
    QTest::newRow("regex alternation") << MatchMode::Regex << "running_mean|k_proj" << true << QList<int>{4, 5};
    QTest::newRow("unicode contains") << MatchMode::Contains << "权重" << true << QList<int>{7};
    QTest::newRow("unicode ignore case") << MatchMode::Contains << "üNÏ" << false << QList<int>{7};
}

void TestSearch::modes()
{
    QFETCH(MatchMode, mode);
    QFETCH(QString, pattern);
    QFETCH(bool, caseSensitive);
    QFETCH(QList<int>, expected);
    const ModelIndex idx = makeIndex(kNames);
    NameMatcher m(SearchQuery{mode, pattern, caseSensitive});
    QVERIFY2(m.isValid(), qPrintable(m.errorString()));
    const auto hits = searchEntries(idx, m);
    QCOMPARE(QList<int>(hits.begin(), hits.end()), expected);
    // The QString and the UTF-8 entry points agree.
    for (int i = 0; i < kNames.size(); ++i)
        QCOMPARE(m.matches(kNames[i]), m.matches(std::string_view(idx.entries[size_t(i)].name)));
}

void TestSearch::invalidRegex_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<int>("offset");
    // Offsets as PCRE2 reports them (where it noticed the problem), in the pattern as typed.
    QTest::newRow("unclosed group") << "layers.(attn" << 12;
    QTest::newRow("unclosed class") << "a[bc" << 4;
    QTest::newRow("nothing to repeat") << "*weight" << 0;
    QTest::newRow("bad escape at end") << "weight\\" << 7;
    QTest::newRow("unmatched paren") << "w)" << 1;
}

void TestSearch::invalidRegex()
{
    QFETCH(QString, pattern);
    QFETCH(int, offset);
    NameMatcher m(SearchQuery{MatchMode::Regex, pattern, true});
    QVERIFY(!m.isValid());
    QVERIFY(!m.errorString().isEmpty());
    QCOMPARE(m.errorOffset(), offset);
    const ModelIndex idx = makeIndex(kNames);
    QVERIFY(searchEntries(idx, m).empty());
    // The same text is fine in the other modes.
    QVERIFY(NameMatcher(SearchQuery{MatchMode::Contains, pattern, true}).isValid());
    QVERIFY(NameMatcher(SearchQuery{MatchMode::Wildcard, pattern, true}).isValid());
}

void TestSearch::emptyPatternMatchesAll()
{
    const ModelIndex idx = makeIndex(kNames);
    for (MatchMode mode : {MatchMode::Exact, MatchMode::Contains, MatchMode::Wildcard, MatchMode::Regex}) {
        NameMatcher m(SearchQuery{mode, QString(), true});
        QVERIFY(m.isValid());
        QVERIFY(m.isEmpty());
        QCOMPARE(int(searchEntries(idx, m).size()), kNames.size());
    }
}

void TestSearch::catastrophicPatternStaysBounded()
{
    // (a+)+$ backtracks exponentially on "aaaa…b". The match limit turns each such name
    // into a bounded "no match" instead of hanging; ordinary names still match.
    QStringList names;
    for (int i = 0; i < 2000; ++i)
        names << QString(40, QLatin1Char('a')) + QStringLiteral("!") + QString::number(i);
    names << QStringLiteral("aaa");
    const ModelIndex idx = makeIndex(names);
    NameMatcher m(SearchQuery{MatchMode::Regex, QStringLiteral("^(a+)+$"), true});
    QVERIFY(m.isValid());
    const auto hits = searchEntries(idx, m);
    QCOMPARE(int(hits.size()), 1);
    QCOMPARE(hits.front(), names.size() - 1);
}

QTEST_GUILESS_MAIN(TestSearch)
#include "tst_search.moc"

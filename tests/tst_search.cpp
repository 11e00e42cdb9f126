#include "model/modelindex.h"
#include "model/search.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QtTest>

#include <random>

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

/// Wildcard truth computed another way: the textbook dynamic programme over prefixes.
bool wildcardReference(const std::u32string& p, const std::u32string& n)
{
    std::vector<std::vector<char>> m(p.size() + 1, std::vector<char>(n.size() + 1, 0));
    m[0][0] = 1;
    for (size_t i = 1; i <= p.size(); ++i) {
        for (size_t j = 0; j <= n.size(); ++j) {
            if (p[i - 1] == U'*')
                m[i][j] = m[i - 1][j] || (j > 0 && m[i][j - 1]);
            else
                m[i][j] = j > 0 && m[i - 1][j - 1] && (p[i - 1] == U'?' || p[i - 1] == n[j - 1]);
        }
    }
    return m[p.size()][n.size()];
}

}  // namespace

class TestSearch : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void byteWiseAgreesWithUnicode();
    void modes_data();
    void modes();
    void invalidRegex_data();
    void invalidRegex();
    void emptyPatternMatchesAll();
    void catastrophicPatternStaysBounded();
    void matchLimitIsUndecided();
    void wildcardAgreesWithReference();
    void wildcardIsAlwaysValidAndDecided();
    void wildcardCodePoints();
    void wildcardIsAnchoredAtBothEnds_data();
    void wildcardIsAnchoredAtBothEnds();
    void byteOrderMarkIsPartOfTheName();
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
    QTest::newRow("wildcard star crosses dots")
        << MatchMode::Wildcard << "encoder.*.weight" << true << QList<int>{0, 2, 3};
    QTest::newRow("wildcard anchored") << MatchMode::Wildcard << "*q_proj" << true << QList<int>{};
    QTest::newRow("wildcard question mark")
        << MatchMode::Wildcard << "encoder.layers.?.attn.*" << true << QList<int>{0, 1};
    QTest::newRow("wildcard two digits") << MatchMode::Wildcard << "encoder.layers.??.*" << true << QList<int>{2};
    QTest::newRow("wildcard dot is literal") << MatchMode::Wildcard << "bn?running_mean" << true << QList<int>{5};
    QTest::newRow("wildcard plus is literal") << MatchMode::Wildcard << "a+b.*" << true << QList<int>{8};
    QTest::newRow("wildcard ignore case") << MatchMode::Wildcard << "*LAYERS.0*" << false << QList<int>{4};
    QTest::newRow("regex search semantics")
        << MatchMode::Regex << R"(layers\.\d+\.attn)" << true << QList<int>{0, 1, 2};
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
    // The 2000 names it gave up on are reported, not silently "no match".
    const SearchResult r = searchModel(idx, m);
    QCOMPARE(r.entries, hits);
    QCOMPARE(int(r.undecided.size()), 2000);
    QCOMPARE(r.undecided.front(), 0);
}

void TestSearch::matchLimitIsUndecided()
{
    // Python: re.search(r"(a+)+b|!", "a" * 40 + "!") matches ('!'), but PCRE2 reaches its
    // backtracking limit in (a+)+b first. That is Undecided, never NoMatch.
    NameMatcher m(SearchQuery{MatchMode::Regex, QStringLiteral("(a+)+b|!"), true});
    QVERIFY(m.isValid());
    const QString hard = QString(40, QLatin1Char('a')) + QLatin1Char('!');
    QCOMPARE(m.match(hard), MatchResult::Undecided);
    QCOMPARE(m.match(std::string_view(hard.toStdString())), MatchResult::Undecided);
    QVERIFY(!m.matches(hard));
    QCOMPARE(m.match(QStringLiteral("x!")), MatchResult::Match);
    QCOMPARE(m.match(QStringLiteral("xyz")), MatchResult::NoMatch);
    const ModelIndex idx = makeIndex({QStringLiteral("x!"), hard, QStringLiteral("ab"), QStringLiteral("zzz")});
    const SearchResult r = searchModel(idx, m);
    QCOMPARE(r.entries, (std::vector<int>{0, 2}));
    QCOMPARE(r.undecided, (std::vector<int>{1}));
}

void TestSearch::wildcardAgreesWithReference()
{
    // Every pattern over {a, b, *, ?} up to length 6 against every name over {a, b} up to
    // length 7, plus random longer ones: the matcher agrees with the dynamic programme.
    const char32_t pc[] = {U'a', U'b', U'*', U'?'};
    std::vector<std::u32string> patterns{U""}, names{U""};
    for (size_t k = 0; k < patterns.size() && patterns.size() < 5461; ++k)
        if (patterns[k].size() < 6)
            for (char32_t c : pc)
                patterns.push_back(patterns[k] + c);
    for (size_t k = 0; k < names.size() && names.size() < 255; ++k)
        if (names[k].size() < 7)
            for (char32_t c : {U'a', U'b'})
                names.push_back(names[k] + c);
    QRandomGenerator rng(12345);
    for (int k = 0; k < 300; ++k) {
        std::u32string p, n;
        for (int i = int(rng.bounded(30)); i-- > 0;)
            p += pc[rng.bounded(4)];
        for (int i = int(rng.bounded(60)); i-- > 0;)
            n += rng.bounded(2) ? U'a' : U'b';
        patterns.push_back(p);
        names.push_back(n);
    }
    int matched = 0;
    for (const auto& p : patterns) {
        for (const auto& n : names) {
            const bool want = wildcardReference(p, n);
            if (wildcardMatch(p, n) != want)
                QFAIL(qPrintable(QStringLiteral("pattern '%1' name '%2'")
                                     .arg(QString::fromUcs4(p.data(), qsizetype(p.size())),
                                          QString::fromUcs4(n.data(), qsizetype(n.size())))));
            matched += want;
        }
    }
    QVERIFY(matched > 1000);  // the sample holds both answers in number
}

void TestSearch::wildcardIsAlwaysValidAndDecided()
{
    // Once compiled to a regular expression, a 70,000-character wildcard was "too large"
    // (offset -1) and '*a*a*…' backtracked into the match limit on long names.
    const QString longName = QString(70000, QLatin1Char('x'));
    NameMatcher huge(SearchQuery{MatchMode::Wildcard, QString(70000, QLatin1Char('?')), true});
    QVERIFY2(huge.isValid(), qPrintable(huge.errorString()));
    QVERIFY(huge.matches(longName));
    QVERIFY(!huge.matches(longName + QLatin1Char('x')));
    QString stars;
    for (int i = 0; i < 15; ++i)
        stars += QStringLiteral("*a");
    const QString many = QString(2000, QLatin1Char('a'));
    NameMatcher m(SearchQuery{MatchMode::Wildcard, stars + QStringLiteral("*b"), true});
    QCOMPARE(m.match(many), MatchResult::NoMatch);
    QCOMPARE(m.match(many + QLatin1Char('b')), MatchResult::Match);
    // A lone surrogate is a character like any other to a wildcard.
    NameMatcher lone(SearchQuery{MatchMode::Wildcard, QString(QChar(0xD800)) + QLatin1Char('*'), true});
    QVERIFY(lone.isValid());
}

void TestSearch::wildcardIsAnchoredAtBothEnds_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("match");
    // A wildcard matches the whole name: no implied '*' at the start or the end.
    QTest::newRow("prefix at the start") << "layers.*"
                                         << "layers.0.weight" << true;
    QTest::newRow("prefix not in the middle") << "layers.*"
                                              << "encoder.layers.0.weight" << false;
    QTest::newRow("prefix not after one char") << "layers.*"
                                               << "xlayers.0.weight" << false;
    QTest::newRow("question mark not skipping a prefix") << "layers.?.weight"
                                                         << "encoder.layers.0.weight" << false;
    QTest::newRow("explicit leading star") << "*layers.*"
                                           << "encoder.layers.0.weight" << true;
    QTest::newRow("suffix at the end") << "*.weight"
                                       << "encoder.layers.0.weight" << true;
    QTest::newRow("suffix not before more") << "*.weight"
                                            << "encoder.layers.0.weight_g" << false;
    QTest::newRow("literal not in the middle") << "layers"
                                               << "encoder.layers.0" << false;
}

void TestSearch::wildcardIsAnchoredAtBothEnds()
{
    QFETCH(QString, pattern);
    QFETCH(QString, name);
    QFETCH(bool, match);
    const std::string utf8 = name.toStdString();
    for (bool caseSensitive : {true, false}) {
        const NameMatcher m(SearchQuery{MatchMode::Wildcard, pattern, caseSensitive});
        QCOMPARE(m.matches(name), match);
        QCOMPARE(m.matches(std::string_view(utf8)), match);
        const ModelIndex idx = makeIndex({name});
        QCOMPARE(searchEntries(idx, m).size(), size_t(match ? 1 : 0));
    }
    // The displayed regular expression says the same, and so does the matcher by itself.
    QCOMPARE(QRegularExpression(wildcardToRegex(pattern)).match(name).hasMatch(), match);
    const QList<uint> p = pattern.toUcs4(), n = name.toUcs4();
    QCOMPARE(wildcardMatch(std::u32string(p.begin(), p.end()), std::u32string(n.begin(), n.end())), match);
}

void TestSearch::wildcardCodePoints()
{
    // '?' is one code point (an emoji is two UTF-16 units), case folding beyond ASCII.
    const ModelIndex idx =
        makeIndex({QStringLiteral("emoji.\U0001F600.w"), QStringLiteral("ÜBER.Straße"), QStringLiteral("x")});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Wildcard, QStringLiteral("emoji.?.w"), true})),
             std::vector<int>{0});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Wildcard, QStringLiteral("emoji.??.w"), true})),
             std::vector<int>{});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Wildcard, QStringLiteral("über.*"), false})),
             std::vector<int>{1});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Wildcard, QStringLiteral("über.*"), true})),
             std::vector<int>{});
}

void TestSearch::byteOrderMarkIsPartOfTheName()
{
    // QString::fromUtf8 drops a leading U+FEFF; the matcher must see it.
    const QString bom = QString(QChar(0xFEFF)) + QStringLiteral("w");
    const ModelIndex idx = makeIndex({bom, QStringLiteral("w")});
    QCOMPARE(idx.entries[0].name, std::string("\xEF\xBB\xBFw"));
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Regex, QStringLiteral("^\\x{feff}"), true})),
             std::vector<int>{0});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Regex, QStringLiteral("^w"), true})), std::vector<int>{1});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Wildcard, QStringLiteral("?w"), true})), std::vector<int>{0});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Exact, QStringLiteral("w"), false})), std::vector<int>{1});
    QCOMPARE(searchEntries(idx, NameMatcher({MatchMode::Exact, bom, false})), std::vector<int>{0});
}

// ASCII names and patterns are matched byte-wise; every result must equal the QString
// (Unicode case folding) path's for the same name, over random names and patterns, and a
// non-ASCII name that folds to ASCII (the Kelvin sign K -> k) must still match.
void TestSearch::byteWiseAgreesWithUnicode()
{
    std::mt19937 rng(7);
    const std::string alphabet = "aAbBkK._0*?";
    auto word = [&](int max) {
        std::string w(size_t(rng() % unsigned(max)), ' ');
        for (char& c : w)
            c = alphabet[rng() % alphabet.size()];
        return w;
    };
    int checked = 0, hits = 0;
    for (MatchMode mode : {MatchMode::Exact, MatchMode::Contains, MatchMode::Wildcard})
        for (bool cs : {true, false})
            for (int q = 0; q < 200; ++q) {
                SearchQuery query;
                query.mode = mode;
                query.caseSensitive = cs;
                query.pattern = QString::fromStdString(word(5));
                const NameMatcher m(query);
                for (int n = 0; n < 50; ++n) {
                    const std::string name = word(9);
                    const MatchResult bytes = m.match(std::string_view(name));
                    QCOMPARE(bytes, m.match(QString::fromStdString(name)));
                    hits += bytes == MatchResult::Match;
                    ++checked;
                }
            }
    QVERIFY(hits > checked / 50);  // the patterns do match now and then
    for (MatchMode mode : {MatchMode::Exact, MatchMode::Contains, MatchMode::Wildcard}) {
        SearchQuery query;
        query.mode = mode;
        query.caseSensitive = false;
        query.pattern = QStringLiteral("k");
        QVERIFY(NameMatcher(query).matches(std::string_view("\xe2\x84\xaa")));  // U+212A KELVIN SIGN
    }
}

QTEST_GUILESS_MAIN(TestSearch)
#include "tst_search.moc"

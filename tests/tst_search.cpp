#include "model/modelindex.h"
#include "model/modeltree.h"
#include "model/namecorpus.h"
#include "model/search.h"
#include "model/searchmatches.h"
#include "base/textutil.h"

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
    void corpusHoldsTheNames();
    void corpusHitsStayInsideOneName();
    void byteFinderAgreesWithFind();
    void corpusAgreesWithReference();
    void corpusPrefilterEdgeCases_data();
    void corpusPrefilterEdgeCases();
    void corpusEndingEdgeCases_data();
    void corpusEndingEdgeCases();
    void corpusKeepsUndecided();
    void corpusRulesOutByTheEnd();
    void searchMatchesFromCorpus();
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

namespace {

ModelIndex makeIndexUtf8(const std::vector<std::string>& names)
{
    ModelIndex idx;
    for (const std::string& n : names) {
        TensorEntry e;
        e.name = n;
        e.dtype = DType::Float32;
        idx.entries.push_back(e);
    }
    idx.finalize();
    return idx;
}

/// The per-name truth for one name: QRegularExpression on the name as a QString for a
/// regular expression (what the search always was); the per-name UTF-8 path otherwise, which
/// must itself agree with the QString path on well-formed UTF-8.
MatchResult reference(const NameMatcher& m, const std::string& name)
{
    const QString q = utf8ToQString(name);
    if (m.query().mode == MatchMode::Regex)
        return m.match(q);
    const MatchResult r = m.match(std::string_view(name));
    if (isWellFormedUtf8(name) && r != m.match(q))
        return MatchResult::Undecided;  // never expected: makes the comparison fail
    return r;
}

/// Compares searchModel(corpus, m) with the per-name truth, name by name: equal wherever the
/// truth is decided (where QRegularExpression gave up, the fast path may decide). Returns
/// an empty string or what differed.
QString compareWithReference(const std::vector<std::string>& given, const NameMatcher& m, int* matched = nullptr)
{
    const ModelIndex idx = makeIndexUtf8(given);
    std::vector<std::string> names;  // as the index holds them (a repeated name gets a suffix)
    for (const TensorEntry& e : idx.entries)
        names.push_back(e.name);
    const NameCorpus corpus(idx);
    const SearchResult fast = searchModel(corpus, m);
    if (!std::is_sorted(fast.entries.begin(), fast.entries.end()) ||
        !std::is_sorted(fast.undecided.begin(), fast.undecided.end()))
        return QStringLiteral("results out of order");
    std::vector<MatchResult> got(names.size(), MatchResult::NoMatch);
    for (int i : fast.entries)
        got[size_t(i)] = MatchResult::Match;
    for (int i : fast.undecided)
        got[size_t(i)] = got[size_t(i)] == MatchResult::Match ? MatchResult::NoMatch : MatchResult::Undecided;
    for (size_t i = 0; i < names.size(); ++i) {
        const MatchResult want = reference(m, names[i]);
        if (matched)
            *matched += want == MatchResult::Match;
        if (want != got[i] && !(want == MatchResult::Undecided && m.query().mode == MatchMode::Regex))
            return QStringLiteral("%1 pattern '%2' (case %3) name '%4': want %5 got %6")
                .arg(matchModeName(m.query().mode), m.query().pattern,
                     m.query().caseSensitive ? QStringLiteral("sensitive") : QStringLiteral("ignored"),
                     utf8ToQString(names[i]))
                .arg(int(want))
                .arg(int(got[i]));
    }
    // The per-name search over the index says the same where decided.
    const SearchResult slow = searchModel(idx, m);
    for (int i : fast.undecided)
        if (!std::binary_search(slow.undecided.begin(), slow.undecided.end(), i))
            return QStringLiteral("undecided only on the fast path: %1").arg(i);
    return {};
}

}  // namespace

void TestSearch::corpusHoldsTheNames()
{
    // Empty names are built directly: the index would rename a second one "#2".
    const std::vector<std::string> names{"a.B", "", "", "\xc3\xa9x", "\xff", "cd", ""};
    ModelIndex idx;
    idx.entries.resize(names.size());
    for (size_t i = 0; i < names.size(); ++i)
        idx.entries[i].name = names[i];
    const NameCorpus corpus(idx);
    QCOMPARE(corpus.size(), int(names.size()));
    for (int i = 0; i < corpus.size(); ++i)
        QCOMPARE(std::string(corpus.name(i)), names[size_t(i)]);
    QCOMPARE(corpus.folded(0), std::string_view("a.b"));
    QCOMPARE(corpus.folded(3), std::string_view("\xc3\xa9x"));  // only ASCII letters fold
    QCOMPARE(corpus.bytes(), std::string_view("a.B\xc3\xa9x\xff"
                                              "cd"));
    QVERIFY(corpus.isAscii(0) && corpus.isAscii(1) && !corpus.isAscii(3) && !corpus.isAscii(4));
    QVERIFY(corpus.isUtf8(3) && !corpus.isUtf8(4));
    QCOMPARE(corpus.nonAscii(), (std::vector<int>{3, 4}));
    // Byte 3 starts name 3 (names 1 and 2 are empty and hold no byte).
    QCOMPARE(corpus.nameAt(0), 0);
    QCOMPARE(corpus.nameAt(3), 3);
    QCOMPARE(corpus.nameAt(6), 4);
    QCOMPARE(corpus.nameAt(8), 5);
    // No upper-case letter: no folded copy, the same bytes.
    const NameCorpus lower(makeIndexUtf8({"ab", "c"}));
    QCOMPARE(lower.foldedBytes().data(), lower.bytes().data());
    QVERIFY(lower.memoryBytes() < corpus.memoryBytes());
    QVERIFY(NameCorpus().size() == 0);
    QVERIFY(searchModel(NameCorpus(), NameMatcher({MatchMode::Contains, "a", true})).entries.empty());
    // Well-formed UTF-8, as RFC 3629 has it.
    QVERIFY(isWellFormedUtf8("\xf4\x8f\xbf\xbf\xed\x9f\xbf"));
    for (const char* bad : {"\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3", "\x80"})
        QVERIFY2(!isWellFormedUtf8(bad), bad);
}

void TestSearch::corpusHitsStayInsideOneName()
{
    // "bc" runs across the boundary of "ab" and "cd": no name contains it.
    const std::vector<std::string> names{"ab", "cd", "", "xbc", "bcbc"};
    ModelIndex idx;
    idx.entries.resize(names.size());
    for (size_t i = 0; i < names.size(); ++i)
        idx.entries[i].name = names[i];
    const NameCorpus corpus(idx);
    std::vector<int> hits;
    forEachNameContaining(corpus, "bc", false, [&](int i) { hits.push_back(i); });
    QCOMPARE(hits, (std::vector<int>{3, 4}));
    hits.clear();
    forEachNameContaining(corpus, "", false, [&](int i) { hits.push_back(i); });
    QCOMPARE(hits, (std::vector<int>{0, 1, 2, 3, 4}));
    // Case-sensitive exact: a hit inside a longer name is no match.
    QCOMPARE(searchModel(corpus, NameMatcher({MatchMode::Exact, "bc", true})).entries, std::vector<int>{});
    QCOMPARE(searchModel(corpus, NameMatcher({MatchMode::Exact, "cd", true})).entries, std::vector<int>{1});
}

void TestSearch::byteFinderAgreesWithFind()
{
    // Every start position, over haystacks of a few bytes to a few blocks of 16, needles of
    // 1 to 20 bytes (some cut from the haystack, so that they occur), against std::find.
    std::mt19937 rng(99);
    std::uint64_t counts[256] = {};
    int found = 0;
    for (int k = 0; k < 3000; ++k) {
        std::string hay(size_t(rng() % 70), 'a');
        for (char& c : hay)
            c = "ab\0\xff"[rng() % (k % 2 ? 4 : 2)];
        std::string needle(size_t(1 + rng() % 20), 'a');
        for (char& c : needle)
            c = "ab\0\xff"[rng() % (k % 2 ? 4 : 2)];
        if (rng() % 2 && !hay.empty()) {
            const size_t at = rng() % hay.size();
            needle = hay.substr(at, std::min(needle.size(), hay.size() - at));
        }
        for (auto& c : counts)
            c = rng() % 5;  // any counts: they choose the bytes looked for, not the answer
        const ByteFinder finder(needle, counts);
        const std::string_view h(hay);
        for (size_t from = 0; from <= hay.size() + 1; ++from) {
            const size_t want = from > hay.size() ? std::string_view::npos : h.find(needle, from);
            QCOMPARE(finder.find(h, from), want);
            found += want != std::string_view::npos;
        }
    }
    QVERIFY(found > 10000);
}

void TestSearch::corpusAgreesWithReference()
{
    // Random names over an alphabet of ASCII letters in both cases, separators, digits, the
    // Kelvin sign and long s (which fold to 'k' and 's'), other non-ASCII letters, '\n', a
    // byte order mark and a byte that is not UTF-8; random patterns over the same alphabet
    // plus each mode's syntax.
    std::mt19937 rng(20261202);
    const std::vector<std::string> atoms{"a",        "A",        "k",        "K",
                                         "s",        "S",        ".",        "_",
                                         "0",        "7",        "\n",       "\xe2\x84\xaa",
                                         "\xc5\xbf", "\xc3\xa9", "\xc3\x89", "\xef\xbb\xbf",
                                         "\xff"};
    const std::vector<std::string> patternAtoms{"a", "A", "k", "K", "s", ".", "_", "7", "\xc3\xa9", "\xe2\x84\xaa"};
    const std::vector<std::string> wildcardAtoms{"*", "?"};
    const std::vector<std::string> regexAtoms{"*",   "+",           "?",    "{2}",  "{0,1}",   "|",       "(",
                                              ")",   "(?:",         "(?i)", "[ak]", "[^a]",    "\\d",     "\\.",
                                              "\\w", "^",           "$",    "\\b",  "\\x{41}", "\\Q.\\E", "(?=a)",
                                              "\\K", "[[:alpha:]]", "\\n",  "\\C",  "x{",      "."};
    auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
    std::vector<std::string> names;
    for (int k = 0; k < 400; ++k) {
        std::string n;
        for (int i = int(rng() % 10); i-- > 0;)
            n += rng() % 3 ? pick(atoms).substr(0, 1 + (rng() % 8 ? 8 : 0)) : pick(atoms);
        names.push_back(n);
    }
    names.push_back("");
    int patterns = 0, matched = 0, regexInvalid = 0;
    for (MatchMode mode : {MatchMode::Exact, MatchMode::Contains, MatchMode::Wildcard, MatchMode::Regex})
        for (bool cs : {true, false})
            for (int q = 0; q < 150; ++q) {
                std::string p;
                for (int i = int(rng() % 6); i-- > 0;) {
                    const int r = int(rng() % 3);
                    if (r == 0 && mode == MatchMode::Wildcard)
                        p += pick(wildcardAtoms);
                    else if (r == 0 && mode == MatchMode::Regex)
                        p += pick(regexAtoms);
                    else
                        p += pick(patternAtoms);
                }
                const NameMatcher m(SearchQuery{mode, utf8ToQString(p), cs});
                if (!m.isValid()) {
                    ++regexInvalid;
                    continue;
                }
                ++patterns;
                const QString diff = compareWithReference(names, m, &matched);
                if (!diff.isEmpty())
                    QFAIL(qPrintable(diff));
            }
    QVERIFY(patterns > 1000);
    QVERIFY(regexInvalid > 10 && regexInvalid < 120);  // the regular expressions are mostly valid
    QVERIFY(matched > 10000);                          // and match now and then
}

void TestSearch::corpusPrefilterEdgeCases_data()
{
    // Each: a regular expression whose every match a careless literal prefilter would get
    // wrong, and names of which some match.
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<bool>("caseSensitive");
    QTest::addColumn<QStringList>("names");
    const QStringList words{"ac", "abc",    "abbc", "b",     "xay", "AC",   "K",   "k", "\u212a",
                            "s",  "\u017f", "a{2}", "ab{2}", "a.c", "a\nc", "(a)", "-"};
    const auto row = [&](const char* name, const char* pattern, bool cs) {
        QTest::newRow(name) << QString::fromUtf8(pattern) << cs << words;
    };
    row("optional char", "ab?c", true);
    row("starred char", "ab*c", true);
    row("plus keeps the char", "ab+c", true);
    row("counted char", "ab{0}c", true);
    row("counted at least", "ab{2,}c", true);
    row("brace not a quantifier", "a\\{2}", true);
    row("alternation at top level", "abc|b", true);
    row("alternation in a group", "a(b|x)c", true);
    row("optional group", "a(bb)?c", true);
    row("inline caseless", "(?i)ac", true);
    row("inline caseless inside", "a(?i:C)", true);
    row("caseless literal", "ac", false);
    row("caseless k folds from the Kelvin sign", "k", false);
    row("caseless s folds from long s", "^s$", false);
    row("escaped dot", "a\\.c", true);
    row("dot", "a.c", true);
    row("escape class", "\\w\\.c", true);
    row("newline escape", "a\\nc", true);
    row("hex escape", "\\x61c", true);
    row("hex escape braces", "\\x{61}c", true);
    row("class", "[ab]c", true);
    row("class with bracket", "[]a]c", true);
    row("posix class", "[[:alpha:]]c", true);
    row("quoted", "\\Qa.c\\E", true);
    row("lookahead", "a(?=c)", true);
    row("lookbehind", "(?<=a)c", true);
    row("back reference", "(a)\\1?c", true);
    row("anchors", "^a.*c$", true);
    row("lazy quantifier", "ab*?c", true);
    row("possessive quantifier", "ab*+c", true);
    row("verb", "(*NO_START_OPT)ac", true);
    row("literal parens", "\\(a\\)", true);
    row("single byte", "\\C", true);
    row("non-ASCII literal", "\u212a", true);
    row("non-ASCII literal ignoring case", "\u212a", false);
    row("keep out", "a\\Kc", true);
}

namespace {

/// The current data row's regex (pattern, caseSensitive) over its names gives what
/// QRegularExpression gives, and matches at least one of them.
void matchesTheReference()
{
    QFETCH(QString, pattern);
    QFETCH(bool, caseSensitive);
    QFETCH(QStringList, names);
    const NameMatcher m(SearchQuery{MatchMode::Regex, pattern, caseSensitive});
    QVERIFY2(m.isValid(), qPrintable(m.errorString()));
    std::vector<std::string> utf8;
    for (const QString& n : names)
        utf8.push_back(n.toStdString());
    int matched = 0;
    const QString diff = compareWithReference(utf8, m, &matched);
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
    QVERIFY(matched > 0);
}

}  // namespace

void TestSearch::corpusPrefilterEdgeCases()
{
    matchesTheReference();
}

void TestSearch::corpusEndingEdgeCases_data()
{
    // Each: a regular expression that ends with `$` (or looks as if), whose end a careless
    // check of the names' last characters would get wrong, and names of which some match.
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<bool>("caseSensitive");
    QTest::addColumn<QStringList>("names");
    const QStringList words{"a1", "a1\n", "a1\n\n",  "a12", "ab",     "a\n",  "A1",      "a",     "1",
                            "",   "a_",   "a ",      "a\t", "a1\r\n", "a1\r", "\u00e91", "a.",    "a$",
                            "k",  "K",    "x\u212a", "xk",  "b1",     "7\n",  "a\u00e9", "a\x1b", "(a)1"};
    const auto row = [&](const char* name, const char* pattern, bool cs) {
        QTest::newRow(name) << QString::fromUtf8(pattern) << cs << words;
    };
    row("digit at the end", "\\d$", true);
    row("digit before a final newline", "a\\d$", true);
    row("anything then a digit, ignoring case", "^a.*\\d$", false);
    row("caseless letter at the end", "A1$", false);
    row("caseless k at the end folds from the Kelvin sign", "x.*k$", false);
    row("k at the end, case-sensitive", "k$", true);
    row("word character", "\\w$", true);
    row("space character", "a\\s$", true);
    row("newline escape before the end", "a\\n$", true);
    row("tab escape", "\\t$", true);
    row("escape escape", "a\\e$", true);
    row("literal dollar", "a\\$", true);
    row("literal dollar at the end", "a\\$$", true);
    row("quoted dot", "a\\.$", true);
    row("dot", "a.$", true);
    row("repeated digit", "a\\d+$", true);
    row("lazy repeated digit", "a\\d+?$", true);
    row("starred digit", "a\\d*$", true);
    row("optional digit", "a\\d?$", true);
    row("no digit", "a\\d{0}$", true);
    row("two digits", "a\\d{2}$", true);
    row("one or two digits", "a\\d{1,2}$", true);
    row("zero or more digits, counted", "a\\d{0,2}$", true);
    row("group before the end", "(a|b)1$", true);
    row("group at the end", "a(1|b)$", true);
    row("class before the end", "a[0-9]$", true);
    row("non-digit", "a\\D$", true);
    row("non-ASCII before a digit", "\u00e91$", true);
    row("non-ASCII at the end", "a\u00e9$", true);
    row("hex escape", "a\\x31$", true);
    row("two dollars", "1$$", true);
    row("dollar in a group", "(1$)", true);
    row("dollar before more", "1$\\n?", true);
    row("word boundary before the end", "1\\b$", true);
    row("multi-line", "(?m)a1$", true);
    row("carriage return newlines", "(*CR)a1$", true);
    row("any newline", "(*ANY)a1$", true);
    row("alternation at top level", "b1$|ab$", true);
    row("absolute end", "a1\\z", true);
    row("end or before a final newline", "a1\\Z", true);
    row("literal parenthesis", "\\)1$", true);
}

void TestSearch::corpusEndingEdgeCases()
{
    matchesTheReference();  // the same check, over names whose endings decide
}

void TestSearch::corpusKeepsUndecided()
{
    // The match limit: Undecided on the corpus path as on the per-name one.
    const std::string hard = std::string(40, 'a') + "!";
    const std::vector<std::string> names{"x!", hard, "ab", "zzz"};
    const NameCorpus corpus(makeIndexUtf8(names));
    const SearchResult r = searchModel(corpus, NameMatcher({MatchMode::Regex, QStringLiteral("(a+)+b|!"), true}));
    QCOMPARE(r.entries, (std::vector<int>{0, 2}));
    QCOMPARE(r.undecided, std::vector<int>{1});
    std::vector<std::string> many;
    for (int i = 0; i < 300; ++i)
        many.push_back(std::string(40, 'a') + "!" + std::to_string(i));
    many.push_back("aaa");
    const SearchResult c =
        searchModel(NameCorpus(makeIndexUtf8(many)), NameMatcher({MatchMode::Regex, "^(a+)+$", true}));
    QCOMPARE(c.entries, std::vector<int>{300});
    QCOMPARE(int(c.undecided.size()), 300);
    // Ignoring case, a non-ASCII name is decided apart and merged in order.
    const std::vector<std::string> mixed{hard, "\xc3\xa9" + hard, "B", "\xc3\xa9!"};
    const SearchResult u = searchModel(NameCorpus(makeIndexUtf8(mixed)),
                                       NameMatcher({MatchMode::Regex, QStringLiteral("(a+)+b|!"), false}));
    QCOMPARE(u.entries, std::vector<int>{3});
    QCOMPARE(u.undecided, (std::vector<int>{0, 1}));
}

void TestSearch::corpusRulesOutByTheEnd()
{
    // A pattern that ends with `$` after a digit: the corpus path rules out, before PCRE2 runs,
    // every name that does not end with one, even one PCRE2 gives up on (the per-name path's
    // Undecided); the names that end with a digit still go to PCRE2, which may give up too.
    const std::string hard = std::string(40, 'a') + "!";
    const std::vector<std::string> names{hard, hard + "x1", "!1", "ab1\n", "zzz"};
    const ModelIndex idx = makeIndexUtf8(names);
    for (const bool cs : {true, false}) {
        const NameMatcher m(
            {MatchMode::Regex, cs ? QStringLiteral("(?:(a+)+b|!)\\d$") : QStringLiteral("(?:(A+)+B|!)\\d$"), cs});
        const SearchResult perName = searchModel(idx, m);
        QCOMPARE(perName.entries, (std::vector<int>{2, 3}));
        QCOMPARE(perName.undecided, (std::vector<int>{0, 1}));
        const SearchResult r = searchModel(NameCorpus(idx), m);
        QCOMPARE(r.entries, (std::vector<int>{2, 3}));
        QCOMPARE(r.undecided, std::vector<int>{1});
    }
}
void TestSearch::searchMatchesFromCorpus()
{
    const ModelIndex idx = makeIndex(kNames);
    const ModelTree tree = ModelTree::build(idx);
    const NameCorpus corpus(idx);
    for (const SearchQuery& q :
         {SearchQuery{MatchMode::Contains, "layers", false}, SearchQuery{MatchMode::Regex, R"(\d+\.attn)", true},
          SearchQuery{MatchMode::Wildcard, "", true}}) {
        const auto a = SearchMatches::compute(idx, tree, NameMatcher(q));
        const auto b = SearchMatches::compute(idx, tree, corpus, NameMatcher(q));
        QCOMPARE(b->entries, a->entries);
        QCOMPARE(b->undecided, a->undecided);
        QCOMPARE(b->matchNode, a->matchNode);
        QCOMPARE(b->visible, a->visible);
    }
    // A corpus of another model is not used.
    const NameCorpus other(makeIndex({QStringLiteral("layers")}));
    const auto c = SearchMatches::compute(idx, tree, other, NameMatcher({MatchMode::Contains, "layers", true}));
    QCOMPARE(c->entries, (std::vector<int>{0, 1, 2, 3}));
}

QTEST_GUILESS_MAIN(TestSearch)
#include "tst_search.moc"

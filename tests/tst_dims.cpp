// Dims (core/base/dims.h) against std::vector<std::int64_t> as the truth: the same random
// sequence of operations on both, inline (rank <= 2) and on the heap, copies and moves.
// SmallText (core/base/smalltext.h) against std::string the same way.
#include "base/dims.h"
#include "base/smalltext.h"

#include <QtTest>

#include <random>
#include <utility>

using namespace paramscope;

class TestDims : public QObject {
    Q_OBJECT
private slots:
    void sizeOfAVector() { QCOMPARE(sizeof(Dims), sizeof(std::vector<std::int64_t>)); }
    void smallTextAgainstString()
    {
        QCOMPARE(sizeof(SmallText), size_t(16));
        std::mt19937 rng(11);
        std::vector<SmallText> texts;
        std::vector<std::string> truth;
        for (int i = 0; i < 400; ++i) {
            // Lengths around the inline limit (15), embedded zero bytes included.
            std::string s(rng() % 40, '\0');
            for (char& c : s)
                c = char(rng() % 256);
            texts.emplace_back(s);
            truth.push_back(s);
        }
        for (int step = 0; step < 4000; ++step) {
            const size_t a = rng() % texts.size(), b = rng() % texts.size();
            switch (rng() % 4) {
                case 0:
                    texts[a] = texts[b];  // copy-assign (self included)
                    truth[a] = truth[b];
                    break;
                case 1: {
                    SmallText moved(std::move(texts[a]));
                    QVERIFY(texts[a].empty());
                    texts[b] = std::move(moved);
                    std::string t = std::move(truth[a]);
                    truth[a].clear();
                    truth[b] = std::move(t);  // (a == b: moved out and back)
                    break;
                }
                case 2: {
                    const SmallText copy(texts[a]);
                    QCOMPARE(copy.str(), truth[a]);
                    break;
                }
                default:
                    texts[a] = SmallText(std::string("data/") + std::to_string(step));
                    truth[a] = "data/" + std::to_string(step);
            }
        }
        for (size_t i = 0; i < texts.size(); ++i) {
            QCOMPARE(texts[i].str(), truth[i]);
            QCOMPARE(texts[i].size(), truth[i].size());
            QVERIFY(texts[i] == std::string_view(truth[i]));
        }
        QCOMPARE(SmallText("scalar/7").str(), std::string("scalar/7"));
        QVERIFY(SmallText().empty() && SmallText(nullptr).empty());
        const std::string longKey(300, 'k');
        QCOMPARE(std::string(SmallText(longKey).view()), longKey);
    }
    void conversions()
    {
        const Dims a{3, 4, 5};
        const std::vector<std::int64_t> v = a;
        QCOMPARE(v, (std::vector<std::int64_t>{3, 4, 5}));
        Dims b = v;
        QVERIFY(b == a && a == v && v == a);
        b = std::vector<std::int64_t>{7};
        QCOMPARE(b.size(), size_t(1));
        QVERIFY(b != a);
        QVERIFY(Dims().empty());
        QCOMPARE(Dims(3, 1).toVector(), (std::vector<std::int64_t>{1, 1, 1}));
    }
    void randomOperations()
    {
        std::mt19937 rng(7);
        for (int round = 0; round < 2000; ++round) {
            Dims d;
            std::vector<std::int64_t> v;
            for (int step = 0; step < 12; ++step) {
                const std::int64_t x = std::int64_t(rng() % 1000) - 10;
                switch (rng() % 9) {
                    case 0:
                    case 1:
                        d.push_back(x);
                        v.push_back(x);
                        break;
                    case 2:
                        if (!v.empty()) {
                            const size_t at = rng() % v.size();
                            d.erase(d.begin() + at);
                            v.erase(v.begin() + std::ptrdiff_t(at));
                        }
                        break;
                    case 3: {
                        const size_t n = rng() % 6;
                        d.resize(n, x);
                        v.resize(n, x);
                        break;
                    }
                    case 4: {
                        const size_t at = v.empty() ? 0 : rng() % (v.size() + 1);
                        d.insert(d.begin() + at, x);
                        v.insert(v.begin() + std::ptrdiff_t(at), x);
                        break;
                    }
                    case 5: {
                        Dims copy = d;  // copy, then move back
                        d = std::move(copy);
                        QVERIFY(copy.empty());
                        break;
                    }
                    case 6: {
                        const Dims other(d);
                        d = other;
                        break;
                    }
                    case 7: {
                        const size_t n = rng() % 5;
                        std::vector<std::int64_t> fresh(n, x);
                        d = fresh;
                        v = fresh;
                        break;
                    }
                    case 8:
                        if (!v.empty()) {
                            d.back() = x;
                            v.back() = x;
                        }
                        break;
                }
                QCOMPARE(d.size(), v.size());
                QVERIFY(d == v);
                QCOMPARE(d.toVector(), v);
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestDims)
#include "tst_dims.moc"

// Dims (core/base/dims.h) against std::vector<std::int64_t> as the truth: the same random
// sequence of operations on both, inline (rank <= 2) and on the heap, copies and moves.
#include "base/dims.h"

#include <QtTest>

#include <random>
#include <utility>

using namespace paramscope;

class TestDims : public QObject {
    Q_OBJECT
private slots:
    void sizeOfAVector() { QCOMPARE(sizeof(Dims), sizeof(std::vector<std::int64_t>)); }
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

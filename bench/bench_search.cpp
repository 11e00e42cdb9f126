// Search over 100k dotted names in every mode, against a baseline measured in the same
// run: a plain std::string::find loop over the same names (the least any search costs).
// Each case three ways: as main did it before the corpus (per name; a regular expression by
// QRegularExpression on each name converted to UTF-16), per name over the ModelIndex now
// (searchModel(index, ...): PCRE2 8-bit on the UTF-8 names), and over a NameCorpus built
// once outside the timed loop (searchModel(corpus, ...), what the window calls per
// keystroke); the corpus's build time and size are printed too. The machine may be shared:
// every figure is the best of several runs, and the baseline is measured before and after.
#include "bench/benchtable.h"
#include "model/modelindex.h"
#include "model/namecorpus.h"
#include "model/search.h"
#include "base/textutil.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cstdio>
#include <string>

using namespace paramscope;

namespace {

ModelIndex makeNames(int count)
{
    ModelIndex idx;
    const char* leaves[] = {
        "attn.q_proj.weight", "attn.q_proj.bias", "attn.k_proj.weight", "attn.v_proj.weight", "attn.out_proj.weight",
        "mlp.fc1.weight",     "mlp.fc2.weight",   "ln1.weight",         "ln2.bias",           "ln2.weight"};
    for (int i = 0; idx.entries.size() < size_t(count); ++i)
        for (const char* leaf : leaves) {
            TensorEntry e;
            e.name = "model.encoder.layers." + std::to_string(i) + "." + leaf;
            e.dtype = DType::Float32;
            idx.entries.push_back(e);
        }
    idx.finalize();
    return idx;
}

template <typename F>
double bestOf(int runs, F f)
{
    double best = 1e30;
    for (int r = 0; r < runs; ++r) {
        QElapsedTimer t;
        t.start();
        f();
        best = std::min(best, t.nsecsElapsed() / 1e6);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int n = 100000;
    const ModelIndex idx = makeNames(n);
    size_t sink = 0;
    const auto findLoop = [&] {
        for (const auto& e : idx.entries)
            sink += e.name.find("q_proj") != std::string::npos;
    };
    double baseline = bestOf(15, findLoop);
    std::printf("names: %zu\nbaseline (std::string::find loop): %.2f ms\n", idx.entries.size(), baseline);
    struct Case {
        const char* label;
        SearchQuery q;
    } cases[] = {
        {"exact", {MatchMode::Exact, QStringLiteral("model.encoder.layers.5000.attn.q_proj.weight"), true}},
        {"contains", {MatchMode::Contains, QStringLiteral("q_proj"), true}},
        {"contains, ignore case", {MatchMode::Contains, QStringLiteral("Q_PROJ"), false}},
        {"wildcard", {MatchMode::Wildcard, QStringLiteral("*.layers.1?.*.weight"), true}},
        {"regex", {MatchMode::Regex, QStringLiteral(R"(layers\.\d*7\.attn\.(q|k)_proj)"), true}},
        {"regex, ignore case", {MatchMode::Regex, QStringLiteral(R"(LN\d\.BIAS$)"), false}},
        {"regex, catastrophic (a+)+$", {MatchMode::Regex, QStringLiteral("(.+)+x$"), true}},
        // Worst cases for the prefilter: what it searches for is in every name, or there is
        // nothing to search for.
        {"contains, in every name", {MatchMode::Contains, QStringLiteral("layers"), true}},
        {"contains, ignore case, all", {MatchMode::Contains, QStringLiteral("LAYERS"), false}},
        {"exact, ignore case",
         {MatchMode::Exact, QStringLiteral("MODEL.encoder.layers.5000.attn.q_proj.weight"), false}},
        {"wildcard *.weight", {MatchMode::Wildcard, QStringLiteral("*.weight"), true}},
        {"wildcard, ignore case", {MatchMode::Wildcard, QStringLiteral("*LAYERS.?7.*"), false}},
        {"regex, no literal", {MatchMode::Regex, QStringLiteral(R"((q|k)_proj)"), true}},
        {"regex, literal everywhere", {MatchMode::Regex, QStringLiteral(R"(\d{4}\.ln)"), true}},
        {"regex .*, ignore case", {MatchMode::Regex, QStringLiteral(R"(^model.*\d$)"), false}},
    };
    NameCorpus corpus;
    const double buildMs = bestOf(5, [&] { corpus = NameCorpus(idx); });
    size_t nameBytes = 0;
    for (const auto& e : idx.entries)
        nameBytes += e.name.size();
    std::printf("corpus: built in %.2f ms, %zu bytes for %zu name bytes (%.2f B per name byte)\n", buildMs,
                corpus.memoryBytes(), nameBytes, double(corpus.memoryBytes()) / double(nameBytes));
    std::printf("%-28s %10s %10s %10s %7s %9s %7s %7s\n", "case", "main path", "per name", "corpus", "hits",
                "undecided", "main/x", "corpus/x");
    int failures = 0;
    struct Figures {
        double before, slow, fast;
        size_t hits, undecided;
        bool same;
    };
    std::vector<Figures> figures;
    for (const auto& c : cases) {
        const bool regex = c.q.mode == MatchMode::Regex;
        const double beforeMs = bestOf(3, [&] {
            NameMatcher m(c.q);
            if (!regex) {
                sink += searchModel(idx, m).entries.size();  // the same code as on main
                return;
            }
            for (const auto& e : idx.entries)  // main's NameMatcher::match(std::string_view)
                sink += m.match(utf8ToQString(e.name)) == MatchResult::Match;
        });
        SearchResult slow, fast;
        const double slowMs = bestOf(3, [&] {
            NameMatcher m(c.q);
            slow = searchModel(idx, m);
        });
        const double fastMs = bestOf(9, [&] {
            NameMatcher m(c.q);
            fast = searchModel(corpus, m);
        });
        // The corpus path may decide names the per-name path gave up on (the prefilter rules
        // them out), never the other way round, and agrees on every decided one.
        bool same = fast.entries == slow.entries;
        for (int u : fast.undecided)
            same &= std::binary_search(slow.undecided.begin(), slow.undecided.end(), u);
        failures += !same;
        figures.push_back({beforeMs, slowMs, fastMs, fast.entries.size(), fast.undecided.size(), same});
    }
    baseline = std::min(baseline, bestOf(15, findLoop));
    std::printf("baseline, best of before and after the cases: %.2f ms\n", baseline);
    for (size_t k = 0; k < figures.size(); ++k) {
        const Figures& f = figures[k];
        std::printf("%-28s %7.2f ms %7.2f ms %7.2f ms %7zu %9zu %6.1fx %6.1fx%s\n", cases[k].label, f.before, f.slow,
                    f.fast, f.hits, f.undecided, f.before / baseline, f.fast / baseline,
                    f.same ? "" : "  RESULTS DIFFER");
    }
    for (size_t k = 0; k < figures.size(); ++k)
        bench::printRow(std::string("search 100k names: ") + cases[k].label, figures[k].fast, "ms",
                        "std::string::find loop", baseline, "<= 3x");
    return sink == 0 || failures ? 1 : 0;
}

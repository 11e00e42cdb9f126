// Search over 100k dotted names in every mode, against a baseline measured in the same
// run: a plain std::string::find loop over the same names (the least any search costs).
// Each case twice: per name over the ModelIndex (searchModel(index, ...)), and over a
// NameCorpus built once outside the timed loop (searchModel(corpus, ...), what the window
// calls per keystroke); the corpus's build time and size are printed too.
#include "bench/benchtable.h"
#include "model/modelindex.h"
#include "model/namecorpus.h"
#include "model/search.h"

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
    const double baseline = bestOf(5, [&] {
        for (const auto& e : idx.entries)
            sink += e.name.find("q_proj") != std::string::npos;
    });
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
    };
    NameCorpus corpus;
    const double buildMs = bestOf(3, [&] { corpus = NameCorpus(idx); });
    size_t nameBytes = 0;
    for (const auto& e : idx.entries)
        nameBytes += e.name.size();
    std::printf("corpus: built in %.2f ms, %zu bytes for %zu name bytes (%.2f B per name byte)\n", buildMs,
                corpus.memoryBytes(), nameBytes, double(corpus.memoryBytes()) / double(nameBytes));
    std::printf("%-28s %10s %10s %8s %9s %8s\n", "case", "per name", "corpus", "hits", "undecided", "corpus/x");
    int failures = 0;
    for (const auto& c : cases) {
        SearchResult slow, fast;
        const double slowMs = bestOf(3, [&] {
            NameMatcher m(c.q);
            slow = searchModel(idx, m);
        });
        const double fastMs = bestOf(5, [&] {
            NameMatcher m(c.q);
            fast = searchModel(corpus, m);
        });
        // The corpus path may decide names the per-name path gave up on (the prefilter rules
        // them out), never the other way round, and agrees on every decided one.
        bool same = fast.entries == slow.entries;
        for (int u : fast.undecided)
            same &= std::binary_search(slow.undecided.begin(), slow.undecided.end(), u);
        failures += !same;
        std::printf("%-28s %7.2f ms %7.2f ms %8zu %9zu %7.1fx%s\n", c.label, slowMs, fastMs, fast.entries.size(),
                    fast.undecided.size(), fastMs / baseline, same ? "" : "  RESULTS DIFFER");
        bench::printRow(std::string("search 100k names: ") + c.label, fastMs, "ms", "std::string::find loop", baseline,
                        "<= 3x");
    }
    return sink == 0 || failures ? 1 : 0;
}

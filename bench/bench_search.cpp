// Search over 100k dotted names in every mode, against a baseline measured in the same
// run: a plain std::string::find loop over the same names (the least any search costs).
#include "model/modelindex.h"
#include "model/search.h"

#include <QCoreApplication>
#include <QElapsedTimer>

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
    for (const auto& c : cases) {
        size_t hits = 0;
        const double ms = bestOf(3, [&] {
            NameMatcher m(c.q);
            hits = searchEntries(idx, m).size();
        });
        std::printf("%-28s %8.2f ms  %6zu hits  %6.1fx baseline\n", c.label, ms, hits, ms / baseline);
    }
    return sink == 0 ? 1 : 0;
}

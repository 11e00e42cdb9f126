// The tree's Type column at scale: ModelTreeModel::setModel on 100k tensors under ~25k
// modules, with every module's class named (ModelIndex::moduleTypes) against the same model
// without classes, measured in the same run; then the Type column's data() for every row.
#include "model/modelindex.h"
#include "model/modeltree.h"
#include "ui/models/modeltreemodel.h"

#include "benchtable.h"

#include <QApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <functional>

#include <cstdio>
#include <memory>
#include <string>

using namespace paramscope;

namespace {

std::shared_ptr<ModelIndex> makeModel(bool types)
{
    auto index = std::make_shared<ModelIndex>();
    const char* leaves[] = {"weight", "bias", "running_mean", "running_var"};
    for (int block = 0; block < 5000; ++block) {
        for (int sub = 0; sub < 5; ++sub) {
            const std::string module = "model.layers." + std::to_string(block) + ".conv" + std::to_string(sub);
            for (const char* leaf : leaves) {
                TensorEntry e;
                e.name = module + "." + leaf;
                e.dtype = DType::Float32;
                e.shape = {16};
                e.strides = {1};
                index->entries.push_back(std::move(e));
            }
            if (types)
                index->moduleTypes.emplace(module, "torch.nn.modules.conv.Conv2d");
        }
        if (types)
            index->moduleTypes.emplace("model.layers." + std::to_string(block), "models.common.Bottleneck");
    }
    index->finalize();
    return index;
}

double msOf(const std::function<void()>& f)
{
    QElapsedTimer t;
    t.start();
    f();
    return double(t.nsecsElapsed()) / 1e6;
}

}  // namespace

int main(int argc, char** argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    double setModelMs[2] = {0, 0}, dataMsOf[2] = {0, 0};
    size_t tensors = 0;
    for (bool types : {false, true}) {
        const auto index = makeModel(types);
        const auto tree = std::make_shared<const ModelTree>(ModelTree::build(*index));
        ModelTreeModel model;
        double best = 1e30;
        for (int run = 0; run < 5; ++run)
            best = std::min(best, msOf([&] { model.setModel(index, tree); }));
        int typed = 0;
        const double dataMs = msOf([&] {
            for (int n = 1; n < tree->size(); ++n)
                typed += !model.indexForNode(n, ModelTreeModel::TypeColumn).data().toString().isEmpty();
        });
        std::printf(
            "%-14s %zu tensors, %d nodes, %zu classes: setModel %.1f ms (best of 5); Type data() for every "
            "row %.1f ms, %d typed\n",
            types ? "with classes" : "no classes", index->entries.size(), tree->size(), index->moduleTypes.size(), best,
            dataMs, typed);
        setModelMs[types] = best;
        dataMsOf[types] = dataMs;
        tensors = index->entries.size();
    }
    // Goals: setModel runs on the GUI thread when a model opens, so with the classes it
    // must fit one frame (16 ms); data() is asked per visible row, and naming the class
    // may at most double what a row costs.
    const std::string n = std::to_string(tensors / 1000) + "k tensors";
    paramscope::bench::printRow("tree, " + n + ": setModel with module classes", setModelMs[1], "ms",
                                "setModel without classes", setModelMs[0], "<= 16 ms");
    paramscope::bench::printRow("tree, " + n + ": data() of every row, with classes", dataMsOf[1], "ms",
                                "the same without classes", dataMsOf[0], "<= 2x");
    return 0;
}

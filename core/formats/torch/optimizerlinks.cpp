// The pickle walk (walker.h): torch.optim state linked to the parameters it belongs to. An
// optimizer's state_dict() keys its state by parameter id, ids numbered in param_groups'
// order, which is the order model.parameters() gave them; where a model in the same file has
// exactly that many parameters and every per-parameter state tensor has its parameter's
// shape, each state entry names its parameter.

#include "formats/pickle/resolver.h"
#include "formats/torch/walker_p.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace paramscope::detail {

namespace {

using pickle::Value;
using VT = pickle::Value::Type;

}  // namespace

void Walker::noteOptimizer(const Value* v, const Place& at)
{
    // torch.optim.Optimizer.state_dict(): {"state": {id: {...}}, "param_groups": [{"params": [ids], ...}]}
    const Value* state = v->get("state");
    const Value* groups = v->get("param_groups");
    if (!state || state->type != VT::Dict || !groups || groups->type != VT::List)
        return;
    Optimizer o;
    for (const Value* g : groups->items) {
        const Value* params = g ? g->get("params") : nullptr;
        if (!params || params->type != VT::List)
            return;
        for (const Value* p : params->items) {
            std::int64_t id = 0;
            if (!pickle::Machine::toInt(p, id))
                return;
            o.order.push_back(id);
        }
    }
    o.statePrefix = join(at.name, "state") + ".";
    o.begin = m_index.entries.size();
    o.end = std::size_t(-1);
    m_optimizers.push_back(std::move(o));
}

void Walker::linkOptimizers()
{
    const auto isStatistic = [](const std::string& n) {
        for (const char* s : {".running_mean", ".running_var", ".num_batches_tracked"})
            if (n.size() >= std::strlen(s) && n.compare(n.size() - std::strlen(s), std::string::npos, s) == 0)
                return true;
        return false;
    };
    auto& entries = m_index.entries;
    for (const Optimizer& o : m_optimizers) {
        if (o.end == std::size_t(-1) || o.order.empty())
            continue;
        std::map<std::int64_t, std::size_t> position;
        for (std::size_t i = 0; i < o.order.size(); ++i)
            position.emplace(o.order[i], i);
        for (const ParameterSet& set : m_parameterSets) {
            if (set.begin >= o.begin && set.end <= o.end)
                continue;  // the optimizer's own tensors
            // The parameters in the order model.parameters() yields them (a tied weight once).
            std::vector<int> parameters;
            for (std::size_t i = set.begin; i < set.end; ++i) {
                const TensorEntry& e = entries[i];
                if (set.module ? e.kind != TensorKind::Parameter : isStatistic(e.name))
                    continue;
                const bool tied = std::any_of(parameters.begin(), parameters.end(), [&](int j) {
                    const TensorEntry& p = entries[size_t(j)];
                    return p.storage == e.storage && p.storageOffset == e.storageOffset && p.shape == e.shape;
                });
                if (!tied || !set.module)
                    parameters.push_back(int(i));
            }
            if (parameters.size() != o.order.size())
                continue;
            // Every per-parameter state tensor (exp_avg, momentum_buffer) has its parameter's shape.
            std::vector<std::pair<std::size_t, int>> links;
            bool fits = true;
            for (std::size_t i = o.begin; i < o.end && fits; ++i) {
                const std::string& n = entries[i].name;
                if (n.compare(0, o.statePrefix.size(), o.statePrefix) != 0)
                    continue;
                const auto dot = n.find('.', o.statePrefix.size());
                bool ok = false;
                const qlonglong id =
                    QString::fromStdString(n.substr(o.statePrefix.size(), dot == std::string::npos
                                                                              ? std::string::npos
                                                                              : dot - o.statePrefix.size()))
                        .toLongLong(&ok);
                const auto it = ok ? position.find(id) : position.end();
                if (it == position.end()) {
                    fits = false;
                    break;
                }
                const int p = parameters[it->second];
                if (entries[i].numel > 1 && entries[i].shape != entries[size_t(p)].shape)
                    fits = false;
                links.emplace_back(i, p);
            }
            if (!fits || links.empty())
                continue;
            for (const auto& [i, p] : links)
                entries[i].belongsTo = p;
            break;
        }
    }
}

}  // namespace paramscope::detail

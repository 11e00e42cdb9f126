// Aligning the names of two models: the prefixes to strip (given or detected), the user's
// prefix mappings, and the pairs, with keys kept unique so the merged tree has one row each.
#include "diff/diff.h"

#include "model/modelindex.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace paramscope {

namespace {

std::string_view stripped(std::string_view name, std::string_view prefix)
{
    if (!prefix.empty() && name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix)
        return name.substr(prefix.size());
    return name;
}

std::string keyOfA(std::string_view name, std::string_view strip, const std::vector<NameMapping>& map)
{
    const std::string_view s = stripped(name, strip);
    for (const NameMapping& m : map)
        if (!m.from.empty() && s.substr(0, std::min(s.size(), m.from.size())) == m.from)
            return m.to + std::string(s.substr(m.from.size()));
    return std::string(s);
}

/// Candidate prefixes of one side: the known wrappers, and a first segment (with its dot)
/// that at least 90% of the names share.
std::vector<std::string> candidates(const ModelIndex& m)
{
    std::vector<std::string> out{"module.", "_orig_mod.", "model."};
    std::unordered_map<std::string_view, int> first;
    for (const TensorEntry& e : m.entries) {
        const std::string_view n = e.name;
        const size_t dot = n.find('.');
        if (dot != std::string_view::npos && dot + 1 < n.size())
            ++first[n.substr(0, dot + 1)];
    }
    for (const auto& [segment, count] : first)
        if (count * 10 >= int(m.entries.size()) * 9 &&
            std::find(out.begin(), out.end(), std::string(segment)) == out.end())
            out.emplace_back(segment);
    // Only prefixes some name has.
    std::vector<std::string> present{""};
    for (const std::string& c : out)
        if (std::any_of(m.entries.begin(), m.entries.end(),
                        [&](const TensorEntry& e) { return stripped(e.name, c).size() != e.name.size(); }))
            present.push_back(c);
    return present;
}

int countMatches(const ModelIndex& a, const ModelIndex& b, const std::string& sa, const std::string& sb,
                 const std::vector<NameMapping>& map)
{
    std::unordered_set<std::string_view> keysB;
    keysB.reserve(b.entries.size());
    for (const TensorEntry& e : b.entries)
        keysB.insert(stripped(e.name, sb));
    int n = 0;
    for (const TensorEntry& e : a.entries)
        n += keysB.count(keyOfA(e.name, sa, map)) ? 1 : 0;
    return n;
}

}  // namespace

int Alignment::matched() const
{
    return int(std::count_if(pairs.begin(), pairs.end(), [](const Pair& p) { return p.a >= 0 && p.b >= 0; }));
}

int Alignment::onlyA() const
{
    return int(std::count_if(pairs.begin(), pairs.end(), [](const Pair& p) { return p.b < 0; }));
}

int Alignment::onlyB() const
{
    return int(std::count_if(pairs.begin(), pairs.end(), [](const Pair& p) { return p.a < 0; }));
}

PrefixGuess detectPrefixes(const ModelIndex& a, const ModelIndex& b, const std::vector<NameMapping>& map)
{
    PrefixGuess g;
    g.matchedBefore = countMatches(a, b, {}, {}, map);
    g.matchedAfter = g.matchedBefore;
    const std::vector<std::string> ca = candidates(a), cb = candidates(b);
    for (const std::string& sa : ca)
        for (const std::string& sb : cb) {
            if (sa.empty() && sb.empty())
                continue;
            const int n = countMatches(a, b, sa, sb, map);
            // Strictly more: ties keep the simpler choice found first (nothing, then one side).
            if (n > g.matchedAfter) {
                g.matchedAfter = n;
                g.stripA = sa;
                g.stripB = sb;
            }
        }
    return g;
}

Alignment alignModels(const ModelIndex& a, const ModelIndex& b, const AlignOptions& o)
{
    Alignment al;
    al.map = o.map;
    al.matchedBefore = countMatches(a, b, {}, {}, {});
    if (o.stripA || o.stripB) {
        al.stripA = o.stripA.value_or(std::string());
        al.stripB = o.stripB.value_or(std::string());
    } else if (o.detect) {
        const PrefixGuess g = detectPrefixes(a, b, o.map);
        al.stripA = g.stripA;
        al.stripB = g.stripB;
        al.detected = !g.stripA.empty() || !g.stripB.empty();
    }

    // B's keys; a key two B names share keeps the first, the second falls back to its own name.
    std::unordered_map<std::string, int> byKeyB;
    std::vector<std::string> keysB(b.entries.size());
    byKeyB.reserve(b.entries.size());
    for (size_t j = 0; j < b.entries.size(); ++j) {
        std::string k(stripped(b.entries[j].name, al.stripB));
        if (byKeyB.count(k))
            k = b.entries[j].name;
        keysB[j] = k;
        byKeyB.emplace(std::move(k), int(j));
    }
    std::vector<char> usedB(b.entries.size(), 0);
    std::unordered_set<std::string> keys;  // every key of the result, kept unique
    keys.reserve(a.entries.size() + b.entries.size());
    auto unique = [&](std::string k) {
        if (keys.insert(k).second)
            return k;
        for (int n = 2;; ++n) {
            std::string c = k + "#" + std::to_string(n);
            if (keys.insert(c).second)
                return c;
        }
    };
    al.pairs.reserve(a.entries.size() + b.entries.size());
    for (size_t i = 0; i < a.entries.size(); ++i) {
        std::string k = keyOfA(a.entries[i].name, al.stripA, al.map);
        int j = -1;
        if (auto it = byKeyB.find(k); it != byKeyB.end() && !usedB[size_t(it->second)]) {
            j = it->second;
            usedB[size_t(j)] = 1;
        }
        al.pairs.push_back({int(i), j, unique(std::move(k))});
    }
    for (size_t j = 0; j < b.entries.size(); ++j)
        if (!usedB[j])
            al.pairs.push_back({-1, int(j), unique(keysB[j])});
    return al;
}

std::optional<NameMapping> parseNameMapping(const QString& text)
{
    const qsizetype eq = text.indexOf(QLatin1Char('='));
    if (eq <= 0)
        return std::nullopt;
    return NameMapping{text.left(eq).toStdString(), text.mid(eq + 1).toStdString()};
}

}  // namespace paramscope

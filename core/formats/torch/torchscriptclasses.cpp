// The TorchScript class headers under an archive's code/ folder (torcharchive.h): which
// classes are modules and which of their attributes are parameters or buffers. Only the
// `class` lines and the `__parameters__` / `__buffers__` lines are read; nothing is run.

#include "formats/torch/torcharchive.h"

#include <algorithm>

namespace paramscope {

namespace {

// The quoted names of a `__parameters__ = ["a", "b", ]` line.
std::vector<std::string> quotedNames(const std::string& line)
{
    std::vector<std::string> out;
    size_t i = line.find('[');
    while (i != std::string::npos && i < line.size()) {
        const size_t q = line.find_first_of("\"'", i);
        if (q == std::string::npos)
            break;
        const char quote = line[q];
        std::string name;
        size_t j = q + 1;
        for (; j < line.size() && line[j] != quote; ++j) {
            if (line[j] == '\\' && j + 1 < line.size())
                ++j;
            name.push_back(line[j]);
        }
        out.push_back(std::move(name));
        i = j + 1;
    }
    return out;
}

}  // namespace

std::vector<TorchScriptClass> parseTorchScriptClasses(const std::string& source, const std::string& qualifier)
{
    std::vector<TorchScriptClass> classes;
    size_t pos = 0;
    while (pos < source.size()) {
        size_t end = source.find('\n', pos);
        if (end == std::string::npos)
            end = source.size();
        const std::string line = source.substr(pos, end - pos);
        pos = end + 1;
        if (line.rfind("class ", 0) == 0) {
            const size_t open = line.find('(');
            const size_t colon = line.find(':');
            const size_t nameEnd = std::min(open, colon);
            if (nameEnd == std::string::npos || nameEnd <= 6)
                continue;
            TorchScriptClass c;
            c.qualifiedName = qualifier + "." + line.substr(6, nameEnd - 6);
            if (open != std::string::npos) {
                const size_t close = line.find(')', open);
                if (close != std::string::npos)
                    c.isModule = line.substr(open + 1, close - open - 1) == "Module";
            }
            classes.push_back(std::move(c));
            continue;
        }
        if (classes.empty())
            continue;
        // Class-level lines are indented by exactly two spaces in TorchScript's printer.
        if (line.rfind("  __parameters__ = [", 0) == 0)
            classes.back().parameters = quotedNames(line);
        else if (line.rfind("  __buffers__ = [", 0) == 0)
            classes.back().buffers = quotedNames(line);
    }
    return classes;
}

}  // namespace paramscope

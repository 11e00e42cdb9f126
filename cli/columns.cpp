// Column widths shared by the plain-text tables of paramscope-cli (tree, list, stats).
#include "cli/commandline_p.h"

#include <algorithm>

namespace paramscope::cli {

int cappedColumnWidth(std::vector<int> lengths)
{
    if (lengths.empty())
        return 0;
    std::sort(lengths.begin(), lengths.end());
    return lengths[std::min(lengths.size() - 1, lengths.size() * 95 / 100)];
}

}  // namespace paramscope::cli

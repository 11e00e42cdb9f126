#pragma once

// What `list` and `tree` print for a model already loaded, apart from loading and option
// parsing (listcommand.cpp, treecommand.cpp): the commands call these, and tests call them
// on models filled by hand.

#include <QString>

#include <limits>
#include <vector>

class QTextStream;

namespace paramscope {

class ModelIndex;
class ModelTree;

namespace cli {

struct ListOutput {
    bool json = false;
    /// Also everything that is not a tensor: the metadata entries after the tensors (plain
    /// text: a header line, then name, type, value tab-separated and escaped like names);
    /// in JSON the "metadata", "foreign_classes" and "no_tensors_reason" members, and per
    /// entry "belongs_to", "shard" and "access" (the Python access chain from what the file
    /// loads into, when it is not obj[name]).
    bool all = false;
    /// Plain text as an aligned table for a reader (a header row, elements with thousands
    /// separators, sizes in KiB/MiB, names wider than 95% of them on a line of their own,
    /// then a summary: tensors and elements per kind, the total size with storage shared by
    /// several names counted once, the size per dtype). false: the tab-separated lines
    /// scripts read (name, kind, dtype, shape, elements), no header, no summary.
    bool table = false;
};

/// `list`'s output for `entries` (indexes into index.entries, in order). `file` is the path
/// as given on the command line.
void writeList(const ModelIndex& index, const std::vector<int>& entries, const QString& file, ListOutput options,
               QTextStream& out);

/// `tree`'s output: the root row (file name, format, totals), then every node down to
/// `maxDepth`, module rows with their class beside the name as torchinfo shows it
/// (`conv1 (Conv2d)`) where the file names one.
void writeTree(const ModelIndex& index, const ModelTree& tree, const QString& fileName, QTextStream& out,
               int maxDepth = std::numeric_limits<int>::max());

}  // namespace cli

}  // namespace paramscope

#pragma once

// The dtype of every module of a model tree: the one dtype all tensors of its subtree
// share, or "mixed". Computed once per model so a view can show it per row without a walk.

#include "base/dtype.h"

#include <vector>

namespace paramscope {

class ModelIndex;
class ModelTree;

struct SubtreeDTypes {
    std::vector<DType> dtype;          // per node: the shared dtype (DType::Unknown when none or mixed)
    std::vector<unsigned char> mixed;  // per node: tensors of more than one dtype below it

    static SubtreeDTypes compute(const ModelIndex& index, const ModelTree& tree);
};

}  // namespace paramscope

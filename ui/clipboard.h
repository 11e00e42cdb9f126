#pragma once

// Copy name and Copy Python snippet: what goes onto the system clipboard for a tree node.

namespace paramscope {

class ModelIndex;
class ModelTree;

/// Copies the node's full dotted name; false (nothing copied) for the root or no node.
bool copyNodeName(const ModelTree& tree, int node);
/// Copies the Python expression that fetches the node's tensor; false for a module.
bool copyNodeSnippet(const ModelIndex& index, const ModelTree& tree, int node);

}  // namespace paramscope

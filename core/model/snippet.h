#pragma once

// The Python expression that fetches one tensor of a model, as the details panel shows it
// and Copy Python snippet copies it.

#include <QString>

namespace paramscope {

class ModelIndex;

/// model.get_parameter("…") for a parameter, model.get_buffer("…") for a buffer,
/// state_dict["…"] for a plain tensor; the name as a Python string literal. Empty for an
/// entry out of range.
QString pythonSnippet(const ModelIndex& index, int entry);

}  // namespace paramscope

#pragma once

// The Python code that fetches one tensor of a model, as the details panel shows it and
// Copy Python snippet copies it: the lines that load the file, then the expression.

#include <QString>

namespace paramscope {

class ModelIndex;

/// The lines that load the file holding `entry` into the variable the expression uses:
/// `obj = torch.load(...)` for torch.save files (legacy and tar included), `m =
/// torch.jit.load(...)` for TorchScript (mobile included), `sd = load_file(...)` from
/// safetensors.torch for safetensors (the shard's file for a sharded checkpoint), each
/// after its import; torch.load with weights_only=False (and a comment saying so) when the
/// file pickles classes (foreign classes or modules). The path is a Python string literal. Empty for an entry out of
/// range.
QString pythonLoadingLines(const ModelIndex& index, int entry);

/// The expression that gives the tensor once the file is loaded: `<var><access>` when the
/// entry has an access path; otherwise `m.state_dict()[name]` for TorchScript, `sd[name]` /
/// `obj[name]` for the rest; the name as a Python string literal. Empty for an entry out of
/// range.
QString pythonExpression(const ModelIndex& index, int entry);

/// pythonLoadingLines, then `t = ` and pythonExpression: a runnable script.
QString pythonSnippet(const ModelIndex& index, int entry);

}  // namespace paramscope

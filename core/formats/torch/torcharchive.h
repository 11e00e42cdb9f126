#pragma once
// ParamScope's own reader for PyTorch zip archives (torch.jit.save and torch.save). It reads
// the zip directory, unpickles data.pkl with the restricted unpickler and maps tensor data
// lazily; nothing from the file is compiled or executed. Its entry point for the dispatcher,
// detail::loadTorchArchive, is in engines_p.h. Kinds: TorchScript files say which tensors are
// parameters and which are buffers; in torch.save files a tensor saved as nn.Parameter
// (torch._utils._rebuild_parameter) is a parameter and every other tensor is of kind "tensor"
// (the file does not say). A tensor whose declared sizes, strides, offset or storage do not
// fit the file is left out with a warning naming it and the problem; a file where no tensor
// survives is an error. This header holds what tests also use: the TorchScript class-header
// parser.

#include <cstdint>
#include <string>
#include <vector>

namespace paramscope {

/// Parameter and buffer names of one TorchScript class, from its source under code/.
struct TorchScriptClass {
    std::string qualifiedName;  // "__torch__.torch.nn.modules.linear.Linear"
    bool isModule = false;      // declared as `class X(Module):`
    std::vector<std::string> parameters, buffers;
};

/// Parses the class headers of one `code/` source file. `qualifier` is the module
/// path of the file ("__torch__.torch.nn.modules.linear"). Only the `class` lines and
/// the `__parameters__` / `__buffers__` lines are read; the code is never interpreted.
std::vector<TorchScriptClass> parseTorchScriptClasses(const std::string& source, const std::string& qualifier);

}  // namespace paramscope

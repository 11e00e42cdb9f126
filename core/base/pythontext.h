#pragma once

// Python's text for numbers and names, as ParamScope shows checkpoint values and writes
// Python expressions.

#include <string>
#include <string_view>

namespace paramscope {

/// Python's repr() of a float: the shortest digits that read back, positional for decimal
/// exponents in [-4, 16), scientific otherwise ("0.001", "1e-05", "100000000.0", "1e+16",
/// "nan", "-inf"). Without `pointZero` an integral value has no ".0", as inside a complex
/// number's repr ("(1+2j)").
std::string pythonFloatRepr(double d, bool pointZero = true);

/// An ASCII Python identifier (letters, digits, '_', not starting with a digit).
bool isPythonIdentifier(std::string_view s);

}  // namespace paramscope

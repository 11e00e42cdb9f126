// Python's text for numbers and names (pythontext.h).

#include "base/pythontext.h"

#include <QLocale>
#include <QString>

#include <cmath>
#include <string>

namespace paramscope {

std::string pythonFloatRepr(double d, bool pointZero)
{
    if (std::isnan(d))
        return "nan";
    if (std::isinf(d))
        return d < 0 ? "-inf" : "inf";
    // "-1.2345e+08": the sign, the digits and the exponent.
    const std::string e = QString::number(d, 'e', QLocale::FloatingPointShortest).toStdString();
    const auto ePos = e.find('e');
    std::string mantissa = e.substr(0, ePos);
    const int exponent = ePos == std::string::npos ? 0 : std::stoi(e.substr(ePos + 1));
    std::string sign;
    if (!mantissa.empty() && mantissa[0] == '-') {
        sign = "-";
        mantissa.erase(0, 1);
    }
    std::string digits;
    for (char c : mantissa)
        if (c != '.')
            digits += c;
    if (exponent < -4 || exponent >= 16) {
        std::string m = digits.substr(0, 1);
        if (digits.size() > 1)
            m += "." + digits.substr(1);
        const int a = exponent < 0 ? -exponent : exponent;
        return sign + m + "e" + (exponent < 0 ? "-" : "+") + (a < 10 ? "0" : "") + std::to_string(a);
    }
    std::string out;
    if (exponent < 0) {
        out = "0." + std::string(std::size_t(-exponent - 1), '0') + digits;
    } else if (std::size_t(exponent) + 1 >= digits.size()) {
        out = digits + std::string(std::size_t(exponent) + 1 - digits.size(), '0') + (pointZero ? ".0" : "");
    } else {
        out = digits.substr(0, std::size_t(exponent) + 1) + "." + digits.substr(std::size_t(exponent) + 1);
    }
    return sign + out;
}

bool isPythonIdentifier(std::string_view s)
{
    if (s.empty() || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (const char c : s)
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    return true;
}

}  // namespace paramscope

// JSON string literals for paramscope-cli's --json output: exact (a JSON parser gets back
// every character) and safe to show in a terminal (non-printables written as \uXXXX).
#include "cli/commandline_p.h"

namespace paramscope::cli {

QString jsonString(const QString& s)
{
    // Exact: a JSON parser gets back every character. Control characters and the other
    // non-printables (U+2028, U+FEFF, C1 controls, ...) are written as \uXXXX escapes (as
    // UTF-16 units), so the JSON text itself stays safe to show in a terminal.
    QString o;
    o.reserve(s.size() + 2);
    o += QLatin1Char('"');
    for (qsizetype i = 0; i < s.size(); ++i) {
        const QChar c = s.at(i);
        switch (c.unicode()) {
            case '"':
                o += QStringLiteral("\\\"");
                continue;
            case '\\':
                o += QStringLiteral("\\\\");
                continue;
            case '\n':
                o += QStringLiteral("\\n");
                continue;
            case '\r':
                o += QStringLiteral("\\r");
                continue;
            case '\t':
                o += QStringLiteral("\\t");
                continue;
            default:
                break;
        }
        char32_t cp = c.unicode();
        qsizetype units = 1;
        if (c.isHighSurrogate() && i + 1 < s.size() && s.at(i + 1).isLowSurrogate()) {
            cp = QChar::surrogateToUcs4(c, s.at(i + 1));
            units = 2;
        }
        if (textdetail::isPrintable(cp)) {
            o += s.mid(i, units);
        } else {
            for (qsizetype k = 0; k < units; ++k)
                o += QStringLiteral("\\u") +
                     QString::number(s.at(i + k).unicode(), 16).rightJustified(4, QLatin1Char('0'));
        }
        i += units - 1;
    }
    o += QLatin1Char('"');
    return o;
}

QString jsonString(std::string_view utf8)
{
    return jsonString(utf8ToQString(utf8));
}

}  // namespace paramscope::cli

#pragma once
// Text from a file, shown to a person: decoding names exactly, escaping them for a
// terminal, quoting them for Python. Header-only, QtCore only.

#include <QChar>
#include <QString>
#include <QStringList>

#include <string_view>

namespace paramscope {

/// UTF-8 -> QString keeping every character. QString::fromUtf8 (and fromStdString,
/// fromLocal8Bit, QCoreApplication::arguments) silently drop one leading U+FEFF (a "byte
/// order mark"), so the names "\ufeffw" and "w" would read back the same. Invalid
/// sequences become U+FFFD as with fromUtf8.
inline QString utf8ToQString(std::string_view utf8)
{
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    QString out;
    while (utf8.size() >= kBom.size() && utf8.substr(0, kBom.size()) == kBom) {
        out += QChar(0xFEFF);
        utf8.remove_prefix(kBom.size());
    }
    out += QString::fromUtf8(utf8.data(), qsizetype(utf8.size()));
    return out;
}

/// Command-line arguments decoded with utf8ToQString (QCoreApplication::arguments() drops
/// a leading U+FEFF of each argument). argv[0] included.
inline QStringList argumentsFromArgv(int argc, const char* const* argv)
{
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args << utf8ToQString(argv[i] ? std::string_view(argv[i]) : std::string_view());
    return args;
}

namespace textdetail {

/// Python's str.isprintable() per character: everything except the categories Cc, Cf, Cs,
/// Co, Cn, Zl, Zp and spaces other than U+0020.
inline bool isPrintable(char32_t c)
{
    if (c == U' ')
        return true;
    switch (QChar::category(c)) {
        case QChar::Other_Control:
        case QChar::Other_Format:
        case QChar::Other_Surrogate:
        case QChar::Other_PrivateUse:
        case QChar::Other_NotAssigned:
        case QChar::Separator_Line:
        case QChar::Separator_Paragraph:
        case QChar::Separator_Space:
            return false;
        default:
            return true;
    }
}

inline void appendEscape(QString& out, char32_t c)
{
    switch (c) {
        case U'\n':
            out += QStringLiteral("\\n");
            return;
        case U'\t':
            out += QStringLiteral("\\t");
            return;
        case U'\r':
            out += QStringLiteral("\\r");
            return;
        default:
            break;
    }
    if (c < 0x100)
        out += QStringLiteral("\\x") + QString::number(uint(c), 16).rightJustified(2, QLatin1Char('0'));
    else if (c < 0x10000)
        out += QStringLiteral("\\u") + QString::number(uint(c), 16).rightJustified(4, QLatin1Char('0'));
    else
        out += QStringLiteral("\\U") + QString::number(uint(c), 16).rightJustified(8, QLatin1Char('0'));
}

/// Escapes like the inside of Python's repr(): backslash, `quote` (0: none) and every
/// non-printable character; printable characters stay as they are.
inline QString escape(const QString& s, char16_t quote)
{
    QString out;
    out.reserve(s.size());
    for (qsizetype i = 0; i < s.size(); ++i) {
        char32_t c = s.at(i).unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < s.size() && s.at(i + 1).isLowSurrogate()) {
            c = QChar::surrogateToUcs4(s.at(i), s.at(i + 1));
            ++i;
        }
        if (c == U'\\') {
            out += QStringLiteral("\\\\");
        } else if (quote && c == quote) {
            out += QLatin1Char('\\');
            out += QChar(quote);
        } else if (isPrintable(c)) {
            if (c >= 0x10000) {
                out += QChar(QChar::highSurrogate(c));
                out += QChar(QChar::lowSurrogate(c));
            } else {
                out += QChar(char16_t(c));
            }
        } else {
            appendEscape(out, c);
        }
    }
    return out;
}

}  // namespace textdetail

/// A name (or any text from a file) for plain-text output: control characters and other
/// non-printables (Python's str.isprintable()) as \n, \t, \r, \xNN, \uNNNN, \UNNNNNNNN and
/// the backslash as \\, so one name is one line and no escape sequence reaches a terminal.
/// Printable text, non-ASCII included, is unchanged.
inline QString escapeForTerminal(const QString& s)
{
    return textdetail::escape(s, 0);
}
inline QString escapeForTerminal(std::string_view utf8)
{
    return escapeForTerminal(utf8ToQString(utf8));
}

/// A Python string literal ("...") that evaluates to exactly `s` (ast.literal_eval).
inline QString pythonStringLiteral(const QString& s)
{
    return QLatin1Char('"') + textdetail::escape(s, u'"') + QLatin1Char('"');
}
inline QString pythonStringLiteral(std::string_view utf8)
{
    return pythonStringLiteral(utf8ToQString(utf8));
}

}  // namespace paramscope

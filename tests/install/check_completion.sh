#!/usr/bin/env bash
# The bash completion of paramscope-cli checked against the program itself, by running the
# completion function in bash (with bash-completion's library, as an interactive shell has
# it): the first word offers exactly the commands of `paramscope-cli --help` plus --help and
# --version; after each command, "-" offers exactly the long options of
# `paramscope-cli COMMAND --help` (and only short options it lists), so the two cannot drift
# apart; and two concrete completions: `paramscope-cli st` and `paramscope-cli stats --th`.
#
#   check_completion.sh COMPLETION_FILE PARAMSCOPE_CLI
set -euo pipefail
completion=$1 cli=$2
fail() { echo "check_completion: $*" >&2; exit 1; }
lib=/usr/share/bash-completion/bash_completion
[ -f "$lib" ] || fail "$lib missing (Debian package bash-completion, scripts/deps.sh installs it)"

# Completes the words given (the last one is the word being completed) and prints COMPREPLY
# sorted, one a line.
complete_words() {
  bash --norc --noprofile -c '
    . "$1" && . "$2" || exit 1
    shift 2
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    _paramscope_cli paramscope-cli "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$lib" "$completion" paramscope-cli "$@" | sed '/^$/d' | sort -u
}

# Options of a help text: the option column of the lines "  -x, --long <value>  text".
help_options() { sed -n 's/^  \(-[^ ].*\)/\1/p' | sed 's/   .*//' | grep -oE -- '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9-]*' |
  sed 's/^[ ,]//' | sort -u; }

commands=$("$cli" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | sort -u)
[ -n "$commands" ] || fail "no commands in paramscope-cli --help"
want=$(printf '%s\n' $commands --help --version | sort -u)
got=$(complete_words "")
[ "$got" = "$want" ] || fail "the first word offers $(echo $got), paramscope-cli --help has $(echo $want)"

for c in $commands; do
  help=$("$cli" "$c" --help) || fail "paramscope-cli $c --help failed"
  want_long=$(echo "$help" | help_options | grep -- '^--' || true)
  want_short=$(echo "$help" | help_options | grep -v -- '^--' || true)
  [ -n "$want_long" ] || fail "no options in paramscope-cli $c --help"
  offered=$(complete_words "$c" -)
  got_long=$(echo "$offered" | grep -- '^--' || true)
  got_short=$(echo "$offered" | grep -v -- '^--' || true)
  [ "$got_long" = "$want_long" ] || fail "paramscope-cli $c: the completion offers [$(comm -23 <(echo "$got_long") \
    <(echo "$want_long") | xargs)] beyond --help and lacks [$(comm -13 <(echo "$got_long") <(echo "$want_long") | xargs)]"
  extra=$(comm -23 <(echo "$got_short") <(echo "$want_short") | grep . || true)
  [ -z "$extra" ] || fail "paramscope-cli $c: the completion offers $(echo $extra), not in --help"
done

[ "$(complete_words st)" = stats ] || fail "paramscope-cli st completes to '$(complete_words st)', not stats"
[ "$(complete_words stats --th)" = --threads ] ||
  fail "paramscope-cli stats --th completes to '$(complete_words stats --th)', not --threads"
echo "check_completion: $(echo $commands | wc -w) commands' options match their --help"

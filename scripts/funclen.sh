#!/bin/sh
# Functions longer than MAX lines (default 80) in the given C files: a function body opens with "{" alone
# in column 0 and closes with "}" in column 0 (the house clang-format style). Exits 1 if any is found.
set -eu
MAX=${MAX:-80}
awk -v max="$MAX" '
    FNR == 1 { prev = "" }
    /^\{$/ { start = FNR; name = prev; next }
    /^\}/ && start { len = FNR - start - 1; if (len > max) { printf "%s:%d: %s: %d lines\n", FILENAME, start, name, len; bad = 1 } start = 0 }
    { if ($0 !~ /^[ \t]*$/) prev = $0 }
    END { exit bad }
' "$@"

#!/usr/bin/env bash
# Store size against mail size (issue 17, compact store): imports the SpamAssassin corpus
# into a fresh store and prints the store's size, the mail's size, their ratio and
# `secdesk store --stats`.
#
#   SECDESK_CORPORA=/work/shared/corpora bench/store.sh [SECDESK_BINARY] [OLD_BINARY]
#
# With OLD_BINARY (an older secdesk: before compression, or before bodies were derived),
# the same import is also done with it, and that store is then opened by SECDESK_BINARY,
# which migrates (and compacts) it.
set -euo pipefail
corpus="${SECDESK_CORPORA:-../shared/corpora}/spamassassin"
if [ ! -d "$corpus" ]; then
    echo "skipped: no corpus at $corpus (set SECDESK_CORPORA)"
    exit 0
fi
bin="${1:-target/release/secdesk}"
old="${2:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mail=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
count=$(find "$corpus" -type f | wc -l)

store_size() { # the file and its WAL, if any
    local s=0 f
    for f in "$1" "$1-wal"; do [ -f "$f" ] && s=$((s + $(stat -c %s "$f"))); done
    echo "$s"
}

config() { # STORE
    printf '[identity]\nname = "Bench"\nemail = "bench@example.org"\n[team]\naddress = "security@example.org"\n[store]\npath = "%s"\n' "$1"
}

import() { # BINARY NAME
    local cfg="$work/$2.toml"
    config "$work/$2.db" >"$cfg"
    "$1" import --config "$cfg" "$corpus/ham" "$corpus/spam" >/dev/null
}

report() { # LABEL STORE
    local s
    s=$(store_size "$2")
    awk -v l="$1" -v s="$s" -v m="$mail" -v n="$count" \
        'BEGIN {printf "%-34s %5d messages  mail %6.1f MB  store %6.1f MB  = %.2fx the mail\n", l, n, m/1e6, s/1e6, s/m}'
}

import "$bin" new
report "new store (this secdesk)" "$work/new.db"
if [ -n "$old" ]; then
    import "$old" old
    report "store of OLD_BINARY" "$work/old.db"
    config "$work/old.db" >"$work/migrate.toml"
    "$bin" store --config "$work/migrate.toml" --stats >/dev/null
    report "old store after migration" "$work/old.db"
fi
"$bin" store --config "$work/new.toml" --stats

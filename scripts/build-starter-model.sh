#!/usr/bin/env bash
# Rebuilds assets/starter-model.tsv, the model a fresh store starts from, by training an
# empty model on ../shared/corpora/spamassassin and ../shared/corpora/triage and exporting
# it without tokens seen in fewer than 3 messages. Rebuild secdesk afterwards: the model is
# compiled in. See docs/classifier.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORPORA="${SECDESK_CORPORA:-$ROOT/../shared/corpora}"
MIN_COUNT="${MIN_COUNT:-3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/config.toml" <<CFG
[store]
path = "$WORK/model.db"
[identity]
name = "starter model"
email = "starter@example.org"
CFG
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
"$ROOT/target/release/secdesk" --config "$WORK/config.toml" train --empty \
    --export-model "$ROOT/assets/starter-model.tsv" --min-count "$MIN_COUNT" \
    "$CORPORA/spamassassin" "$CORPORA/triage"

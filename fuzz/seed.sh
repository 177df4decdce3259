#!/usr/bin/env bash
# Seeds the fuzz corpora from ../shared/corpora (never committed: fuzz/corpus is ignored).
# Usage: fuzz/seed.sh, then e.g.
#   RUSTC_BOOTSTRAP=1 cargo fuzz run parse_message -- -max_total_time=600
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared="${SECDESK_CORPORA:-$root/../shared/corpora}"
[ -d "$shared" ] || { echo "fuzz/seed.sh: $shared not found; fuzzing starts from an empty corpus" >&2; exit 0; }
mkdir -p "$root/fuzz/corpus/parse_message" "$root/fuzz/corpus/import_mbox" "$root/fuzz/corpus/config" "$root/fuzz/corpus/template" "$root/fuzz/corpus/rules" "$root/fuzz/corpus/pgp_mime"
cp "$root"/assets/templates/* "$root/fuzz/corpus/template/"
cp "$shared"/triage/*/*.eml "$root/fuzz/corpus/parse_message/"
# Every 8th SpamAssassin message: enough variety, fast to load.
find "$shared/spamassassin" -name '*.eml' | sort | awk 'NR % 8 == 0' | xargs -I{} cp {} "$root/fuzz/corpus/parse_message/"
cp "$root"/tests/fixtures/hostile/*.eml "$root/fuzz/corpus/parse_message/"
cp "$root"/tests/fixtures/hostile/*.eml "$root/fuzz/corpus/pgp_mime/"
# mbox seeds: a few messages each, joined with From lines.
i=0
for group in $(ls "$shared"/triage/*/*.eml | xargs -n 3 | tr ' ' ','); do
  i=$((i + 1))
  for f in ${group//,/ }; do printf 'From seed@example.org Mon Nov  2 10:00:00 2026\n'; cat "$f"; printf '\n'; done \
    > "$root/fuzz/corpus/import_mbox/seed-$i.mbox"
done
cp "$root/config.example.toml" "$root/fuzz/corpus/config/"
cp "$root/assets/rules.toml" "$root/fuzz/corpus/rules/"
echo "seeded: $(ls "$root/fuzz/corpus/parse_message" | wc -l) messages, $i mboxes, 1 config, 1 rule file"

#!/usr/bin/env bash
# Seeds the fuzz corpora from ../shared/corpora (never committed: fuzz/corpus is ignored).
# Usage: fuzz/seed.sh, then e.g.
#   RUSTC_BOOTSTRAP=1 cargo fuzz run parse_message -- -max_total_time=600
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared="${SECDESK_CORPORA:-$root/../shared/corpora}"
[ -d "$shared" ] || { echo "fuzz/seed.sh: $shared not found; fuzzing starts from an empty corpus" >&2; exit 0; }
mkdir -p "$root/fuzz/corpus/parse_message" "$root/fuzz/corpus/import_mbox" "$root/fuzz/corpus/config" "$root/fuzz/corpus/template" "$root/fuzz/corpus/rules" "$root/fuzz/corpus/pgp_mime"
cp "$root"/assets/templates/*.txt "$root/fuzz/corpus/template/"
# The held queue's reject reasons share names with reply templates: keep both.
for f in "$root"/assets/templates/reject/*.txt; do cp "$f" "$root/fuzz/corpus/template/reject-$(basename "$f")"; done
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
# OpenPGP seeds for pgp_mime (issue 16): a signed, an encrypted and a key-carrying message,
# made with a throwaway key when gpg is installed.
if command -v gpg >/dev/null; then
  home=$(mktemp -d /tmp/secdesk-seed-gpgXXXX)
  trap 'GNUPGHOME=$home gpgconf --kill gpg-agent 2>/dev/null; rm -rf "$home"' EXIT
  g() { GNUPGHOME=$home gpg --batch --no-tty --pinentry-mode loopback --passphrase '' "$@" 2>/dev/null; }
  g --quick-gen-key "Seed <seed@example.org>" future-default default never
  key=$(g --armor --export seed@example.org)
  sig=$(printf 'Content-Type: text/plain\r\n\r\nsigned text\r\n' | g --armor --detach-sign)
  enc=$(printf 'Content-Type: text/plain\r\n\r\nsecret text\r\n' | g --armor --trust-model always -r seed@example.org --sign --encrypt)
  d="$root/fuzz/corpus/pgp_mime"
  printf 'From: s@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha512; protocol="application/pgp-signature"; boundary="s"\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n%s\r\n--s--\r\n' "$sig" > "$d/seed-signed.eml"
  printf 'From: s@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\r\n\r\n--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--e\r\nContent-Type: application/octet-stream\r\n\r\n%s\r\n--e--\r\n' "$enc" > "$d/seed-encrypted.eml"
  printf 'From: s@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="k"\r\n\r\n--k\r\nContent-Type: text/plain\r\n\r\nmy key\r\n--k\r\nContent-Type: application/pgp-keys; name="key.asc"\r\n\r\n%s\r\n--k--\r\n' "$key" > "$d/seed-key.eml"
  printf 'From: s@example.org\r\n\r\n%s\r\n' "$enc" > "$d/seed-inline.eml"
  echo "pgp_mime: $(ls "$d" | wc -l) seeds"
fi

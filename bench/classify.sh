#!/usr/bin/env bash
# Benchmarks the secdesk classifier against bogofilter, side by side in one run.
#
#  1. Splits ../shared/corpora/spamassassin into two halves by a hash of each file name,
#     trains secdesk (from an empty model) and bogofilter on one half, and scores the other
#     half with both: ROC AUC, FP and FN rates at each tool's default cut-offs, spam recall at
#     zero ham loss, and messages per second (wall clock of one process scoring every file,
#     start-up included).
#  2. Three-class results on ../shared/corpora/triage, 5-fold cross-validated: each fold is
#     scored by a model trained on all of spamassassin plus the other four folds.
#
# Usage: bench/classify.sh            (from anywhere; needs bogofilter, python3, cargo)
# The corpora are found relative to the repository root; nothing is written into the repo.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORPORA="${SECDESK_CORPORA:-$ROOT/../shared/corpora}"
SA="$CORPORA/spamassassin"
TRIAGE="$CORPORA/triage"
for d in "$SA/spam" "$SA/ham" "$TRIAGE/valid"; do
    [ -d "$d" ] || { echo "bench: $d not found: put the corpora in ../shared/corpora (see its README)" >&2; exit 1; }
done
command -v bogofilter >/dev/null || { echo "bench: bogofilter not installed (apt-get install bogofilter)" >&2; exit 1; }

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
SECDESK="$ROOT/target/release/secdesk"
# SECDESK_BENCH_WORK=DIR keeps the work folder (stores, splits) for a closer look.
if [ -n "${SECDESK_BENCH_WORK:-}" ]; then
    WORK="$SECDESK_BENCH_WORK"; rm -rf "$WORK"; mkdir -p "$WORK"
else
    WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
fi

# A config whose store lives in the work folder.
cat > "$WORK/config.toml" <<CFG
[store]
path = "$WORK/secdesk.db"
[identity]
name = "bench"
email = "bench@example.org"
CFG
sd() { "$SECDESK" --config "$WORK/config.toml" "$@"; }

# A stable hash of a file name (polynomial, modulo a prime small enough for awk's doubles
# to stay exact, so no tool outside POSIX is needed).
hash_split() { # $1 = modulus; reads names on stdin, prints "bucket<TAB>name"
    awk -v mod="$1" 'BEGIN { for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i }
        { h = 7; n = split($0, c, "")
          for (i = 1; i <= n; i++) h = (h * 131 + ord[c[i]]) % 1000000007
          printf "%d\t%s\n", h % mod, $0 }'
}

# 1. spamassassin halves ---------------------------------------------------------------
for label in spam ham; do
    mkdir -p "$WORK/sa/train/$label" "$WORK/sa/test/$label"
    (cd "$SA/$label" && ls) | hash_split 2 | while IFS=$'\t' read -r bucket name; do
        half=train; [ "$bucket" = 1 ] && half=test
        ln -s "$SA/$label/$name" "$WORK/sa/$half/$label/$name"
    done
done
TEST_FILES=("$WORK"/sa/test/spam/* "$WORK"/sa/test/ham/*)
echo "spamassassin: train $(ls "$WORK/sa/train/spam" | wc -l) spam + $(ls "$WORK/sa/train/ham" | wc -l) ham," \
     "test $(ls "$WORK/sa/test/spam" | wc -l) spam + $(ls "$WORK/sa/test/ham" | wc -l) ham"

sd train --empty "$WORK/sa/train" >/dev/null
start=$(date +%s.%N)
sd classify --json "${TEST_FILES[@]}" > "$WORK/secdesk.json"
end=$(date +%s.%N)
echo "$start $end" > "$WORK/secdesk.time"
# The same on one core: secdesk classifies on every core it may use, bogofilter on one.
if command -v taskset >/dev/null; then
    start=$(date +%s.%N)
    taskset -c 0 "$SECDESK" --config "$WORK/config.toml" classify --json "${TEST_FILES[@]}" > /dev/null
    end=$(date +%s.%N)
    echo "$start $end" > "$WORK/secdesk1.time"
fi

BOGO="bogofilter -C -d $WORK/bogo"
mkdir -p "$WORK/bogo"
$BOGO -s -B "$WORK"/sa/train/spam/*
$BOGO -n -B "$WORK"/sa/train/ham/*
start=$(date +%s.%N)
$BOGO -T -B "${TEST_FILES[@]}" > "$WORK/bogo.txt" || true   # exit status 0/1/2 = spam/ham/unsure
end=$(date +%s.%N)
echo "$start $end" > "$WORK/bogo.time"

# 2. triage, 5-fold ----------------------------------------------------------------------
for label in spam invalid valid; do
    (cd "$TRIAGE/$label" && ls) | hash_split 5 | while IFS=$'\t' read -r fold name; do
        for k in 0 1 2 3 4; do
            part=train; [ "$fold" = "$k" ] && part=test
            mkdir -p "$WORK/cv$k/$part/$label"
            ln -s "$TRIAGE/$label/$name" "$WORK/cv$k/$part/$label/$name"
        done
    done
done
: > "$WORK/triage.tsv"
for k in 0 1 2 3 4; do
    [ -d "$WORK/cv$k/test" ] || continue
    sd train --empty "$SA" "$WORK/cv$k/train" >/dev/null
    sd classify --json "$WORK"/cv$k/test/*/* > "$WORK/cv$k.json"
    python3 - "$WORK/cv$k.json" >> "$WORK/triage.tsv" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["file"].split("/")[-2], r["class"], r["outcome"], r["spam_score"], sep="\t")
PY
done

# Report ---------------------------------------------------------------------------------
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]

def auc(pos, neg):
    allv = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        rank_sum += (i + 1 + j) / 2 * sum(p for _, p in allv[i:j])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))

def seconds(name):
    a, b = open(f"{work}/{name}.time").read().split()
    return float(b) - float(a)

def figures(rows, secs):  # rows: (is_spam, outcome in spam|unsure|ham, score)
    pos = [s for y, _, s in rows if y]
    neg = [s for y, _, s in rows if not y]
    fp = sum(1 for y, o, _ in rows if not y and o == "spam")
    fn = sum(1 for y, o, _ in rows if y and o != "spam")
    unsure_spam = sum(1 for y, o, _ in rows if y and o == "unsure")
    unsure_ham = sum(1 for y, o, _ in rows if not y and o == "unsure")
    return {
        "ROC AUC": f"{auc(pos, neg):.4f}",
        "ham as spam (FP)": f"{fp}/{len(neg)} = {100*fp/len(neg):.2f}%",
        "spam not caught (FN)": f"{fn}/{len(pos)} = {100*fn/len(pos):.2f}%",
        "  of which unsure": f"{unsure_spam} spam, {unsure_ham} ham",
        "spam recall at zero ham loss": f"{100*sum(1 for s in pos if s > max(neg))/len(pos):.2f}%",
        "messages/second": f"{len(rows)/secs:.0f}",
    }

sd = [("/spam/" in r["file"], r["outcome"], r["spam_score"]) for r in json.load(open(f"{work}/secdesk.json"))]
bogo = []
for line in open(f"{work}/bogo.txt"):
    path, verdict, score = line.split()
    outcome = {"S": "spam", "H": "ham", "U": "unsure"}[verdict]
    bogo.append(("/spam/" in path, outcome, float(score)))
import os
a, b = figures(sd, seconds("secdesk")), figures(bogo, seconds("bogo"))
a["messages/second"] += f" ({os.cpu_count()} cores)"
b["messages/second"] += " (1 core)"
if os.path.exists(f"{work}/secdesk1.time"):
    a["messages/second, one core"] = f"{len(sd)/seconds('secdesk1'):.0f}"
    b["messages/second, one core"] = b["messages/second"].split()[0]
print("\n## spamassassin, half/half split by file-name hash")
print(f"| {'':30} | {'secdesk':>24} | {'bogofilter 1.2.5':>24} |")
print(f"| {'-'*30} | {'-'*24}:| {'-'*24}:|")
for k in a:
    print(f"| {k:30} | {a[k]:>24} | {b[k]:>24} |")
print("secdesk cut-offs: ham < 0.20, spam >= 0.90; bogofilter defaults: ham < 0.45, spam >= 0.99")

rows = [l.rstrip("\n").split("\t") for l in open(f"{work}/triage.tsv")]
classes = ["spam", "invalid", "valid"]
print(f"\n## triage, 5-fold cross-validation ({len(rows)} messages)")
print("confusion (rows: label, columns: predicted class)")
print(f"| {'':8} | " + " | ".join(f"{c:>7}" for c in classes) + " |")
print(f"| {'-'*8} | " + " | ".join("-"*6 + ":" for _ in classes) + " |")
for t in classes:
    print(f"| {t:8} | " + " | ".join(f"{sum(1 for r in rows if r[0]==t and r[1]==p):>7}" for p in classes) + " |")
print(f"\n| {'class':8} | precision | recall |    F1 |")
print(f"| {'-'*8} | --------: | -----: | ----: |")
for c in classes:
    tp = sum(1 for r in rows if r[0] == c and r[1] == c)
    pred = sum(1 for r in rows if r[1] == c)
    sup = sum(1 for r in rows if r[0] == c)
    p = tp / pred if pred else 0.0
    rc = tp / sup if sup else 0.0
    f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
    print(f"| {c:8} | {p:9.3f} | {rc:6.3f} | {f1:5.3f} |")
vs = sum(1 for r in rows if r[0] == "valid" and r[1] == "spam")
unsure = sum(1 for r in rows if r[2] == "unsure")
print(f"\nvalid reports classified spam: {vs}; messages left unsure: {unsure}")
PY

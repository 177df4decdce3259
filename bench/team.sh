#!/usr/bin/env bash
# Team fold benchmark (docs/team.md): 10,000 team events from 10 desks folded into a store
# of 10,000 reports, as `secdesk sync` folds the events folder (windows of 1,000 events, one
# transaction each). Prints the fold's wall time, events per second, conflicts found and
# peak RSS (from getrusage, and /usr/bin/time for the whole process).
#
# Usage: bench/team.sh [REPORTS] [EVENTS] [DESKS]     (defaults 10000 10000 10)
# Needs only cargo; no server (the IMAP side's no-change sync times are printed by
# `cargo test --test team a_sync_with_nothing_new -- --nocapture`).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/secdesk-team-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "building the benchmark (release)..." >&2
(cd "$root" && cargo build --release --quiet --example team_bench)
bin="$root/target/release/examples/team_bench"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f "process: %e s wall, %U s user, %S s system CPU, %M KB max RSS" "$bin" "$work/team.db" "$@"
else
    "$bin" "$work/team.db" "$@"
fi

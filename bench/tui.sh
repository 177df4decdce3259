#!/bin/sh
# The desk's benchmark: 100,000 generated reports; time to first frame, key-to-frame latency
# while scrolling, filtering and searching, and peak RSS. Targets: first frame < 300 ms,
# median key-to-frame < 16 ms, search < 50 ms, peak RSS < 200 MB.
# Usage: bench/tui.sh [N]   (figures go to stdout; record them under "## TUI" in docs/benchmarks.md)
set -eu
n="${1:-100000}"
cd "$(dirname "$0")/.."
cargo build --release --example tui_bench
bin=target/release/examples/tui_bench
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$bin" generate "$dir/bench.db" "$n"
"$bin" run "$dir/bench.db"

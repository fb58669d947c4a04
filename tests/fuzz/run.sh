#!/bin/sh
# tests/fuzz/run.sh TARGET SECONDS - runs one libFuzzer target for a bounded
# time from its seed corpus (tests/fuzz/corpus/<name>/, read-only: new inputs
# go to a scratch directory).  Exits non-zero on any finding.
set -eu
target=$1
seconds=$2
name=$(basename "$target" | sed 's/^fuzz-//')
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
seeds="$here/corpus/$name"
[ -d "$seeds" ] || seeds=""
# -rss_limit_mb: inputs must not make the parsers allocate without bound.
"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$work/" "$work" $seeds

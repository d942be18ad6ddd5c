#!/usr/bin/env bash
# Fuzzes the archive readers with libFuzzer: the seekable reader (ArchiveReader over
# an archive in memory, every entry read and a restore planned), the sequential
# reader (verify --deep), and the header and table-of-contents JSON. The target is
# the separate package Tests/Fuzz, built with -sanitize=fuzzer,address into
# .build-fuzz, so the normal build never sees the sanitizers.
#
#   scripts/fuzz.sh                          100,000 runs, at most 10 minutes
#   scripts/fuzz.sh --runs 0 --time 1800     half an hour, however many runs
#   scripts/fuzz.sh --seal a.sql.zst...      add real exports to the seed corpus
#
# Seeds live in Tests/Fuzz/corpus (see Tests/Fuzz/README.md); inputs the fuzzer
# finds interesting go to .build-fuzz/corpus, crashes to .build-fuzz/findings. Exits
# 1 when it found something (the input's path is printed), 0 otherwise.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd -- "$script_dir/.."
lib_prog=fuzz.sh
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

runs=100000
max_time=600
seal=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --time) max_time=${2:?--time needs seconds}; shift 2 ;;
    --seal) shift; seal=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done
case $runs$max_time in *[!0-9]*) die "--runs and --time take whole numbers" ;; esac

ensure_swift
scratch=$PWD/.build-fuzz
info "building the fuzzer (-sanitize=fuzzer,address) in $scratch"
mkdir -p "$scratch"
if ! swift build --package-path Tests/Fuzz --scratch-path "$scratch" -c debug \
  -Xswiftc -sanitize=fuzzer,address >"$scratch/build.log" 2>&1; then
  grep -v 'warning: Cannot export local symbol' "$scratch/build.log" | tail -40 >&2
  die "the fuzzer did not build (it needs a toolchain with libFuzzer: swift.org's Linux toolchains have it)"
fi
fuzzer=$(swift build --package-path Tests/Fuzz --scratch-path "$scratch" -c debug --show-bin-path)/ArchiveFuzzer
[ -x "$fuzzer" ] || die "the build made no $fuzzer"

if [ ${#seal[@]} -gt 0 ]; then
  pairs=""
  for archive in "${seal[@]}"; do
    name=$(basename -- "$archive")
    pairs+="${pairs:+,}$archive=Tests/Fuzz/corpus/${name%.sql.zst}.seal"
  done
  PGCELLAR_FUZZ_SEAL=$pairs "$fuzzer"
  exit
fi

mkdir -p "$scratch/corpus" "$scratch/findings"
log=$scratch/fuzz.log
marker=$scratch/.fuzz-started
touch "$marker"
info "fuzzing: at most $runs runs (0: no limit) and $max_time s; log in $log"
started=$(date +%s)
status=0
# New interesting inputs go to the first directory; the seeds are only read.
# detect_leaks=0: the Swift runtime's caches read as leaks at exit.
ASAN_OPTIONS=detect_leaks=0:${ASAN_OPTIONS:-} "$fuzzer" "$scratch/corpus" Tests/Fuzz/corpus \
  -runs="$([ "$runs" -eq 0 ] && echo -1 || echo "$runs")" -max_total_time="$max_time" -timeout=20 -rss_limit_mb=3072 -malloc_limit_mb=768 -max_len=65536 \
  -dict=Tests/Fuzz/archive.dict -artifact_prefix="$scratch/findings/" -print_final_stats=1 >"$log" 2>&1 || status=$?
elapsed=$(( $(date +%s) - started ))
done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
found=$(find "$scratch/findings" -type f -newer "$marker" | head -1)
if [ "$status" -ne 0 ] || [ -n "$found" ]; then
  grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*: Fatal error)' "$log" | head -5 >&2 || true
  info "FOUND a crash after ${done_runs:-?} runs in ${elapsed}s: ${found:-see $log}"
  info "reproduce with: $fuzzer ${found:-<the input>}"
  exit 1
fi
info "ran ${done_runs:-?} inputs in ${elapsed}s; nothing found"

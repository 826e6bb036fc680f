#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS_PER_TARGET (default 60) seconds, one after
# another, under `nice -n 10`, and prints each target's exec count and whether it crashed.
#   bash fuzz/run.sh [SECONDS_PER_TARGET]
#   FUZZ_TARGETS="snapshot delta" bash fuzz/run.sh 600     # a subset
# The checked-in seeds (fuzz/corpus/<target>/) are only read; inputs the fuzzer finds go to
# fuzz/work/<target>/ and crashes to fuzz/artifacts/<target>/ (both git-ignored).
# Exits non-zero if any target crashed.
set -u
cd "$(dirname "$0")"
secs=${1:-60}
targets=${FUZZ_TARGETS:-snapshot delta message schema}
mkdir -p logs
nice -n 10 cargo +nightly fuzz build -O >logs/build.log 2>&1 || { tail -30 logs/build.log; echo "fuzz build failed"; exit 2; }
status=0
summary=""
for t in $targets; do
  mkdir -p "work/$t" "artifacts/$t"
  before=$(ls "artifacts/$t" | wc -l)
  nice -n 10 cargo +nightly fuzz run -O "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"logs/$t.log" 2>&1
  rc=$?
  runs=$(grep -o 'Done [0-9]* runs' "logs/$t.log" | grep -o '[0-9]*' | tail -1)
  [ -n "$runs" ] || runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  after=$(ls "artifacts/$t" | wc -l)
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    verdict="CRASHED (exit $rc; see logs/$t.log and artifacts/$t/)"
    status=1
  else
    verdict="no crash"
  fi
  line="$t: ${runs:-?} execs in ${secs} s, $verdict"
  echo "$line"
  summary="$summary$line"$'\n'
done
echo "---- fuzz summary ($secs s per target) ----"
printf '%s' "$summary"
exit $status

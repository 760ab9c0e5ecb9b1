#!/usr/bin/env bash
# Smoke test of the gorun comparison binary, for the main crate's CI: builds
# only the gorun-bench package (gorun + bench-common, no tokio/smol/Go), runs
# every workload and matrix cell with --quick and checks the exit status and
# the output line `<workload> gorun <value|n/a> <unit>`. A workload whose
# gorun primitive is not in yet prints n/a and passes.
#
# usage: smoke.sh [extra cargo args, e.g. --features all]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

cargo build --release --quiet -p gorun-bench "$@"
bin="${CARGO_TARGET_DIR:-target}/release/gorun"

workloads=(spawn_join parked_memory pingpong mpmc pipeline select4 timers ctx_cancel tcp_echo steal hog_latency)
for kind in seq spsc mpsc mpmc select_rx select_both; do
    for cap in 0 1 1000; do
        workloads+=("chan_${kind}_${cap}")
    done
done

unit_of() {
    case "$1" in
        spawn_join) echo ns/task ;;
        parked_memory) echo bytes/task ;;
        pingpong) echo ns/roundtrip ;;
        mpmc|chan_*) echo ns/msg ;;
        pipeline) echo ns/item ;;
        select4) echo ns/select ;;
        timers|hog_latency) echo ms ;;
        ctx_cancel) echo us ;;
        tcp_echo) echo round_trips_per_sec ;;
        steal) echo percent ;;
    esac
}

errfile="$(mktemp)"
trap 'rm -f "$errfile"' EXIT
failed=0
measured=0
na=0
for w in "${workloads[@]}"; do
    unit="$(unit_of "$w")"
    rc=0
    out="$(timeout 60 "$bin" "$w" --quick 2>"$errfile")" || rc=$?
    if [[ $rc != 0 ]]; then
        echo "FAIL $w: exit status $rc"
        sed 's/^/    /' "$errfile"
        failed=$((failed + 1))
        continue
    fi
    if [[ ! "$out" =~ ^$w\ gorun\ (n/a|-?[0-9]+\.[0-9][0-9])\ ([^ ]+)$ ]] || [[ "${BASH_REMATCH[2]}" != "$unit" ]]; then
        echo "FAIL $w: bad output line: $out (want: $w gorun <value|n/a> $unit)"
        sed 's/^/    /' "$errfile"
        failed=$((failed + 1))
        continue
    fi
    if [[ "${BASH_REMATCH[1]}" == n/a ]]; then
        na=$((na + 1))
        echo "ok   $out  ($(grep -m1 'n/a' "$errfile" | sed "s/^$w gorun: n\/a: //"))"
    else
        measured=$((measured + 1))
        echo "ok   $out"
    fi
done

# An unknown workload must exit with status 2.
rc=0
"$bin" no_such_workload >/dev/null 2>&1 || rc=$?
if [[ $rc != 2 ]]; then
    echo "FAIL unknown workload: exit status $rc, want 2"
    failed=$((failed + 1))
fi

echo "smoke: ${#workloads[@]} workloads, $measured measured, $na n/a, $failed failed"
[[ $failed == 0 ]]

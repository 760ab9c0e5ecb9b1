#!/usr/bin/env bash
# Cross-language comparison: Go, tokio, smol and gorun on the workloads of
# WORKLOADS.md (and, optionally, the channel matrix). See README.md.
#
# usage: run.sh [--matrix | --no-matrix] [--runs N] [--quick] [--no-build] [WORKLOAD|all|matrix] [IMPL]
#   WORKLOAD  one workload name (e.g. pingpong, chan_spsc_0), `all` (default:
#             the 11 workloads and the channel matrix; --no-matrix: the 11
#             workloads only) or `matrix` (the matrix only)
#   IMPL      go | tokio | smol | gorun (default: all four)
#   --runs N  runs per workload and implementation (default 5)
#   --quick   pass --quick to the binaries (small sizes; a smoke test of the harness)
#   --no-build  use the binaries already in target/release
# Output: results/runs.tsv, results/runs.log, results/medians.md
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

WORKLOADS=(spawn_join parked_memory pingpong mpmc pipeline select4 timers ctx_cancel tcp_echo steal hog_latency)
MATRIX=()
for kind in seq spsc mpsc mpmc select_rx select_both; do
    for cap in 0 1 1000; do
        MATRIX+=("chan_${kind}_${cap}")
    done
done
ALL_IMPLS=(go tokio smol gorun)
PER_RUN_TIMEOUT=120

with_matrix=1
build=1
runs=5
quick=()
positional=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --matrix) with_matrix=1 ;;
        --no-matrix) with_matrix=0 ;;
        --runs) runs="$2"; shift ;;
        --quick) quick=(--quick) ;;
        --no-build) build=0 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) positional+=("$1") ;;
    esac
    shift
done
sel_workload="${positional[0]:-all}"
sel_impl="${positional[1]:-}"

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
        *) return 1 ;;
    esac
}

higher_is_better() {
    [[ "$1" == tcp_echo || "$1" == steal ]]
}

# ---- what to run
case "$sel_workload" in
    all)
        workloads=("${WORKLOADS[@]}")
        if [[ $with_matrix == 1 ]]; then workloads+=("${MATRIX[@]}"); fi ;;
    matrix) workloads=("${MATRIX[@]}") ;;
    *)
        if ! unit_of "$sel_workload" >/dev/null; then
            echo "run.sh: unknown workload $sel_workload" >&2; exit 2
        fi
        workloads=("$sel_workload") ;;
esac
if [[ -n "$sel_impl" ]]; then
    case "$sel_impl" in go|tokio|smol|gorun) impls=("$sel_impl") ;;
        *) echo "run.sh: unknown implementation $sel_impl (go, tokio, smol, gorun)" >&2; exit 2 ;;
    esac
else
    impls=("${ALL_IMPLS[@]}")
fi

# ---- find Go: on PATH, else the newest /usr/lib/go-*/bin/go
find_go() {
    if command -v go >/dev/null 2>&1; then
        command -v go
        return 0
    fi
    local g
    g="$(ls -d /usr/lib/go-*/bin/go 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$g" && -x "$g" ]]; then
        echo "$g"
        return 0
    fi
    return 1
}

t_start=$(date +%s)
have_go=0
need_go=0
for i in "${impls[@]}"; do [[ $i == go ]] && need_go=1; done
if [[ $need_go == 1 ]]; then
    if gobin="$(find_go)"; then
        have_go=1
        echo "== Go: $gobin ($("$gobin" version))"
    else
        echo "== Go not found (neither on PATH nor under /usr/lib/go-*/bin): skipping the go implementation." >&2
        echo "   On Debian bookworm: add bookworm-backports and apt-get install golang-1.23-go (see README.md)." >&2
    fi
fi

# ---- build
[[ $build == 1 ]] && echo "== building (release)"
rust_pkgs=()
for i in "${impls[@]}"; do
    case "$i" in
        tokio) rust_pkgs+=(-p tokio-bench) ;;
        smol) rust_pkgs+=(-p smol-bench) ;;
    esac
done
if [[ $build == 1 && ${#rust_pkgs[@]} -gt 0 ]]; then
    cargo build --release --quiet "${rust_pkgs[@]}"
fi
# gorun is under construction: if it does not build, say so and run the peers.
gorun_built=1
if [[ $build == 1 && " ${impls[*]} " == *" gorun "* ]]; then
    if ! cargo build --release --quiet -p gorun-bench; then
        gorun_built=0
        echo "== gorun-bench does not build (see above): skipping the gorun implementation." >&2
    fi
fi
mkdir -p target/release
if [[ $build == 1 && $have_go == 1 ]]; then
    (cd go && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false "$gobin" build -o ../target/release/gobench .)
fi

bin_of() {
    case "$1" in
        go) echo target/release/gobench ;;
        *) echo "target/release/$1" ;;
    esac
}

# ---- run
mkdir -p results
tsv=results/runs.tsv
log=results/runs.log
printf 'round\tworkload\timpl\tvalue\tunit\tstatus\twall_s\n' >"$tsv"
: >"$log"
{
    echo "# run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) runs=$runs ${quick[*]:-}"
    echo "# host: $(uname -srm), $(nproc) CPUs"
} >>"$log"

errfile="$(mktemp)"
outfile="$(mktemp)"
trap 'rm -f "$errfile" "$outfile"' EXIT

for w in "${workloads[@]}"; do
    unit="$(unit_of "$w")"
    echo "== $w ($unit)"
    for ((r = 1; r <= runs; r++)); do
        line_out=""
        for impl in "${impls[@]}"; do
            if [[ $impl == go && $have_go == 0 ]]; then
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$w" "$impl" "-" "$unit" "no-go" "0" >>"$tsv"
                line_out+=" go=no-go"
                continue
            fi
            if [[ $impl == gorun && $gorun_built == 0 ]]; then
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$w" "$impl" "-" "$unit" "build-failed" "0" >>"$tsv"
                line_out+=" gorun=build-failed"
                continue
            fi
            bin="$(bin_of "$impl")"
            t0=$(date +%s.%N)
            rc=0
            timeout "$PER_RUN_TIMEOUT" "$bin" "$w" "${quick[@]}" >"$outfile" 2>"$errfile" || rc=$?
            t1=$(date +%s.%N)
            wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
            out="$(cat "$outfile")"
            value="-"
            status="ok"
            if [[ $rc == 124 ]]; then
                status="timeout"
            elif [[ $rc != 0 ]]; then
                status="fail(rc=$rc)"
            elif [[ "$out" =~ ^$w\ $impl\ (n/a|-?[0-9]+\.[0-9][0-9])\ ([^ ]+)$ ]]; then
                value="${BASH_REMATCH[1]}"
                if [[ "${BASH_REMATCH[2]}" != "$unit" ]]; then
                    status="bad-unit"
                    value="-"
                elif [[ $value == n/a ]]; then
                    if grep -q 'not yet' "$errfile"; then status="not-yet"; else status="n/a"; fi
                fi
            else
                status="bad-output"
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$w" "$impl" "$value" "$unit" "$status" "$wall" >>"$tsv"
            {
                echo "--- round=$r workload=$w impl=$impl rc=$rc status=$status wall_s=$wall"
                echo "stdout: $out"
                sed 's/^/stderr: /' "$errfile"
            } >>"$log"
            if [[ $status == ok ]]; then line_out+=" $impl=$value"; else line_out+=" $impl=$status"; fi
        done
        echo "   round $r:$line_out"
    done
done

# ---- medians
md=results/medians.md
median_of() { # values on stdin, one per line -> median
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
cell_of() { # workload impl -> median, or the status when no run gave a value
    local w="$1" impl="$2" vals st
    vals="$(awk -F'\t' -v w="$w" -v i="$impl" '$2 == w && $3 == i && $6 == "ok" { print $4 }' "$tsv")"
    if [[ -n "$vals" ]]; then
        local n_bad
        n_bad="$(awk -F'\t' -v w="$w" -v i="$impl" '$2 == w && $3 == i && $6 != "ok" { c++ } END { print c + 0 }' "$tsv")"
        if [[ $n_bad != 0 ]]; then
            echo "$(median_of <<<"$vals") ($n_bad failed)"
        else
            median_of <<<"$vals"
        fi
        return
    fi
    st="$(awk -F'\t' -v w="$w" -v i="$impl" '$2 == w && $3 == i { print $6 }' "$tsv" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')"
    case "$st" in
        "") echo "—" ;;
        not-yet) echo "not yet" ;;
        *) echo "$st" ;;
    esac
}
is_num() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; }

{
    echo "# gorun vs Go, tokio, smol — medians of $runs runs"
    echo
    echo "Generated by \`run.sh\` on $(date -u +%Y-%m-%d) ($(uname -m), $(nproc) CPUs)${quick:+, **--quick sizes**}."
    echo "Ratio = gorun / best peer for lower-is-better units, best peer / gorun for"
    echo "higher-is-better ones (tcp_echo, steal): 1.00 is on par with the best of"
    echo "Go, tokio and smol, above 1 is that many times worse, below 1 is better."
    echo
    echo "| workload | unit | go | tokio | smol | gorun | gorun / best peer |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for w in "${workloads[@]}"; do
        unit="$(unit_of "$w")"
        declare -A cell=()
        for impl in "${ALL_IMPLS[@]}"; do
            if [[ " ${impls[*]} " == *" $impl "* ]]; then
                cell[$impl]="$(cell_of "$w" "$impl")"
            else
                cell[$impl]="—"
            fi
        done
        best=""
        best_impl=""
        for impl in go tokio smol; do
            v="${cell[$impl]%% *}"
            is_num "$v" || continue
            if [[ -z "$best" ]] ||
                { higher_is_better "$w" && awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'; } ||
                { ! higher_is_better "$w" && awk -v a="$v" -v b="$best" 'BEGIN { exit !(a < b) }'; }; then
                best="$v"
                best_impl="$impl"
            fi
        done
        g="${cell[gorun]%% *}"
        ratio="—"
        if is_num "$g" && [[ -n "$best" ]]; then
            if higher_is_better "$w"; then
                ratio="$(awk -v g="$g" -v b="$best" 'BEGIN { if (g > 0) printf "%.2f", b / g; else print "—" }')"
            else
                ratio="$(awk -v g="$g" -v b="$best" 'BEGIN { if (b > 0) printf "%.2f", g / b; else print "—" }')"
            fi
            [[ $ratio != "—" ]] && ratio="$ratio (vs $best_impl)"
        fi
        echo "| $w | $unit | ${cell[go]} | ${cell[tokio]} | ${cell[smol]} | ${cell[gorun]} | $ratio |"
        unset cell
    done
    echo
    echo "Per-run values: \`results/runs.tsv\`; stderr diagnostics of every run: \`results/runs.log\`."
} >"$md"

t_end=$(date +%s)
echo "== done in $((t_end - t_start)) s: $tsv, $log, $md"
cat "$md"

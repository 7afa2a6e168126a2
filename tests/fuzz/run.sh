#!/bin/bash
# Run libFuzzer harnesses for a fixed time and report what each reached.
#
#   tests/fuzz/run.sh FUZZ_DIR SECONDS JOBS NAME...
#
# FUZZ_DIR holds the binaries fuzz_NAME (from `make fuzz`); each harness
# grows FUZZ_DIR/corpus/NAME, also reads tests/fuzz/seeds/NAME and uses the
# dictionary tests/fuzz/NAME.dict (json.dict for the JSON parsers) when they
# exist, and writes any crash, leak or timeout input to
# FUZZ_DIR/artifacts/NAME/. Up to JOBS harnesses run at
# once (each is single-threaded). Prints one line per harness; exits 1 when
# any harness found something (the input is kept and named).
set -u
dir=$1
secs=$2
jobs_max=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)

# Longest input tried: a page of a few dozen messages for the JSON parsers
# (the hostile sample's 64 KiB message fits); a long message for the
# renderer; a percent-encoded 240-byte slug for names.
max_len() {
	case $1 in
	conversation | v2) echo 81920 ;;
	inbox) echo 65536 ;;
	error | render) echo 8192 ;;
	*) echo 2048 ;;
	esac
}

# JSON parsers share one dictionary of the API's keys and values.
dict_for() {
	case $1 in
	conversation | inbox | error | v2) echo "$here/json.dict" ;;
	*) echo "$here/$1.dict" ;;
	esac
}

run_one() {
	local name=$1 corpus=$dir/corpus/$1 art=$dir/artifacts/$1/
	local args=(-max_total_time="$secs" -max_len="$(max_len "$name")"
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$art")

	mkdir -p "$corpus" "$art"
	[ -f "$(dict_for "$name")" ] && args+=(-dict="$(dict_for "$name")")
	local dirs=("$corpus")
	[ -d "$here/seeds/$name" ] && dirs+=("$here/seeds/$name")
	"$dir/fuzz_$name" "${args[@]}" "${dirs[@]}" >"$dir/$name.log" 2>&1
	echo $? >"$dir/$name.rc"
}

report() {
	local name=$1 log=$dir/$1.log rc last execs rate cov ft
	rc=$(cat "$dir/$name.rc" 2>/dev/null || echo 1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	printf 'fuzz_%-13s execs: %s  exec/s: %s  cov: %s  ft: %s  ' "$name" \
		"${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}"
	if [ "$rc" = 0 ]; then
		echo "findings: none"
		return 0
	fi
	echo "FINDING (exit $rc), log: $log"
	grep -E 'ERROR: |SUMMARY: |property violated|Test unit written|ALARM' \
		"$log" | sed 's/^/    /' | head -n 20
	return 1
}

for name in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	rm -f "$dir/$name.rc"
	echo "fuzz_$name: running for ${secs}s"
	run_one "$name" &
done
wait

status=0
for name in "$@"; do
	report "$name" || status=1
done
exit $status

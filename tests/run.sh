#!/usr/bin/env bash
# Runs keel's tests and ends with one line "N passed, N failed".
#   tests/run.sh unit|fuzz|system|all BUILD
# Unit tests are cmocka programs (TAP output); fuzz targets are libFuzzer
# programs, one TAP line each; system tests are the scripts in
# tests/system/, which print TAP lines too. Everything a test prints is
# kept in BUILD/test-logs/.
set -uo pipefail

what=$1 build=$2
logs="$build/test-logs"
rm -rf "$logs"
mkdir -p "$logs"
passed=0 failed=0

# count TAP results of one program's output; a program that died without
# reporting a failure counts as one failure
tally() {
	local name=$1 status=$2 file=$3 ok notok
	ok=$(grep -cE '^ok ' "$file")
	notok=$(grep -cE '^not ok ' "$file")
	if [ "$status" -ne 0 ] && [ "$notok" -eq 0 ]; then
		echo "not ok - $name exited with status $status" | tee -a "$file"
		notok=1
	fi
	if [ $((ok + notok)) -eq 0 ]; then
		echo "not ok - $name reported no result" | tee -a "$file"
		notok=1
	fi
	grep -E '^not ok ' "$file" | sed "s|^|$name: |"
	echo "$name: $ok passed, $notok failed"
	passed=$((passed + ok))
	failed=$((failed + notok))
}

run_unit() {
	local t name args
	for t in "$build"/unit/test_*; do
		name=unit/$(basename "$t")
		args=()
		[ "$(basename "$t")" = test_config ] && args=(tests/unit/configs "$build/unit/configs")
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" "${args[@]}" >"$logs/$(basename "$t").log" 2>&1
		tally "$name" $? "$logs/$(basename "$t").log"
	done
}

# each libFuzzer target BUILD/fuzz/fuzz_NAME for FUZZ_SECONDS (default 60)
# on a copy of its seed corpus tests/fuzz/corpus/NAME/, so that the
# repository's stays as committed; a crash leaves its input in
# BUILD/fuzz/NAME/crashes/
run_fuzz() {
	local f name work log status secs=${FUZZ_SECONDS:-60}
	for f in "$build"/fuzz/fuzz_*; do
		name=${f##*/fuzz_}
		work=$build/fuzz/$name
		log=$logs/fuzz_$name.log
		rm -rf "$work"
		mkdir -p "$work/corpus" "$work/crashes"
		cp tests/fuzz/corpus/"$name"/* "$work/corpus/"
		"$f" -max_total_time="$secs" -timeout=5 -print_final_stats=1 \
			-artifact_prefix="$work/crashes/" "$work/corpus" >"$log" 2>&1
		status=$?
		if [ "$status" -eq 0 ]; then
			echo "ok - fuzz_$name: $secs s, $(sed -n 's/^stat::number_of_executed_units: //p' "$log") runs" \
				"($(sed -n "s/^stat::average_exec_per_sec: *//p" "$log")/s)," \
				"corpus $(find tests/fuzz/corpus/"$name" -type f | wc -l) -> $(find "$work/corpus" -type f | wc -l) inputs, no crash" >>"$log"
		else
			echo "not ok - fuzz_$name: exit status $status, input in $work/crashes/" >>"$log"
		fi
		tally "fuzz/$name" "$status" "$log"
	done
}

# the emulators the running tests hold: BUSY (a test's own count is its
# line "# emulators: N", default 1)
declare -A emulators
busy() {
	local pid
	BUSY=0
	for pid in $(jobs -rp); do BUSY=$((BUSY + ${emulators[$pid]:-1})); done
}

run_system() {
	local s name n pids=() names=()
	# Bochs runs take minutes: start them in the background, one per core
	for s in tests/system/*.sh; do
		name=$(basename "$s" .sh)
		n=$(sed -n 's/^# emulators: \([0-9][0-9]*\)$/\1/p' "$s" | head -n 1)
		n=${n:-1}
		# keep at most JOBS (two) emulators running; a test of more runs
		# alone
		while busy; [ "$BUSY" -gt 0 ] && [ $((BUSY + n)) -gt "${JOBS:-2}" ]; do sleep 1; done
		BUILD=$build LOGDIR="$logs/$name" bash "$s" >"$logs/$name.log" 2>&1 &
		pids+=($!)
		emulators[$!]=$n
		names+=("$name")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		tally "system/${names[$i]}" $? "$logs/${names[$i]}.log"
	done
}

case $what in
unit) run_unit ;;
fuzz) run_fuzz ;;
system) run_system ;;
all) run_unit; run_fuzz; run_system ;;
*) echo "usage: tests/run.sh unit|fuzz|system|all BUILD" >&2; exit 2 ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

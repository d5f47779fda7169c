#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Run the test guests under vmm and check exit status and console output.
#
#   guest-tests/run.sh [VMM [GUESTDIR]]
#
#   VMM        vmm binary (default: $VMM, else build/vmm)
#   GUESTDIR   built guests (default: $GUESTDIR, else build/guest-tests)
#
# Environment:
#   VMM_SAN=path   also run every case under this (sanitizer) vmm build
#   TESTS=list     run only these cases (names, space separated; globs ok)
#   TIMEOUT=s      per-case timeout (default 60: every guest instruction is
#                  emulated on PVM hosts)
#   LIST=file      the case table (default: tests.list beside this script)
#
# Prints "PASS name (Xs)" or "FAIL name: why" (with the guest's output) per
# case and finally "guest-tests: N passed, M failed"; exits 1 if any failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
vmm=${1:-${VMM:-build/vmm}}
dir=${2:-${GUESTDIR:-build/guest-tests}}
list=${LIST:-$here/tests.list}
tmo=${TIMEOUT:-60}
only=${TESTS:-}

if [ ! -x "$vmm" ] && ! command -v "$vmm" >/dev/null 2>&1; then
	echo "run.sh: vmm binary '$vmm' not found or not executable" >&2
	exit 2
fi
if [ ! -d "$dir" ]; then
	echo "run.sh: guest directory '$dir' not found (make guest-tests)" >&2
	exit 2
fi
dir=$(cd "$dir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/guest-tests.XXXXXX") || exit 4
trap 'rm -rf "$work"' EXIT
seq 1 1000 >"$work/seq1000.txt"

pass=0
failn=0
trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

selected() {
	local n=$1 pat
	[ -z "$only" ] && return 0
	for pat in $only; do
		# shellcheck disable=SC2053
		[[ $n == $pat ]] && return 0
	done
	return 1
}

# run_case LABEL VMMBIN GUEST STATUS STDIN EXPECT ARGS
run_case() {
	local label=$1 bin=$2 guest=$3 want=$4 input=$5 expect=$6 args=$7
	local out="$work/$label.out" err="$work/$label.err" why="" st t0 t1 secs
	local -a argv

	args=${args//@DIR@/$dir}
	args=${args//@WORK@/$work}
	args=${args//@DATE@/$(date -u +%F)}
	args=${args//@DATE2@/$(date -u -d '+10 min' +%F)}
	if ! eval "argv=($args)"; then
		echo "FAIL $label: bad argument list in $list"
		failn=$((failn + 1))
		return
	fi
	argv=(--kernel "$dir/$guest" "${argv[@]}")
	case " ${argv[*]} " in
	*" --console "*) ;;
	*) argv+=(--console stdio) ;;
	esac

	t0=$(date +%s.%N)
	if [ "$input" = "-" ]; then
		timeout -k 5 "$tmo" "$bin" "${argv[@]}" </dev/null >"$out" 2>"$err"
	else
		# shellcheck disable=SC2059
		printf "$input" | timeout -k 5 "$tmo" "$bin" "${argv[@]}" >"$out" 2>"$err"
	fi
	st=$?
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

	if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
		why="timed out after ${tmo}s"
	elif [ "$st" -ne "$want" ]; then
		why="exit status $st, expected $want"
	fi
	if [ -z "$why" ]; then
		local e
		local -a parts
		IFS=';' read -r -a parts <<<"$expect"
		for e in "${parts[@]}"; do
			e=$(trim "$e")
			[ -z "$e" ] && continue
			if ! grep -qF -- "$e" "$out"; then
				why="output lacks \"$e\""
				break
			fi
		done
	fi
	if [ -z "$why" ] && grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$err"; then
		why="sanitizer report on stderr"
	fi
	if [ -z "$why" ] && [[ $expect != *FAIL* ]] && grep -q '^FAIL' "$out"; then
		why="guest reported FAIL"
	fi

	if [ -z "$why" ]; then
		echo "PASS $label (${secs}s)"
		pass=$((pass + 1))
	else
		echo "FAIL $label: $why (${secs}s)"
		echo "  command:$(printf ' %q' "$bin" "${argv[@]}")"
		echo "  --- guest output ---"
		sed 's/^/  | /' "$out" | tail -n 40
		if [ -s "$err" ]; then
			echo "  --- vmm stderr ---"
			sed 's/^/  | /' "$err" | tail -n 40
		fi
		failn=$((failn + 1))
	fi
}

while IFS='|' read -r name guest status input expect args; do
	name=$(trim "$name")
	case "$name" in
	'' | '#'*) continue ;;
	esac
	selected "$name" || continue
	guest=$(trim "$guest")
	status=$(trim "$status")
	input=$(trim "$input")
	expect=$(trim "$expect")
	args=$(trim "${args:-}")
	if [ ! -f "$dir/$guest" ]; then
		echo "FAIL $name: $dir/$guest not built"
		failn=$((failn + 1))
		continue
	fi
	run_case "$name" "$vmm" "$guest" "$status" "$input" "$expect" "$args"
	if [ -n "${VMM_SAN:-}" ]; then
		run_case "${name}[san]" "$VMM_SAN" "$guest" "$status" "$input" "$expect" "$args"
	fi
done <"$list"

echo "guest-tests: $pass passed, $failn failed"
[ "$failn" -eq 0 ]

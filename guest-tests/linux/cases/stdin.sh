# A command fed on the VMM's stdin runs in the guest's shell: the guest
# prints MAGIC42 (the input itself only holds "MAGIC$((6*7))") and then
# powers off, so the VMM exits 0.  Input is written once the guest says its
# shell is up, so a UART that drops bytes before the driver opens it does
# not make this flaky.
. "$LINUX_TESTS/lib.sh"
fifo=$OUTDIR/stdin.fifo
rm -f "$fifo" "$OUTDIR/stdin.log"
mkfifo "$fifo"
(
	i=0
	while ! grep -q 'VMMTEST shell-ready' "$OUTDIR/stdin.log" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
		[ "$i" -lt "$CASE_TIMEOUT" ] || break
	done
	sleep 2
	printf 'echo MAGIC$((6*7))\n'
	sleep 1
	printf 'poweroff -f\n'
	# keep stdin open until the VMM is gone: EOF is not what is tested here
	exec sleep "$CASE_TIMEOUT"
) >"$fifo" &
feeder=$!
VMM_STDIN=$fifo vmm_boot stdin shell
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
rm -f "$fifo"
if ! tr -d '\r' <"$log" | grep -q '^MAGIC42$'; then
	fail stdin "no MAGIC42 line: the command did not run (exit status $rc)"
elif [ "$rc" != 0 ]; then
	fail stdin "exit status $rc after poweroff -f, want 0"
else
	pass stdin
fi

# SPDX-License-Identifier: MIT
# Host (testhost L1) side of the virtio-net cases.  Only link-local
# addresses: tap i is 169.254.(i+1).1/24, the guest's eth i .2; nothing
# else is reachable from the testhost.
#
# net_host_start MB NIC_TAP...: makes $OUTDIR/www/data (MB MiB), then in the
#   background waits for each tap, configures it, serves www on each
#   address, fetches the guest's /data from 169.254.1.2 once it answers
#   (md5 into $OUTDIR/net-guest.md5) and creates www/done.
# net_host_stop: stops the background helper and its servers.

net_host_start() {
	_mb=$1
	shift
	ip link set lo up 2>/dev/null
	rm -rf "$OUTDIR/www" "$OUTDIR/net-guest.md5"
	mkdir -p "$OUTDIR/www"
	head -c 1048576 /dev/urandom >"$OUTDIR/r1m"
	_i=0
	while [ $_i -lt "$_mb" ]; do
		cat "$OUTDIR/r1m" >>"$OUTDIR/www/data"
		_i=$((_i + 1))
	done
	rm -f "$OUTDIR/r1m"
	net_host_md5=$(md5sum <"$OUTDIR/www/data" | cut -d' ' -f1)
	(
		_n=1
		_pids=""
		for _t in "$@"; do
			_w=0
			while [ ! -e "/sys/class/net/$_t" ] && [ $_w -lt 600 ]; do
				sleep 0.2
				_w=$((_w + 1))
			done
			ip addr add 169.254.$_n.1/24 dev "$_t"
			ip link set "$_t" up
			httpd -f -p 169.254.$_n.1:8080 -h "$OUTDIR/www" &
			_pids="$_pids $!"
			_n=$((_n + 1))
		done
		# the guest starts its server once its data is complete
		_w=0
		while [ $_w -lt 600 ]; do
			wget -q -O "$OUTDIR/net-guest.data" http://169.254.1.2:8080/data 2>/dev/null &&
				break
			sleep 1
			_w=$((_w + 1))
		done
		md5sum <"$OUTDIR/net-guest.data" | cut -d' ' -f1 >"$OUTDIR/net-guest.md5"
		rm -f "$OUTDIR/net-guest.data"
		touch "$OUTDIR/www/done"
		# the guest powers off after fetching done; servers go with us
		trap 'kill $_pids 2>/dev/null' TERM
		wait
	) &
	net_host_pid=$!
}

net_host_stop() {
	kill "$net_host_pid" 2>/dev/null
	wait "$net_host_pid" 2>/dev/null
	rm -rf "$OUTDIR/www"
}

# net_check NAME NICS STREAMS: every transfer's checksum matches; sets net_why.
net_check() {
	_nics=$2
	_streams=$3
	net_why=""
	_sent=$(log_value sent-md5)
	_i=0
	while [ $_i -lt "$_nics" ]; do
		[ "$(log_value eth$_i-ping)" = ok ] || net_why="$net_why eth$_i ping failed;"
		_s=0
		while [ $_s -lt "$_streams" ]; do
			[ "$(log_value eth$_i-recv$_s-md5)" = "$net_host_md5" ] ||
				net_why="$net_why eth$_i stream $_s: host->guest checksum differs;"
			_s=$((_s + 1))
		done
		_i=$((_i + 1))
	done
	if [ -z "$_sent" ] || [ "$(cat "$OUTDIR/net-guest.md5" 2>/dev/null)" != "$_sent" ]; then
		net_why="$net_why guest->host checksum differs (guest $_sent, host $(cat "$OUTDIR/net-guest.md5" 2>/dev/null));"
	fi
	[ -z "$net_why" ]
}

# SPDX-License-Identifier: MIT
# Helpers shared by the initramfs builders (bash; sourced, host side).
#
# Every builder stages a tree in a directory and packs it with pack_cpio.
# Files are copied to the same absolute path they have on the host, so a
# dynamically linked program finds its libraries and loader unchanged.

KVER=${KVER:-$(basename "$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)")}
MODDIR=/lib/modules/$KVER

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# stage_file ROOT PATH...: copy host files (symlinks resolved) to ROOT/PATH.
stage_file() {
	local root=$1 f
	shift
	for f in "$@"; do
		[ -e "$f" ] || die "missing $f"
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
}

# stage_bin ROOT BIN...: copy programs with every shared library ldd lists,
# plus the dynamic loader.
stage_bin() {
	local root=$1 b lib
	shift
	for b in "$@"; do
		[ -x "$b" ] || die "missing program $b"
		stage_file "$root" "$b"
		for lib in $(ldd "$b" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
			stage_file "$root" "$lib"
		done
	done
}

# stage_busybox ROOT: static busybox; /init installs the applet links.
stage_busybox() {
	local root=$1
	mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin \
		"$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/etc
	cp /bin/busybox "$root"/bin/busybox
	ln -sf busybox "$root"/bin/sh
}

# mod_order NAME...: module names in load order (dependencies first), from
# modinfo.  Built-in modules are skipped.
mod_order() {
	local seen=" " out=""
	_mod_visit() {
		local m=$1 d deps
		m=${m//-/_}
		case "$seen" in *" $m "*) return ;; esac
		seen="$seen$m "
		modinfo -k "$KVER" -F filename "$m" >/dev/null 2>&1 || die "no module $m for $KVER"
		[ "$(modinfo -k "$KVER" -F filename "$m")" = "(builtin)" ] && return
		deps=$(modinfo -k "$KVER" -F depends "$m")
		for d in ${deps//,/ }; do _mod_visit "$d"; done
		out="$out $m"
	}
	local m
	for m in "$@"; do _mod_visit "$m"; done
	echo $out
}

# stage_modules ROOT NAME...: copy modules flat into ROOT/lib/modules/ and
# write ROOT/lib/modules/order (one name a line, load order) for insmod.
stage_modules() {
	local root=$1 m f
	shift
	mkdir -p "$root"/lib/modules
	: >"$root"/lib/modules/order
	for m in $(mod_order "$@"); do
		f=$(modinfo -k "$KVER" -F filename "$m")
		case "$f" in
		*.ko) cp "$f" "$root/lib/modules/$m.ko" ;;
		*.ko.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
		*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
		*) die "unknown module format $f" ;;
		esac
		echo "$m" >>"$root"/lib/modules/order
	done
}

# pack_cpio ROOT OUT [gzip]: newc archive of ROOT, owned by root.
pack_cpio() {
	local root=$1 out=$2 z=${3:-}
	if [ "$z" = gzip ]; then
		(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$out.tmp"
	else
		(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) >"$out.tmp"
	fi
	mv "$out.tmp" "$out"
}

# inputs_key FILE...: a hash of the named files' contents and names, for
# caching a build product.
inputs_key() {
	{ echo "$KVER"; for f in "$@"; do echo "== $f"; cat "$f"; done; } | sha256sum | cut -c1-16
}

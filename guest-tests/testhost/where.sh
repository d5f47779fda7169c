# SPDX-License-Identifier: MIT
# Sourced by guest-tests/testhost/run.sh and bench/boot/run.sh: decides
# where Linux guests run.  Sets $where to "direct" (this host's /dev/kvm
# is hardware KVM) or "testhost" (PVM or no KVM: QEMU TCG -cpu EPYC with
# kvm-amd inside).  TESTHOST=always|never|auto overrides.
hw_kvm() {
	[ -c /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -e /sys/module/kvm_pvm ]
}
case "${TESTHOST:-auto}" in
always) where=testhost ;;
never) where=direct ;;
*) if hw_kvm; then where=direct; else where=testhost; fi ;;
esac

# virtio-blk: two disks written at once (the second with two queues);
# each image checked on the host.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
a=$(blk_image blk-two-a 64)
b=$(blk_image blk-two-b 64)
vmm_boot blk-two blk-two --disk "path=$a,format=raw" --disk "path=$b,format=raw,num-queues=2"
if [ "$rc" != 0 ] || ! log_has "VMMTEST vda-write=ok" || ! log_has "VMMTEST vdb-write=ok"; then
	fail blk-two "exit $rc; both disks must report write=ok"
elif ! blk_host_check "$a" vda "$log"; then
	fail blk-two "disk a: $blk_why"
elif ! blk_host_check "$b" vdb "$log"; then
	fail blk-two "disk b: $blk_why"
elif [ "$(log_value vda-big)" = "$(log_value vdb-big)" ]; then
	fail blk-two "both disks hold the same data"
else
	rm -f "$a" "$b"
	pass blk-two
fi

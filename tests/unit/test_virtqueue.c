// SPDX-License-Identifier: MIT
/* Split virtqueue walking against a hostile driver, on synthetic guest RAM. */
#include <criterion/criterion.h>
#include <errno.h>

#include "fake_vm.h"
#include "vq_helper.h"

#define RAM	(1ULL << 20)

static struct vm vm;
static struct virtq vq;
static struct vqh h;
static struct iovec iov[8];
static struct virtq_elem e = { .iov = iov, .max = 8 };

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
	cr_assert_eq(vqh_setup(&h, &vm, &vq, 16), 0);
	e.max = 8;
}

static void teardown(void)
{
	fake_vm_destroy(&vm);
}

TestSuite(virtqueue, .init = setup, .fini = teardown);

Test(virtqueue, good_chain)
{
	vqh_desc(&h, 3, VQH_BUF, 16, VRING_DESC_F_NEXT, 7);
	vqh_desc(&h, 7, VQH_BUF + 0x1000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	vqh_desc(&h, 1, VQH_BUF + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 3);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.head, 3);
	cr_assert_eq(e.nr_out, 1);
	cr_assert_eq(e.nr_in, 2);
	cr_assert_eq(e.out_len, 16);
	cr_assert_eq(e.in_len, 513);
	cr_assert_eq(iov[0].iov_base, gm_ptr(&vm.mem, VQH_BUF, 16));
	cr_assert_eq(iov[1].iov_base, gm_ptr(&vm.mem, VQH_BUF + 0x1000, 512));
	cr_assert_eq(iov[2].iov_len, 1);
	cr_assert_eq(virtq_pop(&vq, &e), 0, "ring is empty now");
	cr_assert_not(vq.broken);
}

Test(virtqueue, push_publishes_used)
{
	vqh_desc(&h, 0, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, e.head, 5);
	cr_assert_eq(vqh_used_idx(&h), 1);
	cr_assert_eq(vqh_used_elem(&h, 0).id, 0);
	cr_assert_eq(vqh_used_elem(&h, 0).len, 5);
}

Test(virtqueue, indirect_table)
{
	uint64_t table = VQH_BUF + 0x8000;

	vq.indirect = true;
	vqh_desc_at(&h, table, 0, VQH_BUF, 16, VRING_DESC_F_NEXT, 2);
	vqh_desc_at(&h, table, 2, VQH_BUF + 0x1000, 4096, VRING_DESC_F_NEXT, 1);
	vqh_desc_at(&h, table, 1, VQH_BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	vqh_desc(&h, 5, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	vqh_publish(&h, 5);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.head, 5);
	cr_assert_eq(e.nr_out, 2);
	cr_assert_eq(e.nr_in, 1);
	cr_assert_eq(e.out_len, 16 + 4096);
}

Test(virtqueue, indirect_not_negotiated)
{
	vqh_desc_at(&h, VQH_BUF, 0, VQH_BUF + 0x1000, 16, 0, 0);
	vqh_desc(&h, 0, VQH_BUF, 16, VRING_DESC_F_INDIRECT, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
	cr_assert(vq.broken);
}

static void indirect_bad(uint64_t addr, uint32_t len, uint16_t flags)
{
	vq.indirect = true;
	vqh_desc(&h, 0, addr, len, VRING_DESC_F_INDIRECT | flags, 1);
	vqh_desc(&h, 1, VQH_BUF, 1, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, indirect_len_not_multiple_of_16)
{
	vqh_desc_at(&h, VQH_BUF, 0, VQH_BUF + 0x1000, 16, 0, 0);
	indirect_bad(VQH_BUF, 24, 0);
}

Test(virtqueue, indirect_zero_len)
{
	indirect_bad(VQH_BUF, 0, 0);
}

Test(virtqueue, indirect_with_next)
{
	vqh_desc_at(&h, VQH_BUF, 0, VQH_BUF + 0x1000, 16, 0, 0);
	indirect_bad(VQH_BUF, 16, VRING_DESC_F_NEXT);
}

Test(virtqueue, indirect_outside_ram)
{
	indirect_bad(RAM - 16, 32, 0);
}

Test(virtqueue, indirect_too_big)
{
	indirect_bad(VQH_BUF, 17 * 16, 0);	/* more entries than the queue size */
}

Test(virtqueue, indirect_nested)
{
	vqh_desc_at(&h, VQH_BUF, 0, VQH_BUF + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	indirect_bad(VQH_BUF, 16, 0);
}

Test(virtqueue, indirect_loop)
{
	vqh_desc_at(&h, VQH_BUF, 0, VQH_BUF + 0x1000, 16, VRING_DESC_F_NEXT, 1);
	vqh_desc_at(&h, VQH_BUF, 1, VQH_BUF + 0x1000, 16, VRING_DESC_F_NEXT, 0);
	indirect_bad(VQH_BUF, 32, 0);
}

Test(virtqueue, indirect_next_out_of_table)
{
	vqh_desc_at(&h, VQH_BUF, 0, VQH_BUF + 0x1000, 16, VRING_DESC_F_NEXT, 2);
	vqh_desc_at(&h, VQH_BUF, 1, VQH_BUF + 0x1000, 16, 0, 0);
	vqh_desc_at(&h, VQH_BUF, 2, VQH_BUF + 0x1000, 16, 0, 0);
	indirect_bad(VQH_BUF, 32, 0);
}

Test(virtqueue, indirect_not_first_in_chain)
{
	vq.indirect = true;
	vqh_desc_at(&h, VQH_BUF, 0, VQH_BUF + 0x1000, 16, 0, 0);
	vqh_desc(&h, 0, VQH_BUF + 0x100, 16, VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, VQH_BUF, 16, VRING_DESC_F_INDIRECT, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, loop_detected)
{
	vqh_desc(&h, 0, VQH_BUF, 16, VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, VQH_BUF, 16, VRING_DESC_F_NEXT, 2);
	vqh_desc(&h, 2, VQH_BUF, 16, VRING_DESC_F_NEXT, 0);
	vqh_publish(&h, 0);
	e.max = 64;
	{
		struct iovec big[64];

		e.iov = big;
		cr_assert_eq(virtq_pop(&vq, &e), -EIO);
		e.iov = iov;
	}
	cr_assert(vq.broken);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO, "a broken queue stays broken");
}

Test(virtqueue, self_loop)
{
	struct iovec big[64];

	e.iov = big;
	e.max = 64;
	vqh_desc(&h, 4, VQH_BUF, 16, VRING_DESC_F_NEXT, 4);
	vqh_publish(&h, 4);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
	e.iov = iov;
}

Test(virtqueue, head_out_of_range)
{
	vqh_publish(&h, 16);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, next_out_of_range)
{
	vqh_desc(&h, 0, VQH_BUF, 16, VRING_DESC_F_NEXT, 16);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, chain_longer_than_iov)
{
	unsigned int i;

	e.max = 3;
	for (i = 0; i < 4; i++)
		vqh_desc(&h, i, VQH_BUF, 16, i < 3 ? VRING_DESC_F_NEXT : 0, i + 1);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, full_length_chain_ok)
{
	struct iovec big[16];
	unsigned int i;

	e.iov = big;
	e.max = 16;
	for (i = 0; i < 16; i++)
		vqh_desc(&h, i, VQH_BUF, 16, i < 15 ? VRING_DESC_F_NEXT : 0, i + 1);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.nr_out, 16);
	e.iov = iov;
}

Test(virtqueue, zero_length_buffers_dropped)
{
	vqh_desc(&h, 0, VQH_BUF, 0, VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, 0xffffffffffff0000ULL, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	vqh_desc(&h, 2, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.nr_out, 0);
	cr_assert_eq(e.nr_in, 1);
	cr_assert_eq(e.in_len, 8);
}

Test(virtqueue, buffer_past_end_of_ram)
{
	vqh_desc(&h, 0, RAM - 8, 16, 0, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, buffer_wraps_address_space)
{
	vqh_desc(&h, 0, UINT64_MAX - 4, 16, 0, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, buffer_crossing_regions)
{
	static uint8_t second[4096];

	cr_assert_eq(gm_add_region(&vm.mem, RAM, sizeof(second), second), 0);
	cr_assert_not_null(gm_ptr(&vm.mem, RAM, 16));
	vqh_desc(&h, 0, RAM - 8, 16, 0, 0);	/* 8 bytes in each region */
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
	vm.mem.nr_regions--;
}

Test(virtqueue, readable_after_writable)
{
	vqh_desc(&h, 0, VQH_BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, VQH_BUF, 8, 0, 0);
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
}

Test(virtqueue, avail_idx_jump)
{
	vqh_set_avail_idx(&h, 17);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO);
	cr_assert(vq.broken);
}

Test(virtqueue, avail_idx_exactly_size_ok)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		vqh_desc(&h, i, VQH_BUF, 8, 0, 0);
		vqh_publish(&h, (uint16_t)i);
	}
	for (i = 0; i < 16; i++)
		cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(virtq_pop(&vq, &e), 0);
}

Test(virtqueue, avail_idx_wraps_16_bits)
{
	vq.last_avail_idx = 0xffff;
	h.avail_idx = 0xffff;
	vqh_desc(&h, 2, VQH_BUF, 8, 0, 0);
	vqh_publish(&h, 2);		/* avail idx now 0 */
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.head, 2);
	cr_assert_eq(vq.last_avail_idx, 0);
}

Test(virtqueue, map_checks)
{
	struct virtq q2 = vq;

	q2.size = 12;
	cr_assert_eq(virtq_map(&q2), -EINVAL, "size must be a power of two");
	q2.size = 0;
	cr_assert_eq(virtq_map(&q2), -EINVAL);
	q2 = vq;
	q2.desc_gpa = VQH_DESC + 8;
	cr_assert_eq(virtq_map(&q2), -EINVAL, "descriptor table needs 16-byte alignment");
	q2 = vq;
	q2.used_gpa = VQH_USED + 2;
	cr_assert_eq(virtq_map(&q2), -EINVAL);
	q2 = vq;
	q2.used_gpa = RAM - 64;
	cr_assert_eq(virtq_map(&q2), -EFAULT, "used ring past the end of RAM");
	q2 = vq;
	q2.desc_gpa = UINT64_MAX & ~15ULL;
	cr_assert_eq(virtq_map(&q2), -EFAULT);
}

Test(virtqueue, need_event_math)
{
	cr_assert(virtq_need_event(0, 1, 0));
	cr_assert(virtq_need_event(5, 7, 5));
	cr_assert(virtq_need_event(6, 7, 5));
	cr_assert_not(virtq_need_event(7, 7, 5), "event 7 not passed until new > 7");
	cr_assert_not(virtq_need_event(10, 7, 5));
	cr_assert_not(virtq_need_event(4, 7, 5), "already signalled for 4");
	cr_assert(virtq_need_event(0xffff, 1, 0xfffe), "wraps");
	cr_assert_not(virtq_need_event(2, 1, 0xfffe));
}

Test(virtqueue, event_idx_interrupt_suppression)
{
	uint16_t used_event;

	vq.event_idx = true;
	vqh_desc(&h, 0, VQH_BUF, 8, 0, 0);
	vqh_desc(&h, 1, VQH_BUF, 8, 0, 0);
	vqh_publish(&h, 0);
	vqh_publish(&h, 1);
	/* driver wants an interrupt once used idx passes 1 (i.e. after 2 entries) */
	used_event = htole16(1);
	gm_write(&vm.mem, VQH_AVAIL + 4 + 2 * 16, &used_event, 2);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, e.head, 0);
	cr_assert(virtq_need_interrupt(&vq), "first interrupt is always sent");
	/* reset tracking to "signalled at 0" */
	vq.used_idx = 0;
	vq.signalled_used = 0;
	vq.used_idx = 1;
	cr_assert_not(virtq_need_interrupt(&vq), "used 1 does not pass used_event 1");
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, e.head, 0);
	cr_assert(virtq_need_interrupt(&vq), "used 2 passes used_event 1");
}

Test(virtqueue, no_interrupt_flag)
{
	uint16_t flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);

	gm_write(&vm.mem, VQH_AVAIL, &flags, 2);
	virtq_push(&vq, 0, 0);
	cr_assert_not(virtq_need_interrupt(&vq));
	flags = 0;
	gm_write(&vm.mem, VQH_AVAIL, &flags, 2);
	virtq_push(&vq, 0, 0);
	cr_assert(virtq_need_interrupt(&vq));
}

Test(virtqueue, enable_notify_writes_avail_event)
{
	uint16_t avail_event = 0;

	vq.event_idx = true;
	vqh_desc(&h, 0, VQH_BUF, 8, 0, 0);
	vqh_publish(&h, 0);
	cr_assert(virtq_enable_notify(&vq), "a buffer is waiting");
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_not(virtq_enable_notify(&vq));
	gm_read(&vm.mem, VQH_USED + 4 + 8 * 16, &avail_event, 2);
	cr_assert_eq(le16toh(avail_event), 1);
}

Test(virtqueue, disable_notify_sets_flag)
{
	uint16_t flags = 0;

	virtq_disable_notify(&vq);
	gm_read(&vm.mem, VQH_USED, &flags, 2);
	cr_assert_eq(le16toh(flags), VRING_USED_F_NO_NOTIFY);
	virtq_enable_notify(&vq);
	gm_read(&vm.mem, VQH_USED, &flags, 2);
	cr_assert_eq(flags, 0);
}

/* Any device gets this from the shared code: a head offered again while in flight breaks the ring. */
Test(virtqueue, head_in_flight_offered_again)
{
	vqh_desc(&h, 5, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 5);
	vqh_publish(&h, 5);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.head, 5);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO, "head 5 is still the device's");
	cr_assert(vq.broken);
}

Test(virtqueue, head_reusable_after_push)
{
	vqh_desc(&h, 5, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 5);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	virtq_push(&vq, 5, 0);
	vqh_publish(&h, 5);
	cr_assert_eq(virtq_pop(&vq, &e), 1, "pushed back: the driver may offer it again");
	cr_assert_eq(e.head, 5);
	cr_assert_not(vq.broken);
}

Test(virtqueue, reset_forgets_in_flight)
{
	vqh_desc(&h, 5, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 5);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	virtq_reset(&vq);
	cr_assert_eq(vq.in_flight[0], 0);
}

/* A device that pops a chain it cannot use gives it back: same slot next time, no broken ring. */
Test(virtqueue, unpop_gives_the_chain_back)
{
	vqh_desc(&h, 5, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_desc(&h, 9, VQH_BUF + 0x1000, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 5);
	vqh_publish(&h, 9);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.head, 9);
	/* in reverse pop order */
	cr_assert_eq(virtq_unpop(&vq, 9), 0);
	cr_assert_eq(virtq_unpop(&vq, 5), 0);
	cr_assert_eq(vq.last_avail_idx, 0);
	cr_assert_eq(vq.in_flight[0], 0, "given back: not in flight");
	cr_assert_eq(virtq_pop(&vq, &e), 1, "popped again without breaking the ring");
	cr_assert_eq(e.head, 5);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(e.head, 9);
	cr_assert_not(vq.broken);
	cr_assert_eq(vqh_used_idx(&h), 0, "nothing completed");
}

Test(virtqueue, unpop_of_a_head_not_popped_is_refused)
{
	vqh_desc(&h, 5, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 5);
	cr_assert_eq(virtq_unpop(&vq, 5), -EINVAL, "nothing popped");
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(virtq_unpop(&vq, 3), -EINVAL, "3 not in flight");
	cr_assert_eq(virtq_unpop(&vq, 16), -EINVAL, "out of range");
	virtq_push(&vq, 5, 0);
	cr_assert_eq(virtq_unpop(&vq, 5), -EINVAL, "completed: not the device's any more");
	cr_assert_eq(vq.last_avail_idx, 1);
	cr_assert_not(vq.broken);
}

/* The guest rewrites the slot of a given-back chain: the next pop reads and checks the new head. */
Test(virtqueue, unpop_then_guest_rewrites_the_slot)
{
	uint16_t v = htole16(40);

	vqh_desc(&h, 5, VQH_BUF, 8, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 5);
	cr_assert_eq(virtq_pop(&vq, &e), 1);
	cr_assert_eq(virtq_unpop(&vq, 5), 0);
	gm_write(&vm.mem, VQH_AVAIL + 4, &v, 2);
	cr_assert_eq(virtq_pop(&vq, &e), -EIO, "head 40 out of range for 16 entries");
	cr_assert(vq.broken);
}

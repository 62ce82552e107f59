/*
 * Copyright (c) 2026 The ovs-vhu authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/* "ovs-vhu-test dev" subcommands about packed virtqueues
 * (lib/vhu-vq-packed.c): the event suppression structures
 * ("packed-notify"), a ring's base with its wrap counters
 * ("packed-base"), and every kind of broken packed ring ("bad-packed").
 * Traffic, mergeable buffers and threads on packed rings are the other
 * subjects' subcommands with a packed feature set.  tests/dev-packed.at
 * runs them. */

#include <config.h>

#include "dev-harness.h"

/* Counts the calls that enqueuing 'n' packets on queue pair 0 makes. */
static uint64_t
calls_for_burst(struct harness *h, int n)
{
    uint8_t data[64];
    struct vhu_buf pkts[64];

    dev_fill_packet(data, sizeof data, 1);
    for (int i = 0; i < n; i++) {
        pkts[i].data = data;
        pkts[i].len = sizeof data;
    }
    vhu_fe_calls(h->fe, 0);
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, n) == n);
    return vhu_fe_calls(h->fe, 0);
}

/* "packed-notify": the driver's event suppression structure decides the
 * calls on a packed ring; the device's asks for no kicks. */
static void
test_packed_notify(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(1, REGION_SIZE);
    const uint16_t size = 16;

    VHU_CHECK(!vhu_fe_start(h->fe, PACKED_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            size));
    harness_sync(h);
    struct vhu_fe_vring *rx = &h->fe->vrings[0];
    struct vhu_vring_packed_event *ev = rx->driver_event;

    VHU_CHECK(rx->device_event->flags == VHU_RING_EVENT_FLAGS_DISABLE);
    VHU_CHECK(h->fe->vrings[1].device_event->flags
              == VHU_RING_EVENT_FLAGS_DISABLE);
    printf("device area: kicks disabled, we poll\n");

    vhu_fe_rx_post(h->fe, 0, size, BUF_SIZE);
    ev->flags = VHU_RING_EVENT_FLAGS_DISABLE;
    VHU_CHECK(calls_for_burst(h, 4) == 0);
    ev->flags = VHU_RING_EVENT_FLAGS_ENABLE;
    VHU_CHECK(calls_for_burst(h, 4) == 1);
    printf("DISABLE: no call; ENABLE: one call per burst\n");

    /* Used positions 8 to 11 of the first lap (wrap 1): an event at 13 is
     * not passed, then 12 to 15 pass it. */
    ev->flags = VHU_RING_EVENT_FLAGS_DESC;
    ev->off_wrap = 13 | 1 << 15;
    VHU_CHECK(calls_for_burst(h, 4) == 0);
    VHU_CHECK(calls_for_burst(h, 4) == 1);

    /* Reap all 16, post them again: the next lap has wrap counter 0.  An
     * event at position 2 of the lap before (wrap 1) is long passed; at 2
     * of this lap, the first burst passes it. */
    for (int i = 0; i < 16; i++) {
        uint8_t buf[BUF_SIZE];
        uint16_t n_buffers;
        size_t len;

        VHU_CHECK(!vhu_fe_rx(h->fe, 0, buf, sizeof buf, &len, &n_buffers));
    }
    vhu_fe_rx_post(h->fe, 0, size, BUF_SIZE);
    ev->flags = VHU_RING_EVENT_FLAGS_DESC;
    ev->off_wrap = 2 | 1 << 15;
    VHU_CHECK(calls_for_burst(h, 4) == 0);
    ev->off_wrap = 6;
    VHU_CHECK(calls_for_burst(h, 4) == 1);
    printf("DESC: a call only for the burst that uses the descriptor named, "
           "in the lap its wrap counter names\n");
    harness_destroy(h);
}

/* "packed-base": GET_VRING_BASE and SET_VRING_BASE carry a packed ring's
 * position with its wrap counter in bit 15. */
static void
test_packed_base(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(1, REGION_SIZE);

    VHU_CHECK(!vhu_fe_start(h->fe, PACKED_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    for (int i = 0; i < 300; i += 30) {
        harness_send_packets(h, 30, i);
        harness_dequeue_all(h, 0, 30, i);
        VHU_CHECK(vhu_fe_tx_reap(h->fe, 0) == 30);
    }

    /* 300 descriptors in a ring of 256: position 44 of the second lap,
     * whose wrap counter is 0; used the same. */
    uint32_t base = harness_get_vring_base(h, 1);
    VHU_CHECK(base == (44 | 44 << 16));
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));
    printf("GET_VRING_BASE after 300 packets on 256 entries: %#"PRIx32" "
           "(position 44, wrap counter 0, used the same)\n", base);

    harness_kick_vring(h, 1);
    harness_send_packets(h, 256 - 44, 300);
    harness_dequeue_all(h, 0, 64, 300);
    harness_dequeue_all(h, 0, 64, 364);
    harness_dequeue_all(h, 0, 64, 428);
    harness_dequeue_all(h, 0, 256 - 44 - 192, 492);
    VHU_CHECK(vhu_fe_tx_reap(h->fe, 0) == 256 - 44);
    base = harness_get_vring_base(h, 1);
    VHU_CHECK(base == (UINT32_C(0x8000) | UINT32_C(0x8000) << 16));
    printf("restarted, it goes on to the end of the lap: %#"PRIx32" "
           "(position 0, wrap counter 1)\n", base);

    /* A base beyond the ring is refused at start: the ring stays
     * stopped. */
    uint64_t ack;
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_BASE, 1, 300, true,
                                &ack));
    harness_kick_vring(h, 1);
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_BASE, 1, 0x8000, true,
                                &ack));
    harness_kick_vring(h, 1);
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    harness_send_packets(h, 5, 600);
    harness_dequeue_all(h, 0, 5, 600);
    printf("a base beyond the ring keeps it stopped; a good one starts it\n");
    harness_destroy(h);
}

enum bad_packed {
    BADP_WRAP,                  /* Available and used at once. */
    BADP_NEXT_NOT_AVAIL,        /* Chain goes on into a descriptor that is
                                 * not available. */
    BADP_ID,                    /* Buffer id beyond the ring. */
    BADP_LONG,                  /* Chain longer than the ring. */
    BADP_ZERO_LEN,
    BADP_OUTSIDE,
    BADP_WRITABLE,
    BADP_INDIRECT_EMPTY,
    BADP_INDIRECT_24,
    BADP_INDIRECT_NEXT,
    BADP_INDIRECT_NESTED,
    BADP_INDIRECT_OUTSIDE,
    N_BAD_PACKED
};

/* The fault that each case of enum bad_packed must find. */
static const enum vhu_vq_fault bad_packed_faults[N_BAD_PACKED] = {
    [BADP_WRAP] = VHU_VQ_BAD_WRAP,
    [BADP_NEXT_NOT_AVAIL] = VHU_VQ_BAD_WRAP,
    [BADP_ID] = VHU_VQ_BAD_ID,
    [BADP_LONG] = VHU_VQ_LOOP,
    [BADP_ZERO_LEN] = VHU_VQ_ZERO_LEN,
    [BADP_OUTSIDE] = VHU_VQ_BAD_ADDR,
    [BADP_WRITABLE] = VHU_VQ_BAD_DIRECTION,
    [BADP_INDIRECT_EMPTY] = VHU_VQ_BAD_INDIRECT,
    [BADP_INDIRECT_24] = VHU_VQ_BAD_INDIRECT,
    [BADP_INDIRECT_NEXT] = VHU_VQ_BAD_INDIRECT,
    [BADP_INDIRECT_NESTED] = VHU_VQ_NESTED_INDIRECT,
    [BADP_INDIRECT_OUTSIDE] = VHU_VQ_BAD_ADDR,
};

static void
check_bad_packed(int case_)
{
    enum bad_packed bad = case_;
    struct harness *h = harness_create(1, REGION_SIZE);
    struct vhu_fe *fe = h->fe;
    const uint16_t size = 16;

    VHU_CHECK(!vhu_fe_start(fe, PACKED_FEATURES, ALL_PROTOCOL_FEATURES, 2,
                            size));
    harness_sync(h);

    struct vhu_fe_vring *vr = &fe->vrings[1];
    struct vhu_vring_packed_desc *d = vr->packed_desc;
    uint64_t buf = vhu_fe_alloc(fe, 4096, 64);
    uint64_t table = vhu_fe_alloc(fe, 4096, 64);
    struct vhu_vring_packed_desc *t = vhu_fe_gpa_to_ptr(fe, table);
    uint16_t pos;
    uint16_t avail = vhu_fe_packed_avail_flags(fe, 1, 0, &pos);
    uint16_t n_descs = 1;

    d[0] = (struct vhu_vring_packed_desc) { buf, 100, 0, 0 };
    t[0] = (struct vhu_vring_packed_desc) { buf, 100, 0, 0 };
    switch (bad) {
    case BADP_WRAP:
        avail = VHU_VRING_PACKED_DESC_F_AVAIL | VHU_VRING_PACKED_DESC_F_USED;
        break;
    case BADP_NEXT_NOT_AVAIL:
        d[0].flags = VHU_VRING_DESC_F_NEXT;
        break;
    case BADP_ID:
        d[0].id = size;
        break;
    case BADP_LONG:
        n_descs = size;
        for (int i = 0; i < size; i++) {
            d[i] = (struct vhu_vring_packed_desc) {
                buf, 10, 0, VHU_VRING_DESC_F_NEXT };
        }
        break;
    case BADP_ZERO_LEN:
        d[0].len = 0;
        break;
    case BADP_OUTSIDE:
        d[0].addr = 0x1000;
        break;
    case BADP_WRITABLE:
        d[0].flags = VHU_VRING_DESC_F_WRITE;
        break;
    case BADP_INDIRECT_EMPTY:
        d[0] = (struct vhu_vring_packed_desc) {
            table, 0, 0, VHU_VRING_DESC_F_INDIRECT };
        break;
    case BADP_INDIRECT_24:
        d[0] = (struct vhu_vring_packed_desc) {
            table, 24, 0, VHU_VRING_DESC_F_INDIRECT };
        break;
    case BADP_INDIRECT_NEXT:
        n_descs = 2;
        d[0] = (struct vhu_vring_packed_desc) {
            table, 16, 0, VHU_VRING_DESC_F_INDIRECT | VHU_VRING_DESC_F_NEXT };
        d[1] = (struct vhu_vring_packed_desc) { buf, 100, 0, 0 };
        break;
    case BADP_INDIRECT_NESTED:
        d[0] = (struct vhu_vring_packed_desc) {
            table, 16, 0, VHU_VRING_DESC_F_INDIRECT };
        t[0] = (struct vhu_vring_packed_desc) {
            table, 16, 0, VHU_VRING_DESC_F_INDIRECT };
        break;
    case BADP_INDIRECT_OUTSIDE:
        d[0] = (struct vhu_vring_packed_desc) {
            0x2000, 16, 0, VHU_VRING_DESC_F_INDIRECT };
        break;
    case N_BAD_PACKED:
    default:
        OVS_NOT_REACHED();
    }
    /* Every descriptor but the first available first, as drivers do. */
    for (uint16_t i = n_descs; i-- > 0;) {
        d[i].flags |= i ? vhu_fe_packed_avail_flags(fe, 1, i, &pos) : avail;
    }

    harness_check_broken_alone(h, size, bad_packed_faults[bad]);
}

/* "bad-packed": every kind of broken packed ring. */
static void
test_bad_packed(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    static const char *const names[N_BAD_PACKED] = {
        [BADP_WRAP] = "descriptor available and used in the same lap",
        [BADP_NEXT_NOT_AVAIL] = "chain into a descriptor not available",
        [BADP_ID] = "buffer id beyond the ring",
        [BADP_LONG] = "chain longer than the ring",
        [BADP_ZERO_LEN] = "zero-length buffer",
        [BADP_OUTSIDE] = "buffer outside guest memory",
        [BADP_WRITABLE] = "writable buffer in a TX chain",
        [BADP_INDIRECT_EMPTY] = "indirect table of 0 bytes",
        [BADP_INDIRECT_24] = "indirect table of 24 bytes",
        [BADP_INDIRECT_NEXT] = "indirect descriptor with F_NEXT",
        [BADP_INDIRECT_NESTED] = "nested indirect table",
        [BADP_INDIRECT_OUTSIDE] = "indirect table outside guest memory",
    };

    harness_check_broken_cases(check_bad_packed, names, N_BAD_PACKED);
}

const struct dev_test dev_packed_tests[] = {
    { "packed-notify", test_packed_notify },
    { "packed-base", test_packed_base },
    { "bad-packed", test_bad_packed },
    { NULL, NULL },
};

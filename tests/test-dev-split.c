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

/* "ovs-vhu-test dev" subcommands about split virtqueues
 * (lib/vhu-vq-split.c) and the buffer features run on them: mergeable RX
 * buffers ("mergeable", which takes "packed" to run on packed rings
 * instead), guest calls with and without the event index ("notify"),
 * VIRTIO_F_IN_ORDER's used entries on split and packed rings side by side
 * ("in-order"), and every kind of broken descriptor chain ("bad-rings").
 * tests/dev.at and tests/dev-packed.at run them. */

#include <config.h>

#include "dev-harness.h"

#include <errno.h>
#include <string.h>

/* "mergeable [packed]": packets bigger than one RX buffer. */
static void
test_mergeable(int argc, char *argv[])
{
    uint64_t all = argc > 1 ? dev_parse_features(argv[1]) : ALL_FEATURES;
    static uint8_t big[9000];
    struct vhu_buf pkt = { .data = big, .len = sizeof big };
    uint8_t buf[sizeof big];
    uint16_t n_buffers;
    size_t len;

    dev_fill_packet(big, sizeof big, 7);
    for (int mrg = 1; mrg >= 0; mrg--) {
        struct harness *h = harness_create(2, REGION_SIZE);
        uint64_t features = (mrg ? all
                             : all & ~F(VHU_VIRTIO_NET_F_MRG_RXBUF));

        VHU_CHECK(!vhu_fe_start(h->fe, features, ALL_PROTOCOL_FEATURES, 1,
                                RING_SIZE));
        harness_sync(h);

        /* 9000 bytes and a 12-byte header in 1024-byte buffers. */
        vhu_fe_rx_post(h->fe, 0, 16, 1024);
        if (mrg) {
            VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, &pkt, 1) == 1);
            VHU_CHECK(!vhu_fe_rx(h->fe, 0, buf, sizeof buf, &len,
                                 &n_buffers));
            VHU_CHECK(len == sizeof big && dev_check_packet(buf, len, 7));
            VHU_CHECK(n_buffers == 9);
            printf("mergeable: 9000 bytes in 9 buffers of 1024\n");
        } else {
            VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, &pkt, 1) == 0);
            VHU_CHECK(vhu_fe_rx(h->fe, 0, buf, sizeof buf, &len, &n_buffers)
                      == EAGAIN);
            printf("not mergeable: 9000 bytes do not fit a 1024-byte "
                   "buffer and stay with the caller\n");
        }
        harness_destroy(h);
    }

    /* Too few buffers posted for the whole packet: nothing is sent, and
     * the buffers stay for the next packet. */

    struct harness *h = harness_create(2, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, all, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    vhu_fe_rx_post(h->fe, 0, 4, 1024);
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, &pkt, 1) == 0);
    pkt.len = 100;
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, &pkt, 1) == 1);
    VHU_CHECK(!vhu_fe_rx(h->fe, 0, buf, sizeof buf, &len, &n_buffers));
    VHU_CHECK(len == 100 && n_buffers == 1 && dev_check_packet(buf, len, 7));
    printf("mergeable: a packet that needs more buffers than posted waits, "
           "the next one goes\n");

    /* A guest packet bigger than the caller's buffer is dropped and
     * counted. */
    VHU_CHECK(!vhu_fe_tx(h->fe, 0, big, 3000, VHU_FE_LAYOUT_ONE));
    VHU_CHECK(!vhu_fe_tx(h->fe, 0, big, 100, VHU_FE_LAYOUT_ONE));
    struct vhu_buf rx = { .data = buf, .size = BUF_SIZE };
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &rx, 1) == 1);
    VHU_CHECK(rx.len == 100 && dev_check_packet(buf, 100, 7));
    struct vhu_vq_stats stats;
    vhu_dev_vring_stats(h->dev, 1, &stats);
    VHU_CHECK(stats.dropped == 1 && stats.packets == 1);
    VHU_CHECK(vhu_fe_tx_reap(h->fe, 0) == 2);
    printf("a guest packet bigger than the buffer is dropped and counted\n");
    harness_destroy(h);

    /* Four 9000-byte packets in 128-byte buffers: 71 buffers each, more
     * used entries in one burst than a packed ring writes back at once. */
    h = harness_create(2, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, all, ALL_PROTOCOL_FEATURES, 1, 1024));
    harness_sync(h);
    struct vhu_buf pkts[4];
    for (int i = 0; i < 4; i++) {
        pkts[i] = (struct vhu_buf) { .data = big, .len = sizeof big };
    }
    VHU_CHECK(vhu_fe_rx_post(h->fe, 0, 1024, 128) == 1024);
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, 4) == 4);
    for (int i = 0; i < 4; i++) {
        VHU_CHECK(!vhu_fe_rx(h->fe, 0, buf, sizeof buf, &len, &n_buffers));
        VHU_CHECK(len == sizeof big && dev_check_packet(buf, len, 7));
        VHU_CHECK(n_buffers == 71);
    }
    printf("mergeable: 4 packets of 71 buffers each in one burst\n");
    harness_destroy(h);
}

/* "notify": when the guest gets a call. */
static void
test_notify(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    uint8_t data[64];
    struct vhu_buf pkts[8];

    dev_fill_packet(data, sizeof data, 1);
    for (int i = 0; i < 8; i++) {
        pkts[i].data = data;
        pkts[i].len = sizeof data;
    }

    /* With EVENT_IDX: a call only when the used index passes the guest's
     * used_event, and at most one per burst. */
    struct harness *h = harness_create(1, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    struct vhu_fe_vring *rx = &h->fe->vrings[0];
    uint16_t *used_event = &rx->avail->ring[RING_SIZE];
    vhu_fe_rx_post(h->fe, 0, 64, BUF_SIZE);
    vhu_fe_calls(h->fe, 0);

    *used_event = 100;
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, 8) == 8);
    VHU_CHECK(vhu_fe_calls(h->fe, 0) == 0);
    *used_event = 10;
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, 8) == 8);
    VHU_CHECK(vhu_fe_calls(h->fe, 0) == 1);
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, 8) == 8);
    VHU_CHECK(vhu_fe_calls(h->fe, 0) == 0);
    printf("event index: one call for the burst that passes used_event, "
           "none otherwise\n");
    harness_destroy(h);

    /* Without it: the avail ring's NO_INTERRUPT flag decides, and
     * NOTIFY_ON_EMPTY overrides it once the ring is empty. */
    for (int on_empty = 0; on_empty < 2; on_empty++) {
        uint64_t features = ALL_FEATURES & ~F(VHU_VIRTIO_RING_F_EVENT_IDX);

        if (!on_empty) {
            features &= ~F(VHU_VIRTIO_F_NOTIFY_ON_EMPTY);
        }
        h = harness_create(1, REGION_SIZE);
        VHU_CHECK(!vhu_fe_start(h->fe, features, ALL_PROTOCOL_FEATURES, 1,
                                RING_SIZE));
        harness_sync(h);
        rx = &h->fe->vrings[0];
        vhu_fe_rx_post(h->fe, 0, 16, BUF_SIZE);
        vhu_fe_calls(h->fe, 0);

        rx->avail->flags = VHU_VRING_AVAIL_F_NO_INTERRUPT;
        VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, 8) == 8);
        VHU_CHECK(vhu_fe_calls(h->fe, 0) == 0);
        VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, 8) == 8);
        VHU_CHECK(vhu_fe_calls(h->fe, 0) == on_empty);
        rx->avail->flags = 0;
        vhu_fe_rx_post(h->fe, 0, 16, BUF_SIZE);
        VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, pkts, 8) == 8);
        VHU_CHECK(vhu_fe_calls(h->fe, 0) == 1);
        harness_destroy(h);
    }
    printf("no event index: NO_INTERRUPT suppresses calls, NOTIFY_ON_EMPTY "
           "calls once the ring is empty, otherwise one call per burst\n");
}

/* "in-order": with VIRTIO_F_IN_ORDER a burst of guest TX buffers gets one
 * used entry, for its last buffer; without it, one each. */
static void
test_in_order(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    for (int packed = 0; packed < 2; packed++) {
        for (int in_order = 0; in_order < 2; in_order++) {
            uint64_t features = (packed ? PACKED_FEATURES : ALL_FEATURES)
                                | (in_order ? F(VHU_VIRTIO_F_IN_ORDER) : 0);
            struct harness *h = harness_create(1, REGION_SIZE);

            VHU_CHECK(!vhu_fe_start(h->fe, features, ALL_PROTOCOL_FEATURES,
                                    1, RING_SIZE));
            harness_sync(h);
            harness_send_packets(h, 8, 0);
            harness_dequeue_all(h, 0, 8, 0);

            /* Which of the 8 slots (split) or descriptors (packed) from
             * the start of the ring hold a used entry, and for which
             * buffer.  A fresh split used ring is zeroed; our heads and
             * packed buffer ids are 0 to 7. */
            struct vhu_fe_vring *vr = &h->fe->vrings[1];
            int n_written = 0;
            for (int i = 0; i < 8; i++) {
                if (packed) {
                    uint16_t flags = vr->packed_desc[i].flags;
                    n_written += (flags & VHU_VRING_PACKED_DESC_F_USED) != 0;
                } else {
                    n_written += vr->used->ring[i].id != 0;
                }
            }
            VHU_CHECK(packed || vr->used->idx == 8);
            if (in_order) {
                /* One entry, in the burst's first slot, for the last
                 * buffer. */
                VHU_CHECK(n_written == 1);
                VHU_CHECK(packed
                          ? vr->packed_desc[0].id == 7
                          : vr->used->ring[0].id == 7);
            } else {
                for (int i = 0; i < 8; i++) {
                    VHU_CHECK(packed
                              ? vr->packed_desc[i].id == i
                              : vr->used->ring[i].id == (uint32_t) i);
                }
                /* Slot 0 of the split ring names head 0: not counted. */
                VHU_CHECK(n_written == (packed ? 8 : 7));
            }
            VHU_CHECK(vhu_fe_tx_reap(h->fe, 0) == 8);
            printf("%s, %s: %d used entr%s for a burst of 8\n",
                   packed ? "packed" : "split",
                   in_order ? "in order" : "not in order",
                   in_order ? 1 : 8, in_order ? "y" : "ies");
            harness_destroy(h);
        }
    }
}

/* A broken ring: what to write into the TX ring's descriptor table. */
enum bad_ring {
    BAD_LOOP,
    BAD_NEXT,
    BAD_HEAD,
    BAD_ZERO_LEN,
    BAD_OUTSIDE,
    BAD_OVERFLOW,
    BAD_NESTED,
    BAD_MISALIGNED,
    BAD_LONG_INDIRECT,
    BAD_WRITABLE,
    BAD_AVAIL_IDX,
    N_BAD_RINGS
};

/* The fault that each case of enum bad_ring must find. */
static const enum vhu_vq_fault bad_ring_faults[N_BAD_RINGS] = {
    [BAD_LOOP] = VHU_VQ_LOOP,
    [BAD_NEXT] = VHU_VQ_BAD_NEXT,
    [BAD_HEAD] = VHU_VQ_BAD_HEAD,
    [BAD_ZERO_LEN] = VHU_VQ_ZERO_LEN,
    [BAD_OUTSIDE] = VHU_VQ_BAD_ADDR,
    [BAD_OVERFLOW] = VHU_VQ_BAD_ADDR,
    [BAD_NESTED] = VHU_VQ_NESTED_INDIRECT,
    [BAD_MISALIGNED] = VHU_VQ_BAD_INDIRECT,
    [BAD_LONG_INDIRECT] = VHU_VQ_BAD_INDIRECT,
    [BAD_WRITABLE] = VHU_VQ_BAD_DIRECTION,
    [BAD_AVAIL_IDX] = VHU_VQ_BAD_AVAIL_IDX,
};

static void
check_bad_ring(int case_)
{
    enum bad_ring bad = case_;
    struct harness *h = harness_create(1, REGION_SIZE);
    struct vhu_fe *fe = h->fe;

    VHU_CHECK(!vhu_fe_start(fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 2,
                            RING_SIZE));
    harness_sync(h);

    struct vhu_fe_vring *vr = &fe->vrings[1];
    struct vhu_vring_desc *d = vr->desc;
    uint64_t buf = vhu_fe_alloc(fe, 4096, 64);
    uint64_t table = vhu_fe_alloc(fe, (RING_SIZE + 1) * sizeof *d, 64);
    struct vhu_vring_desc *t = vhu_fe_gpa_to_ptr(fe, table);
    uint16_t head = 0;

    d[0] = (struct vhu_vring_desc) { buf, 100, 0, 0 };
    switch (bad) {
    case BAD_LOOP:
        d[0].flags = VHU_VRING_DESC_F_NEXT;
        d[0].next = 1;
        d[1] = (struct vhu_vring_desc) { buf, 100, VHU_VRING_DESC_F_NEXT, 0 };
        break;
    case BAD_NEXT:
        d[0].flags = VHU_VRING_DESC_F_NEXT;
        d[0].next = RING_SIZE + 5;
        break;
    case BAD_HEAD:
        head = RING_SIZE + 1;
        break;
    case BAD_ZERO_LEN:
        d[0].len = 0;
        break;
    case BAD_OUTSIDE:
        d[0].addr = 0x1000;
        break;
    case BAD_OVERFLOW:
        d[0].addr = UINT64_MAX - 15;
        d[0].len = 0x100;
        break;
    case BAD_NESTED:
        d[0] = (struct vhu_vring_desc) { table, 32,
                                         VHU_VRING_DESC_F_INDIRECT, 0 };
        t[0] = (struct vhu_vring_desc) { table, 32,
                                         VHU_VRING_DESC_F_INDIRECT, 0 };
        break;
    case BAD_MISALIGNED:
        d[0] = (struct vhu_vring_desc) { table, 24,
                                         VHU_VRING_DESC_F_INDIRECT, 0 };
        t[0] = (struct vhu_vring_desc) { buf, 100, 0, 0 };
        break;
    case BAD_LONG_INDIRECT:
        d[0] = (struct vhu_vring_desc) { table, (RING_SIZE + 1) * sizeof *d,
                                         VHU_VRING_DESC_F_INDIRECT, 0 };
        for (int i = 0; i <= RING_SIZE; i++) {
            t[i] = (struct vhu_vring_desc) { buf, 1, 0, 0 };
        }
        break;
    case BAD_WRITABLE:
        d[0].flags = VHU_VRING_DESC_F_WRITE;
        break;
    case BAD_AVAIL_IDX:
        break;
    case N_BAD_RINGS:
    default:
        OVS_NOT_REACHED();
    }
    if (bad == BAD_AVAIL_IDX) {
        vr->avail->idx = RING_SIZE + 1;
    } else {
        vhu_fe_publish(fe, 1, head);
    }

    harness_check_broken_alone(h, RING_SIZE, bad_ring_faults[bad]);
}

/* "bad-rings": every kind of broken descriptor chain. */
static void
test_bad_rings(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    static const char *const names[N_BAD_RINGS] = {
        [BAD_LOOP] = "descriptor loop",
        [BAD_NEXT] = "next beyond the ring",
        [BAD_HEAD] = "head beyond the ring",
        [BAD_ZERO_LEN] = "zero-length buffer",
        [BAD_OUTSIDE] = "buffer outside guest memory",
        [BAD_OVERFLOW] = "buffer wrapping around the address space",
        [BAD_NESTED] = "nested indirect table",
        [BAD_MISALIGNED] = "indirect table of 24 bytes",
        [BAD_LONG_INDIRECT] = "indirect table longer than the ring",
        [BAD_WRITABLE] = "writable buffer in a TX chain",
        [BAD_AVAIL_IDX] = "avail index ahead by more than the ring",
    };

    harness_check_broken_cases(check_bad_ring, names, N_BAD_RINGS);

    /* A readable buffer offered for RX. */
    struct harness *h = harness_create(1, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    struct vhu_fe_vring *vr = &h->fe->vrings[0];
    vr->desc[0] = (struct vhu_vring_desc) { vhu_fe_alloc(h->fe, 4096, 64),
                                            2048, 0, 0 };
    vhu_fe_publish(h->fe, 0, 0);
    uint8_t data[64] = { 0 };
    struct vhu_buf pkt = { .data = data, .len = sizeof data };
    VHU_CHECK(vhu_dev_enqueue_burst(h->dev, 0, &pkt, 1) == 0);
    VHU_CHECK(vhu_dev_vring_broken(h->dev, 0));
    harness_check_guest_tx(h, 0, 50);
    harness_destroy(h);
    printf("readable buffer in an RX chain: that queue stops\n");
}

const struct dev_test dev_split_tests[] = {
    { "mergeable", test_mergeable },
    { "notify", test_notify },
    { "in-order", test_in_order },
    { "bad-rings", test_bad_rings },
    { NULL, NULL },
};

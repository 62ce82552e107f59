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

/* Unit tests of the engine (lib/vhu-dev.c, lib/vhu-vq-split.c) driven by
 * the test frontend (tests/vhu-frontend.c) over a socketpair or a unix
 * socket.  As in ovs-vswitchd, the device's control path runs in a thread
 * of its own; the test's main thread plays the guest and the PMD thread. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "latch.h"
#include "openvswitch/poll-loop.h"
#include "ovs-thread.h"
#include "ovs-vhu-test.h"
#include "timeval.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-frontend.h"

#define RING_SIZE 256
#define BUF_SIZE 2048
#define REGION_SIZE (8 * 1024 * 1024)

#define F(BIT) (1ULL << (BIT))
/* Split rings with every other feature; PACKED_FEATURES for packed
 * rings. */
#define ALL_FEATURES (VHU_DEV_FEATURES & ~(F(VHU_VIRTIO_F_RING_PACKED)     \
                                           | F(VHU_VIRTIO_F_IN_ORDER)))
#define PACKED_FEATURES (ALL_FEATURES | F(VHU_VIRTIO_F_RING_PACKED))
#define ALL_PROTOCOL_FEATURES VHU_DEV_PROTOCOL_FEATURES

/* A device, its control thread and a frontend talking to it. */
struct harness {
    struct vhu_dev *dev;
    struct vhu_fe *fe;
    int sock;                   /* The frontend's end of the connection. */
    struct latch exit;
    pthread_t thread;
    atomic_uint n_changes;      /* Calls of the device's callback. */
};

static void
harness_changed(void *h_)
{
    struct harness *h = h_;
    unsigned int orig;

    atomic_add(&h->n_changes, 1, &orig);
}

static void *
harness_control_main(void *h_)
{
    struct harness *h = h_;

    while (!latch_is_set(&h->exit)) {
        vhu_dev_run(h->dev);
        vhu_dev_wait(h->dev);
        latch_wait(&h->exit);
        poll_block();
    }
    return NULL;
}

static void
harness_start_thread(struct harness *h)
{
    latch_init(&h->exit);
    h->thread = ovs_thread_create("vhu-control", harness_control_main, h);
}

/* A device on a socketpair, with a frontend of 'n_regions' regions of
 * 'region_size' bytes on the other end. */
static struct harness *
harness_create(size_t n_regions, uint64_t region_size)
{
    struct harness *h = xzalloc(sizeof *h);
    int fds[2];

    VHU_CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
    atomic_init(&h->n_changes, 0);
    h->dev = vhu_dev_create_connected("test", fds[0], harness_changed, h);
    h->sock = fds[1];
    h->fe = vhu_fe_create(fds[1], n_regions, region_size);
    harness_start_thread(h);
    return h;
}

static void
harness_destroy(struct harness *h)
{
    latch_set(&h->exit);
    xpthread_join(h->thread, NULL);
    latch_destroy(&h->exit);
    vhu_dev_destroy(h->dev);
    if (h->fe) {
        vhu_fe_destroy(h->fe);
    }
    if (h->sock >= 0) {
        close(h->sock);
    }
    free(h);
}

/* Waits until the device has handled everything sent so far: it answers
 * requests in order. */
static void
harness_sync(struct harness *h)
{
    uint64_t features;

    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_FEATURES, &features));
}

#define WAIT_UNTIL(COND)                                        \
    do {                                                        \
        long long int deadline_ = time_msec() + 10000;          \
        while (!(COND)) {                                       \
            VHU_CHECK(time_msec() < deadline_);                 \
            xnanosleep(1000 * 1000);                            \
        }                                                       \
    } while (0)

/* Packets whose bytes say which packet they are, so that a test can check
 * every byte that arrives. */
static void
fill_packet(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t) (seq * 131 + i * 7 + (i >> 8));
    }
}

static bool
check_packet(const uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != (uint8_t) (seq * 131 + i * 7 + (i >> 8))) {
            return false;
        }
    }
    return true;
}

/* A length from 60 to 1514 bytes for packet 'seq'. */
static size_t
packet_len(uint32_t seq)
{
    return 60 + (seq * 397) % 1455;
}

/* Sends 'n' packets from the guest on 'qp' in every layout the features
 * allow, dequeues them in bursts of up to 32, and checks each. */
static void
check_guest_tx(struct harness *h, size_t qp, int n)
{
    bool indirect = h->fe->features & F(VHU_VIRTIO_RING_F_INDIRECT_DESC);
    uint8_t pkt[BUF_SIZE];
    int sent = 0, received = 0;

    while (received < n) {
        while (sent < n) {
            enum vhu_fe_layout layout = sent % (indirect ? 4 : 3);

            fill_packet(pkt, packet_len(sent), sent);
            if (vhu_fe_tx(h->fe, qp, pkt, packet_len(sent), layout)) {
                break;
            }
            sent++;
        }

        struct vhu_buf bufs[32];
        static uint8_t data[32][BUF_SIZE];
        for (int i = 0; i < 32; i++) {
            bufs[i].data = data[i];
            bufs[i].size = BUF_SIZE;
        }
        int got = vhu_dev_dequeue_burst(h->dev, qp, bufs, 32);
        VHU_CHECK(got > 0);
        for (int i = 0; i < got; i++, received++) {
            VHU_CHECK(bufs[i].len == packet_len(received));
            VHU_CHECK(check_packet(bufs[i].data, bufs[i].len, received));
        }
        vhu_fe_tx_reap(h->fe, qp);
    }

    /* Nothing more than what was sent. */
    uint8_t extra[BUF_SIZE];
    struct vhu_buf buf = { .data = extra, .size = sizeof extra };
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, qp, &buf, 1) == 0);
}

/* Enqueues 'n' packets of the lengths packet_len() gives to the guest on
 * 'qp', in bursts of up to 32, and checks what the guest receives. */
static void
check_guest_rx(struct harness *h, size_t qp, int n)
{
    int sent = 0, received = 0;

    while (received < n) {
        struct vhu_buf pkts[32];
        static uint8_t data[32][BUF_SIZE];
        int n_burst = MIN(32, n - sent);

        vhu_fe_rx_post(h->fe, qp, RING_SIZE, BUF_SIZE);
        for (int i = 0; i < n_burst; i++) {
            pkts[i].data = data[i];
            pkts[i].len = packet_len(sent + i);
            fill_packet(data[i], pkts[i].len, sent + i);
        }
        sent += vhu_dev_enqueue_burst(h->dev, qp, pkts, n_burst);

        for (;;) {
            uint8_t buf[BUF_SIZE];
            uint16_t n_buffers;
            size_t len;

            int error = vhu_fe_rx(h->fe, qp, buf, sizeof buf, &len,
                                  &n_buffers);
            if (error == EAGAIN) {
                break;
            }
            VHU_CHECK(!error);
            VHU_CHECK(len == packet_len(received));
            VHU_CHECK(check_packet(buf, len, received));
            VHU_CHECK(n_buffers == 1);
            received++;
        }
    }
}

static uint64_t
parse_features(const char *name)
{
    if (!strncmp(name, "packed", 6)) {
        /* "packed" and "packed-..." are the split ring's feature sets with
         * VIRTIO_F_RING_PACKED. */
        return (parse_features(name[6] ? name + 7 : "all")
                | F(VHU_VIRTIO_F_RING_PACKED));
    } else if (!strcmp(name, "in-order")) {
        return ALL_FEATURES | F(VHU_VIRTIO_F_IN_ORDER);
    } else if (!strcmp(name, "all")) {
        return ALL_FEATURES;
    } else if (!strcmp(name, "no-mrg")) {
        return ALL_FEATURES & ~F(VHU_VIRTIO_NET_F_MRG_RXBUF);
    } else if (!strcmp(name, "no-indirect")) {
        return ALL_FEATURES & ~F(VHU_VIRTIO_RING_F_INDIRECT_DESC);
    } else if (!strcmp(name, "legacy")) {
        /* A legacy driver: 10-byte headers, no protocol features. */
        return ALL_FEATURES & ~(F(VHU_VIRTIO_F_VERSION_1)
                                | F(VHU_VIRTIO_NET_F_MRG_RXBUF)
                                | F(VHU_F_PROTOCOL_FEATURES));
    }
    ovs_fatal(0, "unknown feature set %s", name);
}

/* "traffic PAIRS FEATURES [RING_SIZE]": packets both ways on every queue
 * pair. */
static void
test_traffic(int argc, char *argv[])
{
    VHU_CHECK(argc == 3 || argc == 4);
    size_t n_pairs = atoi(argv[1]);
    uint64_t features = parse_features(argv[2]);
    uint16_t ring_size = argc > 3 ? atoi(argv[3]) : RING_SIZE;
    struct harness *h = harness_create(2, REGION_SIZE);

    VHU_CHECK(!vhu_fe_start(h->fe, features, ALL_PROTOCOL_FEATURES, n_pairs,
                            ring_size));
    harness_sync(h);

    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.connected && state.running);
    VHU_CHECK(state.features == features);
    VHU_CHECK(state.n_vrings == 2 * n_pairs);
    VHU_CHECK(state.n_queue_pairs == n_pairs);
    for (size_t i = 0; i < 2 * n_pairs; i++) {
        VHU_CHECK(vhu_dev_vring_ready(h->dev, i));
        VHU_CHECK(vhu_dev_vring_size(h->dev, i) == ring_size);
    }
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 2 * n_pairs));
    printf("%"PRIuSIZE" queue pairs ready, features %s", n_pairs, argv[2]);
    if (argc > 3) {
        printf(", rings of %"PRIu16, ring_size);
    }
    printf("\n");

    for (size_t qp = 0; qp < n_pairs; qp++) {
        check_guest_tx(h, qp, 1000);
        check_guest_rx(h, qp, 1000);
    }
    for (size_t qp = 0; qp < n_pairs; qp++) {
        struct vhu_vq_stats tx, rx;

        vhu_dev_vring_stats(h->dev, 2 * qp + 1, &tx);
        vhu_dev_vring_stats(h->dev, 2 * qp, &rx);
        VHU_CHECK(tx.packets == 1000 && rx.packets == 1000);
        VHU_CHECK(!tx.dropped);
    }
    printf("1000 packets each way on each queue pair, every byte checked\n");
    harness_destroy(h);
}

/* "mergeable [packed]": packets bigger than one RX buffer. */
static void
test_mergeable(int argc, char *argv[])
{
    uint64_t all = argc > 1 ? parse_features(argv[1]) : ALL_FEATURES;
    static uint8_t big[9000];
    struct vhu_buf pkt = { .data = big, .len = sizeof big };
    uint8_t buf[sizeof big];
    uint16_t n_buffers;
    size_t len;

    fill_packet(big, sizeof big, 7);
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
            VHU_CHECK(len == sizeof big && check_packet(buf, len, 7));
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
    VHU_CHECK(len == 100 && n_buffers == 1 && check_packet(buf, len, 7));
    printf("mergeable: a packet that needs more buffers than posted waits, "
           "the next one goes\n");

    /* A guest packet bigger than the caller's buffer is dropped and
     * counted. */
    VHU_CHECK(!vhu_fe_tx(h->fe, 0, big, 3000, VHU_FE_LAYOUT_ONE));
    VHU_CHECK(!vhu_fe_tx(h->fe, 0, big, 100, VHU_FE_LAYOUT_ONE));
    struct vhu_buf rx = { .data = buf, .size = BUF_SIZE };
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &rx, 1) == 1);
    VHU_CHECK(rx.len == 100 && check_packet(buf, 100, 7));
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
        VHU_CHECK(len == sizeof big && check_packet(buf, len, 7));
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

    fill_packet(data, sizeof data, 1);
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

/* Sends GET_VRING_BASE for 'idx' and returns the base it replies. */
static uint32_t
get_vring_base(struct harness *h, uint32_t idx)
{
    struct vhu_vring_state state = { .index = idx };
    union vhu_msg_payload reply;
    struct vhu_msg_header hdr;

    VHU_CHECK(!vhu_fe_send(h->fe, VHU_GET_VRING_BASE, VHU_MSG_VERSION,
                           &state, sizeof state, NULL, 0));
    VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
    VHU_CHECK(hdr.request == VHU_GET_VRING_BASE);
    VHU_CHECK(hdr.size == sizeof reply.state);
    VHU_CHECK(reply.state.index == idx);
    return reply.state.num;
}

/* Sends SET_VRING_KICK for 'idx' with a new eventfd. */
static void
kick_vring(struct harness *h, uint32_t idx)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    union vhu_msg_payload reply;
    struct vhu_msg_header hdr;
    uint64_t value = idx;

    VHU_CHECK(fd >= 0);
    VHU_CHECK(!vhu_fe_send(h->fe, VHU_SET_VRING_KICK,
                           VHU_MSG_VERSION | VHU_MSG_NEED_REPLY,
                           &value, sizeof value, &fd, 1));
    close(fd);
    VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
    VHU_CHECK(hdr.request == VHU_SET_VRING_KICK && reply.u64 == 0);
}

/* "vring-base": GET_VRING_BASE stops a queue and returns where it stopped;
 * SET_VRING_KICK starts it again from there. */
static void
test_vring_base(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(1, REGION_SIZE);
    uint8_t data[100];

    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    check_guest_tx(h, 0, 300);
    VHU_CHECK(get_vring_base(h, 1) == 300);
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));

    fill_packet(data, sizeof data, 300);
    VHU_CHECK(!vhu_fe_tx(h->fe, 0, data, sizeof data, VHU_FE_LAYOUT_ONE));
    struct vhu_buf buf = { .data = xmalloc(BUF_SIZE), .size = BUF_SIZE };
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &buf, 1) == 0);
    printf("GET_VRING_BASE: base 300 after 300 packets; the queue stops\n");

    kick_vring(h, 1);
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &buf, 1) == 1);
    VHU_CHECK(buf.len == sizeof data && check_packet(buf.data, buf.len, 300));
    VHU_CHECK(get_vring_base(h, 1) == 301);
    printf("SET_VRING_KICK: the queue starts again where it stopped\n");
    free(buf.data);
    harness_destroy(h);
}

/* "memory": memory tables replaced while idle, more than 8 regions through
 * ADD_MEM_REG, REM_MEM_REG. */
static void
test_memory(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(2, REGION_SIZE);

    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    check_guest_tx(h, 0, 100);
    int n_fds = vhu_test_count_fds_but_pipes();
    for (int i = 0; i < 10; i++) {
        VHU_CHECK(!vhu_fe_share_memory(h->fe));
    }
    VHU_CHECK(vhu_test_count_fds_but_pipes() == n_fds);
    check_guest_tx(h, 0, 100);
    check_guest_rx(h, 0, 100);
    printf("memory table replaced 10 times: traffic goes on, no fd "
           "leaks\n");
    harness_destroy(h);

    /* 16 regions of 96 KiB: rings and buffers end up spread over 12 or
     * more of them. */
    h = harness_create(16, 96 * 1024);
    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    check_guest_tx(h, 0, 1000);
    check_guest_rx(h, 0, 1000);
    VHU_CHECK(h->fe->regions[VHU_MEM_BASELINE_REGIONS].used > 0);
    printf("16 regions through ADD_MEM_REG: traffic in more than 8 of "
           "them\n");

    struct vhu_mem_region_desc region;
    vhu_fe_region_desc(h->fe, 11, &region);
    struct vhu_mem_single single = { .region = region };
    VHU_CHECK(!vhu_fe_send(h->fe, VHU_REM_MEM_REG,
                           VHU_MSG_VERSION | VHU_MSG_NEED_REPLY,
                           &single, sizeof single, NULL, 0));
    struct vhu_msg_header hdr;
    union vhu_msg_payload reply;
    VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
    VHU_CHECK(reply.u64 == 0);
    VHU_CHECK(!vhu_fe_send(h->fe, VHU_REM_MEM_REG,
                           VHU_MSG_VERSION | VHU_MSG_NEED_REPLY,
                           &single, sizeof single, NULL, 0));
    VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
    VHU_CHECK(reply.u64 != 0);
    /* The rings live in region 0. */
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 0));
    printf("REM_MEM_REG removes a region once; again, it is refused\n");
    harness_destroy(h);
}

/* One malformed request: what to send, and whether the device must answer
 * with a nack ('nack') or close the connection. */
struct bad_request {
    const char *what;
    uint32_t request;
    uint32_t flags;
    const void *payload;
    size_t size;
    int n_fds;
    bool reply_ack;             /* Negotiate REPLY_ACK first. */
    bool nack;                  /* Expect a nack, not a close. */
    enum {
        FDS_EVENTFD,            /* Blocking eventfds. */
        FDS_NONBLOCKING,        /* Nonblocking eventfds. */
        FDS_PIPE,               /* The write ends of pipes. */
    } fd_kind;
};

static void
check_bad_request(const struct bad_request *bad)
{
    int n_fds = vhu_test_count_fds_but_pipes();
    struct harness *h = harness_create(1, REGION_SIZE);
    int fds[VHU_MSG_MAX_FDS];

    VHU_CHECK(!vhu_fe_negotiate(h->fe, ALL_FEATURES,
                                bad->reply_ack ? ALL_PROTOCOL_FEATURES
                                : ALL_PROTOCOL_FEATURES
                                  & ~F(VHU_PROTOCOL_F_REPLY_ACK)));
    harness_sync(h);
    int n_fds_connected = vhu_test_count_fds_but_pipes();

    for (int i = 0; i < bad->n_fds; i++) {
        int pipe_fds[2];

        switch (bad->fd_kind) {
        case FDS_EVENTFD:
            fds[i] = eventfd(0, EFD_CLOEXEC);
            break;
        case FDS_NONBLOCKING:
            fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            break;
        case FDS_PIPE:
            VHU_CHECK(!pipe2(pipe_fds, O_CLOEXEC));
            close(pipe_fds[0]);
            fds[i] = pipe_fds[1];
            break;
        default:
            OVS_NOT_REACHED();
        }
    }
    VHU_CHECK(!vhu_fe_send(h->fe, bad->request, bad->flags, bad->payload,
                           bad->size, fds, bad->n_fds));
    for (int i = 0; i < bad->n_fds; i++) {
        close(fds[i]);
    }

    if (bad->nack) {
        struct vhu_msg_header hdr;
        union vhu_msg_payload reply;

        VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
        VHU_CHECK(hdr.request == bad->request);
        VHU_CHECK(hdr.size == sizeof(uint64_t) && reply.u64 != 0);
        harness_sync(h);
        VHU_CHECK(vhu_test_count_fds_but_pipes() == n_fds_connected);
        printf("%s: refused with a nack, connection kept\n", bad->what);
    } else {
        VHU_CHECK(vhu_fe_closed(h->fe));
        printf("%s: connection closed\n", bad->what);
    }

    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.n_errors == 1);
    harness_destroy(h);
    VHU_CHECK(vhu_test_count_fds_but_pipes() == n_fds);
}

/* "bad-requests": every kind of malformed request. */
static void
test_bad_requests(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    const uint32_t V = VHU_MSG_VERSION;
    const uint32_t NR = VHU_MSG_VERSION | VHU_MSG_NEED_REPLY;
    static const uint64_t u64_zero;
    static const uint32_t u32_zero;
    static const struct vhu_vring_state state_300 = { 300, 256 };
    static const struct vhu_vring_state state_odd = { 0, 100 };
    static const struct vhu_vring_state state_enable_2 = { 0, 2 };
    static const uint64_t kick_300 = 300;
    static const uint64_t kick_nofd = 0 | VHU_VRING_NOFD;
    static const uint64_t kick_junk = 0 | (1ULL << 40);
    static const uint64_t mtu_20 = 20;
    static const uint64_t bad_features = 1ULL << 63;
    struct vhu_mem_table one_region = {
        .n_regions = 1,
        .regions = { { 0x100000000ULL, 0x200000, 0x7f0000000000ULL, 0 } },
    };
    struct vhu_mem_table overflow = {
        .n_regions = 1,
        .regions = { { 0xfffffffffffff000ULL, 0x2000, 0x7f0000000000ULL,
                       0 } },
    };
    struct vhu_mem_table nine = { .n_regions = 9 };
    size_t one = offsetof(struct vhu_mem_table, regions)
                 + sizeof one_region.regions[0];
    const struct bad_request bad[] = {
        { "bad version", VHU_GET_FEATURES, 0x2, NULL, 0, 0, true, false,
          FDS_EVENTFD },
        { "unknown request", 99, V, NULL, 0, 0, false, false, FDS_EVENTFD },
        { "unknown request asking for a reply", 99, NR, NULL, 0, 0, true,
          true, FDS_EVENTFD },
        { "SET_LOG_BASE (not offered)", VHU_SET_LOG_BASE, NR, &u64_zero, 8,
          1, true, true, FDS_EVENTFD },
        { "SET_FEATURES of 4 bytes", VHU_SET_FEATURES, NR, &u32_zero, 4, 0,
          true, true, FDS_EVENTFD },
        { "SET_FEATURES of 4 bytes, no reply asked", VHU_SET_FEATURES, V,
          &u32_zero, 4, 0, true, false, FDS_EVENTFD },
        { "GET_FEATURES with a payload", VHU_GET_FEATURES, V, &u64_zero, 8,
          0, true, false, FDS_EVENTFD },
        { "SET_FEATURES not offered", VHU_SET_FEATURES, NR, &bad_features, 8,
          0, true, true, FDS_EVENTFD },
        { "SET_FEATURES with an fd", VHU_SET_FEATURES, NR, &u64_zero, 8, 1,
          true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE without fds", VHU_SET_MEM_TABLE, NR, &one_region,
          one, 0, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE with an extra fd", VHU_SET_MEM_TABLE, NR,
          &one_region, one, 2, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE with 9 regions", VHU_SET_MEM_TABLE, NR, &nine,
          sizeof nine, 8, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE region overflowing", VHU_SET_MEM_TABLE, NR,
          &overflow, one, 1, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE region not in its fd", VHU_SET_MEM_TABLE, NR,
          &one_region, one, 1, true, true, FDS_EVENTFD },
        { "ADD_MEM_REG without fd", VHU_ADD_MEM_REG, NR,
          &(struct vhu_mem_single) { .region = one_region.regions[0] },
          sizeof(struct vhu_mem_single), 0, true, true, FDS_EVENTFD },
        { "SET_VRING_NUM index 300", VHU_SET_VRING_NUM, NR, &state_300,
          sizeof state_300, 0, true, true, FDS_EVENTFD },
        { "SET_VRING_NUM size 100", VHU_SET_VRING_NUM, NR, &state_odd,
          sizeof state_odd, 0, true, true, FDS_EVENTFD },
        { "SET_VRING_ENABLE 2", VHU_SET_VRING_ENABLE, NR, &state_enable_2,
          sizeof state_enable_2, 0, true, true, FDS_EVENTFD },
        { "GET_VRING_BASE index 300", VHU_GET_VRING_BASE, V, &state_300,
          sizeof state_300, 0, true, false, FDS_EVENTFD },
        { "SET_VRING_KICK index 300", VHU_SET_VRING_KICK, NR, &kick_300, 8,
          1, true, true, FDS_EVENTFD },
        { "SET_VRING_KICK without fd or no-fd flag", VHU_SET_VRING_KICK, NR,
          &u64_zero, 8, 0, true, true, FDS_EVENTFD },
        { "SET_VRING_CALL with fd and no-fd flag", VHU_SET_VRING_CALL, NR,
          &kick_nofd, 8, 1, true, true, FDS_EVENTFD },
        { "SET_VRING_ERR with unknown bits", VHU_SET_VRING_ERR, NR,
          &kick_junk, 8, 1, true, true, FDS_EVENTFD },
        { "NET_SET_MTU 20", VHU_NET_SET_MTU, NR, &mtu_20, 8, 0, true,
          true, FDS_EVENTFD },
        { "reserved flag 0x10", VHU_GET_FEATURES, V | 0x10, NULL, 0, 0, true,
          false, FDS_EVENTFD },
        { "SET_VRING_CALL with a pipe", VHU_SET_VRING_CALL, NR, &u64_zero, 8,
          1, true, true, FDS_PIPE },
        { "SET_VRING_CALL with a blocking eventfd", VHU_SET_VRING_CALL, NR,
          &u64_zero, 8, 1, true, true, FDS_EVENTFD },
        { "SET_VRING_KICK with a pipe", VHU_SET_VRING_KICK, NR, &u64_zero, 8,
          1, true, true, FDS_PIPE },
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        check_bad_request(&bad[i]);
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

/* The guest on 'h' just published something broken on vring 1 (queue pair
 * 0's TX ring, of 'size' entries; queue pair 1 is set up too).  Checks
 * that a dequeue breaks that queue, for 'fault', and counts it; that the
 * other queues and the connection carry on; and that the queue works again
 * once the frontend sets it up again.  Destroys 'h'. */
static void
check_broken_alone(struct harness *h, uint16_t size, enum vhu_vq_fault fault)
{
    struct vhu_buf rx = { .data = xmalloc(BUF_SIZE), .size = BUF_SIZE };
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &rx, 1) == 0);
    VHU_CHECK(vhu_dev_vring_broken(h->dev, 1));
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &rx, 1) == 0);

    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.connected && state.n_faults == 1);
    VHU_CHECK(strstr(state.last_error, vhu_vq_fault_name(fault)));

    /* Only that queue stopped: the other pair and the connection work. */
    check_guest_tx(h, 1, 50);
    check_guest_rx(h, 0, 50);
    harness_sync(h);

    /* Set up again, the queue works again. */
    VHU_CHECK(!vhu_fe_setup_vring(h->fe, 1, size));
    VHU_CHECK(!vhu_dev_vring_broken(h->dev, 1));
    check_guest_tx(h, 0, 50);
    free(rx.data);
    harness_destroy(h);
}

static void
check_bad_ring(enum bad_ring bad)
{
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

    check_broken_alone(h, RING_SIZE, bad_ring_faults[bad]);
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

    for (int i = 0; i < N_BAD_RINGS; i++) {
        check_bad_ring(i);
        printf("%s: that queue stops, counted; other queues and the "
               "connection carry on; set up again, it works\n", names[i]);
    }

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
    check_guest_tx(h, 0, 50);
    harness_destroy(h);
    printf("readable buffer in an RX chain: that queue stops\n");
}

/* "threads": a PMD thread bursting while the control path replaces the
 * memory table and restarts the queue under it. */
struct pmd_ctx {
    struct vhu_dev *dev;
    atomic_bool stop;
    atomic_uint received;
    bool corrupt;
};

static void *
pmd_main(void *ctx_)
{
    struct pmd_ctx *ctx = ctx_;
    static uint8_t data[32][BUF_SIZE];
    struct vhu_buf bufs[32];
    unsigned int received = 0;
    bool stop;

    for (int i = 0; i < 32; i++) {
        bufs[i].data = data[i];
        bufs[i].size = BUF_SIZE;
    }
    do {
        atomic_read(&ctx->stop, &stop);
        int n = vhu_dev_dequeue_burst(ctx->dev, 0, bufs, 32);
        for (int i = 0; i < n; i++, received++) {
            if (bufs[i].len != packet_len(received)
                || !check_packet(bufs[i].data, bufs[i].len, received)) {
                ctx->corrupt = true;
            }
        }
        atomic_store(&ctx->received, received);
    } while (!stop);
    return NULL;
}

static void
test_threads(int argc, char *argv[])
{
    uint64_t features = argc > 1 ? parse_features(argv[1]) : ALL_FEATURES;
    bool packed = features & F(VHU_VIRTIO_F_RING_PACKED);
    struct harness *h = harness_create(2, REGION_SIZE);
    struct pmd_ctx ctx = { .dev = h->dev };
    const int n_rounds = 200;
    unsigned int sent = 0, received;
    uint8_t pkt[BUF_SIZE];

    VHU_CHECK(!vhu_fe_start(h->fe, features, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    atomic_init(&ctx.stop, false);
    atomic_init(&ctx.received, 0);
    pthread_t pmd = ovs_thread_create("pmd", pmd_main, &ctx);

    for (int round = 0; round < n_rounds; round++) {
        for (int i = 0; i < 32; i++, sent++) {
            fill_packet(pkt, packet_len(sent), sent);
            if (vhu_fe_tx(h->fe, 0, pkt, packet_len(sent),
                          VHU_FE_LAYOUT_ONE)) {
                break;
            }
        }
        vhu_fe_tx_reap(h->fe, 0);
        VHU_CHECK(!vhu_fe_share_memory(h->fe));
        if (round % 10 == 5) {
            uint32_t base = get_vring_base(h, 1);
            VHU_CHECK(packed
                      ? ((base & 0x7fff) < RING_SIZE
                         && base >> 16 == (base & 0xffff))
                      : base <= sent);
            kick_vring(h, 1);
        }
    }
    WAIT_UNTIL((atomic_read(&ctx.received, &received), received == sent));
    atomic_store(&ctx.stop, true);
    xpthread_join(pmd, NULL);
    VHU_CHECK(!ctx.corrupt);
    printf("a PMD thread bursts while the memory table is replaced %d times "
           "and the queue restarted %d times: every packet arrives once, "
           "intact\n", n_rounds, n_rounds / 10);
    harness_destroy(h);
}

/* Accepts a connection on listening socket 'fd' within 'ms' milliseconds,
 * or returns -1. */
static int
accept_within(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    if (poll(&pfd, 1, ms) != 1) {
        return -1;
    }
    return accept(fd, NULL, NULL);
}

static int
unix_socket(const char *path, bool do_listen)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    VHU_CHECK(fd >= 0);
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    if (do_listen) {
        VHU_CHECK(!bind(fd, (struct sockaddr *) &sun, sizeof sun));
        VHU_CHECK(!listen(fd, 1));
    } else if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        close(fd);
        return -1;
    }
    return fd;
}

static struct harness *
harness_create_socket(const char *path, enum vhu_dev_mode mode)
{
    struct harness *h = xzalloc(sizeof *h);
    char *error;

    atomic_init(&h->n_changes, 0);
    h->dev = vhu_dev_create(path, mode, NULL, harness_changed, h, &error);
    VHU_CHECK(h->dev && !error);
    h->sock = -1;
    harness_start_thread(h);
    return h;
}

static bool
harness_connected(struct harness *h)
{
    struct vhu_dev_state state;

    vhu_dev_get_state(h->dev, &state);
    return state.connected;
}

/* "server": listening, one frontend at a time, stale and live sockets. */
static void
test_server(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    const char *path = "server.sock";
    struct stat st;
    char *error;

    unlink(path);
    struct harness *h = harness_create_socket(path, VHU_DEV_SERVER);
    VHU_CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode));

    for (int i = 1; i <= 3; i++) {
        h->sock = unix_socket(path, false);
        VHU_CHECK(h->sock >= 0);
        h->fe = vhu_fe_create(h->sock, 1, REGION_SIZE);
        VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES,
                                1, RING_SIZE));
        check_guest_tx(h, 0, 10);

        /* A second frontend waits until the first one leaves. */
        int second = unix_socket(path, false);
        VHU_CHECK(second >= 0);
        struct vhu_fe *fe2 = vhu_fe_create(second, 1, REGION_SIZE);
        uint64_t features;
        harness_sync(h);
        vhu_fe_destroy(h->fe);
        close(h->sock);
        VHU_CHECK(!vhu_fe_get_u64(fe2, VHU_GET_FEATURES, &features));
        VHU_CHECK(features == VHU_DEV_FEATURES);
        vhu_fe_destroy(fe2);
        close(second);
        h->fe = NULL;
        h->sock = -1;
        WAIT_UNTIL(!harness_connected(h));
    }
    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.n_connects == 6);
    printf("server: 3 times a frontend connects and moves traffic while "
           "the next one waits, then both leave\n");

    /* A second backend on the same path is refused. */
    VHU_CHECK(!vhu_dev_create(path, VHU_DEV_SERVER, NULL, NULL, NULL,
                              &error));
    printf("refused: %s\n", error);
    free(error);
    harness_destroy(h);
    VHU_CHECK(stat(path, &st) && errno == ENOENT);
    printf("server: the socket file goes with the device\n");

    /* A socket file that nobody listens on is replaced. */
    close(unix_socket(path, true));
    VHU_CHECK(!stat(path, &st));
    h = harness_create_socket(path, VHU_DEV_SERVER);
    h->sock = unix_socket(path, false);
    VHU_CHECK(h->sock >= 0);
    h->fe = vhu_fe_create(h->sock, 1, REGION_SIZE);
    harness_sync(h);
    harness_destroy(h);
    printf("server: a stale socket file is replaced\n");

    /* Anything else is left alone. */
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    VHU_CHECK(fd >= 0);
    close(fd);
    VHU_CHECK(!vhu_dev_create(path, VHU_DEV_SERVER, NULL, NULL, NULL,
                              &error));
    printf("refused: %s\n", error);
    free(error);
    VHU_CHECK(!stat(path, &st) && S_ISREG(st.st_mode));
    unlink(path);

    char long_path[200];
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    VHU_CHECK(!vhu_dev_create(long_path, VHU_DEV_CLIENT, NULL, NULL, NULL,
                              &error));
    VHU_CHECK(strstr(error, "socket path longer than 107 bytes"));
    printf("refused: socket path longer than 107 bytes\n");
    free(error);
}

/* "client": connecting, retrying with backoff, reconnecting. */
static void
test_client(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    const char *path = "client.sock";

    unlink(path);
    struct harness *h = harness_create_socket(path, VHU_DEV_CLIENT);

    /* Nobody listens yet: the device keeps trying. */
    xsleep(1);
    VHU_CHECK(!harness_connected(h));

    /* The first retries come well within a second of each other, so a
     * frontend that starts listening is found quickly. */
    int listener = unix_socket(path, true);
    int conn = accept_within(listener, 2000);
    VHU_CHECK(conn >= 0);
    h->sock = conn;
    h->fe = vhu_fe_create(conn, 1, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    check_guest_tx(h, 0, 10);
    printf("client: connects once the frontend listens\n");

    /* The frontend goes away and comes back: the device reconnects. */
    for (int i = 0; i < 3; i++) {
        vhu_fe_destroy(h->fe);
        close(h->sock);
        h->fe = NULL;
        h->sock = accept_within(listener, 2000);
        VHU_CHECK(h->sock >= 0);
        h->fe = vhu_fe_create(h->sock, 1, REGION_SIZE);
        VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES,
                                1, RING_SIZE));
        check_guest_tx(h, 0, 10);
    }
    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.n_connects == 4);
    printf("client: reconnects each time the frontend closes the "
           "connection\n");

    /* The frontend's socket disappears for a while. */
    vhu_fe_destroy(h->fe);
    close(h->sock);
    h->fe = NULL;
    h->sock = -1;
    close(listener);
    unlink(path);
    WAIT_UNTIL(!harness_connected(h));
    xsleep(2);
    listener = unix_socket(path, true);
    h->sock = accept_within(listener, 5000);
    VHU_CHECK(h->sock >= 0);
    printf("client: reconnects after the frontend's socket was gone\n");
    harness_destroy(h);
    close(listener);
    unlink(path);
}

/* "negotiate": features, protocol features, and the small requests. */
static void
test_negotiate(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(1, REGION_SIZE);
    uint64_t value, ack;

    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_FEATURES, &value));
    VHU_CHECK(value == VHU_DEV_FEATURES);
    printf("features offered: %#"PRIx64"\n", value);
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_PROTOCOL_FEATURES, &value));
    VHU_CHECK(value == VHU_DEV_PROTOCOL_FEATURES);
    printf("protocol features offered: %#"PRIx64"\n", value);
    VHU_CHECK(!vhu_fe_negotiate(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES));
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_QUEUE_NUM, &value));
    printf("GET_QUEUE_NUM: %"PRIu64"\n", value);
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_MAX_MEM_SLOTS, &value));
    printf("GET_MAX_MEM_SLOTS: %"PRIu64"\n", value);

    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_SET_STATUS, 0xf, true, &ack));
    VHU_CHECK(!ack);
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_STATUS, &value));
    VHU_CHECK(value == 0xf);
    printf("SET_STATUS then GET_STATUS: %#"PRIx64"\n", value);

    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_NET_SET_MTU, 9000, true, &ack));
    VHU_CHECK(!ack);
    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_NET_SET_MTU, 9711, true, &ack));
    VHU_CHECK(ack);
    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.mtu == 9000 && state.status == 0xf);
    printf("NET_SET_MTU 9000 acked, 9711 refused\n");

    uint8_t mac[6];
    uint64_t rarp = 0;
    memcpy(&rarp, (uint8_t[6]) { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, 6);
    VHU_CHECK(!vhu_dev_take_rarp(h->dev, mac));
    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_SEND_RARP, rarp, true, &ack));
    VHU_CHECK(!ack);
    VHU_CHECK(vhu_dev_take_rarp(h->dev, mac));
    VHU_CHECK(!memcmp(mac, &rarp, 6));
    VHU_CHECK(!vhu_dev_take_rarp(h->dev, mac));
    printf("SEND_RARP: the owner gets the MAC address once\n");

    /* With protocol features, SET_VRING_ENABLE starts and stops rings. */
    VHU_CHECK(!vhu_fe_share_memory(h->fe));
    VHU_CHECK(!vhu_fe_setup_vring(h->fe, 0, RING_SIZE));
    VHU_CHECK(!vhu_fe_setup_vring(h->fe, 1, RING_SIZE));
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_ENABLE, 1, 0, true,
                                &ack));
    VHU_CHECK(!ack && !vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(!vhu_dev_vring_enabled(h->dev, 1));
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_ENABLE, 1, 1, true,
                                &ack));
    VHU_CHECK(!ack && vhu_dev_vring_ready(h->dev, 1));
    printf("SET_VRING_ENABLE stops and starts a ring\n");

    unsigned int n_changes;
    atomic_read(&h->n_changes, &n_changes);
    VHU_CHECK(n_changes > 0);

    VHU_CHECK(!vhu_fe_send(h->fe, VHU_RESET_OWNER, VHU_MSG_VERSION, NULL, 0,
                           NULL, 0));
    harness_sync(h);
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.connected && !state.running && !state.features);
    printf("RESET_OWNER stops every ring and forgets the memory table\n");
    harness_destroy(h);

    h = harness_create(1, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, parse_features("legacy"), 0, 1,
                            RING_SIZE));
    harness_sync(h);
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 0));
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    check_guest_tx(h, 0, 100);
    check_guest_rx(h, 0, 100);
    printf("without protocol features rings start enabled\n");
    harness_destroy(h);
}

/* Dequeues everything the guest sent on 'qp', which must be 'n' packets
 * from fill_packet() with sequence numbers from 'seq' on. */
static void
dequeue_all(struct harness *h, size_t qp, int n, uint32_t seq)
{
    static uint8_t data[64][BUF_SIZE];
    struct vhu_buf bufs[64];

    ovs_assert(n <= 64);
    for (int i = 0; i < 64; i++) {
        bufs[i].data = data[i];
        bufs[i].size = BUF_SIZE;
    }
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, qp, bufs, 64) == n);
    for (int i = 0; i < n; i++) {
        VHU_CHECK(bufs[i].len == packet_len(seq + i));
        VHU_CHECK(check_packet(bufs[i].data, bufs[i].len, seq + i));
    }
}

/* Sends 'n' packets from the guest on queue pair 0, in one descriptor
 * each, with sequence numbers from 'seq' on. */
static void
send_packets(struct harness *h, int n, uint32_t seq)
{
    uint8_t pkt[BUF_SIZE];

    for (int i = 0; i < n; i++) {
        fill_packet(pkt, packet_len(seq + i), seq + i);
        VHU_CHECK(!vhu_fe_tx(h->fe, 0, pkt, packet_len(seq + i),
                             VHU_FE_LAYOUT_ONE));
    }
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
            send_packets(h, 8, 0);
            dequeue_all(h, 0, 8, 0);

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

/* Counts the calls that enqueuing 'n' packets on queue pair 0 makes. */
static uint64_t
calls_for_burst(struct harness *h, int n)
{
    uint8_t data[64];
    struct vhu_buf pkts[64];

    fill_packet(data, sizeof data, 1);
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
        send_packets(h, 30, i);
        dequeue_all(h, 0, 30, i);
        VHU_CHECK(vhu_fe_tx_reap(h->fe, 0) == 30);
    }

    /* 300 descriptors in a ring of 256: position 44 of the second lap,
     * whose wrap counter is 0; used the same. */
    uint32_t base = get_vring_base(h, 1);
    VHU_CHECK(base == (44 | 44 << 16));
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));
    printf("GET_VRING_BASE after 300 packets on 256 entries: %#"PRIx32" "
           "(position 44, wrap counter 0, used the same)\n", base);

    kick_vring(h, 1);
    send_packets(h, 256 - 44, 300);
    dequeue_all(h, 0, 64, 300);
    dequeue_all(h, 0, 64, 364);
    dequeue_all(h, 0, 64, 428);
    dequeue_all(h, 0, 256 - 44 - 192, 492);
    VHU_CHECK(vhu_fe_tx_reap(h->fe, 0) == 256 - 44);
    base = get_vring_base(h, 1);
    VHU_CHECK(base == (UINT32_C(0x8000) | UINT32_C(0x8000) << 16));
    printf("restarted, it goes on to the end of the lap: %#"PRIx32" "
           "(position 0, wrap counter 1)\n", base);

    /* A base beyond the ring is refused at start: the ring stays
     * stopped. */
    uint64_t ack;
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_BASE, 1, 300, true,
                                &ack));
    kick_vring(h, 1);
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_BASE, 1, 0x8000, true,
                                &ack));
    kick_vring(h, 1);
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    send_packets(h, 5, 600);
    dequeue_all(h, 0, 5, 600);
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
check_bad_packed(enum bad_packed bad)
{
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

    check_broken_alone(h, size, bad_packed_faults[bad]);
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

    for (int i = 0; i < N_BAD_PACKED; i++) {
        check_bad_packed(i);
        printf("%s: that queue stops, counted; other queues and the "
               "connection carry on; set up again, it works\n", names[i]);
    }
}

static const struct {
    const char *name;
    void (*run)(int argc, char *argv[]);
} dev_tests[] = {
    { "negotiate", test_negotiate },
    { "traffic", test_traffic },
    { "mergeable", test_mergeable },
    { "in-order", test_in_order },
    { "packed-notify", test_packed_notify },
    { "packed-base", test_packed_base },
    { "bad-packed", test_bad_packed },
    { "notify", test_notify },
    { "vring-base", test_vring_base },
    { "memory", test_memory },
    { "bad-requests", test_bad_requests },
    { "bad-rings", test_bad_rings },
    { "threads", test_threads },
    { "server", test_server },
    { "client", test_client },
};

static void
run_dev_test(int argc, char *argv[])
{
    VHU_CHECK(argc >= 2);
    for (size_t i = 0; i < ARRAY_SIZE(dev_tests); i++) {
        if (!strcmp(argv[1], dev_tests[i].name)) {
            dev_tests[i].run(argc - 1, argv + 1);
            return;
        }
    }
    ovs_fatal(0, "unknown dev test \"%s\"", argv[1]);
}

const struct vhu_test vhu_test_dev = {
    "dev", "vhost-user device: protocol, rings, sockets (dev SUBTEST ...)",
    run_dev_test,
};

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

/* The harness of the "ovs-vhu-test dev" subjects (dev-harness.h): a device
 * of the engine (lib/vhu-dev.c) and its control thread, driven by the test
 * frontend (tests/vhu-frontend.c) over a socketpair or a unix socket; the
 * packets, traffic loops and requests that more than one subject uses.
 * Nothing here prints: the subjects say what they checked. */

#include <config.h>

#include "dev-harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "openvswitch/poll-loop.h"
#include "ovs-thread.h"

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
struct harness *
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

void
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
void
harness_sync(struct harness *h)
{
    uint64_t features;

    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_FEATURES, &features));
}

/* A device on unix socket 'path', a server or a client as 'mode' says, with
 * no frontend yet: the test connects or accepts one and fills in 'sock' and
 * 'fe'. */
struct harness *
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

/* Packets whose bytes say which packet they are, so that a test can check
 * every byte that arrives. */
void
dev_fill_packet(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t) (seq * 131 + i * 7 + (i >> 8));
    }
}

bool
dev_check_packet(const uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != (uint8_t) (seq * 131 + i * 7 + (i >> 8))) {
            return false;
        }
    }
    return true;
}

/* A length from 60 to 1514 bytes for packet 'seq'. */
size_t
dev_packet_len(uint32_t seq)
{
    return 60 + (seq * 397) % 1455;
}

/* Sends 'n' packets from the guest on 'qp' in every layout the features
 * allow, dequeues them in bursts of up to 32, and checks each. */
void
harness_check_guest_tx(struct harness *h, size_t qp, int n)
{
    bool indirect = h->fe->features & F(VHU_VIRTIO_RING_F_INDIRECT_DESC);
    uint8_t pkt[BUF_SIZE];
    int sent = 0, received = 0;

    while (received < n) {
        while (sent < n) {
            enum vhu_fe_layout layout = sent % (indirect ? 4 : 3);

            dev_fill_packet(pkt, dev_packet_len(sent), sent);
            if (vhu_fe_tx(h->fe, qp, pkt, dev_packet_len(sent), layout)) {
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
            VHU_CHECK(bufs[i].len == dev_packet_len(received));
            VHU_CHECK(dev_check_packet(bufs[i].data, bufs[i].len, received));
        }
        vhu_fe_tx_reap(h->fe, qp);
    }

    /* Nothing more than what was sent. */
    uint8_t extra[BUF_SIZE];
    struct vhu_buf buf = { .data = extra, .size = sizeof extra };
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, qp, &buf, 1) == 0);
}

/* Enqueues 'n' packets of the lengths dev_packet_len() gives to the guest on
 * 'qp', in bursts of up to 32, and checks what the guest receives. */
void
harness_check_guest_rx(struct harness *h, size_t qp, int n)
{
    int sent = 0, received = 0;

    while (received < n) {
        struct vhu_buf pkts[32];
        static uint8_t data[32][BUF_SIZE];
        int n_burst = MIN(32, n - sent);

        vhu_fe_rx_post(h->fe, qp, RING_SIZE, BUF_SIZE);
        for (int i = 0; i < n_burst; i++) {
            pkts[i].data = data[i];
            pkts[i].len = dev_packet_len(sent + i);
            dev_fill_packet(data[i], pkts[i].len, sent + i);
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
            VHU_CHECK(len == dev_packet_len(received));
            VHU_CHECK(dev_check_packet(buf, len, received));
            VHU_CHECK(n_buffers == 1);
            received++;
        }
    }
}

uint64_t
dev_parse_features(const char *name)
{
    if (!strncmp(name, "packed", 6)) {
        /* "packed" and "packed-..." are the split ring's feature sets with
         * VIRTIO_F_RING_PACKED. */
        return (dev_parse_features(name[6] ? name + 7 : "all")
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

/* Dequeues everything the guest sent on 'qp', which must be 'n' packets
 * from dev_fill_packet() with sequence numbers from 'seq' on. */
void
harness_dequeue_all(struct harness *h, size_t qp, int n, uint32_t seq)
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
        VHU_CHECK(bufs[i].len == dev_packet_len(seq + i));
        VHU_CHECK(dev_check_packet(bufs[i].data, bufs[i].len, seq + i));
    }
}

/* Sends 'n' packets from the guest on queue pair 0, in one descriptor
 * each, with sequence numbers from 'seq' on. */
void
harness_send_packets(struct harness *h, int n, uint32_t seq)
{
    uint8_t pkt[BUF_SIZE];

    for (int i = 0; i < n; i++) {
        dev_fill_packet(pkt, dev_packet_len(seq + i), seq + i);
        VHU_CHECK(!vhu_fe_tx(h->fe, 0, pkt, dev_packet_len(seq + i),
                             VHU_FE_LAYOUT_ONE));
    }
}

/* Sends GET_VRING_BASE for 'idx' and returns the base it replies. */
uint32_t
harness_get_vring_base(struct harness *h, uint32_t idx)
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
void
harness_kick_vring(struct harness *h, uint32_t idx)
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

/* The guest on 'h' just published something broken on vring 1 (queue pair
 * 0's TX ring, of 'size' entries; queue pair 1 is set up too).  Checks
 * that a dequeue breaks that queue, for 'fault', and counts it; that the
 * other queues and the connection carry on; and that the queue works again
 * once the frontend sets it up again.  Destroys 'h'. */
void
harness_check_broken_alone(struct harness *h, uint16_t size,
                           enum vhu_vq_fault fault)
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
    harness_check_guest_tx(h, 1, 50);
    harness_check_guest_rx(h, 0, 50);
    harness_sync(h);

    /* Set up again, the queue works again. */
    VHU_CHECK(!vhu_fe_setup_vring(h->fe, 1, size));
    VHU_CHECK(!vhu_dev_vring_broken(h->dev, 1));
    harness_check_guest_tx(h, 0, 50);
    free(rx.data);
    harness_destroy(h);
}

void
harness_check_broken_cases(void (*check)(int), const char *const names[],
                           int n)
{
    for (int i = 0; i < n; i++) {
        check(i);
        printf("%s: that queue stops, counted; other queues and the "
               "connection carry on; set up again, it works\n", names[i]);
    }
}

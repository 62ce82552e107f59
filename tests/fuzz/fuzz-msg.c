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

/* Fuzz target "msg": the message parser (lib/vhu-msg.c) and the protocol
 * state machine (lib/vhu-dev.c) through the path that a frontend reaches.
 * Each input is a session (format in fuzz.h): a device made by
 * vhu_dev_create_connected() on one end of a socketpair, and on the other
 * end messages with the header, payload and fds that the input says
 * (memfds of guest memory that the input fills, eventfds, empty memfds,
 * pipes; too few, too many), sent whole, in two parts, or cut short.
 * After each message vhu_dev_run() handles it and the target reads the
 * replies, which must be well-formed and answer that message.  Bursts and
 * the calls that other threads make (state, reports, counters) run
 * between messages, on whatever the messages set up.  At the end the
 * frontend hangs up, the device is destroyed, and every fd open before the
 * session must be all that is open after it. */

#include <config.h>

#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-msg.h"

#define MAX_RECORDS 512

/* How many fds the leak check looks at: far more than a session opens. */
#define FD_SCAN 256

struct msg_session {
    struct vhu_dev *dev;
    int sock;                   /* The frontend's end, or -1 once closed. */
    bool dev_closed;            /* The device closed its end. */
    int files[VHU_FUZZ_MSG_FILES];      /* Guest memory, or -1. */
    uint32_t request;           /* The last request sent. */
    uint8_t replies[512];       /* What arrived of a reply so far. */
    size_t n_replies;
    int n_changes;
    struct vhu_fuzz_rng rng;
    uint32_t seq;
};

static bool warming_up;

static void
fd_snapshot(bool open[FD_SCAN])
{
    struct pollfd pfds[FD_SCAN];

    for (int i = 0; i < FD_SCAN; i++) {
        pfds[i].fd = i;
        pfds[i].events = 0;
        pfds[i].revents = 0;
    }
    VHU_FUZZ_CHECK(poll(pfds, FD_SCAN, 0) >= 0);
    for (int i = 0; i < FD_SCAN; i++) {
        open[i] = !(pfds[i].revents & POLLNVAL);
    }
}

static void
msg_changed(void *s_)
{
    struct msg_session *s = s_;

    s->n_changes++;
}

static int
msg_file(struct msg_session *s, unsigned int idx)
{
    int *fdp = &s->files[idx % VHU_FUZZ_MSG_FILES];

    if (*fdp < 0) {
        *fdp = memfd_create("vhu-fuzz-guest", MFD_CLOEXEC);
        VHU_FUZZ_CHECK(*fdp >= 0);
        VHU_FUZZ_CHECK(!ftruncate(*fdp, VHU_FUZZ_MSG_FILE_SIZE));
    }
    return *fdp;
}

/* Returns a new fd of the kind that 'fds' (VHU_FUZZ_MSG_FDS_*) says, the
 * 'i'th of a message whose first guest memory file is 'base'. */
static int
msg_make_fd(struct msg_session *s, uint8_t fds, uint8_t base, int i)
{
    int fd, p[2];

    switch (fds & VHU_FUZZ_MSG_FDS_KIND) {
    case VHU_FUZZ_MSG_FDS_MEM:
        fd = fcntl(msg_file(s, base + i), F_DUPFD_CLOEXEC, 0);
        break;
    case VHU_FUZZ_MSG_FDS_EVENT:
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        break;
    case VHU_FUZZ_MSG_FDS_EMPTY:
        fd = memfd_create("vhu-fuzz-empty", MFD_CLOEXEC);
        break;
    case VHU_FUZZ_MSG_FDS_PIPE:
    default:
        VHU_FUZZ_CHECK(!pipe2(p, O_CLOEXEC | O_NONBLOCK));
        close(p[1]);
        fd = p[0];
        break;
    }
    VHU_FUZZ_CHECK(fd >= 0);
    return fd;
}

/* Sends 'len' bytes at 'data' with 'n_fds' fds on the frontend's socket.
 * Returns false if the device has closed its end. */
static bool
msg_send(struct msg_session *s, const uint8_t *data, size_t len,
         const int *fds, size_t n_fds)
{
    struct iovec iov = { .iov_base = CONST_CAST(uint8_t *, data),
                         .iov_len = len };
    ssize_t n = vhu_msg_sendv(s->sock, &iov, 1, fds, n_fds);

    if (n < 0) {
        /* The device hung up; nothing else may go wrong here. */
        VHU_FUZZ_CHECK(n == -EPIPE || n == -ECONNRESET);
        return false;
    }
    VHU_FUZZ_CHECK(n == len);
    return true;
}

/* Reads what the device sent and checks each whole reply: a reply of 8
 * bytes (every reply is a u64 or a vring state) to the last request. */
static void
msg_drain(struct msg_session *s)
{
    int n_whole = 0;

    for (;;) {
        size_t room = sizeof s->replies - s->n_replies;
        ssize_t n = recv(s->sock, s->replies + s->n_replies, room,
                         MSG_DONTWAIT);

        if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0) {
            VHU_FUZZ_CHECK(errno == EAGAIN || errno == ECONNRESET);
            break;
        } else if (!n) {
            s->dev_closed = true;
            break;
        }
        s->n_replies += n;

        struct vhu_msg_header hdr;
        while (s->n_replies >= sizeof hdr + sizeof(uint64_t)) {
            memcpy(&hdr, s->replies, sizeof hdr);
            VHU_FUZZ_CHECK(hdr.flags == (VHU_MSG_VERSION | VHU_MSG_REPLY));
            VHU_FUZZ_CHECK(hdr.size == sizeof(uint64_t));
            VHU_FUZZ_CHECK(hdr.request == s->request);
            n_whole++;

            size_t whole = sizeof hdr + hdr.size;
            memmove(s->replies, s->replies + whole, s->n_replies - whole);
            s->n_replies -= whole;
        }
    }
    /* One reply at most to one request, and never half of one. */
    VHU_FUZZ_CHECK(n_whole <= 1);
    VHU_FUZZ_CHECK(!s->n_replies);
}

static void
msg_run(struct msg_session *s)
{
    vhu_dev_run(s->dev);
    if (s->sock >= 0) {
        msg_drain(s);
    }
}

static void
msg_record_msg(struct msg_session *s, struct vhu_fuzz_input *in)
{
    uint8_t fds = vhu_fuzz_u8(in);
    uint8_t base = vhu_fuzz_u8(in);
    uint8_t buf[sizeof(struct vhu_msg_header) + VHU_MSG_MAX_PAYLOAD];
    struct vhu_msg_header hdr;

    hdr.request = vhu_fuzz_u8(in);
    hdr.flags = vhu_fuzz_u8(in);
    hdr.size = vhu_fuzz_u16(in);
    size_t payload = hdr.size <= VHU_MSG_MAX_PAYLOAD ? hdr.size : 0;
    memcpy(buf, &hdr, sizeof hdr);
    vhu_fuzz_bytes(in, buf + sizeof hdr, payload);

    if (s->sock < 0 || s->dev_closed) {
        return;
    }

    int fd_list[VHU_FUZZ_MSG_FDS_N];
    size_t n_fds = fds & VHU_FUZZ_MSG_FDS_N;
    for (size_t i = 0; i < n_fds; i++) {
        fd_list[i] = msg_make_fd(s, fds, base, i);
    }

    size_t len = sizeof hdr + payload;
    s->request = hdr.request;
    if (fds & VHU_FUZZ_MSG_CUT) {
        /* Half of it, then the frontend hangs up. */
        if (msg_send(s, buf, len / 2, fd_list, n_fds)) {
            shutdown(s->sock, SHUT_WR);
        }
    } else if (fds & VHU_FUZZ_MSG_APART) {
        /* The header, or half of it if nothing follows, then the rest
         * with the fds. */
        size_t first = payload ? sizeof hdr : sizeof hdr / 2;

        if (msg_send(s, buf, first, NULL, 0)) {
            msg_send(s, buf + first, len - first, fd_list, n_fds);
        }
    } else {
        msg_send(s, buf, len, fd_list, n_fds);
    }
    for (size_t i = 0; i < n_fds; i++) {
        close(fd_list[i]);
    }
    msg_run(s);
}

static void
msg_record_mem(struct msg_session *s, struct vhu_fuzz_input *in)
{
    uint8_t file = vhu_fuzz_u8(in);
    uint32_t ofs = vhu_fuzz_u32(in) % VHU_FUZZ_MSG_FILE_SIZE;
    uint16_t len = vhu_fuzz_u16(in);
    uint8_t *data = xmalloc(MAX(len, 1));

    vhu_fuzz_bytes(in, data, len);
    len = MIN(len, VHU_FUZZ_MSG_FILE_SIZE - ofs);
    VHU_FUZZ_CHECK(pwrite(msg_file(s, file), data, len, ofs) == len);
    free(data);
}

static void
msg_record_burst(struct msg_session *s, struct vhu_fuzz_input *in)
{
    unsigned int qp = vhu_fuzz_u8(in) % 4;
    int n = 1 + vhu_fuzz_u8(in) % 64;
    uint8_t seed = vhu_fuzz_u8(in);

    vhu_fuzz_rng_init(&s->rng, seed);

    struct vhu_buf *bufs = vhu_fuzz_bufs_alloc(&s->rng, n);
    int got = vhu_dev_dequeue_burst(s->dev, qp, bufs, n);
    VHU_FUZZ_CHECK(got >= 0 && got <= n);
    vhu_fuzz_bufs_check(bufs, got);
    vhu_fuzz_bufs_free(bufs, n);

    struct vhu_buf *pkts = vhu_fuzz_pkts_alloc(&s->rng, n, s->seq);
    s->seq += n;
    got = vhu_dev_enqueue_burst(s->dev, qp, pkts, n);
    VHU_FUZZ_CHECK(got >= 0 && got <= n);
    vhu_fuzz_bufs_free(pkts, n);

    int backlog = vhu_dev_dequeue_backlog(s->dev, qp);
    VHU_FUZZ_CHECK(backlog >= 0 && backlog <= VHU_VRING_MAX_SIZE);
}

static void
msg_record_query(struct msg_session *s, struct vhu_fuzz_input *in)
{
    uint8_t what = vhu_fuzz_u8(in);
    unsigned int vring = (what >> 2) % 8;

    switch (what % 4) {
    case 0: {
        struct vhu_dev_state st;

        vhu_dev_get_state(s->dev, &st);
        VHU_FUZZ_CHECK(st.n_vrings <= VHU_MAX_VRINGS);
        VHU_FUZZ_CHECK(st.n_queue_pairs <= VHU_MAX_QUEUE_PAIRS);
        VHU_FUZZ_CHECK(!(st.features & ~VHU_DEV_FEATURES));
        VHU_FUZZ_CHECK(!(st.protocol_features
                         & ~VHU_DEV_PROTOCOL_FEATURES));
        VHU_FUZZ_CHECK(!st.mtu || (st.mtu >= VHU_DEV_MIN_MTU
                                   && st.mtu <= VHU_DEV_MAX_MTU));
        VHU_FUZZ_CHECK(memchr(st.last_error, '\0', sizeof st.last_error));
        VHU_FUZZ_CHECK(!st.running || st.connected);
        break;
    }
    case 1: {
        struct ds ds = DS_EMPTY_INITIALIZER;

        vhu_dev_show(s->dev, &ds);
        VHU_FUZZ_CHECK(ds.length > 0);
        ds_destroy(&ds);
        break;
    }
    case 2: {
        struct vhu_vq_stats stats;
        bool ready = vhu_dev_vring_ready(s->dev, vring);
        bool broken = vhu_dev_vring_broken(s->dev, vring);

        VHU_FUZZ_CHECK(!(ready && broken));
        vhu_dev_vring_enabled(s->dev, vring);
        VHU_FUZZ_CHECK(vhu_dev_vring_size(s->dev, vring)
                       <= VHU_VRING_MAX_SIZE);
        vhu_dev_vring_stats(s->dev, vring, &stats);
        VHU_FUZZ_CHECK(stats.bytes >= stats.packets);
        break;
    }
    case 3: {
        uint8_t mac[6];

        vhu_dev_take_rarp(s->dev, mac);
        vhu_dev_numa_node(s->dev);
        break;
    }
    }
}

static void
run_msg(const uint8_t *data, size_t size)
{
    bool fds_before[FD_SCAN], fds_after[FD_SCAN];
    struct msg_session s;
    struct vhu_fuzz_input in;
    int sv[2];

    fd_snapshot(fds_before);

    memset(&s, 0, sizeof s);
    for (int i = 0; i < VHU_FUZZ_MSG_FILES; i++) {
        s.files[i] = -1;
    }
    VHU_FUZZ_CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    s.dev = vhu_dev_create_connected("fuzz", sv[0], msg_changed, &s);
    s.sock = sv[1];

    vhu_fuzz_input_init(&in, data, size);
    for (int i = 0; i < MAX_RECORDS && !vhu_fuzz_input_done(&in); i++) {
        switch (vhu_fuzz_u8(&in) % 4) {
        case VHU_FUZZ_REC_MSG:
            msg_record_msg(&s, &in);
            break;
        case VHU_FUZZ_REC_MEM:
            msg_record_mem(&s, &in);
            break;
        case VHU_FUZZ_REC_BURST:
            msg_record_burst(&s, &in);
            break;
        case VHU_FUZZ_REC_QUERY:
            msg_record_query(&s, &in);
            break;
        }
    }

    /* The frontend hangs up: the device must see it and let go of
     * everything. */
    shutdown(s.sock, SHUT_WR);
    msg_run(&s);

    struct vhu_dev_state st;
    vhu_dev_get_state(s.dev, &st);
    VHU_FUZZ_CHECK(!st.connected && !st.running && !st.n_vrings);

    vhu_dev_destroy(s.dev);
    close(s.sock);
    for (int i = 0; i < VHU_FUZZ_MSG_FILES; i++) {
        if (s.files[i] >= 0) {
            close(s.files[i]);
        }
    }

    fd_snapshot(fds_after);
    for (int i = 0; i < FD_SCAN && !warming_up; i++) {
        if (fds_before[i] != fds_after[i]) {
            fprintf(stderr, "fd %d %s during the session\n", i,
                    fds_after[i] ? "leaked" : "closed");
            VHU_FUZZ_CHECK(fds_before[i] == fds_after[i]);
        }
    }
}

/* Runs a session once, so that what Open vSwitch's library opens once per
 * process (pipes, its clock) is open before the first session that the
 * leak check watches. */
static void
init_msg(void)
{
    static const uint8_t session[] = {
        VHU_FUZZ_REC_MSG, 0, 0, VHU_GET_FEATURES, VHU_MSG_VERSION, 0, 0,
        VHU_FUZZ_REC_MEM, 0, 0, 0, 0, 0, 1, 0, 0xff,
        VHU_FUZZ_REC_BURST, 0, 0, 0,
        VHU_FUZZ_REC_QUERY, 0,
        VHU_FUZZ_REC_QUERY, 1,
    };

    warming_up = true;
    run_msg(session, sizeof session);
    warming_up = false;
}

const struct vhu_fuzz_target vhu_fuzz_msg = {
    "msg", "message parser and protocol state machine, over a socketpair",
    init_msg, run_msg,
};

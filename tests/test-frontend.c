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

/* "ovs-vhu-test frontend": the test frontend as a program, so that
 * autotest can put it in front of vhu-bench and ovs-vswitchd the way
 * a VM would be.
 *
 *   ovs-vhu-test frontend [--packed] [--in-order] [--no-mrg] [--stay]
 *                         [--foreign] [--reconnect] [--hold FILE]
 *                         [--rounds R] [--until FILE]
 *                         connect|listen PATH tx|rx|loop N [PAIRS [SIZE]]
 *
 * connects to (or listens on and accepts one connection at) PATH, sets up
 * PAIRS queue pairs (default 1) with every feature offered but packed
 * rings and in-order use (unless asked for) and mergeable RX buffers (if
 * refused), and then sends N numbered 64-byte (or SIZE-byte) frames (tx),
 * receives N (rx) and checks them (each of ours once, intact; RARP
 * announcements counted apart; with --foreign, frames another source
 * made), or both (loop: what it sends must come back).  It prints what it
 * did and exits nonzero if it could not within 10 s of the last progress.
 * With --stay it then keeps the connection, its rings as they are, until
 * the backend closes it or 30 s pass.  With --until FILE it stops sending
 * (tx) once FILE exists, and stops receiving (rx) once FILE exists and
 * nothing came for a second, short of N or not: the test then compares
 * what the two ends printed.  With --reconnect, a backend that goes away
 * (killed, say) is waited for, and the same rings set up again on its next
 * connection, as QEMU does (vhu_fe_resume()); frames it lost, or sent
 * twice, are counted rather than failing the test, and printed with the
 * number of reconnections; with --hold FILE, it takes no new connection
 * while FILE exists (so that the test can give a new switch its flows
 * before traffic reaches it).  With --rounds R (which implies --reconnect),
 * it sends N frames on each of R connections, each round's only once the
 * last one's came back, the backend went away and came back, and the file
 * roundK (K the round from 2 on) is there in the current directory: so
 * the test can give the new backend its flows first. */

#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ovs-vhu-test.h"
#include "timeval.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-frontend.h"

#define DEFAULT_FRAME_SIZE 64
#define MAX_FRAME_SIZE 9000
#define IDLE_LIMIT_MS 10000
#define TX_ONLY_BURST 32
#define RARP_MAC "\x02\x00\x00\x00\x00\x07"

static int
frontend_socket(const char *how, const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    long long int deadline = time_msec() + IDLE_LIMIT_MS;
    int fd;

    VHU_CHECK(strlen(path) < sizeof sun.sun_path);
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    if (!strcmp(how, "listen")) {
        int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct pollfd pfd = { .fd = listener, .events = POLLIN };

        unlink(path);
        VHU_CHECK(!bind(listener, (struct sockaddr *) &sun, sizeof sun));
        VHU_CHECK(!listen(listener, 1));
        VHU_CHECK(poll(&pfd, 1, IDLE_LIMIT_MS) == 1);
        fd = accept(listener, NULL, NULL);
        close(listener);
        unlink(path);
    } else {
        VHU_CHECK(!strcmp(how, "connect"));
        for (;;) {
            fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (!connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
                break;
            }
            close(fd);
            VHU_CHECK(time_msec() < deadline);
            xnanosleep(50 * 1000 * 1000);
        }
    }
    VHU_CHECK(fd >= 0);
    return fd;
}

/* Our frames: Ethernet to 02:00:00:00:00:02 from 02:02:00:00:00:01, a
 * local experimental ethertype, then a sequence number and zeros. */
static const uint8_t frame_head[14] = {
    0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5,
};

/* Checks a received frame: one of ours that 'seen' (a bit per sequence
 * number below 'n') had not seen yet, which it marks, or a RARP
 * announcement; with 'seen' NULL, any frame of 60 bytes or more (from a
 * source that is not one of us) or a RARP announcement.  Anything else,
 * or one of ours again, fails the test: a backend that mangles, truncates
 * or repeats frames must not pass.  Returns false for a RARP
 * announcement. */
static bool
check_frame(const uint8_t *p, size_t len, uint64_t n, uint8_t *seen,
            uint64_t *n_dupsp)
{
    const uint8_t *head = frame_head;
    uint32_t seq;

    VHU_CHECK(len >= 42);
    if (p[12] == 0x80 && p[13] == 0x35) {
        return false;
    }
    VHU_CHECK(len >= 60);
    if (!seen) {
        return true;            /* --foreign: another source's frames. */
    }
    VHU_CHECK(!memcmp(p, head, sizeof frame_head));
    memcpy(&seq, p + sizeof frame_head, sizeof seq);
    VHU_CHECK(seq < n);
    if (seen[seq / 8] & (1u << (seq % 8))) {
        VHU_CHECK(n_dupsp);
        (*n_dupsp)++;
    }
    seen[seq / 8] |= 1u << (seq % 8);
    for (size_t i = sizeof frame_head + sizeof seq; i < len; i++) {
        VHU_CHECK(!p[i]);
    }
    return true;
}

static void
make_frame(uint8_t *p, size_t size, uint32_t seq)
{
    memset(p, 0, size);
    memcpy(p, frame_head, sizeof frame_head);
    memcpy(p + sizeof frame_head, &seq, sizeof seq);
}

/* True if the backend closed the connection on 'sock' (it never sends
 * anything unasked). */
static bool
backend_gone(int sock)
{
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    char c;

    return poll(&pfd, 1, 0) == 1 && recv(sock, &c, 1, MSG_DONTWAIT) <= 0;
}

/* Keeps the connection on 'sock' until the backend closes it or 'ms'
 * milliseconds pass. */
static void
hold_connection(int sock, uint64_t ms)
{
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    char c;

    fflush(stdout);
    if (poll(&pfd, 1, ms) == 1 && read(sock, &c, 1) <= 0) {
        printf("the backend closed the connection\n");
    }
}

static void
run_frontend(int argc, char *argv[])
{
    uint64_t features = (VHU_DEV_FEATURES
                         & ~((1ULL << VHU_VIRTIO_F_RING_PACKED)
                             | (1ULL << VHU_VIRTIO_F_IN_ORDER)));
    const char *layout = "split";
    bool stay = false;
    bool foreign = false;
    bool reconnect = false;
    int rounds = 0;
    const char *until = NULL;
    const char *hold_file = NULL;

    while (argc > 1 && !strncmp(argv[1], "--", 2)) {
        if (!strcmp(argv[1], "--packed")) {
            features |= 1ULL << VHU_VIRTIO_F_RING_PACKED;
            layout = "packed";
        } else if (!strcmp(argv[1], "--in-order")) {
            features |= 1ULL << VHU_VIRTIO_F_IN_ORDER;
        } else if (!strcmp(argv[1], "--no-mrg")) {
            features &= ~(1ULL << VHU_VIRTIO_NET_F_MRG_RXBUF);
        } else if (!strcmp(argv[1], "--stay")) {
            stay = true;
        } else if (!strcmp(argv[1], "--foreign")) {
            foreign = true;
        } else if (!strcmp(argv[1], "--reconnect")) {
            reconnect = true;
        } else if (!strcmp(argv[1], "--hold") && argc > 2) {
            hold_file = argv[2];
            argv[2] = argv[0];
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--rounds") && argc > 2) {
            reconnect = true;
            rounds = atoi(argv[2]);
            VHU_CHECK(rounds >= 1);
            argv[2] = argv[0];
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--until") && argc > 2) {
            until = argv[2];
            argv[2] = argv[0];
            argv++;
            argc--;
        } else {
            ovs_fatal(0, "unknown option %s", argv[1]);
        }
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    if (argc < 5 || argc > 7) {
        ovs_fatal(0, "usage: frontend [--packed] [--in-order] [--no-mrg] "
                  "[--stay] [--foreign] [--reconnect] [--hold FILE] "
                  "[--rounds R] [--until FILE] connect|listen PATH "
                  "tx|rx|loop|hold|rarp N [PAIRS [SIZE]]");
    }
    const char *mode = argv[3];
    bool tx = !strcmp(mode, "tx") || !strcmp(mode, "loop");
    bool rx = !strcmp(mode, "rx") || !strcmp(mode, "loop");
    bool rarp = !strcmp(mode, "rarp");
    bool hold = !strcmp(mode, "hold") || rarp;
    uint64_t n = strtoull(argv[4], NULL, 10);
    uint64_t per_round = n;
    if (rounds) {
        n *= rounds;
    }
    size_t n_pairs = argc > 5 ? atoi(argv[5]) : 1;
    size_t frame_size = argc > 6 ? atoi(argv[6]) : DEFAULT_FRAME_SIZE;

    VHU_CHECK(tx || rx || hold);
    VHU_CHECK(n_pairs >= 1 && n_pairs <= VHU_FE_MAX_VRINGS / 2);
    VHU_CHECK(frame_size >= 60 && frame_size <= MAX_FRAME_SIZE);

    /* A receiver only (on a switch's port) gets rings that absorb a while
     * without CPU time on a busy machine. */
    uint16_t ring_size = rx && !tx ? 1024 : 256;

    int sock = frontend_socket(argv[1], argv[2]);
    struct vhu_fe *fe = vhu_fe_create(sock, 1, 16 * 1024 * 1024);
    VHU_CHECK(!vhu_fe_start(fe, features, VHU_DEV_PROTOCOL_FEATURES,
                            n_pairs, ring_size));
    VHU_CHECK(fe->features == (features & VHU_DEV_FEATURES));
    if (strcmp(layout, "split")) {
        printf("%s rings\n", layout);
    }
    if (rarp) {
        /* What QEMU sends after a live migration: announce the guest's
         * MAC address (RARP_MAC) for it. */
        uint64_t mac = 0;

        memcpy(&mac, RARP_MAC, 6);
        VHU_CHECK(!vhu_fe_send(fe, VHU_SEND_RARP, VHU_MSG_VERSION, &mac,
                               sizeof mac, NULL, 0));
    }
    if (hold) {
        /* Queues set up, no RX buffer ever posted: the backend finds the
         * RX ring full from the start.  'n' is how long, in ms, unless the
         * backend leaves first. */
        printf("holding for %"PRIu64" ms\n", n);
        hold_connection(sock, n);
        vhu_fe_destroy(fe);
        close(sock);
        return;
    }

    /* RX buffers first, so that a backend that sends back at once (a
     * loopback) finds them there from the first packet on. */
    for (size_t qp = 0; rx && qp < n_pairs; qp++) {
        vhu_fe_rx_post(fe, qp, ring_size, 2048);
    }

    uint64_t sent = 0, received = 0, reaped = 0, n_rarps = 0;
    uint64_t n_dups = 0, n_reconnects = 0;
    uint64_t given_up = 0;      /* Frames the backend had taken and not
                                 * sent back when it went away, or when
                                 * none came back for a second: most
                                 * likely lost.  (Those still in our TX
                                 * ring are not.) */
    uint8_t *seen = foreign ? NULL : xcalloc(n / 8 + 1, 1);
    long long int last_progress = time_msec();
    uint64_t n_iterations = 0;
    while ((tx && reaped < n) || (rx && received < n)) {
        bool progress = false;
        bool stopping = until && !access(until, F_OK);

        if (reconnect && rx && time_msec() - last_progress > 1000) {
            /* Nothing for a second: what is in flight was lost (a new
             * backend without its flows yet drops what it gets). */
            given_up = reaped - received;
        }
        if (reconnect && backend_gone(sock)) {
            close(sock);
            given_up = reaped - received;
            fprintf(stderr, "the backend went away: %"PRIu64" sent, %"PRIu64
                    " reaped, %"PRIu64" received\n", sent, reaped, received);
            while (hold_file && !access(hold_file, F_OK)) {
                xnanosleep(10 * 1000 * 1000);
            }
            sock = frontend_socket(argv[1], argv[2]);
            VHU_CHECK(!vhu_fe_resume(fe, sock, features,
                                     VHU_DEV_PROTOCOL_FEATURES));
            n_reconnects++;
            last_progress = time_msec();
            continue;
        }

        if (stopping && (!tx || reaped == sent)
            && (!rx || time_msec() - last_progress > 1000)) {
            break;
        }
        if (reconnect && !rounds && (!tx || reaped == n)
            && time_msec() - last_progress > 1000) {
            break;              /* What did not come back was lost. */
        }
        if (stopping && tx) {
            n = MIN(n, sent);
        }

        /* In rounds, a round's frames wait for their connection (the
         * first round's for the first), and from the second on for the
         * test to say go. */
        uint64_t limit = n;
        if (rounds) {
            uint64_t round = n_reconnects + 1;
            char go[32];

            snprintf(go, sizeof go, "round%"PRIu64, round);
            if (round > 1 && access(go, F_OK)) {
                round--;
            }
            limit = MIN(n, per_round * round);
        }

        for (size_t qp = 0; qp < n_pairs; qp++) {
            uint8_t frame[MAX_FRAME_SIZE];

            /* In a loop, no more in flight than the RX ring holds, so
             * that a backend that sends back at once never finds it
             * full.  Sending only, a burst of at most TX_ONLY_BURST per
             * millisecond on each queue pair in turn: a guest at a low
             * rate, which a receiver on another port of a switch keeps up
             * with. */
            size_t budget = (rx ? SIZE_MAX
                             : qp == n_iterations % n_pairs ? TX_ONLY_BURST
                             : 0);
            while (tx && sent < limit
                   && (!rx || ((int64_t) (sent - received)
                               - (int64_t) given_up < 128))
                   && budget-- > 0) {
                make_frame(frame, frame_size, sent);
                if (vhu_fe_tx(fe, qp, frame, frame_size,
                              VHU_FE_LAYOUT_ONE)) {
                    break;
                }
                sent++;
                progress = true;
            }
            size_t n_reaped = vhu_fe_tx_reap(fe, qp);
            reaped += n_reaped;

            if (rx) {
                uint8_t buf[MAX_FRAME_SIZE + 64];
                uint16_t n_buffers;
                size_t len;

                vhu_fe_rx_post(fe, qp, ring_size, 2048);
                while (!vhu_fe_rx(fe, qp, buf, sizeof buf, &len,
                                  &n_buffers)) {
                    /* Ours, or a switch's RARP announcement. */
                    n_rarps += !check_frame(buf, len, n, seen,
                                            reconnect ? &n_dups : NULL);
                    received++;
                    progress = true;
                }
            }
            progress |= n_reaped > 0;
        }
        if (tx && !rx) {
            xnanosleep(1000 * 1000);
        }
        n_iterations++;
        if (progress) {
            last_progress = time_msec();
        } else if (time_msec() - last_progress
                   > (rounds ? 3 * IDLE_LIMIT_MS : IDLE_LIMIT_MS)) {
            break;
        } else {
            xnanosleep(100 * 1000);
        }
    }

    if (tx) {
        printf("sent %"PRIu64" packets\n", reaped);
    }
    if (rx) {
        printf("received %"PRIu64" packets\n", received);
        if (n_rarps) {
            printf("of which %"PRIu64" RARP announcement(s)\n", n_rarps);
        }
    }
    if (reconnect) {
        printf("reconnected %"PRIu64" time(s), %"PRIu64" frame(s) lost, "
               "%"PRIu64" duplicated\n", n_reconnects,
               tx && rx ? reaped - (received - n_dups) : 0, n_dups);
    }
    free(seen);
    if (stay) {
        hold_connection(sock, 30000);
    }
    vhu_fe_destroy(fe);
    close(sock);
    VHU_CHECK(until || (reconnect && !rounds)
              || ((!tx || reaped == n) && (!rx || received == n)));
}

const struct vhu_test vhu_test_frontend = {
    "frontend", "a vhost-user frontend: [--packed] [--in-order] [--no-mrg] "
    "[--stay] [--foreign] [--reconnect] [--hold FILE] [--rounds R] "
    "[--until FILE] connect|listen PATH "
    "tx|rx|loop|hold|rarp N "
    "[PAIRS [SIZE]]", run_frontend,
};

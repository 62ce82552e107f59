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

/* "ovs-vhu-test attack": a hostile frontend, for the negative suite
 * (tests/negative.at).
 *
 *   ovs-vhu-test attack --pid PID PATH [CASE...]
 *
 * connects, once per case, to the server-mode port at PATH of the
 * ovs-vswitchd with pid PID, whose flows send what the port receives back
 * to it ("actions=in_port"), and does one thing that a broken or malicious
 * VMM or guest could do: a malformed message, a bad memory table or ring
 * set-up, a broken descriptor chain, and so on (every case, by default).
 * For each one it checks and prints what the switch did about it (refused
 * the request and kept the connection, closed the connection, stopped
 * that one queue while the other queue pair and the connection carried
 * on, dropped the packet and carried on, or simply worked), then closes
 * the connection and checks that the switch still runs, with the same
 * pid and start time, and that once it let go of the connection it holds
 * no more fds and no more guest memory mappings than before the case. */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "ovs-atomic.h"
#include "ovs-vhu-test.h"
#include "timeval.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-frontend.h"

#define RING 256                /* Ring size of every case. */
#define N_PAIRS 2
#define REGION (16 * 1024 * 1024)
#define FRAME_LEN 64
#define BACK_MS 5000            /* How long a frame may take to come back. */
#define GONE_MS 300             /* How long to wait for one that must not. */
#define SETTLE_MS 10000         /* For the switch to let go of a case. */

/* The switch we attack, and what it held before the first case. */
struct target {
    const char *path;
    pid_t pid;
    char start_time[32];
    int fds;
    int maps;
};

/* What a case found the switch to do. */
#define OUTCOME_NACK "refused with a nack, connection kept"
#define OUTCOME_CLOSED "connection closed"
#define OUTCOME_STOPPED "that queue stops; the other queue pair and the " \
    "connection carry on; set up again, it works"
#define OUTCOME_DROPPED "packet dropped; the queue carries on"
#define OUTCOME_WORKS "accepted; traffic flows"

/* The switch. */

static void
read_proc(pid_t pid, const char *file, char *buf, size_t size)
{
    char path[64];
    FILE *stream;
    size_t n;

    snprintf(path, sizeof path, "/proc/%ld/%s", (long) pid, file);
    stream = fopen(path, "r");
    if (!stream) {
        ovs_fatal(errno, "the switch (pid %ld) is gone: %s", (long) pid,
                  path);
    }
    n = fread(buf, 1, size - 1, stream);
    buf[n] = '\0';
    fclose(stream);
}

/* Field 22 of /proc/PID/stat: when the process started.  The same pid with
 * another start time is another process. */
static void
switch_start_time(pid_t pid, char *buf, size_t size)
{
    char stat[1024];
    const char *p;

    read_proc(pid, "stat", stat, sizeof stat);
    p = strrchr(stat, ')');
    VHU_CHECK(p != NULL);
    for (int field = 2; field < 22; field++) {
        p = strchr(p + 1, ' ');
        VHU_CHECK(p != NULL);
    }
    snprintf(buf, size, "%.*s", (int) strcspn(p + 1, " "), p + 1);
}

static int
switch_fds(pid_t pid)
{
    char path[64];
    struct dirent *de;
    DIR *dir;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%ld/fd", (long) pid);
    dir = opendir(path);
    if (!dir) {
        ovs_fatal(errno, "the switch (pid %ld) is gone: %s", (long) pid,
                  path);
    }
    while ((de = readdir(dir)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(dir);
    return n;
}

/* The switch's mappings of our guest memory. */
static int
switch_guest_maps(pid_t pid)
{
    static char maps[1 << 22];
    int n = 0;

    read_proc(pid, "maps", maps, sizeof maps);
    for (const char *p = maps; (p = strstr(p, "memfd:vhu-frontend")); p++) {
        n++;
    }
    return n;
}

static void
target_init(struct target *t, pid_t pid, const char *path)
{
    t->path = path;
    t->pid = pid;
    switch_start_time(pid, t->start_time, sizeof t->start_time);
    t->fds = switch_fds(pid);
    t->maps = switch_guest_maps(pid);
}

/* Checks that the switch still runs, and waits until it holds what it held
 * before the first case. */
static void
target_check(const struct target *t, const char *name)
{
    long long int deadline = time_msec() + SETTLE_MS;
    char start_time[32];
    int fds, maps;

    switch_start_time(t->pid, start_time, sizeof start_time);
    if (strcmp(start_time, t->start_time)) {
        ovs_fatal(0, "%s: the switch restarted", name);
    }
    for (;;) {
        fds = switch_fds(t->pid);
        maps = switch_guest_maps(t->pid);
        if (fds == t->fds && maps == t->maps) {
            return;
        }
        if (time_msec() > deadline) {
            ovs_fatal(0, "%s: the switch holds %d fds and %d guest memory "
                      "mappings, %d and %d before", name, fds, maps, t->fds,
                      t->maps);
        }
        xnanosleep(20 * 1000 * 1000);
    }
}

static int
attack_connect(const struct target *t)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    VHU_CHECK(fd >= 0 && strlen(t->path) < sizeof sun.sun_path);
    ovs_strlcpy(sun.sun_path, t->path, sizeof sun.sun_path);
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        ovs_fatal(errno, "connecting to %s", t->path);
    }
    return fd;
}

/* The frontend. */

#define SPLIT_FEATURES (VHU_DEV_FEATURES                                \
                        & ~((1ULL << VHU_VIRTIO_F_RING_PACKED)          \
                            | (1ULL << VHU_VIRTIO_F_IN_ORDER)))
#define PACKED_FEATURES (SPLIT_FEATURES | (1ULL << VHU_VIRTIO_F_RING_PACKED))

static struct vhu_fe *
fe_open(const struct target *t, uint64_t region_size)
{
    return vhu_fe_create(attack_connect(t), 1, region_size);
}

static void
fe_close(struct vhu_fe *fe)
{
    int sock = fe->sock;

    vhu_fe_destroy(fe);
    close(sock);
}

static void
setup_vrings(struct vhu_fe *fe)
{
    for (uint32_t i = 0; i < 2 * N_PAIRS; i++) {
        VHU_CHECK(!vhu_fe_setup_vring(fe, i, RING));
    }
}

static void
post_rx_buffers(struct vhu_fe *fe)
{
    for (size_t qp = 0; qp < N_PAIRS; qp++) {
        vhu_fe_rx_post(fe, qp, RING, 2048);
    }
}

/* Sets up N_PAIRS queue pairs of RING entries with 'features', RX buffers
 * posted on each. */
static void
fe_start(struct vhu_fe *fe, uint64_t features)
{
    VHU_CHECK(!vhu_fe_start(fe, features, VHU_DEV_PROTOCOL_FEATURES,
                            N_PAIRS, RING));
    post_rx_buffers(fe);
}

/* Our frames: a local experimental ethertype, then a sequence number. */
static uint32_t next_seq = 1;

static void
make_frame(uint8_t *p, uint32_t seq)
{
    static const uint8_t head[14] = {
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5,
    };

    memset(p, 0, FRAME_LEN);
    memcpy(p, head, sizeof head);
    memcpy(p + sizeof head, &seq, sizeof seq);
}

/* Waits up to 'ms' for frames 'first' to 'last' to come back on any
 * queue pair, reposting RX buffers as it goes, and reaping TX ones of
 * queue pair 1 (and 0 if 'reap_qp0': not if we wrote chains there by hand,
 * which the frontend does not know).  Returns how many did not. */
static uint32_t
count_missing(struct vhu_fe *fe, uint32_t first, uint32_t last, int ms,
              bool reap_qp0)
{
    long long int deadline = time_msec() + ms;
    uint32_t n_wanted = last - first + 1;
    uint32_t n_left = n_wanted;
    uint8_t seen[64] = { 0 };

    VHU_CHECK(n_wanted <= 8 * sizeof seen);
    do {
        for (size_t qp = 0; qp < N_PAIRS; qp++) {
            uint8_t buf[9000];
            uint16_t n_buffers;
            size_t len;
            uint32_t got;

            if (!fe->vrings[2 * qp].set_up) {
                continue;
            }
            if (qp || reap_qp0) {
                vhu_fe_tx_reap(fe, qp);
            }
            while (!vhu_fe_rx(fe, qp, buf, sizeof buf, &len, &n_buffers)) {
                memcpy(&got, buf + 14, sizeof got);
                got -= first;
                if (len == FRAME_LEN && got < n_wanted
                    && !(seen[got / 8] & (1u << got % 8))) {
                    seen[got / 8] |= 1u << got % 8;
                    if (!--n_left) {
                        vhu_fe_rx_post(fe, qp, RING, 2048);
                        return 0;
                    }
                }
            }
            vhu_fe_rx_post(fe, qp, RING, 2048);
        }
        xnanosleep(1000 * 1000);
    } while (time_msec() < deadline);
    return n_left;
}

/* Returns true if frames 'first' to 'last' all came back within 'ms' (see
 * count_missing()). */
static bool
wait_all_back(struct vhu_fe *fe, uint32_t first, uint32_t last, int ms,
              bool reap_qp0)
{
    return !count_missing(fe, first, last, ms, reap_qp0);
}

static bool
wait_back(struct vhu_fe *fe, uint32_t seq, int ms, bool reap_qp0)
{
    return wait_all_back(fe, seq, seq, ms, reap_qp0);
}

/* Sends a frame on queue pair 'qp' through the frontend's own chains and
 * returns whether it came back. */
static bool
loop_frame(struct vhu_fe *fe, size_t qp)
{
    uint8_t frame[FRAME_LEN];
    uint32_t seq = next_seq++;

    make_frame(frame, seq);
    VHU_CHECK(!vhu_fe_tx(fe, qp, frame, sizeof frame, VHU_FE_LAYOUT_ONE));
    return wait_back(fe, seq, BACK_MS, qp == 0);
}

/* After the frontend set a queue up again: the switch picks the change up
 * from its control thread, so the first frames may still find the queue
 * as it was.  Sends frames on 'qp' until one comes back. */
static bool
loop_frame_eventually(struct vhu_fe *fe, size_t qp)
{
    for (int i = 0; i < BACK_MS / GONE_MS; i++) {
        uint8_t frame[FRAME_LEN];
        uint32_t seq = next_seq++;

        make_frame(frame, seq);
        VHU_CHECK(!vhu_fe_tx(fe, qp, frame, sizeof frame,
                             VHU_FE_LAYOUT_ONE));
        if (wait_back(fe, seq, GONE_MS, qp == 0)) {
            return true;
        }
    }
    return false;
}

/* Checks that the connection still answers a request. */
static void
check_connection_kept(struct vhu_fe *fe)
{
    uint64_t features;

    VHU_CHECK(!vhu_fe_get_u64(fe, VHU_GET_FEATURES, &features));
    VHU_CHECK(features == VHU_DEV_FEATURES);
}

/* Checks that frames flow on both queue pairs, and hangs up. */
static const char *
works_then_close(struct vhu_fe *fe)
{
    VHU_CHECK(loop_frame(fe, 0) && loop_frame(fe, 1));
    fe_close(fe);
    return OUTCOME_WORKS;
}

/* Messages. */

#define ROOT_DIR "/"

enum fd_kind {
    FD_EVENTFD,                 /* Nonblocking eventfd, as VMMs send. */
    FD_BLOCKING_EVENTFD,
    FD_PIPE,
    FD_SOCKET,
    FD_DIR,
    FD_SMALL_FILE,              /* A memfd of one page. */
    FD_GUEST_MEMORY,            /* The frontend's guest memory. */
};

enum msg_prep {
    PREP_NONE,                  /* The bad message comes first. */
    PREP_NEGOTIATED,            /* After features, with REPLY_ACK. */
    PREP_MEMORY,                /* And the memory table, vring 0's size. */
    PREP_RUNNING,               /* Every queue running. */
};

struct msg_case {
    const char *name;
    enum msg_prep prep;
    uint32_t request;
    uint32_t flags;             /* Besides the version. */
    const void *payload;
    size_t size;
    const enum fd_kind *fds;
    size_t n_fds;
    bool nack;                  /* Refused with a nack, or closed. */
};

static int
make_fd(enum fd_kind kind, struct vhu_fe *fe)
{
    int fds[2];
    int fd;

    switch (kind) {
    case FD_EVENTFD:
        return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    case FD_BLOCKING_EVENTFD:
        return eventfd(0, EFD_CLOEXEC);
    case FD_PIPE:
        VHU_CHECK(!pipe2(fds, O_CLOEXEC));
        close(fds[0]);
        return fds[1];
    case FD_SOCKET:
        VHU_CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
        close(fds[1]);
        return fds[0];
    case FD_DIR:
        return open(ROOT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    case FD_SMALL_FILE:
        fd = memfd_create("vhu-frontend", MFD_CLOEXEC);
        VHU_CHECK(fd >= 0 && !ftruncate(fd, 4096));
        return fd;
    case FD_GUEST_MEMORY:
        return dup(fe->regions[0].fd);
    default:
        OVS_NOT_REACHED();
    }
}

static void
prepare(struct vhu_fe *fe, enum msg_prep prep)
{
    if (prep >= PREP_NEGOTIATED) {
        VHU_CHECK(!vhu_fe_negotiate(fe, SPLIT_FEATURES,
                                    VHU_DEV_PROTOCOL_FEATURES));
    }
    if (prep >= PREP_MEMORY) {
        VHU_CHECK(!vhu_fe_share_memory(fe));
        VHU_CHECK(!vhu_fe_set_state(fe, VHU_SET_VRING_NUM, 0, RING, true,
                                    NULL));
    }
    if (prep >= PREP_RUNNING) {
        setup_vrings(fe);
    }
}

static const char *
run_msg_case(const struct target *t, const struct msg_case *c)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    int fds[VHU_MSG_MAX_FDS];

    prepare(fe, c->prep);
    VHU_CHECK(c->n_fds <= VHU_MSG_MAX_FDS);
    for (size_t i = 0; i < c->n_fds; i++) {
        fds[i] = make_fd(c->fds[i], fe);
        VHU_CHECK(fds[i] >= 0);
    }
    VHU_CHECK(!vhu_fe_send(fe, c->request, VHU_MSG_VERSION | c->flags,
                           c->payload, c->size, fds, c->n_fds));
    for (size_t i = 0; i < c->n_fds; i++) {
        close(fds[i]);
    }

    if (c->nack) {
        struct vhu_msg_header hdr;
        union vhu_msg_payload reply;

        VHU_CHECK(!vhu_fe_recv(fe, &hdr, &reply));
        VHU_CHECK(hdr.request == c->request);
        VHU_CHECK(hdr.size == sizeof reply.u64 && reply.u64 != 0);
        check_connection_kept(fe);
    } else {
        VHU_CHECK(vhu_fe_closed(fe));
    }
    fe_close(fe);
    return c->nack ? OUTCOME_NACK : OUTCOME_CLOSED;
}

/* Raw bytes: 'len' bytes of a message, then we hang up. */
static const char *
run_partial(const struct target *t, const void *data, size_t len)
{
    int sock = attack_connect(t);

    VHU_CHECK(send(sock, data, len, MSG_NOSIGNAL) == len);
    close(sock);
    return "we hang up mid-message; the switch lets the connection go";
}

static const char *
attack_truncated_payload(const struct target *t)
{
    struct {
        struct vhu_msg_header hdr;
        uint32_t half;
    } msg = { { VHU_SET_FEATURES, VHU_MSG_VERSION, 8 }, 0 };

    return run_partial(t, &msg, sizeof msg);
}

static const char *
attack_eof_in_header(const struct target *t)
{
    struct vhu_msg_header hdr = { VHU_GET_FEATURES, VHU_MSG_VERSION, 0 };

    return run_partial(t, &hdr, 6);
}

static const char *
attack_huge_payload(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_msg_header hdr = { VHU_SET_FEATURES, VHU_MSG_VERSION,
                                  1 << 20 };

    VHU_CHECK(send(fe->sock, &hdr, sizeof hdr, MSG_NOSIGNAL)
              == sizeof hdr);
    VHU_CHECK(vhu_fe_closed(fe));
    fe_close(fe);
    return OUTCOME_CLOSED;
}

/* More fds than any request carries, which vhu_fe_send() will not send. */
static const char *
attack_too_many_fds(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_msg_header hdr = { VHU_GET_FEATURES, VHU_MSG_VERSION, 0 };
    struct iovec iov = { .iov_base = &hdr, .iov_len = sizeof hdr };
    enum { N = VHU_MSG_MAX_FDS + 1 };
    int fds[N];

    for (int i = 0; i < N; i++) {
        fds[i] = make_fd(FD_EVENTFD, fe);
    }
    VHU_CHECK(vhu_msg_sendv(fe->sock, &iov, 1, fds, N) == sizeof hdr);
    for (int i = 0; i < N; i++) {
        close(fds[i]);
    }
    VHU_CHECK(vhu_fe_closed(fe));
    fe_close(fe);
    return OUTCOME_CLOSED;
}

/* Requests that ask for replies, never read. */
static const char *
attack_unread_replies(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_msg_header hdr = { VHU_GET_FEATURES, VHU_MSG_VERSION, 0 };
    long long int deadline = time_msec() + BACK_MS;
    int n;

    for (n = 0; time_msec() < deadline; n++) {
        ssize_t retval = send(fe->sock, &hdr, sizeof hdr,
                              MSG_NOSIGNAL | MSG_DONTWAIT);
        if (retval < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            break;
        } else if (retval < 0) {
            VHU_CHECK(errno == EAGAIN);
            xnanosleep(1000 * 1000);
        }
    }
    VHU_CHECK(vhu_fe_closed(fe));
    fe_close(fe);
    return OUTCOME_CLOSED;
}

/* Memory tables for the message cases. */
static struct vhu_mem_table table_zero_size = {
    1, 0, { { VHU_FE_GPA_BASE, 0, 0x7f0000000000ULL, 0 } },
};
static struct vhu_mem_table table_gpa_overflow = {
    1, 0, { { UINT64_MAX - 4095, REGION, 0x7f0000000000ULL, 0 } },
};
static struct vhu_mem_table table_uva_overflow = {
    1, 0, { { VHU_FE_GPA_BASE, REGION, UINT64_MAX - 4095, 0 } },
};
static struct vhu_mem_table table_offset_overflow = {
    1, 0, { { VHU_FE_GPA_BASE, REGION, 0x7f0000000000ULL,
              UINT64_MAX - 4095 } },
};
static struct vhu_mem_table table_overlap = {
    2, 0, { { VHU_FE_GPA_BASE, REGION, 0x7f0000000000ULL, 0 },
            { VHU_FE_GPA_BASE + 4096, 4096, 0x7f1000000000ULL, 0 } },
};
static struct vhu_mem_table table_one = {
    1, 0, { { VHU_FE_GPA_BASE, REGION, 0x7f0000000000ULL, 0 } },
};
static struct vhu_mem_table table_empty = { 0, 0, { { 0, 0, 0, 0 } } };
static struct vhu_mem_table table_nine = { 9, 0, { { 0, 0, 0, 0 } } };

#define TABLE_SIZE(N) (offsetof(struct vhu_mem_table, regions)        \
                       + (N) * sizeof(struct vhu_mem_region_desc))

static const enum fd_kind one_memory[] = { FD_GUEST_MEMORY };
static const enum fd_kind two_memory[] = { FD_GUEST_MEMORY,
                                           FD_GUEST_MEMORY };
static const enum fd_kind eight_memory[] = {
    FD_GUEST_MEMORY, FD_GUEST_MEMORY, FD_GUEST_MEMORY, FD_GUEST_MEMORY,
    FD_GUEST_MEMORY, FD_GUEST_MEMORY, FD_GUEST_MEMORY, FD_GUEST_MEMORY,
};
static const enum fd_kind one_small[] = { FD_SMALL_FILE };
static const enum fd_kind one_pipe[] = { FD_PIPE };
static const enum fd_kind one_socket[] = { FD_SOCKET };
static const enum fd_kind one_dir[] = { FD_DIR };
static const enum fd_kind one_eventfd[] = { FD_EVENTFD };
static const enum fd_kind one_blocking[] = { FD_BLOCKING_EVENTFD };
static const enum fd_kind three_eventfds[] = { FD_EVENTFD, FD_EVENTFD,
                                               FD_EVENTFD };

static const uint64_t u64_features = SPLIT_FEATURES;
static const uint64_t u64_zero;
static const uint64_t u64_junk_bits = 1 | (1ULL << 40);
static const uint64_t u64_no_event_idx
    = SPLIT_FEATURES & ~(1ULL << VHU_VIRTIO_RING_F_EVENT_IDX);
static const struct vhu_vring_state state_index_300 = { 300, RING };
static const struct vhu_vring_state state_high_bits = { 0x10000, RING };
static const struct vhu_vring_state state_size_0 = { 0, 0 };
static const struct vhu_vring_state state_size_100 = { 0, 100 };
static const struct vhu_vring_state state_size_32769 = { 0, 32769 };
static const struct vhu_vring_state state_size_65536 = { 0, 65536 };
static const struct vhu_vring_state state_enable_2 = { 0, 2 };
static const struct vhu_vring_state state_base_70000 = { 0, 70000 };
static const uint32_t u32_zero;

#define MSG(NAME, PREP, REQUEST, FLAGS, PAYLOAD, SIZE, FDS, OUTCOME)    \
    { NAME, PREP, REQUEST, FLAGS, PAYLOAD, SIZE, FDS, OUTCOME }
#define FDS(ARRAY) ARRAY, ARRAY_SIZE(ARRAY)
#define NO_FDS NULL, 0
#define NR VHU_MSG_NEED_REPLY
#define N_ true
#define C_ false

static const struct msg_case msg_framing_cases[] = {
    MSG("bad version", PREP_NONE, VHU_GET_FEATURES, 0x2, NULL, 0, NO_FDS,
        C_),
    MSG("reserved flags", PREP_NONE, VHU_GET_FEATURES, 0x100, NULL, 0,
        NO_FDS, C_),
    MSG("reply flag on a request", PREP_NONE, VHU_GET_FEATURES,
        VHU_MSG_REPLY, NULL, 0, NO_FDS, C_),
    MSG("unknown request", PREP_NEGOTIATED, 99, NR, NULL, 0, NO_FDS, N_),
    MSG("wrong size: SET_FEATURES of 4 bytes", PREP_NEGOTIATED,
        VHU_SET_FEATURES, NR, &u32_zero, 4, NO_FDS, N_),
    MSG("wrong size, no reply asked", PREP_NEGOTIATED, VHU_SET_FEATURES, 0,
        &u32_zero, 4, NO_FDS, C_),
    MSG("wrong size: GET_FEATURES with a payload", PREP_NONE,
        VHU_GET_FEATURES, 0, &u64_zero, 8, NO_FDS, C_),
};

static const struct msg_case msg_fd_cases[] = {
    MSG("missing fds: SET_MEM_TABLE without", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_one, TABLE_SIZE(1), NO_FDS, N_),
    MSG("missing fd: SET_VRING_KICK without fd or no-fd flag",
        PREP_NEGOTIATED, VHU_SET_VRING_KICK, NR, &u64_zero, 8, NO_FDS, N_),
    MSG("extra fds: SET_FEATURES with 3", PREP_NEGOTIATED,
        VHU_SET_FEATURES, NR, &u64_features, 8, FDS(three_eventfds), N_),
    MSG("extra fd: SET_MEM_TABLE of 1 region with 2", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_one, TABLE_SIZE(1), FDS(two_memory), N_),
    MSG("wrong-type fd: guest memory in a pipe", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_one, TABLE_SIZE(1), FDS(one_pipe), N_),
    MSG("wrong-type fd: guest memory in a socket", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_one, TABLE_SIZE(1), FDS(one_socket), N_),
    MSG("wrong-type fd: guest memory in a directory", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_one, TABLE_SIZE(1), FDS(one_dir), N_),
    MSG("wrong-type fd: call fd a pipe", PREP_NEGOTIATED,
        VHU_SET_VRING_CALL, NR, &u64_zero, 8, FDS(one_pipe), N_),
    MSG("wrong-type fd: call fd a blocking eventfd", PREP_NEGOTIATED,
        VHU_SET_VRING_CALL, NR, &u64_zero, 8, FDS(one_blocking), N_),
    MSG("wrong-type fd: kick fd a socket", PREP_NEGOTIATED,
        VHU_SET_VRING_KICK, NR, &u64_zero, 8, FDS(one_socket), N_),
};

static const struct msg_case msg_memory_cases[] = {
    MSG("memory table of 0 regions", PREP_NEGOTIATED, VHU_SET_MEM_TABLE,
        NR, &table_empty, TABLE_SIZE(0), FDS(one_memory), N_),
    MSG("memory table of 9 regions", PREP_NEGOTIATED, VHU_SET_MEM_TABLE,
        NR, &table_nine, TABLE_SIZE(8), FDS(eight_memory), N_),
    MSG("memory region of size 0", PREP_NEGOTIATED, VHU_SET_MEM_TABLE, NR,
        &table_zero_size, TABLE_SIZE(1), FDS(one_memory), N_),
    MSG("memory region: guest address + size overflows", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_gpa_overflow, TABLE_SIZE(1),
        FDS(one_memory), N_),
    MSG("memory region: frontend address + size overflows",
        PREP_NEGOTIATED, VHU_SET_MEM_TABLE, NR, &table_uva_overflow,
        TABLE_SIZE(1), FDS(one_memory), N_),
    MSG("memory region: offset + size overflows", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_offset_overflow, TABLE_SIZE(1),
        FDS(one_memory), N_),
    MSG("memory regions overlapping", PREP_NEGOTIATED, VHU_SET_MEM_TABLE,
        NR, &table_overlap, TABLE_SIZE(2), FDS(two_memory), N_),
    MSG("memory region bigger than its file", PREP_NEGOTIATED,
        VHU_SET_MEM_TABLE, NR, &table_one, TABLE_SIZE(1), FDS(one_small), N_),
};

static const struct msg_case msg_vring_cases[] = {
    MSG("vring index out of range", PREP_NEGOTIATED, VHU_SET_VRING_NUM, NR,
        &state_index_300, sizeof state_index_300, NO_FDS, N_),
    MSG("vring index with high bits set", PREP_NEGOTIATED,
        VHU_SET_VRING_NUM, NR, &state_high_bits, sizeof state_high_bits,
        NO_FDS, N_),
    MSG("vring fd request with unknown bits", PREP_NEGOTIATED,
        VHU_SET_VRING_CALL, NR, &u64_junk_bits, 8, FDS(one_eventfd), N_),
    MSG("SET_VRING_NUM of 0", PREP_NEGOTIATED, VHU_SET_VRING_NUM, NR,
        &state_size_0, sizeof state_size_0, NO_FDS, N_),
    MSG("SET_VRING_NUM not a power of 2 (split)", PREP_NEGOTIATED,
        VHU_SET_VRING_NUM, NR, &state_size_100, sizeof state_size_100,
        NO_FDS, N_),
    MSG("SET_VRING_NUM of 32769", PREP_NEGOTIATED, VHU_SET_VRING_NUM, NR,
        &state_size_32769, sizeof state_size_32769, NO_FDS, N_),
    MSG("SET_VRING_NUM of 65536", PREP_NEGOTIATED, VHU_SET_VRING_NUM, NR,
        &state_size_65536, sizeof state_size_65536, NO_FDS, N_),
    MSG("SET_VRING_ENABLE of 2", PREP_NEGOTIATED, VHU_SET_VRING_ENABLE, NR,
        &state_enable_2, sizeof state_enable_2, NO_FDS, N_),
    MSG("SET_VRING_BASE beyond 16 bits (split)", PREP_NEGOTIATED,
        VHU_SET_VRING_BASE, NR, &state_base_70000, sizeof state_base_70000,
        NO_FDS, N_),
    MSG("features changed while the rings run", PREP_RUNNING,
        VHU_SET_FEATURES, NR, &u64_no_event_idx, 8, NO_FDS, N_),
};

#undef MSG
#undef FDS
#undef NO_FDS
#undef NR
#undef N_
#undef C_

/* Ring addresses, sent after the memory table and vring 0's size. */
enum bad_addr {
    ADDR_UNMAPPED,
    ADDR_MISALIGNED,
    ADDR_PAST_REGION,
};

static const char *
attack_ring_addr(const struct target *t, enum bad_addr bad)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_fe_region *r = &fe->regions[0];
    uint64_t base = (uintptr_t) r->addr;
    struct vhu_vring_addr addr = {
        .index = 0,
        .desc_user_addr = base,
        .avail_user_addr = base + 8192,
        .used_user_addr = base + 16384,
    };
    uint64_t ack;

    prepare(fe, PREP_MEMORY);
    switch (bad) {
    case ADDR_UNMAPPED:
        addr.desc_user_addr = base + 2 * REGION;
        break;
    case ADDR_MISALIGNED:
        addr.desc_user_addr = base + 8;
        break;
    case ADDR_PAST_REGION:
        addr.used_user_addr = base + REGION - 64;
        break;
    default:
        OVS_NOT_REACHED();
    }
    VHU_CHECK(!vhu_fe_send(fe, VHU_SET_VRING_ADDR,
                           VHU_MSG_VERSION | VHU_MSG_NEED_REPLY, &addr,
                           sizeof addr, NULL, 0));

    struct vhu_msg_header hdr;
    union vhu_msg_payload reply;
    VHU_CHECK(!vhu_fe_recv(fe, &hdr, &reply));
    ack = reply.u64;
    VHU_CHECK(hdr.request == VHU_SET_VRING_ADDR && ack != 0);
    check_connection_kept(fe);
    fe_close(fe);
    return OUTCOME_NACK;
}

/* A 129th region, one more than GET_MAX_MEM_SLOTS allows. */
static const char *
attack_too_many_added_regions(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    uint64_t slots;
    uint64_t ack;

    prepare(fe, PREP_NEGOTIATED);
    VHU_CHECK(!vhu_fe_get_u64(fe, VHU_GET_MAX_MEM_SLOTS, &slots));
    for (uint64_t i = 0; i <= slots; i++) {
        struct vhu_mem_single add = {
            .region = {
                .guest_phys_addr = VHU_FE_GPA_BASE + i * 4096,
                .memory_size = 4096,
                .userspace_addr = (uintptr_t) fe->regions[0].addr + i * 4096,
                .mmap_offset = i * 4096,
            },
        };
        int fd = fe->regions[0].fd;

        VHU_CHECK(!vhu_fe_send(fe, VHU_ADD_MEM_REG,
                               VHU_MSG_VERSION | VHU_MSG_NEED_REPLY, &add,
                               sizeof add, &fd, 1));

        struct vhu_msg_header hdr;
        union vhu_msg_payload reply;
        VHU_CHECK(!vhu_fe_recv(fe, &hdr, &reply));
        ack = reply.u64;
        VHU_CHECK(i < slots ? !ack : ack != 0);
    }
    check_connection_kept(fe);
    fe_close(fe);
    return OUTCOME_NACK;
}

/* Rings and chains. */

/* Guest memory for a raw chain: a frame behind a zero header at 'gpa'. */
static uint64_t
raw_frame(struct vhu_fe *fe, uint32_t seq)
{
    uint64_t gpa = vhu_fe_alloc(fe, 4096, 64);

    make_frame((uint8_t *) vhu_fe_gpa_to_ptr(fe, gpa) + fe->hdr_len, seq);
    return gpa;
}

/* Descriptors of the TX ring of queue pair 0 that the frontend's own
 * chains never take (it takes the lowest free ones, and never has this
 * many in flight), for chains written by hand. */
#define RAW_DESC 160

/* Publishes on vring 1 a good frame in one descriptor, written by hand at
 * descriptor 'd', and returns its sequence number.  With 'keep_idx', puts
 * it in the avail ring but leaves the avail index as it is (broken). */
static uint32_t
raw_good_frame(struct vhu_fe *fe, uint16_t d, bool keep_idx)
{
    struct vhu_fe_vring *vr = &fe->vrings[1];
    uint32_t seq = next_seq++;

    vr->desc[d] = (struct vhu_vring_desc) {
        raw_frame(fe, seq), fe->hdr_len + FRAME_LEN, 0, 0 };
    if (keep_idx) {
        vr->avail->ring[vr->avail_idx % RING] = d;
    } else {
        vhu_fe_publish(fe, 1, d);
    }
    return seq;
}

/* After the guest broke vring 1 (queue pair 0's TX ring): checks that
 * frames do not get through that queue, that queue pair 1 and the
 * connection carry on, and that the queue works again once set up
 * again. */
static const char *
check_stopped(struct vhu_fe *fe, bool keep_idx)
{
    uint32_t seq = raw_good_frame(fe, RAW_DESC + 40, keep_idx);

    VHU_CHECK(!wait_back(fe, seq, GONE_MS, false));
    VHU_CHECK(loop_frame(fe, 1));
    VHU_CHECK(!vhu_fe_setup_vring(fe, 1, RING));
    VHU_CHECK(loop_frame_eventually(fe, 0));
    return OUTCOME_STOPPED;
}

/* A readable buffer on our RX ring, with one queue pair so that the
 * switch sends there whatever comes back to us. */
static const char *
attack_rx_readable(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_fe_vring *rx = &fe->vrings[0];
    uint8_t frame[FRAME_LEN];

    VHU_CHECK(!vhu_fe_start(fe, SPLIT_FEATURES, VHU_DEV_PROTOCOL_FEATURES,
                            1, RING));
    rx->desc[0] = (struct vhu_vring_desc) { raw_frame(fe, 0), 2048, 0, 0 };
    vhu_fe_publish(fe, 0, 0);
    make_frame(frame, next_seq++);
    VHU_CHECK(!vhu_fe_tx(fe, 0, frame, sizeof frame, VHU_FE_LAYOUT_ONE));
    while (fe->vrings[1].n_free != RING) {
        vhu_fe_tx_reap(fe, 0);
        xnanosleep(1000 * 1000);
    }
    xnanosleep(GONE_MS * 1000 * 1000);
    VHU_CHECK(__atomic_load_n(&rx->used->idx, __ATOMIC_ACQUIRE) == 0);
    check_connection_kept(fe);

    VHU_CHECK(!vhu_fe_setup_vring(fe, 0, RING));
    vhu_fe_rx_post(fe, 0, RING, 2048);
    VHU_CHECK(loop_frame_eventually(fe, 0));
    fe_close(fe);
    return "that queue stops, the connection carries on; set up again, it "
           "works";
}

enum bad_chain {
    /* The queue stops. */
    CHAIN_LOOP,
    CHAIN_ZERO_SELF_LOOP,
    CHAIN_NEXT_BEYOND,
    CHAIN_HEAD_BEYOND,
    CHAIN_INDIRECT_EMPTY,
    CHAIN_INDIRECT_24,
    CHAIN_INDIRECT_NESTED,
    CHAIN_INDIRECT_NEXT,
    CHAIN_INDIRECT_PAST_REGION,
    CHAIN_INDIRECT_LONGER_THAN_RING,
    CHAIN_UNMAPPED,
    CHAIN_OVERFLOWING,
    CHAIN_WRITABLE,
    CHAIN_AVAIL_JUMP,
    CHAIN_AVAIL_BACK,
    /* The packet is dropped, the queue carries on. */
    CHAIN_SHORTER_THAN_HEADER,
    CHAIN_OVER_4G,
    /* It works. */
    CHAIN_HEADER_SCATTERED,
    CHAIN_BOGUS_EVENT_IDX,
    N_BAD_CHAINS
};

static const char *const bad_chain_names[N_BAD_CHAINS] = {
    [CHAIN_LOOP] = "descriptor loop",
    [CHAIN_ZERO_SELF_LOOP] = "zero-length descriptor looping to itself",
    [CHAIN_NEXT_BEYOND] = "next beyond the ring",
    [CHAIN_HEAD_BEYOND] = "head beyond the ring",
    [CHAIN_INDIRECT_EMPTY] = "indirect table of length 0",
    [CHAIN_INDIRECT_24] = "indirect table of 24 bytes",
    [CHAIN_INDIRECT_NESTED] = "indirect table inside an indirect table",
    [CHAIN_INDIRECT_NEXT] = "indirect descriptor with NEXT",
    [CHAIN_INDIRECT_PAST_REGION] = "indirect table crossing out of its "
                                   "region",
    [CHAIN_INDIRECT_LONGER_THAN_RING] = "indirect table longer than the "
                                        "ring",
    [CHAIN_UNMAPPED] = "buffer outside guest memory",
    [CHAIN_OVERFLOWING] = "buffer wrapping around the address space",
    [CHAIN_WRITABLE] = "writable buffer in a TX chain",
    [CHAIN_AVAIL_JUMP] = "avail index ahead by more than the ring",
    [CHAIN_AVAIL_BACK] = "avail index going back",
    [CHAIN_SHORTER_THAN_HEADER] = "chain shorter than the virtio-net "
                                  "header",
    [CHAIN_OVER_4G] = "chain of more than 2^32 bytes",
    [CHAIN_HEADER_SCATTERED] = "header over 12 one-byte descriptors",
    [CHAIN_BOGUS_EVENT_IDX] = "bogus event indexes",
};

static const char *
attack_chain(const struct target *t, enum bad_chain bad)
{
    /* A chain of more than 2^32 bytes needs buffers of 2 GB. */
    uint64_t region = (bad == CHAIN_OVER_4G
                       ? (UINT64_C(2) << 30) + REGION : REGION);
    struct vhu_fe *fe = fe_open(t, region);
    const uint16_t d0 = RAW_DESC;

    fe_start(fe, SPLIT_FEATURES);
    VHU_CHECK(loop_frame(fe, 0));

    struct vhu_fe_vring *vr = &fe->vrings[1];
    struct vhu_vring_desc *d = vr->desc;
    uint64_t buf = raw_frame(fe, 0);
    uint64_t table = vhu_fe_alloc(fe, (RING + 1) * sizeof *d, 64);
    struct vhu_vring_desc *tab = vhu_fe_gpa_to_ptr(fe, table);
    uint32_t len = fe->hdr_len + FRAME_LEN;
    uint16_t head = d0;
    bool stops = true;
    uint32_t seq;

    d[d0] = (struct vhu_vring_desc) { buf, len, 0, 0 };
    tab[0] = (struct vhu_vring_desc) { buf, len, 0, 0 };
    switch (bad) {
    case CHAIN_LOOP:
        d[d0] = (struct vhu_vring_desc) { buf, 10, VHU_VRING_DESC_F_NEXT,
                                          d0 + 1 };
        d[d0 + 1] = (struct vhu_vring_desc) { buf, 10, VHU_VRING_DESC_F_NEXT,
                                              d0 };
        break;
    case CHAIN_ZERO_SELF_LOOP:
        d[d0] = (struct vhu_vring_desc) { buf, 0, VHU_VRING_DESC_F_NEXT,
                                          d0 };
        break;
    case CHAIN_NEXT_BEYOND:
        d[d0].flags = VHU_VRING_DESC_F_NEXT;
        d[d0].next = RING + 5;
        break;
    case CHAIN_HEAD_BEYOND:
        head = RING + 1;
        break;
    case CHAIN_INDIRECT_EMPTY:
        d[d0] = (struct vhu_vring_desc) { table, 0,
                                          VHU_VRING_DESC_F_INDIRECT, 0 };
        break;
    case CHAIN_INDIRECT_24:
        d[d0] = (struct vhu_vring_desc) { table, 24,
                                          VHU_VRING_DESC_F_INDIRECT, 0 };
        break;
    case CHAIN_INDIRECT_NESTED:
        d[d0] = (struct vhu_vring_desc) { table, 16,
                                          VHU_VRING_DESC_F_INDIRECT, 0 };
        tab[0] = d[d0];
        break;
    case CHAIN_INDIRECT_NEXT:
        d[d0] = (struct vhu_vring_desc) {
            table, 16, VHU_VRING_DESC_F_INDIRECT | VHU_VRING_DESC_F_NEXT,
            d0 + 1 };
        d[d0 + 1] = (struct vhu_vring_desc) { buf, len, 0, 0 };
        break;
    case CHAIN_INDIRECT_PAST_REGION:
        d[d0] = (struct vhu_vring_desc) {
            fe->regions[0].gpa + region - 32, 64, VHU_VRING_DESC_F_INDIRECT,
            0 };
        break;
    case CHAIN_INDIRECT_LONGER_THAN_RING:
        d[d0] = (struct vhu_vring_desc) { table, (RING + 1) * sizeof *d,
                                          VHU_VRING_DESC_F_INDIRECT, 0 };
        for (int i = 0; i <= RING; i++) {
            tab[i] = (struct vhu_vring_desc) { buf, 1,
                                               VHU_VRING_DESC_F_NEXT,
                                               i + 1 };
        }
        tab[RING].flags = 0;
        break;
    case CHAIN_UNMAPPED:
        d[d0].addr = 0x1000;
        break;
    case CHAIN_OVERFLOWING:
        d[d0].addr = UINT64_MAX - 15;
        d[d0].len = 0x100;
        break;
    case CHAIN_WRITABLE:
        d[d0].flags = VHU_VRING_DESC_F_WRITE;
        break;
    case CHAIN_AVAIL_JUMP:
    case CHAIN_AVAIL_BACK:
        break;
    case CHAIN_SHORTER_THAN_HEADER:
        d[d0].len = 6;
        stops = false;
        break;
    case CHAIN_OVER_4G:
        for (int i = 0; i < 3; i++) {
            d[d0 + i] = (struct vhu_vring_desc) {
                fe->regions[0].gpa, 1u << 31,
                i < 2 ? VHU_VRING_DESC_F_NEXT : 0, d0 + i + 1 };
        }
        stops = false;
        break;
    case CHAIN_HEADER_SCATTERED:
        for (int i = 0; i < fe->hdr_len; i++) {
            d[d0 + i] = (struct vhu_vring_desc) {
                buf + i, 1, VHU_VRING_DESC_F_NEXT, d0 + i + 1 };
        }
        d[d0 + fe->hdr_len] = (struct vhu_vring_desc) {
            buf + fe->hdr_len, FRAME_LEN, 0, 0 };
        seq = next_seq++;
        make_frame((uint8_t *) vhu_fe_gpa_to_ptr(fe, buf) + fe->hdr_len,
                   seq);
        vhu_fe_publish(fe, 1, d0);
        VHU_CHECK(wait_back(fe, seq, BACK_MS, false));
        fe_close(fe);
        return OUTCOME_WORKS;
    case CHAIN_BOGUS_EVENT_IDX:
        /* used_event and avail_event, where we and the switch each ask
         * to be told: far from anything. */
        for (uint32_t i = 0; i < 2 * N_PAIRS; i++) {
            struct vhu_fe_vring *v = &fe->vrings[i];

            v->avail->ring[RING] = v->avail_idx + 0x7fff;
        }
        VHU_CHECK(loop_frame(fe, 0) && loop_frame(fe, 1));
        VHU_CHECK(loop_frame(fe, 0));
        fe_close(fe);
        return OUTCOME_WORKS;
    case N_BAD_CHAINS:
    default:
        OVS_NOT_REACHED();
    }

    if (bad == CHAIN_AVAIL_JUMP) {
        vr->avail->idx = vr->avail_idx + RING + 1;
    } else if (bad == CHAIN_AVAIL_BACK) {
        vr->avail->idx = vr->avail_idx - 1;
    } else {
        vhu_fe_publish(fe, 1, head);
    }
    const char *outcome = OUTCOME_STOPPED;
    if (stops) {
        check_stopped(fe, bad == CHAIN_AVAIL_JUMP || bad == CHAIN_AVAIL_BACK);
    } else {
        /* Dropped: the next frame on the same queue gets through. */
        seq = raw_good_frame(fe, d0 + 8, false);
        VHU_CHECK(wait_back(fe, seq, BACK_MS, false));
        outcome = OUTCOME_DROPPED;
    }
    fe_close(fe);
    return outcome;
}

enum bad_packed {
    PACKED_WRAP,
    PACKED_NEXT_NOT_AVAIL,
    PACKED_ID_BEYOND,
    PACKED_LONGER_THAN_RING,
    PACKED_INDIRECT_NEXT,
    N_BAD_PACKED
};

static const char *const bad_packed_names[N_BAD_PACKED] = {
    [PACKED_WRAP] = "packed: descriptor available and used at once (wrong "
                    "wrap counter)",
    [PACKED_NEXT_NOT_AVAIL] = "packed: chain going on into a descriptor "
                              "not available",
    [PACKED_ID_BEYOND] = "packed: buffer id beyond the ring",
    [PACKED_LONGER_THAN_RING] = "packed: chain longer than the ring",
    [PACKED_INDIRECT_NEXT] = "packed: indirect descriptor with NEXT",
};

static const char *
attack_packed(const struct target *t, enum bad_packed bad)
{
    struct vhu_fe *fe = fe_open(t, REGION);

    fe_start(fe, PACKED_FEATURES);
    VHU_CHECK(loop_frame(fe, 0));
    while (vhu_fe_tx_reap(fe, 0)) {
        continue;
    }

    struct vhu_fe_vring *vr = &fe->vrings[1];
    uint64_t buf = raw_frame(fe, 0);
    uint64_t table = vhu_fe_alloc(fe, 4096, 64);
    uint32_t len = fe->hdr_len + FRAME_LEN;
    uint16_t n_descs = 1;
    bool wrong_wrap = false;
    struct vhu_vring_packed_desc descs[RING];

    descs[0] = (struct vhu_vring_packed_desc) { buf, len, 0, 0 };
    switch (bad) {
    case PACKED_WRAP:
        wrong_wrap = true;
        break;
    case PACKED_NEXT_NOT_AVAIL:
        descs[0].flags = VHU_VRING_DESC_F_NEXT;
        break;
    case PACKED_ID_BEYOND:
        descs[0].id = RING;
        break;
    case PACKED_LONGER_THAN_RING:
        n_descs = RING;
        for (int i = 0; i < RING; i++) {
            descs[i] = (struct vhu_vring_packed_desc) {
                buf, 10, 0, VHU_VRING_DESC_F_NEXT };
        }
        break;
    case PACKED_INDIRECT_NEXT:
        n_descs = 2;
        descs[0] = (struct vhu_vring_packed_desc) {
            table, 16, 0, VHU_VRING_DESC_F_INDIRECT | VHU_VRING_DESC_F_NEXT };
        descs[1] = (struct vhu_vring_packed_desc) { buf, len, 0, 0 };
        break;
    case N_BAD_PACKED:
    default:
        OVS_NOT_REACHED();
    }

    /* Every descriptor but the first made available first, as drivers
     * do. */
    for (uint16_t i = n_descs; i-- > 0;) {
        uint16_t pos;
        uint16_t flags = vhu_fe_packed_avail_flags(fe, 1, i, &pos);

        if (!i && wrong_wrap) {
            flags = (VHU_VRING_PACKED_DESC_F_AVAIL
                     | VHU_VRING_PACKED_DESC_F_USED);
        }
        vr->packed_desc[pos].addr = descs[i].addr;
        vr->packed_desc[pos].len = descs[i].len;
        vr->packed_desc[pos].id = descs[i].id;
        __atomic_store_n(&vr->packed_desc[pos].flags,
                         descs[i].flags | flags, __ATOMIC_RELEASE);
    }

    VHU_CHECK(loop_frame(fe, 1));
    VHU_CHECK(!vhu_fe_setup_vring(fe, 1, RING));
    VHU_CHECK(loop_frame_eventually(fe, 0));
    fe_close(fe);
    return OUTCOME_STOPPED;
}

/* Sequences and timing. */

static const char *
attack_rings_before_memory(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);

    prepare(fe, PREP_NEGOTIATED);
    setup_vrings(fe);
    VHU_CHECK(!vhu_fe_share_memory(fe));
    post_rx_buffers(fe);
    return works_then_close(fe);
}

static const char *
attack_kick_first(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    int kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint64_t one = 1;

    prepare(fe, PREP_NEGOTIATED);
    VHU_CHECK(!vhu_fe_send(fe, VHU_SET_VRING_KICK, VHU_MSG_VERSION, &one,
                           sizeof one, &kick, 1));
    close(kick);
    VHU_CHECK(!vhu_fe_share_memory(fe));
    setup_vrings(fe);
    post_rx_buffers(fe);
    return works_then_close(fe);
}

/* QEMU without a shared memory backend: the driver gets ready (DRIVER_OK)
 * with its rings set up but no memory table, because QEMU has no fd to
 * send for guest memory.  The switch cannot run the rings; it says why in
 * its log, and runs them once memory comes. */
static const char *
attack_driver_ok_without_memory(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    uint64_t status = (VHU_VIRTIO_STATUS_ACKNOWLEDGE | VHU_VIRTIO_STATUS_DRIVER
                       | VHU_VIRTIO_STATUS_FEATURES_OK
                       | VHU_VIRTIO_STATUS_DRIVER_OK);

    prepare(fe, PREP_NEGOTIATED);
    setup_vrings(fe);
    VHU_CHECK(!vhu_fe_send(fe, VHU_SET_STATUS, VHU_MSG_VERSION, &status,
                           sizeof status, NULL, 0));
    VHU_CHECK(!vhu_fe_share_memory(fe));
    post_rx_buffers(fe);
    return works_then_close(fe);
}

/* A new size (or base) for a running ring, without stopping it first. */
static const char *
attack_num_while_running(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_fe_vring *vr = &fe->vrings[1];
    uint8_t frame[FRAME_LEN];
    uint32_t seq = next_seq++;
    uint64_t one = 1;

    fe_start(fe, SPLIT_FEATURES);
    VHU_CHECK(!vhu_fe_set_state(fe, VHU_SET_VRING_NUM, 1, RING, true,
                                NULL));
    make_frame(frame, seq);
    VHU_CHECK(!vhu_fe_tx(fe, 0, frame, sizeof frame, VHU_FE_LAYOUT_ONE));
    VHU_CHECK(!wait_back(fe, seq, GONE_MS, true));

    VHU_CHECK(!vhu_fe_send(fe, VHU_SET_VRING_KICK, VHU_MSG_VERSION, &one,
                           sizeof one, &vr->kick_fd, 1));
    VHU_CHECK(wait_back(fe, seq, BACK_MS, true));
    VHU_CHECK(loop_frame(fe, 0) && loop_frame(fe, 1));
    fe_close(fe);
    return "that ring stops until its next kick, then carries on";
}

#define MEMORY_MISSING "attack-memory-missing"

static const char *
attack_memory_replaced(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    uint32_t first = next_seq;

    fe_start(fe, SPLIT_FEATURES);
    for (int round = 0; round < 20; round++) {
        uint8_t frame[FRAME_LEN];

        make_frame(frame, next_seq++);
        VHU_CHECK(!vhu_fe_tx(fe, round % N_PAIRS, frame, sizeof frame,
                             VHU_FE_LAYOUT_ONE));
        VHU_CHECK(!vhu_fe_share_memory(fe));
    }
    /* A frame that the switch sends back while it changes the RX queue
     * over to the new table finds the queue stopped, and is dropped and
     * counted, as OVS-DPDK does: the test checks p1's tx_dropped for as
     * many as MEMORY_MISSING says.  On a quiet host, none is. */
    uint32_t n_missing = count_missing(fe, first, next_seq - 1, BACK_MS,
                                       true);
    FILE *result = fopen(MEMORY_MISSING, "w");
    VHU_CHECK(result && fprintf(result, "%"PRIu32"\n", n_missing) > 0
              && !fclose(result));
    VHU_CHECK(n_missing < next_seq - first);
    fe_close(fe);
    return "accepted while frames were in flight; each came back, or was "
           "counted as dropped";
}

/* Guest memory in a memfd that allows sealing, shrunk once the switch
 * mapped it: without a seal the switch's next access to the lost pages
 * would raise SIGBUS. */
static const char *
attack_memory_shrunk(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_fe_region *r = &fe->regions[0];

    munmap(r->addr, r->size);
    close(r->fd);
    r->fd = memfd_create("vhu-frontend", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    VHU_CHECK(r->fd >= 0 && !ftruncate(r->fd, r->size));
    r->addr = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
                   0);
    VHU_CHECK(r->addr != MAP_FAILED);

    fe_start(fe, SPLIT_FEATURES);
    VHU_CHECK(fcntl(r->fd, F_GET_SEALS) & F_SEAL_SHRINK);
    VHU_CHECK(ftruncate(r->fd, 4096) < 0 && errno == EPERM);
    VHU_CHECK(loop_frame(fe, 0) && loop_frame(fe, 1));
    fe_close(fe);
    return "the switch sealed it against shrinking: the frontend cannot; "
           "traffic flows";
}

static const char *
attack_rx_never_refilled(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    int n_sent = 0;

    VHU_CHECK(!vhu_fe_start(fe, SPLIT_FEATURES, VHU_DEV_PROTOCOL_FEATURES,
                            N_PAIRS, RING));
    for (uint32_t seq = next_seq; n_sent < 1000; n_sent++) {
        uint8_t frame[FRAME_LEN];

        make_frame(frame, seq++);
        while (vhu_fe_tx(fe, 0, frame, sizeof frame, VHU_FE_LAYOUT_ONE)) {
            vhu_fe_tx_reap(fe, 0);
            xnanosleep(100 * 1000);
        }
    }
    while (fe->vrings[1].n_free != RING) {
        vhu_fe_tx_reap(fe, 0);
        xnanosleep(1000 * 1000);
    }
    VHU_CHECK(fe->vrings[0].used->idx == 0);
    check_connection_kept(fe);
    fe_close(fe);
    return "1000 frames sent to a full RX ring dropped; the connection "
           "carries on";
}

/* True once the main thread has told a helper thread to stop. */
static bool
stop_requested(atomic_bool *stop)
{
    bool value;

    atomic_read(stop, &value);
    return value;
}

struct storm {
    struct vhu_fe *fe;
    atomic_bool stop;
    uint64_t n_kicks;
};

static void *
kick_storm_main(void *storm_)
{
    struct storm *storm = storm_;
    uint64_t one = 1;

    while (!stop_requested(&storm->stop)) {
        for (uint32_t i = 0; i < 2 * N_PAIRS; i++) {
            if (write(storm->fe->vrings[i].kick_fd, &one, sizeof one) > 0) {
                storm->n_kicks++;
            }
        }
    }
    return NULL;
}

static const char *
attack_kick_storm(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct storm storm = { .fe = fe };
    pthread_t thread;

    fe_start(fe, SPLIT_FEATURES);
    atomic_init(&storm.stop, false);
    VHU_CHECK(!pthread_create(&thread, NULL, kick_storm_main, &storm));
    for (int i = 0; i < 200; i++) {
        VHU_CHECK(loop_frame(fe, i % N_PAIRS));
    }
    atomic_store(&storm.stop, true);
    VHU_CHECK(!pthread_join(thread, NULL));
    VHU_CHECK(storm.n_kicks > 1000);
    fe_close(fe);
    return "frames flow through a storm of kicks";
}

/* Where attack_rewritten_descriptors() writes 1 if the queue stopped,
 * else 0, and how many rewritten descriptors it published: each one the
 * switch may have read as a frame too big for it, and dropped. */
#define REWRITE_RESULT "attack-rewrite-stopped"
#define REWRITE_PUBLISHED "attack-rewrite-published"

struct rewriter {
    struct vhu_vring_desc *desc;
    uint64_t good_addr;
    atomic_bool stop;
};

/* Rewrites the hand-written descriptors between good and bad values as
 * fast as it can, while the switch reads them. */
static void *
rewriter_main(void *rw_)
{
    struct rewriter *rw = rw_;
    volatile struct vhu_vring_desc *d = rw->desc;

    for (uint32_t i = 0; !stop_requested(&rw->stop); i++) {
        for (int k = RAW_DESC; k < RAW_DESC + 32; k++) {
            d[k].len = i & 1 ? 0xffffffff : 76;
            d[k].addr = i & 2 ? 0x1000 : rw->good_addr;
            d[k].flags = i & 4 ? VHU_VRING_DESC_F_NEXT : 0;
            d[k].next = i & 8 ? k : RING + 1;
        }
    }
    return NULL;
}

static const char *
attack_rewritten_descriptors(const struct target *t)
{
    struct vhu_fe *fe = fe_open(t, REGION);
    struct vhu_fe_vring *vr = &fe->vrings[1];
    struct rewriter rw;
    pthread_t thread;

    fe_start(fe, SPLIT_FEATURES);
    rw.desc = vr->desc;
    rw.good_addr = raw_frame(fe, 0);
    atomic_init(&rw.stop, false);
    VHU_CHECK(!pthread_create(&thread, NULL, rewriter_main, &rw));

    /* Publish the same 32 descriptors again each time the switch used
     * them, for a second or until it stops the queue. */
    long long int deadline = time_msec() + 1000;
    unsigned long long int n_published = 0;
    while (time_msec() < deadline) {
        uint16_t used = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);

        if ((uint16_t) (vr->avail_idx - used) < 32) {
            vhu_fe_publish(fe, 1, RAW_DESC + vr->avail_idx % 32);
            n_published++;
        } else {
            xnanosleep(10 * 1000);
        }
    }
    atomic_store(&rw.stop, true);
    VHU_CHECK(!pthread_join(thread, NULL));
    VHU_CHECK(loop_frame(fe, 1));

    /* Whether the switch stopped the queue depends on what it happened to
     * read.  A good frame behind the rewritten ones tells, and the test
     * counts the stopped queues exactly with it (REWRITE_RESULT). */
    uint32_t seq = raw_good_frame(fe, RAW_DESC + 40, false);
    bool stopped = !wait_back(fe, seq, BACK_MS, false);
    FILE *result = fopen(REWRITE_RESULT, "w");
    VHU_CHECK(result && fprintf(result, "%d\n", stopped) > 0
              && !fclose(result));
    result = fopen(REWRITE_PUBLISHED, "w");
    VHU_CHECK(result && fprintf(result, "%llu\n", n_published) > 0
              && !fclose(result));
    fe_close(fe);
    return "the switch read each descriptor once; the other queue pair "
           "carries on";
}

/* The cases. */

struct attack {
    char *name;
    const char *class;          /* One of attack_classes[]. */
    const char *(*run)(const struct target *, const void *aux, int arg);
    const void *aux;
    int arg;
};

/* The classes that the attacks fall into: tests/negative.at runs each
 * class as a test of its own, against a switch of its own, so that a
 * failure names the class. */
static const char *const attack_classes[] = {
    "framing",                  /* Message framing, sizes and flags. */
    "fds",                      /* Missing, extra and wrong-type fds. */
    "memory",                   /* Memory tables, old and new. */
    "vrings",                   /* Vring requests and ring addresses. */
    "order",                    /* Requests in an unusual order. */
    "split",                    /* Split descriptor chains and indexes. */
    "packed",                   /* Packed descriptor chains. */
    "races",                    /* The guest racing the switch. */
    "rx",                       /* The guest's RX ring. */
};

static const char *
run_msg(const struct target *t, const void *aux, int arg OVS_UNUSED)
{
    return run_msg_case(t, aux);
}

static const char *
run_fn(const struct target *t, const void *aux, int arg OVS_UNUSED)
{
    const char *(*fn)(const struct target *) = aux;

    return fn(t);
}

static const char *
run_chain(const struct target *t, const void *aux OVS_UNUSED, int arg)
{
    return attack_chain(t, arg);
}

static const char *
run_packed(const struct target *t, const void *aux OVS_UNUSED, int arg)
{
    return attack_packed(t, arg);
}

static const char *
run_addr(const struct target *t, const void *aux OVS_UNUSED, int arg)
{
    return attack_ring_addr(t, arg);
}

static size_t n_attacks;
static struct attack attacks[128];

/* The class that add_attack() puts the attacks it adds in: every attack
 * has one, since list_attacks() names it before the first. */
static const char *adding_class;

static bool
is_attack_class(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(attack_classes); i++) {
        if (!strcmp(name, attack_classes[i])) {
            return true;
        }
    }
    return false;
}

static void
begin_class(const char *class)
{
    ovs_assert(is_attack_class(class));
    adding_class = class;
}

static void
add_attack(const char *name,
           const char *(*run)(const struct target *, const void *, int),
           const void *aux, int arg)
{
    ovs_assert(n_attacks < ARRAY_SIZE(attacks));
    ovs_assert(adding_class);
    attacks[n_attacks++] = (struct attack) {
        xstrdup(name), adding_class, run, aux, arg
    };
}

static void
add_fn(const char *name, const char *(*fn)(const struct target *))
{
    add_attack(name, run_fn, (const void *) fn, 0);
}

static void
add_msg_cases(const struct msg_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        add_attack(cases[i].name, run_msg, &cases[i], 0);
    }
}

static void
list_attacks(void)
{
    static const char *const addr_names[] = {
        [ADDR_UNMAPPED] = "ring address outside guest memory",
        [ADDR_MISALIGNED] = "ring address misaligned",
        [ADDR_PAST_REGION] = "ring crossing out of its region",
    };

    if (n_attacks) {
        return;
    }
    begin_class("framing");
    add_fn("truncated payload, then EOF", attack_truncated_payload);
    add_fn("EOF mid-header", attack_eof_in_header);
    add_fn("payload bigger than any request", attack_huge_payload);
    add_fn("9 fds with a message", attack_too_many_fds);
    add_fn("replies never read", attack_unread_replies);
    add_msg_cases(msg_framing_cases, ARRAY_SIZE(msg_framing_cases));

    begin_class("fds");
    add_msg_cases(msg_fd_cases, ARRAY_SIZE(msg_fd_cases));

    begin_class("memory");
    add_msg_cases(msg_memory_cases, ARRAY_SIZE(msg_memory_cases));
    add_fn("ADD_MEM_REG of a region more than GET_MAX_MEM_SLOTS",
           attack_too_many_added_regions);
    add_fn("memory table replaced while the queues run",
           attack_memory_replaced);
    add_fn("guest memory file shrunk under the switch",
           attack_memory_shrunk);

    begin_class("vrings");
    add_msg_cases(msg_vring_cases, ARRAY_SIZE(msg_vring_cases));
    for (int i = 0; i < ARRAY_SIZE(addr_names); i++) {
        add_attack(addr_names[i], run_addr, NULL, i);
    }
    add_fn("SET_VRING_NUM on a running ring", attack_num_while_running);

    begin_class("order");
    add_fn("rings set up before the memory table",
           attack_rings_before_memory);
    add_fn("a kick fd before the ring's size and addresses",
           attack_kick_first);
    add_fn("driver ready without a memory table",
           attack_driver_ok_without_memory);

    begin_class("split");
    for (int i = 0; i < N_BAD_CHAINS; i++) {
        add_attack(bad_chain_names[i], run_chain, NULL, i);
    }

    begin_class("packed");
    for (int i = 0; i < N_BAD_PACKED; i++) {
        add_attack(bad_packed_names[i], run_packed, NULL, i);
    }

    begin_class("races");
    add_fn("descriptors rewritten while the switch reads them",
           attack_rewritten_descriptors);
    add_fn("kick storm", attack_kick_storm);

    begin_class("rx");
    add_fn("readable buffer in an RX chain", attack_rx_readable);
    add_fn("RX ring never refilled", attack_rx_never_refilled);
}

static void
attack_usage(void)
{
    ovs_fatal(0, "usage: attack [--class CLASS] --pid PID PATH [CASE...]\n"
              "       attack [--class CLASS] --list\n"
              "       attack --classes");
}

/* Runs the attacks named on the command line, or every one of 'class' (if
 * nonnull), or every one. */
static void
run_attack(int argc, char *argv[])
{
    const char *class = NULL;
    struct target t;
    size_t n_done = 0;

    list_attacks();
    argc--, argv++;
    if (argc == 1 && !strcmp(argv[0], "--classes")) {
        for (size_t i = 0; i < ARRAY_SIZE(attack_classes); i++) {
            printf("%s\n", attack_classes[i]);
        }
        return;
    }
    if (argc >= 2 && !strcmp(argv[0], "--class")) {
        class = argv[1];
        if (!is_attack_class(class)) {
            ovs_fatal(0, "%s: no such attack class (see --classes)", class);
        }
        argc -= 2, argv += 2;
    }
    if (argc == 1 && !strcmp(argv[0], "--list")) {
        for (size_t i = 0; i < n_attacks; i++) {
            if (!class || !strcmp(attacks[i].class, class)) {
                printf("%s\n", attacks[i].name);
            }
        }
        return;
    }
    if (argc < 3 || strcmp(argv[0], "--pid")) {
        attack_usage();
    }
    signal(SIGPIPE, SIG_IGN);
    target_init(&t, atoi(argv[1]), argv[2]);

    char **names = argv + 3;
    size_t n_names = argc - 3;
    for (size_t i = 0; i < n_attacks; i++) {
        const struct attack *a = &attacks[i];
        bool chosen = !n_names;

        for (size_t j = 0; j < n_names && !chosen; j++) {
            chosen = !strcmp(names[j], a->name);
        }
        if (!chosen || (class && strcmp(a->class, class))) {
            continue;
        }
        const char *outcome = a->run(&t, a->aux, a->arg);
        target_check(&t, a->name);
        printf("%s: %s\n", a->name, outcome);
        fflush(stdout);
        n_done++;
    }
    /* Every case named on the command line exists (in 'class'). */
    VHU_CHECK(n_names ? n_done == n_names : n_done > 0);
    printf("%"PRIuSIZE" cases: the switch lived through each, and let go "
           "of every fd and guest mapping after it\n", n_done);
}

const struct vhu_test vhu_test_attack = {
    "attack",
    "a hostile frontend: [--class CLASS] --pid PID PATH [CASE...] | "
    "[--class CLASS] --list | --classes",
    run_attack,
};

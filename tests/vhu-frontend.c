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

/* The tests' vhost-user frontend (vhu-frontend.h): negotiation, guest
 * memory in memfd files, split and packed rings driven from the driver's
 * side, and requests sent wrong on purpose. */

#include <config.h>

#include "vhu-frontend.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Flags of the messages this frontend sends.
 *
 * vhu_fe_send() puts its 'flags' argument into the header exactly as given,
 * version bits included, so that a test can send a wrong version, a stray
 * REPLY flag and the like.  Every other function here builds well-formed
 * requests: VHU_MSG_VERSION, plus VHU_MSG_NEED_REPLY when it wants an ack. */

/* The smallest buffer we give a descriptor.  Buffers stay with their
 * descriptor index and grow by powers of 2 only, so that tests sending
 * thousands of packets use a bounded amount of guest memory. */
#define FE_MIN_BUF 2048

/* The largest packet that vhu_fe_tx() accepts (without the header). */
#define FE_TX_MAX_LEN 65536

/* SCATTER takes the most descriptors: two for the header, three for the
 * data. */
#define FE_TX_MAX_SEGS 5

/* Descriptors in the indirect table of each head, allocated on first use. */
#define FE_INDIRECT_DESCS 8

/* Where the data starts in the buffer of an indirect chain: apart from the
 * header, so that a backend cannot get away with reading them as one. */
#define FE_INDIRECT_DATA_OFS 64

#define FE_BIT(N) (UINT64_C(1) << (N))

/* What we keep of a vring besides 'struct vhu_fe_vring'.  Our own links,
 * rather than the descriptors' 'next' fields, say which descriptors are
 * free and which form a chain, so that a test that scribbles over the
 * descriptor table cannot corrupt our bookkeeping. */
struct fe_vring_priv {
    uint16_t *free_next;        /* Free list links. */
    uint16_t *chain_next;       /* Links of the chains that we posted. */
    uint64_t *buf_cap;          /* Bytes at 'buf_gpa[i]', 0 if none yet. */
    uint32_t *rx_len;           /* Packed: bytes we offered with RX buffer
                                 * id 'i' (its buffer may be bigger). */

    /* Packed: the buffer ids posted and not reaped yet, in the order we
     * posted them ('posted_head' and 'posted_tail' run free). */
    uint16_t *posted;
    uint32_t posted_head;
    uint32_t posted_tail;
};

struct fe_impl {
    struct vhu_fe fe;
    struct fe_vring_priv vrings[VHU_FE_MAX_VRINGS];
};

static struct fe_impl *
fe_impl(const struct vhu_fe *fe)
{
    return CONTAINER_OF(CONST_CAST(struct vhu_fe *, fe), struct fe_impl, fe);
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits until 'sock' is ready for 'events', or has hung up or failed (the
 * next read or write says what happened).  Returns 0, ETIMEDOUT once
 * 'deadline' has passed, or another errno value. */
static int
wait_sock(int sock, short events, long long deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = sock, .events = events };
        long long left = deadline - now_ms();
        int n = poll(&pfd, 1, left > 0 ? left : 0);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        return n ? 0 : ETIMEDOUT;
    }
}

/* Closes every fd that came in the ancillary data of 'mh': nothing that the
 * backend sends us carries one, and tests must not leak them. */
static void
close_fds(struct msghdr *mh)
{
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(mh); cmsg;
         cmsg = CMSG_NXTHDR(mh, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET
            && cmsg->cmsg_type == SCM_RIGHTS) {
            size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            const uint8_t *data = CMSG_DATA(cmsg);

            for (size_t i = 0; i < n; i++) {
                int fd;

                memcpy(&fd, data + i * sizeof fd, sizeof fd);
                close(fd);
            }
        }
    }
}

union fe_control {
    struct cmsghdr cmsg;
    char buf[CMSG_SPACE(sizeof(int) * VHU_MSG_MAX_FDS)];
};

/* Receives, on 'sock', up to 'size' bytes into 'data' without blocking,
 * closing any fds that come with them.  Returns what recvmsg() does. */
static ssize_t
recv_some(int sock, void *data, size_t size)
{
    union fe_control control;
    struct iovec iov = { .iov_base = data, .iov_len = size };
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = &control,
        .msg_controllen = sizeof control,
    };
    ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

    if (n >= 0) {
        close_fds(&mh);
    }
    return n;
}

/* Receives exactly 'size' bytes into 'data_' from 'sock' before 'deadline'.
 * Returns 0, EPIPE if the backend closed the connection, ETIMEDOUT, or
 * another errno value. */
static int
recv_exact(int sock, void *data_, size_t size, long long deadline)
{
    uint8_t *data = data_;
    size_t got = 0;

    while (got < size) {
        int error = wait_sock(sock, POLLIN, deadline);
        if (error) {
            return error;
        }

        ssize_t n = recv_some(sock, data + got, size - got);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return errno == ECONNRESET ? EPIPE : errno;
        } else if (!n) {
            return EPIPE;
        }
        got += n;
    }
    return 0;
}

/* Memory. */

/* Creates a frontend that talks to the backend on 'sock', which stays the
 * caller's, with 'n_regions' regions of guest memory of 'region_size' bytes
 * each.  Aborts if the memory cannot be had: this is a test helper. */
struct vhu_fe *
vhu_fe_create(int sock, size_t n_regions, uint64_t region_size)
{
    struct fe_impl *impl = xzalloc(sizeof *impl);
    struct vhu_fe *fe = &impl->fe;

    ovs_assert(n_regions >= 1 && n_regions <= VHU_FE_MAX_REGIONS);
    ovs_assert(region_size > 0);

    fe->sock = sock;
    fe->hdr_len = VHU_VIRTIO_NET_HDR_LEN_LEGACY;
    fe->n_regions = n_regions;
    for (size_t i = 0; i < n_regions; i++) {
        struct vhu_fe_region *r = &fe->regions[i];

        r->fd = memfd_create("vhu-frontend", MFD_CLOEXEC);
        if (r->fd < 0) {
            ovs_abort(errno, "vhu_fe_create: memfd_create failed");
        }
        if (ftruncate(r->fd, region_size)) {
            ovs_abort(errno, "vhu_fe_create: ftruncate to %"PRIu64" bytes "
                      "failed", region_size);
        }
        void *addr = mmap(NULL, region_size, PROT_READ | PROT_WRITE,
                          MAP_SHARED, r->fd, 0);
        if (addr == MAP_FAILED) {
            ovs_abort(errno, "vhu_fe_create: mmap of %"PRIu64" bytes failed",
                      region_size);
        }
        r->addr = addr;
        r->gpa = VHU_FE_GPA_BASE + i * (region_size + VHU_FE_GPA_GAP);
        r->size = region_size;
        r->used = 0;
    }
    for (size_t i = 0; i < VHU_FE_MAX_VRINGS; i++) {
        fe->vrings[i].kick_fd = -1;
        fe->vrings[i].call_fd = -1;
    }
    return fe;
}

/* Forgets everything about vring 'idx' of 'fe' but the guest memory that it
 * took, which is never handed out again. */
static void
vring_clear(struct vhu_fe *fe, uint32_t idx)
{
    struct vhu_fe_vring *vr = &fe->vrings[idx];
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];

    if (vr->kick_fd >= 0) {
        close(vr->kick_fd);
    }
    if (vr->call_fd >= 0) {
        close(vr->call_fd);
    }
    free(vr->chain_len);
    free(vr->buf_gpa);
    free(vr->indirect_gpa);
    free(priv->free_next);
    free(priv->chain_next);
    free(priv->buf_cap);
    free(priv->posted);
    free(priv->rx_len);
    memset(vr, 0, sizeof *vr);
    memset(priv, 0, sizeof *priv);
    vr->kick_fd = -1;
    vr->call_fd = -1;
}

/* Frees 'fe' and its guest memory and eventfds.  The socket is the
 * caller's: closing it is up to the test. */
void
vhu_fe_destroy(struct vhu_fe *fe)
{
    if (!fe) {
        return;
    }

    for (uint32_t i = 0; i < VHU_FE_MAX_VRINGS; i++) {
        vring_clear(fe, i);
    }
    for (size_t i = 0; i < fe->n_regions; i++) {
        munmap(fe->regions[i].addr, fe->regions[i].size);
        close(fe->regions[i].fd);
    }
    free(fe_impl(fe));
}

/* Hands out 'size' bytes of zeroed guest memory aligned on 'align' (a power
 * of 2) and returns their guest-physical address.  Takes them from the
 * first region that has room, never across two regions, and aborts if none
 * has. */
uint64_t
vhu_fe_alloc(struct vhu_fe *fe, uint64_t size, uint64_t align)
{
    ovs_assert(align && IS_POW2(align));

    for (size_t i = 0; i < fe->n_regions; i++) {
        struct vhu_fe_region *r = &fe->regions[i];
        /* The guest-physical address is what the spec's alignments are
         * about. */
        uint64_t start = ROUND_UP(r->gpa + r->used, align) - r->gpa;

        if (start <= r->size && size <= r->size - start) {
            r->used = start + size;
            memset(r->addr + start, 0, size);
            return r->gpa + start;
        }
    }
    ovs_abort(0, "vhu_fe_alloc: out of guest memory (%"PRIu64" bytes "
              "aligned on %"PRIu64" wanted, %"PRIuSIZE" regions of %"PRIu64
              " bytes)", size, align, fe->n_regions, fe->regions[0].size);
}

/* Returns our address of guest-physical address 'gpa', or NULL if no region
 * holds it. */
void *
vhu_fe_gpa_to_ptr(const struct vhu_fe *fe, uint64_t gpa)
{
    for (size_t i = 0; i < fe->n_regions; i++) {
        const struct vhu_fe_region *r = &fe->regions[i];

        if (gpa >= r->gpa && gpa - r->gpa < r->size) {
            return r->addr + (gpa - r->gpa);
        }
    }
    return NULL;
}

/* Like vhu_fe_gpa_to_ptr(), for addresses that we handed out ourselves. */
static void *
fe_ptr(const struct vhu_fe *fe, uint64_t gpa)
{
    void *p = vhu_fe_gpa_to_ptr(fe, gpa);

    ovs_assert(p);
    return p;
}

/* Describes region 'idx' of 'fe' as SET_MEM_TABLE and ADD_MEM_REG do. */
void
vhu_fe_region_desc(const struct vhu_fe *fe, size_t idx,
                   struct vhu_mem_region_desc *desc)
{
    const struct vhu_fe_region *r = &fe->regions[idx];

    ovs_assert(idx < fe->n_regions);
    memset(desc, 0, sizeof *desc);
    desc->guest_phys_addr = r->gpa;
    desc->memory_size = r->size;
    desc->userspace_addr = (uintptr_t) r->addr;
    desc->mmap_offset = 0;
}

/* Raw messages. */

int
vhu_fe_send(struct vhu_fe *fe, uint32_t request, uint32_t flags,
            const void *payload, size_t size, const int *fds, size_t n_fds)
{
    struct vhu_msg_header hdr = {
        .request = request,
        .flags = flags,
        .size = size,
    };
    long long deadline = now_ms() + VHU_FE_REPLY_TIMEOUT_MS;

    ovs_assert(size <= UINT32_MAX);
    for (;;) {
        /* vhu_msg_send() does not block, even on our blocking socket: wait
         * for room if the backend is slow to read. */
        int error = vhu_msg_send(fe->sock, &hdr, payload, fds, n_fds);
        if (error != EAGAIN) {
            return error;
        }
        error = wait_sock(fe->sock, POLLOUT, deadline);
        if (error) {
            return error;
        }
    }
}

/* Receives the next message from the backend into '*hdr' and '*payload'
 * (zeroed beyond what came) and closes any fds that came with it.  Returns
 * 0, ETIMEDOUT, EPIPE if the backend closed the connection, or EPROTO if
 * the payload is larger than any reply's or the message is not a reply
 * (then '*hdr' and '*payload' still hold it). */
int
vhu_fe_recv(struct vhu_fe *fe, struct vhu_msg_header *hdr,
            union vhu_msg_payload *payload)
{
    long long deadline = now_ms() + VHU_FE_REPLY_TIMEOUT_MS;
    int error;

    memset(payload, 0, sizeof *payload);
    error = recv_exact(fe->sock, hdr, sizeof *hdr, deadline);
    if (error) {
        return error;
    }
    if (hdr->size > sizeof *payload) {
        return EPROTO;
    }
    error = recv_exact(fe->sock, payload, hdr->size, deadline);
    if (error) {
        return error;
    }
    return hdr->flags & VHU_MSG_REPLY ? 0 : EPROTO;
}

/* Receives the reply to 'request', which must carry 'size' bytes of
 * payload. */
static int
recv_reply(struct vhu_fe *fe, uint32_t request, size_t size,
           union vhu_msg_payload *payload)
{
    struct vhu_msg_header hdr;
    int error = vhu_fe_recv(fe, &hdr, payload);

    if (error) {
        return error;
    }
    if (hdr.request != request || hdr.size != size
        || (hdr.flags & VHU_MSG_VERSION_MASK) != VHU_MSG_VERSION) {
        return EPROTO;
    }
    return 0;
}

/* Requests. */

/* Sends 'request' with 'payload' and 'fds' and, if 'need_reply', asks for
 * an ack and stores it in '*ackp' (if nonnull). */
static int
send_request(struct vhu_fe *fe, uint32_t request, const void *payload,
             size_t size, const int *fds, size_t n_fds, bool need_reply,
             uint64_t *ackp)
{
    uint32_t flags = VHU_MSG_VERSION | (need_reply ? VHU_MSG_NEED_REPLY : 0);
    int error = vhu_fe_send(fe, request, flags, payload, size, fds, n_fds);

    if (!error && need_reply) {
        union vhu_msg_payload reply;

        error = recv_reply(fe, request, sizeof reply.u64, &reply);
        if (!error && ackp) {
            *ackp = reply.u64;
        }
    }
    return error;
}

/* Sends 'request' as send_request() does and, if REPLY_ACK was negotiated,
 * asks for an ack and requires it to be 0 (success): EPROTO otherwise. */
static int
send_acked(struct vhu_fe *fe, uint32_t request, const void *payload,
           size_t size, const int *fds, size_t n_fds)
{
    bool need_reply = (fe->protocol_features
                       & FE_BIT(VHU_PROTOCOL_F_REPLY_ACK)) != 0;
    uint64_t ack = 0;
    int error = send_request(fe, request, payload, size, fds, n_fds,
                             need_reply, &ack);

    return error ? error : ack ? EPROTO : 0;
}

int
vhu_fe_get_u64(struct vhu_fe *fe, uint32_t request, uint64_t *valuep)
{
    union vhu_msg_payload reply;
    int error = vhu_fe_send(fe, request, VHU_MSG_VERSION, NULL, 0, NULL, 0);

    if (!error) {
        error = recv_reply(fe, request, sizeof reply.u64, &reply);
    }
    *valuep = error ? 0 : reply.u64;
    return error;
}

int
vhu_fe_set_u64(struct vhu_fe *fe, uint32_t request, uint64_t value,
               bool need_reply, uint64_t *ackp)
{
    return send_request(fe, request, &value, sizeof value, NULL, 0,
                        need_reply, ackp);
}

int
vhu_fe_set_state(struct vhu_fe *fe, uint32_t request, uint32_t index,
                 uint32_t num, bool need_reply, uint64_t *ackp)
{
    struct vhu_vring_state state = { .index = index, .num = num };

    return send_request(fe, request, &state, sizeof state, NULL, 0,
                        need_reply, ackp);
}

bool
vhu_fe_closed(struct vhu_fe *fe)
{
    long long deadline = now_ms() + VHU_FE_REPLY_TIMEOUT_MS;

    for (;;) {
        uint8_t buf[4096];

        if (wait_sock(fe->sock, POLLIN, deadline)) {
            return false;
        }

        /* Whatever the backend still had to say does not matter. */
        ssize_t n = recv_some(fe->sock, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return errno == ECONNRESET;
        } else if (!n) {
            return true;
        }
    }
}

int
vhu_fe_negotiate(struct vhu_fe *fe, uint64_t features,
                 uint64_t protocol_features)
{
    uint64_t offered;
    int error;

    error = vhu_fe_get_u64(fe, VHU_GET_FEATURES, &offered);
    if (error) {
        return error;
    }

    /* VHU_F_PROTOCOL_FEATURES is acked like any other bit: the backend
     * starts our rings disabled only if we keep it. */
    fe->features = features & offered;
    fe->protocol_features = 0;
    fe->hdr_len = (fe->features & (FE_BIT(VHU_VIRTIO_F_VERSION_1)
                                   | FE_BIT(VHU_VIRTIO_NET_F_MRG_RXBUF))
                   ? VHU_VIRTIO_NET_HDR_LEN
                   : VHU_VIRTIO_NET_HDR_LEN_LEGACY);
    error = vhu_fe_set_u64(fe, VHU_SET_FEATURES, fe->features, false, NULL);
    if (!error) {
        error = vhu_fe_send(fe, VHU_SET_OWNER, VHU_MSG_VERSION, NULL, 0,
                            NULL, 0);
    }
    if (error) {
        return error;
    }

    if (offered & FE_BIT(VHU_F_PROTOCOL_FEATURES) && protocol_features) {
        uint64_t offered_pf;

        error = vhu_fe_get_u64(fe, VHU_GET_PROTOCOL_FEATURES, &offered_pf);
        if (error) {
            return error;
        }
        fe->protocol_features = protocol_features & offered_pf;
        error = vhu_fe_set_u64(fe, VHU_SET_PROTOCOL_FEATURES,
                               fe->protocol_features, false, NULL);
    }
    return error;
}

int
vhu_fe_share_memory(struct vhu_fe *fe)
{
    if (fe->n_regions <= VHU_MEM_BASELINE_REGIONS) {
        struct vhu_mem_table table;
        int fds[VHU_MEM_BASELINE_REGIONS];

        memset(&table, 0, sizeof table);
        table.n_regions = fe->n_regions;
        for (size_t i = 0; i < fe->n_regions; i++) {
            vhu_fe_region_desc(fe, i, &table.regions[i]);
            fds[i] = fe->regions[i].fd;
        }
        return send_acked(fe, VHU_SET_MEM_TABLE, &table,
                          (offsetof(struct vhu_mem_table, regions)
                           + fe->n_regions * sizeof table.regions[0]),
                          fds, fe->n_regions);
    }

    for (size_t i = 0; i < fe->n_regions; i++) {
        struct vhu_mem_single single;

        memset(&single, 0, sizeof single);
        vhu_fe_region_desc(fe, i, &single.region);
        int error = send_acked(fe, VHU_ADD_MEM_REG, &single, sizeof single,
                               &fe->regions[i].fd, 1);
        if (error) {
            return error;
        }
    }
    return 0;
}

/* Our address of the 'used_event' field that follows the avail ring of
 * 'vr'. */
static uint16_t *
used_event(const struct vhu_fe_vring *vr)
{
    return &vr->avail->ring[vr->size];
}

/* Our address of the 'avail_event' field that follows the used ring of
 * 'vr'. */
static uint16_t *
avail_event(const struct vhu_fe_vring *vr)
{
    return (uint16_t *) &vr->used->ring[vr->size];
}

/* Packed: asks for a call when the backend uses the descriptor at the
 * next position we reap (with EVENT_IDX), or for every used buffer. */
static void
update_driver_event(const struct vhu_fe *fe, struct vhu_fe_vring *vr)
{
    if (fe->features & FE_BIT(VHU_VIRTIO_RING_F_EVENT_IDX)) {
        __atomic_store_n(&vr->driver_event->off_wrap,
                         vr->used_idx | vr->used_wrap << 15,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&vr->driver_event->flags, VHU_RING_EVENT_FLAGS_DESC,
                         __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&vr->driver_event->flags,
                         VHU_RING_EVENT_FLAGS_ENABLE, __ATOMIC_RELEASE);
    }
}

/* Sends the messages that set vring 'idx' up, as it is, with base
 * 'base_num'. */
static int
send_vring_setup(struct vhu_fe *fe, uint32_t idx, uint32_t base_num)
{
    struct vhu_fe_vring *vr = &fe->vrings[idx];

    /* A packed ring's driver and device areas take the avail and used
     * ring's places. */
    uintptr_t desc_uaddr = (vr->packed ? (uintptr_t) vr->packed_desc
                            : (uintptr_t) vr->desc);
    struct vhu_vring_state num = { .index = idx, .num = vr->size };
    struct vhu_vring_state base = { .index = idx, .num = base_num };
    struct vhu_vring_addr addr = {
        .index = idx,
        .flags = 0,
        .desc_user_addr = desc_uaddr,
        .used_user_addr = (vr->packed ? (uintptr_t) vr->device_event
                           : (uintptr_t) vr->used),
        .avail_user_addr = (vr->packed ? (uintptr_t) vr->driver_event
                            : (uintptr_t) vr->avail),
        .log_guest_addr = 0,
    };
    if (vr->packed) {
        update_driver_event(fe, vr);
    }
    uint64_t u64 = idx;
    int error;

    error = send_acked(fe, VHU_SET_VRING_NUM, &num, sizeof num, NULL, 0);
    if (!error) {
        error = send_acked(fe, VHU_SET_VRING_BASE, &base, sizeof base,
                           NULL, 0);
    }
    if (!error) {
        error = send_acked(fe, VHU_SET_VRING_ADDR, &addr, sizeof addr,
                           NULL, 0);
    }
    if (!error) {
        error = send_acked(fe, VHU_SET_VRING_CALL, &u64, sizeof u64,
                           &vr->call_fd, 1);
    }
    if (!error) {
        error = send_acked(fe, VHU_SET_VRING_KICK, &u64, sizeof u64,
                           &vr->kick_fd, 1);
    }
    if (!error && fe->features & FE_BIT(VHU_F_PROTOCOL_FEATURES)) {
        /* With PROTOCOL_FEATURES the backend starts the ring disabled. */
        struct vhu_vring_state enable = { .index = idx, .num = 1 };

        error = send_acked(fe, VHU_SET_VRING_ENABLE, &enable, sizeof enable,
                           NULL, 0);
    }
    return error;
}

/* Lays out vring 'idx' of 'fe' in guest memory, then tells the backend.  The
 * vring is usable on our side ('set_up') even if the backend refuses some
 * of it, so that a test can go on to see what the backend does next. */
int
vhu_fe_setup_vring(struct vhu_fe *fe, uint32_t idx, uint16_t size)
{
    struct vhu_fe_vring *vr = &fe->vrings[idx];
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];

    /* Sizes that are not powers of 2 are allowed, for tests of backends
     * that must refuse them, but our index arithmetic then goes wrong when
     * the indexes wrap. */
    ovs_assert(idx < VHU_FE_MAX_VRINGS);
    ovs_assert(size > 0 && size <= VHU_VRING_MAX_SIZE);

    vring_clear(fe, idx);
    vr->size = size;
    vr->packed = fe->features & FE_BIT(VHU_VIRTIO_F_RING_PACKED);
    vr->desc_gpa = vhu_fe_alloc(fe, VHU_VRING_DESC_BYTES(size),
                                VHU_VRING_DESC_ALIGN);
    if (vr->packed) {
        vr->packed_desc = fe_ptr(fe, vr->desc_gpa);
        vr->driver_event = fe_ptr(fe, vhu_fe_alloc(
                                      fe, VHU_VRING_PACKED_EVENT_BYTES,
                                      VHU_VRING_PACKED_EVENT_ALIGN));
        vr->device_event = fe_ptr(fe, vhu_fe_alloc(
                                      fe, VHU_VRING_PACKED_EVENT_BYTES,
                                      VHU_VRING_PACKED_EVENT_ALIGN));
    } else {
        vr->desc = fe_ptr(fe, vr->desc_gpa);
        vr->avail = fe_ptr(fe, vhu_fe_alloc(fe, VHU_VRING_AVAIL_BYTES(size),
                                            VHU_VRING_AVAIL_ALIGN));
        vr->used = fe_ptr(fe, vhu_fe_alloc(fe, VHU_VRING_USED_BYTES(size),
                                           VHU_VRING_USED_ALIGN));
    }
    vr->avail_idx = 0;
    vr->used_idx = 0;
    vr->avail_wrap = vr->used_wrap = true;

    vr->chain_len = xcalloc(size, sizeof *vr->chain_len);
    vr->buf_gpa = xcalloc(size, sizeof *vr->buf_gpa);
    vr->indirect_gpa = xcalloc(size, sizeof *vr->indirect_gpa);
    priv->free_next = xcalloc(size, sizeof *priv->free_next);
    priv->chain_next = xcalloc(size, sizeof *priv->chain_next);
    priv->buf_cap = xcalloc(size, sizeof *priv->buf_cap);
    priv->posted = xcalloc(size, sizeof *priv->posted);
    priv->rx_len = xcalloc(size, sizeof *priv->rx_len);
    for (uint32_t i = 0; i < size; i++) {
        priv->free_next[i] = i + 1;
    }
    vr->free_head = 0;
    vr->n_free = size;

    vr->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    vr->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (vr->kick_fd < 0 || vr->call_fd < 0) {
        ovs_abort(errno, "vhu_fe_setup_vring: eventfd failed");
    }
    vr->set_up = true;

    /* A packed ring's base carries the wrap counter, 1 at first, in bit
     * 15. */
    return send_vring_setup(fe, idx, vr->packed ? 1 << 15 : 0);
}

int
vhu_fe_start(struct vhu_fe *fe, uint64_t features,
             uint64_t protocol_features, size_t n_pairs, uint16_t ring_size)
{
    int error;

    ovs_assert(n_pairs >= 1 && 2 * n_pairs <= VHU_FE_MAX_VRINGS);

    error = vhu_fe_negotiate(fe, features, protocol_features);
    if (!error) {
        error = vhu_fe_share_memory(fe);
    }
    for (uint32_t i = 0; !error && i < 2 * n_pairs; i++) {
        error = vhu_fe_setup_vring(fe, i, ring_size);
    }
    return error;
}

int
vhu_fe_resume(struct vhu_fe *fe, int sock, uint64_t features,
              uint64_t protocol_features)
{
    int error;

    fe->sock = sock;
    error = vhu_fe_negotiate(fe, features, protocol_features);
    if (!error) {
        error = vhu_fe_share_memory(fe);
    }
    for (uint32_t i = 0; !error && i < VHU_FE_MAX_VRINGS; i++) {
        struct vhu_fe_vring *vr = &fe->vrings[i];

        if (vr->set_up) {
            /* What QEMU sends after it lost its backend: for a split
             * ring, the used index, where it takes the device to be; for
             * a packed one, the base it sent when the ring started, as
             * it has no way to know better. */
            error = send_vring_setup(fe, i, (vr->packed
                                             ? 1 << 15 | 1u << 31
                                             : vr->used->idx));
        }
    }
    return error;
}

/* Driver side of the rings. */

static struct vhu_fe_vring *
get_vring(struct vhu_fe *fe, size_t idx)
{
    ovs_assert(idx < VHU_FE_MAX_VRINGS);
    ovs_assert(fe->vrings[idx].set_up);
    return &fe->vrings[idx];
}

static uint16_t
pop_free(struct vhu_fe_vring *vr, struct fe_vring_priv *priv)
{
    uint16_t d = vr->free_head;

    ovs_assert(vr->n_free > 0);
    vr->free_head = priv->free_next[d];
    vr->n_free--;
    return d;
}

static void
push_free(struct vhu_fe_vring *vr, struct fe_vring_priv *priv, uint16_t d)
{
    priv->free_next[d] = vr->free_head;
    vr->free_head = d;
    vr->n_free++;
}

/* Returns the chain that starts at 'head' to the free list, unless it is
 * not one of ours (anymore): a backend that returns a head twice, or one
 * that a test posted itself, must not corrupt the free list. */
static bool
free_chain(struct vhu_fe_vring *vr, struct fe_vring_priv *priv,
           uint32_t head)
{
    if (head >= vr->size || !vr->chain_len[head]) {
        return false;
    }

    uint16_t d = head;
    for (uint16_t i = vr->chain_len[head]; i > 0; i--) {
        uint16_t next = priv->chain_next[d];

        push_free(vr, priv, d);
        d = next;
    }
    vr->chain_len[head] = 0;
    return true;
}

/* Returns the guest-physical address of the buffer of descriptor 'd' of
 * 'vr', which has room for 'size' bytes. */
static uint64_t
desc_buf(struct vhu_fe *fe, struct vhu_fe_vring *vr,
         struct fe_vring_priv *priv, uint16_t d, uint64_t size)
{
    if (!priv->buf_cap[d] || priv->buf_cap[d] < size) {
        uint64_t cap = FE_MIN_BUF;

        while (cap < size) {
            cap *= 2;
        }
        vr->buf_gpa[d] = vhu_fe_alloc(fe, cap, 64);
        priv->buf_cap[d] = cap;
    }
    return vr->buf_gpa[d];
}

/* Kicks 'vr', whose avail index just moved on from 'old', unless the
 * backend asked not to be. */
static void
notify(const struct vhu_fe *fe, const struct vhu_fe_vring *vr, uint16_t old)
{
    bool kick;

    /* The backend may be deciding to stop polling just as we publish: our
     * store of the avail index must be seen before we read its wishes. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (fe->features & FE_BIT(VHU_VIRTIO_RING_F_EVENT_IDX)) {
        uint16_t event = __atomic_load_n(avail_event(vr), __ATOMIC_RELAXED);

        kick = vhu_vring_need_event(event, vr->avail_idx, old);
    } else {
        kick = !(__atomic_load_n(&vr->used->flags, __ATOMIC_RELAXED)
                 & VHU_VRING_USED_F_NO_NOTIFY);
    }
    if (kick && vr->kick_fd >= 0) {
        uint64_t one = 1;

        ignore(write(vr->kick_fd, &one, sizeof one) == sizeof one);
    }
}

/* Makes the avail entries that we wrote since 'old' visible to the backend,
 * after the descriptors and buffers that they point to. */
static void
publish(const struct vhu_fe *fe, struct vhu_fe_vring *vr, uint16_t old)
{
    __atomic_store_n(&vr->avail->idx, vr->avail_idx, __ATOMIC_RELEASE);
    notify(fe, vr, old);
}

/* Asks for a call when the backend uses the next entry after those that we
 * have taken (this matters only with EVENT_IDX). */
static void
update_used_event(struct vhu_fe_vring *vr)
{
    __atomic_store_n(used_event(vr), vr->used_idx, __ATOMIC_RELAXED);
}

void
vhu_fe_publish(struct vhu_fe *fe, uint32_t idx, uint16_t head)
{
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    uint16_t old = vr->avail_idx;

    vr->avail->ring[vr->avail_idx % vr->size] = head;
    vr->avail_idx++;
    priv->posted[priv->posted_tail++ % vr->size] = head;
    publish(fe, vr, old);
}

/* A piece of a packet as vhu_fe_tx() lays it out, as an offset and a length
 * in the header followed by the data. */
struct fe_seg {
    size_t ofs;
    size_t len;
};

/* Cuts a packet of 'len' bytes after a header of 'hdr_len' bytes into the
 * pieces that 'layout' gives each descriptor.  None is empty: a zero-length
 * descriptor is something a backend must cope with, but not what a test of
 * a well-behaved frontend should get. */
static size_t
layout_segs(enum vhu_fe_layout layout, size_t hdr_len, size_t len,
            struct fe_seg segs[FE_TX_MAX_SEGS])
{
    size_t n = 0;

    switch (layout) {
    case VHU_FE_LAYOUT_ONE:
        segs[n++] = (struct fe_seg) { 0, hdr_len + len };
        break;

    case VHU_FE_LAYOUT_HDR_APART:
    case VHU_FE_LAYOUT_INDIRECT:
        segs[n++] = (struct fe_seg) { 0, hdr_len };
        if (len) {
            segs[n++] = (struct fe_seg) { hdr_len, len };
        }
        break;

    case VHU_FE_LAYOUT_SCATTER: {
        size_t k = MIN(len, 3);

        segs[n++] = (struct fe_seg) { 0, 4 };
        segs[n++] = (struct fe_seg) { 4, hdr_len - 4 };
        for (size_t i = 0; i < k; i++) {
            size_t start = len * i / k;
            size_t end = len * (i + 1) / k;

            segs[n++] = (struct fe_seg) { hdr_len + start, end - start };
        }
        break;
    }

    default:
        OVS_NOT_REACHED();
    }
    return n;
}

/* Copies piece 'seg' of a zero header of 'hdr_len' bytes followed by
 * 'data' to 'dst'. */
static void
copy_seg(uint8_t *dst, struct fe_seg seg, size_t hdr_len,
         const uint8_t *data)
{
    if (seg.ofs < hdr_len) {
        size_t n = MIN(seg.len, hdr_len - seg.ofs);

        memset(dst, 0, n);
        dst += n;
        seg.ofs += n;
        seg.len -= n;
    }
    if (seg.len) {
        memcpy(dst, data + (seg.ofs - hdr_len), seg.len);
    }
}

/* Packed rings.
 *
 * Buffer ids come from the free list ('free_head', 'free_next'); each id
 * has one buffer in guest memory ('buf_gpa', grown as needed) that all of
 * its descriptors point into, and 'chain_len' says how many ring
 * descriptors it took.  'n_free' counts free ring descriptors. */

/* The F_AVAIL and F_USED bits that make a descriptor available in a lap
 * whose wrap counter is 'wrap'. */
static uint16_t
packed_avail_bits(bool wrap)
{
    return wrap ? VHU_VRING_PACKED_DESC_F_AVAIL : VHU_VRING_PACKED_DESC_F_USED;
}

/* Moves position '*posp' (wrap counter '*wrapp') of 'vr' on by 'n'. */
static void
packed_advance(const struct vhu_fe_vring *vr, uint16_t *posp, bool *wrapp,
               uint32_t n)
{
    uint32_t pos = *posp + n;

    while (pos >= vr->size) {
        pos -= vr->size;
        *wrapp = !*wrapp;
    }
    *posp = pos;
}

uint16_t
vhu_fe_packed_avail_flags(const struct vhu_fe *fe, uint32_t idx,
                          uint16_t k, uint16_t *posp)
{
    const struct vhu_fe_vring *vr = &fe->vrings[idx];
    uint16_t pos = vr->avail_idx;
    bool wrap = vr->avail_wrap;

    ovs_assert(vr->packed);
    packed_advance(vr, &pos, &wrap, k);
    *posp = pos;
    return packed_avail_bits(wrap);
}

static uint16_t
packed_pop_id(struct vhu_fe_vring *vr, struct fe_vring_priv *priv)
{
    uint16_t id = vr->free_head;

    vr->free_head = priv->free_next[id];
    priv->posted[priv->posted_tail++ % vr->size] = id;
    return id;
}

/* Posts 'n_descs' descriptors from 'descs' (flags without F_AVAIL and
 * F_USED) at our next positions, the first one made available last, and
 * kicks the backend unless it asked not to be. */
static void
packed_post(struct vhu_fe_vring *vr,
            const struct vhu_vring_packed_desc *descs, size_t n_descs)
{
    uint16_t first = vr->avail_idx;
    uint16_t first_flags = descs[0].flags | packed_avail_bits(vr->avail_wrap);

    for (size_t i = 0; i < n_descs; i++) {
        struct vhu_vring_packed_desc *d = &vr->packed_desc[vr->avail_idx];

        d->addr = descs[i].addr;
        d->len = descs[i].len;
        d->id = descs[i].id;
        if (i) {
            __atomic_store_n(&d->flags, (descs[i].flags
                                         | packed_avail_bits(vr->avail_wrap)),
                             __ATOMIC_RELEASE);
        }
        packed_advance(vr, &vr->avail_idx, &vr->avail_wrap, 1);
    }
    vr->n_free -= n_descs;
    __atomic_store_n(&vr->packed_desc[first].flags, first_flags,
                     __ATOMIC_RELEASE);

    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&vr->device_event->flags, __ATOMIC_RELAXED)
        != VHU_RING_EVENT_FLAGS_DISABLE && vr->kick_fd >= 0) {
        uint64_t one = 1;

        ignore(write(vr->kick_fd, &one, sizeof one) == sizeof one);
    }
}

static int
packed_tx(struct vhu_fe *fe, uint32_t idx, const uint8_t *data, size_t len,
          enum vhu_fe_layout layout)
{
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    struct vhu_vring_packed_desc descs[FE_TX_MAX_SEGS];
    struct fe_seg segs[FE_TX_MAX_SEGS];
    size_t n_segs = layout_segs(layout, fe->hdr_len, len, segs);
    size_t n_descs = layout == VHU_FE_LAYOUT_INDIRECT ? 1 : n_segs;

    if (vr->n_free < n_descs) {
        return ENOSPC;
    }

    /* One buffer per id; each piece FE_INDIRECT_DATA_OFS bytes apart from
     * the one before, so that a backend cannot get away with reading them
     * as one. */
    uint16_t id = packed_pop_id(vr, priv);
    uint64_t buf = desc_buf(fe, vr, priv, id, (fe->hdr_len + len
                                               + FE_TX_MAX_SEGS
                                               * FE_INDIRECT_DATA_OFS));
    for (size_t i = 0; i < n_segs; i++) {
        uint64_t gpa = buf + segs[i].ofs + i * FE_INDIRECT_DATA_OFS;

        copy_seg(fe_ptr(fe, gpa), segs[i], fe->hdr_len, data);
        descs[i] = (struct vhu_vring_packed_desc) {
            .addr = gpa,
            .len = segs[i].len,
            .id = id,
            .flags = i + 1 < n_segs ? VHU_VRING_DESC_F_NEXT : 0,
        };
    }
    if (layout == VHU_FE_LAYOUT_INDIRECT) {
        if (!vr->indirect_gpa[id]) {
            vr->indirect_gpa[id] = vhu_fe_alloc(
                fe, FE_INDIRECT_DESCS * sizeof *descs, VHU_VRING_DESC_ALIGN);
        }

        /* In a packed indirect table every entry is used, in order, and
         * only F_WRITE means anything. */
        struct vhu_vring_packed_desc *table
            = fe_ptr(fe, vr->indirect_gpa[id]);
        for (size_t i = 0; i < n_segs; i++) {
            table[i] = descs[i];
            table[i].flags = 0;
        }
        descs[0] = (struct vhu_vring_packed_desc) {
            .addr = vr->indirect_gpa[id],
            .len = n_segs * sizeof *table,
            .id = id,
            .flags = VHU_VRING_DESC_F_INDIRECT,
        };
    }
    vr->chain_len[id] = n_descs;
    packed_post(vr, descs, n_descs);
    return 0;
}

/* If the descriptor at our next used position holds a used buffer, stores
 * its id and length and returns true. */
static bool
packed_used_at(const struct vhu_fe_vring *vr, uint16_t pos, bool wrap,
               uint16_t *idp, uint32_t *lenp)
{
    const struct vhu_vring_packed_desc *d = &vr->packed_desc[pos];
    uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);

    if (!!(flags & VHU_VRING_PACKED_DESC_F_AVAIL) != wrap
        || !!(flags & VHU_VRING_PACKED_DESC_F_USED) != wrap) {
        return false;
    }
    *idp = d->id;
    *lenp = d->len;
    return true;
}

/* Takes back the buffers up to and including 'id', which the backend
 * marked used with one descriptor: only the oldest one we posted, or with
 * IN_ORDER every one up to it.  Returns how many, 0 if 'id' makes no
 * sense. */
static size_t
packed_take_back(const struct vhu_fe *fe, struct vhu_fe_vring *vr,
                 struct fe_vring_priv *priv, uint16_t id)
{
    bool in_order = fe->features & FE_BIT(VHU_VIRTIO_F_IN_ORDER);
    uint32_t n_ids = priv->posted_tail - priv->posted_head;
    uint32_t n = 0;

    /* Find it first, so that an id that makes no sense takes nothing. */
    while (n < n_ids && priv->posted[(priv->posted_head + n) % vr->size]
           != id) {
        n++;
    }
    if (n == n_ids || (n && !in_order)) {
        return 0;
    }

    uint32_t n_descs = 0;
    for (uint32_t i = 0; i <= n; i++) {
        uint16_t done = priv->posted[priv->posted_head++ % vr->size];

        n_descs += vr->chain_len[done];
        vr->chain_len[done] = 0;
        priv->free_next[done] = vr->free_head;
        vr->free_head = done;
    }
    vr->n_free += n_descs;
    packed_advance(vr, &vr->used_idx, &vr->used_wrap, n_descs);
    return n + 1;
}

static size_t
packed_tx_reap(struct vhu_fe *fe, uint32_t idx)
{
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    size_t n = 0;
    uint32_t len;
    uint16_t id;

    while (packed_used_at(vr, vr->used_idx, vr->used_wrap, &id, &len)) {
        size_t n_taken = packed_take_back(fe, vr, priv, id);
        if (!n_taken) {
            break;
        }
        n += n_taken;
    }
    update_driver_event(fe, vr);
    return n;
}

static size_t
packed_rx_post(struct vhu_fe *fe, uint32_t idx, size_t n, uint32_t buf_size)
{
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    struct vhu_vring_packed_desc descs[64];
    size_t posted = 0;

    /* In batches, each made available at once by its first flags. */
    while (posted < n && vr->n_free) {
        size_t n_batch = MIN(MIN(n - posted, vr->n_free), ARRAY_SIZE(descs));

        for (size_t i = 0; i < n_batch; i++) {
            uint16_t id = packed_pop_id(vr, priv);

            descs[i] = (struct vhu_vring_packed_desc) {
                .addr = desc_buf(fe, vr, priv, id, buf_size),
                .len = buf_size,
                .id = id,
                .flags = VHU_VRING_DESC_F_WRITE,
            };
            vr->chain_len[id] = 1;
            priv->rx_len[id] = buf_size;
        }
        packed_post(vr, descs, n_batch);
        posted += n_batch;
    }
    return posted;
}

static int
packed_rx(struct vhu_fe *fe, uint32_t idx, uint8_t *buf, size_t size,
          size_t *lenp, uint16_t *n_buffersp)
{
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    uint32_t n_ids = priv->posted_tail - priv->posted_head;
    uint16_t n_buffers = 1;
    uint16_t ids[VHU_VRING_MAX_SIZE > 4096 ? 4096 : VHU_VRING_MAX_SIZE];
    uint32_t lens[ARRAY_SIZE(ids)];
    uint16_t pos = vr->used_idx;
    bool wrap = vr->used_wrap;
    size_t total;

    *lenp = 0;
    *n_buffersp = 0;
    if (!packed_used_at(vr, pos, wrap, &ids[0], &lens[0])) {
        return EAGAIN;
    }

    /* Every used descriptor must name the next buffer we posted (RX
     * buffers come back one descriptor each, in order), no longer than
     * it. */
    if (!n_ids || ids[0] != priv->posted[priv->posted_head % vr->size]
        || lens[0] < fe->hdr_len || lens[0] > priv->rx_len[ids[0]]) {
        return EPROTO;
    }
    if (fe->features & FE_BIT(VHU_VIRTIO_NET_F_MRG_RXBUF)) {
        struct vhu_virtio_net_hdr hdr;

        memcpy(&hdr, fe_ptr(fe, vr->buf_gpa[ids[0]]), sizeof hdr);
        n_buffers = hdr.num_buffers;
        if (!n_buffers || n_buffers > n_ids || n_buffers > ARRAY_SIZE(ids)) {
            return EPROTO;
        }
    }
    total = lens[0] - fe->hdr_len;
    for (uint16_t i = 1; i < n_buffers; i++) {
        uint16_t expected = priv->posted[(priv->posted_head + i) % vr->size];

        packed_advance(vr, &pos, &wrap, 1);
        if (!packed_used_at(vr, pos, wrap, &ids[i], &lens[i])) {
            return EAGAIN;
        }
        if (ids[i] != expected || lens[i] > priv->rx_len[ids[i]]) {
            return EPROTO;
        }
        total += lens[i];
    }

    for (uint16_t i = 0; i < n_buffers; i++) {
        size_t skip = i ? 0 : fe->hdr_len;

        if (total <= size) {
            memcpy(buf, (uint8_t *) fe_ptr(fe, vr->buf_gpa[ids[i]]) + skip,
                   lens[i] - skip);
            buf += lens[i] - skip;
        }
        packed_take_back(fe, vr, priv, ids[i]);
    }
    update_driver_event(fe, vr);

    *lenp = total;
    *n_buffersp = n_buffers;
    return total <= size ? 0 : EMSGSIZE;
}

/* Posts one packet on TX vring 2*qp + 1 and publishes it.  Returns ENOSPC
 * if the ring has too few free descriptors, EMSGSIZE if 'len' is over 64
 * KiB. */
int
vhu_fe_tx(struct vhu_fe *fe, size_t qp, const void *data_, size_t len,
          enum vhu_fe_layout layout)
{
    const uint8_t *data = data_;
    uint32_t idx = 2 * qp + 1;
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    struct fe_seg segs[FE_TX_MAX_SEGS];
    size_t n_segs, n_descs;

    if (len > FE_TX_MAX_LEN) {
        return EMSGSIZE;
    }
    if (vr->packed) {
        return packed_tx(fe, idx, data, len, layout);
    }
    n_segs = layout_segs(layout, fe->hdr_len, len, segs);
    n_descs = layout == VHU_FE_LAYOUT_INDIRECT ? 1 : n_segs;
    if (vr->n_free < n_descs) {
        return ENOSPC;
    }

    uint16_t head = vr->free_head;
    if (layout == VHU_FE_LAYOUT_INDIRECT) {
        uint16_t d = pop_free(vr, priv);

        if (!vr->indirect_gpa[d]) {
            vr->indirect_gpa[d] = vhu_fe_alloc(
                fe, FE_INDIRECT_DESCS * sizeof(struct vhu_vring_desc),
                VHU_VRING_DESC_ALIGN);
        }

        struct vhu_vring_desc *table = fe_ptr(fe, vr->indirect_gpa[d]);
        uint64_t buf = desc_buf(fe, vr, priv, d, FE_INDIRECT_DATA_OFS + len);
        for (size_t i = 0; i < n_segs; i++) {
            uint64_t gpa = buf + (i ? FE_INDIRECT_DATA_OFS : 0);
            bool more = i + 1 < n_segs;

            copy_seg(fe_ptr(fe, gpa), segs[i], fe->hdr_len, data);
            table[i] = (struct vhu_vring_desc) {
                .addr = gpa,
                .len = segs[i].len,
                .flags = more ? VHU_VRING_DESC_F_NEXT : 0,
                .next = more ? i + 1 : 0,
            };
        }
        vr->desc[d] = (struct vhu_vring_desc) {
            .addr = vr->indirect_gpa[d],
            .len = n_segs * sizeof *table,
            .flags = VHU_VRING_DESC_F_INDIRECT,
        };
    } else {
        uint16_t prev = 0;

        for (size_t i = 0; i < n_segs; i++) {
            uint16_t d = pop_free(vr, priv);
            uint64_t gpa = desc_buf(fe, vr, priv, d, segs[i].len);

            copy_seg(fe_ptr(fe, gpa), segs[i], fe->hdr_len, data);
            vr->desc[d] = (struct vhu_vring_desc) {
                .addr = gpa,
                .len = segs[i].len,
            };
            if (i) {
                vr->desc[prev].flags |= VHU_VRING_DESC_F_NEXT;
                vr->desc[prev].next = d;
                priv->chain_next[prev] = d;
            }
            prev = d;
        }
    }
    vr->chain_len[head] = n_descs;

    vhu_fe_publish(fe, idx, head);
    return 0;
}

size_t
vhu_fe_tx_reap(struct vhu_fe *fe, size_t qp)
{
    uint32_t idx = 2 * qp + 1;
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    if (vr->packed) {
        return packed_tx_reap(fe, idx);
    }
    uint16_t used_idx = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
    bool in_order = fe->features & FE_BIT(VHU_VIRTIO_F_IN_ORDER);
    size_t n = 0;

    while (vr->used_idx != used_idx) {
        const struct vhu_vring_used_elem *e
            = &vr->used->ring[vr->used_idx % vr->size];
        uint16_t n_entries = 1;

        if (in_order) {
            /* The entry may stand for a batch: it names the batch's last
             * chain, and the batch is every chain we posted up to that
             * one, within what the used index says is used. */
            uint16_t n_used = used_idx - vr->used_idx;
            uint32_t n_posted = priv->posted_tail - priv->posted_head;

            for (n_entries = 1; ; n_entries++) {
                if (n_entries > n_used || n_entries > n_posted) {
                    goto out;   /* An id that we did not post next. */
                }
                if (priv->posted[(priv->posted_head + n_entries - 1)
                                 % vr->size] == e->id) {
                    break;
                }
            }
        }
        for (uint16_t i = 0; i < n_entries; i++) {
            uint16_t oldest = priv->posted[priv->posted_head++ % vr->size];

            n += free_chain(vr, priv, in_order ? oldest : e->id);
        }
        vr->used_idx += n_entries;
    }
out:
    update_used_event(vr);
    return n;
}

size_t
vhu_fe_rx_post(struct vhu_fe *fe, size_t qp, size_t n, uint32_t buf_size)
{
    uint32_t idx = 2 * qp;
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    uint16_t old = vr->avail_idx;
    size_t i;

    if (vr->packed) {
        return packed_rx_post(fe, idx, n, buf_size);
    }
    for (i = 0; i < n && vr->n_free; i++) {
        uint16_t d = pop_free(vr, priv);

        vr->desc[d] = (struct vhu_vring_desc) {
            .addr = desc_buf(fe, vr, priv, d, buf_size),
            .len = buf_size,
            .flags = VHU_VRING_DESC_F_WRITE,
        };
        vr->chain_len[d] = 1;
        vr->avail->ring[vr->avail_idx % vr->size] = d;
        vr->avail_idx++;
    }
    if (i) {
        publish(fe, vr, old);
    }
    return i;
}

/* Returns true if used entry 'e' of RX vring 'vr' names a buffer that we
 * posted and is not longer than it. */
static bool
rx_elem_ok(const struct vhu_fe_vring *vr, const struct fe_vring_priv *priv,
           const struct vhu_vring_used_elem *e)
{
    return (e->id < vr->size
            && vr->chain_len[e->id] == 1
            && e->len <= vr->desc[e->id].len
            && e->len <= priv->buf_cap[e->id]);
}

/* Takes the next packet from RX vring 2*qp.  Returns EAGAIN if it has not
 * (completely) arrived, EPROTO if the backend's used entries or header make
 * no sense (taking nothing), or EMSGSIZE if the packet is longer than
 * 'size' (then it is dropped and '*lenp' says how long it was). */
int
vhu_fe_rx(struct vhu_fe *fe, size_t qp, void *buf_, size_t size,
          size_t *lenp, uint16_t *n_buffersp)
{
    uint32_t idx = 2 * qp;
    struct vhu_fe_vring *vr = get_vring(fe, idx);
    struct fe_vring_priv *priv = &fe_impl(fe)->vrings[idx];
    if (vr->packed) {
        return packed_rx(fe, idx, buf_, size, lenp, n_buffersp);
    }
    uint16_t used_idx = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
    uint16_t n_used = used_idx - vr->used_idx;
    const struct vhu_vring_used_elem *first;
    uint16_t n_buffers = 1;
    uint8_t *buf = buf_;
    size_t total;

    *lenp = 0;
    *n_buffersp = 0;
    if (!n_used) {
        return EAGAIN;
    }

    first = &vr->used->ring[vr->used_idx % vr->size];
    if (!rx_elem_ok(vr, priv, first) || first->len < fe->hdr_len) {
        return EPROTO;
    }
    if (fe->features & FE_BIT(VHU_VIRTIO_NET_F_MRG_RXBUF)) {
        struct vhu_virtio_net_hdr hdr;

        memcpy(&hdr, fe_ptr(fe, vr->buf_gpa[first->id]), sizeof hdr);
        n_buffers = hdr.num_buffers;
        if (!n_buffers || n_buffers > vr->size) {
            return EPROTO;
        }
    }
    if (n_buffers > n_used) {
        return EAGAIN;
    }

    /* Check every entry before taking any, marking each buffer taken
     * (chain_len 0) so that one named twice shows up. */
    total = 0;
    for (uint16_t i = 0; i < n_buffers; i++) {
        const struct vhu_vring_used_elem *e
            = &vr->used->ring[(uint16_t) (vr->used_idx + i) % vr->size];

        if (!rx_elem_ok(vr, priv, e)) {
            while (i-- > 0) {
                e = &vr->used->ring[(uint16_t) (vr->used_idx + i) % vr->size];
                vr->chain_len[e->id] = 1;
            }
            return EPROTO;
        }
        vr->chain_len[e->id] = 0;
        total += e->len - (i ? 0 : fe->hdr_len);
    }

    for (uint16_t i = 0; i < n_buffers; i++) {
        const struct vhu_vring_used_elem *e
            = &vr->used->ring[(uint16_t) (vr->used_idx + i) % vr->size];
        size_t skip = i ? 0 : fe->hdr_len;

        if (total <= size) {
            memcpy(buf, (uint8_t *) fe_ptr(fe, vr->buf_gpa[e->id]) + skip,
                   e->len - skip);
            buf += e->len - skip;
        }
        push_free(vr, priv, e->id);
    }
    vr->used_idx += n_buffers;
    update_used_event(vr);

    *lenp = total;
    *n_buffersp = n_buffers;
    return total <= size ? 0 : EMSGSIZE;
}

uint64_t
vhu_fe_calls(struct vhu_fe *fe, uint32_t idx)
{
    uint64_t n;

    ovs_assert(idx < VHU_FE_MAX_VRINGS);
    if (fe->vrings[idx].call_fd < 0
        || read(fe->vrings[idx].call_fd, &n, sizeof n) != sizeof n) {
        return 0;
    }
    return n;
}

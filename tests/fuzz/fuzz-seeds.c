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

/* The seed corpora of the fuzz targets, from real sessions: the in-repo
 * test frontend (tests/vhu-frontend.c) sets a device up, posts TX packets
 * and RX buffers in each of its layouts, and what it sent and wrote is
 * written down in the targets' input formats (fuzz.h).
 *
 *   msg      A relay between the frontend and a real device records every
 *            message as it passes: header, payload and what its fds are
 *            (guest memory files, by region, or eventfds).  Frontend
 *            addresses in the payloads are rewritten to fixed ones, region
 *            by region, so that the seeds do not change from run to run.
 *            The guest memory the frontend wrote follows as MEM records,
 *            then bursts on every queue pair, then what a frontend sends
 *            when it stops (GET_VRING_BASE).
 *
 *   split,   Each ring the frontend posted on, with every buffer and
 *   packed   indirect table it points to copied into region 0 and the
 *            addresses rewritten to match, then bursts.
 *
 *   net-hdr  The buffer lengths of each chain the frontend posted, TX
 *            packets in each layout and RX buffers, with packets to
 *            enqueue.
 *
 * "ovs-vhu-fuzz-replay --make-seeds DIR" writes them into DIR/TARGET/. */

#include <config.h>

#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latch.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "ovs-thread.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-frontend.h"
#include "vhu-msg.h"

#define F(BIT) (1ULL << (BIT))
#define SPLIT_FEATURES (VHU_DEV_FEATURES & ~(F(VHU_VIRTIO_F_RING_PACKED)   \
                                             | F(VHU_VIRTIO_F_IN_ORDER)))
#define PACKED_FEATURES (SPLIT_FEATURES | F(VHU_VIRTIO_F_RING_PACKED))
#define LEGACY_FEATURES (SPLIT_FEATURES & ~(F(VHU_VIRTIO_F_VERSION_1)       \
                                            | F(VHU_VIRTIO_NET_F_MRG_RXBUF) \
                                            | F(VHU_F_PROTOCOL_FEATURES)))

#define RING_SIZE 32
#define REGION_SIZE VHU_FUZZ_MSG_FILE_SIZE

/* Where the recorded frontend addresses of region i start. */
#define CANON_UVA(I) (0x7f0000000000ULL + (uint64_t) (I) * 0x40000000ULL)

/* The relay: the frontend talks to it, it talks to the device, and it
 * writes down what passes. */
struct relay {
    struct vhu_dev *dev;
    struct vhu_fe *fe;
    int fe_sock;                /* The frontend's own end. */
    int fe_end;                 /* Ours, facing the frontend. */
    int dev_end;                /* Ours, facing the device. */
    struct vhu_msg_reader reader;
    struct latch exit;
    pthread_t thread;
    struct ovs_mutex mutex;
    struct ofpbuf rec OVS_GUARDED;      /* A "msg" input. */
};

/* Returns the region of 'fe' whose memfd 'fd' is, or -1. */
static int
fd_region(const struct vhu_fe *fe, int fd)
{
    struct stat st, rst;

    if (fstat(fd, &st)) {
        return -1;
    }
    for (size_t i = 0; i < fe->n_regions; i++) {
        if (!fstat(fe->regions[i].fd, &rst) && rst.st_dev == st.st_dev
            && rst.st_ino == st.st_ino) {
            return i;
        }
    }
    return -1;
}

/* Rewrites frontend address '*uvap' to the fixed one of its region. */
static void
canon_uva(const struct vhu_fe *fe, uint64_t *uvap)
{
    for (size_t i = 0; i < fe->n_regions; i++) {
        uint64_t start = (uintptr_t) fe->regions[i].addr;

        if (*uvap >= start && *uvap - start < fe->regions[i].size) {
            *uvap = CANON_UVA(i) + (*uvap - start);
            return;
        }
    }
}

static void
relay_record(struct relay *r, const struct vhu_msg *msg)
    OVS_REQUIRES(r->mutex)
{
    union vhu_msg_payload p = msg->payload;
    uint8_t fds = msg->n_fds;
    uint8_t base = 0;

    switch (msg->hdr.request) {
    case VHU_SET_MEM_TABLE:
        for (size_t i = 0; i < VHU_MEM_BASELINE_REGIONS; i++) {
            canon_uva(r->fe, &p.mem_table.regions[i].userspace_addr);
        }
        break;
    case VHU_ADD_MEM_REG:
    case VHU_REM_MEM_REG:
        canon_uva(r->fe, &p.mem_single.region.userspace_addr);
        break;
    case VHU_SET_VRING_ADDR:
        canon_uva(r->fe, &p.addr.desc_user_addr);
        canon_uva(r->fe, &p.addr.used_user_addr);
        canon_uva(r->fe, &p.addr.avail_user_addr);
        break;
    }
    if (msg->n_fds) {
        int region = fd_region(r->fe, msg->fds[0]);

        if (region >= 0) {
            fds |= VHU_FUZZ_MSG_FDS_MEM;
            base = region;
            for (size_t i = 1; i < msg->n_fds; i++) {
                ovs_assert(fd_region(r->fe, msg->fds[i]) == region + i);
            }
        } else {
            fds |= VHU_FUZZ_MSG_FDS_EVENT;
        }
    }

    ovs_assert(msg->hdr.request <= UINT8_MAX && msg->hdr.flags <= UINT8_MAX);
    vhu_fuzz_put_u8(&r->rec, VHU_FUZZ_REC_MSG);
    vhu_fuzz_put_u8(&r->rec, fds);
    vhu_fuzz_put_u8(&r->rec, base);
    vhu_fuzz_put_u8(&r->rec, msg->hdr.request);
    vhu_fuzz_put_u8(&r->rec, msg->hdr.flags);
    vhu_fuzz_put_u16(&r->rec, msg->hdr.size);
    ofpbuf_put(&r->rec, &p, msg->hdr.size);
}

static void
relay_from_frontend(struct relay *r)
{
    for (;;) {
        char *error_msg = NULL;
        int error = vhu_msg_recv(&r->reader, r->fe_end, &error_msg);

        if (error) {
            free(error_msg);
            if (error != EAGAIN) {
                vhu_msg_reader_clear(&r->reader);
            }
            return;
        }

        struct vhu_msg *msg = &r->reader.msg;
        ovs_mutex_lock(&r->mutex);
        relay_record(r, msg);
        ovs_mutex_unlock(&r->mutex);
        ovs_assert(!vhu_msg_send(r->dev_end, &msg->hdr, &msg->payload,
                                 msg->fds, msg->n_fds));
        vhu_msg_reader_clear(&r->reader);
    }
}

static void
relay_from_device(struct relay *r)
{
    for (;;) {
        uint8_t buf[4096];
        ssize_t n = recv(r->dev_end, buf, sizeof buf, MSG_DONTWAIT);

        if (n <= 0) {
            return;
        }
        ovs_assert(send(r->fe_end, buf, n, MSG_NOSIGNAL) == n);
    }
}

static void *
relay_main(void *r_)
{
    struct relay *r = r_;

    while (!latch_is_set(&r->exit)) {
        relay_from_frontend(r);
        vhu_dev_run(r->dev);
        relay_from_device(r);

        poll_fd_wait(r->fe_end, POLLIN);
        poll_fd_wait(r->dev_end, POLLIN);
        vhu_dev_wait(r->dev);
        latch_wait(&r->exit);
        poll_block();
    }
    return NULL;
}

/* A frontend with 'n_regions' regions, a device, and the relay between
 * them. */
static struct relay *
relay_create(size_t n_regions)
{
    struct relay *r = xzalloc(sizeof *r);
    int fe_pair[2], dev_pair[2];

    ovs_assert(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fe_pair));
    ovs_assert(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                           dev_pair));
    r->fe_sock = fe_pair[0];
    r->fe_end = fe_pair[1];
    r->dev_end = dev_pair[1];
    r->dev = vhu_dev_create_connected("seeds", dev_pair[0], NULL, NULL);
    r->fe = vhu_fe_create(r->fe_sock, n_regions, REGION_SIZE);
    vhu_msg_reader_init(&r->reader);
    ovs_mutex_init(&r->mutex);
    ofpbuf_init(&r->rec, 4096);
    latch_init(&r->exit);
    r->thread = ovs_thread_create("vhu-fuzz-relay", relay_main, r);
    return r;
}

static void
relay_destroy(struct relay *r)
{
    latch_set(&r->exit);
    xpthread_join(r->thread, NULL);
    latch_destroy(&r->exit);
    vhu_fe_destroy(r->fe);
    close(r->fe_sock);
    close(r->fe_end);
    close(r->dev_end);
    vhu_msg_reader_clear(&r->reader);
    vhu_dev_destroy(r->dev);
    ofpbuf_uninit(&r->rec);
    ovs_mutex_destroy(&r->mutex);
    free(r);
}

/* Waits until the relay has passed on every message sent so far (a
 * request with a reply cannot be answered before). */
static void
relay_sync(struct relay *r)
{
    uint64_t features;

    ovs_assert(!vhu_fe_get_u64(r->fe, VHU_GET_FEATURES, &features));
}

/* Appends to the recording the guest memory that the frontend wrote, as
 * MEM records of its nonzero stretches. */
static void
relay_record_memory(struct relay *r)
{
    ovs_mutex_lock(&r->mutex);
    for (size_t i = 0; i < r->fe->n_regions; i++) {
        const struct vhu_fe_region *region = &r->fe->regions[i];
        size_t ofs = 0;

        while (ofs < region->used) {
            if (!region->addr[ofs]) {
                ofs++;
                continue;
            }

            /* A stretch ends at 32 zero bytes in a row, or at the most
             * that a record holds. */
            size_t end = ofs, zeros = 0;
            while (end < region->used && zeros < 32 && end - ofs < 65535) {
                zeros = region->addr[end] ? 0 : zeros + 1;
                end++;
            }
            end -= zeros;

            vhu_fuzz_put_u8(&r->rec, VHU_FUZZ_REC_MEM);
            vhu_fuzz_put_u8(&r->rec, i);
            vhu_fuzz_put_u32(&r->rec, ofs);
            vhu_fuzz_put_u16(&r->rec, end - ofs);
            ofpbuf_put(&r->rec, region->addr + ofs, end - ofs);
            ofs = end;
        }
    }
    ovs_mutex_unlock(&r->mutex);
}

static void
relay_record_bursts(struct relay *r, size_t n_pairs)
{
    ovs_mutex_lock(&r->mutex);
    for (size_t qp = 0; qp < n_pairs; qp++) {
        vhu_fuzz_put_u8(&r->rec, VHU_FUZZ_REC_BURST);
        vhu_fuzz_put_u8(&r->rec, qp);
        vhu_fuzz_put_u8(&r->rec, 7);
        vhu_fuzz_put_u8(&r->rec, qp);
    }
    for (uint8_t what = 0; what < 4; what++) {
        vhu_fuzz_put_u8(&r->rec, VHU_FUZZ_REC_QUERY);
        vhu_fuzz_put_u8(&r->rec, what);
    }
    ovs_mutex_unlock(&r->mutex);
}

static void
write_seed(const char *dir, const char *target, const char *name,
           const struct ofpbuf *b)
{
    char *path = xasprintf("%s/%s", dir, target);
    int fd;

    if (mkdir(path, 0777) && errno != EEXIST) {
        ovs_fatal(errno, "%s: mkdir failed", path);
    }
    free(path);

    path = xasprintf("%s/%s/%s", dir, target, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || write(fd, b->data, b->size) != b->size || close(fd)) {
        ovs_fatal(errno, "%s: write failed", path);
    }
    printf("%s: %"PRIu32" bytes\n", path, b->size);
    free(path);
}

/* Ring seeds. */

/* Region 0 of a ring seed as it is being filled. */
struct reloc {
    struct ofpbuf content;
    size_t fill;                /* Bytes up to the last one copied. */
};

/* Copies 'len' bytes of the frontend's guest memory at 'gpa' into 'rl',
 * aligned on 'align', and returns their offset there.  RX buffers
 * ('!copy') get room but keep it zero, so that a seed of them need not
 * hold their bytes. */
static uint16_t
reloc_copy(struct reloc *rl, const struct vhu_fe *fe, uint64_t gpa,
           uint32_t len, uint32_t align, bool copy)
{
    size_t ofs = ROUND_UP(rl->content.size, align);

    ofpbuf_put_zeros(&rl->content, ofs - rl->content.size);
    if (copy) {
        ofpbuf_put(&rl->content, vhu_fe_gpa_to_ptr(fe, gpa), len);
        rl->fill = rl->content.size;
    } else {
        ofpbuf_put_zeros(&rl->content, len);
    }
    ovs_assert(rl->content.size < 65536);
    return ofs;
}

/* Copies indirect table of 'len' bytes at 'gpa' and every buffer its
 * entries (split descriptors if '!packed') point to, with their addresses
 * rewritten, and returns the table's offset. */
static uint16_t
reloc_table(struct reloc *rl, const struct vhu_fe *fe, uint64_t gpa,
            uint32_t len, bool packed)
{
    uint16_t ofs = reloc_copy(rl, fe, gpa, len, 16, true);

    for (uint32_t i = 0; i < len / 16; i++) {
        uint64_t addr;
        uint32_t blen;
        uint16_t flags;

        if (packed) {
            struct vhu_vring_packed_desc *d
                = (void *) ((uint8_t *) rl->content.data + ofs + 16 * i);
            addr = d->addr;
            blen = d->len;
            flags = d->flags;
        } else {
            struct vhu_vring_desc *d
                = (void *) ((uint8_t *) rl->content.data + ofs + 16 * i);
            addr = d->addr;
            blen = d->len;
            flags = d->flags;
        }
        bool copy = !(flags & VHU_VRING_DESC_F_WRITE);
        uint64_t new_addr = (VHU_FUZZ_GPA_BASE
                             + reloc_copy(rl, fe, addr, blen, 1, copy));
        /* 'content' may have moved. */
        memcpy((uint8_t *) rl->content.data + ofs + 16 * i, &new_addr,
               sizeof new_addr);
    }
    return ofs;
}

static uint8_t
ring_features(const struct vhu_fe *fe, const struct vhu_fe_vring *vr)
{
    uint64_t f = fe->features;

    return ((f & F(VHU_VIRTIO_RING_F_INDIRECT_DESC) ? VHU_FUZZ_F_INDIRECT : 0)
            | (f & F(VHU_VIRTIO_RING_F_EVENT_IDX) ? VHU_FUZZ_F_EVENT_IDX : 0)
            | (f & F(VHU_VIRTIO_NET_F_MRG_RXBUF) ? VHU_FUZZ_F_MRG_RXBUF : 0)
            | (f & F(VHU_VIRTIO_F_IN_ORDER) ? VHU_FUZZ_F_IN_ORDER : 0)
            | (fe->hdr_len == VHU_VIRTIO_NET_HDR_LEN ? VHU_FUZZ_F_HDR12 : 0)
            | (f & F(VHU_VIRTIO_F_NOTIFY_ON_EMPTY)
               ? VHU_FUZZ_F_NOTIFY_ON_EMPTY : 0)
            | (vr->call_fd >= 0 ? VHU_FUZZ_F_CALL : 0));
}

/* Writes a "split" or "packed" seed of vring 'idx' of 'fe' as the
 * frontend left it, followed by 'ops'. */
static void
ring_seed(const char *dir, const char *name, const struct vhu_fe *fe,
          uint32_t idx, const uint8_t *ops, size_t n_ops)
{
    const struct vhu_fe_vring *vr = &fe->vrings[idx];
    struct vhu_fuzz_ring_hdr h;
    struct ofpbuf descs, b;
    struct reloc rl;

    memset(&h, 0, sizeof h);
    h.features = ring_features(fe, vr);
    ofpbuf_init(&rl.content, 4096);
    rl.fill = 0;
    ofpbuf_init(&descs, 1024);
    for (uint32_t i = 0; i < vr->size; i++) {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, word;

        if (vr->packed) {
            addr = vr->packed_desc[i].addr;
            len = vr->packed_desc[i].len;
            flags = vr->packed_desc[i].flags;
            word = vr->packed_desc[i].id;
        } else {
            addr = vr->desc[i].addr;
            len = vr->desc[i].len;
            flags = vr->desc[i].flags;
            word = vr->desc[i].next;
        }

        uint16_t ofs = 0;
        if (!len) {
            /* Not posted. */
        } else if (flags & VHU_VRING_DESC_F_INDIRECT) {
            ofs = reloc_table(&rl, fe, addr, len, vr->packed);
        } else {
            ofs = reloc_copy(&rl, fe, addr, len, 1,
                             !(flags & VHU_VRING_DESC_F_WRITE));
        }
        ovs_assert(len <= UINT16_MAX && !(flags & VHU_FUZZ_DESC_MARKS));
        vhu_fuzz_put_u16(&descs, ofs);
        vhu_fuzz_put_u16(&descs, len);
        vhu_fuzz_put_u16(&descs, vr->packed ? word : flags);
        vhu_fuzz_put_u16(&descs, vr->packed ? flags : word);
    }

    if (vr->packed) {
        h.size = vr->size - 1;
        h.base = 1 << 15;
        h.guest_idx = vr->driver_event->off_wrap;
        h.guest_flags = vr->driver_event->flags;
    } else {
        h.size = 0;
        while ((1u << h.size) < vr->size) {
            h.size++;
        }
        h.guest_idx = vr->avail->idx;
        h.guest_flags = vr->avail->flags;
        h.used_idx = vr->used->idx;
        h.event = vr->avail->ring[vr->size];
    }
    h.region_size[0] = MAX(rl.content.size, 1) - 1;
    h.region_fill[0] = rl.fill;

    ofpbuf_init(&b, 4096);
    vhu_fuzz_ring_hdr_put(&b, &h);
    ofpbuf_put(&b, descs.data, descs.size);
    if (!vr->packed) {
        for (uint32_t i = 0; i < vr->size; i++) {
            vhu_fuzz_put_u16(&b, vr->avail->ring[i]);
        }
    }
    ofpbuf_put(&b, rl.content.data, rl.fill);
    ofpbuf_put(&b, ops, n_ops);
    write_seed(dir, vr->packed ? "packed" : "split", name, &b);

    ofpbuf_uninit(&b);
    ofpbuf_uninit(&descs);
    ofpbuf_uninit(&rl.content);
}

/* net-hdr seeds. */

/* Appends to 'b' the net-hdr description of the chain that starts at
 * descriptor or position 'first' of vring 'vr' of 'fe', and returns the
 * descriptor or position after it. */
static uint32_t
nh_put_chain(struct ofpbuf *b, const struct vhu_fe *fe,
             const struct vhu_fe_vring *vr, uint32_t first)
{
    uint32_t lens[VHU_FUZZ_NH_MAX_SEGS];
    uint8_t ctl = 0;
    int n = 0;
    uint32_t pos = first;

    for (;;) {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;

        if (vr->packed) {
            addr = vr->packed_desc[pos].addr;
            len = vr->packed_desc[pos].len;
            flags = vr->packed_desc[pos].flags;
            next = pos + 1;
        } else {
            addr = vr->desc[pos].addr;
            len = vr->desc[pos].len;
            flags = vr->desc[pos].flags;
            next = vr->desc[pos].next;
        }
        pos++;

        if (flags & VHU_VRING_DESC_F_INDIRECT) {
            const uint8_t *table = vhu_fe_gpa_to_ptr(fe, addr);

            ctl |= VHU_FUZZ_NH_CHAIN_INDIRECT;
            for (uint32_t i = 0; i < len / 16; i++) {
                uint32_t seg_len;

                memcpy(&seg_len, table + 16 * i + 8, sizeof seg_len);
                lens[n++] = seg_len;
            }
            break;
        }
        lens[n++] = len;
        if (!(flags & VHU_VRING_DESC_F_NEXT)) {
            break;
        }
        if (!vr->packed) {
            pos = next;
        }
    }

    ovs_assert(n >= 1 && n <= VHU_FUZZ_NH_MAX_SEGS);
    vhu_fuzz_put_u8(b, ctl | (n - 1));
    for (int i = 0; i < n; i++) {
        ovs_assert(lens[i] >= 1 && lens[i] <= VHU_FUZZ_NH_MAX_LEN);
        vhu_fuzz_put_u16(b, (lens[i] <= 128 ? lens[i] - 1
                             : 0x8000 + lens[i] - 1));
    }
    return pos;
}

/* Writes a net-hdr seed of the 'n_chains' chains the frontend posted on
 * vring 'idx', followed, for an RX ring, by 'n_pkts' packets of 'lens'. */
static void
nh_seed(const char *dir, const char *name, const struct vhu_fe *fe,
        uint32_t idx, int n_chains, const uint16_t *lens, int n_pkts)
{
    const struct vhu_fe_vring *vr = &fe->vrings[idx];
    bool rx = !(idx % 2);
    struct ofpbuf b;
    uint8_t cfg = ((fe->hdr_len == VHU_VIRTIO_NET_HDR_LEN
                    ? VHU_FUZZ_NH_HDR12 : 0)
                   | (fe->features & F(VHU_VIRTIO_NET_F_MRG_RXBUF)
                      ? VHU_FUZZ_NH_MRG_RXBUF : 0)
                   | (vr->packed ? VHU_FUZZ_NH_PACKED : 0)
                   | (fe->features & F(VHU_VIRTIO_RING_F_INDIRECT_DESC)
                      ? VHU_FUZZ_NH_INDIRECT : 0)
                   | (fe->features & F(VHU_VIRTIO_F_IN_ORDER)
                      ? VHU_FUZZ_NH_IN_ORDER : 0)
                   | (rx ? VHU_FUZZ_NH_ENQUEUE : 0));

    ofpbuf_init(&b, 1024);
    vhu_fuzz_put_u8(&b, cfg);
    vhu_fuzz_put_u8(&b, n_chains - 1);
    vhu_fuzz_put_u16(&b, 2048 - 1);
    vhu_fuzz_put_u16(&b, 0);

    uint32_t pos = 0;
    for (int k = 0; k < n_chains; k++) {
        uint32_t head = vr->packed ? pos : vr->avail->ring[k];

        pos = nh_put_chain(&b, fe, vr, head);
    }
    if (rx) {
        vhu_fuzz_put_u8(&b, n_pkts - 1);
        for (int p = 0; p < n_pkts; p++) {
            vhu_fuzz_put_u16(&b, lens[p]);
        }
    }
    write_seed(dir, "net-hdr", name, &b);
    ofpbuf_uninit(&b);
}

/* Sessions. */

static const char *const layout_names[] = {
    [VHU_FE_LAYOUT_ONE] = "one",
    [VHU_FE_LAYOUT_HDR_APART] = "hdr-apart",
    [VHU_FE_LAYOUT_SCATTER] = "scatter",
    [VHU_FE_LAYOUT_INDIRECT] = "indirect",
};

/* What the guest does once its rings are up: 4 TX packets on every queue
 * pair in 'layout', and RX buffers, 8 of 2048 bytes (or, with 'small_rx',
 * of 256 bytes, for packets that need several). */
static void
post_buffers(struct vhu_fe *fe, size_t n_pairs, enum vhu_fe_layout layout,
             bool small_rx)
{
    static const size_t lens[4] = { 60, 1514, 1, 300 };

    for (size_t qp = 0; qp < n_pairs; qp++) {
        for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
            uint8_t pkt[1514];

            vhu_fuzz_pattern_fill(pkt, i, 0, lens[i]);
            ovs_assert(!vhu_fe_tx(fe, qp, pkt, lens[i], layout));
        }
        ovs_assert(vhu_fe_rx_post(fe, qp, 8, small_rx ? 256 : 2048) == 8);
    }
}

struct session {
    const char *name;
    uint64_t features;
    uint64_t protocol_features;
    size_t n_regions;
    size_t n_pairs;
    enum vhu_fe_layout layout;
    bool small_rx;
};

/* Runs session 's' through the relay and writes its seeds: the msg seed,
 * and for its first queue pair the split or packed seeds of both rings and
 * the net-hdr seeds. */
static void
run_session(const char *dir, const struct session *s)
{
    static const uint8_t tx_ops[] = {
        VHU_FUZZ_OP_DEQUEUE, 1, VHU_FUZZ_OP_DEQUEUE, 31,
        VHU_FUZZ_OP_PUBLISH, 4, VHU_FUZZ_OP_DEQUEUE, 31,
    };
    static const uint8_t rx_ops[] = {
        VHU_FUZZ_OP_ENQUEUE, 1, VHU_FUZZ_OP_ENQUEUE, 31,
        VHU_FUZZ_OP_PUBLISH, 8, VHU_FUZZ_OP_ENQUEUE, 31,
    };
    static const uint16_t rx_lens[] = { 60, 1514, 0, 4000, 9000, 64 };
    struct relay *r = relay_create(s->n_regions);
    struct vhu_fe *fe = r->fe;

    ovs_assert(!vhu_fe_start(fe, s->features, s->protocol_features,
                             s->n_pairs, RING_SIZE));
    relay_sync(r);
    post_buffers(fe, s->n_pairs, s->layout, s->small_rx);
    relay_record_memory(r);
    relay_record_bursts(r, s->n_pairs);

    /* The frontend stops every ring, as QEMU does before it goes. */
    for (uint32_t i = 0; i < 2 * s->n_pairs; i++) {
        uint64_t base;

        ovs_assert(!vhu_fe_set_state(fe, VHU_GET_VRING_BASE, i, 0, true,
                                     &base));
    }
    relay_sync(r);

    ovs_mutex_lock(&r->mutex);
    write_seed(dir, "msg", s->name, &r->rec);
    ovs_mutex_unlock(&r->mutex);

    char *name = xasprintf("%s-tx", s->name);
    ring_seed(dir, name, fe, 1, tx_ops, sizeof tx_ops);
    nh_seed(dir, name, fe, 1, 4, NULL, 0);
    free(name);

    name = xasprintf("%s-rx", s->name);
    ring_seed(dir, name, fe, 0, rx_ops, sizeof rx_ops);
    nh_seed(dir, name, fe, 0, 8, rx_lens, ARRAY_SIZE(rx_lens));
    free(name);

    relay_destroy(r);
}

/* A session that sets the device up, stops it and sets it up again, with
 * the requests a frontend sends besides: MTU, RARP, status, error fds,
 * memory regions added and removed. */
static void
run_control_session(const char *dir)
{
    struct relay *r = relay_create(2);
    struct vhu_fe *fe = r->fe;
    uint64_t value;

    ovs_assert(!vhu_fe_start(fe, SPLIT_FEATURES, VHU_DEV_PROTOCOL_FEATURES,
                             1, RING_SIZE));
    ovs_assert(!vhu_fe_get_u64(fe, VHU_GET_QUEUE_NUM, &value));
    ovs_assert(!vhu_fe_get_u64(fe, VHU_GET_MAX_MEM_SLOTS, &value));
    ovs_assert(!vhu_fe_set_u64(fe, VHU_NET_SET_MTU, 1500, true, &value));
    ovs_assert(!vhu_fe_set_u64(fe, VHU_SEND_RARP, 0x563412005452ULL, true,
                               &value));
    ovs_assert(!vhu_fe_set_u64(fe, VHU_SET_STATUS, 0xf, true, &value));
    ovs_assert(!vhu_fe_get_u64(fe, VHU_GET_STATUS, &value));

    uint64_t err = 1;
    int err_fd = fe->vrings[1].call_fd;
    ovs_assert(!vhu_fe_send(fe, VHU_SET_VRING_ERR, VHU_MSG_VERSION, &err,
                            sizeof err, &err_fd, 1));

    /* Region 1 out and back in. */
    struct vhu_mem_single single;
    memset(&single, 0, sizeof single);
    vhu_fe_region_desc(fe, 1, &single.region);
    ovs_assert(!vhu_fe_send(fe, VHU_REM_MEM_REG, VHU_MSG_VERSION, &single,
                            sizeof single, NULL, 0));
    ovs_assert(!vhu_fe_send(fe, VHU_ADD_MEM_REG, VHU_MSG_VERSION, &single,
                            sizeof single, &fe->regions[1].fd, 1));

    /* Stop and start again. */
    for (uint32_t i = 0; i < 2; i++) {
        ovs_assert(!vhu_fe_set_state(fe, VHU_GET_VRING_BASE, i, 0, true,
                                     &value));
    }
    for (uint32_t i = 0; i < 2; i++) {
        ovs_assert(!vhu_fe_setup_vring(fe, i, RING_SIZE));
    }
    relay_sync(r);
    post_buffers(fe, 1, VHU_FE_LAYOUT_HDR_APART, false);
    relay_record_memory(r);
    relay_record_bursts(r, 1);

    ovs_assert(!vhu_fe_send(fe, VHU_RESET_OWNER, VHU_MSG_VERSION, NULL, 0,
                            NULL, 0));
    relay_sync(r);

    ovs_mutex_lock(&r->mutex);
    write_seed(dir, "msg", "control", &r->rec);
    ovs_mutex_unlock(&r->mutex);
    relay_destroy(r);
}

void vhu_fuzz_make_seeds(const char *dir);

void
vhu_fuzz_make_seeds(const char *dir)
{
    struct session sessions[] = {
        { "split-in-order", SPLIT_FEATURES | F(VHU_VIRTIO_F_IN_ORDER),
          VHU_DEV_PROTOCOL_FEATURES, 1, 1, VHU_FE_LAYOUT_ONE, false },
        { "packed-in-order", PACKED_FEATURES | F(VHU_VIRTIO_F_IN_ORDER),
          VHU_DEV_PROTOCOL_FEATURES, 1, 1, VHU_FE_LAYOUT_ONE, false },
        { "split-mq", SPLIT_FEATURES, VHU_DEV_PROTOCOL_FEATURES, 1, 2,
          VHU_FE_LAYOUT_SCATTER, false },
        { "packed-mq", PACKED_FEATURES, VHU_DEV_PROTOCOL_FEATURES, 1, 2,
          VHU_FE_LAYOUT_HDR_APART, false },
        { "split-legacy", LEGACY_FEATURES, 0, 1, 1,
          VHU_FE_LAYOUT_HDR_APART, false },
        { "split-two-regions", SPLIT_FEATURES, VHU_DEV_PROTOCOL_FEATURES,
          2, 1, VHU_FE_LAYOUT_INDIRECT, true },
        { "packed-mem-slots", PACKED_FEATURES, VHU_DEV_PROTOCOL_FEATURES,
          VHU_MEM_BASELINE_REGIONS + 1, 1, VHU_FE_LAYOUT_SCATTER, true },
    };

    if (mkdir(dir, 0777) && errno != EEXIST) {
        ovs_fatal(errno, "%s: mkdir failed", dir);
    }

    /* Every layout on both ring types. */
    for (int packed = 0; packed < 2; packed++) {
        for (int layout = 0; layout < ARRAY_SIZE(layout_names); layout++) {
            char *name = xasprintf("%s-%s", packed ? "packed" : "split",
                                   layout_names[layout]);
            struct session s = {
                name, packed ? PACKED_FEATURES : SPLIT_FEATURES,
                VHU_DEV_PROTOCOL_FEATURES, 1, 1, layout, layout % 2,
            };

            run_session(dir, &s);
            free(name);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(sessions); i++) {
        run_session(dir, &sessions[i]);
    }
    run_control_session(dir);
}

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

/* Fuzz target "packed": the packed ring walker (lib/vhu-vq-packed.c and
 * lib/vhu-vq-chain.h) on a queue whose descriptor ring, event suppression
 * structures and guest memory come from the input (format in fuzz.h),
 * through bursts of dequeues and enqueues between which the guest makes
 * descriptors available again and changes what it wrote.  Each ring part
 * and each region is a malloc() block of exactly its size.  After every
 * burst the target checks what any correct walker must do: no more
 * packets than asked, none longer than its buffer, counters that add up,
 * the next position to take and the next to mark used equal and inside
 * the ring, never more than a lap taken at once, a used descriptor where
 * the last burst started that says so in the right lap, and a queue broken
 * at most once, for a fault that has a name. */

#include <config.h>

#include "fuzz.h"

#include <string.h>

#include "util.h"
#include "vhu-vq.h"

#define MAX_OPS 64

#define F_AVAIL VHU_VRING_PACKED_DESC_F_AVAIL
#define F_USED VHU_VRING_PACKED_DESC_F_USED

struct packed_ring {
    struct vhu_vq vq;
    struct vhu_fuzz_guest guest;
    struct vhu_vring_packed_desc *desc;
    struct vhu_vring_packed_event *driver_event;
    struct vhu_vring_packed_event *device_event;
    struct vhu_fuzz_rng rng;
    uint32_t seq;
};

/* Where position 'pos' of lap 'wrap' lies in the two laps 0 .. 2 size. */
static uint32_t
lap_pos(const struct vhu_vq *vq, uint16_t pos, bool wrap)
    VHU_VQ_REQUIRES(vq)
{
    return pos + (wrap ? 0 : vq->size);
}

/* Checks what any burst leaves: positions in step and in the ring, at most
 * a lap further than 'old_pos' and 'old_wrap', and if they moved, the
 * descriptor at 'old_pos' marked used in lap 'old_wrap' (the burst's first
 * used descriptor goes there).  Returns how many descriptors it moved
 * past. */
static uint32_t
packed_check_positions(struct packed_ring *r, struct vhu_vq *vq,
                       uint16_t old_pos, bool old_wrap)
    VHU_VQ_REQUIRES(vq)
{
    uint32_t span = 2 * (uint32_t) vq->size;

    VHU_FUZZ_CHECK(vq->last_avail_idx < vq->size);
    VHU_FUZZ_CHECK(vq->last_avail_idx == vq->last_used_idx);
    VHU_FUZZ_CHECK(vq->avail_wrap == vq->used_wrap);

    uint32_t moved = ((lap_pos(vq, vq->last_used_idx, vq->used_wrap) + span
                       - lap_pos(vq, old_pos, old_wrap)) % span);
    VHU_FUZZ_CHECK(moved <= vq->size);
    if (moved) {
        const struct vhu_vring_packed_desc *d = &r->desc[old_pos];
        uint16_t used = old_wrap ? F_AVAIL | F_USED : 0;

        VHU_FUZZ_CHECK((d->flags & (F_AVAIL | F_USED)) == used);
        VHU_FUZZ_CHECK(d->id < vq->size);
        VHU_FUZZ_CHECK(!(d->flags & VHU_VRING_DESC_F_WRITE) == !d->len);
    }
    return moved;
}

static void
packed_dequeue(struct packed_ring *r, struct vhu_vq *vq, int n)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_vq_stats before = vq->stats;
    uint16_t old_pos = vq->last_used_idx;
    bool old_wrap = vq->used_wrap;
    struct vhu_buf *bufs = vhu_fuzz_bufs_alloc(&r->rng, n);

    int got = vhu_vq_dequeue_packed(vq, bufs, n);
    VHU_FUZZ_CHECK(got >= 0 && got <= n);
    uint64_t bytes = vhu_fuzz_bufs_check(bufs, got);
    VHU_FUZZ_CHECK(vq->stats.packets == before.packets + got);
    VHU_FUZZ_CHECK(vq->stats.bytes == before.bytes + bytes);

    uint32_t moved = packed_check_positions(r, vq, old_pos, old_wrap);
    uint64_t n_bufs = got + (vq->stats.dropped - before.dropped);
    VHU_FUZZ_CHECK(n_bufs <= moved);
    VHU_FUZZ_CHECK(!moved == !n_bufs);
    if (moved) {
        /* What we read we give back with length 0. */
        VHU_FUZZ_CHECK(!r->desc[old_pos].len);
    }
    vhu_fuzz_bufs_free(bufs, n);
}

static void
packed_enqueue(struct packed_ring *r, struct vhu_vq *vq, int n)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_vq_stats before = vq->stats;
    uint16_t old_pos = vq->last_used_idx;
    bool old_wrap = vq->used_wrap;
    struct vhu_buf *pkts = vhu_fuzz_pkts_alloc(&r->rng, n, r->seq);
    uint64_t bytes = 0;

    r->seq += n;
    int got = vhu_vq_enqueue_packed(vq, pkts, n);
    VHU_FUZZ_CHECK(got >= 0 && got <= n);
    for (int i = 0; i < got; i++) {
        bytes += pkts[i].len;
    }
    VHU_FUZZ_CHECK(vq->stats.packets == before.packets + got);
    VHU_FUZZ_CHECK(vq->stats.bytes == before.bytes + bytes);
    VHU_FUZZ_CHECK(vq->stats.dropped == before.dropped);

    uint32_t moved = packed_check_positions(r, vq, old_pos, old_wrap);
    VHU_FUZZ_CHECK(got <= moved);
    VHU_FUZZ_CHECK(!moved == !got);
    if (moved) {
        /* The first buffer holds at least the header. */
        VHU_FUZZ_CHECK(r->desc[old_pos].len >= vq->hdr_len);
    }
    vhu_fuzz_bufs_free(pkts, n);
}

/* The guest makes the 'n' descriptors from the next one we take available
 * in their lap, as a driver that posts them again would. */
static void
packed_publish(struct packed_ring *r, struct vhu_vq *vq, uint32_t n)
    VHU_VQ_REQUIRES(vq)
{
    uint32_t pos = vq->last_avail_idx;
    bool wrap = vq->avail_wrap;

    for (uint32_t i = 0; i < n; i++) {
        struct vhu_vring_packed_desc *d = &r->desc[pos];

        d->flags = (d->flags & ~(F_AVAIL | F_USED)) | (wrap ? F_AVAIL
                                                            : F_USED);
        if (++pos == vq->size) {
            pos = 0;
            wrap = !wrap;
        }
    }
}

static void
packed_poke(struct packed_ring *r, struct vhu_vq *vq, uint8_t arg)
    VHU_VQ_REQUIRES(vq)
{
    uint32_t x = vhu_fuzz_rng_next(&r->rng);
    struct vhu_vring_packed_desc *d = &r->desc[x % vq->size];

    switch (arg & 3) {
    case 0:
        r->driver_event->flags = arg >> 2;
        break;
    case 1:
        r->driver_event->off_wrap = x >> 16;
        break;
    case 2:
        d->len = x >> (arg & 4 ? 16 : 20);
        break;
    case 3:
        d->id = (x >> 16) % (vq->size + 2);
        break;
    }
}

static void
run_packed(const uint8_t *data, size_t size)
{
    struct vhu_fuzz_input in;
    struct vhu_fuzz_ring_hdr h;
    struct packed_ring r;

    vhu_fuzz_input_init(&in, data, size);
    vhu_fuzz_ring_hdr_read(&in, &h);

    uint16_t qsize = 1 + h.size % 1024;
    r.desc = xmalloc(VHU_VRING_DESC_BYTES(qsize));
    for (uint32_t i = 0; i < qsize; i++) {
        uint16_t addr = vhu_fuzz_u16(&in);
        uint16_t len = vhu_fuzz_u16(&in);
        uint16_t id = vhu_fuzz_u16(&in);
        uint16_t flags = vhu_fuzz_u16(&in);

        r.desc[i].addr = vhu_fuzz_desc_addr(addr, flags);
        r.desc[i].len = vhu_fuzz_desc_len(len, flags);
        r.desc[i].id = id;
        r.desc[i].flags = flags & ~VHU_FUZZ_DESC_MARKS;
    }
    r.driver_event = xmalloc(sizeof *r.driver_event);
    r.driver_event->off_wrap = h.guest_idx;
    r.driver_event->flags = h.guest_flags;
    r.device_event = xzalloc(sizeof *r.device_event);

    vhu_fuzz_guest_from_hdr(&r.guest, &in, &h);

    struct vhu_vq *vq = &r.vq;
    vhu_fuzz_vq_init(vq, r.guest.mem);
    vq->packed = true;
    vq->size = qsize;
    vq->packed_desc = r.desc;
    vq->driver_event = r.driver_event;
    vq->device_event = r.device_event;
    vq->last_avail_idx = vq->last_used_idx = (h.base & 0x7fff) % qsize;
    vq->avail_wrap = vq->used_wrap = h.base >> 15;
    vhu_fuzz_vq_set_features(vq, &h);
    vq->ready = vhu_vq_start_packed(vq);
    VHU_FUZZ_CHECK(vq->ready);
    VHU_FUZZ_CHECK(r.device_event->flags == VHU_RING_EVENT_FLAGS_DISABLE);

    vhu_fuzz_rng_init(&r.rng, size);
    r.seq = 0;
    for (int i = 0; i < MAX_OPS && !vhu_fuzz_input_done(&in); i++) {
        uint8_t op = vhu_fuzz_u8(&in);
        uint8_t arg = vhu_fuzz_u8(&in);
        bool broken = vhu_vq_is_broken(vq);

        /* A burst asks for 1 + arg packets, or for one more than the
         * descriptors that the guest made available in a row, which is as
         * good a test and takes fewer buffers. */
        int n = MIN(1 + arg, vhu_vq_backlog_packed(vq) + 1);

        switch (op & 3) {
        case VHU_FUZZ_OP_DEQUEUE:
            if (!broken) {
                packed_dequeue(&r, vq, n);
            }
            break;
        case VHU_FUZZ_OP_ENQUEUE:
            if (!broken) {
                packed_enqueue(&r, vq, n);
            }
            break;
        case VHU_FUZZ_OP_PUBLISH:
            packed_publish(&r, vq, arg % (qsize + 1));
            break;
        case VHU_FUZZ_OP_POKE:
            packed_poke(&r, vq, arg);
            break;
        }
        vhu_fuzz_check_fault(vq);
        VHU_FUZZ_CHECK(!broken || vhu_vq_is_broken(vq));
        VHU_FUZZ_CHECK(vhu_vq_backlog_packed(vq) <= qsize);
    }

    vhu_vq_leave(vq);
    vhu_fuzz_guest_destroy(&r.guest);
    free(r.desc);
    free(r.driver_event);
    free(r.device_event);
}

/* Opens the call fd before the first input, so that each input leaves the
 * fds as it found them. */
static void
init_packed(void)
{
    vhu_fuzz_call_fd();
}

const struct vhu_fuzz_target vhu_fuzz_packed = {
    "packed", "packed ring walker: bursts on rings from the input",
    init_packed, run_packed,
};

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

/* Fuzz target "split": the split ring walker (lib/vhu-vq-split.c and
 * lib/vhu-vq-chain.h) on a queue whose descriptor table, avail ring and
 * guest memory come from the input (format in fuzz.h), through bursts of
 * dequeues and enqueues between which the guest publishes and changes
 * what it wrote.  Each ring part and each region is a malloc() block of
 * exactly its size.  After every burst the target checks what any
 * correct walker must do: no more packets than asked, none longer than its
 * buffer, counters that add up, the used index moved by what was taken and
 * never by more than the guest made available, and a queue broken at most
 * once, for a fault that has a name. */

#include <config.h>

#include "fuzz.h"

#include <string.h>

#include "util.h"
#include "vhu-vq.h"

/* Bursts and changes per input: enough for the ring to wrap, few enough
 * to keep inputs fast. */
#define MAX_OPS 64

struct split_ring {
    struct vhu_vq vq;
    struct vhu_fuzz_guest guest;
    struct vhu_vring_desc *desc;
    struct vhu_vring_avail *avail;
    struct vhu_vring_used *used;
    struct vhu_fuzz_rng rng;
    uint32_t seq;               /* Next packet number to enqueue. */
};

static void
split_dequeue(struct split_ring *r, struct vhu_vq *vq, int n)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_vq_stats before = vq->stats;
    uint16_t old_avail = vq->last_avail_idx;
    uint16_t old_used = vq->last_used_idx;
    uint16_t n_avail = r->avail->idx - old_avail;
    struct vhu_buf *bufs = vhu_fuzz_bufs_alloc(&r->rng, n);

    int got = vhu_vq_dequeue_split(vq, bufs, n);
    VHU_FUZZ_CHECK(got >= 0 && got <= n);
    uint64_t bytes = vhu_fuzz_bufs_check(bufs, got);
    VHU_FUZZ_CHECK(vq->stats.packets == before.packets + got);
    VHU_FUZZ_CHECK(vq->stats.bytes == before.bytes + bytes);

    uint16_t taken = vq->last_avail_idx - old_avail;
    uint16_t n_used = vq->last_used_idx - old_used;
    if (n_avail > vq->size) {
        VHU_FUZZ_CHECK(vhu_vq_fault_now(vhu_vq_faults(vq))
                       == VHU_VQ_BAD_AVAIL_IDX);
        VHU_FUZZ_CHECK(!got && !taken);
    }
    VHU_FUZZ_CHECK(taken <= n_avail && taken <= vq->size);
    VHU_FUZZ_CHECK(n_used == taken);
    VHU_FUZZ_CHECK(r->used->idx == vq->last_used_idx);

    /* Each chain taken is a packet delivered or dropped. */
    VHU_FUZZ_CHECK(got + (vq->stats.dropped - before.dropped) == taken);

    /* In order, one entry stands for the burst; otherwise one per chain,
     * each naming a head that exists. */
    for (uint16_t i = 0; i < (vq->in_order ? !!taken : taken); i++) {
        const struct vhu_vring_used_elem *e
            = &r->used->ring[(uint16_t) (old_used + i) & vq->mask];

        VHU_FUZZ_CHECK(e->id < vq->size && !e->len);
    }
    vhu_fuzz_bufs_free(bufs, n);
}

static void
split_enqueue(struct split_ring *r, struct vhu_vq *vq, int n)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_vq_stats before = vq->stats;
    uint16_t old_avail = vq->last_avail_idx;
    uint16_t old_used = vq->last_used_idx;
    uint16_t n_avail = r->avail->idx - old_avail;
    struct vhu_buf *pkts = vhu_fuzz_pkts_alloc(&r->rng, n, r->seq);
    uint64_t bytes = 0;

    r->seq += n;
    int got = vhu_vq_enqueue_split(vq, pkts, n);
    VHU_FUZZ_CHECK(got >= 0 && got <= n);
    for (int i = 0; i < got; i++) {
        bytes += pkts[i].len;
    }
    VHU_FUZZ_CHECK(vq->stats.packets == before.packets + got);
    VHU_FUZZ_CHECK(vq->stats.bytes == before.bytes + bytes);
    VHU_FUZZ_CHECK(vq->stats.dropped == before.dropped);

    uint16_t taken = vq->last_avail_idx - old_avail;
    uint16_t n_used = vq->last_used_idx - old_used;
    if (n_avail > vq->size) {
        VHU_FUZZ_CHECK(vhu_vq_fault_now(vhu_vq_faults(vq))
                       == VHU_VQ_BAD_AVAIL_IDX);
        VHU_FUZZ_CHECK(!got && !taken);
    }
    VHU_FUZZ_CHECK(taken <= n_avail && taken <= vq->size);
    VHU_FUZZ_CHECK(n_used == taken);
    VHU_FUZZ_CHECK(r->used->idx == vq->last_used_idx);

    /* A packet takes one chain, or with mergeable buffers one or more. */
    VHU_FUZZ_CHECK(vq->mrg_rxbuf ? got <= taken : got == taken);
    for (uint16_t i = 0; i < taken; i++) {
        const struct vhu_vring_used_elem *e
            = &r->used->ring[(uint16_t) (old_used + i) & vq->mask];

        VHU_FUZZ_CHECK(e->id < vq->size);
        VHU_FUZZ_CHECK(e->len <= vq->hdr_len + VHU_FUZZ_NH_MAX_LEN);
    }
    vhu_fuzz_bufs_free(pkts, n);
}

static void
split_poke(struct split_ring *r, struct vhu_vq *vq, uint8_t arg)
    VHU_VQ_REQUIRES(vq)
{
    uint32_t x = vhu_fuzz_rng_next(&r->rng);
    struct vhu_vring_desc *d = &r->desc[x % vq->size];

    switch (arg & 3) {
    case 0:
        r->avail->flags = arg >> 2;
        break;
    case 1:
        r->avail->ring[vq->size] = x >> 16;     /* used_event */
        break;
    case 2:
        d->len = x >> (arg & 4 ? 16 : 20);
        break;
    case 3:
        d->next = (x >> 16) % (vq->size + 1);
        break;
    }
}

static void
run_split(const uint8_t *data, size_t size)
{
    struct vhu_fuzz_input in;
    struct vhu_fuzz_ring_hdr h;
    struct split_ring r;

    vhu_fuzz_input_init(&in, data, size);
    vhu_fuzz_ring_hdr_read(&in, &h);

    uint16_t qsize = 1u << (h.size % 11);
    r.desc = xmalloc(VHU_VRING_DESC_BYTES(qsize));
    for (uint32_t i = 0; i < qsize; i++) {
        uint16_t addr = vhu_fuzz_u16(&in);
        uint16_t len = vhu_fuzz_u16(&in);
        uint16_t flags = vhu_fuzz_u16(&in);
        uint16_t next = vhu_fuzz_u16(&in);

        r.desc[i].addr = vhu_fuzz_desc_addr(addr, flags);
        r.desc[i].len = vhu_fuzz_desc_len(len, flags);
        r.desc[i].flags = flags & ~VHU_FUZZ_DESC_MARKS;
        r.desc[i].next = next;
    }
    r.avail = xmalloc(VHU_VRING_AVAIL_BYTES(qsize));
    r.avail->flags = h.guest_flags;
    r.avail->idx = h.guest_idx;
    for (uint32_t i = 0; i < qsize; i++) {
        r.avail->ring[i] = vhu_fuzz_u16(&in);
    }
    r.avail->ring[qsize] = h.event;
    r.used = xzalloc(VHU_VRING_USED_BYTES(qsize));
    r.used->idx = h.used_idx;

    vhu_fuzz_guest_from_hdr(&r.guest, &in, &h);

    struct vhu_vq *vq = &r.vq;
    vhu_fuzz_vq_init(vq, r.guest.mem);
    vq->size = qsize;
    vq->mask = qsize - 1;
    vq->desc = r.desc;
    vq->avail = r.avail;
    vq->used = r.used;
    vq->last_avail_idx = vq->last_used_idx = h.base;
    vhu_fuzz_vq_set_features(vq, &h);
    vq->ready = vhu_vq_start_split(vq);
    VHU_FUZZ_CHECK(vq->ready);
    VHU_FUZZ_CHECK(r.used->flags == VHU_VRING_USED_F_NO_NOTIFY);
    /* It goes on from the used index that it finds. */
    VHU_FUZZ_CHECK(vq->last_used_idx == h.used_idx
                   && vq->last_avail_idx == h.used_idx);

    vhu_fuzz_rng_init(&r.rng, size);
    r.seq = 0;
    for (int i = 0; i < MAX_OPS && !vhu_fuzz_input_done(&in); i++) {
        uint8_t op = vhu_fuzz_u8(&in);
        uint8_t arg = vhu_fuzz_u8(&in);
        bool broken = vhu_vq_is_broken(vq);

        /* A burst asks for 1 + arg packets, or for one more than the
         * guest can have made available, which is as good a test and
         * takes fewer buffers. */
        uint16_t n_avail = r.avail->idx - vq->last_avail_idx;
        int n = MIN(1 + arg, MIN(n_avail, qsize) + 1);

        switch (op & 3) {
        case VHU_FUZZ_OP_DEQUEUE:
            if (!broken) {
                split_dequeue(&r, vq, n);
            }
            break;
        case VHU_FUZZ_OP_ENQUEUE:
            if (!broken) {
                split_enqueue(&r, vq, n);
            }
            break;
        case VHU_FUZZ_OP_PUBLISH:
            r.avail->idx += arg % (qsize + 2);
            break;
        case VHU_FUZZ_OP_POKE:
            split_poke(&r, vq, arg);
            break;
        }
        vhu_fuzz_check_fault(vq);
        VHU_FUZZ_CHECK(!broken || vhu_vq_is_broken(vq));
        VHU_FUZZ_CHECK(vhu_vq_backlog_split(vq) <= qsize);
    }

    vhu_vq_leave(vq);
    vhu_fuzz_guest_destroy(&r.guest);
    free(r.desc);
    free(r.avail);
    free(r.used);
}

/* Opens the call fd before the first input, so that each input leaves the
 * fds as it found them. */
static void
init_split(void)
{
    vhu_fuzz_call_fd();
}

const struct vhu_fuzz_target vhu_fuzz_split = {
    "split", "split ring walker: bursts on rings from the input",
    init_split, run_split,
};

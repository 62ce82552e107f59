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

/* Bursts on packed virtqueues (virtio 1.2, section 2.8).
 *
 * We take descriptors in ring order from 'last_avail_idx' while each is
 * available in the current lap ('avail_wrap'), and write used descriptors
 * in place in the same order from 'last_used_idx' ('used_wrap'): one per
 * buffer, over the buffer's first descriptor, and the positions skip the
 * rest of the buffer's descriptors.  We use every buffer as soon as we take
 * it, so the two positions are equal between bursts.
 *
 * A burst collects its used descriptors and writes them back in one go:
 * ids and lengths first, then, after a release barrier, the flags that
 * hand each descriptor back, the first one last, so that the guest, which
 * polls the next descriptor only, sees the whole burst at once.  With
 * VIRTIO_F_IN_ORDER a burst of TX buffers gets a single used descriptor,
 * naming the last buffer, and the guest takes back every buffer up to it.
 *
 * As for split rings, what the guest wrote is read once, checked, then
 * used; a check that fails breaks the queue and nothing else. */

#include <config.h>

#include "vhu-vq.h"

#include "openvswitch/vlog.h"
#include "util.h"
#include "vhu-vq-chain.h"

VLOG_DEFINE_THIS_MODULE(vhu_vq_packed);

/* Where position 'pos' with wrap counter 'wrap' lies in the sequence of
 * positions that runs over two laps, 0 to 2 * size - 1, so that event
 * offsets compare as free-running indexes do on a split ring. */
static inline uint32_t ALWAYS_INLINE
vhu_packed_lap_pos(const struct vhu_vq *vq, uint16_t pos, bool wrap)
    VHU_VQ_REQUIRES(vq)
{
    return pos + (wrap ? vq->size : 0);
}

/* Tells the guest that we used descriptors from position 'old_pos' (wrap
 * counter 'old_wrap') on, if its event suppression structure asks for
 * it. */
static void
vhu_vq_notify_packed(struct vhu_vq *vq, uint16_t old_pos, bool old_wrap)
    VHU_VQ_REQUIRES(vq)
{
    if (vq->call_fd < 0) {
        return;
    }

    /* The guest must see our flags before we read what it asked for, or it
     * could go to sleep between the two and never be woken. */
    atomic_thread_fence(memory_order_seq_cst);

    /* The driver writes 'off_wrap' before 'flags'. */
    uint16_t flags;
    atomic_read_explicit((ATOMIC(uint16_t) *) &vq->driver_event->flags,
                         &flags, memory_order_acquire);
    flags &= 3;
    bool need;
    if (flags == VHU_RING_EVENT_FLAGS_DISABLE) {
        need = false;
    } else if (flags == VHU_RING_EVENT_FLAGS_DESC && vq->event_idx) {
        uint16_t off_wrap = vhu_read_u16(&vq->driver_event->off_wrap);
        uint32_t span = 2 * (uint32_t) vq->size;
        uint32_t new = vhu_packed_lap_pos(vq, vq->last_used_idx,
                                          vq->used_wrap);
        uint32_t old = vhu_packed_lap_pos(vq, old_pos, old_wrap);
        uint32_t event = vhu_packed_lap_pos(vq, off_wrap & 0x7fff,
                                            off_wrap >> 15);

        /* The event descriptor lies in [old, new) of the two laps. */
        need = ((new + span - event - 1) % span) < ((new + span - old) % span);
    } else {
        /* ENABLE, and DESC without EVENT_IDX or the reserved value, which
         * a driver must not write: better a call too many. */
        need = true;
    }
    if (need) {
        vhu_vq_call(vq);
    }
}

static inline uint16_t ALWAYS_INLINE
vhu_packed_used_flags(bool wrap, uint32_t len)
{
    return ((wrap ? VHU_VRING_PACKED_DESC_F_AVAIL
                    | VHU_VRING_PACKED_DESC_F_USED : 0)
            | (len ? VHU_VRING_DESC_F_WRITE : 0));
}

/* Writes the used descriptors for the buffers in 'b' from position '*posp'
 * (wrap counter '*wrapp') on, and advances the two past them.  Ids and
 * lengths go first, then, after a release barrier, the flags; the first
 * descriptor's flags last of all, so that the guest, which polls the next
 * descriptor only, sees none of the batch before all of it (and, for a
 * packet in several buffers, the first buffer after the rest, as the spec
 * asks of multi-buffer requests). */
static void
vhu_packed_write_used(struct vhu_vq *vq, const struct vhu_packed_batch *b,
                      uint16_t *posp, bool *wrapp)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t pos[VHU_PACKED_BATCH];
    uint16_t flags[VHU_PACKED_BATCH];
    uint16_t at = *posp;
    bool wrap = *wrapp;
    uint32_t n = b->n;

    for (uint32_t i = 0; i < n; i++) {
        const struct vhu_packed_used *u = &b->used[i];

        vq->packed_desc[at].id = u->id;
        vq->packed_desc[at].len = u->len;
        pos[i] = at;
        flags[i] = vhu_packed_used_flags(wrap, u->len);
        vhu_packed_advance(vq, &at, &wrap, u->n_descs);
    }
    *posp = at;
    *wrapp = wrap;

    atomic_thread_fence(memory_order_release);
    for (uint32_t i = 1; i < n; i++) {
        vq->packed_desc[pos[i]].flags = flags[i];
    }
    atomic_store_explicit((ATOMIC(uint16_t) *) &vq->packed_desc[pos[0]].flags,
                          flags[0], memory_order_release);
}

/* Hands the buffers in 'b' back to the guest as used descriptors from
 * 'last_used_idx' on, and notifies it if it asked for it.
 * With 'as_one', one descriptor for the last buffer stands for them all
 * (only for buffers we read: the guest learns no length for the others).
 *
 * The record gets the batch and where the hand-back goes before the guest
 * can see any of it, and that it is done after the guest can see all of it
 * (see struct vhu_ring_record): a switch killed in between leaves the
 * next one what it needs to finish. */
static void
vhu_packed_flush(struct vhu_vq *vq, struct vhu_packed_batch *b, bool as_one)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_ring_record *record = vq->record;
    uint16_t old_pos = vq->last_used_idx;
    bool old_wrap = vq->used_wrap;

    if (!b->n) {
        return;
    }
    if (as_one) {
        struct vhu_packed_used *last = &b->used[b->n - 1];

        for (uint32_t i = 0; i < b->n - 1; i++) {
            last->n_descs += b->used[i].n_descs;
        }
        b->used[0] = *last;
        b->n = 1;
    }

    memcpy(record->batch.used, b->used, b->n * sizeof *b->used);
    record->batch.n = b->n;
    /* We use every buffer as soon as we take it, so the hand-back ends
     * where taking them did. */
    record->pending = vhu_ring_position(vq->last_avail_idx, vq->avail_wrap);
    atomic_thread_fence(memory_order_release);

    vhu_packed_write_used(vq, b, &vq->last_used_idx, &vq->used_wrap);
    atomic_store_explicit((ATOMIC(uint32_t) *) &record->committed,
                          record->pending, memory_order_release);
    b->n = 0;
    vhu_vq_notify_packed(vq, old_pos, old_wrap);
}

/* Prefetches the buffer of the ring descriptor at 'pos', taken modulo the
 * ring's size (see "Prefetching" in vhu-vq-chain.h). */
static inline void
vhu_packed_prefetch_buf(const struct vhu_vq *vq, uint32_t pos, bool write)
    VHU_VQ_REQUIRES(vq)
{
    const volatile struct vhu_vring_packed_desc *d
        = &vq->packed_desc[pos % vq->size];

    if (!(d->flags & VHU_VRING_DESC_F_INDIRECT)) {
        vhu_prefetch_buf(vq, d->addr, write);
    }
}

/* Prefetches the 'n' ring descriptors from position 'pos' on, and the
 * buffers of the first VHU_PREFETCH_AHEAD of them. */
static inline void
vhu_packed_prefetch_burst(const struct vhu_vq *vq, uint16_t pos, int n,
                          bool write)
    VHU_VQ_REQUIRES(vq)
{
    n = MIN(n, vq->size);
    for (int i = 0; i < n; i++) {
        OVS_PREFETCH(&vq->packed_desc[(pos + i) % vq->size]);
    }
    for (int i = 0; i < MIN(n, VHU_PREFETCH_AHEAD); i++) {
        vhu_packed_prefetch_buf(vq, pos + i, write);
    }
}

int
vhu_vq_dequeue_packed(struct vhu_vq *vq, struct vhu_buf *bufs, int n)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_packed_batch batch;
    enum vhu_vq_fault fault = VHU_VQ_OK;
    int n_out = 0;

    batch.n = 0;
    vhu_packed_prefetch_burst(vq, vq->last_avail_idx, n, false);
    while (n_out < n) {
        uint16_t pos = vq->last_avail_idx;
        bool wrap = vq->avail_wrap;
        struct vhu_buf *buf = &bufs[n_out];
        struct vhu_chain c;
        bool ok;

        if (n_out + VHU_PREFETCH_AHEAD < n) {
            vhu_packed_prefetch_buf(vq, pos + VHU_PREFETCH_AHEAD, false);
        }
        fault = vhu_chain_start_packed(vq, &c, pos, wrap, false);
        if (!fault && !c.n_ring) {
            break;
        }
        if (!fault) {
            fault = vhu_chain_read_packet(vq, &c, buf, &ok);
        }
        if (!fault && c.id >= vq->size) {
            fault = VHU_VQ_BAD_ID;
        }
        if (fault) {
            break;
        }

        vq->last_avail_idx = c.pos;
        vq->avail_wrap = c.wrap;
        batch.used[batch.n++] = (struct vhu_packed_used) {
            .id = c.id, .n_descs = c.n_ring, .len = 0,
        };
        n_out += vhu_vq_account_dequeue(vq, ok, buf->len);
        if (batch.n == VHU_PACKED_BATCH) {
            vhu_packed_flush(vq, &batch, vq->in_order);
        }
    }
    vhu_packed_flush(vq, &batch, vq->in_order);
    if (fault) {
        vhu_vq_break(vq, fault);
    }
    return n_out;
}

/* Writes 'pkt', behind a virtio-net header, into the guest's RX buffers
 * from position '*posp' (wrap counter '*wrapp') on, adding their used
 * descriptors to 'b'.  Without mergeable RX buffers the packet must fit in
 * one buffer; with them it takes as many as it needs and the header says
 * how many.  On success advances '*posp' and '*wrapp' and sets '*fitp'; if
 * the guest has not made room enough available, or 'b' has too little room
 * left (then it sets '*batch_fullp'), leaves them and 'b' as they were and
 * clears '*fitp'. */
static enum vhu_vq_fault
vhu_packed_write_packet(struct vhu_vq *vq, const struct vhu_buf *pkt,
                        uint16_t *posp, bool *wrapp,
                        struct vhu_packed_batch *b, bool *fitp,
                        bool *batch_fullp)
    VHU_VQ_REQUIRES(vq)
{
    static const struct vhu_virtio_net_hdr hdr = { .num_buffers = 1 };
    uint16_t pos = *posp;
    bool wrap = *wrapp;
    int n_used = b->n;
    uint16_t n_bufs = 0;
    struct vhu_chain first;
    uint32_t sent = 0;

    *fitp = *batch_fullp = false;
    do {
        struct vhu_chain c;
        uint32_t in_chain;

        if (n_used == VHU_PACKED_BATCH) {
            *batch_fullp = true;
            return VHU_VQ_OK;
        }
        enum vhu_vq_fault fault = vhu_chain_start_packed(vq, &c, pos, wrap,
                                                         true);
        if (!fault && !c.n_ring) {
            return VHU_VQ_OK;
        }
        if (!fault) {
            fault = vhu_chain_write_part(vq, &c, pkt, n_bufs, &hdr, &first,
                                         &sent, &in_chain);
        }
        if (!fault && in_chain && !vhu_chain_ended(&c)) {
            /* Walk (and check) the rest of a chain that was longer than
             * the packet, so that we skip all of its descriptors. */
            fault = vhu_chain_skip_rest(vq, &c);
        }
        /* The buffer id is in the last descriptor we walked: check it only
         * now. */
        if (!fault && c.id >= vq->size) {
            fault = VHU_VQ_BAD_ID;
        }
        if (fault || !in_chain) {
            return fault;
        }
        b->used[n_used++] = (struct vhu_packed_used) {
            .id = c.id, .n_descs = c.n_ring, .len = in_chain,
        };
        pos = c.pos;
        wrap = c.wrap;
        n_bufs++;
    } while (sent < pkt->len && vq->mrg_rxbuf);

    enum vhu_vq_fault fault = vhu_chain_end_packet(vq, &first, pkt, sent,
                                                   n_bufs, fitp);
    if (*fitp) {
        *posp = pos;
        *wrapp = wrap;
        b->n = n_used;
    }
    return fault;
}

int
vhu_vq_enqueue_packed(struct vhu_vq *vq, const struct vhu_buf *pkts, int n)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_packed_batch batch;
    int i;

    batch.n = 0;
    vhu_packed_prefetch_burst(vq, vq->last_avail_idx, n, true);
    for (i = 0; i < n; i++) {
        uint16_t pos = vq->last_avail_idx;
        bool wrap = vq->avail_wrap;
        bool fit, batch_full;

        if (i + VHU_PREFETCH_AHEAD < n) {
            vhu_packed_prefetch_buf(vq, pos + VHU_PREFETCH_AHEAD, true);
        }
        enum vhu_vq_fault fault = vhu_packed_write_packet(vq, &pkts[i], &pos,
                                                          &wrap, &batch,
                                                          &fit, &batch_full);
        if (batch_full && batch.n) {
            /* Hand back what the batch holds and try again. */
            vhu_packed_flush(vq, &batch, false);
            fault = vhu_packed_write_packet(vq, &pkts[i], &pos, &wrap,
                                            &batch, &fit, &batch_full);
        }
        if (!vhu_vq_account_enqueue(vq, fault, fit, pkts[i].len)) {
            break;
        }
        vq->last_avail_idx = pos;
        vq->avail_wrap = wrap;
    }
    vhu_packed_flush(vq, &batch, false);
    return i;
}

bool
vhu_vq_start_packed(struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    if (vq->last_avail_idx >= vq->size) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_WARN_RL(&rl, "%s: virtqueue %u: base %"PRIu16" beyond a packed "
                     "ring of %"PRIu16"; queue stays stopped", vq->name,
                     vq->index, vq->last_avail_idx, vq->size);
        return false;
    }

    /* We poll, so kicks from the guest would be wasted exits.  With them
     * disabled, the guest reads no offset: ours marks the ring as one we
     * started (see 'marker'). */
    vq->device_event->off_wrap = vq->marker;
    vq->device_event->flags = VHU_RING_EVENT_FLAGS_DISABLE;
    VLOG_DBG("%s: virtqueue %u started (packed): %"PRIu16" entries, next "
             "avail %"PRIu16" wrap %d, next used %"PRIu16" wrap %d",
             vq->name, vq->index, vq->size, vq->last_avail_idx,
             vq->avail_wrap, vq->last_used_idx, vq->used_wrap);
    return true;
}

/* Counts the descriptors that the guest made available from
 * 'last_avail_idx' on, up to the ring's size. */
int
vhu_vq_backlog_packed(const struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t pos = vq->last_avail_idx;
    bool wrap = vq->avail_wrap;
    int n;

    for (n = 0; n < vq->size; n++) {
        uint16_t flags = vhu_read_u16(&vq->packed_desc[pos].flags);

        if (!vhu_packed_desc_is_avail(flags, wrap)) {
            break;
        }
        vhu_packed_advance(vq, &pos, &wrap, 1);
    }
    return n;
}

/* True if the flags of the descriptor at 'pos' say that it was used with
 * wrap counter 'wrap'. */
static bool
vhu_packed_desc_is_used(const struct vhu_vq *vq, uint16_t pos, bool wrap)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t flags = vhu_read_u16(&vq->packed_desc[pos].flags);

    return (!!(flags & VHU_VRING_PACKED_DESC_F_AVAIL) == wrap
            && !!(flags & VHU_VRING_PACKED_DESC_F_USED) == wrap);
}

bool
vhu_vq_ring_marked_packed(const struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    /* A driver that sets its ring up anew zeroes our structure with it. */
    return ((vhu_read_u16(&vq->device_event->flags) & 3)
            == VHU_RING_EVENT_FLAGS_DISABLE
            && vhu_read_u16(&vq->device_event->off_wrap) == vq->marker);
}

const char *
vhu_vq_check_position_packed(const struct vhu_vq *vq, uint16_t pos,
                             bool wrap)
    VHU_VQ_REQUIRES(vq)
{
    if (pos >= vq->size) {
        return "the position lies beyond the ring";
    }
    /* The descriptor there holds what the guest made available in this lap
     * or what it or we wrote in the last one, never something used in this
     * one; the descriptor before holds what we or the guest wrote since we
     * passed it, never something used in the lap before. */
    if (vhu_packed_desc_is_used(vq, pos, wrap)) {
        return "the descriptor there is already used in this lap";
    }
    uint16_t prev = pos ? pos - 1 : vq->size - 1;
    bool prev_wrap = pos ? wrap : !wrap;
    if (vhu_packed_desc_is_used(vq, prev, !prev_wrap)) {
        return "the descriptor before it was not used in its lap";
    }
    return NULL;
}

int
vhu_vq_finish_handback_packed(struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    const struct vhu_ring_record *record = vq->record;
    const struct vhu_packed_batch *b = &record->batch;
    uint16_t pos = record->committed & 0x7fff;
    bool wrap = record->committed >> 15;

    if (record->pending == record->committed) {
        return 0;
    }
    if (pos >= vq->size || record->committed >> 16 || !b->n
        || b->n > VHU_PACKED_BATCH) {
        return -1;
    }

    uint32_t n_descs = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        const struct vhu_packed_used *u = &b->used[i];

        if (u->id >= vq->size || !u->n_descs) {
            return -1;
        }
        n_descs += u->n_descs;
    }
    uint16_t end = pos;
    bool end_wrap = wrap;
    if (n_descs > vq->size) {
        return -1;
    }
    vhu_packed_advance(vq, &end, &end_wrap, n_descs);
    if (vhu_ring_position(end, end_wrap) != record->pending) {
        return -1;
    }

    /* Before the hand-back the guest had made the first descriptor
     * available in this lap; its used flag, written last, is there if the
     * guest could see the whole batch. */
    uint16_t flags = vhu_read_u16(&vq->packed_desc[pos].flags);
    if (!!(flags & VHU_VRING_PACKED_DESC_F_USED) == wrap) {
        return 0;
    }
    vhu_packed_write_used(vq, b, &pos, &wrap);
    return b->n;
}

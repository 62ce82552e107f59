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

/* Bursts on split virtqueues (virtio 1.2, section 2.7).
 *
 * Everything the guest wrote is read once into our own variables before it
 * is checked and used, because the guest may change its rings at any time;
 * a check that failed breaks the queue (vhu_vq_break()) and nothing else. */

#include <config.h>

#include "vhu-vq.h"

#include "openvswitch/vlog.h"
#include "util.h"
#include "vhu-vq-chain.h"

VLOG_DEFINE_THIS_MODULE(vhu_vq_split);

/* Tells the guest that used entries from 'old_used' on are there, if it
 * asked to be told (virtio 1.2, 2.7.7 and 2.7.10). */
static void
vhu_vq_notify(struct vhu_vq *vq, uint16_t old_used)
    VHU_VQ_REQUIRES(vq)
{
    if (vq->call_fd < 0) {
        return;
    }

    /* The guest must see our used index before we read what it asked for,
     * or it could go to sleep between the two and never be woken. */
    atomic_thread_fence(memory_order_seq_cst);

    bool need;
    if (vq->event_idx) {
        uint16_t used_event = vhu_read_u16(&vq->avail->ring[vq->size]);
        need = vhu_vring_need_event(used_event, vq->last_used_idx, old_used);
    } else {
        need = !(vhu_read_u16(&vq->avail->flags)
                 & VHU_VRING_AVAIL_F_NO_INTERRUPT);
    }
    if (!need && vq->notify_on_empty) {
        need = vhu_read_u16(&vq->avail->idx) == vq->last_avail_idx;
    }
    if (need) {
        vhu_vq_call(vq);
    }
}

/* Publishes 'n' used entries written after 'vq->last_used_idx', in one
 * index update, and notifies the guest if it asked for it.  The record
 * says where the index goes before, and that it went after (see struct
 * vhu_ring_record); the index itself tells which of the two a switch
 * killed in between had reached. */
static void
vhu_vq_publish_used(struct vhu_vq *vq, uint16_t n)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_ring_record *record = vq->record;
    uint16_t old = vq->last_used_idx;

    vq->last_used_idx += n;
    record->pending = vq->last_used_idx;
    atomic_store_explicit((ATOMIC(uint16_t) *) &vq->used->idx,
                          vq->last_used_idx, memory_order_release);
    atomic_store_explicit((ATOMIC(uint32_t) *) &record->committed,
                          vq->last_used_idx, memory_order_release);
    vhu_vq_notify(vq, old);
}

/* How many entries the guest has published and we have not taken, or -1
 * (and the queue broken) if its avail index makes no sense. */
static int
vhu_vq_n_avail(struct vhu_vq *vq, uint16_t *avail_idxp)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t avail_idx;

    atomic_read_explicit((ATOMIC(uint16_t) *) &vq->avail->idx, &avail_idx,
                         memory_order_acquire);
    uint16_t n = avail_idx - vq->last_avail_idx;
    if (n > vq->size) {
        vhu_vq_break(vq, VHU_VQ_BAD_AVAIL_IDX);
        return -1;
    }
    *avail_idxp = avail_idx;
    return n;
}

static inline void ALWAYS_INLINE
vhu_vq_set_used(struct vhu_vq *vq, uint16_t pos, uint16_t head, uint32_t len)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_vring_used_elem *elem = &vq->used->ring[pos & vq->mask];

    elem->id = head;
    elem->len = len;
}

/* Prefetches the head descriptors of the 'n' avail entries from 'pos'
 * on (see "Prefetching" in vhu-vq-chain.h). */
static inline void
vhu_vq_prefetch_descs_split(const struct vhu_vq *vq, uint16_t pos, int n)
    VHU_VQ_REQUIRES(vq)
{
    for (int i = 0; i < n; i++) {
        uint16_t head = vhu_read_u16(&vq->avail->ring[(pos + i) & vq->mask]);

        if (head < vq->size) {
            OVS_PREFETCH(&vq->desc[head]);
        }
    }
}

/* Prefetches the first buffer of the chain of avail entry 'pos', for
 * reading, or for writing if 'write'. */
static inline void
vhu_vq_prefetch_buf_split(const struct vhu_vq *vq, uint16_t pos, bool write)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t head = vhu_read_u16(&vq->avail->ring[pos & vq->mask]);

    if (head < vq->size) {
        const volatile struct vhu_vring_desc *d = &vq->desc[head];

        if (!(d->flags & VHU_VRING_DESC_F_INDIRECT)) {
            vhu_prefetch_buf(vq, d->addr, write);
        }
    }
}

int
vhu_vq_dequeue_split(struct vhu_vq *vq, struct vhu_buf *bufs, int n)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t avail_idx;
    int n_avail = vhu_vq_n_avail(vq, &avail_idx);
    if (n_avail <= 0) {
        return 0;
    }

    int n_out = 0;
    int i;
    uint16_t last_head = 0;
    int n_ahead = MIN(n_avail, n);

    /* How far this burst may take the ring: a switch killed before it
     * hands the descriptors back leaves the guest to offer them again,
     * and the record to say how many (at most) it had taken. */
    vq->record->pending = (uint16_t) (vq->last_used_idx + n_ahead);
    vhu_vq_prefetch_descs_split(vq, vq->last_avail_idx, n_ahead);
    for (i = 0; i < MIN(n_ahead, VHU_PREFETCH_AHEAD); i++) {
        vhu_vq_prefetch_buf_split(vq, vq->last_avail_idx + i, false);
    }
    for (i = 0; i < n_avail && n_out < n; i++) {
        if (i + VHU_PREFETCH_AHEAD < n_ahead) {
            vhu_vq_prefetch_buf_split(vq, vq->last_avail_idx + i
                                      + VHU_PREFETCH_AHEAD, false);
        }
        uint16_t slot = (vq->last_avail_idx + i) & vq->mask;
        uint16_t head = vhu_read_u16(&vq->avail->ring[slot]);
        struct vhu_buf *buf = &bufs[n_out];
        struct vhu_chain c;
        bool ok;

        enum vhu_vq_fault fault = vhu_chain_start_split(vq, &c, head, false);
        if (!fault) {
            fault = vhu_chain_read_packet(vq, &c, buf, &ok);
        }
        if (fault) {
            vhu_vq_break(vq, fault);
            break;
        }
        /* In order, one entry stands for the whole burst: written in the
         * burst's first slot, it names the last buffer, and the guest takes
         * back every buffer up to that one (virtio 1.2, 2.7.9). */
        if (!vq->in_order) {
            vhu_vq_set_used(vq, vq->last_used_idx + i, head, 0);
        }
        last_head = head;
        n_out += vhu_vq_account_dequeue(vq, ok, buf->len);
    }

    if (i) {
        if (vq->in_order) {
            vhu_vq_set_used(vq, vq->last_used_idx, last_head, 0);
        }
        vq->last_avail_idx += i;
        vhu_vq_publish_used(vq, i);
    }
    return n_out;
}

/* Writes 'pkt', behind a virtio-net header, into the guest's RX buffers
 * from avail entry '*availp' on, and their used entries from
 * 'vq->last_used_idx + *n_usedp' on.  Without mergeable RX buffers the
 * packet must fit in one chain; with them it takes as many chains as it
 * needs and the header says how many.  On success advances '*availp' and
 * '*n_usedp' and sets '*fitp'; if the guest has not posted room enough,
 * leaves them (what it wrote lies beyond what the guest may read) and
 * clears '*fitp'. */
static enum vhu_vq_fault
vhu_vq_write_packet(struct vhu_vq *vq, const struct vhu_buf *pkt,
                    uint16_t avail_idx, uint16_t *availp, uint16_t *n_usedp,
                    bool *fitp)
    VHU_VQ_REQUIRES(vq)
{
    static const struct vhu_virtio_net_hdr hdr = { .num_buffers = 1 };
    uint16_t avail = *availp;
    uint16_t n_used = *n_usedp;
    uint16_t n_bufs = 0;
    struct vhu_chain first;
    uint32_t sent = 0;

    *fitp = false;
    do {
        struct vhu_chain c;
        uint32_t in_chain;

        if (avail == avail_idx) {
            return VHU_VQ_OK;
        }
        uint16_t head = vhu_read_u16(&vq->avail->ring[avail & vq->mask]);
        avail++;

        enum vhu_vq_fault fault = vhu_chain_start_split(vq, &c, head, true);
        if (!fault) {
            fault = vhu_chain_write_part(vq, &c, pkt, n_bufs, &hdr, &first,
                                         &sent, &in_chain);
        }
        if (fault || !in_chain) {
            return fault;
        }
        vhu_vq_set_used(vq, vq->last_used_idx + n_used, head, in_chain);
        n_used++;
        n_bufs++;
    } while (sent < pkt->len && vq->mrg_rxbuf);

    enum vhu_vq_fault fault = vhu_chain_end_packet(vq, &first, pkt, sent,
                                                   n_bufs, fitp);
    if (*fitp) {
        *availp = avail;
        *n_usedp = n_used;
    }
    return fault;
}

int
vhu_vq_enqueue_split(struct vhu_vq *vq, const struct vhu_buf *pkts, int n)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t avail_idx;
    int n_avail = vhu_vq_n_avail(vq, &avail_idx);
    if (n_avail < 0) {
        return 0;
    }

    /* Mergeable or not, a packet that fits in its first buffer, as most
     * do, takes one avail entry: prefetch as if each did. */
    int n_ahead = MIN(n_avail, n);
    int i;
    vhu_vq_prefetch_descs_split(vq, vq->last_avail_idx, n_ahead);
    for (i = 0; i < MIN(n_ahead, VHU_PREFETCH_AHEAD); i++) {
        vhu_vq_prefetch_buf_split(vq, vq->last_avail_idx + i, true);
    }

    uint16_t avail = vq->last_avail_idx;
    uint16_t n_used = 0;
    for (i = 0; i < n; i++) {
        bool fit;

        if (i + VHU_PREFETCH_AHEAD < n_ahead) {
            vhu_vq_prefetch_buf_split(vq, avail + VHU_PREFETCH_AHEAD, true);
        }
        enum vhu_vq_fault fault = vhu_vq_write_packet(vq, &pkts[i],
                                                      avail_idx, &avail,
                                                      &n_used, &fit);
        if (!vhu_vq_account_enqueue(vq, fault, fit, pkts[i].len)) {
            break;
        }
    }

    if (n_used) {
        vq->last_avail_idx = avail;
        vhu_vq_publish_used(vq, n_used);
    }
    return i;
}

/* A frontend that restarts finds the used index where the guest left it;
 * we continue from there rather than from a base that the guest has
 * already moved past. */
bool
vhu_vq_start_split(struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t used_idx = vhu_read_u16(&vq->used->idx);

    if (used_idx != vq->last_used_idx) {
        VLOG_INFO("%s: virtqueue %u: used index %"PRIu16" differs from "
                  "base %"PRIu16"; continuing from the used index",
                  vq->name, vq->index, used_idx, vq->last_used_idx);
        vq->last_used_idx = used_idx;
        vq->last_avail_idx = used_idx;
    }

    /* We poll, so kicks from the guest would be wasted exits. */
    vq->used->flags = VHU_VRING_USED_F_NO_NOTIFY;
    VLOG_DBG("%s: virtqueue %u started: %"PRIu16" entries, next avail %"
             PRIu16" (guest published %"PRIu16")", vq->name, vq->index,
             vq->size, vq->last_avail_idx, vhu_read_u16(&vq->avail->idx));
    return true;
}

int
vhu_vq_backlog_split(const struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t pending = vhu_read_u16(&vq->avail->idx) - vq->last_avail_idx;

    return MIN(pending, vq->size);
}

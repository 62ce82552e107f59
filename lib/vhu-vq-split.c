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

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "coverage.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vhu-mem.h"

VLOG_DEFINE_THIS_MODULE(vhu_vq_split);

COVERAGE_DEFINE(vhu_vq_broken);
COVERAGE_DEFINE(vhu_guest_tx_dropped);
COVERAGE_DEFINE(vhu_guest_rx_full);
COVERAGE_DEFINE(vhu_guest_call);

static const char *const fault_names[VHU_VQ_N_FAULTS] = {
    [VHU_VQ_OK] = "no fault",
    [VHU_VQ_BAD_AVAIL_IDX] = "avail index ahead by more than the ring size",
    [VHU_VQ_BAD_HEAD] = "avail entry names a descriptor beyond the ring",
    [VHU_VQ_BAD_NEXT] = "descriptor 'next' beyond its table",
    [VHU_VQ_LOOP] = "descriptor chain longer than its table (a loop)",
    [VHU_VQ_ZERO_LEN] = "zero-length buffer",
    [VHU_VQ_BAD_ADDR] = "buffer outside guest memory",
    [VHU_VQ_BAD_DIRECTION] = "buffer writable where readable expected, "
                             "or the reverse",
    [VHU_VQ_NESTED_INDIRECT] = "indirect table inside an indirect table",
    [VHU_VQ_BAD_INDIRECT] = "indirect descriptor misaligned, empty, "
                            "chained or not negotiated",
};

const char *
vhu_vq_fault_name(enum vhu_vq_fault fault)
{
    return fault < VHU_VQ_N_FAULTS ? fault_names[fault] : "unknown fault";
}

/* Marks 'vq' broken: the guest wrote something into it that we cannot
 * follow.  Only this queue stops; its device and every other queue carry
 * on. */
static void
vhu_vq_break(struct vhu_vq *vq, enum vhu_vq_fault fault)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    atomic_store_relaxed(&vq->faults,
                         ((vhu_vq_n_faults(vhu_vq_faults(vq)) + 1) << 8)
                         | fault);
    COVERAGE_INC(vhu_vq_broken);
    VLOG_WARN_RL(&rl, "%s: virtqueue %u stopped: %s (it stays stopped until "
                 "the frontend sets it up again)",
                 vq->name, vq->index, vhu_vq_fault_name(fault));
}

/* A walk along one descriptor chain: the table it is in (the ring's or an
 * indirect one) and the part of the current buffer not yet consumed. */
struct vhu_chain {
    const struct vhu_vring_desc *table;
    uint32_t table_size;
    uint32_t n_seen;            /* Descriptors visited in 'table'. */
    bool in_indirect;
    uint16_t direction;         /* VHU_VRING_DESC_F_WRITE or 0. */

    uint64_t addr;              /* Rest of the current buffer. */
    uint32_t left;
    uint16_t flags;
    uint16_t next;
};

/* Loads descriptor 'idx' of the chain's table as the chain's current
 * buffer, following an indirect descriptor into its table. */
static enum vhu_vq_fault
vhu_chain_load(const struct vhu_vq *vq, struct vhu_chain *c, uint32_t idx)
{
    if (idx >= c->table_size) {
        return c->n_seen ? VHU_VQ_BAD_NEXT : VHU_VQ_BAD_HEAD;
    }
    if (++c->n_seen > c->table_size) {
        return VHU_VQ_LOOP;
    }

    const volatile struct vhu_vring_desc *d = &c->table[idx];
    uint64_t addr = d->addr;
    uint32_t len = d->len;
    uint16_t flags = d->flags;
    uint16_t next = d->next;

    if (flags & VHU_VRING_DESC_F_INDIRECT) {
        if (c->in_indirect) {
            return VHU_VQ_NESTED_INDIRECT;
        }
        /* An indirect descriptor must be the whole chain (the spec forbids
         * F_NEXT on it, and no driver puts one after direct buffers). */
        if (!vq->indirect || flags & VHU_VRING_DESC_F_NEXT || c->n_seen != 1
            || !len || len % sizeof(struct vhu_vring_desc)
            || len / sizeof(struct vhu_vring_desc) > UINT16_MAX + 1) {
            return VHU_VQ_BAD_INDIRECT;
        }
        const struct vhu_vring_desc *table = vhu_mem_gpa_to_hva(vq->mem,
                                                                addr, len);
        if (!table) {
            return VHU_VQ_BAD_ADDR;
        }
        c->table = table;
        c->table_size = len / sizeof(struct vhu_vring_desc);
        c->n_seen = 0;
        c->in_indirect = true;
        return vhu_chain_load(vq, c, 0);
    }

    if ((flags & VHU_VRING_DESC_F_WRITE) != c->direction) {
        return VHU_VQ_BAD_DIRECTION;
    }
    if (!len) {
        return VHU_VQ_ZERO_LEN;
    }
    if (addr + len < addr) {
        return VHU_VQ_BAD_ADDR;
    }
    c->addr = addr;
    c->left = len;
    c->flags = flags;
    c->next = next;
    return VHU_VQ_OK;
}

/* Starts a walk at descriptor 'head' of 'vq''s ring, expecting buffers
 * that the device writes (guest RX) if 'write', reads (guest TX) if not. */
static enum vhu_vq_fault
vhu_chain_start(const struct vhu_vq *vq, struct vhu_chain *c, uint16_t head,
                bool write)
{
    c->table = vq->desc;
    c->table_size = vq->size;
    c->n_seen = 0;
    c->in_indirect = false;
    c->direction = write ? VHU_VRING_DESC_F_WRITE : 0;
    return vhu_chain_load(vq, c, head);
}

static inline bool
vhu_chain_ended(const struct vhu_chain *c)
{
    return !c->left && !(c->flags & VHU_VRING_DESC_F_NEXT);
}

/* Moves to the next buffer if the current one is used up.  Returns
 * VHU_VQ_OK with 'c->left' still zero at the end of the chain. */
static inline enum vhu_vq_fault
vhu_chain_refill(const struct vhu_vq *vq, struct vhu_chain *c)
{
    if (!c->left && c->flags & VHU_VRING_DESC_F_NEXT) {
        return vhu_chain_load(vq, c, c->next);
    }
    return VHU_VQ_OK;
}

/* Copies up to 'len' bytes between the chain and 'buf': out of the guest's
 * buffers into 'buf' for a readable chain, from 'buf' into them for a
 * writable one.  With 'buf' NULL it only moves along the chain (checking
 * its descriptors) without touching, or translating, the bytes it
 * passes: that is how the header of a guest packet is skipped.  Stores
 * in '*donep' how many bytes it copied, fewer than 'len' only at the end of
 * the chain.  A buffer that spans two memory regions is copied a piece per
 * region. */
static enum vhu_vq_fault
vhu_chain_copy(const struct vhu_vq *vq, struct vhu_chain *c, void *buf,
               uint32_t len, uint32_t *donep)
{
    uint8_t *p = buf;
    uint32_t done = 0;

    *donep = 0;
    while (done < len) {
        enum vhu_vq_fault fault = vhu_chain_refill(vq, c);
        if (fault) {
            return fault;
        }
        if (!c->left) {
            break;
        }

        uint64_t n = MIN(c->left, len - done);
        if (p) {
            uint8_t *hva = vhu_mem_gpa_to_hva_max(vq->mem, c->addr, &n);
            if (!hva) {
                return VHU_VQ_BAD_ADDR;
            }
            if (c->direction) {
                memcpy(hva, p + done, n);
            } else {
                memcpy(p + done, hva, n);
            }
        }
        c->addr += n;
        c->left -= n;
        done += n;
        *donep = done;
    }
    return VHU_VQ_OK;
}

/* Walks what is left of the chain, checking its descriptors, without
 * reading the bytes they hold. */
static enum vhu_vq_fault
vhu_chain_skip_rest(const struct vhu_vq *vq, struct vhu_chain *c)
{
    while (!vhu_chain_ended(c)) {
        uint32_t done;
        enum vhu_vq_fault fault = vhu_chain_copy(vq, c, NULL, UINT32_MAX,
                                                 &done);
        if (fault) {
            return fault;
        }
    }
    return VHU_VQ_OK;
}

/* Tells the guest that used entries from 'old_used' on are there, if it
 * asked to be told (virtio 1.2, 2.7.7 and 2.7.10). */
static void
vhu_vq_notify(struct vhu_vq *vq, uint16_t old_used)
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
        uint64_t one = 1;

        /* EAGAIN means the counter is full, so the guest has a wakeup
         * pending anyway. */
        ignore(write(vq->call_fd, &one, sizeof one));
        vq->stats.calls++;
        COVERAGE_INC(vhu_guest_call);
    }
}

/* Publishes 'n' used entries written after 'vq->last_used_idx', in one
 * index update, and notifies the guest if it asked for it. */
static void
vhu_vq_publish_used(struct vhu_vq *vq, uint16_t n)
{
    uint16_t old = vq->last_used_idx;

    vq->last_used_idx += n;
    atomic_store_explicit((ATOMIC(uint16_t) *) &vq->used->idx,
                          vq->last_used_idx, memory_order_release);
    vhu_vq_notify(vq, old);
}

/* How many entries the guest has published and we have not taken, or -1
 * (and the queue broken) if its avail index makes no sense. */
static int
vhu_vq_n_avail(struct vhu_vq *vq, uint16_t *avail_idxp)
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

static inline void
vhu_vq_set_used(struct vhu_vq *vq, uint16_t pos, uint16_t head, uint32_t len)
{
    struct vhu_vring_used_elem *elem = &vq->used->ring[pos & vq->mask];

    elem->id = head;
    elem->len = len;
}

/* Reads the packet in the chain at 'head' into 'buf', without its
 * virtio-net header.  Stores in '*okp' whether 'buf' now holds a packet:
 * a chain shorter than a header, with no data, or bigger than 'buf' is
 * consumed and dropped. */
static enum vhu_vq_fault
vhu_vq_read_packet(struct vhu_vq *vq, uint16_t head, struct vhu_buf *buf,
                   bool *okp)
{
    struct vhu_chain c;
    enum vhu_vq_fault fault;
    uint32_t n;

    *okp = false;
    fault = vhu_chain_start(vq, &c, head, false);
    if (!fault) {
        fault = vhu_chain_copy(vq, &c, NULL, vq->hdr_len, &n);
    }
    if (fault || n < vq->hdr_len) {
        return fault;
    }

    fault = vhu_chain_copy(vq, &c, buf->data, buf->size, &n);
    if (fault) {
        return fault;
    }
    if (!vhu_chain_ended(&c)) {
        return vhu_chain_skip_rest(vq, &c);
    }
    buf->len = n;
    *okp = n > 0;
    return VHU_VQ_OK;
}

/* Dequeues up to 'n' packets that the guest sent on 'vq' (one of its TX
 * queues) into 'bufs'.  Returns how many it stored. */
int
vhu_vq_dequeue_split(struct vhu_vq *vq, struct vhu_buf *bufs, int n)
{
    uint16_t avail_idx;
    int n_avail = vhu_vq_n_avail(vq, &avail_idx);
    if (n_avail <= 0) {
        return 0;
    }

    int n_out = 0;
    int i;
    for (i = 0; i < n_avail && n_out < n; i++) {
        uint16_t slot = (vq->last_avail_idx + i) & vq->mask;
        uint16_t head = vhu_read_u16(&vq->avail->ring[slot]);
        struct vhu_buf *buf = &bufs[n_out];
        bool ok;

        enum vhu_vq_fault fault = vhu_vq_read_packet(vq, head, buf, &ok);
        if (fault) {
            vhu_vq_break(vq, fault);
            break;
        }
        vhu_vq_set_used(vq, vq->last_used_idx + i, head, 0);
        if (ok) {
            vq->stats.packets++;
            vq->stats.bytes += buf->len;
            n_out++;
        } else {
            vq->stats.dropped++;
            COVERAGE_INC(vhu_guest_tx_dropped);
        }
    }

    if (i) {
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
{
    struct vhu_virtio_net_hdr hdr = { .num_buffers = 1 };
    uint16_t avail = *availp;
    uint16_t n_used = *n_usedp;
    uint16_t n_bufs = 0;
    struct vhu_chain first;
    uint32_t sent = 0;

    *fitp = false;
    do {
        struct vhu_chain c;
        uint32_t in_chain = 0;
        uint32_t n;

        if (avail == avail_idx) {
            return VHU_VQ_OK;
        }
        uint16_t head = vhu_read_u16(&vq->avail->ring[avail & vq->mask]);
        avail++;

        enum vhu_vq_fault fault = vhu_chain_start(vq, &c, head, true);
        if (fault) {
            return fault;
        }
        if (!n_bufs) {
            first = c;
            fault = vhu_chain_copy(vq, &c, &hdr, vq->hdr_len, &n);
            if (fault || n < vq->hdr_len) {
                return fault;
            }
            in_chain = n;
        }
        fault = vhu_chain_copy(vq, &c, (uint8_t *) pkt->data + sent,
                               pkt->len - sent, &n);
        if (fault) {
            return fault;
        }
        sent += n;
        in_chain += n;
        vhu_vq_set_used(vq, vq->last_used_idx + n_used, head, in_chain);
        n_used++;
        n_bufs++;
    } while (sent < pkt->len && vq->mrg_rxbuf);

    if (sent < pkt->len) {
        return VHU_VQ_OK;
    }
    if (n_bufs > 1) {
        uint32_t n;

        hdr.num_buffers = n_bufs;
        enum vhu_vq_fault fault = vhu_chain_copy(vq, &first, &hdr,
                                                 vq->hdr_len, &n);
        if (fault) {
            return fault;
        }
    }
    *availp = avail;
    *n_usedp = n_used;
    *fitp = true;
    return VHU_VQ_OK;
}

/* Enqueues packets from 'pkts' into 'vq' (one of the guest's RX queues) in
 * order, until one does not fit.  Returns how many it enqueued. */
int
vhu_vq_enqueue_split(struct vhu_vq *vq, const struct vhu_buf *pkts, int n)
{
    uint16_t avail_idx;
    if (vhu_vq_n_avail(vq, &avail_idx) < 0) {
        return 0;
    }

    uint16_t avail = vq->last_avail_idx;
    uint16_t n_used = 0;
    int i;
    for (i = 0; i < n; i++) {
        bool fit;

        enum vhu_vq_fault fault = vhu_vq_write_packet(vq, &pkts[i],
                                                      avail_idx, &avail,
                                                      &n_used, &fit);
        if (fault) {
            vhu_vq_break(vq, fault);
            break;
        }
        if (!fit) {
            COVERAGE_INC(vhu_guest_rx_full);
            break;
        }
        vq->stats.packets++;
        vq->stats.bytes += pkts[i].len;
    }

    if (n_used) {
        vq->last_avail_idx = avail;
        vhu_vq_publish_used(vq, n_used);
    }
    return i;
}

/* Makes 'vq' ready for bursts, its ring addresses and base being set.  A
 * frontend that restarts finds the used index where the guest left it; we
 * continue from there rather than from a base that the guest has already
 * moved past. */
void
vhu_vq_start_split(struct vhu_vq *vq)
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
}

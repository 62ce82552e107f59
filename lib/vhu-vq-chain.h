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

#ifndef VHU_VQ_CHAIN_H
#define VHU_VQ_CHAIN_H 1

/* Walking one descriptor chain, for the bursts of both ring layouts
 * (vhu-vq-split.c, vhu-vq-packed.c): following it descriptor by descriptor,
 * into an indirect table and out, checking each descriptor, and copying
 * bytes between the chain's buffers and ours.
 *
 * A split chain follows 'next' links through the descriptor table (or an
 * indirect table of split descriptors); a packed chain is consecutive
 * descriptors of the ring, each of which must be available with the wrap
 * counter of its position, or one indirect descriptor whose table entries
 * are all used in order.
 *
 * Everything the guest wrote is read once into our own variables before it
 * is checked and used, because the guest may change its rings at any
 * time.  The functions are inline: they are the inner loop of every
 * burst.
 *
 * Those marked ALWAYS_INLINE are small and inlined into every caller, so
 * forcing it changes no instruction (objdump of the burst files, GCC 12)
 * and keeps it so whatever another compiler would choose.  The others,
 * chain loading, reading and writing packets, are larger and called from
 * cold paths too: forcing them inline everywhere was measured to cost up
 * to 8 % more instructions per packet (callgrind, the burst-cost tool),
 * except for vhu_chain_load_packed(), whose inlining saves 9 % on packed
 * dequeues but costs 3 % on packed enqueues: a choice for the fast-path
 * work, not for a pin. */

#include <string.h>

#include "util.h"
#include "vhu-mem.h"
#include "vhu-vq.h"

/* Private to the burst files (vhu-vq.c). */
void vhu_vq_call(struct vhu_vq *vq) VHU_VQ_REQUIRES(vq);
void vhu_vq_count_tx_drop(struct vhu_vq *vq) VHU_VQ_REQUIRES(vq);
void vhu_vq_count_rx_full(void);

enum vhu_chain_kind {
    VHU_CHAIN_SPLIT,            /* 'next' links in a split table. */
    VHU_CHAIN_PACKED_RING,      /* Consecutive packed ring descriptors. */
    VHU_CHAIN_PACKED_TABLE,     /* Consecutive packed indirect entries. */
};

struct vhu_chain {
    enum vhu_chain_kind kind;
    const void *table;          /* Split table or packed indirect table. */
    uint32_t table_size;
    uint32_t n_seen;            /* Descriptors visited in this table or, in
                                 * a packed ring, in the ring. */
    bool in_indirect;
    uint16_t direction;         /* VHU_VRING_DESC_F_WRITE or 0. */

    /* Packed ring: the position of the chain's next ring descriptor and
     * the wrap counter it must carry, how many ring descriptors the chain
     * took so far, and the buffer id of the last one. */
    uint16_t pos;
    bool wrap;
    uint16_t n_ring;
    uint16_t id;

    /* The rest of the current buffer. */
    uint64_t addr;
    uint32_t left;
    bool more;                  /* Another descriptor follows. */
    uint16_t next;              /* Split: that descriptor. */
};

/* True if a packed descriptor with 'flags' is available in the lap whose
 * driver wrap counter is 'wrap'. */
static inline bool ALWAYS_INLINE
vhu_packed_desc_is_avail(uint16_t flags, bool wrap)
{
    return (!!(flags & VHU_VRING_PACKED_DESC_F_AVAIL) == wrap
            && !!(flags & VHU_VRING_PACKED_DESC_F_USED) != wrap);
}

/* Moves packed ring position '*posp', whose wrap counter is '*wrapp', on
 * by 'n' (at most the ring's size), flipping the counter at the end of
 * the ring. */
static inline void ALWAYS_INLINE
vhu_packed_advance(const struct vhu_vq *vq, uint16_t *posp, bool *wrapp,
                   uint32_t n)
    VHU_VQ_REQUIRES(vq)
{
    uint32_t pos = *posp + n;

    if (pos >= vq->size) {
        pos -= vq->size;
        *wrapp = !*wrapp;
    }
    *posp = pos;
}

/* Prefetching.
 *
 * A burst works on lines that the guest's core wrote last: the avail
 * entries, the descriptors, the buffers.  Each read of one misses in our
 * cache and waits for that core; reading them packet by packet, each
 * descriptor and then its buffer, waits for every miss in turn.  So the
 * bursts ask for them ahead: every descriptor of the burst first, then
 * each packet's first buffer VHU_PREFETCH_AHEAD packets before it is
 * copied, and the misses overlap.
 *
 * A prefetch is only a hint: the walk reads every descriptor again, once,
 * and checks what it read before using it, so a guest that changes a
 * descriptor in between changes nothing but the hint; and a prefetch of
 * an address that nothing maps does not fault. */
#define VHU_PREFETCH_AHEAD 4

/* Asks for the first line of the guest buffer at 'gpa', to be read, or
 * written if 'write'. */
static inline void
vhu_prefetch_buf(const struct vhu_vq *vq, uint64_t gpa, bool write)
    VHU_VQ_REQUIRES(vq)
{
    uint64_t len = 1;
    const void *hva = vhu_mem_gpa_to_hva_max(vq->mem, gpa, &len);

    if (hva) {
        if (write) {
            OVS_PREFETCH_WRITE(hva);
        } else {
            OVS_PREFETCH(hva);
        }
    }
}

/* Makes 'addr' and 'len', from a descriptor with 'flags', the chain's
 * current buffer, after checking them. */
static inline enum vhu_vq_fault
vhu_chain_set_buf(struct vhu_chain *c, uint64_t addr, uint32_t len,
                  uint16_t flags)
{
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
    return VHU_VQ_OK;
}

/* Checks an indirect descriptor's table of 'len' bytes at 'addr' (of
 * 16-byte descriptors in either layout) and returns our address of it. */
static inline enum vhu_vq_fault
vhu_chain_indirect(const struct vhu_vq *vq, struct vhu_chain *c,
                   uint64_t addr, uint32_t len, uint16_t flags,
                   const void **tablep)
    VHU_VQ_REQUIRES(vq)
{
    if (c->in_indirect) {
        return VHU_VQ_NESTED_INDIRECT;
    }
    /* An indirect descriptor must be the whole chain (the spec forbids
     * F_NEXT on it, and no driver puts one after direct buffers), and no
     * chain may be longer than the ring (nor make us walk 65536
     * descriptors per packet). */
    if (!vq->indirect || flags & VHU_VRING_DESC_F_NEXT || c->n_seen != 1
        || !len || len % sizeof(struct vhu_vring_desc)
        || len / sizeof(struct vhu_vring_desc) > vq->size) {
        return VHU_VQ_BAD_INDIRECT;
    }
    *tablep = vhu_mem_gpa_to_hva(vq->mem, addr, len);
    if (!*tablep) {
        return VHU_VQ_BAD_ADDR;
    }
    /* We read the table as descriptors: our address of it must suit
     * them. */
    if ((uintptr_t) *tablep % __alignof__(struct vhu_vring_desc)) {
        return VHU_VQ_BAD_INDIRECT;
    }
    c->table_size = len / sizeof(struct vhu_vring_desc);
    c->n_seen = 0;
    c->in_indirect = true;
    return VHU_VQ_OK;
}

/* Split: loads descriptor 'idx' of the chain's table as its current
 * buffer, following an indirect descriptor into its table. */
static inline enum vhu_vq_fault
vhu_chain_load_split(const struct vhu_vq *vq, struct vhu_chain *c,
                     uint32_t idx)
    VHU_VQ_REQUIRES(vq)
{
    for (;;) {
        if (idx >= c->table_size) {
            return c->n_seen ? VHU_VQ_BAD_NEXT : VHU_VQ_BAD_HEAD;
        }
        if (++c->n_seen > c->table_size) {
            return VHU_VQ_LOOP;
        }

        const volatile struct vhu_vring_desc *d
            = &((const struct vhu_vring_desc *) c->table)[idx];
        uint64_t addr = d->addr;
        uint32_t len = d->len;
        uint16_t flags = d->flags;
        uint16_t next = d->next;

        if (!(flags & VHU_VRING_DESC_F_INDIRECT)) {
            c->more = flags & VHU_VRING_DESC_F_NEXT;
            c->next = next;
            return vhu_chain_set_buf(c, addr, len, flags);
        }

        /* Into the indirect table, at its first entry. */
        enum vhu_vq_fault fault = vhu_chain_indirect(vq, c, addr, len, flags,
                                                     &c->table);
        if (fault) {
            return fault;
        }
        idx = 0;
    }
}

/* Packed indirect table: loads its next entry.  Only F_WRITE means
 * anything there; an indirect entry in it is refused like a nested split
 * table, the rest of the flags are ignored, as the spec says. */
static inline enum vhu_vq_fault
vhu_chain_load_packed_table(struct vhu_chain *c)
{
    const volatile struct vhu_vring_packed_desc *d
        = &((const struct vhu_vring_packed_desc *) c->table)[c->n_seen];
    uint64_t addr = d->addr;
    uint32_t len = d->len;
    uint16_t flags = d->flags;

    if (flags & VHU_VRING_DESC_F_INDIRECT) {
        return VHU_VQ_NESTED_INDIRECT;
    }
    c->more = ++c->n_seen < c->table_size;
    return vhu_chain_set_buf(c, addr, len, flags & VHU_VRING_DESC_F_WRITE);
}

/* Packed ring: loads the ring descriptor at 'c->pos' and moves past it.
 *
 * Each descriptor's flags are read once, here.  The first one of a chain
 * that is not available yet means no buffer there: the load succeeds with
 * 'c->n_ring' still 0.  One that is available and used at once in this lap
 * is something only a driver that lost its wrap counter writes.  The
 * driver makes the first descriptor available last, so every later one
 * must be available already. */
static inline enum vhu_vq_fault
vhu_chain_load_packed(const struct vhu_vq *vq, struct vhu_chain *c)
    VHU_VQ_REQUIRES(vq)
{
    if (++c->n_seen > vq->size) {
        return VHU_VQ_LOOP;
    }

    const volatile struct vhu_vring_packed_desc *d
        = &vq->packed_desc[c->pos];
    uint16_t flags = d->flags;
    if (!vhu_packed_desc_is_avail(flags, c->wrap)) {
        bool not_yet = (!!(flags & VHU_VRING_PACKED_DESC_F_AVAIL)
                        != c->wrap);
        return c->n_seen == 1 && not_yet ? VHU_VQ_OK : VHU_VQ_BAD_WRAP;
    }
    if (c->n_seen == 1) {
        /* Read the rest of the chain only after we saw it available. */
        atomic_thread_fence(memory_order_acquire);
    }
    uint64_t addr = d->addr;
    uint32_t len = d->len;
    c->id = d->id;
    c->n_ring++;
    vhu_packed_advance(vq, &c->pos, &c->wrap, 1);

    if (flags & VHU_VRING_DESC_F_INDIRECT) {
        enum vhu_vq_fault fault = vhu_chain_indirect(vq, c, addr, len, flags,
                                                     &c->table);
        if (fault) {
            return fault;
        }
        c->kind = VHU_CHAIN_PACKED_TABLE;
        return vhu_chain_load_packed_table(c);
    }
    c->more = flags & VHU_VRING_DESC_F_NEXT;
    return vhu_chain_set_buf(c, addr, len, flags);
}

/* Starts a walk, expecting buffers that the device writes (guest RX) if
 * 'write', reads (guest TX) if not: at descriptor 'head' of a split ring,
 * or at position 'pos' of a packed ring, in the lap whose wrap counter is
 * 'wrap' (then 'c->n_ring' stays 0 if nothing is available there; see
 * vhu_chain_load_packed()). */
static inline enum vhu_vq_fault ALWAYS_INLINE
vhu_chain_start_split(const struct vhu_vq *vq, struct vhu_chain *c,
                      uint16_t head, bool write)
    VHU_VQ_REQUIRES(vq)
{
    c->kind = VHU_CHAIN_SPLIT;
    c->table = vq->desc;
    c->table_size = vq->size;
    c->n_seen = 0;
    c->in_indirect = false;
    c->direction = write ? VHU_VRING_DESC_F_WRITE : 0;
    return vhu_chain_load_split(vq, c, head);
}

static inline enum vhu_vq_fault ALWAYS_INLINE
vhu_chain_start_packed(const struct vhu_vq *vq, struct vhu_chain *c,
                       uint16_t pos, bool wrap, bool write)
    VHU_VQ_REQUIRES(vq)
{
    c->kind = VHU_CHAIN_PACKED_RING;
    c->n_seen = 0;
    c->in_indirect = false;
    c->direction = write ? VHU_VRING_DESC_F_WRITE : 0;
    c->pos = pos;
    c->wrap = wrap;
    c->n_ring = 0;
    return vhu_chain_load_packed(vq, c);
}

static inline bool ALWAYS_INLINE
vhu_chain_ended(const struct vhu_chain *c)
{
    return !c->left && !c->more;
}

/* Moves to the next buffer if the current one is used up.  Returns
 * VHU_VQ_OK with 'c->left' still zero at the end of the chain. */
static inline enum vhu_vq_fault
vhu_chain_refill(const struct vhu_vq *vq, struct vhu_chain *c)
    VHU_VQ_REQUIRES(vq)
{
    if (c->left || !c->more) {
        return VHU_VQ_OK;
    }
    switch (c->kind) {
    case VHU_CHAIN_SPLIT:
        return vhu_chain_load_split(vq, c, c->next);
    case VHU_CHAIN_PACKED_RING:
        return vhu_chain_load_packed(vq, c);
    case VHU_CHAIN_PACKED_TABLE:
    default:
        return vhu_chain_load_packed_table(c);
    }
}

/* Copies up to 'len' bytes between the chain and 'buf': out of the guest's
 * buffers into 'buf' for a readable chain, from 'buf' into them for a
 * writable one.  With 'buf' NULL it only moves along the chain (checking
 * its descriptors) without touching, or translating, the bytes it
 * passes: that is how the header of a guest packet is skipped.  Stores
 * in '*donep' how many bytes it copied, fewer than 'len' only at the end of
 * the chain.  A buffer that spans two memory regions is copied a piece per
 * region. */
static inline enum vhu_vq_fault ALWAYS_INLINE
vhu_chain_copy(const struct vhu_vq *vq, struct vhu_chain *c, void *buf,
               uint32_t len, uint32_t *donep)
    VHU_VQ_REQUIRES(vq)
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
static inline enum vhu_vq_fault
vhu_chain_skip_rest(const struct vhu_vq *vq, struct vhu_chain *c)
    VHU_VQ_REQUIRES(vq)
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

/* Reads the packet in started chain 'c' into 'buf', without its
 * virtio-net header, walking the whole chain.  Stores in '*okp' whether
 * 'buf' now holds a packet: a chain shorter than a header, with no data,
 * or bigger than 'buf' is consumed and dropped. */
static inline enum vhu_vq_fault
vhu_chain_read_packet(const struct vhu_vq *vq, struct vhu_chain *c,
                      struct vhu_buf *buf, bool *okp)
    VHU_VQ_REQUIRES(vq)
{
    enum vhu_vq_fault fault;
    uint32_t n;

    /* Most guests send each packet in one buffer, behind its header: one
     * translation, one copy. */
    if (!c->more && c->left > vq->hdr_len
        && c->left - vq->hdr_len <= buf->size) {
        uint64_t whole = c->left;
        const uint8_t *hva = vhu_mem_gpa_to_hva_max(vq->mem, c->addr,
                                                    &whole);
        if (OVS_LIKELY(hva && whole == c->left)) {
            buf->len = c->left - vq->hdr_len;
            memcpy(buf->data, hva + vq->hdr_len, buf->len);
            c->addr += c->left;
            c->left = 0;
            *okp = true;
            return VHU_VQ_OK;
        }
    }

    *okp = false;
    fault = vhu_chain_copy(vq, c, NULL, vq->hdr_len, &n);
    if (fault || n < vq->hdr_len) {
        return fault;           /* Short of a header, the chain ended. */
    }

    fault = vhu_chain_copy(vq, c, buf->data, buf->size, &n);
    if (fault) {
        return fault;
    }
    if (!vhu_chain_ended(c)) {
        return vhu_chain_skip_rest(vq, c);
    }
    buf->len = n;
    *okp = n > 0;
    return VHU_VQ_OK;
}

/* Writes into started chain 'c', the packet's buffer number 'n_bufs'
 * (from 0), as much as fits of 'pkt' from byte '*sentp' on, behind a
 * virtio-net header 'hdr' if it is the first buffer (then saved in
 * '*first', with mergeable buffers, to set 'num_buffers' later).  Adds
 * what it wrote to '*sentp' and stores the bytes written into the chain in
 * '*in_chainp'.  Fails with '*in_chainp' 0 if a first buffer cannot hold a
 * header. */
static inline enum vhu_vq_fault
vhu_chain_write_part(const struct vhu_vq *vq, struct vhu_chain *c,
                     const struct vhu_buf *pkt, uint16_t n_bufs,
                     const struct vhu_virtio_net_hdr *hdr,
                     struct vhu_chain *first, uint32_t *sentp,
                     uint32_t *in_chainp)
    VHU_VQ_REQUIRES(vq)
{
    uint32_t in_chain = 0;
    uint32_t n;

    /* Most packets fit, behind their header, in the guest's first buffer:
     * one translation, two copies, and no header to rewrite later. */
    if (!n_bufs && c->left >= vq->hdr_len + pkt->len) {
        uint64_t whole = vq->hdr_len + pkt->len;
        uint8_t *hva = vhu_mem_gpa_to_hva_max(vq->mem, c->addr, &whole);

        if (OVS_LIKELY(hva && whole == vq->hdr_len + pkt->len)) {
            if (vq->hdr_len == sizeof *hdr) {
                memcpy(hva, hdr, sizeof *hdr);
            } else {
                memcpy(hva, hdr, VHU_VIRTIO_NET_HDR_LEN_LEGACY);
            }
            memcpy(hva + vq->hdr_len, pkt->data, pkt->len);
            c->addr += whole;
            c->left -= whole;
            *sentp = pkt->len;
            *in_chainp = whole;
            return VHU_VQ_OK;
        }
    }

    *in_chainp = 0;
    if (!n_bufs) {
        if (vq->mrg_rxbuf) {
            *first = *c;        /* Only a merged packet needs it. */
        }
        enum vhu_vq_fault fault = vhu_chain_copy(vq, c,
                                                 CONST_CAST(void *, hdr),
                                                 vq->hdr_len, &n);
        if (fault || n < vq->hdr_len) {
            return fault;
        }
        in_chain = n;
    }
    enum vhu_vq_fault fault = vhu_chain_copy(vq, c,
                                             (uint8_t *) pkt->data + *sentp,
                                             pkt->len - *sentp, &n);
    if (fault) {
        return fault;
    }
    *sentp += n;
    *in_chainp = in_chain + n;
    return VHU_VQ_OK;
}

/* Ends writing 'pkt', of which 'sent' bytes went into 'n_bufs' buffers,
 * the first of them chain 'first': sets '*fitp' if all of it went, and
 * then, for a packet in more than one buffer, rewrites its header with
 * 'num_buffers'. */
static inline enum vhu_vq_fault
vhu_chain_end_packet(const struct vhu_vq *vq, struct vhu_chain *first,
                     const struct vhu_buf *pkt, uint32_t sent,
                     uint16_t n_bufs, bool *fitp)
    VHU_VQ_REQUIRES(vq)
{
    *fitp = false;
    if (sent < pkt->len) {
        return VHU_VQ_OK;
    }
    if (n_bufs > 1) {
        struct vhu_virtio_net_hdr hdr = { .num_buffers = n_bufs };
        uint32_t n;

        enum vhu_vq_fault fault = vhu_chain_copy(vq, first, &hdr,
                                                 vq->hdr_len, &n);
        if (fault) {
            return fault;
        }
    }
    *fitp = true;
    return VHU_VQ_OK;
}

/* Accounts for a chain that a dequeue read: a packet of 'len' bytes if
 * 'ok', a dropped one if not.  Returns how many packets it delivered. */
static inline int ALWAYS_INLINE
vhu_vq_account_dequeue(struct vhu_vq *vq, bool ok, uint32_t len)
    VHU_VQ_REQUIRES(vq)
{
    if (!ok) {
        vhu_vq_count_tx_drop(vq);
        return 0;
    }
    vq->stats.packets++;
    vq->stats.bytes += len;
    return 1;
}

/* Accounts for a packet of 'len' bytes that an enqueue tried to write:
 * breaks the queue for 'fault', counts a full ring if it did not 'fit', or
 * counts the packet.  Returns true if the enqueue may go on. */
static inline bool
vhu_vq_account_enqueue(struct vhu_vq *vq, enum vhu_vq_fault fault, bool fit,
                       uint32_t len)
    VHU_VQ_REQUIRES(vq)
{
    if (fault) {
        vhu_vq_break(vq, fault);
        return false;
    }
    if (!fit) {
        vhu_vq_count_rx_full();
        return false;
    }
    vq->stats.packets++;
    vq->stats.bytes += len;
    return true;
}

#endif /* vhu-vq-chain.h */

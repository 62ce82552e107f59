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

/* Fuzz target "net-hdr": the virtio-net header in front of every packet,
 * with an oracle.  The input (format in fuzz.h) cuts well-formed chains,
 * split or packed, direct or indirect, into buffers of the lengths it
 * likes: a header over many buffers, buffers of one byte, a header longer
 * than the first buffer, a chain shorter than a header, chains across the
 * boundary of two regions.  The target knows what the guest meant, so it
 * checks every byte:
 *
 *   - dequeue (guest TX): each chain's packet is exactly the bytes after
 *     its header, or the chain is dropped and counted when it holds no
 *     more than a header or more than the caller's buffer;
 *
 *   - enqueue (guest RX): each packet that fits lands behind a header
 *     whose num_buffers says how many buffers it took (1 without mergeable
 *     buffers), in the used entries and lengths that the guest expects,
 *     reassembled byte for byte across the buffers, and nothing past those
 *     lengths is written; the first packet that does not fit, and only
 *     it, ends the burst.
 *
 * The chains are valid, so the queue must never break. */

#include <config.h>

#include "fuzz.h"

#include <string.h>

#include "util.h"
#include "vhu-vq.h"

/* What RX buffers hold before the device writes: what it must leave alone
 * past what it used. */
#define CANARY 0xee

struct nh_chain {
    int n_segs;
    bool indirect;
    uint32_t seg_len[VHU_FUZZ_NH_MAX_SEGS];
    uint64_t seg_gpa[VHU_FUZZ_NH_MAX_SEGS];
    uint64_t table_gpa;         /* Indirect table, if 'indirect'. */
    uint32_t total;             /* Bytes in all its buffers. */
    uint16_t first;             /* Its first descriptor or position. */
    uint16_t n_descs;           /* Descriptors of the ring it takes. */
};

/* Where an enqueue should have put each chain. */
struct nh_use {
    int pkt;                    /* Packet it holds part of, or -1. */
    uint32_t len;               /* Bytes written into it. */
    uint16_t n_bufs;            /* First chain of a packet: how many. */
};

struct nh_case {
    uint8_t cfg;
    uint32_t hdr_len;
    bool enqueue;
    int n_chains;
    struct nh_chain chains[VHU_FUZZ_NH_MAX_CHAINS];
    struct vhu_fuzz_guest guest;
    struct vhu_vq vq;
    void *ring;                 /* Split table or packed ring. */
    struct vhu_vring_avail *avail;
    struct vhu_vring_used *used;
    struct vhu_vring_packed_event *events;
};

static uint32_t
gap_len(uint8_t ctl)
{
    static const uint32_t gaps[4] = { 0, 1, 7, 64 };

    return gaps[ctl >> 6];
}

/* Reads the chains and lays them out in guest memory: indirect tables
 * first (so that none spans two regions), then every buffer, each after
 * its chain's gap.  Keeps the chains that fit in VHU_FUZZ_NH_MAX_MEM bytes
 * (reading the others all the same).  Returns the bytes of tables. */
static uint64_t
nh_read_chains(struct nh_case *c, struct vhu_fuzz_input *in, int n_chains,
               uint64_t *totalp)
{
    uint64_t tables = 0;
    uint64_t cursor = 0;
    bool full = false;

    c->n_chains = 0;
    for (int k = 0; k < n_chains; k++) {
        struct nh_chain *ch = &c->chains[c->n_chains];
        uint8_t ctl = vhu_fuzz_u8(in);
        uint64_t need = 0;

        ch->n_segs = 1 + ctl % VHU_FUZZ_NH_MAX_SEGS;
        ch->indirect = (c->cfg & VHU_FUZZ_NH_INDIRECT
                        && ctl & VHU_FUZZ_NH_CHAIN_INDIRECT);
        ch->total = 0;
        for (int j = 0; j < ch->n_segs; j++) {
            ch->seg_len[j] = vhu_fuzz_nh_seg_len(vhu_fuzz_u16(in));
            need += gap_len(ctl) + ch->seg_len[j];
        }
        if (ch->indirect) {
            need += ch->n_segs * sizeof(struct vhu_vring_desc);
        }
        if (full || (k && tables + cursor + need > VHU_FUZZ_NH_MAX_MEM)) {
            full = true;
            continue;
        }

        for (int j = 0; j < ch->n_segs; j++) {
            cursor += gap_len(ctl);
            ch->seg_gpa[j] = cursor;        /* Offset, for now. */
            cursor += ch->seg_len[j];
            ch->total += ch->seg_len[j];
        }
        if (ch->indirect) {
            ch->table_gpa = VHU_FUZZ_GPA_BASE + tables;
            tables += ch->n_segs * sizeof(struct vhu_vring_desc);
        }
        c->n_chains++;
    }
    for (int k = 0; k < c->n_chains; k++) {
        for (int j = 0; j < c->chains[k].n_segs; j++) {
            c->chains[k].seg_gpa[j] += VHU_FUZZ_GPA_BASE + tables;
        }
    }
    *totalp = tables + cursor;
    return tables;
}

/* Puts descriptor 'j' of chain 'ch' in 'd' (a split descriptor, whose
 * 'next' is 'next'), or in 'pd' (a packed one, with 'flags' for the
 * ring). */
static void
nh_split_desc(const struct nh_chain *ch, int j, bool write, uint16_t next,
              struct vhu_vring_desc *d)
{
    bool more = j + 1 < ch->n_segs;

    d->addr = ch->seg_gpa[j];
    d->len = ch->seg_len[j];
    d->flags = ((write ? VHU_VRING_DESC_F_WRITE : 0)
                | (more ? VHU_VRING_DESC_F_NEXT : 0));
    d->next = more ? next : 0;
}

static void
nh_setup_split(struct nh_case *c, struct vhu_vq *vq, uint32_t n_descs)
    VHU_VQ_REQUIRES(vq)
{
    uint32_t qsize = 1;

    while (qsize < n_descs) {
        qsize *= 2;
    }

    struct vhu_vring_desc *desc = xzalloc(VHU_VRING_DESC_BYTES(qsize));
    c->avail = xzalloc(VHU_VRING_AVAIL_BYTES(qsize));
    c->used = xzalloc(VHU_VRING_USED_BYTES(qsize));
    c->ring = desc;

    uint16_t next = 0;
    for (int k = 0; k < c->n_chains; k++) {
        struct nh_chain *ch = &c->chains[k];

        ch->first = next;
        if (ch->indirect) {
            desc[next++] = (struct vhu_vring_desc) {
                .addr = ch->table_gpa,
                .len = ch->n_segs * sizeof *desc,
                .flags = VHU_VRING_DESC_F_INDIRECT,
            };
            for (int j = 0; j < ch->n_segs; j++) {
                struct vhu_vring_desc d;

                nh_split_desc(ch, j, c->enqueue, j + 1, &d);
                vhu_fuzz_guest_write(&c->guest, ch->table_gpa + j * sizeof d,
                                     &d, sizeof d);
            }
        } else {
            for (int j = 0; j < ch->n_segs; j++, next++) {
                nh_split_desc(ch, j, c->enqueue, next + 1, &desc[next]);
            }
        }
        ch->n_descs = next - ch->first;
        c->avail->ring[k] = ch->first;
    }
    c->avail->idx = c->n_chains;

    vq->size = qsize;
    vq->mask = qsize - 1;
    vq->desc = desc;
    vq->avail = c->avail;
    vq->used = c->used;
    vq->ready = vhu_vq_start_split(vq);
}

static void
nh_setup_packed(struct nh_case *c, struct vhu_vq *vq, uint32_t n_descs)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_vring_packed_desc *ring;
    uint16_t avail = VHU_VRING_PACKED_DESC_F_AVAIL;
    uint16_t write = c->enqueue ? VHU_VRING_DESC_F_WRITE : 0;

    ring = xzalloc(VHU_VRING_DESC_BYTES(n_descs));
    c->ring = ring;
    c->events = xzalloc(2 * sizeof *c->events);

    uint16_t pos = 0;
    for (int k = 0; k < c->n_chains; k++) {
        struct nh_chain *ch = &c->chains[k];

        ch->first = pos;
        if (ch->indirect) {
            ring[pos++] = (struct vhu_vring_packed_desc) {
                .addr = ch->table_gpa,
                .len = ch->n_segs * sizeof *ring,
                .id = k,
                .flags = avail | VHU_VRING_DESC_F_INDIRECT,
            };
            for (int j = 0; j < ch->n_segs; j++) {
                struct vhu_vring_packed_desc d = {
                    .addr = ch->seg_gpa[j],
                    .len = ch->seg_len[j],
                    .flags = write,
                };

                vhu_fuzz_guest_write(&c->guest, ch->table_gpa + j * sizeof d,
                                     &d, sizeof d);
            }
        } else {
            for (int j = 0; j < ch->n_segs; j++) {
                bool more = j + 1 < ch->n_segs;

                ring[pos++] = (struct vhu_vring_packed_desc) {
                    .addr = ch->seg_gpa[j],
                    .len = ch->seg_len[j],
                    .id = k,
                    .flags = (avail | write
                              | (more ? VHU_VRING_DESC_F_NEXT : 0)),
                };
            }
        }
        ch->n_descs = pos - ch->first;
    }

    vq->packed = true;
    vq->size = n_descs;
    vq->packed_desc = ring;
    vq->driver_event = &c->events[0];
    vq->device_event = &c->events[1];
    vq->ready = vhu_vq_start_packed(vq);
}

/* Dequeue: the bytes of chain 'k' are a header and a packet, both of the
 * pattern of packet 'k', cut at its buffer lengths. */
static void
nh_fill_tx(struct nh_case *c)
{
    for (int k = 0; k < c->n_chains; k++) {
        const struct nh_chain *ch = &c->chains[k];
        uint32_t i = 0;

        for (int j = 0; j < ch->n_segs; j++) {
            uint8_t *b = xmalloc(ch->seg_len[j]);

            vhu_fuzz_pattern_fill(b, k, i, ch->seg_len[j]);
            i += ch->seg_len[j];
            vhu_fuzz_guest_write(&c->guest, ch->seg_gpa[j], b,
                                 ch->seg_len[j]);
            free(b);
        }
    }
}

static void
nh_dequeue(struct nh_case *c, struct vhu_vq *vq, uint32_t buf_size)
    VHU_VQ_REQUIRES(vq)
{
    int n = c->n_chains;
    struct vhu_buf *bufs = xcalloc(n, sizeof *bufs);
    int expected[VHU_FUZZ_NH_MAX_CHAINS];
    int n_expected = 0;

    for (int k = 0; k < n; k++) {
        const struct nh_chain *ch = &c->chains[k];

        bufs[k].data = xmalloc(buf_size);
        bufs[k].size = buf_size;
        if (ch->total > c->hdr_len && ch->total - c->hdr_len <= buf_size) {
            expected[n_expected++] = k;
        }
    }
    nh_fill_tx(c);

    /* One burst for all, or a first one for half of them. */
    int got = 0;
    if (c->cfg & VHU_FUZZ_NH_TWO_BURSTS) {
        int n1 = MAX(1, n / 2);

        got = (vq->packed ? vhu_vq_dequeue_packed(vq, bufs, n1)
               : vhu_vq_dequeue_split(vq, bufs, n1));
        VHU_FUZZ_CHECK(got == MIN(n1, n_expected));
    }
    got += (vq->packed ? vhu_vq_dequeue_packed(vq, bufs + got, n - got)
            : vhu_vq_dequeue_split(vq, bufs + got, n - got));
    VHU_FUZZ_CHECK(!vhu_vq_is_broken(vq));
    VHU_FUZZ_CHECK(got == n_expected);
    VHU_FUZZ_CHECK(vq->stats.packets == n_expected);
    VHU_FUZZ_CHECK(vq->stats.dropped == n - n_expected);

    for (int p = 0; p < got; p++) {
        const struct nh_chain *ch = &c->chains[expected[p]];
        const uint8_t *data = bufs[p].data;

        VHU_FUZZ_CHECK(bufs[p].len == ch->total - c->hdr_len);
        VHU_FUZZ_CHECK(vhu_fuzz_pattern_equals(data, expected[p],
                                               c->hdr_len, bufs[p].len));
    }
    for (int k = 0; k < n; k++) {
        free(bufs[k].data);
    }
    free(bufs);
}

/* Works out where an enqueue of 'n_pkts' packets of 'lens' must put them,
 * as the spec and the engine's rules say: a packet fills chains in order,
 * header first; the first chain must hold the header; without mergeable
 * buffers the whole packet must fit its one chain.  Returns how many
 * packets fit, before the first that does not. */
static int
nh_plan_rx(const struct nh_case *c, const struct vhu_vq *vq,
           const uint32_t *lens, int n_pkts, struct nh_use *use)
    VHU_VQ_REQUIRES(vq)
{
    bool mrg = vq->mrg_rxbuf;
    int next = 0;
    int p;

    for (int k = 0; k < c->n_chains; k++) {
        use[k].pkt = -1;
        use[k].len = 0;
        use[k].n_bufs = 0;
    }
    for (p = 0; p < n_pkts; p++) {
        int k = next;

        if (k == c->n_chains || c->chains[k].total < c->hdr_len) {
            break;
        }
        uint32_t left = lens[p];
        uint32_t n = MIN(left, c->chains[k].total - c->hdr_len);
        if (!mrg && n < left) {
            break;
        }
        use[k] = (struct nh_use) { p, c->hdr_len + n, 1 };
        left -= n;
        for (k++; left && k < c->n_chains; k++) {
            n = MIN(left, c->chains[k].total);
            use[k] = (struct nh_use) { p, n, 0 };
            left -= n;
        }
        if (left) {
            for (int j = next; j < k; j++) {
                use[j].pkt = -1;
            }
            break;
        }
        use[next].n_bufs = k - next;
        next = k;
    }
    return p;
}

/* Reads the first 'len' bytes that chain 'ch' holds into 'dst' and checks
 * that its bytes past them are still CANARY. */
static void
nh_read_rx(const struct nh_case *c, const struct nh_chain *ch, uint32_t len,
           uint8_t *dst)
{
    for (int j = 0; j < ch->n_segs; j++) {
        uint32_t seg = ch->seg_len[j];
        uint8_t *b = xmalloc(seg);
        uint32_t n = MIN(len, seg);

        vhu_fuzz_guest_read(&c->guest, ch->seg_gpa[j], b, seg);
        memcpy(dst, b, n);
        for (uint32_t i = n; i < seg; i++) {
            VHU_FUZZ_CHECK(b[i] == CANARY);
        }
        free(b);
        dst += n;
        len -= n;
    }
}

/* Checks the used entry or descriptor of chain 'k', which should hold
 * 'len' bytes. */
static void
nh_check_used(const struct nh_case *c, const struct vhu_vq *vq, int k,
              uint32_t len)
    VHU_VQ_REQUIRES(vq)
{
    if (vq->packed) {
        const struct vhu_vring_packed_desc *d
            = &((const struct vhu_vring_packed_desc *) c->ring)
              [c->chains[k].first];

        VHU_FUZZ_CHECK(d->flags == (VHU_VRING_PACKED_DESC_F_AVAIL
                                    | VHU_VRING_PACKED_DESC_F_USED
                                    | VHU_VRING_DESC_F_WRITE));
        VHU_FUZZ_CHECK(d->id == k);
        VHU_FUZZ_CHECK(d->len == len);
    } else {
        const struct vhu_vring_used_elem *e = &c->used->ring[k];

        VHU_FUZZ_CHECK(e->id == c->chains[k].first);
        VHU_FUZZ_CHECK(e->len == len);
    }
}

static void
nh_enqueue(struct nh_case *c, struct vhu_vq *vq, struct vhu_fuzz_input *in)
    VHU_VQ_REQUIRES(vq)
{
    int n_pkts = 1 + vhu_fuzz_u8(in) % 64;
    struct vhu_buf pkts[64];
    uint32_t lens[64];

    for (int p = 0; p < n_pkts; p++) {
        uint8_t *data;

        lens[p] = vhu_fuzz_u16(in) % (VHU_FUZZ_NH_MAX_LEN + 1);
        data = xmalloc(MAX(lens[p], 1));
        vhu_fuzz_pattern_fill(data, p, 0, lens[p]);
        pkts[p] = (struct vhu_buf) { data, lens[p], lens[p] };
    }
    for (int k = 0; k < c->n_chains; k++) {
        const struct nh_chain *ch = &c->chains[k];

        for (int j = 0; j < ch->n_segs; j++) {
            uint8_t *b = xmalloc(ch->seg_len[j]);

            memset(b, CANARY, ch->seg_len[j]);
            vhu_fuzz_guest_write(&c->guest, ch->seg_gpa[j], b,
                                 ch->seg_len[j]);
            free(b);
        }
    }

    struct nh_use use[VHU_FUZZ_NH_MAX_CHAINS];
    int n_fit = nh_plan_rx(c, vq, lens, n_pkts, use);

    int got = 0;
    if (c->cfg & VHU_FUZZ_NH_TWO_BURSTS) {
        int n1 = MAX(1, n_pkts / 2);

        got = (vq->packed ? vhu_vq_enqueue_packed(vq, pkts, n1)
               : vhu_vq_enqueue_split(vq, pkts, n1));
        VHU_FUZZ_CHECK(got == MIN(n1, n_fit));
    }
    got += (vq->packed
            ? vhu_vq_enqueue_packed(vq, pkts + got, n_pkts - got)
            : vhu_vq_enqueue_split(vq, pkts + got, n_pkts - got));
    VHU_FUZZ_CHECK(!vhu_vq_is_broken(vq));
    VHU_FUZZ_CHECK(got == n_fit);
    VHU_FUZZ_CHECK(vq->stats.packets == n_fit);

    int n_used = 0;
    for (int k = 0; k < c->n_chains && use[k].pkt >= 0; k++) {
        nh_check_used(c, vq, k, use[k].len);
        n_used++;
    }
    if (vq->packed) {
        uint32_t pos = 0;

        for (int k = 0; k < n_used; k++) {
            pos += c->chains[k].n_descs;
        }
        VHU_FUZZ_CHECK(vq->last_used_idx == pos % vq->size);
        VHU_FUZZ_CHECK(vq->used_wrap == (pos < vq->size));
    } else {
        VHU_FUZZ_CHECK(c->used->idx == n_used);
    }

    /* What the guest reads: each packet behind its header, across its
     * buffers. */
    for (int k = 0; k < n_used; k = k + use[k].n_bufs) {
        int p = use[k].pkt;
        uint16_t n_bufs = use[k].n_bufs;
        uint32_t total = c->hdr_len + lens[p];
        uint8_t *got_bytes = xmalloc(total);
        uint32_t ofs = 0;

        VHU_FUZZ_CHECK(n_bufs >= 1);
        for (int j = k; j < k + n_bufs; j++) {
            VHU_FUZZ_CHECK(use[j].pkt == p);
            nh_read_rx(c, &c->chains[j], use[j].len, got_bytes + ofs);
            ofs += use[j].len;
        }
        VHU_FUZZ_CHECK(ofs == total);

        struct vhu_virtio_net_hdr hdr;
        memset(&hdr, 0, sizeof hdr);
        memcpy(&hdr, got_bytes, c->hdr_len);
        VHU_FUZZ_CHECK(!hdr.flags && !hdr.gso_type && !hdr.hdr_len
                       && !hdr.gso_size && !hdr.csum_start
                       && !hdr.csum_offset);
        if (c->hdr_len == VHU_VIRTIO_NET_HDR_LEN) {
            VHU_FUZZ_CHECK(hdr.num_buffers == n_bufs);
        }
        VHU_FUZZ_CHECK(vhu_fuzz_pattern_equals(got_bytes + c->hdr_len, p, 0,
                                               lens[p]));
        free(got_bytes);
    }

    for (int p = 0; p < n_pkts; p++) {
        free(pkts[p].data);
    }
}

static void
run_net_hdr(const uint8_t *data, size_t size)
{
    struct vhu_fuzz_input in;
    struct nh_case *c = xzalloc(sizeof *c);

    vhu_fuzz_input_init(&in, data, size);
    c->cfg = vhu_fuzz_u8(&in);
    int n_chains = 1 + vhu_fuzz_u8(&in) % VHU_FUZZ_NH_MAX_CHAINS;
    uint32_t buf_size = 1 + vhu_fuzz_u16(&in) % VHU_FUZZ_NH_MAX_LEN;
    uint16_t split = vhu_fuzz_u16(&in);

    c->enqueue = c->cfg & VHU_FUZZ_NH_ENQUEUE;
    c->hdr_len = (c->cfg & (VHU_FUZZ_NH_HDR12 | VHU_FUZZ_NH_MRG_RXBUF)
                  ? VHU_VIRTIO_NET_HDR_LEN : VHU_VIRTIO_NET_HDR_LEN_LEGACY);

    uint64_t total;
    uint64_t tables = nh_read_chains(c, &in, n_chains, &total);
    uint64_t size0 = total, size1 = 0;
    if (c->cfg & VHU_FUZZ_NH_TWO_REGIONS) {
        size0 = tables + split % (total - tables + 1);
        if (!size0) {
            size0 = total;
        }
        size1 = total - size0;
    }
    vhu_fuzz_guest_init(&c->guest, size0, size1, false, split & 1);

    struct vhu_vq *vq = &c->vq;
    vhu_fuzz_vq_init(vq, c->guest.mem);
    vq->hdr_len = c->hdr_len;
    vq->mrg_rxbuf = c->cfg & VHU_FUZZ_NH_MRG_RXBUF;
    vq->indirect = c->cfg & VHU_FUZZ_NH_INDIRECT;
    vq->in_order = c->cfg & VHU_FUZZ_NH_IN_ORDER;

    uint32_t n_descs = 0;
    for (int k = 0; k < c->n_chains; k++) {
        n_descs += c->chains[k].indirect ? 1 : c->chains[k].n_segs;
    }
    if (c->cfg & VHU_FUZZ_NH_PACKED) {
        nh_setup_packed(c, vq, n_descs);
    } else {
        nh_setup_split(c, vq, n_descs);
    }
    VHU_FUZZ_CHECK(vq->ready);

    if (c->enqueue) {
        nh_enqueue(c, vq, &in);
    } else {
        nh_dequeue(c, vq, buf_size);
    }

    vhu_vq_leave(vq);
    vhu_fuzz_guest_destroy(&c->guest);
    free(c->ring);
    free(c->avail);
    free(c->used);
    free(c->events);
    free(c);
}

const struct vhu_fuzz_target vhu_fuzz_net_hdr = {
    "net-hdr", "virtio-net header and packet bytes, with an oracle",
    NULL, run_net_hdr,
};

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

/* What the fuzz targets share: reading inputs, guest memory for the ring
 * targets, checks. */

#include <config.h>

#include "fuzz.h"

#include <string.h>
#include <sys/eventfd.h>

#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vhu-vq.h"

void
vhu_fuzz_init(bool verbose)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    if (verbose) {
        vlog_set_levels(NULL, VLF_CONSOLE, VLL_DBG);
    }
}

void
vhu_fuzz_check_failed(const char *file, int line, const char *what)
{
    ovs_abort(0, "%s:%d: fuzz check failed: %s", file, line, what);
}

/* Reading an input. */

void
vhu_fuzz_input_init(struct vhu_fuzz_input *in, const uint8_t *data,
                    size_t size)
{
    in->data = data;
    in->size = size;
    in->ofs = 0;
}

bool
vhu_fuzz_input_done(const struct vhu_fuzz_input *in)
{
    return in->ofs >= in->size;
}

/* Copies the next 'n' bytes of 'in' to 'dst', zeros past its end. */
void
vhu_fuzz_bytes(struct vhu_fuzz_input *in, void *dst, size_t n)
{
    size_t left = in->ofs < in->size ? in->size - in->ofs : 0;
    size_t k = MIN(n, left);

    if (dst) {
        memcpy(dst, in->data + in->ofs, k);
        memset((uint8_t *) dst + k, 0, n - k);
    }
    in->ofs += k;
    if (k < n) {
        in->ofs = in->size;
    }
}

uint8_t
vhu_fuzz_u8(struct vhu_fuzz_input *in)
{
    uint8_t x;

    vhu_fuzz_bytes(in, &x, sizeof x);
    return x;
}

uint16_t
vhu_fuzz_u16(struct vhu_fuzz_input *in)
{
    uint8_t b[2];

    vhu_fuzz_bytes(in, b, sizeof b);
    return b[0] | b[1] << 8;
}

uint32_t
vhu_fuzz_u32(struct vhu_fuzz_input *in)
{
    uint8_t b[4];

    vhu_fuzz_bytes(in, b, sizeof b);
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t) b[3] << 24;
}

void
vhu_fuzz_put_u8(struct ofpbuf *b, uint8_t x)
{
    ofpbuf_put(b, &x, 1);
}

void
vhu_fuzz_put_u16(struct ofpbuf *b, uint16_t x)
{
    uint8_t le[2] = { x, x >> 8 };

    ofpbuf_put(b, le, sizeof le);
}

void
vhu_fuzz_put_u32(struct ofpbuf *b, uint32_t x)
{
    uint8_t le[4] = { x, x >> 8, x >> 16, x >> 24 };

    ofpbuf_put(b, le, sizeof le);
}

void
vhu_fuzz_rng_init(struct vhu_fuzz_rng *rng, uint64_t seed)
{
    rng->state = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
}

/* xorshift64*. */
uint32_t
vhu_fuzz_rng_next(struct vhu_fuzz_rng *rng)
{
    uint64_t x = rng->state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return (x * 0x2545f4914f6cdd1dULL) >> 32;
}

/* Packet bytes. */

#define PATTERN_SIZE 65521

static const uint8_t *
pattern_table(void)
{
    static uint8_t *table;

    if (!table) {
        struct vhu_fuzz_rng rng;

        table = xmalloc(PATTERN_SIZE);
        vhu_fuzz_rng_init(&rng, 1);
        for (size_t i = 0; i < PATTERN_SIZE; i++) {
            table[i] = vhu_fuzz_rng_next(&rng);
        }
    }
    return table;
}

/* Calls 'cb' for the pieces of the pattern of packet 'seq' from byte
 * 'start' on, 'len' bytes in all, until it returns false. */
static bool
pattern_walk(uint32_t seq, uint32_t start, size_t len,
             bool (*cb)(const uint8_t *piece, size_t n, void *aux),
             void *aux)
{
    const uint8_t *table = pattern_table();
    size_t pos = ((uint64_t) seq * 4099 + start) % PATTERN_SIZE;

    while (len) {
        size_t n = MIN(len, PATTERN_SIZE - pos);

        if (!cb(table + pos, n, aux)) {
            return false;
        }
        len -= n;
        pos = 0;
    }
    return true;
}

static bool
pattern_copy_cb(const uint8_t *piece, size_t n, void *dstp_)
{
    uint8_t **dstp = dstp_;

    memcpy(*dstp, piece, n);
    *dstp += n;
    return true;
}

static bool
pattern_cmp_cb(const uint8_t *piece, size_t n, void *pp_)
{
    const uint8_t **pp = pp_;
    bool same = !memcmp(*pp, piece, n);

    *pp += n;
    return same;
}

void
vhu_fuzz_pattern_fill(void *dst, uint32_t seq, uint32_t start, size_t len)
{
    uint8_t *p = dst;

    pattern_walk(seq, start, len, pattern_copy_cb, &p);
}

bool
vhu_fuzz_pattern_equals(const void *p_, uint32_t seq, uint32_t start,
                        size_t len)
{
    const uint8_t *p = p_;

    return pattern_walk(seq, start, len, pattern_cmp_cb, &p);
}

/* Guest memory. */

void
vhu_fuzz_guest_init(struct vhu_fuzz_guest *g, uint64_t size0, uint64_t size1,
                    bool gap, bool swap)
{
    g->n = size1 ? 2 : 1;
    g->size[0] = size0;
    g->size[1] = size1;
    g->gpa[0] = VHU_FUZZ_GPA_BASE;
    g->gpa[1] = VHU_FUZZ_GPA_BASE + size0 + (gap ? VHU_FUZZ_GPA_GAP : 0);

    /* Only as many entries as there are regions, so that a translation
     * that looked beyond 'n_regions' would be caught. */
    size_t mem_size = (sizeof *g->mem - sizeof g->mem->regions
                       + g->n * sizeof g->mem->regions[0]);
    g->mem = xzalloc(mem_size);
    g->mem->n_regions = g->n;
    for (size_t i = 0; i < g->n; i++) {
        struct vhu_mem_region *r = &g->mem->regions[swap ? g->n - 1 - i : i];

        g->buf[i] = xzalloc(g->size[i]);
        r->guest_phys_addr = g->gpa[i];
        r->size = g->size[i];
        r->userspace_addr = 0x7f0000000000ULL + g->gpa[i];
        r->host_addr = g->buf[i];
        r->map = NULL;
        r->n_adds = 1;
    }
}

void
vhu_fuzz_guest_destroy(struct vhu_fuzz_guest *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->buf[i]);
    }
    free(g->mem);
}

/* Copies 'len' bytes between guest-physical address 'gpa' and our buffer
 * 'p', region by region: into the guest if 'write'.  Every byte must be in
 * guest memory (the targets only ask for bytes that they placed there). */
static void
guest_copy(const struct vhu_fuzz_guest *g, uint64_t gpa, void *p, size_t len,
           bool write)
{
    uint8_t *q = p;

    while (len) {
        size_t i;

        for (i = 0; i < g->n; i++) {
            if (gpa >= g->gpa[i] && gpa - g->gpa[i] < g->size[i]) {
                break;
            }
        }
        VHU_FUZZ_CHECK(i < g->n);

        size_t ofs = gpa - g->gpa[i];
        size_t n = MIN(len, g->size[i] - ofs);
        if (write) {
            memcpy(g->buf[i] + ofs, q, n);
        } else {
            memcpy(q, g->buf[i] + ofs, n);
        }
        q += n;
        gpa += n;
        len -= n;
    }
}

void
vhu_fuzz_guest_read(const struct vhu_fuzz_guest *g, uint64_t gpa, void *dst,
                    size_t len)
{
    guest_copy(g, gpa, dst, len, false);
}

void
vhu_fuzz_guest_write(const struct vhu_fuzz_guest *g, uint64_t gpa,
                     const void *src, size_t len)
{
    guest_copy(g, gpa, CONST_CAST(void *, src), len, true);
}

void
vhu_fuzz_vq_init(struct vhu_vq *vq, const struct vhu_mem *mem)
{
    /* The bursts keep their ring record up to date as they go. */
    static struct vhu_ring_record record;

    memset(vq, 0, sizeof *vq);
    memset(&record, 0, sizeof record);
    atomic_init(&vq->gate.busy, false);
    atomic_init(&vq->faults, 0);
    /* The target plays the control path and the bursts' thread at once:
     * it holds the gate from here until it has done with the queue. */
    vhu_vq_stop(vq);
    vq->record = &record;
    vq->mem = mem;
    vq->call_fd = -1;
    vq->avail_wrap = vq->used_wrap = true;
    vq->name = "fuzz";
    vq->index = 1;
}

int
vhu_fuzz_call_fd(void)
{
    static int fd = -1;

    if (fd < 0) {
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        VHU_FUZZ_CHECK(fd >= 0);
    }
    return fd;
}

void
vhu_fuzz_check_fault(const struct vhu_vq *vq)
{
    unsigned long long int faults = vhu_vq_faults(vq);
    enum vhu_vq_fault fault = vhu_vq_fault_now(faults);

    VHU_FUZZ_CHECK(fault < VHU_VQ_N_FAULTS);
    VHU_FUZZ_CHECK(strcmp(vhu_vq_fault_name(fault), "unknown fault"));
    /* A queue breaks once per fault, and is broken now if it ever broke
     * (nothing here sets it up again). */
    VHU_FUZZ_CHECK(vhu_vq_n_faults(faults) <= 1);
    VHU_FUZZ_CHECK((fault != VHU_VQ_OK) == (vhu_vq_n_faults(faults) == 1));
}

/* The ring targets' header. */

void
vhu_fuzz_ring_hdr_read(struct vhu_fuzz_input *in, struct vhu_fuzz_ring_hdr *h)
{
    h->features = vhu_fuzz_u8(in);
    h->layout = vhu_fuzz_u8(in);
    h->size = vhu_fuzz_u16(in);
    h->base = vhu_fuzz_u16(in);
    h->guest_idx = vhu_fuzz_u16(in);
    h->guest_flags = vhu_fuzz_u16(in);
    h->used_idx = vhu_fuzz_u16(in);
    h->event = vhu_fuzz_u16(in);
    for (int i = 0; i < 2; i++) {
        h->region_size[i] = vhu_fuzz_u16(in);
        h->region_fill[i] = vhu_fuzz_u16(in);
    }
}

void
vhu_fuzz_ring_hdr_put(struct ofpbuf *b, const struct vhu_fuzz_ring_hdr *h)
{
    vhu_fuzz_put_u8(b, h->features);
    vhu_fuzz_put_u8(b, h->layout);
    vhu_fuzz_put_u16(b, h->size);
    vhu_fuzz_put_u16(b, h->base);
    vhu_fuzz_put_u16(b, h->guest_idx);
    vhu_fuzz_put_u16(b, h->guest_flags);
    vhu_fuzz_put_u16(b, h->used_idx);
    vhu_fuzz_put_u16(b, h->event);
    for (int i = 0; i < 2; i++) {
        vhu_fuzz_put_u16(b, h->region_size[i]);
        vhu_fuzz_put_u16(b, h->region_fill[i]);
    }
}

uint64_t
vhu_fuzz_desc_addr(uint16_t addr, uint16_t flags)
{
    if (flags & VHU_FUZZ_DESC_WRAP) {
        return UINT64_MAX - addr;
    } else if (flags & VHU_FUZZ_DESC_BELOW) {
        return VHU_FUZZ_GPA_BASE - 1 - addr;
    }
    return VHU_FUZZ_GPA_BASE + addr;
}

uint32_t
vhu_fuzz_desc_len(uint16_t len, uint16_t flags)
{
    return flags & VHU_FUZZ_DESC_HUGE ? 0xffff0000u | len : len;
}

void
vhu_fuzz_guest_from_hdr(struct vhu_fuzz_guest *g, struct vhu_fuzz_input *in,
                        const struct vhu_fuzz_ring_hdr *h)
{
    bool two = h->features & VHU_FUZZ_F_TWO_REGIONS;

    vhu_fuzz_guest_init(g, h->region_size[0] + 1,
                        two ? h->region_size[1] + 1 : 0,
                        h->layout & VHU_FUZZ_L_GAP,
                        h->layout & VHU_FUZZ_L_SWAP);
    for (size_t i = 0; i < g->n; i++) {
        vhu_fuzz_bytes(in, g->buf[i], MIN(h->region_fill[i], g->size[i]));
    }
}

void
vhu_fuzz_vq_set_features(struct vhu_vq *vq,
                         const struct vhu_fuzz_ring_hdr *h)
{
    uint8_t f = h->features;

    vq->hdr_len = (f & (VHU_FUZZ_F_HDR12 | VHU_FUZZ_F_MRG_RXBUF)
                   ? VHU_VIRTIO_NET_HDR_LEN : VHU_VIRTIO_NET_HDR_LEN_LEGACY);
    vq->mrg_rxbuf = f & VHU_FUZZ_F_MRG_RXBUF;
    vq->event_idx = f & VHU_FUZZ_F_EVENT_IDX;
    vq->indirect = f & VHU_FUZZ_F_INDIRECT;
    vq->notify_on_empty = f & VHU_FUZZ_F_NOTIFY_ON_EMPTY;
    vq->in_order = f & VHU_FUZZ_F_IN_ORDER;
    vq->call_fd = f & VHU_FUZZ_F_CALL ? vhu_fuzz_call_fd() : -1;
}

/* Buffers for bursts. */

struct vhu_buf *
vhu_fuzz_bufs_alloc(struct vhu_fuzz_rng *rng, int n)
{
    struct vhu_buf *bufs = xcalloc(n, sizeof *bufs);

    for (int i = 0; i < n; i++) {
        uint32_t r = vhu_fuzz_rng_next(rng);
        uint32_t size;

        switch (r % 8) {
        case 0:
            size = 1 + (r >> 8) % 64;
            break;
        case 1:
            size = 1 + (r >> 8) % 9728;
            break;
        default:
            size = 2048;
            break;
        }
        bufs[i].data = xmalloc(size);
        bufs[i].size = size;
        bufs[i].len = UINT32_MAX;
    }
    return bufs;
}

struct vhu_buf *
vhu_fuzz_pkts_alloc(struct vhu_fuzz_rng *rng, int n, uint32_t seq)
{
    struct vhu_buf *pkts = xcalloc(n, sizeof *pkts);

    for (int i = 0; i < n; i++) {
        uint32_t r = vhu_fuzz_rng_next(rng);
        uint32_t len;

        switch (r % 8) {
        case 0:
            len = (r >> 8) % 64;
            break;
        case 1:
            len = (r >> 8) % 9729;
            break;
        case 2:
            len = 9728;
            break;
        default:
            len = 60 + (r >> 8) % 1455;
            break;
        }

        uint8_t *data = xmalloc(MAX(len, 1));
        vhu_fuzz_pattern_fill(data, seq + i, 0, len);
        pkts[i].data = data;
        pkts[i].len = pkts[i].size = len;
    }
    return pkts;
}

void
vhu_fuzz_bufs_free(struct vhu_buf *bufs, int n)
{
    for (int i = 0; i < n; i++) {
        free(bufs[i].data);
    }
    free(bufs);
}

/* Checks the first 'n' buffers that a dequeue filled and returns how many
 * bytes they hold. */
uint64_t
vhu_fuzz_bufs_check(const struct vhu_buf *bufs, int n)
{
    uint64_t bytes = 0;

    for (int i = 0; i < n; i++) {
        VHU_FUZZ_CHECK(bufs[i].len > 0 && bufs[i].len <= bufs[i].size);
        bytes += bufs[i].len;
    }
    return bytes;
}

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

#ifndef VHU_FUZZ_H
#define VHU_FUZZ_H 1

/* Fuzz targets of the engine, and what they share.
 *
 * Each target takes one input, a byte string that it decodes into what a
 * hostile or broken frontend could do, drives the engine with it, checks
 * what the engine did, and cleans up after itself: nothing leaks from one
 * input to the next, and the same input always does the same thing.  A
 * check that fails calls abort(), which libFuzzer and the replay driver
 * both report as a finding.
 *
 * The same target code builds into two programs: with clang and libFuzzer
 * (tests/fuzz/fuzz-libfuzzer.c, "make fuzz"), one per target, and with the
 * project's compiler into tests/ovs-vhu-fuzz-replay, which replays saved
 * inputs (the seed corpora and the regression inputs) in "make check".
 *
 * The input formats are below, so that the seed generator
 * (tests/fuzz/fuzz-seeds.c) writes what the targets read.  Every integer is
 * little-endian.  An input that ends early reads as if it went on with
 * zeros, so that every byte string is a valid input. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "openvswitch/compiler.h"
#include "vhu-mem.h"
#include "vhu-vq.h"

struct ofpbuf;

struct vhu_fuzz_target {
    const char *name;
    const char *help;
    void (*init)(void);         /* Once per process, or NULL. */
    void (*run)(const uint8_t *data, size_t size);
};

extern const struct vhu_fuzz_target vhu_fuzz_msg;
extern const struct vhu_fuzz_target vhu_fuzz_split;
extern const struct vhu_fuzz_target vhu_fuzz_packed;
extern const struct vhu_fuzz_target vhu_fuzz_net_hdr;

/* Once per process, before any target's init: quiets logging, unless
 * 'verbose'. */
void vhu_fuzz_init(bool verbose);

/* Aborts, naming the source line, unless 'COND' holds. */
#define VHU_FUZZ_CHECK(COND)                                            \
    ((COND) ? (void) 0 : vhu_fuzz_check_failed(__FILE__, __LINE__, #COND))

void vhu_fuzz_check_failed(const char *file, int line, const char *what)
    OVS_NO_RETURN;

/* Reading an input. */
struct vhu_fuzz_input {
    const uint8_t *data;
    size_t size;
    size_t ofs;
};

void vhu_fuzz_input_init(struct vhu_fuzz_input *, const uint8_t *, size_t);
bool vhu_fuzz_input_done(const struct vhu_fuzz_input *);
uint8_t vhu_fuzz_u8(struct vhu_fuzz_input *);
uint16_t vhu_fuzz_u16(struct vhu_fuzz_input *);
uint32_t vhu_fuzz_u32(struct vhu_fuzz_input *);
void vhu_fuzz_bytes(struct vhu_fuzz_input *, void *, size_t);

/* Writing one (the seed generator). */
void vhu_fuzz_put_u8(struct ofpbuf *, uint8_t);
void vhu_fuzz_put_u16(struct ofpbuf *, uint16_t);
void vhu_fuzz_put_u32(struct ofpbuf *, uint32_t);

/* A small deterministic generator of numbers, for what an input does not
 * spell out (packet lengths, buffer sizes). */
struct vhu_fuzz_rng {
    uint64_t state;
};

void vhu_fuzz_rng_init(struct vhu_fuzz_rng *, uint64_t seed);
uint32_t vhu_fuzz_rng_next(struct vhu_fuzz_rng *);

/* Packet bytes that the oracles write and expect: bytes 'start' to
 * 'start + len' of packet 'seq', copied into 'dst' or compared with 'p'.
 * Different packets differ, and the bytes of one repeat only every 65521
 * (a prime, so no power-of-2 offset matches). */
void vhu_fuzz_pattern_fill(void *dst, uint32_t seq, uint32_t start,
                           size_t len);
bool vhu_fuzz_pattern_equals(const void *p, uint32_t seq, uint32_t start,
                             size_t len);

/* Guest memory for the ring targets: one or two regions, each a buffer of
 * its own from malloc() of exactly its size (so AddressSanitizer catches
 * an access one byte past either), the first at guest-physical address
 * VHU_FUZZ_GPA_BASE and the second right after it, or after a gap in
 * which nothing is mapped.  Frontend-virtual addresses are not used: the
 * ring targets give the queue its ring pointers themselves. */
#define VHU_FUZZ_GPA_BASE 0x100000000ULL
#define VHU_FUZZ_GPA_GAP 0x1000

struct vhu_fuzz_guest {
    struct vhu_mem *mem;        /* Sized for its regions only. */
    size_t n;
    uint8_t *buf[2];
    uint64_t gpa[2];
    uint64_t size[2];
};

void vhu_fuzz_guest_init(struct vhu_fuzz_guest *, uint64_t size0,
                         uint64_t size1, bool gap, bool swap);
void vhu_fuzz_guest_destroy(struct vhu_fuzz_guest *);
void vhu_fuzz_guest_read(const struct vhu_fuzz_guest *, uint64_t gpa,
                         void *dst, size_t len);
void vhu_fuzz_guest_write(const struct vhu_fuzz_guest *, uint64_t gpa,
                          const void *src, size_t len);

/* A queue with nothing set up but its name, no call fd and no fault. */
void vhu_fuzz_vq_init(struct vhu_vq *vq, const struct vhu_mem *)
    OVS_ACQUIRES(vq->gate, vhu_vq_any_gate);

/* An eventfd that the ring targets give as call fd, to exercise the
 * notification paths; nobody reads it. */
int vhu_fuzz_call_fd(void);

/* Checks that 'vq''s fault state makes sense. */
void vhu_fuzz_check_fault(const struct vhu_vq *);

/* Buffers for bursts, each from malloc() of exactly its size: 'n' empty
 * ones of varied sizes for a dequeue, or 'n' packets of varied lengths,
 * numbered from 'seq' on, for an enqueue. */
struct vhu_buf;
struct vhu_buf *vhu_fuzz_bufs_alloc(struct vhu_fuzz_rng *, int n);
struct vhu_buf *vhu_fuzz_pkts_alloc(struct vhu_fuzz_rng *, int n,
                                    uint32_t seq);
void vhu_fuzz_bufs_free(struct vhu_buf *, int n);
uint64_t vhu_fuzz_bufs_check(const struct vhu_buf *, int n);

/* Format of the split and packed ring targets ("split", "packed").
 *
 *   offset  size  field
 *   0       1     features: VHU_FUZZ_F_*
 *   1       1     layout: VHU_FUZZ_L_*
 *   2       2     size: split, 1 << (size % 11); packed, 1 + size % 1024
 *   4       2     base: split, the next avail and used index; packed, the
 *                 next position in bits 0-14 and its wrap counter in 15
 *   6       2     split: avail->idx; packed: the driver's 'off_wrap'
 *   8       2     split: avail->flags; packed: the driver's event flags
 *   10      2     split: used->idx as the queue starts; packed: unused
 *   12      2     split: 'used_event' (after the avail ring)
 *   14      2     region 0: size - 1
 *   16      2     region 0: bytes of content that follow (the rest is 0)
 *   18      2     region 1 (with VHU_FUZZ_F_TWO_REGIONS): size - 1
 *   20      2     region 1: bytes of content
 *   22            'size' descriptors of VHU_FUZZ_DESC_LEN bytes each
 *                 split only: the avail ring, 'size' u16 heads
 *                 region 0's content, then region 1's
 *                 operations, two bytes each (VHU_FUZZ_OP_*), to the end
 *
 * A descriptor is four u16: an address, a length, then for a split ring
 * 'flags' and 'next', for a packed one 'id' and 'flags'.  The address is
 * VHU_FUZZ_GPA_BASE plus the first u16 unless its flags carry
 * VHU_FUZZ_DESC_BELOW (just below guest memory) or VHU_FUZZ_DESC_WRAP (at
 * the top of the address space); the length is the second u16 unless they
 * carry VHU_FUZZ_DESC_HUGE (then it has 0xffff in its upper half).  Those
 * three flags go before the ring sees the descriptor: they are bits that
 * virtio leaves unused.
 *
 * The header is 12 bytes with VHU_FUZZ_F_HDR12 or VHU_FUZZ_F_MRG_RXBUF (as
 * VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF make it), otherwise 10. */
#define VHU_FUZZ_F_INDIRECT 0x01
#define VHU_FUZZ_F_EVENT_IDX 0x02
#define VHU_FUZZ_F_MRG_RXBUF 0x04
#define VHU_FUZZ_F_IN_ORDER 0x08
#define VHU_FUZZ_F_HDR12 0x10
#define VHU_FUZZ_F_NOTIFY_ON_EMPTY 0x20
#define VHU_FUZZ_F_CALL 0x40
#define VHU_FUZZ_F_TWO_REGIONS 0x80

#define VHU_FUZZ_L_GAP 0x01     /* Region 1 not adjacent to region 0. */
#define VHU_FUZZ_L_SWAP 0x02    /* Region 1 first in the table. */

#define VHU_FUZZ_RING_HDR_LEN 22
#define VHU_FUZZ_DESC_LEN 8
#define VHU_FUZZ_DESC_HUGE (1 << 12)
#define VHU_FUZZ_DESC_BELOW (1 << 13)
#define VHU_FUZZ_DESC_WRAP (1 << 14)
#define VHU_FUZZ_DESC_MARKS \
    (VHU_FUZZ_DESC_HUGE | VHU_FUZZ_DESC_BELOW | VHU_FUZZ_DESC_WRAP)

struct vhu_fuzz_ring_hdr {
    uint8_t features;
    uint8_t layout;
    uint16_t size;
    uint16_t base;
    uint16_t guest_idx;
    uint16_t guest_flags;
    uint16_t used_idx;
    uint16_t event;
    uint16_t region_size[2];    /* Size - 1. */
    uint16_t region_fill[2];
};

void vhu_fuzz_ring_hdr_read(struct vhu_fuzz_input *,
                            struct vhu_fuzz_ring_hdr *);
void vhu_fuzz_ring_hdr_put(struct ofpbuf *, const struct vhu_fuzz_ring_hdr *);
uint64_t vhu_fuzz_desc_addr(uint16_t addr, uint16_t flags);
uint32_t vhu_fuzz_desc_len(uint16_t len, uint16_t flags);

/* The guest memory that a ring header asks for, one region or two, each
 * filled with as many bytes of the input as the header says. */
void vhu_fuzz_guest_from_hdr(struct vhu_fuzz_guest *, struct vhu_fuzz_input *,
                             const struct vhu_fuzz_ring_hdr *);

/* Gives 'vq' the features that a ring header asks for (header length,
 * mergeable buffers, event index, indirect descriptors, notify on empty,
 * in order, a call fd), the same for either layout. */
void vhu_fuzz_vq_set_features(struct vhu_vq *vq,
                              const struct vhu_fuzz_ring_hdr *)
    VHU_VQ_REQUIRES(vq);

/* Operations: the first byte's low two bits say which, the second byte is
 * its argument.
 *
 *   DEQUEUE  take up to 1 + arg packets into buffers of varied sizes
 *   ENQUEUE  give 1 + arg packets of varied lengths
 *   PUBLISH  the guest makes more available: split, moves avail->idx on
 *            by arg % (size + 2) (over the ring's size is a fault); packed,
 *            marks the arg % (size + 1) descriptors from the next one we
 *            take available in their lap
 *   POKE     the guest changes what it wrote: by arg % 4, the avail or
 *            driver event flags, 'used_event' or 'off_wrap', a length or a
 *            'next' / 'id' of a descriptor */
#define VHU_FUZZ_OP_DEQUEUE 0
#define VHU_FUZZ_OP_ENQUEUE 1
#define VHU_FUZZ_OP_PUBLISH 2
#define VHU_FUZZ_OP_POKE 3

/* Format of the virtio-net header target ("net-hdr").
 *
 *   offset  size  field
 *   0       1     config: VHU_FUZZ_NH_*
 *   1       1     chains: 1 + byte % 64
 *   2       2     dequeue: each buffer's size, 1 + u16 % 9728
 *   4       2     with VHU_FUZZ_NH_TWO_REGIONS, where region 0 ends in the
 *                 area of buffers: u16 % (its size + 1)
 *   6             per chain: one byte, n_segs - 1 in bits 0-4, indirect
 *                 (VHU_FUZZ_NH_INDIRECT allows it) in bit 5, and the gap
 *                 before each of its buffers in bits 6-7 (0, 1, 7 or 64
 *                 bytes); then n_segs u16, each buffer's length:
 *                 vhu_fuzz_nh_seg_len()
 *                 enqueue only: packets, 1 + byte % 64; their lengths,
 *                 u16 % 9729 each
 *
 * Chains stop where guest memory would pass VHU_FUZZ_NH_MAX_MEM bytes.
 * The header is 12 bytes with VHU_FUZZ_NH_HDR12 or VHU_FUZZ_NH_MRG_RXBUF
 * (as VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF make it), otherwise 10.
 *
 * A dequeue (TX) chain carries a header and a packet, the two as one
 * stream of bytes cut at the buffer lengths wherever they fall; an
 * enqueue (RX) chain is a buffer the guest posts.  Chains lie one after
 * the other in the ring, from position 0 (split: descriptor 0, avail entry
 * 0). */
#define VHU_FUZZ_NH_HDR12 0x01
#define VHU_FUZZ_NH_MRG_RXBUF 0x02
#define VHU_FUZZ_NH_PACKED 0x04
#define VHU_FUZZ_NH_INDIRECT 0x08
#define VHU_FUZZ_NH_IN_ORDER 0x10
#define VHU_FUZZ_NH_ENQUEUE 0x20
#define VHU_FUZZ_NH_TWO_REGIONS 0x40
#define VHU_FUZZ_NH_TWO_BURSTS 0x80

#define VHU_FUZZ_NH_MAX_CHAINS 64
#define VHU_FUZZ_NH_MAX_SEGS 32
#define VHU_FUZZ_NH_MAX_LEN 9728
#define VHU_FUZZ_NH_MAX_MEM (1024 * 1024)
#define VHU_FUZZ_NH_CHAIN_INDIRECT 0x20

/* A buffer length of the net-hdr format: 1 to 128 bytes below 0x8000,
 * 1 to VHU_FUZZ_NH_MAX_LEN from there. */
static inline uint32_t
vhu_fuzz_nh_seg_len(uint16_t v)
{
    return v < 0x8000 ? 1 + v % 128 : 1 + (v - 0x8000) % VHU_FUZZ_NH_MAX_LEN;
}

/* Format of the message target ("msg"): records, one after the other, each
 * starting with a byte whose value % 4 says what it is.
 *
 *   MSG     byte fds, byte base, byte request, byte flags, u16 size, and
 *           'size' bytes of payload if that is no more than any request
 *           has (VHU_MSG_MAX_PAYLOAD), none otherwise: a message written
 *           on the frontend's socket with request, flags and size as
 *           given and fds % 16 fds (VHU_FUZZ_MSG_FDS_*); guest memory fd
 *           number i of the message is memory file (base + i) % 16.
 *   MEM     byte file, u32 offset, u16 length and 'length' bytes: written
 *           into guest memory file 'file' % 16 at 'offset' % its size.
 *   BURST   byte qp, byte n, byte seed: a dequeue burst of up to 1 + n %
 *           64 packets on queue pair qp % 4, an enqueue of as many, and a
 *           look at the backlog.
 *   QUERY   byte: what any thread may ask a device (its state, the
 *           operator's report, a queue's flags and counters).
 *
 * Guest memory files are memfds of VHU_FUZZ_MSG_FILE_SIZE bytes each,
 * created as the input first names them; the device maps them from the
 * fds it receives.  After the last record the frontend's end of the
 * connection shuts down, the device sees it close, and it is destroyed. */
#define VHU_FUZZ_REC_MSG 0
#define VHU_FUZZ_REC_MEM 1
#define VHU_FUZZ_REC_BURST 2
#define VHU_FUZZ_REC_QUERY 3

#define VHU_FUZZ_MSG_FILES 16
#define VHU_FUZZ_MSG_FILE_SIZE (256 * 1024)

#define VHU_FUZZ_MSG_FDS_N 0x0f         /* How many fds. */
#define VHU_FUZZ_MSG_FDS_KIND 0x30      /* What they are: */
#define VHU_FUZZ_MSG_FDS_MEM 0x00       /* guest memory files, */
#define VHU_FUZZ_MSG_FDS_EVENT 0x10     /* eventfds, */
#define VHU_FUZZ_MSG_FDS_EMPTY 0x20     /* empty memfds, */
#define VHU_FUZZ_MSG_FDS_PIPE 0x30      /* read ends of pipes. */
#define VHU_FUZZ_MSG_CUT 0x40           /* Send half, then close. */
#define VHU_FUZZ_MSG_APART 0x80         /* Header, then the rest with the
                                         * fds, in two sends. */

#endif /* fuzz.h */

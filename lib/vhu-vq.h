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

#ifndef VHU_VQ_H
#define VHU_VQ_H 1

/* One virtqueue of a vhost-user device, as the bursts see it.
 *
 * The queue gate
 * ==============
 *
 * Each queue has a gate, 'vq->gate', that one thread at a time holds: a
 * burst, or the control path.  A burst takes it with one atomic
 * compare-and-swap, vhu_vq_try_enter(), or, finding it taken, moves
 * nothing and returns at once; it gives it back with vhu_vq_leave().  The
 * control path takes it with vhu_vq_stop(), which waits for the burst
 * inside, if any, to leave, and changes the queue (its addresses, base,
 * eventfds, the memory table it reads, its teardown at disconnect) only
 * while it holds it.  So a burst never sees a queue half-changed, and once
 * the control path holds the gate no burst is inside the queue and none
 * can move it: GET_VRING_BASE returns an index that stays true, and an old
 * memory table is unmapped only after every queue has stopped using it.
 *
 * The gate is a capability in the sense of clang's thread-safety analysis
 * (OVS_LOCKABLE): the fields that bursts use are OVS_GUARDED_BY() it and
 * every function that reads or writes them is OVS_REQUIRES() it, so code
 * that touches a ring without holding its gate does not compile under
 * clang -Wthread-safety -Werror (tests/thread-safety.at).
 *
 * The ring walkers live in one file per ring layout, with the same function
 * shapes: vhu-vq-split.c (..._split) and vhu-vq-packed.c (..._packed).  A
 * burst picks one by 'packed', once.  What both walk the same way, a
 * descriptor chain, is in vhu-vq-chain.h. */

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/compiler.h"
#include "ovs-atomic.h"
#include "vhu-virtio.h"

struct vhu_mem;

/* A packet buffer that the caller of a burst owns.  For a dequeue, 'data'
 * has room for 'size' bytes and the burst stores the packet's length in
 * 'len'; for an enqueue, 'len' bytes at 'data' are the packet. */
struct vhu_buf {
    void *data;
    uint32_t len;
    uint32_t size;
};

/* Why a queue stopped working: what the guest wrote that it must not. */
enum vhu_vq_fault {
    VHU_VQ_OK,
    VHU_VQ_BAD_AVAIL_IDX,       /* More entries published than the ring. */
    VHU_VQ_BAD_HEAD,            /* Head index beyond the ring. */
    VHU_VQ_BAD_NEXT,            /* 'next' beyond the descriptor table. */
    VHU_VQ_LOOP,                /* Chain longer than its table. */
    VHU_VQ_ZERO_LEN,            /* Zero-length buffer. */
    VHU_VQ_BAD_ADDR,            /* Buffer outside guest memory or wrapping. */
    VHU_VQ_BAD_DIRECTION,       /* Writable buffer to read or vice versa. */
    VHU_VQ_NESTED_INDIRECT,
    VHU_VQ_BAD_INDIRECT,        /* Indirect table misaligned, empty,
                                 * longer than the ring, not negotiated,
                                 * or chained with F_NEXT. */
    VHU_VQ_BAD_WRAP,            /* Packed: descriptor flags that disagree
                                 * with the wrap counter. */
    VHU_VQ_BAD_ID,              /* Packed: buffer id beyond the ring. */
    VHU_VQ_N_FAULTS
};

const char *vhu_vq_fault_name(enum vhu_vq_fault);

/* Packed rings: used descriptors written back at once; a burst with more
 * writes back every time it has this many.  It also bounds the buffers one
 * packet can take in an enqueue: 256 of the smallest buffers a guest posts
 * (a few hundred bytes) hold the largest frame (9728 bytes). */
#define VHU_PACKED_BATCH 256

/* A buffer used and not yet handed back to the guest (packed rings). */
struct vhu_packed_used {
    uint16_t id;
    uint16_t n_descs;           /* Ring descriptors the buffer took. */
    uint32_t len;               /* Bytes we wrote into it. */
};

struct vhu_packed_batch {
    uint32_t n;
    struct vhu_packed_used used[VHU_PACKED_BATCH];
};

/* What becomes of a queue's record (below) at the control path's hands. */
enum vhu_ring_record_state {
    VHU_RING_RECORD_NONE,       /* Nothing recorded. */
    VHU_RING_RECORD_RUNNING,    /* The queue ran: only the record knows
                                 * where it got to. */
    VHU_RING_RECORD_HANDED_BACK /* GET_VRING_BASE told the frontend. */
};

/* What a queue is set up as.  A record of a different layout is of
 * another guest, or another ring. */
struct vhu_ring_layout {
    uint64_t features;
    uint64_t mem_generation;    /* vhu_mem_generation(). */
    uint64_t desc_uaddr;
    uint64_t avail_uaddr;
    uint64_t used_uaddr;
    uint16_t size;
};

/* Where a queue's device side stands, kept where it outlives the process
 * that runs the queue (vhu-ring-state.h: a file under the run directory,
 * shared-mapped).  The bursts write 'committed', 'pending' and 'batch'
 * with plain stores, as they hand buffers back to the guest:
 *
 *   - 'batch' holds the used buffers that the burst is about to hand back
 *     (packed rings);
 *   - 'pending' gets the position that handing them back will reach,
 *     before the guest can see any of it;
 *   - 'committed' gets the same, after the guest could see all of it.
 *
 * So a process killed at any point leaves either pending == committed, the
 * position the guest was handed back up to, or a hand-back in progress
 * from 'committed' to 'pending' that 'batch' can finish (packed) or that
 * the used index says the outcome of (split).  (A split TX burst also
 * sets 'pending' when it starts, to as far as it may take the ring: the
 * descriptors it took and never handed on, which the guest offers again,
 * can then be counted.)  A position is, for a split ring, the used index;
 * for a packed one, the ring position in bits 0-14 and the wrap counter in
 * bit 15.
 *
 * The control path writes 'layout' when a queue starts, and 'state' when
 * it starts and stops. */
struct vhu_ring_record {
    uint32_t committed;
    uint32_t pending;
    uint32_t state;             /* enum vhu_ring_record_state. */
    struct vhu_ring_layout layout;
    struct vhu_packed_batch batch;
};

static inline uint32_t
vhu_ring_position(uint16_t pos, bool wrap)
{
    return pos | (uint32_t) wrap << 15;
}

/* Counters that only the burst holding the queue writes. */
struct vhu_vq_stats {
    uint64_t packets;
    uint64_t bytes;
    uint64_t dropped;           /* Packets the guest sent that we dropped:
                                 * shorter than a header or bigger than the
                                 * caller's buffer. */
    uint64_t calls;             /* Call eventfd writes. */
};

/* See "The queue gate" above. */
struct OVS_LOCKABLE vhu_vq_gate {
    atomic_bool busy;
};

/* C's thread-safety attributes cannot name a member of the struct they
 * guard ('vq->gate', for a field of 'vq'), so the fields of struct vhu_vq
 * name this stand-in instead: a capability that whoever holds a queue's
 * gate holds too.  It is never defined: only the analysis uses it.
 *
 * VHU_VQ_GUARDED marks a field that bursts use; VHU_VQ_REQUIRES(VQ) a
 * function that may be called only with VQ's gate held.  (A function that
 * holds one queue's gate and touches the fields of another is caught only
 * when it calls a function that needs the other's gate.) */
extern struct vhu_vq_gate vhu_vq_any_gate;
#define VHU_VQ_GUARDED OVS_GUARDED_BY(vhu_vq_any_gate)
#define VHU_VQ_REQUIRES(VQ) OVS_REQUIRES((VQ)->gate, vhu_vq_any_gate)

struct vhu_vq {
    struct vhu_vq_gate gate;

    /* Faults: how many times the queue broke (a burst found the guest's
     * ring invalid), times 256, plus why it is broken now (VHU_VQ_OK if it
     * is not).  A broken queue stays so until the frontend sets it up
     * again.  Written with the gate held (by the burst that breaks the
     * queue, by the control path that clears it), read by anyone at any
     * time: so the control path can report on a queue without stopping
     * the bursts in it.  See vhu_vq_faults() and friends. */
    atomic_ullong faults;

    /* Everything below is set by the control path only while it holds the
     * gate (and its device's mutex), and read by bursts only while they
     * hold the gate.  (The control path reads 'ready' with its mutex
     * alone: see vhu_dev_vq_ready().) */
    bool ready VHU_VQ_GUARDED;    /* Bursts may use the ring. */

    bool packed VHU_VQ_GUARDED;   /* VIRTIO_F_RING_PACKED. */
    uint16_t size VHU_VQ_GUARDED; /* Entries (a power of 2 if
                                         * split). */
    uint16_t mask VHU_VQ_GUARDED; /* size - 1 (split only). */

    /* Split ring. */
    struct vhu_vring_desc *desc VHU_VQ_GUARDED;
    struct vhu_vring_avail *avail VHU_VQ_GUARDED;
    struct vhu_vring_used *used VHU_VQ_GUARDED;

    /* Packed ring: the descriptor ring and the driver's and our event
     * suppression structures. */
    struct vhu_vring_packed_desc *packed_desc VHU_VQ_GUARDED;
    struct vhu_vring_packed_event *driver_event VHU_VQ_GUARDED;
    struct vhu_vring_packed_event *device_event VHU_VQ_GUARDED;

    const struct vhu_mem *mem VHU_VQ_GUARDED;

    /* Split: the next avail entry we take and the next used entry we
     * write, free-running.  Packed: the ring positions (below 'size') of
     * the next descriptor we take and of the next one we mark used, with
     * the wrap counter that each must carry. */
    uint16_t last_avail_idx VHU_VQ_GUARDED;
    uint16_t last_used_idx VHU_VQ_GUARDED;
    bool avail_wrap VHU_VQ_GUARDED;   /* Packed only. */
    bool used_wrap VHU_VQ_GUARDED;    /* Packed only. */

    /* Negotiated features that the bursts need. */
    uint32_t hdr_len VHU_VQ_GUARDED;  /* virtio-net header bytes. */
    bool mrg_rxbuf VHU_VQ_GUARDED;
    bool event_idx VHU_VQ_GUARDED;
    bool indirect VHU_VQ_GUARDED;
    bool notify_on_empty VHU_VQ_GUARDED;
    bool in_order VHU_VQ_GUARDED;     /* VIRTIO_F_IN_ORDER: one used
                                             * entry may stand for a whole
                                             * batch of TX buffers. */

    int call_fd VHU_VQ_GUARDED;   /* Eventfd to interrupt the guest,
                                         * or -1. */

    struct vhu_ring_record *record VHU_VQ_GUARDED;  /* Never NULL. */
    uint16_t marker VHU_VQ_GUARDED;
                                /* Packed: for the device event structure's
                                 * 'off_wrap', which the guest ignores while
                                 * we disable its notifications: a ring
                                 * that still holds it was not set up anew
                                 * since we started it. */

    struct vhu_vq_stats stats VHU_VQ_GUARDED;

    /* For log messages: the device's name and this queue's index.  Set
     * once, when the device is made. */
    const char *name;
    unsigned int index;
};

/* A burst's way through 'vq''s gate: true if it took the gate, and may
 * then use the queue until vhu_vq_leave(); false if the control path (or
 * another burst) holds it, and then it must not touch the queue. */
static inline bool
vhu_vq_try_enter(struct vhu_vq *vq)
    OVS_TRY_LOCK(true, vq->gate, vhu_vq_any_gate)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    bool expected = false;

    return atomic_compare_exchange_strong_explicit(&vq->gate.busy,
                                                   &expected, true,
                                                   memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void
vhu_vq_leave(struct vhu_vq *vq)
    OVS_RELEASES(vq->gate, vhu_vq_any_gate)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    atomic_store_explicit(&vq->gate.busy, false, memory_order_release);
}

/* The control path's way through the gate (vhu-vq.c): waits until no
 * burst is inside 'vq' and holds the gate, so that none enters until
 * vhu_vq_leave(). */
void vhu_vq_stop(struct vhu_vq *vq)
    OVS_ACQUIRES(vq->gate, vhu_vq_any_gate);

static inline unsigned long long int
vhu_vq_faults(const struct vhu_vq *vq)
{
    unsigned long long int faults;

    atomic_read_relaxed(&CONST_CAST(struct vhu_vq *, vq)->faults, &faults);
    return faults;
}

/* Why 'faults' (from vhu_vq_faults()) says the queue is broken now, or
 * VHU_VQ_OK. */
static inline enum vhu_vq_fault
vhu_vq_fault_now(unsigned long long int faults)
{
    return faults & 0xff;
}

/* How many times 'faults' says the queue broke. */
static inline unsigned long long int
vhu_vq_n_faults(unsigned long long int faults)
{
    return faults >> 8;
}

static inline bool
vhu_vq_is_broken(const struct vhu_vq *vq)
{
    return vhu_vq_fault_now(vhu_vq_faults(vq)) != VHU_VQ_OK;
}

/* Marks 'vq' broken because of 'fault' (vhu-vq.c).  Only the burst holding
 * the queue calls it. */
void vhu_vq_break(struct vhu_vq *vq, enum vhu_vq_fault)
    VHU_VQ_REQUIRES(vq);

/* Each layout's bursts, declared once for both so that their shapes stay
 * the same: vhu_vq_dequeue_split() and vhu_vq_dequeue_packed(), and so on
 * (vhu-vq-split.c, vhu-vq-packed.c).
 *
 * A dequeue takes up to 'n' packets that the guest sent on 'vq' (one of
 * its TX queues) into 'bufs' and returns how many it stored; an enqueue
 * writes 'pkts' into 'vq' (one of its RX queues) in order until one does
 * not fit and returns how many it wrote.  A start makes a queue whose ring
 * addresses and base are set ready for bursts, or returns false if its
 * base makes no sense for its ring; a backlog counts what the guest has
 * queued and no dequeue has taken. */
#define VHU_VQ_LAYOUT_FUNCTIONS(LAYOUT)                                 \
    int vhu_vq_dequeue_##LAYOUT(struct vhu_vq *vq, struct vhu_buf *bufs, \
                                int n)                                  \
        VHU_VQ_REQUIRES(vq);                                            \
    int vhu_vq_enqueue_##LAYOUT(struct vhu_vq *vq,                      \
                                const struct vhu_buf *pkts, int n)      \
        VHU_VQ_REQUIRES(vq);                                            \
    bool vhu_vq_start_##LAYOUT(struct vhu_vq *vq) VHU_VQ_REQUIRES(vq);  \
    int vhu_vq_backlog_##LAYOUT(const struct vhu_vq *vq)                \
        VHU_VQ_REQUIRES(vq);
VHU_VQ_LAYOUT_FUNCTIONS(split)
VHU_VQ_LAYOUT_FUNCTIONS(packed)
#undef VHU_VQ_LAYOUT_FUNCTIONS

/* For resuming from a record (vhu-ring-state.c), on a mapped ring that no
 * burst uses.  vhu_vq_ring_marked_packed() is true if the ring still holds
 * the mark that vhu_vq_start_packed() left (see 'marker'): its driver did
 * not set it up anew since.  vhu_vq_check_position_packed() returns NULL
 * if the ring agrees that the device stands at 'pos' with wrap counter
 * 'wrap', else why not.  vhu_vq_finish_handback_packed() finishes the
 * hand-back that 'vq->record' says was in progress, if the guest has not
 * seen it yet, and returns the number of buffers it handed back, or -1 if
 * the record's batch makes no sense for the ring. */
bool vhu_vq_ring_marked_packed(const struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq);
const char *vhu_vq_check_position_packed(const struct vhu_vq *vq,
                                         uint16_t pos, bool wrap)
    VHU_VQ_REQUIRES(vq);
int vhu_vq_finish_handback_packed(struct vhu_vq *vq) VHU_VQ_REQUIRES(vq);

#endif /* vhu-vq.h */

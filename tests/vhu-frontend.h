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

#ifndef VHU_FRONTEND_H
#define VHU_FRONTEND_H 1

/* A vhost-user frontend for tests: what QEMU or DPDK's virtio-user would be
 * to our backend, small enough to trust and able to misbehave on purpose.
 *
 * It owns "guest memory": memfd files, each mapped once here and shared
 * with the backend as one region per file.  Guest-physical addresses start
 * at VHU_FE_GPA_BASE and run through the regions in order with a gap
 * between regions; frontend-virtual addresses ('userspace_addr') are this
 * process's own addresses of the mappings.  It lays out split or packed
 * virtqueues (packed if it negotiated VIRTIO_F_RING_PACKED) in that memory
 * and plays the driver's side of them: posting TX packets and RX buffers,
 * reaping used entries, with or without VIRTIO_F_IN_ORDER.
 *
 * Every request is sent on a blocking socket; replies are awaited with a
 * timeout, so a test never hangs on a backend that went silent.  Functions
 * returning int return 0 or a positive errno value. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/vhu-msg.h"
#include "lib/vhu-virtio.h"

#define VHU_FE_GPA_BASE 0x100000000ULL
#define VHU_FE_GPA_GAP 0x10000000ULL     /* Between consecutive regions. */
/* Only a backend that does not answer waits this long; a busy host may
 * leave a healthy one without a CPU for seconds. */
#define VHU_FE_REPLY_TIMEOUT_MS 30000

/* How vhu_fe_tx() lays a packet out in descriptors. */
enum vhu_fe_layout {
    VHU_FE_LAYOUT_ONE,          /* Header and data in one descriptor. */
    VHU_FE_LAYOUT_HDR_APART,    /* Header in its own descriptor. */
    VHU_FE_LAYOUT_SCATTER,      /* Header split over two descriptors, data
                                 * over up to three more. */
    VHU_FE_LAYOUT_INDIRECT,     /* One indirect descriptor pointing at a
                                 * table laid out as HDR_APART. */
};

struct vhu_fe_vring {
    uint16_t size;
    bool set_up;
    bool packed;
    struct vhu_vring_desc *desc;        /* Our addresses of the parts of */
    struct vhu_vring_avail *avail;      /* a split ring... */
    struct vhu_vring_used *used;
    struct vhu_vring_packed_desc *packed_desc;      /* ...or a packed one. */
    struct vhu_vring_packed_event *driver_event;    /* We write it. */
    struct vhu_vring_packed_event *device_event;    /* The backend does. */
    uint64_t desc_gpa;
    uint16_t avail_idx;                 /* Next avail entry we publish
                                         * (packed: ring position). */
    uint16_t used_idx;                  /* Next used entry we reap
                                         * (packed: ring position). */
    bool avail_wrap;                    /* Packed: our wrap counters at */
    bool used_wrap;                     /* those positions. */
    uint16_t free_head;                 /* Free descriptor list (packed:
                                         * free buffer ids). */
    uint16_t n_free;                    /* Free descriptors. */
    int kick_fd;                        /* Eventfds we sent, or -1. */
    int call_fd;
    /* Per head descriptor (packed: per buffer id): how many descriptors
     * the chain took, and the guest-physical address of the chain's first
     * buffer (for RX). */
    uint16_t *chain_len;
    uint64_t *buf_gpa;
    uint64_t *indirect_gpa;
};

struct vhu_fe_region {
    int fd;                     /* memfd, kept open by us. */
    uint8_t *addr;              /* Our mapping, also the region's uva. */
    uint64_t gpa;
    uint64_t size;
    uint64_t used;              /* Bytes handed out by vhu_fe_alloc(). */
};

#define VHU_FE_MAX_REGIONS VHU_MEM_MAX_REGIONS
#define VHU_FE_MAX_VRINGS 16

struct vhu_fe {
    int sock;
    uint64_t features;              /* What SET_FEATURES sent. */
    uint64_t protocol_features;     /* What SET_PROTOCOL_FEATURES sent. */
    size_t hdr_len;                 /* virtio-net header length in use. */
    size_t n_regions;
    struct vhu_fe_region regions[VHU_FE_MAX_REGIONS];
    struct vhu_fe_vring vrings[VHU_FE_MAX_VRINGS];
};

/* Memory. */
struct vhu_fe *vhu_fe_create(int sock, size_t n_regions,
                             uint64_t region_size);
void vhu_fe_destroy(struct vhu_fe *);
uint64_t vhu_fe_alloc(struct vhu_fe *, uint64_t size, uint64_t align);
void *vhu_fe_gpa_to_ptr(const struct vhu_fe *, uint64_t gpa);
void vhu_fe_region_desc(const struct vhu_fe *, size_t idx,
                        struct vhu_mem_region_desc *);

/* Raw messages.  vhu_fe_send() sends exactly what it is given, however
 * wrong; vhu_fe_recv() waits for the next message from the backend and
 * returns ETIMEDOUT, or EPIPE if the backend closed the connection. */
int vhu_fe_send(struct vhu_fe *, uint32_t request, uint32_t flags,
                const void *payload, size_t size,
                const int *fds, size_t n_fds);
int vhu_fe_recv(struct vhu_fe *, struct vhu_msg_header *,
                union vhu_msg_payload *);

/* Requests.  vhu_fe_get_u64() sends a request without payload (GET_*)
 * and returns the u64 that its reply carries.  vhu_fe_set_u64() sends one
 * with a u64 payload; with 'need_reply' it sets NEED_REPLY and stores the
 * ack in '*ackp'.  vhu_fe_closed() is true if the backend closed the
 * connection (it waits up to VHU_FE_REPLY_TIMEOUT_MS for that). */
int vhu_fe_get_u64(struct vhu_fe *, uint32_t request, uint64_t *valuep);
int vhu_fe_set_u64(struct vhu_fe *, uint32_t request, uint64_t value,
                   bool need_reply, uint64_t *ackp);
int vhu_fe_set_state(struct vhu_fe *, uint32_t request, uint32_t index,
                     uint32_t num, bool need_reply, uint64_t *ackp);
bool vhu_fe_closed(struct vhu_fe *);

/* GET_FEATURES, SET_FEATURES('features' & offered), SET_OWNER and, if
 * offered and 'protocol_features' is nonzero, GET_PROTOCOL_FEATURES and
 * SET_PROTOCOL_FEATURES('protocol_features' & offered). */
int vhu_fe_negotiate(struct vhu_fe *, uint64_t features,
                     uint64_t protocol_features);

/* Shares guest memory: SET_MEM_TABLE with every region if there are at
 * most VHU_MEM_BASELINE_REGIONS of them, otherwise ADD_MEM_REG for each
 * (which needs CONFIGURE_MEM_SLOTS).  With REPLY_ACK negotiated, asks for
 * and checks the acks. */
int vhu_fe_share_memory(struct vhu_fe *);

/* Lays out vring 'idx' with 'size' entries in guest memory and sends
 * SET_VRING_NUM, SET_VRING_BASE(0), SET_VRING_ADDR, SET_VRING_CALL and
 * SET_VRING_KICK (with new eventfds) and, with PROTOCOL_FEATURES,
 * SET_VRING_ENABLE(1). */
int vhu_fe_setup_vring(struct vhu_fe *, uint32_t idx, uint16_t size);

/* Everything above for 'n_pairs' queue pairs (vrings 0 .. 2n-1). */
int vhu_fe_start(struct vhu_fe *, uint64_t features,
                 uint64_t protocol_features, size_t n_pairs,
                 uint16_t ring_size);

/* After the backend went away (killed, say): sets the same guest memory
 * and rings up again, as they are, on the new connection 'sock', the way
 * QEMU does: each ring's base is a split ring's used index, or a packed
 * ring's first base (position 0, wrap counter 1), which QEMU cannot
 * recover.  The guest's side of the rings goes on as if nothing
 * happened. */
int vhu_fe_resume(struct vhu_fe *, int sock, uint64_t features,
                  uint64_t protocol_features);

/* Driver side of the rings.  Queue pair 'qp' has RX vring 2*qp (we post
 * buffers, the backend fills them) and TX vring 2*qp + 1 (we post packets,
 * the backend consumes them).
 *
 * vhu_fe_tx() posts one packet (a zero virtio-net header then 'len' bytes
 * of 'data') and publishes it; returns ENOSPC when the ring is full.
 * vhu_fe_tx_reap() takes back what the backend used and returns how many
 * chains it took.  vhu_fe_rx_post() posts up to 'n' RX buffers of
 * 'buf_size' bytes each and returns how many it posted.  vhu_fe_rx()
 * copies the next received packet (header stripped, merged buffers joined)
 * into 'buf', stores its length in '*lenp' and how many buffers it used in
 * '*n_buffersp', and returns EAGAIN when none is waiting. */
int vhu_fe_tx(struct vhu_fe *, size_t qp, const void *data, size_t len,
              enum vhu_fe_layout);
size_t vhu_fe_tx_reap(struct vhu_fe *, size_t qp);
size_t vhu_fe_rx_post(struct vhu_fe *, size_t qp, size_t n,
                      uint32_t buf_size);
int vhu_fe_rx(struct vhu_fe *, size_t qp, void *buf, size_t size,
              size_t *lenp, uint16_t *n_buffersp);

/* Publishes avail entry 'head' on split vring 'idx' as it is, for tests
 * that write broken descriptors into the table themselves. */
void vhu_fe_publish(struct vhu_fe *, uint32_t idx, uint16_t head);

/* For tests that write packed descriptors themselves: the F_AVAIL and
 * F_USED bits that make available the descriptor 'k' places after the
 * next one we would post on packed vring 'idx', and its position. */
uint16_t vhu_fe_packed_avail_flags(const struct vhu_fe *, uint32_t idx,
                                   uint16_t k, uint16_t *posp);

/* How many times the backend signalled vring 'idx''s call eventfd since
 * the last call (reads and resets the eventfd counter). */
uint64_t vhu_fe_calls(struct vhu_fe *, uint32_t idx);

#endif /* vhu-frontend.h */

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

#ifndef VHU_VIRTIO_H
#define VHU_VIRTIO_H 1

/* virtio 1.2 structures and constants that a virtio-net device with split
 * and packed virtqueues needs (the spec's sections 2.7, 2.8 and 5.1), under
 * the names that Linux's include/uapi/linux/virtio_ring.h gives them, with
 * a vhu_ prefix.
 *
 * Ring fields are little-endian (VIRTIO_F_VERSION_1, and legacy guests on
 * the little-endian hosts that we support), so they are read and written
 * as native integers. */

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "openvswitch/compiler.h"

/* Device-independent feature bits. */
#define VHU_VIRTIO_F_NOTIFY_ON_EMPTY 24
#define VHU_VIRTIO_F_ANY_LAYOUT 27
#define VHU_VIRTIO_RING_F_INDIRECT_DESC 28
#define VHU_VIRTIO_RING_F_EVENT_IDX 29
#define VHU_VIRTIO_F_VERSION_1 32
#define VHU_VIRTIO_F_RING_PACKED 34
#define VHU_VIRTIO_F_IN_ORDER 35

/* virtio-net feature bits. */
#define VHU_VIRTIO_NET_F_MTU 3
#define VHU_VIRTIO_NET_F_MRG_RXBUF 15
#define VHU_VIRTIO_NET_F_STATUS 16
#define VHU_VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VHU_VIRTIO_NET_F_MQ 22

/* Split virtqueue descriptor flags. */
#define VHU_VRING_DESC_F_NEXT 1
#define VHU_VRING_DESC_F_WRITE 2
#define VHU_VRING_DESC_F_INDIRECT 4

/* Avail ring flags: the driver asks for no interrupts. */
#define VHU_VRING_AVAIL_F_NO_INTERRUPT 1

/* Used ring flags: the device asks for no kicks. */
#define VHU_VRING_USED_F_NO_NOTIFY 1

/* The largest virtqueue, split or packed (the spec's maximum Queue Size). */
#define VHU_VRING_MAX_SIZE 32768

struct vhu_vring_desc {
    uint64_t addr;              /* Guest-physical address of the buffer. */
    uint32_t len;
    uint16_t flags;             /* VHU_VRING_DESC_F_*. */
    uint16_t next;              /* Next descriptor, with F_NEXT. */
};
BUILD_ASSERT_DECL(sizeof(struct vhu_vring_desc) == 16);

/* Followed by 'used_event' (u16) with VIRTIO_RING_F_EVENT_IDX. */
struct vhu_vring_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct vhu_vring_used_elem {
    uint32_t id;                /* Head of the descriptor chain. */
    uint32_t len;               /* Bytes the device wrote into it. */
};

/* Followed by 'avail_event' (u16) with VIRTIO_RING_F_EVENT_IDX. */
struct vhu_vring_used {
    uint16_t flags;
    uint16_t idx;
    struct vhu_vring_used_elem ring[];
};

/* Bytes that the three parts of a split virtqueue of 'size' entries take,
 * event index fields included. */
#define VHU_VRING_DESC_BYTES(SIZE) ((uint64_t) (SIZE) * 16)
#define VHU_VRING_AVAIL_BYTES(SIZE) (6 + (uint64_t) (SIZE) * 2)
#define VHU_VRING_USED_BYTES(SIZE) (6 + (uint64_t) (SIZE) * 8)

/* Alignment the spec requires of each part. */
#define VHU_VRING_DESC_ALIGN 16
#define VHU_VRING_AVAIL_ALIGN 2
#define VHU_VRING_USED_ALIGN 4

/* Packed virtqueues (virtio 1.2, section 2.8).
 *
 * One ring of descriptors that the driver makes available and the device
 * overwrites in place once used.  The driver makes a descriptor available
 * by setting F_AVAIL to its wrap counter and F_USED to the inverse; the
 * device marks it used by setting both to its own wrap counter.  Each side
 * flips its counter whenever it passes the end of the ring.  Chains are
 * consecutive descriptors linked by F_NEXT; the buffer id is in the last
 * one.  The flags F_NEXT, F_WRITE and F_INDIRECT are the split ring's. */
#define VHU_VRING_PACKED_DESC_F_AVAIL (1 << 7)
#define VHU_VRING_PACKED_DESC_F_USED (1 << 15)

struct vhu_vring_packed_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t id;                /* Buffer id. */
    uint16_t flags;
};
BUILD_ASSERT_DECL(sizeof(struct vhu_vring_packed_desc) == 16);

/* The driver's and the device's event suppression structures: how the
 * other side wants to be notified.  'off_wrap' names a descriptor (offset
 * in bits 0-14, wrap counter in bit 15) for RING_EVENT_FLAGS_DESC, which
 * needs VIRTIO_RING_F_EVENT_IDX. */
struct vhu_vring_packed_event {
    uint16_t off_wrap;
    uint16_t flags;
};

#define VHU_RING_EVENT_FLAGS_ENABLE 0
#define VHU_RING_EVENT_FLAGS_DISABLE 1
#define VHU_RING_EVENT_FLAGS_DESC 2

#define VHU_VRING_PACKED_EVENT_BYTES 4
#define VHU_VRING_PACKED_EVENT_ALIGN 4

/* Reads a 16-bit ring field that the guest may be writing, once. */
static inline uint16_t ALWAYS_INLINE
vhu_read_u16(const uint16_t *p)
{
    return *(const volatile uint16_t *) p;
}

/* True if an event index 'event' asks for a notification now that the
 * index moved from 'old' to 'new' (the spec's vring_need_event()). */
static inline bool ALWAYS_INLINE
vhu_vring_need_event(uint16_t event, uint16_t new, uint16_t old)
{
    return (uint16_t) (new - event - 1) < (uint16_t) (new - old);
}

/* The virtio-net header in front of every packet.  It is 12 bytes with
 * VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF, otherwise 10 (no
 * 'num_buffers'). */
struct vhu_virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;       /* How many buffers a merged packet used. */
};
BUILD_ASSERT_DECL(sizeof(struct vhu_virtio_net_hdr) == 12);

#define VHU_VIRTIO_NET_HDR_LEN 12
#define VHU_VIRTIO_NET_HDR_LEN_LEGACY 10

/* virtio-net device status bits (SET_STATUS / GET_STATUS). */
#define VHU_VIRTIO_STATUS_ACKNOWLEDGE 1
#define VHU_VIRTIO_STATUS_DRIVER 2
#define VHU_VIRTIO_STATUS_DRIVER_OK 4
#define VHU_VIRTIO_STATUS_FEATURES_OK 8
#define VHU_VIRTIO_STATUS_FAILED 128

#endif /* vhu-virtio.h */

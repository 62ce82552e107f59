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

#ifndef NETDEV_VHU_POOL_H
#define NETDEV_VHU_POOL_H 1

/* The packet pool of ovs-vhu's ports, one per thread.
 *
 * A packet that rxq_recv() fills is one block: the struct dp_packet and,
 * after it, NETDEV_VHU_POOL_BUF bytes of data (a "stub" in dp_packet's
 * terms, which dp_packet_delete() frees with the struct, and which
 * dp_packet_resize() leaves for a buffer of its own when a packet must
 * grow).  When send() is done with such a packet, it does not free it but
 * keeps it in the pool of its thread, from which rxq_recv() takes packets
 * first.  Traffic between two guests polled by one PMD thread thus runs
 * with no malloc() at all.  A pool holds at most NETDEV_VHU_POOL_MAX
 * packets; the ports whose MTU needs bigger buffers allocate as usual.
 *
 * What each packet goes through is inline here, for rxq_recv()'s loop;
 * the rest is in netdev-vhu-pool.c. */

#include <stddef.h>
#include <stdint.h>

#include "dp-packet.h"
#include "dpif-netdev.h"
#include "openvswitch/compiler.h"
#include "ovs-thread.h"

#define NETDEV_VHU_POOL_BUF 2048
#define NETDEV_VHU_POOL_MAX 512

struct netdev_vhu_pool {
    size_t n;
    struct dp_packet *packets[NETDEV_VHU_POOL_MAX];
};

/* The key of each thread's pool; netdev_vhu_pool_init() makes it. */
extern ovsthread_key_t netdev_vhu_pool_key;

void netdev_vhu_pool_init(void);
struct netdev_vhu_pool *netdev_vhu_pool_create(void);
struct dp_packet *netdev_vhu_packet_new(uint32_t size);
void netdev_vhu_free_batch(struct dp_packet_batch *);

/* Returns this thread's pool, made on first use. */
static inline struct netdev_vhu_pool *
netdev_vhu_pool_get(void)
{
    struct netdev_vhu_pool *pool = ovsthread_getspecific(netdev_vhu_pool_key);

    return OVS_LIKELY(pool) ? pool : netdev_vhu_pool_create();
}

/* Makes 'packet', one block of the pool's layout, empty and new again. */
static inline void
netdev_vhu_packet_reset(struct dp_packet *packet)
{
    dp_packet_use_stub(packet, packet + 1, NETDEV_VHU_POOL_BUF);
    dp_packet_reserve(packet, DP_NETDEV_HEADROOM);
}

/* Returns a packet with room for 'size' bytes after DP_NETDEV_HEADROOM:
 * from 'pool' if 'size' fits its buffers and it has one. */
static inline struct dp_packet *
netdev_vhu_packet_alloc(struct netdev_vhu_pool *pool, uint32_t size)
{
    if (OVS_LIKELY(size <= NETDEV_VHU_POOL_BUF - DP_NETDEV_HEADROOM
                   && pool->n)) {
        struct dp_packet *packet = pool->packets[--pool->n];

        netdev_vhu_packet_reset(packet);
        return packet;
    }
    return netdev_vhu_packet_new(size);
}

#endif /* netdev-vhu-pool.h */

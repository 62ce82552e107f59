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

/* The packet pool of ovs-vhu's ports (see netdev-vhu-pool.h): making and
 * freeing each thread's pool, packets that the pool cannot give, and
 * packets going back to it.  The netdev classes (netdev-vhu.c) use it; it
 * uses nothing of theirs. */

#include <config.h>

#include "netdev-vhu-pool.h"

#include <stdlib.h>

#include "coverage.h"
#include "util.h"

COVERAGE_DEFINE(netdev_vhu_packet_alloc);

ovsthread_key_t netdev_vhu_pool_key;

static void
netdev_vhu_pool_destroy(void *pool_)
{
    struct netdev_vhu_pool *pool = pool_;

    for (size_t i = 0; i < pool->n; i++) {
        dp_packet_delete(pool->packets[i]);
    }
    free(pool);
}

/* Makes the key of the threads' pools, which frees a thread's pool when
 * the thread exits.  Called once, before any port exists. */
void
netdev_vhu_pool_init(void)
{
    ovsthread_key_create(&netdev_vhu_pool_key, netdev_vhu_pool_destroy);
}

/* Makes this thread's pool, empty. */
struct netdev_vhu_pool *
netdev_vhu_pool_create(void)
{
    struct netdev_vhu_pool *pool = xzalloc(sizeof *pool);

    ovsthread_setspecific(netdev_vhu_pool_key, pool);
    return pool;
}

/* Returns a packet with room for 'size' bytes after DP_NETDEV_HEADROOM,
 * which the pool could not give: of the pool's layout (and to go into a
 * pool once used) if 'size' fits its buffers, else an ordinary one. */
struct dp_packet *
netdev_vhu_packet_new(uint32_t size)
{
    struct dp_packet *packet;

    if (OVS_UNLIKELY(size > NETDEV_VHU_POOL_BUF - DP_NETDEV_HEADROOM)) {
        return dp_packet_new_with_headroom(size, DP_NETDEV_HEADROOM);
    }
    packet = xmalloc(sizeof *packet + NETDEV_VHU_POOL_BUF);
    COVERAGE_INC(netdev_vhu_packet_alloc);
    netdev_vhu_packet_reset(packet);
    return packet;
}

/* Frees 'packet', or keeps it in 'pool' if it is one of ours. */
static void
netdev_vhu_packet_free(struct netdev_vhu_pool *pool, struct dp_packet *packet)
{
    if (packet->source == DPBUF_STUB
        && dp_packet_base(packet) == packet + 1
        && dp_packet_get_allocated(packet) == NETDEV_VHU_POOL_BUF
        && pool->n < NETDEV_VHU_POOL_MAX) {
        pool->packets[pool->n++] = packet;
    } else {
        dp_packet_delete(packet);
    }
}

/* Frees the packets of 'batch' (which it empties) into this thread's pool,
 * or for good. */
void
netdev_vhu_free_batch(struct dp_packet_batch *batch)
{
    struct netdev_vhu_pool *pool = netdev_vhu_pool_get();
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        netdev_vhu_packet_free(pool, packet);
    }
    dp_packet_batch_init(batch);
}

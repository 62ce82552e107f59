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

#include <config.h>

#include "netdev-vhu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "dirs.h"
#include "dp-packet.h"
#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "packets.h"
#include "smap.h"
#include "util.h"
#include "vhu-sock-dir.h"

VLOG_DEFINE_THIS_MODULE(netdev_vhu);

COVERAGE_DEFINE(netdev_vhu_tx_no_guest_drops);

/* Bounds and default of options:tx-retries-max, as in OVS-DPDK. */
#define NETDEV_VHU_TX_RETRIES_MIN 0
#define NETDEV_VHU_TX_RETRIES_MAX 32
#define NETDEV_VHU_TX_RETRIES_DEFAULT 8

/* Bounds of the Interface's mtu_request.  The upper bound is OVS-DPDK's (a
 * 9728-byte frame, with its 4-byte CRC), so that a configuration moves
 * between the two switches unchanged. */
#define NETDEV_VHU_MTU_MIN 68
#define NETDEV_VHU_MTU_MAX (9728 - ETH_HEADER_LEN - 4)

struct netdev_vhu {
    struct netdev up;

    /* True for the client types, whose socket belongs to the frontend;
     * false for the server types, which listen on a socket of their own.
     * Fixed by the class at construction. */
    bool client;

    struct ovs_mutex mutex;

    /* The vhost-user socket: options:vhost-server-path for a client port,
     * the run directory joined with the port name for a server port. */
    char *socket_path OVS_GUARDED;

    /* options:tx-retries-max.  Read by the PMD threads that send. */
    atomic_int tx_retries_max;

    int mtu OVS_GUARDED;
    int requested_mtu OVS_GUARDED;
    int requested_n_txq OVS_GUARDED;
    struct eth_addr hwaddr OVS_GUARDED;
    enum netdev_flags flags OVS_GUARDED;

    /* Packets that had to be dropped because no guest is attached.  Counted
     * by whichever PMD thread sends, hence atomic. */
    atomic_ullong tx_no_guest_drops;
};

struct netdev_vhu_rxq {
    struct netdev_rxq up;
};

static void netdev_vhu_destruct(struct netdev *);

static bool
is_netdev_vhu_class(const struct netdev_class *class)
{
    return class->destruct == netdev_vhu_destruct;
}

static struct netdev_vhu *
netdev_vhu_cast(const struct netdev *netdev)
{
    ovs_assert(is_netdev_vhu_class(netdev_get_class(netdev)));
    return CONTAINER_OF(netdev, struct netdev_vhu, up);
}

static struct netdev_vhu_rxq *
netdev_vhu_rxq_cast(const struct netdev_rxq *rxq)
{
    ovs_assert(is_netdev_vhu_class(netdev_get_class(rxq->netdev)));
    return CONTAINER_OF(rxq, struct netdev_vhu_rxq, up);
}

static const char *
netdev_vhu_mode(const struct netdev_vhu *dev)
{
    return dev->client ? "client" : "server";
}

static struct netdev *
netdev_vhu_alloc(void)
{
    struct netdev_vhu *dev = xzalloc(sizeof *dev);
    return &dev->up;
}

static void
netdev_vhu_dealloc(struct netdev *netdev)
{
    free(netdev_vhu_cast(netdev));
}

static int
netdev_vhu_construct__(struct netdev *netdev, bool client)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    const char *name = netdev_get_name(netdev);
    char *socket_path = NULL;

    if (!client) {
        char *error = NULL;

        socket_path = vhu_server_socket_path(ovs_rundir(), name, &error);
        if (!socket_path) {
            VLOG_ERR("%s: %s", name, error);
            free(error);
            return EINVAL;
        }
    }

    dev->client = client;
    ovs_mutex_init(&dev->mutex);
    dev->socket_path = socket_path;
    atomic_init(&dev->tx_retries_max, NETDEV_VHU_TX_RETRIES_DEFAULT);
    dev->mtu = ETH_PAYLOAD_MAX;
    dev->requested_mtu = ETH_PAYLOAD_MAX;
    dev->requested_n_txq = netdev->n_txq;
    dev->hwaddr = eth_addr_zero;
    dev->flags = 0;
    atomic_init(&dev->tx_no_guest_drops, 0);

    VLOG_INFO("%s: vhost-user %s port created%s%s", name,
              netdev_vhu_mode(dev), socket_path ? ", socket " : "",
              socket_path ? socket_path : "");
    return 0;
}

static int
netdev_vhu_server_construct(struct netdev *netdev)
{
    return netdev_vhu_construct__(netdev, false);
}

static int
netdev_vhu_client_construct(struct netdev *netdev)
{
    return netdev_vhu_construct__(netdev, true);
}

static void
netdev_vhu_destruct(struct netdev *netdev)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    free(dev->socket_path);
    ovs_mutex_destroy(&dev->mutex);
}

/* Parses 'value', the value of options:tx-retries-max.  Returns the number
 * of retries, or -1 if 'value' is not a whole number in range. */
static int
parse_tx_retries_max(const char *value)
{
    int retries;

    if (!str_to_int(value, 10, &retries)
        || retries < NETDEV_VHU_TX_RETRIES_MIN
        || retries > NETDEV_VHU_TX_RETRIES_MAX) {
        return -1;
    }
    return retries;
}

/* Applies the Interface's options.  Every option is checked before any is
 * applied, so that a refused configuration leaves the port as it was; the
 * reason goes to '*errp', which ovs-vswitchd puts in the Interface's error
 * column, and to the log. */
static int
netdev_vhu_set_config(struct netdev *netdev, const struct smap *args,
                      char **errp)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    const char *name = netdev_get_name(netdev);
    const char *type = netdev_get_type(netdev);
    int tx_retries_max = NETDEV_VHU_TX_RETRIES_DEFAULT;
    const char *server_path = NULL;
    const struct smap_node *node;
    struct ds error = DS_EMPTY_INITIALIZER;

    SMAP_FOR_EACH (node, args) {
        if (dev->client && !strcmp(node->key, "vhost-server-path")) {
            server_path = node->value;
        } else if (!strcmp(node->key, "tx-retries-max")) {
            tx_retries_max = parse_tx_retries_max(node->value);
            if (tx_retries_max < 0) {
                ds_put_format(&error, "%s: options:tx-retries-max='%s' is "
                              "not a whole number from %d to %d", name,
                              node->value, NETDEV_VHU_TX_RETRIES_MIN,
                              NETDEV_VHU_TX_RETRIES_MAX);
                break;
            }
        } else if (!strcmp(node->key, "vhost-server-path")) {
            ds_put_format(&error, "%s: options:vhost-server-path is for the "
                          "client types (dpdkvhostuserclient, "
                          "vhostuserclient); a %s port listens on %s", name,
                          type, dev->socket_path);
            break;
        } else {
            ds_put_format(&error, "%s: unknown option '%s' for type %s "
                          "(known: %stx-retries-max)", name, node->key, type,
                          dev->client ? "vhost-server-path, " : "");
            break;
        }
    }
    if (!error.length && dev->client && (!server_path || !server_path[0])) {
        ds_put_format(&error, "%s: a %s port needs options:"
                      "vhost-server-path, the path of the frontend's "
                      "vhost-user socket", name, type);
    }
    if (error.length) {
        VLOG_WARN("%s", ds_cstr(&error));
        *errp = ds_steal_cstr(&error);
        return EINVAL;
    }

    ovs_mutex_lock(&dev->mutex);
    if (dev->client && !nullable_string_is_equal(dev->socket_path,
                                                 server_path)) {
        free(dev->socket_path);
        dev->socket_path = xstrdup(server_path);
        netdev_request_reconfigure(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);

    int old_tx_retries_max;
    atomic_read_relaxed(&dev->tx_retries_max, &old_tx_retries_max);
    if (tx_retries_max != old_tx_retries_max) {
        atomic_store_relaxed(&dev->tx_retries_max, tx_retries_max);
        VLOG_INFO("%s: tx-retries-max set to %d", name, tx_retries_max);
    }
    return 0;
}

static int
netdev_vhu_get_config(const struct netdev *netdev, struct smap *args)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    int tx_retries_max;

    ovs_mutex_lock(&dev->mutex);
    if (dev->client && dev->socket_path) {
        smap_add(args, "vhost-server-path", dev->socket_path);
    }
    ovs_mutex_unlock(&dev->mutex);

    atomic_read_relaxed(&dev->tx_retries_max, &tx_retries_max);
    if (tx_retries_max != NETDEV_VHU_TX_RETRIES_DEFAULT) {
        smap_add_format(args, "tx-retries-max", "%d", tx_retries_max);
    }
    return 0;
}

static int
netdev_vhu_get_status(const struct netdev *netdev, struct smap *args)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&dev->mutex);
    smap_add(args, "mode", netdev_vhu_mode(dev));
    smap_add(args, "status", "disconnected");
    if (dev->socket_path) {
        smap_add(args, "socket", dev->socket_path);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static int
netdev_vhu_get_numa_id(const struct netdev *netdev OVS_UNUSED)
{
    /* Until a guest's memory is known, the port is on node 0, as an
     * OVS-DPDK vhost-user port is. */
    return 0;
}

static int
netdev_vhu_set_tx_multiq(struct netdev *netdev, unsigned int n_txq)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&dev->mutex);
    if (dev->requested_n_txq != n_txq) {
        dev->requested_n_txq = n_txq;
        netdev_request_reconfigure(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static int
netdev_vhu_reconfigure(struct netdev *netdev)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&dev->mutex);
    netdev->n_txq = dev->requested_n_txq;
    netdev->n_rxq = 1;
    dev->mtu = dev->requested_mtu;
    netdev_change_seq_changed(netdev);
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static int
netdev_vhu_get_mtu(const struct netdev *netdev, int *mtup)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&dev->mutex);
    *mtup = dev->mtu;
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static int
netdev_vhu_set_mtu(struct netdev *netdev, int mtu)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    if (mtu < NETDEV_VHU_MTU_MIN || mtu > NETDEV_VHU_MTU_MAX) {
        VLOG_WARN("%s: mtu_request %d is out of range (%d to %d)",
                  netdev_get_name(netdev), mtu, NETDEV_VHU_MTU_MIN,
                  NETDEV_VHU_MTU_MAX);
        return EINVAL;
    }

    ovs_mutex_lock(&dev->mutex);
    if (dev->requested_mtu != mtu) {
        dev->requested_mtu = mtu;
        netdev_request_reconfigure(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static int
netdev_vhu_get_etheraddr(const struct netdev *netdev, struct eth_addr *mac)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&dev->mutex);
    *mac = dev->hwaddr;
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static int
netdev_vhu_set_etheraddr(struct netdev *netdev, const struct eth_addr mac)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&dev->mutex);
    if (!eth_addr_equals(dev->hwaddr, mac)) {
        dev->hwaddr = mac;
        netdev_change_seq_changed(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static int
netdev_vhu_get_carrier(const struct netdev *netdev OVS_UNUSED, bool *carrier)
{
    /* The carrier is up only while a guest's queues are live; no guest can
     * attach yet. */
    *carrier = false;
    return 0;
}

static int
netdev_vhu_get_stats(const struct netdev *netdev, struct netdev_stats *stats)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    unsigned long long int tx_dropped;

    atomic_read_relaxed(&dev->tx_no_guest_drops, &tx_dropped);
    memset(stats, 0, sizeof *stats);
    stats->tx_dropped = tx_dropped;
    return 0;
}

static int
netdev_vhu_update_flags(struct netdev *netdev, enum netdev_flags off,
                        enum netdev_flags on, enum netdev_flags *old_flagsp)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    if ((off | on) & ~(NETDEV_UP | NETDEV_PROMISC)) {
        return EINVAL;
    }

    ovs_mutex_lock(&dev->mutex);
    *old_flagsp = dev->flags;
    dev->flags = (dev->flags | on) & ~off;
    if (*old_flagsp != dev->flags) {
        netdev_change_seq_changed(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

/* Transmits 'batch' to the guest.  With no guest attached, every packet is
 * dropped and counted in tx_dropped, as OVS-DPDK does for a vhost-user port
 * whose guest is not running. */
static int
netdev_vhu_send(struct netdev *netdev, int qid OVS_UNUSED,
                struct dp_packet_batch *batch,
                bool concurrent_txq OVS_UNUSED)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    size_t n = dp_packet_batch_size(batch);
    unsigned long long int orig;

    atomic_add_relaxed(&dev->tx_no_guest_drops, n, &orig);
    COVERAGE_ADD(netdev_vhu_tx_no_guest_drops, n);
    dp_packet_delete_batch(batch, true);
    return 0;
}

static struct netdev_rxq *
netdev_vhu_rxq_alloc(void)
{
    struct netdev_vhu_rxq *rxq = xzalloc(sizeof *rxq);
    return &rxq->up;
}

static int
netdev_vhu_rxq_construct(struct netdev_rxq *rxq OVS_UNUSED)
{
    return 0;
}

static void
netdev_vhu_rxq_destruct(struct netdev_rxq *rxq OVS_UNUSED)
{
}

static void
netdev_vhu_rxq_dealloc(struct netdev_rxq *rxq)
{
    free(netdev_vhu_rxq_cast(rxq));
}

static bool
netdev_vhu_rxq_enabled(struct netdev_rxq *rxq OVS_UNUSED)
{
    /* A queue is enabled only when a guest has enabled it. */
    return false;
}

static int
netdev_vhu_rxq_recv(struct netdev_rxq *rxq OVS_UNUSED,
                    struct dp_packet_batch *batch OVS_UNUSED,
                    int *qfill OVS_UNUSED)
{
    return EAGAIN;
}

#define NETDEV_VHU_CLASS_COMMON                         \
    .is_pmd = true,                                     \
    .alloc = netdev_vhu_alloc,                          \
    .destruct = netdev_vhu_destruct,                    \
    .dealloc = netdev_vhu_dealloc,                      \
    .get_config = netdev_vhu_get_config,                \
    .set_config = netdev_vhu_set_config,                \
    .get_numa_id = netdev_vhu_get_numa_id,              \
    .set_tx_multiq = netdev_vhu_set_tx_multiq,          \
    .send = netdev_vhu_send,                            \
    .set_etheraddr = netdev_vhu_set_etheraddr,          \
    .get_etheraddr = netdev_vhu_get_etheraddr,          \
    .get_mtu = netdev_vhu_get_mtu,                      \
    .set_mtu = netdev_vhu_set_mtu,                      \
    .get_carrier = netdev_vhu_get_carrier,              \
    .get_stats = netdev_vhu_get_stats,                  \
    .get_status = netdev_vhu_get_status,                \
    .update_flags = netdev_vhu_update_flags,            \
    .reconfigure = netdev_vhu_reconfigure,              \
    .rxq_alloc = netdev_vhu_rxq_alloc,                  \
    .rxq_construct = netdev_vhu_rxq_construct,          \
    .rxq_destruct = netdev_vhu_rxq_destruct,            \
    .rxq_dealloc = netdev_vhu_rxq_dealloc,              \
    .rxq_enabled = netdev_vhu_rxq_enabled,              \
    .rxq_recv = netdev_vhu_rxq_recv

#define NETDEV_VHU_SERVER_CLASS(NAME)                   \
    {                                                   \
        .type = NAME,                                   \
        NETDEV_VHU_CLASS_COMMON,                        \
        .construct = netdev_vhu_server_construct,       \
    }

#define NETDEV_VHU_CLIENT_CLASS(NAME)                   \
    {                                                   \
        .type = NAME,                                   \
        NETDEV_VHU_CLASS_COMMON,                        \
        .construct = netdev_vhu_client_construct,       \
    }

/* The OVS-DPDK names that OpenStack, libvirt and every howto use, and
 * neutral aliases that do not collide with an Open vSwitch built with
 * DPDK. */
static const struct netdev_class netdev_vhu_classes[] = {
    NETDEV_VHU_SERVER_CLASS("dpdkvhostuser"),
    NETDEV_VHU_CLIENT_CLASS("dpdkvhostuserclient"),
    NETDEV_VHU_SERVER_CLASS("vhostuser"),
    NETDEV_VHU_CLIENT_CLASS("vhostuserclient"),
};

void
netdev_vhu_register(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        for (size_t i = 0; i < ARRAY_SIZE(netdev_vhu_classes); i++) {
            int error = netdev_register_provider(&netdev_vhu_classes[i]);
            if (error) {
                VLOG_ERR("could not register netdev type %s (%s)",
                         netdev_vhu_classes[i].type, ovs_strerror(error));
            }
        }
        ovsthread_once_done(&once);
    }
}

/* Registers the classes when the module is loaded, before main(): Open
 * vSwitch has no plugin loader, and it must know our types before the
 * bridge first reads the database. */
OVS_CONSTRUCTOR(netdev_vhu_init) {
    netdev_vhu_register();
}

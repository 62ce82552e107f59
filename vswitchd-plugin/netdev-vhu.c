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

/* ovs-vhu's netdev classes (netdev-vhu.h): the port types, their options,
 * status and statistics, reconfiguration, the glue from rxq_recv() and
 * send() to the engine's bursts, the control thread that runs every
 * port's device, and vhu/show.  It is the only place that knows both Open
 * vSwitch's netdev layer and the engine (lib/vhu-dev.h); packets come from
 * netdev-vhu-pool.h. */

#include <config.h>

#include "netdev-vhu.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coverage.h"
#include "dirs.h"
#include "dp-packet.h"
#include "dpif-netdev.h"
#include "netdev-provider.h"
#include "netdev-vhu-pool.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "packets.h"
#include "seq.h"
#include "smap.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-features.h"
#include "vhu-sock-dir.h"

VLOG_DEFINE_THIS_MODULE(netdev_vhu);

COVERAGE_DEFINE(netdev_vhu_tx_no_guest_drops);
COVERAGE_DEFINE(netdev_vhu_tx_failure_drops);
COVERAGE_DEFINE(netdev_vhu_tx_mtu_drops);
COVERAGE_DEFINE(netdev_vhu_tx_retries);
COVERAGE_DEFINE(netdev_vhu_tx_ring_full);
COVERAGE_DEFINE(netdev_vhu_rarp);

/* Bounds and default of options:tx-retries-max, as in OVS-DPDK. */
#define NETDEV_VHU_TX_RETRIES_MIN 0
#define NETDEV_VHU_TX_RETRIES_MAX 32
#define NETDEV_VHU_TX_RETRIES_DEFAULT 8

/* Bounds of the Interface's mtu_request.  The upper bound is OVS-DPDK's (a
 * 9728-byte frame, with its 4-byte CRC), so that a configuration moves
 * between the two switches unchanged. */
#define NETDEV_VHU_MTU_MIN 68
#define NETDEV_VHU_MTU_MAX (9728 - ETH_HEADER_LEN - 4)

/* The longest frame a port with 'mtu' sends or receives: the MTU, an
 * Ethernet header and one VLAN tag, as OVS-DPDK allows. */
#define NETDEV_VHU_FRAME_LEN(MTU) ((MTU) + ETH_HEADER_LEN + VLAN_HEADER_LEN)

/* Packet counters by frame length: the buckets of struct netdev_stats. */
enum netdev_vhu_size_bucket {
    NETDEV_VHU_SIZE_64,
    NETDEV_VHU_SIZE_127,
    NETDEV_VHU_SIZE_255,
    NETDEV_VHU_SIZE_511,
    NETDEV_VHU_SIZE_1023,
    NETDEV_VHU_SIZE_1522,
    NETDEV_VHU_SIZE_MAX,
    NETDEV_VHU_N_SIZES
};

/* Counters of one direction of one queue pair.  Only one thread at a time
 * writes them (the PMD thread that polls the rx queue; the PMD thread that
 * holds the tx queue's lock), with plain relaxed stores; other threads read
 * them at any time. */
struct netdev_vhu_counters {
    atomic_ullong packets;
    atomic_ullong bytes;
    atomic_ullong multicast;
    atomic_ullong broadcast;
    atomic_ullong sizes[NETDEV_VHU_N_SIZES];
};

struct netdev_vhu_rx_queue {
    PADDED_MEMBERS(CACHE_LINE_SIZE,
        struct netdev_vhu_counters c;
    );
};

struct netdev_vhu_tx_queue {
    PADDED_MEMBERS(CACHE_LINE_SIZE,
        /* Serialises the PMD threads that send on this queue pair: several
         * share it when there are fewer queues than PMD threads or when
         * the guest has disabled some queues. */
        struct ovs_spin lock;
        struct netdev_vhu_counters c;
        atomic_ullong retries;          /* Enqueues retried. */
        atomic_ullong failure_drops;    /* Dropped after the retries. */
        atomic_ullong ring_full;        /* Bursts that found the ring full. */
    );
};

/* Guards the list of every port (below) and each port's place in it. */
static struct ovs_mutex netdev_vhu_list_mutex = OVS_MUTEX_INITIALIZER;

/* The flag in 'rarp_request' beside a MAC (which takes bits 0 to 47). */
#define NETDEV_VHU_RARP_PENDING (1ULL << 48)

struct netdev_vhu {
    struct netdev up;

    /* True for the client types, whose socket belongs to the frontend;
     * false for the server types, which listen on a socket of their own.
     * Fixed by the class at construction. */
    bool client;

    /* In 'netdev_vhu_list'. */
    struct ovs_list list_node OVS_GUARDED_BY(netdev_vhu_list_mutex);

    /* The engine's device.  It changes only in netdev_vhu_reconfigure() and
     * the first netdev_vhu_set_config(), while no PMD thread uses the port,
     * and only with both 'netdev_vhu_list_mutex' and 'mutex' held, so the
     * PMD threads and the control thread read it without a lock. */
    struct vhu_dev *vhu;

    struct ovs_mutex mutex;

    /* The vhost-user socket: options:vhost-server-path for a client port,
     * the socket directory joined with the port name for a server port.
     * 'socket_path' is the one 'vhu' uses; 'requested_socket_path' the one
     * the next reconfiguration moves to. */
    char *socket_path OVS_GUARDED;
    char *requested_socket_path OVS_GUARDED;
    char *socket_error OVS_GUARDED;     /* Why 'vhu' is NULL, if it is. */
    struct vhu_sock_perms perms OVS_GUARDED;
    bool configured OVS_GUARDED;        /* set_config has succeeded once. */

    /* options:tx-retries-max.  Read by the PMD threads that send. */
    atomic_int tx_retries_max;

    int mtu OVS_GUARDED;
    int requested_mtu OVS_GUARDED;
    uint32_t max_frame_len;     /* From 'mtu'; set in reconfigure. */
    struct eth_addr hwaddr OVS_GUARDED;
    enum netdev_flags flags OVS_GUARDED;
    atomic_bool admin_up;       /* NETDEV_UP in 'flags', for the PMDs. */

    /* What the guest set up, as the control thread last saw it. */
    bool carrier OVS_GUARDED;       /* Queue pair 0 running. */
    int numa_id OVS_GUARDED;
    int guest_n_qp OVS_GUARDED;     /* Queue pairs, at least 1. */
    atomic_bool rx_enabled[VHU_MAX_QUEUE_PAIRS];

    /* For each tx queue id that OVS uses, the queue pair it sends on: its
     * own if the guest enabled it, another enabled one otherwise, -1 if
     * none is. */
    atomic_int tx_map[VHU_MAX_QUEUE_PAIRS];

    /* A RARP announcement that the frontend asked for (after a live
     * migration), injected on rx queue 0 as if the guest had sent it. */
    atomic_ullong rarp_request;     /* NETDEV_VHU_RARP_PENDING | MAC as
                                     * eth_addr_to_uint64() has it, or 0. */

    struct netdev_vhu_rx_queue *rxqs;   /* VHU_MAX_QUEUE_PAIRS of them. */
    struct netdev_vhu_tx_queue *txqs;   /* VHU_MAX_QUEUE_PAIRS of them. */

    /* Packets dropped because no guest queue could take them (no guest,
     * port down): any PMD thread counts them, hence an atomic add. */
    atomic_ullong tx_no_guest_drops;
    atomic_ullong tx_mtu_drops;

    /* The engine's counts of packets from the guest that it dropped, on
     * devices that 'vhu' replaced. */
    uint64_t rx_dropped_base OVS_GUARDED;
};

/* Packets for rxq_recv() come from a small stash per rx queue: a burst
 * finds its buffers ready, and polling an idle queue allocates nothing.
 * The stash is refilled from the thread's packet pool
 * (netdev-vhu-pool.h). */
struct netdev_vhu_rxq {
    struct netdev_rxq up;
    struct dp_packet *stash[NETDEV_MAX_BURST];
    uint32_t buf_size;
};

/* Every port, for the control thread and vhu/show. */
static struct ovs_list netdev_vhu_list OVS_GUARDED_BY(netdev_vhu_list_mutex)
    = OVS_LIST_INITIALIZER(&netdev_vhu_list);

/* Changed when a port is added or its device replaced, to wake the control
 * thread. */
static struct seq *netdev_vhu_list_seq;

/* Where server ports put their sockets (Open_vSwitch other_config:
 * vhost-sock-dir), or NULL for the run directory. */
static char *netdev_vhu_sock_dir OVS_GUARDED_BY(netdev_vhu_list_mutex);

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

static void
counter_add(atomic_ullong *counter, unsigned long long int n)
{
    unsigned long long int value;

    /* A single writer: a relaxed load and store, no locked instruction. */
    atomic_read_relaxed(counter, &value);
    atomic_store_relaxed(counter, value + n);
}

static unsigned long long int
counter_read(const atomic_ullong *counter)
{
    unsigned long long int value;

    atomic_read_relaxed(CONST_CAST(atomic_ullong *, counter), &value);
    return value;
}

static enum netdev_vhu_size_bucket
size_bucket(uint32_t len)
{
    return (len <= 64 ? NETDEV_VHU_SIZE_64
            : len <= 127 ? NETDEV_VHU_SIZE_127
            : len <= 255 ? NETDEV_VHU_SIZE_255
            : len <= 511 ? NETDEV_VHU_SIZE_511
            : len <= 1023 ? NETDEV_VHU_SIZE_1023
            : len <= 1522 ? NETDEV_VHU_SIZE_1522
            : NETDEV_VHU_SIZE_MAX);
}

/* Counts 'n' frames, each 'lens[i]' bytes long starting with 'frames[i]'
 * (whose first 6 bytes are the destination MAC address), in 'c'. */
static void
counters_add_frames(struct netdev_vhu_counters *c, const struct vhu_buf *bufs,
                    int n)
{
    unsigned long long int bytes = 0, multicast = 0, broadcast = 0;
    unsigned long long int sizes[NETDEV_VHU_N_SIZES] = { 0 };

    for (int i = 0; i < n; i++) {
        const uint8_t *dst = bufs[i].data;
        uint32_t len = bufs[i].len;

        bytes += len;
        sizes[size_bucket(len)]++;
        if (len >= ETH_ADDR_LEN && dst[0] & 1) {
            if (!memcmp(dst, eth_addr_broadcast.ea, ETH_ADDR_LEN)) {
                broadcast++;
            } else {
                multicast++;
            }
        }
    }
    counter_add(&c->packets, n);
    counter_add(&c->bytes, bytes);
    counter_add(&c->multicast, multicast);
    counter_add(&c->broadcast, broadcast);
    for (int i = 0; i < NETDEV_VHU_N_SIZES; i++) {
        if (sizes[i]) {
            counter_add(&c->sizes[i], sizes[i]);
        }
    }
}

/* The control thread.
 *
 * One thread runs the control path of every port's vhost-user device
 * (vhu_dev_run(): accepting and connecting, the frontend's messages,
 * guest memory, reconnection), off the PMD threads and off the main
 * thread, whose work a slow frontend must not hold up. */

static void *
netdev_vhu_control_main(void *arg OVS_UNUSED)
{
    /* What this thread counts (a refused request, a closed connection)
     * reaches "coverage/show" only when poll_block() finds that a second
     * has passed since the thread last handed its counts over; a thread
     * that then sleeps until the next message would keep them to itself.
     * So after each wake-up that did something, it wakes once more, a
     * second later, to hand them over. */
    long long int hand_over_at = LLONG_MIN;

    for (;;) {
        struct netdev_vhu *dev;
        uint64_t seq = seq_read(netdev_vhu_list_seq);
        long long int now = time_msec();

        hand_over_at = (hand_over_at != LLONG_MIN && now >= hand_over_at
                        ? LLONG_MIN
                        : now + COVERAGE_CLEAR_INTERVAL);

        ovs_mutex_lock(&netdev_vhu_list_mutex);
        LIST_FOR_EACH (dev, list_node, &netdev_vhu_list) {
            if (dev->vhu) {
                vhu_dev_run(dev->vhu);
                vhu_dev_wait(dev->vhu);
            }
        }
        ovs_mutex_unlock(&netdev_vhu_list_mutex);

        seq_wait(netdev_vhu_list_seq, seq);
        if (hand_over_at != LLONG_MIN) {
            poll_timer_wait_until(hand_over_at);
        }
        poll_block();
    }
    return NULL;
}

static void
netdev_vhu_start_control_thread(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        ovs_thread_create("vhu_control", netdev_vhu_control_main, NULL);
        ovsthread_once_done(&once);
    }
}

/* Recomputes which queue pair each tx queue id sends on.  A guest may
 * enable fewer queue pairs than it negotiated (Linux enables as many as it
 * has CPUs, or what "ethtool -L" says); the tx queue ids of the disabled
 * ones are spread over the enabled ones. */
static void
netdev_vhu_remap_txqs(struct netdev_vhu *dev, const bool *enabled)
    OVS_REQUIRES(dev->mutex)
{
    int active[VHU_MAX_QUEUE_PAIRS];
    int n_active = 0;

    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        if (enabled[qp]) {
            active[n_active++] = qp;
        }
    }
    for (int qid = 0; qid < VHU_MAX_QUEUE_PAIRS; qid++) {
        int qp = (!n_active ? -1
                  : enabled[qid] ? qid
                  : active[qid % n_active]);
        atomic_store_relaxed(&dev->tx_map[qid], qp);
    }
}

/* The engine's callback, in the control thread (with
 * 'netdev_vhu_list_mutex' held): the guest's connection, queues, MTU or
 * RARP request may have changed. */
static void
netdev_vhu_guest_changed(void *dev_)
{
    struct netdev_vhu *dev = dev_;
    const char *name = netdev_get_name(&dev->up);
    bool tx_enabled[VHU_MAX_QUEUE_PAIRS];
    struct vhu_dev_state state;
    uint8_t mac[ETH_ADDR_LEN];

    vhu_dev_get_state(dev->vhu, &state);
    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        bool running = qp < state.n_queue_pairs;

        atomic_store_relaxed(&dev->rx_enabled[qp], running
                             && vhu_dev_vring_ready(dev->vhu, 2 * qp + 1));
        tx_enabled[qp] = running && vhu_dev_vring_ready(dev->vhu, 2 * qp);
    }
    int numa_id = state.running ? vhu_dev_numa_node(dev->vhu) : -1;

    ovs_mutex_lock(&dev->mutex);
    netdev_vhu_remap_txqs(dev, tx_enabled);
    if (state.running != dev->carrier) {
        VLOG_INFO("%s: guest %s", name,
                  state.running ? "running" : "stopped");
        dev->carrier = state.running;
    }
    /* Keep the queues of a guest that went away: it will most likely come
     * back with as many. */
    if (state.n_queue_pairs && state.n_queue_pairs != dev->guest_n_qp) {
        VLOG_INFO("%s: the guest has %u queue pair(s)", name,
                  state.n_queue_pairs);
        dev->guest_n_qp = state.n_queue_pairs;
        netdev_request_reconfigure(&dev->up);
    }
    if (numa_id >= 0 && numa_id != dev->numa_id) {
        dev->numa_id = numa_id;
        netdev_request_reconfigure(&dev->up);
    }
    if (vhu_dev_take_rarp(dev->vhu, mac)) {
        struct eth_addr ea;

        memcpy(ea.ea, mac, ETH_ADDR_LEN);
        atomic_store_relaxed(&dev->rarp_request,
                             NETDEV_VHU_RARP_PENDING | eth_addr_to_uint64(ea));
    }
    netdev_change_seq_changed(&dev->up);
    ovs_mutex_unlock(&dev->mutex);
}

/* Creates the engine's device for 'dev->requested_socket_path', replacing
 * the one there is.  Call only while no PMD thread uses the port. */
static int
netdev_vhu_open_socket(struct netdev_vhu *dev, char **errorp)
    OVS_REQUIRES(netdev_vhu_list_mutex, dev->mutex)
{
    const char *name = netdev_get_name(&dev->up);
    char *error = NULL;

    if (dev->vhu) {
        struct vhu_vq_stats stats;

        for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
            vhu_dev_vring_stats(dev->vhu, 2 * qp + 1, &stats);
            dev->rx_dropped_base += stats.dropped;
        }
        vhu_dev_destroy(dev->vhu);
        dev->vhu = NULL;
        VLOG_INFO("%s: left socket %s", name, dev->socket_path);
    }
    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        atomic_store_relaxed(&dev->rx_enabled[qp], false);
        atomic_store_relaxed(&dev->tx_map[qp], -1);
    }
    dev->carrier = false;

    free(dev->socket_path);
    dev->socket_path = xstrdup(dev->requested_socket_path);
    free(dev->socket_error);
    dev->socket_error = NULL;

    /* Only the run directory is trusted on the way to a server socket. */
    struct vhu_sock_perms perms = dev->perms;
    perms.trusted_dir = ovs_rundir();
    dev->vhu = vhu_dev_create(dev->socket_path,
                              dev->client ? VHU_DEV_CLIENT : VHU_DEV_SERVER,
                              &perms, netdev_vhu_guest_changed, dev,
                              &error);
    if (!dev->vhu) {
        VLOG_ERR("%s: %s", name, error);
        dev->socket_error = xstrdup(error);
        if (errorp) {
            *errorp = xasprintf("%s: %s", name, error);
        }
        free(error);
        return EINVAL;
    }
    /* Where the queues' positions outlive us (see vhu-ring-state.h). */
    char *ring_state_path = xasprintf("%s/%s.vhu-rings", ovs_rundir(), name);
    if (vhu_dev_set_ring_state_file(dev->vhu, ring_state_path, &error)) {
        VLOG_WARN("%s: %s; the queues' positions will not survive a "
                  "restart", name, error);
        free(error);
    }
    free(ring_state_path);
    VLOG_INFO("%s: vhost-user %s %s", name,
              dev->client ? "client, connecting to" : "server, listening on",
              dev->socket_path);
    seq_change(netdev_vhu_list_seq);
    return 0;
}

/* Returns the socket path of server port 'name' in the current socket
 * directory, or NULL with a message in '*errorp'. */
static char *
netdev_vhu_server_path(const char *name, char **errorp)
    OVS_REQUIRES(netdev_vhu_list_mutex)
{
    return vhu_server_socket_path(netdev_vhu_sock_dir
                                  ? netdev_vhu_sock_dir : ovs_rundir(),
                                  name, errorp);
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

    netdev_vhu_start_control_thread();

    ovs_mutex_lock(&netdev_vhu_list_mutex);
    if (!client) {
        char *error = NULL;

        socket_path = netdev_vhu_server_path(name, &error);
        if (!socket_path) {
            ovs_mutex_unlock(&netdev_vhu_list_mutex);
            VLOG_ERR("%s: %s", name, error);
            free(error);
            return EINVAL;
        }
    }

    dev->client = client;
    ovs_mutex_init(&dev->mutex);
    dev->requested_socket_path = socket_path;
    dev->perms = VHU_SOCK_PERMS_DEFAULT;
    atomic_init(&dev->tx_retries_max, NETDEV_VHU_TX_RETRIES_DEFAULT);
    dev->mtu = ETH_PAYLOAD_MAX;
    dev->requested_mtu = ETH_PAYLOAD_MAX;
    dev->max_frame_len = NETDEV_VHU_FRAME_LEN(ETH_PAYLOAD_MAX);
    dev->hwaddr = eth_addr_zero;
    /* Up from the start, as OVS-DPDK's ports are: traffic flows as soon
     * as a guest does. */
    dev->flags = NETDEV_UP | NETDEV_PROMISC;
    atomic_init(&dev->admin_up, true);
    dev->numa_id = 0;
    dev->guest_n_qp = 1;
    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        atomic_init(&dev->rx_enabled[qp], false);
        atomic_init(&dev->tx_map[qp], -1);
    }
    atomic_init(&dev->rarp_request, 0);
    dev->rxqs = xzalloc_cacheline(VHU_MAX_QUEUE_PAIRS * sizeof *dev->rxqs);
    dev->txqs = xzalloc_cacheline(VHU_MAX_QUEUE_PAIRS * sizeof *dev->txqs);
    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        ovs_spin_init(&dev->txqs[qp].lock);
    }
    atomic_init(&dev->tx_no_guest_drops, 0);
    atomic_init(&dev->tx_mtu_drops, 0);
    netdev->n_rxq = 1;
    netdev->n_txq = 1;

    ovs_list_push_back(&netdev_vhu_list, &dev->list_node);
    ovs_mutex_unlock(&netdev_vhu_list_mutex);

    VLOG_INFO("%s: vhost-user %s port created", name, netdev_vhu_mode(dev));
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

    ovs_mutex_lock(&netdev_vhu_list_mutex);
    ovs_list_remove(&dev->list_node);
    vhu_dev_destroy(dev->vhu);
    dev->vhu = NULL;
    ovs_mutex_unlock(&netdev_vhu_list_mutex);

    /* The control thread may be asleep in poll() on the connection we just
     * closed, which keeps the socket open until poll() returns: wake it, so
     * that the guest sees us leave now, not at the next event. */
    seq_change(netdev_vhu_list_seq);

    VLOG_INFO("%s: vhost-user %s port deleted", netdev_get_name(netdev),
              netdev_vhu_mode(dev));
    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        ovs_spin_destroy(&dev->txqs[qp].lock);
    }
    free_cacheline(dev->rxqs);
    free_cacheline(dev->txqs);
    ovs_mutex_lock(&dev->mutex);
    free(dev->socket_path);
    free(dev->requested_socket_path);
    free(dev->socket_error);
    ovs_mutex_unlock(&dev->mutex);
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

/* Parses a user (if 'user') or group name or number into '*idp'. */
static bool
parse_owner(const char *value, bool user, unsigned int *idp)
{
    char buf[4096];
    unsigned int id;

    if (str_to_uint(value, 10, &id)) {
        *idp = id;
        return true;
    }
    if (user) {
        struct passwd pwd, *res;

        if (!getpwnam_r(value, &pwd, buf, sizeof buf, &res) && res) {
            *idp = res->pw_uid;
            return true;
        }
    } else {
        struct group grp, *res;

        if (!getgrnam_r(value, &grp, buf, sizeof buf, &res) && res) {
            *idp = res->gr_gid;
            return true;
        }
    }
    return false;
}

/* Parses options:vhost-sock-mode, permission bits in octal. */
static int
parse_sock_mode(const char *value)
{
    char *end;
    long mode;

    errno = 0;
    mode = strtol(value, &end, 8);
    return (!errno && value[0] && !*end && mode >= 0 && mode <= 0777
            ? mode : -1);
}

static bool
sock_perms_equal(const struct vhu_sock_perms *a,
                 const struct vhu_sock_perms *b)
{
    return a->owner == b->owner && a->group == b->group
           && a->mode == b->mode;
}

/* Applies the Interface's options.  Every option is checked before any is
 * applied; the reason for a refusal goes to the log and to '*errp', which
 * ovs-vswitchd puts in the Interface's error column.  As for any netdev, a
 * refusal takes the port out of the datapath until its configuration is
 * fixed; the other ports are left alone. */
static int
netdev_vhu_set_config(struct netdev *netdev, const struct smap *args,
                      char **errp)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    const char *name = netdev_get_name(netdev);
    const char *type = netdev_get_type(netdev);
    int tx_retries_max = NETDEV_VHU_TX_RETRIES_DEFAULT;
    struct vhu_sock_perms perms = VHU_SOCK_PERMS_DEFAULT;
    const char *server_path = NULL;
    const struct smap_node *node;
    struct ds error = DS_EMPTY_INITIALIZER;
    int retval = 0;

    SMAP_FOR_EACH (node, args) {
        const char *key = node->key;
        const char *value = node->value;
        unsigned int id;

        if (dev->client && !strcmp(key, "vhost-server-path")) {
            server_path = value;
        } else if (!strcmp(key, "tx-retries-max")) {
            tx_retries_max = parse_tx_retries_max(value);
            if (tx_retries_max < 0) {
                ds_put_format(&error, "%s: options:tx-retries-max='%s' is "
                              "not a whole number from %d to %d", name,
                              value, NETDEV_VHU_TX_RETRIES_MIN,
                              NETDEV_VHU_TX_RETRIES_MAX);
                break;
            }
        } else if (!dev->client && !strcmp(key, "vhost-sock-owner")) {
            if (!parse_owner(value, true, &id)) {
                ds_put_format(&error, "%s: options:vhost-sock-owner='%s' is "
                              "neither a user name nor a user id", name,
                              value);
                break;
            }
            perms.owner = id;
        } else if (!dev->client && !strcmp(key, "vhost-sock-group")) {
            if (!parse_owner(value, false, &id)) {
                ds_put_format(&error, "%s: options:vhost-sock-group='%s' is "
                              "neither a group name nor a group id", name,
                              value);
                break;
            }
            perms.group = id;
        } else if (!dev->client && !strcmp(key, "vhost-sock-mode")) {
            perms.mode = parse_sock_mode(value);
            if (perms.mode < 0) {
                ds_put_format(&error, "%s: options:vhost-sock-mode='%s' is "
                              "not an octal mode from 0 to 0777", name,
                              value);
                break;
            }
        } else if (!strcmp(key, "vhost-server-path")) {
            ovs_mutex_lock(&dev->mutex);
            ds_put_format(&error, "%s: options:vhost-server-path is for the "
                          "client types (dpdkvhostuserclient, "
                          "vhostuserclient); a %s port listens on %s", name,
                          type, dev->requested_socket_path);
            ovs_mutex_unlock(&dev->mutex);
            break;
        } else if (!strncmp(key, "vhost-sock-", 11)) {
            ds_put_format(&error, "%s: options:%s is for the server types "
                          "(dpdkvhostuser, vhostuser), whose socket ovs-"
                          "vswitchd creates; a %s port connects to the "
                          "frontend's socket", name, key, type);
            break;
        } else {
            ds_put_format(&error, "%s: unknown option '%s' for type %s "
                          "(known: %s)", name, key, type,
                          dev->client
                          ? "vhost-server-path, tx-retries-max"
                          : "tx-retries-max, vhost-sock-owner, "
                            "vhost-sock-group, vhost-sock-mode");
            break;
        }
    }
    if (!error.length && dev->client) {
        if (!server_path || !server_path[0]) {
            ds_put_format(&error, "%s: a %s port needs options:"
                          "vhost-server-path, the path of the frontend's "
                          "vhost-user socket", name, type);
        } else if (strlen(server_path) > 107) {
            ds_put_format(&error, "%s: options:vhost-server-path is longer "
                          "than the 107 bytes a unix socket path may have",
                          name);
        }
    }
    if (error.length) {
        VLOG_WARN("%s", ds_cstr(&error));
        *errp = ds_steal_cstr(&error);
        return EINVAL;
    }

    ovs_mutex_lock(&netdev_vhu_list_mutex);
    ovs_mutex_lock(&dev->mutex);
    if (dev->client && !nullable_string_is_equal(dev->requested_socket_path,
                                                 server_path)) {
        free(dev->requested_socket_path);
        dev->requested_socket_path = xstrdup(server_path);
        if (dev->configured) {
            netdev_request_reconfigure(netdev);
        }
    }
    if (!sock_perms_equal(&perms, &dev->perms)) {
        char *perms_error;

        if (dev->configured && dev->vhu
            && vhu_dev_set_sock_perms(dev->vhu, &perms, &perms_error)) {
            VLOG_WARN("%s: %s", name, perms_error);
            *errp = xasprintf("%s: %s", name, perms_error);
            free(perms_error);
            retval = EINVAL;
        } else {
            dev->perms = perms;
        }
    }
    if (!dev->configured) {
        /* The port is not in the datapath yet: no PMD thread can see its
         * device change. */
        retval = netdev_vhu_open_socket(dev, errp);
        dev->configured = !retval;
    } else if (!dev->vhu) {
        /* Its socket could not be opened last time: try again. */
        netdev_request_reconfigure(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);
    ovs_mutex_unlock(&netdev_vhu_list_mutex);
    if (retval) {
        return retval;
    }

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
    if (dev->client && dev->requested_socket_path) {
        smap_add(args, "vhost-server-path", dev->requested_socket_path);
    }
    if (dev->perms.owner != (uid_t) -1) {
        smap_add_format(args, "vhost-sock-owner", "%u",
                        (unsigned int) dev->perms.owner);
    }
    if (dev->perms.group != (gid_t) -1) {
        smap_add_format(args, "vhost-sock-group", "%u",
                        (unsigned int) dev->perms.group);
    }
    if (dev->perms.mode >= 0) {
        smap_add_format(args, "vhost-sock-mode", "%#o", dev->perms.mode);
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
    struct vhu_dev_state state;
    struct ds s = DS_EMPTY_INITIALIZER;

    ovs_mutex_lock(&dev->mutex);
    smap_add(args, "mode", netdev_vhu_mode(dev));
    if (!dev->vhu) {
        smap_add(args, "status", "disconnected");
        if (dev->socket_error) {
            smap_add(args, "last_error", dev->socket_error);
        }
        ovs_mutex_unlock(&dev->mutex);
        return 0;
    }
    vhu_dev_get_state(dev->vhu, &state);
    smap_add(args, "status", state.connected ? "connected" : "disconnected");
    smap_add(args, "socket", dev->socket_path);
    if (state.connected) {
        smap_add_format(args, "features", "0x%016"PRIx64, state.features);
        vhu_format_features(&s, VHU_FEATURES_VIRTIO, state.features);
        smap_add(args, "negotiated_features", ds_cstr(&s));
        ds_clear(&s);
        vhu_format_features(&s, VHU_FEATURES_PROTOCOL,
                            state.protocol_features);
        smap_add(args, "protocol_features", ds_cstr(&s));
        if (state.mtu) {
            smap_add_format(args, "mtu", "%"PRIu16, state.mtu);
        }
        smap_add_format(args, "numa", "%d", dev->numa_id);
        if (state.features) {
            smap_add(args, "ring_layout",
                     (state.features
                      & (UINT64_C(1) << VHU_VIRTIO_F_RING_PACKED)
                      ? "packed" : "split"));
        }
        if (state.n_vrings) {
            smap_add_format(args, "num_of_vrings", "%u",
                            2 * state.n_queue_pairs);
        }
        for (unsigned int i = 0; i < 2 * state.n_queue_pairs; i++) {
            smap_add_nocopy(args, xasprintf("vring_%u_size", i),
                            xasprintf("%"PRIu16,
                                      vhu_dev_vring_size(dev->vhu, i)));
        }
        ds_clear(&s);
        ds_put_strftime_msec(&s, "%Y-%m-%dT%H:%M:%S.###Z",
                             state.connected_since, true);
        smap_add(args, "connected_since", ds_cstr(&s));
    }
    smap_add_format(args, "reconnects", "%"PRIu64,
                    state.n_connects ? state.n_connects - 1 : 0);
    smap_add_format(args, "ring_resumed", "%"PRIu64, state.n_ring_resumed);
    smap_add_format(args, "ring_record_rejected", "%"PRIu64,
                    state.n_ring_rejected);
    smap_add_format(args, "ring_handback_finished", "%"PRIu64,
                    state.n_ring_finished);
    smap_add_format(args, "ring_replayed", "%"PRIu64, state.n_ring_replayed);
    if (state.last_error[0]) {
        smap_add(args, "last_error", state.last_error);
    }
    ovs_mutex_unlock(&dev->mutex);
    ds_destroy(&s);
    return 0;
}

static int
netdev_vhu_get_numa_id(const struct netdev *netdev)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    int numa_id;

    ovs_mutex_lock(&dev->mutex);
    numa_id = dev->numa_id;
    ovs_mutex_unlock(&dev->mutex);
    return numa_id;
}

/* Runs while no PMD thread uses the port: moves to a new socket, takes
 * the guest's number of queue pairs and the requested MTU. */
static int
netdev_vhu_reconfigure(struct netdev *netdev)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&netdev_vhu_list_mutex);
    ovs_mutex_lock(&dev->mutex);
    if (dev->configured
        && (!dev->vhu
            || !nullable_string_is_equal(dev->socket_path,
                                         dev->requested_socket_path))) {
        /* An error is in the log and the port's status; the port stays,
         * without a socket, until the next change. */
        netdev_vhu_open_socket(dev, NULL);
    }
    netdev->n_rxq = dev->guest_n_qp;
    netdev->n_txq = dev->guest_n_qp;
    dev->mtu = dev->requested_mtu;
    dev->max_frame_len = NETDEV_VHU_FRAME_LEN(dev->mtu);
    netdev_change_seq_changed(netdev);
    ovs_mutex_unlock(&dev->mutex);
    ovs_mutex_unlock(&netdev_vhu_list_mutex);
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
netdev_vhu_get_carrier(const struct netdev *netdev, bool *carrier)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);

    ovs_mutex_lock(&dev->mutex);
    *carrier = dev->carrier;
    ovs_mutex_unlock(&dev->mutex);
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
    atomic_store_relaxed(&dev->admin_up, (dev->flags & NETDEV_UP) != 0);
    if (*old_flagsp != dev->flags) {
        netdev_change_seq_changed(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

/* Statistics. */

static void
counters_sum(const struct netdev_vhu_counters *c, uint64_t *packets,
             uint64_t *bytes, uint64_t *multicast, uint64_t *broadcast,
             uint64_t *sizes[NETDEV_VHU_N_SIZES])
{
    *packets += counter_read(&c->packets);
    *bytes += counter_read(&c->bytes);
    *multicast += counter_read(&c->multicast);
    *broadcast += counter_read(&c->broadcast);
    for (int i = 0; i < NETDEV_VHU_N_SIZES; i++) {
        *sizes[i] += counter_read(&c->sizes[i]);
    }
}

/* What the port's sends to the guest ran into, over all queue pairs. */
struct netdev_vhu_tx_totals {
    uint64_t retries;
    uint64_t failure_drops;
    uint64_t ring_full;
};

static void
netdev_vhu_tx_totals(const struct netdev_vhu *dev,
                     struct netdev_vhu_tx_totals *t)
{
    memset(t, 0, sizeof *t);
    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        const struct netdev_vhu_tx_queue *txq = &dev->txqs[qp];

        t->retries += counter_read(&txq->retries);
        t->failure_drops += counter_read(&txq->failure_drops);
        t->ring_full += counter_read(&txq->ring_full);
    }
}

/* Packets from the guest that the engine dropped (too short for a
 * virtio-net header, longer than the port's MTU allows). */
static uint64_t
netdev_vhu_rx_dropped(struct netdev_vhu *dev)
    OVS_REQUIRES(dev->mutex)
{
    uint64_t dropped = dev->rx_dropped_base;

    if (dev->vhu) {
        /* All of them: a guest may come back with fewer queues, and the
         * engine keeps what the others counted. */
        for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
            struct vhu_vq_stats stats;

            vhu_dev_vring_stats(dev->vhu, 2 * qp + 1, &stats);
            dropped += stats.dropped;
        }
    }
    return dropped;
}

static int
netdev_vhu_get_stats(const struct netdev *netdev, struct netdev_stats *stats)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    uint64_t *rx_sizes[NETDEV_VHU_N_SIZES] = {
        &stats->rx_1_to_64_packets, &stats->rx_65_to_127_packets,
        &stats->rx_128_to_255_packets, &stats->rx_256_to_511_packets,
        &stats->rx_512_to_1023_packets, &stats->rx_1024_to_1522_packets,
        &stats->rx_1523_to_max_packets,
    };
    uint64_t *tx_sizes[NETDEV_VHU_N_SIZES] = {
        &stats->tx_1_to_64_packets, &stats->tx_65_to_127_packets,
        &stats->tx_128_to_255_packets, &stats->tx_256_to_511_packets,
        &stats->tx_512_to_1023_packets, &stats->tx_1024_to_1522_packets,
        &stats->tx_1523_to_max_packets,
    };

    struct netdev_vhu_tx_totals tx;

    memset(stats, 0, sizeof *stats);
    for (int qp = 0; qp < VHU_MAX_QUEUE_PAIRS; qp++) {
        counters_sum(&dev->rxqs[qp].c, &stats->rx_packets,
                     &stats->rx_bytes, &stats->multicast,
                     &stats->rx_broadcast_packets, rx_sizes);
        counters_sum(&dev->txqs[qp].c, &stats->tx_packets, &stats->tx_bytes,
                     &stats->tx_multicast_packets,
                     &stats->tx_broadcast_packets, tx_sizes);
    }
    netdev_vhu_tx_totals(dev, &tx);
    stats->tx_dropped = (tx.failure_drops
                         + counter_read(&dev->tx_no_guest_drops)
                         + counter_read(&dev->tx_mtu_drops));
    ovs_mutex_lock(&dev->mutex);
    stats->rx_dropped = netdev_vhu_rx_dropped(dev);
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static void
custom_stat_add(struct netdev_custom_stats *cs, size_t *allocated,
                uint64_t value, const char *format, ...)
    OVS_PRINTF_FORMAT(4, 5);

static void
custom_stat_add(struct netdev_custom_stats *cs, size_t *allocated,
                uint64_t value, const char *format, ...)
{
    struct netdev_custom_counter *counter;
    va_list args;

    if (cs->size >= *allocated) {
        cs->counters = x2nrealloc(cs->counters, allocated,
                                  sizeof *cs->counters);
    }
    counter = &cs->counters[cs->size++];
    counter->value = value;
    va_start(args, format);
    vsnprintf(counter->name, sizeof counter->name, format, args);
    va_end(args);
}

/* OVS-DPDK's software counters (ovs_*), ours (vhu_*), and each queue's
 * good packets and bytes under the names of DPDK's vhost library. */
static int
netdev_vhu_get_custom_stats(const struct netdev *netdev,
                            struct netdev_custom_stats *cs)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    struct netdev_vhu_tx_totals totals;
    size_t allocated = 0;
    int n_qp;

    netdev_vhu_tx_totals(dev, &totals);
    ovs_mutex_lock(&dev->mutex);
    n_qp = dev->guest_n_qp;
    ovs_mutex_unlock(&dev->mutex);

    cs->size = 0;
    cs->counters = NULL;
    custom_stat_add(cs, &allocated, totals.retries, "ovs_tx_retries");
    custom_stat_add(cs, &allocated, totals.failure_drops,
                    "ovs_tx_failure_drops");
    custom_stat_add(cs, &allocated, counter_read(&dev->tx_mtu_drops),
                    "ovs_tx_mtu_exceeded_drops");
    /* No QoS policer and no hardware offload here: nothing is ever
     * dropped for either, and OVS-DPDK's tools expect the names. */
    custom_stat_add(cs, &allocated, 0, "ovs_tx_qos_drops");
    custom_stat_add(cs, &allocated, 0, "ovs_rx_qos_drops");
    custom_stat_add(cs, &allocated, 0, "ovs_tx_invalid_hwol_drops");
    custom_stat_add(cs, &allocated, totals.ring_full,
                    "vhu_tx_ring_full_bursts");
    custom_stat_add(cs, &allocated, counter_read(&dev->tx_no_guest_drops),
                    "vhu_tx_no_guest_drops");
    for (int qp = 0; qp < n_qp; qp++) {
        const struct netdev_vhu_counters *rx = &dev->rxqs[qp].c;
        const struct netdev_vhu_counters *tx = &dev->txqs[qp].c;

        custom_stat_add(cs, &allocated, counter_read(&rx->packets),
                        "rx_q%d_good_packets", qp);
        custom_stat_add(cs, &allocated, counter_read(&rx->bytes),
                        "rx_q%d_good_bytes", qp);
        custom_stat_add(cs, &allocated, counter_read(&tx->packets),
                        "tx_q%d_good_packets", qp);
        custom_stat_add(cs, &allocated, counter_read(&tx->bytes),
                        "tx_q%d_good_bytes", qp);
    }
    return 0;
}

/* The datapath. */

/* Transmits 'batch' to the guest on the queue pair that tx queue 'qid'
 * maps to.  When the guest's RX ring fills, retries while the guest makes
 * room, up to options:tx-retries-max times; what still does not fit is
 * dropped and counted, as are frames over the MTU and everything sent
 * while no guest queue is running. */
static int
netdev_vhu_send(struct netdev *netdev, int qid,
                struct dp_packet_batch *batch,
                bool concurrent_txq OVS_UNUSED)
{
    struct netdev_vhu *dev = netdev_vhu_cast(netdev);
    int n = dp_packet_batch_size(batch);
    struct vhu_buf bufs[NETDEV_MAX_BURST];
    struct dp_packet *packet;
    bool admin_up;
    int qp = -1;

    atomic_read_relaxed(&dev->admin_up, &admin_up);
    if (OVS_LIKELY(dev->vhu && admin_up)) {
        atomic_read_relaxed(&dev->tx_map[qid % VHU_MAX_QUEUE_PAIRS], &qp);
    }
    if (OVS_UNLIKELY(qp < 0)) {
        unsigned long long int orig;

        atomic_add_relaxed(&dev->tx_no_guest_drops, n, &orig);
        COVERAGE_ADD(netdev_vhu_tx_no_guest_drops, n);
        netdev_vhu_free_batch(batch);
        return 0;
    }

    int n_bufs = 0, n_oversize = 0;
    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        uint32_t len = dp_packet_size(packet);

        if (OVS_UNLIKELY(len > dev->max_frame_len)) {
            n_oversize++;
            continue;
        }
        bufs[n_bufs].data = dp_packet_data(packet);
        bufs[n_bufs].len = len;
        bufs[n_bufs].size = len;
        n_bufs++;
    }
    if (OVS_UNLIKELY(n_oversize)) {
        unsigned long long int orig;

        atomic_add_relaxed(&dev->tx_mtu_drops, n_oversize, &orig);
        COVERAGE_ADD(netdev_vhu_tx_mtu_drops, n_oversize);
    }

    struct netdev_vhu_tx_queue *txq = &dev->txqs[qp];
    int max_retries, retries = 0, ring_full = 0, sent = 0;

    atomic_read_relaxed(&dev->tx_retries_max, &max_retries);
    ovs_spin_lock(&txq->lock);
    while (sent < n_bufs) {
        int n_tx = vhu_dev_enqueue_burst(dev->vhu, qp, &bufs[sent],
                                         n_bufs - sent);
        sent += n_tx;
        if (sent == n_bufs) {
            break;
        }
        ring_full++;
        /* Retry only while the guest makes room, as OVS-DPDK does. */
        if (!n_tx || retries >= max_retries) {
            break;
        }
        retries++;
    }
    counters_add_frames(&txq->c, bufs, sent);
    if (OVS_UNLIKELY(ring_full)) {
        counter_add(&txq->ring_full, ring_full);
        COVERAGE_ADD(netdev_vhu_tx_ring_full, ring_full);
        if (retries) {
            counter_add(&txq->retries, retries);
            COVERAGE_ADD(netdev_vhu_tx_retries, retries);
        }
        if (sent < n_bufs) {
            counter_add(&txq->failure_drops, n_bufs - sent);
            COVERAGE_ADD(netdev_vhu_tx_failure_drops, n_bufs - sent);
        }
    }
    ovs_spin_unlock(&txq->lock);

    netdev_vhu_free_batch(batch);
    return 0;
}

static struct netdev_rxq *
netdev_vhu_rxq_alloc(void)
{
    struct netdev_vhu_rxq *rxq = xzalloc(sizeof *rxq);
    return &rxq->up;
}

static int
netdev_vhu_rxq_construct(struct netdev_rxq *rxq_)
{
    struct netdev_vhu_rxq *rxq = netdev_vhu_rxq_cast(rxq_);
    struct netdev_vhu *dev = netdev_vhu_cast(rxq_->netdev);

    /* Reconfiguration reopens the rx queues, so the MTU holds while this
     * one exists. */
    rxq->buf_size = dev->max_frame_len;
    return 0;
}

static void
netdev_vhu_rxq_destruct(struct netdev_rxq *rxq_)
{
    struct netdev_vhu_rxq *rxq = netdev_vhu_rxq_cast(rxq_);

    for (int i = 0; i < NETDEV_MAX_BURST; i++) {
        dp_packet_delete(rxq->stash[i]);
    }
}

static void
netdev_vhu_rxq_dealloc(struct netdev_rxq *rxq)
{
    free(netdev_vhu_rxq_cast(rxq));
}

static bool
netdev_vhu_rxq_enabled(struct netdev_rxq *rxq)
{
    struct netdev_vhu *dev = netdev_vhu_cast(rxq->netdev);
    bool enabled;

    atomic_read_relaxed(&dev->rx_enabled[rxq->queue_id], &enabled);
    return enabled;
}

/* Puts in 'batch' a RARP announcement of the guest's MAC address, if the
 * frontend asked for one, so that the switch and its neighbours learn
 * where the guest is now (DPDK's vhost library does the same). */
static void
netdev_vhu_inject_rarp(struct netdev_vhu *dev, struct dp_packet_batch *batch)
{
    unsigned long long int request;

    atomic_read_relaxed(&dev->rarp_request, &request);
    if (OVS_UNLIKELY(request)) {
        /* compose_rarp() makes the room it needs. */
        struct dp_packet *packet = dp_packet_new(0);
        struct eth_addr mac;

        /* The MAC and the flag are one word, taken whole. */
        request = atomic_exchange(&dev->rarp_request, 0);
        eth_addr_from_uint64(request & ~NETDEV_VHU_RARP_PENDING, &mac);
        compose_rarp(packet, mac);
        dp_packet_batch_add(batch, packet);
        COVERAGE_INC(netdev_vhu_rarp);
    }
}

/* Receives a burst of packets that the guest sent on queue pair
 * 'rxq->queue_id'.  The engine copies each one out of guest memory into a
 * packet of ours, so the guest may reuse its buffers at once and OVS owns
 * what it gets. */
static int
netdev_vhu_rxq_recv(struct netdev_rxq *rxq_, struct dp_packet_batch *batch,
                    int *qfill)
{
    struct netdev_vhu_rxq *rxq = netdev_vhu_rxq_cast(rxq_);
    struct netdev_vhu *dev = netdev_vhu_cast(rxq_->netdev);
    struct vhu_buf bufs[NETDEV_MAX_BURST];
    int qid = rxq_->queue_id;
    bool admin_up;
    int n;

    atomic_read_relaxed(&dev->admin_up, &admin_up);
    if (OVS_UNLIKELY(!dev->vhu || !admin_up)) {
        return EAGAIN;
    }
    if (OVS_UNLIKELY(!qid)) {
        netdev_vhu_inject_rarp(dev, batch);
    }

    int room = NETDEV_MAX_BURST - dp_packet_batch_size(batch);
    struct netdev_vhu_pool *pool = NULL;
    for (int i = 0; i < room; i++) {
        struct dp_packet *packet = rxq->stash[i];

        if (OVS_UNLIKELY(!packet)) {
            if (!pool) {
                pool = netdev_vhu_pool_get();
            }
            packet = netdev_vhu_packet_alloc(pool, rxq->buf_size);
            rxq->stash[i] = packet;
        }
        bufs[i].data = dp_packet_data(packet);
        bufs[i].len = 0;
        /* The MTU, not the buffer (a pool's may be bigger), limits what
         * the guest may send. */
        bufs[i].size = MIN(dp_packet_tailroom(packet), rxq->buf_size);
    }

    n = vhu_dev_dequeue_burst(dev->vhu, qid, bufs, room);
    for (int i = 0; i < n; i++) {
        struct dp_packet *packet = rxq->stash[i];

        rxq->stash[i] = NULL;
        dp_packet_set_size(packet, bufs[i].len);
        dp_packet_batch_add(batch, packet);
    }
    if (n) {
        counters_add_frames(&dev->rxqs[qid].c, bufs, n);
    }
    if (qfill) {
        *qfill = (n == room ? vhu_dev_dequeue_backlog(dev->vhu, qid) : 0);
    }
    return dp_packet_batch_is_empty(batch) ? EAGAIN : 0;
}

/* ovs-appctl vhu/show [PORT]. */

static void
netdev_vhu_show(struct netdev_vhu *dev, struct ds *s)
    OVS_REQUIRES(netdev_vhu_list_mutex)
{
    const struct netdev *netdev = &dev->up;
    struct netdev_vhu_tx_totals tx;
    int mtu;

    ovs_mutex_lock(&dev->mutex);
    mtu = dev->mtu;
    ovs_mutex_unlock(&dev->mutex);
    ds_put_format(s, "%s: %s (%s mode), %d rx queue(s), %d tx queue(s), "
                  "mtu %d\n", netdev_get_name(netdev),
                  netdev_get_type(netdev), netdev_vhu_mode(dev),
                  netdev_n_rxq(netdev), netdev_n_txq(netdev), mtu);
    netdev_vhu_tx_totals(dev, &tx);
    ds_put_format(s, "  tx to the guest: %"PRIu64" burst(s) found its RX "
                  "ring full, %"PRIu64" retries, %"PRIu64" dropped after "
                  "retrying, %llu over the MTU, %llu with no guest queue\n",
                  tx.ring_full, tx.retries, tx.failure_drops,
                  counter_read(&dev->tx_mtu_drops),
                  counter_read(&dev->tx_no_guest_drops));
    if (dev->vhu) {
        vhu_dev_show(dev->vhu, s);
    } else {
        ovs_mutex_lock(&dev->mutex);
        ds_put_format(s, "  no socket%s%s\n",
                      dev->socket_error ? ": " : "",
                      dev->socket_error ? dev->socket_error : "");
        ovs_mutex_unlock(&dev->mutex);
    }
}

static void
netdev_vhu_unixctl_show(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *aux OVS_UNUSED)
{
    const char *port = argc > 1 ? argv[1] : NULL;
    struct ds s = DS_EMPTY_INITIALIZER;
    struct netdev_vhu *dev;
    bool found = false;

    ovs_mutex_lock(&netdev_vhu_list_mutex);
    LIST_FOR_EACH (dev, list_node, &netdev_vhu_list) {
        if (!port || !strcmp(port, netdev_get_name(&dev->up))) {
            netdev_vhu_show(dev, &s);
            found = true;
        }
    }
    ovs_mutex_unlock(&netdev_vhu_list_mutex);

    if (port && !found) {
        ds_put_format(&s, "%s: no such vhost-user port", port);
        unixctl_command_reply_error(conn, ds_cstr(&s));
    } else {
        unixctl_command_reply(conn, ds_cstr(&s));
    }
    ds_destroy(&s);
}

/* Open_vSwitch other_config. */

void
netdev_vhu_set_other_config(const struct smap *other_config)
{
    static char *last_value;
    const char *value = smap_get_def(other_config, "vhost-sock-dir", "");
    struct netdev_vhu *dev;
    char *error = NULL;
    char *sock_dir;

    if (last_value && !strcmp(value, last_value)) {
        return;
    }
    free(last_value);
    last_value = xstrdup(value);

    sock_dir = vhu_sock_dir_resolve(ovs_rundir(), value, &error);
    if (!sock_dir) {
        VLOG_ERR("%s; server ports use the run directory %s", error,
                 ovs_rundir());
        free(error);
    } else if (value[0]) {
        VLOG_INFO("vhost-user server sockets go in %s", sock_dir);
    }

    ovs_mutex_lock(&netdev_vhu_list_mutex);
    free(netdev_vhu_sock_dir);
    netdev_vhu_sock_dir = sock_dir;
    LIST_FOR_EACH (dev, list_node, &netdev_vhu_list) {
        char *path;

        if (dev->client) {
            continue;
        }
        /* The port's name was accepted at construction. */
        path = netdev_vhu_server_path(netdev_get_name(&dev->up), &error);
        ovs_assert(path);
        ovs_mutex_lock(&dev->mutex);
        if (!nullable_string_is_equal(path, dev->requested_socket_path)
            || !dev->vhu) {
            free(dev->requested_socket_path);
            dev->requested_socket_path = path;
            path = NULL;
            if (dev->configured) {
                netdev_request_reconfigure(&dev->up);
            }
        }
        ovs_mutex_unlock(&dev->mutex);
        free(path);
    }
    ovs_mutex_unlock(&netdev_vhu_list_mutex);
}

#define NETDEV_VHU_CLASS_COMMON                         \
    .is_pmd = true,                                     \
    .alloc = netdev_vhu_alloc,                          \
    .destruct = netdev_vhu_destruct,                    \
    .dealloc = netdev_vhu_dealloc,                      \
    .get_config = netdev_vhu_get_config,                \
    .set_config = netdev_vhu_set_config,                \
    .get_numa_id = netdev_vhu_get_numa_id,              \
    .send = netdev_vhu_send,                            \
    .set_etheraddr = netdev_vhu_set_etheraddr,          \
    .get_etheraddr = netdev_vhu_get_etheraddr,          \
    .get_mtu = netdev_vhu_get_mtu,                      \
    .set_mtu = netdev_vhu_set_mtu,                      \
    .get_carrier = netdev_vhu_get_carrier,              \
    .get_stats = netdev_vhu_get_stats,                  \
    .get_custom_stats = netdev_vhu_get_custom_stats,    \
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
        netdev_vhu_list_seq = seq_create();
        netdev_vhu_pool_init();
        for (size_t i = 0; i < ARRAY_SIZE(netdev_vhu_classes); i++) {
            int error = netdev_register_provider(&netdev_vhu_classes[i]);
            if (error) {
                VLOG_ERR("could not register netdev type %s (%s)",
                         netdev_vhu_classes[i].type, ovs_strerror(error));
            }
        }
        unixctl_command_register("vhu/show", "[port]", 0, 1,
                                 netdev_vhu_unixctl_show, NULL);
        ovsthread_once_done(&once);
    }
}

/* Registers the classes when the module is loaded, before main(): Open
 * vSwitch has no plugin loader, and it must know our types before the
 * bridge first reads the database. */
OVS_CONSTRUCTOR(netdev_vhu_init) {
    netdev_vhu_register();
}

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

#ifndef VHU_DEV_H
#define VHU_DEV_H 1

/* A vhost-user virtio-net device: the backend side of one vhost-user
 * socket, in server mode (we listen) or client mode (we connect, and keep
 * reconnecting), speaking the protocol of QEMU's
 * docs/interop/vhost-user.rst and moving packets through the guest's
 * virtqueues.
 *
 * Thread model
 * ============
 *
 * Control path: one thread at a time calls vhu_dev_run(), vhu_dev_wait()
 * and vhu_dev_destroy() for a given device (in ovs-vswitchd, a dedicated
 * thread for all devices).  It accepts and connects, reads the frontend's
 * messages, maps guest memory and sets queues up.  It may block briefly,
 * never for long.
 *
 * Datapath: any thread may call the bursts, vhu_dev_dequeue_burst() and
 * vhu_dev_enqueue_burst(), without locks of its own; two threads must not
 * use the same queue at the same time (the caller serialises a queue shared
 * between PMD threads).  A burst never blocks and never sleeps.
 *
 * The handshake between the two is each queue's gate ("The queue gate" in
 * vhu-vq.h): a burst takes it with one atomic compare-and-swap or, finding
 * it taken, returns zero packets at once; the control path changes a
 * queue only while it holds the gate itself, which it takes by waiting
 * until the burst inside, if any, has left.  So a burst never sees a
 * half-changed queue, GET_VRING_BASE returns the index of a queue that no
 * burst can move any more, and an old memory table is unmapped only after
 * every queue has stopped using it.
 *
 * The engine's files, their layers and what each may call are described
 * in vhu-dev-private.h.
 *
 * Other threads may read the device's state (vhu_dev_get_state(),
 * vhu_dev_vring_*()) at any time; those take the device's mutex, as the
 * control path does, and leave the bursts alone, except
 * vhu_dev_vring_stats() and vhu_dev_show(), which stop a queue for a
 * moment to read the indexes and counters that its bursts own.
 *
 * Queue numbering: queue pair 'qp' is the guest's RX virtqueue 2 * qp
 * (which vhu_dev_enqueue_burst() fills) and its TX virtqueue 2 * qp + 1
 * (which vhu_dev_dequeue_burst() empties). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vhu-vq.h"

struct ds;

/* The most queue pairs a frontend may use (GET_QUEUE_NUM). */
#define VHU_MAX_QUEUE_PAIRS 128
#define VHU_MAX_VRINGS (2 * VHU_MAX_QUEUE_PAIRS)

/* The virtio and protocol features we offer. */
#define VHU_DEV_FEATURES                                    \
    ((1ULL << VHU_VIRTIO_F_VERSION_1)                       \
     | (1ULL << VHU_VIRTIO_NET_F_MRG_RXBUF)                 \
     | (1ULL << VHU_VIRTIO_RING_F_INDIRECT_DESC)            \
     | (1ULL << VHU_VIRTIO_RING_F_EVENT_IDX)                \
     | (1ULL << VHU_VIRTIO_F_ANY_LAYOUT)                    \
     | (1ULL << VHU_VIRTIO_F_NOTIFY_ON_EMPTY)               \
     | (1ULL << VHU_VIRTIO_F_RING_PACKED)                   \
     | (1ULL << VHU_VIRTIO_F_IN_ORDER)                      \
     | (1ULL << VHU_VIRTIO_NET_F_MQ)                        \
     | (1ULL << VHU_VIRTIO_NET_F_MTU)                       \
     | (1ULL << VHU_VIRTIO_NET_F_GUEST_ANNOUNCE)            \
     | (1ULL << VHU_VIRTIO_NET_F_STATUS)                    \
     | (1ULL << VHU_F_PROTOCOL_FEATURES))

#define VHU_DEV_PROTOCOL_FEATURES                           \
    ((1ULL << VHU_PROTOCOL_F_MQ)                            \
     | (1ULL << VHU_PROTOCOL_F_REPLY_ACK)                   \
     | (1ULL << VHU_PROTOCOL_F_NET_MTU)                     \
     | (1ULL << VHU_PROTOCOL_F_RARP)                        \
     | (1ULL << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)         \
     | (1ULL << VHU_PROTOCOL_F_STATUS))

/* MTUs that NET_SET_MTU accepts (the range OVS accepts for mtu_request). */
#define VHU_DEV_MIN_MTU 68
#define VHU_DEV_MAX_MTU 9710

enum vhu_dev_mode {
    VHU_DEV_SERVER,             /* We listen on the socket path. */
    VHU_DEV_CLIENT,             /* We connect to it, and reconnect. */
};

/* Client mode: how long we wait before reconnecting after a failed attempt
 * or a disconnect.  The wait doubles each time up to the maximum, and goes
 * back to the minimum once a connection succeeds. */
#define VHU_DEV_MIN_BACKOFF_MS 250
#define VHU_DEV_MAX_BACKOFF_MS 4000

struct vhu_dev;

/* Server mode: who may connect, and where the socket may be made.  The
 * socket file gets this owner, group and mode after it is created and
 * before anybody can connect to it (we listen only then).  -1 leaves a
 * field as bind() made it: owned by us, mode 0777 less the umask.
 *
 * 'trusted_dir' (if nonnull, a prefix of the socket's path) is the
 * directory taken as it is, symbolic links and all: the run directory,
 * which only root can change.  Every directory of the path below it must
 * be a real directory: a symbolic link there (which whoever may write one
 * of those directories could place) is refused, never followed, as is
 * anything but a socket in the socket's own place. */
struct vhu_sock_perms {
    uid_t owner;
    gid_t group;
    int mode;                   /* Permission bits, 0 to 0777. */
    const char *trusted_dir;
};

#define VHU_SOCK_PERMS_DEFAULT                                  \
    (struct vhu_sock_perms) { (uid_t) -1, (gid_t) -1, -1, NULL }

/* Called by the control path, with no lock of ours held, whenever what the
 * vhu_dev_get_*() functions report may have changed: connection, features,
 * queues ready or enabled, MTU, a RARP request.  It must not call
 * vhu_dev_run() or vhu_dev_destroy(). */
typedef void vhu_dev_changed_cb(void *aux);

struct vhu_dev *vhu_dev_create(const char *path, enum vhu_dev_mode,
                               const struct vhu_sock_perms *,
                               vhu_dev_changed_cb *, void *aux,
                               char **errorp);
int vhu_dev_set_sock_perms(struct vhu_dev *, const struct vhu_sock_perms *,
                           char **errorp);
struct vhu_dev *vhu_dev_create_connected(const char *name, int sock,
                                         vhu_dev_changed_cb *, void *aux);
void vhu_dev_destroy(struct vhu_dev *);
int vhu_dev_set_ring_state_file(struct vhu_dev *, const char *path,
                                char **errorp);

void vhu_dev_run(struct vhu_dev *);
void vhu_dev_wait(struct vhu_dev *);

/* Bursts (see the thread model above). */
int vhu_dev_dequeue_burst(struct vhu_dev *, unsigned int qp,
                          struct vhu_buf *bufs, int n);
int vhu_dev_enqueue_burst(struct vhu_dev *, unsigned int qp,
                          const struct vhu_buf *pkts, int n);
int vhu_dev_dequeue_backlog(struct vhu_dev *, unsigned int qp);

/* State, for any thread. */
struct vhu_dev_state {
    bool connected;
    bool running;               /* Memory shared and queue pair 0 ready. */
    uint64_t features;          /* Negotiated virtio features. */
    uint64_t protocol_features;
    unsigned int n_vrings;      /* Virtqueues the frontend set up. */
    unsigned int n_queue_pairs; /* Pairs with at least one ring set up. */
    uint16_t mtu;               /* From NET_SET_MTU, or 0. */
    uint8_t status;             /* From SET_STATUS. */
    uint64_t n_connects;        /* Connections made so far. */
    uint64_t n_faults;          /* Queues broken so far. */
    uint64_t n_errors;          /* Requests refused so far. */
    uint64_t n_ring_resumed;    /* Queues resumed from their ring record. */
    uint64_t n_ring_rejected;   /* Ring records the rings disagreed with. */
    uint64_t n_ring_replayed;   /* Split: descriptors taken again. */
    uint64_t n_ring_finished;   /* Hand-backs finished from a record. */
    long long int connected_since;  /* Wall-clock ms, if connected. */
    char last_error[160];       /* The last refusal, protocol error, failed
                                 * connection or broken queue, or "". */
};

void vhu_dev_get_state(struct vhu_dev *, struct vhu_dev_state *);
const char *vhu_dev_get_name(const struct vhu_dev *);
bool vhu_dev_vring_ready(struct vhu_dev *, unsigned int vring);
bool vhu_dev_vring_enabled(struct vhu_dev *, unsigned int vring);
uint16_t vhu_dev_vring_size(struct vhu_dev *, unsigned int vring);
bool vhu_dev_vring_broken(struct vhu_dev *, unsigned int vring);
void vhu_dev_vring_stats(struct vhu_dev *, unsigned int vring,
                         struct vhu_vq_stats *);
bool vhu_dev_take_rarp(struct vhu_dev *, uint8_t mac[6]);
int vhu_dev_numa_node(struct vhu_dev *);

/* Appends to 'ds' a report for operators: the socket, the negotiated
 * features, guest memory and every queue the frontend set up, with its
 * indexes and counters. */
void vhu_dev_show(struct vhu_dev *, struct ds *);

#endif /* vhu-dev.h */

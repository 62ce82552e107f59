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

#ifndef VHU_DEV_PRIVATE_H
#define VHU_DEV_PRIVATE_H 1

/* What the files of a vhost-user device share, and nothing outside lib/
 * includes.  A device is four layers, one file each, each calling only
 * those below it:
 *
 *   vhu-socket.c     the socket: listen or connect, accept, reconnect with
 *                    backoff; it reads the frontend's messages
 *                    (vhu-msg.c frames them) and hands each to
 *   vhu-user.c       the protocol: the request table (vhu-requests.h),
 *                    the checks every request passes before its handler,
 *                    the handlers and the replies; the handlers change
 *                    the device through
 *   vhu-dev.c        device and vring state: what the frontend set up,
 *                    queues started and stopped through their gates, the
 *                    ring records (vhu-ring-state.c), and the bursts'
 *                    entry points (vhu-vq-split.c, vhu-vq-packed.c);
 *   vhu-dev-show.c   what other threads read: the getters of vhu-dev.h
 *                    and the text of vhu/show.
 *
 * The device's mutex guards what the control path keeps (struct vhu_dev,
 * struct vhu_vring_ctl); each queue's gate guards what its bursts use
 * (struct vhu_vq, vhu-vq.h).  The control path changes a queue only while
 * it holds both. */

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/compiler.h"
#include "ovs-thread.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-msg.h"
#include "vhu-vq.h"

struct vhu_mem;
struct vhu_ring_state;

/* Where Linux lists a process's fds, for what they are. */
#define PROC_FD_DIR "/proc/self/fd"

/* What the control path knows of one vring beyond what bursts see. */
struct vhu_vring_ctl {
    uint16_t size;              /* From SET_VRING_NUM, or 0. */
    bool addr_set;              /* SET_VRING_ADDR received. */
    uint64_t desc_uaddr;
    uint64_t avail_uaddr;
    uint64_t used_uaddr;
    bool started;               /* Kicked (SET_VRING_KICK) and not stopped
                                 * since (GET_VRING_BASE, or a new size or
                                 * base: see vhu_dev_restart_later()). */
    bool enabled;               /* SET_VRING_ENABLE. */
    bool check_record;          /* Not started yet on this connection: the
                                 * next start weighs the ring record. */
    const char *resumed_from;   /* How the last start on this connection
                                 * chose its position, for vhu/show. */
    int kick_fd;
    int err_fd;
    uint64_t n_kicks;           /* Kicks counted on 'kick_fd'. */
};

/* A vq in a cache line of its own: different PMD threads use different
 * queues of one device. */
struct vhu_vq_slot {
    PADDED_MEMBERS(CACHE_LINE_SIZE, struct vhu_vq vq;);
};

struct vhu_dev {
    char *name;                 /* The socket path, for logs. */
    enum vhu_dev_mode mode;
    struct vhu_sock_perms perms;    /* Server mode. */
    bool reconnect;             /* False for vhu_dev_create_connected(). */
    vhu_dev_changed_cb *changed_cb;
    void *aux;

    struct ovs_mutex mutex;

    /* Connection (vhu-socket.c). */
    int listen_fd;              /* Server mode: the listening socket, */
    int sock_dir_fd;            /* the directory it is in (O_PATH), */
    const char *sock_name;      /* and its name there (in 'name'). */
    int sock;                   /* The frontend's connection, or -1. */
    struct vhu_msg_reader reader;
    long long int next_connect; /* Client mode: when to try again. */
    int backoff;                /* Client mode: the next wait, in ms. */
    bool changed;               /* Call 'changed_cb' after this run. */

    /* What the frontend negotiated and set up, reset at disconnect. */
    uint64_t features OVS_GUARDED;
    uint64_t protocol_features OVS_GUARDED;
    bool owner OVS_GUARDED;
    uint16_t mtu OVS_GUARDED;
    uint8_t status OVS_GUARDED;
    bool rarp_pending OVS_GUARDED;
    uint8_t rarp_mac[6] OVS_GUARDED;
    struct vhu_mem *mem OVS_GUARDED;
    uint64_t mem_generation OVS_GUARDED;   /* vhu_mem_generation(mem). */
    struct vhu_vring_ctl ctl[VHU_MAX_VRINGS] OVS_GUARDED;

    /* Counters. */
    uint64_t n_connects OVS_GUARDED;
    uint64_t n_errors OVS_GUARDED;
    uint64_t n_faults_seen OVS_GUARDED; /* Queue faults in 'last_error'. */
    uint64_t n_resumed OVS_GUARDED;     /* Queues resumed from a record. */
    uint64_t n_rejected OVS_GUARDED;    /* Records the ring disagreed with. */
    uint64_t n_replayed OVS_GUARDED;    /* See struct vhu_ring_resume. */
    uint64_t n_finished OVS_GUARDED;

    long long int connected_since OVS_GUARDED;  /* Wall clock, ms. */
    char last_error[160] OVS_GUARDED;

    struct vhu_vq_slot *vqs;    /* VHU_MAX_VRINGS of them. */
    struct vhu_ring_state *ring_state;  /* Their records. */
};

static inline struct vhu_vq *
vhu_dev_vq(const struct vhu_dev *dev, unsigned int idx)
{
    return &dev->vqs[idx].vq;
}

/* Whether the bursts may use vring 'idx' now.  The control path writes a
 * queue's 'ready' only while it holds both the device's mutex and the
 * queue's gate, so either one is enough to read it: with the mutex, a
 * burst inside the queue carries on.  The thread-safety analysis has no
 * "either", hence this one reader that it does not look into. */
static inline bool
vhu_dev_vq_ready(const struct vhu_dev *dev, unsigned int idx)
    OVS_REQUIRES(dev->mutex) OVS_NO_THREAD_SAFETY_ANALYSIS
{
    return vhu_dev_vq(dev, idx)->ready;
}

/* Device and vring state (vhu-dev.c). */
struct vhu_dev *vhu_dev_alloc(const char *name, enum vhu_dev_mode,
                              vhu_dev_changed_cb *, void *aux);
void vhu_dev_free(struct vhu_dev *);
void vhu_dev_reset(struct vhu_dev *dev) OVS_REQUIRES(dev->mutex);
void vhu_dev_set_error(struct vhu_dev *dev, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3) OVS_REQUIRES(dev->mutex);
void vhu_dev_count_kicks(struct vhu_dev *dev) OVS_REQUIRES(dev->mutex);
void vhu_close_fd(int *fdp);

void vhu_dev_set_features(struct vhu_dev *dev, uint64_t features)
    OVS_REQUIRES(dev->mutex);
void vhu_dev_replace_mem(struct vhu_dev *dev, struct vhu_mem *)
    OVS_REQUIRES(dev->mutex);
void vhu_dev_set_vring_size(struct vhu_dev *dev, unsigned int idx,
                            uint16_t size)
    OVS_REQUIRES(dev->mutex);
bool vhu_dev_set_vring_addr(struct vhu_dev *dev, unsigned int idx,
                            const struct vhu_vring_addr *)
    OVS_REQUIRES(dev->mutex);
void vhu_dev_set_vring_base(struct vhu_dev *dev, unsigned int idx,
                            uint32_t base)
    OVS_REQUIRES(dev->mutex);
uint32_t vhu_dev_stop_vring(struct vhu_dev *dev, unsigned int idx)
    OVS_REQUIRES(dev->mutex);
void vhu_dev_start_vring(struct vhu_dev *dev, unsigned int idx, int kick_fd)
    OVS_REQUIRES(dev->mutex);
void vhu_dev_set_vring_call(struct vhu_dev *dev, unsigned int idx,
                            int call_fd)
    OVS_REQUIRES(dev->mutex);
void vhu_dev_enable_vring(struct vhu_dev *dev, unsigned int idx,
                          bool enable)
    OVS_REQUIRES(dev->mutex);

/* The protocol (vhu-user.c). */
bool vhu_user_handle_msg(struct vhu_dev *dev, struct vhu_msg *)
    OVS_REQUIRES(dev->mutex);
void vhu_user_bad_frame(struct vhu_dev *dev, int error,
                        const char *error_msg)
    OVS_REQUIRES(dev->mutex);

#endif /* vhu-dev-private.h */

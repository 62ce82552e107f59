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

#include "vhu-dev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "coverage.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"
#include "vhu-features.h"
#include "vhu-mem.h"
#include "vhu-msg.h"
#include "vhu-ring-state.h"
#include "vhu-sock-dir.h"

VLOG_DEFINE_THIS_MODULE(vhu_dev);

COVERAGE_DEFINE(vhu_request_refused);
COVERAGE_DEFINE(vhu_connect_failed);
COVERAGE_DEFINE(vhu_disconnect);
COVERAGE_DEFINE(vhu_ring_resumed);
COVERAGE_DEFINE(vhu_ring_record_rejected);
COVERAGE_DEFINE(vhu_ring_replayed);
COVERAGE_DEFINE(vhu_ring_handback_finished);

/* Requests handled per vhu_dev_run() call, so that a frontend that talks
 * without pause cannot starve other devices of the control thread. */
#define VHU_DEV_MAX_MSGS_PER_RUN 64

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

    /* Connection. */
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

static void vhu_dev_disconnect(struct vhu_dev *dev, const char *why)
    OVS_REQUIRES(dev->mutex);
static void vhu_dev_reset(struct vhu_dev *dev) OVS_REQUIRES(dev->mutex);

static void vhu_dev_set_error(struct vhu_dev *dev, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3) OVS_REQUIRES(dev->mutex);

static struct vhu_vq *
vhu_dev_vq(const struct vhu_dev *dev, unsigned int idx)
{
    return &dev->vqs[idx].vq;
}

/* Takes 'vq' away from the bursts: once this returns, none is inside it
 * and none will enter until vhu_vq_leave(). */
static void
vhu_vq_stop(struct vhu_vq *vq)
{
    while (!vhu_vq_try_enter(vq)) {
        sched_yield();
    }
}

static void
vhu_close_fd(int *fdp)
{
    if (*fdp >= 0) {
        close(*fdp);
        *fdp = -1;
    }
}

static struct vhu_dev *
vhu_dev_alloc(const char *name, enum vhu_dev_mode mode,
              vhu_dev_changed_cb *cb, void *aux)
{
    struct vhu_dev *dev = xzalloc(sizeof *dev);

    dev->name = xstrdup(name);
    dev->mode = mode;
    dev->changed_cb = cb;
    dev->aux = aux;
    ovs_mutex_init(&dev->mutex);
    dev->listen_fd = -1;
    dev->sock_dir_fd = -1;
    dev->sock = -1;
    vhu_msg_reader_init(&dev->reader);
    dev->backoff = VHU_DEV_MIN_BACKOFF_MS;
    dev->vqs = xzalloc_cacheline(VHU_MAX_VRINGS * sizeof *dev->vqs);
    dev->ring_state = vhu_ring_state_create(NULL, VHU_MAX_VRINGS, NULL);
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        struct vhu_vq *vq = vhu_dev_vq(dev, i);

        atomic_init(&vq->busy, false);
        atomic_init(&vq->faults, 0);
        vq->call_fd = -1;
        vq->avail_wrap = vq->used_wrap = true;  /* The spec's start. */
        vq->name = dev->name;
        vq->index = i;
        vq->record = vhu_ring_state_record(dev->ring_state, i);
        vq->marker = vhu_ring_state_marker(dev->ring_state);
        dev->ctl[i].kick_fd = -1;
        dev->ctl[i].err_fd = -1;
        dev->ctl[i].check_record = true;
    }
    return dev;
}

static int
vhu_sockaddr_init(struct sockaddr_un *sun, const char *path, char **errorp)
{
    if (strlen(path) >= sizeof sun->sun_path) {
        *errorp = xasprintf("%s: socket path longer than %"PRIuSIZE" bytes",
                            path, sizeof sun->sun_path - 1);
        return ENAMETOOLONG;
    }
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    ovs_strlcpy(sun->sun_path, path, sizeof sun->sun_path);
    return 0;
}

static int
vhu_socket(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

/* True if a process accepts connections on the socket at 'sun'. */
static bool
vhu_socket_is_live(const struct sockaddr_un *sun)
{
    int fd = vhu_socket();
    bool live;

    if (fd < 0) {
        return false;
    }
    live = !connect(fd, (const struct sockaddr *) sun, sizeof *sun)
           || errno == EAGAIN;
    close(fd);
    return live;
}

/* Gives the socket file of server 'dev' the owner, group and mode of
 * 'dev->perms'.  Never follows a symbolic link. */
static int
vhu_dev_apply_sock_perms(struct vhu_dev *dev, char **errorp)
{
    const struct vhu_sock_perms *p = &dev->perms;

    if ((p->owner != (uid_t) -1 || p->group != (gid_t) -1)
        && fchownat(dev->sock_dir_fd, dev->sock_name, p->owner, p->group,
                    AT_SYMLINK_NOFOLLOW)) {
        int error = errno;
        *errorp = xasprintf("%s: setting the socket's owner and group: %s",
                            dev->name, ovs_strerror(error));
        return error;
    }
    if (p->mode >= 0
        && fchmodat(dev->sock_dir_fd, dev->sock_name, p->mode & 0777,
                    AT_SYMLINK_NOFOLLOW)) {
        int error = errno;
        *errorp = xasprintf("%s: setting the socket's mode to %#o: %s",
                            dev->name, p->mode & 0777, ovs_strerror(error));
        return error;
    }
    return 0;
}

#define PROC_FD_DIR "/proc/self/fd"

/* Stores in 'sun' the address of server 'dev''s socket: its name in the
 * directory that 'dev->sock_dir_fd' holds open, reached through /proc, so
 * that nothing on the way there is looked up again (and could have been
 * replaced by a symbolic link since we opened it).  Without /proc, or if
 * that is too long, the path itself. */
static void
vhu_dev_sock_addr(const struct vhu_dev *dev, struct sockaddr_un *sun)
{
    char *via_proc = xasprintf("%s/%d/%s", PROC_FD_DIR, dev->sock_dir_fd,
                               dev->sock_name);
    char *error = NULL;

    if (access(PROC_FD_DIR, X_OK)
        || vhu_sockaddr_init(sun, via_proc, &error)) {
        free(error);
        error = NULL;
        /* vhu_dev_create() checked the path's length. */
        ovs_assert(!vhu_sockaddr_init(sun, dev->name, &error));
    }
    free(via_proc);
}

/* Removes server 'dev''s socket file, from the directory we opened. */
static void
vhu_dev_unlink_socket(struct vhu_dev *dev)
{
    fatal_signal_remove_file_to_unlink(dev->name);
    unlinkat(dev->sock_dir_fd, dev->sock_name, 0);
}

/* Listens on 'dev->name'.  A socket file that nobody listens on any more
 * (left by a process that died) is replaced; one that somebody does is
 * not, nor is anything that is not a socket. */
static int
vhu_dev_listen(struct vhu_dev *dev, char **errorp)
{
    struct sockaddr_un sun;
    struct stat st;
    int error;

    error = vhu_sockaddr_init(&sun, dev->name, errorp);
    if (error) {
        return error;
    }
    int dir_fd = vhu_sock_dir_open(dev->name, dev->perms.trusted_dir,
                                   &dev->sock_name, errorp);
    if (dir_fd < 0) {
        return -dir_fd;
    }
    dev->sock_dir_fd = dir_fd;
    vhu_dev_sock_addr(dev, &sun);

    if (!fstatat(dir_fd, dev->sock_name, &st, AT_SYMLINK_NOFOLLOW)
        && !S_ISSOCK(st.st_mode)) {
        *errorp = xasprintf("%s: exists and is not a socket", dev->name);
        return EEXIST;
    }

    int fd = vhu_socket();
    if (fd < 0) {
        *errorp = xasprintf("%s: socket: %s", dev->name, ovs_strerror(-fd));
        return -fd;
    }
    error = bind(fd, (struct sockaddr *) &sun, sizeof sun) ? errno : 0;
    if (error == EADDRINUSE && !vhu_socket_is_live(&sun)) {
        VLOG_INFO("%s: replacing a stale socket", dev->name);
        unlinkat(dir_fd, dev->sock_name, 0);
        error = bind(fd, (struct sockaddr *) &sun, sizeof sun) ? errno : 0;
    }
    if (error) {
        *errorp = (error == EADDRINUSE
                   ? xasprintf("%s: a running process already listens on "
                               "this socket", dev->name)
                   : xasprintf("%s: bind: %s", dev->name,
                               ovs_strerror(error)));
        close(fd);
        return error;
    }
    fatal_signal_add_file_to_unlink(dev->name);
    error = vhu_dev_apply_sock_perms(dev, errorp);
    if (error) {
        close(fd);
        vhu_dev_unlink_socket(dev);
        return error;
    }
    if (listen(fd, 8)) {
        error = errno;
        *errorp = xasprintf("%s: listen: %s", dev->name, ovs_strerror(error));
        close(fd);
        vhu_dev_unlink_socket(dev);
        return error;
    }
    dev->listen_fd = fd;
    return 0;
}

/* Creates a device for the vhost-user socket at 'path': in server mode it
 * listens there at once (and fails, with a message in '*errorp' for the
 * caller to free, if it cannot); in client mode it starts connecting,
 * which vhu_dev_run() retries until it succeeds.  'cb' (if nonnull) is
 * called with 'aux' whenever the state changes. */
struct vhu_dev *
vhu_dev_create(const char *path, enum vhu_dev_mode mode,
               const struct vhu_sock_perms *perms,
               vhu_dev_changed_cb *cb, void *aux, char **errorp)
{
    struct vhu_dev *dev = vhu_dev_alloc(path, mode, cb, aux);

    *errorp = NULL;
    dev->reconnect = true;
    dev->perms = perms ? *perms : VHU_SOCK_PERMS_DEFAULT;
    if (mode == VHU_DEV_SERVER) {
        if (vhu_dev_listen(dev, errorp)) {
            vhu_dev_destroy(dev);
            return NULL;
        }
    } else {
        struct sockaddr_un sun;
        if (vhu_sockaddr_init(&sun, path, errorp)) {
            vhu_dev_destroy(dev);
            return NULL;
        }
        dev->next_connect = LLONG_MIN;
    }
    return dev;
}

/* Creates a device on 'sock', a connection (a socketpair in tests) already
 * made, which it owns.  When that connection ends the device stays
 * disconnected. */
struct vhu_dev *
vhu_dev_create_connected(const char *name, int sock,
                         vhu_dev_changed_cb *cb, void *aux)
{
    struct vhu_dev *dev = vhu_dev_alloc(name, VHU_DEV_CLIENT, cb, aux);

    set_nonblocking(sock);
    dev->sock = sock;
    dev->n_connects = 1;
    return dev;
}

/* Changes the owner, group and mode of server 'dev''s socket file to
 * 'perms'.  Returns 0 or an errno value with a message in '*errorp'. */
int
vhu_dev_set_sock_perms(struct vhu_dev *dev,
                       const struct vhu_sock_perms *perms, char **errorp)
{
    int error = 0;

    *errorp = NULL;
    ovs_mutex_lock(&dev->mutex);
    dev->perms = *perms;
    if (dev->mode == VHU_DEV_SERVER && dev->listen_fd >= 0) {
        error = vhu_dev_apply_sock_perms(dev, errorp);
    }
    ovs_mutex_unlock(&dev->mutex);
    return error;
}

void
vhu_dev_destroy(struct vhu_dev *dev)
{
    if (!dev) {
        return;
    }

    ovs_mutex_lock(&dev->mutex);
    if (dev->sock >= 0) {
        vhu_dev_disconnect(dev, "device destroyed");
    }
    vhu_dev_reset(dev);
    if (dev->listen_fd >= 0) {
        close(dev->listen_fd);
        vhu_dev_unlink_socket(dev);
    }
    if (dev->sock_dir_fd >= 0) {
        close(dev->sock_dir_fd);
    }
    ovs_mutex_unlock(&dev->mutex);

    ovs_mutex_destroy(&dev->mutex);
    free_cacheline(dev->vqs);
    vhu_ring_state_destroy(dev->ring_state);
    free(dev->name);
    free(dev);
}

/* Keeps the records of 'dev''s queues in the file 'path' from now on, and
 * resumes from what it holds (see vhu-ring-state.h).  Call it before the
 * first connection.  Returns 0, or an errno value with a message in
 * '*errorp' (then the records stay in private memory). */
int
vhu_dev_set_ring_state_file(struct vhu_dev *dev, const char *path,
                            char **errorp)
{
    struct vhu_ring_state *rs = vhu_ring_state_create(path, VHU_MAX_VRINGS,
                                                      errorp);
    if (!rs) {
        return EINVAL;
    }

    ovs_mutex_lock(&dev->mutex);
    struct vhu_ring_state *old = dev->ring_state;
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        struct vhu_vq *vq = vhu_dev_vq(dev, i);

        vhu_vq_stop(vq);
        vq->record = vhu_ring_state_record(rs, i);
        vq->marker = vhu_ring_state_marker(rs);
        vhu_vq_leave(vq);
    }
    dev->ring_state = rs;
    ovs_mutex_unlock(&dev->mutex);
    vhu_ring_state_destroy(old);
    return 0;
}

const char *
vhu_dev_get_name(const struct vhu_dev *dev)
{
    return dev->name;
}

/* Queues.
 *
 * Each function here changes a vq only between vhu_vq_stop() and
 * vhu_vq_leave(). */

/* True if 'p', our address of a part of a ring, is nonnull and aligned on
 * 'align'.  A frontend address that is aligned may still map to one of
 * ours that is not, if the frontend's region starts at a misaligned
 * address or file offset; the bursts must not use such a ring. */
static bool
vhu_ring_part_ok(const void *p, uintptr_t align)
{
    return p && !((uintptr_t) p % align);
}

/* Points 'vq''s ring at guest memory, in the layout that 'vq->packed'
 * says.  Returns false if its addresses are not (all) inside 'dev->mem' or
 * are misaligned for the layout. */
static bool
vhu_dev_map_vring(struct vhu_dev *dev, struct vhu_vq *vq,
                  const struct vhu_vring_ctl *ctl)
    OVS_REQUIRES(dev->mutex)
{
    uint16_t size = ctl->size;

    if (vq->packed) {
        /* The descriptor ring, then the driver's and the device's event
         * suppression structures, in the places of the split ring's
         * three parts. */
        vq->packed_desc = vhu_mem_uva_to_hva(dev->mem, ctl->desc_uaddr,
                                             VHU_VRING_DESC_BYTES(size));
        vq->driver_event = vhu_mem_uva_to_hva(dev->mem, ctl->avail_uaddr,
                                              VHU_VRING_PACKED_EVENT_BYTES);
        vq->device_event = vhu_mem_uva_to_hva(dev->mem, ctl->used_uaddr,
                                              VHU_VRING_PACKED_EVENT_BYTES);
        return (vhu_ring_part_ok(vq->packed_desc, VHU_VRING_DESC_ALIGN)
                && vhu_ring_part_ok(vq->driver_event,
                                    VHU_VRING_PACKED_EVENT_ALIGN)
                && vhu_ring_part_ok(vq->device_event,
                                    VHU_VRING_PACKED_EVENT_ALIGN)
                && !(ctl->avail_uaddr % VHU_VRING_PACKED_EVENT_ALIGN));
    }
    vq->desc = vhu_mem_uva_to_hva(dev->mem, ctl->desc_uaddr,
                                  VHU_VRING_DESC_BYTES(size));
    vq->avail = vhu_mem_uva_to_hva(dev->mem, ctl->avail_uaddr,
                                   VHU_VRING_AVAIL_BYTES(size));
    vq->used = vhu_mem_uva_to_hva(dev->mem, ctl->used_uaddr,
                                  VHU_VRING_USED_BYTES(size));
    return (vhu_ring_part_ok(vq->desc, VHU_VRING_DESC_ALIGN)
            && vhu_ring_part_ok(vq->avail, VHU_VRING_AVAIL_ALIGN)
            && vhu_ring_part_ok(vq->used, VHU_VRING_USED_ALIGN)
            && IS_POW2(size));
}

/* On the first start of stopped vring 'idx' on a connection, set up as
 * 'layout': picks where it resumes, from its record or the frontend's base
 * (see vhu-ring-state.h), and says which in the log. */
static void
vhu_dev_resume_from_record(struct vhu_dev *dev, unsigned int idx,
                           const struct vhu_ring_layout *layout)
    OVS_REQUIRES(dev->mutex)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(20, 40);
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    struct vhu_ring_resume r;

    if (!ctl->check_record) {
        return;
    }
    ctl->check_record = false;

    vhu_ring_resume(vq, layout, &r);
    if (!r.applies) {
        if (r.ran) {
            ctl->resumed_from = "the frontend's base (the ring record is "
                                "not of this ring as it is now)";
            VLOG_INFO_RL(&rl, "%s: virtqueue %u: following the frontend's "
                         "base %#"PRIx32": the ring record does not apply "
                         "(%s)", dev->name, idx, r.frontend_base, r.ignored);
        } else {
            VLOG_DBG("%s: virtqueue %u: no ring record applies (%s)",
                     dev->name, idx, r.ignored);
        }
        return;
    }

    if (r.rejected) {
        dev->n_rejected++;
        COVERAGE_INC(vhu_ring_record_rejected);
        ctl->resumed_from = "the frontend's base (the ring record "
                            "disagreed with the ring)";
        VLOG_WARN_RL(&rl, "%s: virtqueue %u: not resuming from the ring "
                     "record: %s; following the frontend's base %#"PRIx32,
                     dev->name, idx, r.rejected, r.frontend_base);
        return;
    }

    dev->n_resumed++;
    dev->n_replayed += r.replayed;
    dev->n_finished += r.finished;
    COVERAGE_INC(vhu_ring_resumed);
    COVERAGE_ADD(vhu_ring_replayed, r.replayed);
    COVERAGE_ADD(vhu_ring_handback_finished, r.finished);
    if (vq->packed) {
        ctl->resumed_from = "the ring record";
        VLOG_INFO_RL(&rl, "%s: virtqueue %u: resuming at %"PRIu32" (wrap %d) "
                     "from the ring record, %s the frontend's base %"PRIu32
                     " (wrap %d); %d buffer(s) in flight handed back",
                     dev->name, idx, r.position & 0x7fff,
                     r.position >> 15 & 1,
                     r.frontend_agreed ? "as" : "instead of",
                     r.frontend_base & 0x7fff, r.frontend_base >> 15 & 1,
                     r.finished);
    } else {
        ctl->resumed_from = "the used index, as the ring record says";
        VLOG_INFO_RL(&rl, "%s: virtqueue %u: resuming at used index %"PRIu32
                     ", where the ring record says (the frontend's base %"
                     PRIu32"); %d descriptor(s) taken and never handed on "
                     "to take again", dev->name, idx, r.position,
                     r.frontend_base, r.replayed);
    }
}

/* Brings stopped 'vq' in line with what the frontend has set up: the
 * features, the memory table, and whether bursts may use it. */
static void
vhu_dev_refresh_vq(struct vhu_dev *dev, unsigned int idx)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    const struct vhu_vring_ctl *ctl = &dev->ctl[idx];
    uint64_t f = dev->features;
    bool enabled = (f & (1ULL << VHU_F_PROTOCOL_FEATURES)
                    ? ctl->enabled : true);
    bool was_ready = vq->ready;
    bool was_packed = vq->packed;

    vq->mem = dev->mem;
    vq->size = ctl->size;
    vq->mask = ctl->size - 1;
    vq->hdr_len = (f & ((1ULL << VHU_VIRTIO_F_VERSION_1)
                        | (1ULL << VHU_VIRTIO_NET_F_MRG_RXBUF))
                   ? VHU_VIRTIO_NET_HDR_LEN
                   : VHU_VIRTIO_NET_HDR_LEN_LEGACY);
    vq->mrg_rxbuf = f & (1ULL << VHU_VIRTIO_NET_F_MRG_RXBUF);
    vq->event_idx = f & (1ULL << VHU_VIRTIO_RING_F_EVENT_IDX);
    vq->indirect = f & (1ULL << VHU_VIRTIO_RING_F_INDIRECT_DESC);
    vq->notify_on_empty = f & (1ULL << VHU_VIRTIO_F_NOTIFY_ON_EMPTY);
    vq->in_order = f & (1ULL << VHU_VIRTIO_F_IN_ORDER);
    vq->packed = f & (1ULL << VHU_VIRTIO_F_RING_PACKED);

    vq->ready = false;
    if (ctl->started && enabled && ctl->addr_set && ctl->size && dev->mem) {
        if (vhu_dev_map_vring(dev, vq, ctl)) {
            vq->ready = true;
        } else {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
            VLOG_WARN_RL(&rl, "%s: virtqueue %u: ring addresses are not in "
                         "guest memory, or do not suit a %s ring of %"PRIu16
                         "; queue stays stopped", dev->name, idx,
                         vq->packed ? "packed" : "split", ctl->size);
        }
    }
    if (vq->ready) {
        struct vhu_ring_layout layout = {
            .features = f,
            .mem_generation = dev->mem_generation,
            .desc_uaddr = ctl->desc_uaddr,
            .avail_uaddr = ctl->avail_uaddr,
            .used_uaddr = ctl->used_uaddr,
            .size = ctl->size,
        };

        if (!was_ready || vq->packed != was_packed) {
            vhu_dev_resume_from_record(dev, idx, &layout);
            vq->ready = (vq->packed
                         ? vhu_vq_start_packed(vq)
                         : vhu_vq_start_split(vq));
            if (vq->ready) {
                vhu_ring_record_start(vq, &layout);
            }
        } else {
            vhu_ring_record_update(vq, &layout);
        }
    }
    if (vq->ready != was_ready) {
        dev->changed = true;
    }
}

/* Ends a change to vring 'idx' that the control path made with its vq
 * stopped: brings the vq in line with what the frontend has set up and
 * lets bursts in again.  'set_up_again' means that the frontend set the
 * ring up anew, which clears a fault found in the old set-up. */
static void
vhu_dev_resume_vq(struct vhu_dev *dev, unsigned int idx, bool set_up_again)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);

    if (set_up_again) {
        unsigned long long int faults = vhu_vq_faults(vq);

        atomic_store_relaxed(&vq->faults, faults & ~0xffULL);
    }
    vhu_dev_refresh_vq(dev, idx);
    vhu_vq_leave(vq);
}

/* Applies to vring 'idx' what the control path changed in its 'ctl'. */
static void
vhu_dev_update_vq(struct vhu_dev *dev, unsigned int idx, bool set_up_again)
    OVS_REQUIRES(dev->mutex)
{
    vhu_vq_stop(vhu_dev_vq(dev, idx));
    vhu_dev_resume_vq(dev, idx, set_up_again);
}

static void
vhu_dev_update_all_vqs(struct vhu_dev *dev)
    OVS_REQUIRES(dev->mutex)
{
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        vhu_dev_update_vq(dev, i, false);
    }
}

/* Makes 'mem' (which may be NULL) the memory table, and frees the old one
 * once no queue can use it. */
static void
vhu_dev_replace_mem(struct vhu_dev *dev, struct vhu_mem *mem)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_mem *old = dev->mem;

    dev->mem = mem;
    dev->mem_generation = vhu_mem_generation(mem);
    vhu_dev_update_all_vqs(dev);
    vhu_mem_destroy(old);
    dev->changed = true;
}

/* Forgets everything the frontend set up: stops every queue, closes their
 * eventfds, unmaps guest memory. */
static void
vhu_dev_reset(struct vhu_dev *dev)
    OVS_REQUIRES(dev->mutex)
{
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        struct vhu_vring_ctl *ctl = &dev->ctl[i];
        struct vhu_vq *vq = vhu_dev_vq(dev, i);

        vhu_close_fd(&ctl->kick_fd);
        vhu_close_fd(&ctl->err_fd);
        memset(ctl, 0, sizeof *ctl);
        ctl->kick_fd = ctl->err_fd = -1;
        ctl->check_record = true;

        /* In one critical section with the reset of its indexes, or a
         * burst could walk the old ring again from index 0. */
        vhu_vq_stop(vq);
        vhu_close_fd(&vq->call_fd);
        vq->last_avail_idx = vq->last_used_idx = 0;
        vq->avail_wrap = vq->used_wrap = true;
        vhu_dev_resume_vq(dev, i, true);
    }
    dev->features = 0;
    dev->protocol_features = 0;
    dev->owner = false;
    dev->mtu = 0;
    dev->status = 0;
    dev->rarp_pending = false;
    vhu_dev_replace_mem(dev, NULL);
}

/* Requests.
 *
 * A handler returns 0 or an errno value with a message in '*errorp'.  It
 * takes from the message the fds that it keeps; the dispatcher closes the
 * rest.  A request with a reply of its own stores it in '*reply' and its
 * size in '*reply_size'. */

struct vhu_request_ctx {
    struct vhu_dev *dev;
    struct vhu_msg *msg;
    union vhu_msg_payload reply;
    uint32_t reply_size;
    char *error;
};

typedef int vhu_request_handler(struct vhu_request_ctx *);

static int
vhu_refuse(struct vhu_request_ctx *ctx, int error, const char *format, ...)
    OVS_PRINTF_FORMAT(3, 4);

static int
vhu_refuse(struct vhu_request_ctx *ctx, int error, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    ctx->error = xvasprintf(format, args);
    va_end(args);
    return error;
}

static void
vhu_reply_u64(struct vhu_request_ctx *ctx, uint64_t value)
{
    ctx->reply.u64 = value;
    ctx->reply_size = sizeof ctx->reply.u64;
}

/* Checks the vring index of a request and returns it, or -1. */
static int
vhu_vring_index(struct vhu_request_ctx *ctx, uint32_t index)
{
    if (index >= VHU_MAX_VRINGS) {
        vhu_refuse(ctx, EINVAL, "vring index %"PRIu32" out of range "
                   "(at most %d vrings)", index, VHU_MAX_VRINGS);
        return -1;
    }
    return index;
}

static int
vhu_handle_get_features(struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_DEV_FEATURES);
    return 0;
}

static int
vhu_handle_set_features(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    struct vhu_dev *dev = ctx->dev;
    uint64_t features = ctx->msg->payload.u64;

    if (features & ~VHU_DEV_FEATURES) {
        return vhu_refuse(ctx, EINVAL, "features %#"PRIx64" were not "
                          "offered",
                          (uint64_t) (features & ~VHU_DEV_FEATURES));
    }
    if (features != dev->features) {
        /* The features decide the rings' layout and the header's length:
         * they may change only while every ring is stopped (as a frontend
         * does with GET_VRING_BASE before it sets a device up again). */
        for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
            if (dev->ctl[i].started) {
                return vhu_refuse(ctx, EBUSY, "features %#"PRIx64" differ "
                                  "from %#"PRIx64" while vring %u runs",
                                  features, dev->features, i);
            }
        }
        dev->features = features;
        vhu_dev_update_all_vqs(dev);
        dev->changed = true;
    }
    return 0;
}

static int
vhu_handle_set_owner(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    ctx->dev->owner = true;
    return 0;
}

static int
vhu_handle_reset_owner(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    vhu_dev_reset(ctx->dev);
    ctx->dev->changed = true;
    return 0;
}

static int
vhu_handle_get_protocol_features(struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_DEV_PROTOCOL_FEATURES);
    return 0;
}

static int
vhu_handle_set_protocol_features(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    uint64_t features = ctx->msg->payload.u64;

    if (features & ~VHU_DEV_PROTOCOL_FEATURES) {
        return vhu_refuse(ctx, EINVAL, "protocol features %#"PRIx64" were "
                          "not offered",
                          (uint64_t) (features
                                      & ~VHU_DEV_PROTOCOL_FEATURES));
    }
    ctx->dev->protocol_features = features;
    return 0;
}

static int
vhu_handle_set_mem_table(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    struct vhu_msg *msg = ctx->msg;
    const struct vhu_mem_table *table = &msg->payload.mem_table;
    size_t header = offsetof(struct vhu_mem_table, regions);

    if (msg->hdr.size < header) {
        return vhu_refuse(ctx, EINVAL, "payload of %"PRIu32" bytes is too "
                          "short for a memory table", msg->hdr.size);
    }
    if (!table->n_regions || table->n_regions > VHU_MEM_BASELINE_REGIONS) {
        return vhu_refuse(ctx, EINVAL, "%"PRIu32" regions (must be 1 to "
                          "%d)", table->n_regions, VHU_MEM_BASELINE_REGIONS);
    }
    if (msg->hdr.size != header + table->n_regions * sizeof table->regions[0]
        || msg->n_fds != table->n_regions) {
        return vhu_refuse(ctx, EINVAL, "%"PRIu32" regions with a payload of "
                          "%"PRIu32" bytes and %"PRIuSIZE" fds",
                          table->n_regions, msg->hdr.size, msg->n_fds);
    }

    struct vhu_mem *mem = vhu_mem_create();
    for (size_t i = 0; i < table->n_regions; i++) {
        int fd = vhu_msg_take_fd(msg, i);
        char *error;

        if (vhu_mem_add_region(mem, &table->regions[i], fd, &error)) {
            vhu_mem_destroy(mem);
            ctx->error = error;
            return EINVAL;
        }
    }
    vhu_dev_replace_mem(ctx->dev, mem);
    return 0;
}

static int
vhu_handle_get_max_mem_slots(struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_MEM_MAX_REGIONS);
    return 0;
}

static int
vhu_handle_add_mem_reg(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    struct vhu_dev *dev = ctx->dev;
    struct vhu_mem *mem = dev->mem ? vhu_mem_clone(dev->mem)
                                   : vhu_mem_create();
    int fd = vhu_msg_take_fd(ctx->msg, 0);
    char *error;

    if (vhu_mem_add_region(mem, &ctx->msg->payload.mem_single.region, fd,
                           &error)) {
        vhu_mem_destroy(mem);
        ctx->error = error;
        return EINVAL;
    }
    vhu_dev_replace_mem(dev, mem);
    return 0;
}

static int
vhu_handle_rem_mem_reg(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    struct vhu_dev *dev = ctx->dev;
    const struct vhu_mem_region_desc *region
        = &ctx->msg->payload.mem_single.region;

    if (dev->mem) {
        struct vhu_mem *mem = vhu_mem_clone(dev->mem);
        if (!vhu_mem_remove_region(mem, region)) {
            vhu_dev_replace_mem(dev, mem);
            return 0;
        }
        vhu_mem_destroy(mem);
    }
    return vhu_refuse(ctx, ENOENT, "no region at guest address %#"PRIx64
                      " of %#"PRIx64" bytes", region->guest_phys_addr,
                      region->memory_size);
}

/* A frontend stops a ring (GET_VRING_BASE) before it sets it up again, and
 * starts it with a kick (SET_VRING_KICK) after.  One that gives a running
 * ring a new size or base without stopping it first stops it here: the
 * ring's next set-up messages would otherwise each leave it running
 * half-changed, the new base with the old addresses, say. */
static void
vhu_dev_restart_later(struct vhu_dev *dev, int idx, const char *what)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];

    if (ctl->started) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_INFO_RL(&rl, "%s: vring %d: new %s while it runs; stopped until "
                     "its next kick", dev->name, idx, what);
        ctl->started = false;
    }
}

static int
vhu_handle_set_vring_num(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    const struct vhu_vring_state *state = &ctx->msg->payload.state;
    int idx = vhu_vring_index(ctx, state->index);
    uint32_t num = state->num;

    if (idx < 0) {
        return EINVAL;
    }
    /* A packed ring may have any size; a split one, a power of 2. */
    bool packed = ctx->dev->features & (1ULL << VHU_VIRTIO_F_RING_PACKED);
    if (!num || num > VHU_VRING_MAX_SIZE || (!packed && !IS_POW2(num))) {
        return vhu_refuse(ctx, EINVAL, "vring %d: size %"PRIu32" is not %s "
                          "from 1 to %d", idx, num,
                          packed ? "a size" : "a power of 2",
                          VHU_VRING_MAX_SIZE);
    }

    ctx->dev->ctl[idx].size = num;
    vhu_dev_restart_later(ctx->dev, idx, "size");
    vhu_dev_update_vq(ctx->dev, idx, true);
    return 0;
}

static int
vhu_handle_set_vring_addr(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    const struct vhu_vring_addr *addr = &ctx->msg->payload.addr;
    int idx = vhu_vring_index(ctx, addr->index);

    if (idx < 0) {
        return EINVAL;
    }
    if (addr->desc_user_addr % VHU_VRING_DESC_ALIGN
        || addr->avail_user_addr % VHU_VRING_AVAIL_ALIGN
        || addr->used_user_addr % VHU_VRING_USED_ALIGN) {
        return vhu_refuse(ctx, EINVAL, "vring %d: misaligned ring address",
                          idx);
    }

    struct vhu_dev *dev = ctx->dev;
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    vhu_vq_stop(vq);
    ctl->addr_set = true;
    ctl->desc_uaddr = addr->desc_user_addr;
    ctl->avail_uaddr = addr->avail_user_addr;
    ctl->used_uaddr = addr->used_user_addr;
    bool mapped = !dev->mem || !ctl->size || vhu_dev_map_vring(dev, vq, ctl);
    vhu_dev_resume_vq(dev, idx, true);

    if (!mapped) {
        return vhu_refuse(ctx, EINVAL, "vring %d: ring addresses are not in "
                          "guest memory", idx);
    }
    return 0;
}

static int
vhu_handle_set_vring_base(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    const struct vhu_vring_state *state = &ctx->msg->payload.state;
    int idx = vhu_vring_index(ctx, state->index);

    if (idx < 0) {
        return EINVAL;
    }

    struct vhu_dev *dev = ctx->dev;
    bool packed = dev->features & (1ULL << VHU_VIRTIO_F_RING_PACKED);
    if (!packed && state->num > UINT16_MAX) {
        return vhu_refuse(ctx, EINVAL, "vring %d: base %"PRIu32" out of "
                          "range for a split ring", idx, state->num);
    }

    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    vhu_dev_restart_later(dev, idx, "base");
    vhu_vq_stop(vq);
    if (packed) {
        /* Bits 0-14 are the next descriptor to take, bit 15 the driver's
         * wrap counter there.  The upper half (the used position, which
         * QEMU sends and virtio-user leaves 0) is not needed: we had used
         * every buffer we took when the ring stopped, so both positions
         * were equal. */
        uint16_t avail = state->num & 0xffff;
        uint16_t used = state->num >> 16;

        vq->last_avail_idx = vq->last_used_idx = avail & 0x7fff;
        vq->avail_wrap = vq->used_wrap = avail >> 15;
        if (used && used != avail) {
            VLOG_DBG("%s: vring %d: used position %#"PRIx16" in SET_VRING_"
                     "BASE differs from avail %#"PRIx16"; following avail",
                     dev->name, idx, used, avail);
        }
    } else {
        vq->last_avail_idx = vq->last_used_idx = state->num;
    }
    vhu_dev_resume_vq(dev, idx, true);
    return 0;
}

static int
vhu_handle_get_vring_base(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    const struct vhu_vring_state *state = &ctx->msg->payload.state;
    int idx = vhu_vring_index(ctx, state->index);

    if (idx < 0) {
        return EINVAL;
    }

    struct vhu_dev *dev = ctx->dev;
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    vhu_vq_stop(vq);
    ctl->started = false;
    vhu_close_fd(&ctl->kick_fd);
    vhu_close_fd(&vq->call_fd);
    if (vq->ready) {
        vhu_ring_record_handed_back(vq);
    }
    ctx->reply.state.index = idx;
    if (vq->packed) {
        /* The avail position and wrap counter in the lower half, the used
         * ones in the upper half, as QEMU reads them back. */
        ctx->reply.state.num = ((vq->last_avail_idx | vq->avail_wrap << 15)
                                | (uint32_t) (vq->last_used_idx
                                              | vq->used_wrap << 15) << 16);
    } else {
        ctx->reply.state.num = vq->last_avail_idx;
    }
    vhu_dev_resume_vq(dev, idx, false);
    ctx->reply_size = sizeof ctx->reply.state;
    return 0;
}

/* Returns NULL if 'fd' is an eventfd, and nonblocking if 'nonblocking',
 * otherwise what it is instead.  We write a guest's call eventfd from a
 * PMD thread: a pipe or socket there, or a blocking eventfd whose counter
 * the frontend filled up, would block the thread and every port it
 * polls. */
static const char *
vhu_eventfd_problem(int fd, bool nonblocking)
{
    char link[64], target[64];
    struct stat st;
    ssize_t len;

    snprintf(link, sizeof link, "%s/%d", PROC_FD_DIR, fd);
    len = readlink(link, target, sizeof target - 1);
    if (len >= 0) {
        target[len] = '\0';
        if (strcmp(target, "anon_inode:[eventfd]")) {
            return "not an eventfd";
        }
    } else if (fstat(fd, &st) || st.st_mode & S_IFMT) {
        /* Without /proc, at least an anonymous inode (as eventfds are):
         * not a pipe, socket, device or file. */
        return "not an eventfd";
    }
    if (nonblocking && !(fcntl(fd, F_GETFL) & O_NONBLOCK)) {
        return "a blocking eventfd";
    }
    return NULL;
}

/* Checks the u64 payload of SET_VRING_KICK, _CALL or _ERR and the fd that
 * comes with it (an eventfd, and for _CALL, which we write, a nonblocking
 * one).  Returns the vring index, or -1; stores the fd, taken from the
 * message, or -1 for VHU_VRING_NOFD, in '*fdp'. */
static int
vhu_vring_fd(struct vhu_request_ctx *ctx, int *fdp)
{
    uint64_t value = ctx->msg->payload.u64;
    bool nofd = value & VHU_VRING_NOFD;
    const char *problem;

    *fdp = -1;
    if (value & ~(uint64_t) (VHU_VRING_INDEX_MASK | VHU_VRING_NOFD)) {
        vhu_refuse(ctx, EINVAL, "unknown bits in %#"PRIx64, value);
        return -1;
    }
    if (ctx->msg->n_fds != (nofd ? 0 : 1)) {
        vhu_refuse(ctx, EINVAL, "%"PRIuSIZE" fds %s the no-fd flag",
                   ctx->msg->n_fds, nofd ? "with" : "without");
        return -1;
    }
    if (!nofd) {
        problem = vhu_eventfd_problem(ctx->msg->fds[0],
                                      ctx->msg->hdr.request
                                      == VHU_SET_VRING_CALL);
        if (problem) {
            vhu_refuse(ctx, EINVAL, "the fd is %s", problem);
            return -1;
        }
    }
    int idx = vhu_vring_index(ctx, value & VHU_VRING_INDEX_MASK);
    if (idx >= 0 && !nofd) {
        *fdp = vhu_msg_take_fd(ctx->msg, 0);
    }
    return idx;
}

static int
vhu_handle_set_vring_kick(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    int fd;
    int idx = vhu_vring_fd(ctx, &fd);

    if (idx < 0) {
        return EINVAL;
    }

    /* We poll every started ring, so the kick fd itself goes unread; a
     * ring without one (VHU_VRING_NOFD) is polled just the same. */
    struct vhu_vring_ctl *ctl = &ctx->dev->ctl[idx];
    vhu_close_fd(&ctl->kick_fd);
    ctl->kick_fd = fd;
    ctl->started = true;
    vhu_dev_update_vq(ctx->dev, idx, true);
    return 0;
}

static int
vhu_handle_set_vring_call(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    int fd;
    int idx = vhu_vring_fd(ctx, &fd);

    if (idx < 0) {
        return EINVAL;
    }

    struct vhu_vq *vq = vhu_dev_vq(ctx->dev, idx);
    vhu_vq_stop(vq);
    vhu_close_fd(&vq->call_fd);
    vq->call_fd = fd;
    vhu_vq_leave(vq);
    return 0;
}

static int
vhu_handle_set_vring_err(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    int fd;
    int idx = vhu_vring_fd(ctx, &fd);

    if (idx < 0) {
        return EINVAL;
    }
    vhu_close_fd(&ctx->dev->ctl[idx].err_fd);
    ctx->dev->ctl[idx].err_fd = fd;
    return 0;
}

static int
vhu_handle_get_queue_num(struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_MAX_QUEUE_PAIRS);
    return 0;
}

static int
vhu_handle_set_vring_enable(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    const struct vhu_vring_state *state = &ctx->msg->payload.state;
    int idx = vhu_vring_index(ctx, state->index);

    if (idx < 0) {
        return EINVAL;
    }
    if (state->num > 1) {
        return vhu_refuse(ctx, EINVAL, "vring %d: enable state %"PRIu32" is "
                          "neither 0 nor 1", idx, state->num);
    }

    if (ctx->dev->ctl[idx].enabled != state->num) {
        ctx->dev->ctl[idx].enabled = state->num;
        ctx->dev->changed = true;
    }
    vhu_dev_update_vq(ctx->dev, idx, false);
    return 0;
}

static int
vhu_handle_send_rarp(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    /* The guest's MAC address, in the first 6 bytes of the u64. */
    memcpy(ctx->dev->rarp_mac, &ctx->msg->payload.u64,
           sizeof ctx->dev->rarp_mac);
    ctx->dev->rarp_pending = true;
    ctx->dev->changed = true;
    return 0;
}

static int
vhu_handle_net_set_mtu(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    uint64_t mtu = ctx->msg->payload.u64;

    if (mtu < VHU_DEV_MIN_MTU || mtu > VHU_DEV_MAX_MTU) {
        return vhu_refuse(ctx, EINVAL, "MTU %"PRIu64" out of range %d..%d",
                          mtu, VHU_DEV_MIN_MTU, VHU_DEV_MAX_MTU);
    }
    ctx->dev->mtu = mtu;
    ctx->dev->changed = true;
    return 0;
}

static int
vhu_handle_set_status(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    uint64_t status = ctx->msg->payload.u64;

    if (status > UINT8_MAX) {
        return vhu_refuse(ctx, EINVAL, "device status %#"PRIx64" is more "
                          "than 8 bits", status);
    }
    if (status & VHU_VIRTIO_STATUS_DRIVER_OK
        && !(ctx->dev->status & VHU_VIRTIO_STATUS_DRIVER_OK)
        && !ctx->dev->mem) {
        /* QEMU gets here when the guest's memory is not shared (no
         * memory backend with share=on): it has no fd to send, so it
         * sends no memory table, and says nothing.  The port would just
         * stay down. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_WARN_RL(&rl, "%s: the frontend's driver is ready but sent no "
                     "memory table, so no queue can run: is the guest's "
                     "memory shared (QEMU: share=on)?", ctx->dev->name);
        vhu_dev_set_error(ctx->dev, "driver ready without a memory table "
                          "(guest memory not shared?)");
    }
    ctx->dev->status = status;
    ctx->dev->changed = true;
    return 0;
}

static int
vhu_handle_get_status(struct vhu_request_ctx *ctx)
    OVS_REQUIRES(ctx->dev->mutex)
{
    vhu_reply_u64(ctx, ctx->dev->status);
    return 0;
}

/* What each request we understand carries. */
struct vhu_request_spec {
    vhu_request_handler *handler;
    int size;                   /* Payload bytes, or -1: the handler checks
                                 * it. */
    uint8_t min_fds, max_fds;
    bool own_reply;             /* Has a reply of its own, so never a
                                 * REPLY_ACK. */
};

#define U64 sizeof(uint64_t)
#define STATE sizeof(struct vhu_vring_state)
static const struct vhu_request_spec vhu_requests[] = {
    [VHU_GET_FEATURES] = { vhu_handle_get_features, 0, 0, 0, true },
    [VHU_SET_FEATURES] = { vhu_handle_set_features, U64, 0, 0, false },
    [VHU_SET_OWNER] = { vhu_handle_set_owner, 0, 0, 0, false },
    [VHU_RESET_OWNER] = { vhu_handle_reset_owner, 0, 0, 0, false },
    [VHU_SET_MEM_TABLE] = { vhu_handle_set_mem_table, -1, 1,
                            VHU_MEM_BASELINE_REGIONS, false },
    [VHU_SET_VRING_NUM] = { vhu_handle_set_vring_num, STATE, 0, 0, false },
    [VHU_SET_VRING_ADDR] = { vhu_handle_set_vring_addr,
                             sizeof(struct vhu_vring_addr), 0, 0, false },
    [VHU_SET_VRING_BASE] = { vhu_handle_set_vring_base, STATE, 0, 0, false },
    [VHU_GET_VRING_BASE] = { vhu_handle_get_vring_base, STATE, 0, 0, true },
    [VHU_SET_VRING_KICK] = { vhu_handle_set_vring_kick, U64, 0, 1, false },
    [VHU_SET_VRING_CALL] = { vhu_handle_set_vring_call, U64, 0, 1, false },
    [VHU_SET_VRING_ERR] = { vhu_handle_set_vring_err, U64, 0, 1, false },
    [VHU_GET_PROTOCOL_FEATURES] = { vhu_handle_get_protocol_features,
                                    0, 0, 0, true },
    [VHU_SET_PROTOCOL_FEATURES] = { vhu_handle_set_protocol_features,
                                    U64, 0, 0, false },
    [VHU_GET_QUEUE_NUM] = { vhu_handle_get_queue_num, 0, 0, 0, true },
    [VHU_SET_VRING_ENABLE] = { vhu_handle_set_vring_enable, STATE, 0, 0,
                               false },
    [VHU_SEND_RARP] = { vhu_handle_send_rarp, U64, 0, 0, false },
    [VHU_NET_SET_MTU] = { vhu_handle_net_set_mtu, U64, 0, 0, false },
    [VHU_RESET_DEVICE] = { vhu_handle_reset_owner, 0, 0, 0, false },
    [VHU_GET_MAX_MEM_SLOTS] = { vhu_handle_get_max_mem_slots, 0, 0, 0,
                                true },
    [VHU_ADD_MEM_REG] = { vhu_handle_add_mem_reg,
                          sizeof(struct vhu_mem_single), 1, 1, false },
    [VHU_REM_MEM_REG] = { vhu_handle_rem_mem_reg,
                          sizeof(struct vhu_mem_single), 0, 1, false },
    [VHU_SET_STATUS] = { vhu_handle_set_status, U64, 0, 0, false },
    [VHU_GET_STATUS] = { vhu_handle_get_status, 0, 0, 0, true },
};
#undef U64
#undef STATE

static int
vhu_dev_send_reply(struct vhu_dev *dev, uint32_t request, const void *payload,
                   uint32_t size)
{
    struct vhu_msg_header hdr = {
        .request = request,
        .flags = VHU_MSG_VERSION | VHU_MSG_REPLY,
        .size = size,
    };
    int error = vhu_msg_send(dev->sock, &hdr, payload, NULL, 0);

    if (error == EAGAIN) {
        /* A frontend waits for each reply before it sends the next
         * request, so the socket's buffer never fills with replies unless
         * the frontend stopped reading them.  Waiting for it to drain
         * would stall ovs-vswitchd's main loop: the connection ends. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        dev->n_errors++;
        COVERAGE_INC(vhu_request_refused);
        VLOG_WARN_RL(&rl, "%s: the frontend does not read its replies (to "
                     "%s); closing the connection", dev->name,
                     vhu_request_name(request));
        vhu_dev_set_error(dev, "the frontend does not read its replies");
    }
    return error;
}

/* Handles one complete request in 'msg'.  Returns false if the connection
 * must be closed. */
static bool
vhu_dev_handle_msg(struct vhu_dev *dev, struct vhu_msg *msg)
    OVS_REQUIRES(dev->mutex)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    uint32_t request = msg->hdr.request;
    const struct vhu_request_spec *spec
        = (request < ARRAY_SIZE(vhu_requests) && vhu_requests[request].handler
           ? &vhu_requests[request] : NULL);
    struct vhu_request_ctx ctx = { .dev = dev, .msg = msg };
    int error;

    VLOG_DBG("%s: %s (%"PRIu32"), %"PRIu32" bytes, %"PRIuSIZE" fds",
             dev->name, vhu_request_name(request), request, msg->hdr.size,
             msg->n_fds);
    if (!spec) {
        error = vhu_refuse(&ctx, EOPNOTSUPP, "unknown request");
    } else if (spec->size >= 0 && msg->hdr.size != spec->size) {
        error = vhu_refuse(&ctx, EINVAL, "payload of %"PRIu32" bytes, "
                           "expected %d", msg->hdr.size, spec->size);
    } else if (msg->n_fds < spec->min_fds || msg->n_fds > spec->max_fds) {
        error = vhu_refuse(&ctx, EINVAL, "%"PRIuSIZE" fds, expected %s%d",
                           msg->n_fds,
                           spec->min_fds == spec->max_fds ? "" : "at most ",
                           spec->max_fds);
    } else {
        error = spec->handler(&ctx);
    }
    vhu_msg_close_fds(msg);

    bool need_ack = (msg->hdr.flags & VHU_MSG_NEED_REPLY
                     && dev->protocol_features
                        & (1ULL << VHU_PROTOCOL_F_REPLY_ACK)
                     && !(spec && spec->own_reply));
    if (error) {
        dev->n_errors++;
        COVERAGE_INC(vhu_request_refused);
        VLOG_WARN_RL(&rl, "%s: %s (%"PRIu32") refused: %s%s", dev->name,
                     vhu_request_name(request), request, ctx.error,
                     need_ack ? "" : "; closing the connection");
        vhu_dev_set_error(dev, "%s refused: %s", vhu_request_name(request),
                          ctx.error);
        free(ctx.error);
        if (!need_ack) {
            return false;
        }
        uint64_t nack = error;
        return !vhu_dev_send_reply(dev, request, &nack, sizeof nack);
    }
    if (spec->own_reply) {
        return !vhu_dev_send_reply(dev, request, &ctx.reply,
                                   ctx.reply_size);
    } else if (need_ack) {
        uint64_t ack = 0;
        return !vhu_dev_send_reply(dev, request, &ack, sizeof ack);
    }
    return true;
}

/* Connection. */

static void
vhu_dev_connected(struct vhu_dev *dev, int sock)
    OVS_REQUIRES(dev->mutex)
{
    VLOG_INFO("%s: vhost-user frontend connected", dev->name);
    dev->sock = sock;
    dev->connected_since = time_wall_msec();
    /* What went wrong before this connection is history now. */
    dev->last_error[0] = '\0';
    dev->n_connects++;
    dev->backoff = VHU_DEV_MIN_BACKOFF_MS;
    dev->changed = true;
}

static void
vhu_dev_disconnect(struct vhu_dev *dev, const char *why)
    OVS_REQUIRES(dev->mutex)
{
    VLOG_INFO("%s: vhost-user frontend disconnected (%s)", dev->name, why);
    COVERAGE_INC(vhu_disconnect);
    close(dev->sock);
    dev->sock = -1;
    vhu_msg_reader_clear(&dev->reader);
    vhu_dev_reset(dev);
    dev->next_connect = time_msec() + dev->backoff;
    dev->changed = true;
}

static void
vhu_dev_try_connect(struct vhu_dev *dev)
    OVS_REQUIRES(dev->mutex)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct sockaddr_un sun;
    char *error_msg;
    int error;

    /* vhu_dev_create() checked the path's length. */
    error = vhu_sockaddr_init(&sun, dev->name, &error_msg);
    ovs_assert(!error);
    int fd = vhu_socket();
    if (fd < 0) {
        error = -fd;
    } else if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        error = errno;
        close(fd);
    } else {
        vhu_dev_connected(dev, fd);
        return;
    }

    COVERAGE_INC(vhu_connect_failed);
    vhu_dev_set_error(dev, "connecting: %s", ovs_strerror(error));
    VLOG_INFO_RL(&rl, "%s: connecting to the vhost-user frontend failed "
                 "(%s); retrying in %d ms", dev->name, ovs_strerror(error),
                 dev->backoff);
    dev->next_connect = time_msec() + dev->backoff;
    dev->backoff = MIN(dev->backoff * 2, VHU_DEV_MAX_BACKOFF_MS);
}

/* Adds up the kicks that the guest sent since the last look.  We poll
 * every started ring, so nothing waits on a kick fd; the count is for
 * operators (vhu/show). */
static void
vhu_dev_count_kicks(struct vhu_dev *dev)
    OVS_REQUIRES(dev->mutex)
{
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        struct vhu_vring_ctl *ctl = &dev->ctl[i];
        struct pollfd pfd = { .fd = ctl->kick_fd, .events = POLLIN };
        uint64_t n;

        /* The frontend's eventfd may be blocking, and its flags are not
         * ours to change: read it only when poll() says it would not
         * block. */
        if (ctl->kick_fd >= 0 && poll(&pfd, 1, 0) == 1
            && pfd.revents & POLLIN
            && read(ctl->kick_fd, &n, sizeof n) == sizeof n) {
            ctl->n_kicks += n;
        }
    }
}

/* Connects or accepts if it is time, and handles the requests that have
 * arrived. */
void
vhu_dev_run(struct vhu_dev *dev)
{
    ovs_mutex_lock(&dev->mutex);
    if (dev->sock < 0 && dev->reconnect) {
        if (dev->mode == VHU_DEV_SERVER) {
            int fd = accept4(dev->listen_fd, NULL, NULL,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                vhu_dev_connected(dev, fd);
            }
        } else if (time_msec() >= dev->next_connect) {
            vhu_dev_try_connect(dev);
        }
    }

    for (int i = 0; dev->sock >= 0 && i < VHU_DEV_MAX_MSGS_PER_RUN; i++) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        char *error_msg = NULL;
        int error = vhu_msg_recv(&dev->reader, dev->sock, &error_msg);

        if (error == EAGAIN) {
            break;
        } else if (error == EOF) {
            vhu_dev_disconnect(dev, "closed by the frontend");
        } else if (error) {
            dev->n_errors++;
            COVERAGE_INC(vhu_request_refused);
            VLOG_WARN_RL(&rl, "%s: %s; closing the connection", dev->name,
                         error_msg ? error_msg : ovs_strerror(error));
            vhu_dev_set_error(dev, "%s", error_msg ? error_msg
                                                   : ovs_strerror(error));
            vhu_dev_disconnect(dev, error_msg ? "protocol error"
                                              : ovs_strerror(error));
            free(error_msg);
        } else {
            bool keep = vhu_dev_handle_msg(dev, &dev->reader.msg);
            vhu_msg_reader_clear(&dev->reader);
            if (!keep) {
                vhu_dev_disconnect(dev, "request refused");
            }
        }
    }

    vhu_dev_count_kicks(dev);
    bool changed = dev->changed;
    dev->changed = false;
    ovs_mutex_unlock(&dev->mutex);

    if (changed && dev->changed_cb) {
        dev->changed_cb(dev->aux);
    }
}

void
vhu_dev_wait(struct vhu_dev *dev)
{
    ovs_mutex_lock(&dev->mutex);
    if (dev->sock >= 0) {
        poll_fd_wait(dev->sock, POLLIN);
    } else if (!dev->reconnect) {
        /* Nothing more will happen. */
    } else if (dev->mode == VHU_DEV_SERVER) {
        poll_fd_wait(dev->listen_fd, POLLIN);
    } else {
        poll_timer_wait_until(dev->next_connect);
    }
    ovs_mutex_unlock(&dev->mutex);
}

/* Bursts. */

/* Dequeues up to 'n' packets that the guest sent on queue pair 'qp' into
 * 'bufs' (see struct vhu_buf).  Returns how many. */
int
vhu_dev_dequeue_burst(struct vhu_dev *dev, unsigned int qp,
                      struct vhu_buf *bufs, int n)
{
    struct vhu_vq *vq;
    int n_rx = 0;

    if (qp >= VHU_MAX_QUEUE_PAIRS) {
        return 0;
    }
    vq = vhu_dev_vq(dev, 2 * qp + 1);
    if (vhu_vq_try_enter(vq)) {
        if (vq->ready && !vhu_vq_is_broken(vq)) {
            n_rx = (vq->packed
                    ? vhu_vq_dequeue_packed(vq, bufs, n)
                    : vhu_vq_dequeue_split(vq, bufs, n));
        }
        vhu_vq_leave(vq);
    }
    return n_rx;
}

/* Enqueues to the guest on queue pair 'qp' the packets in 'pkts', in order,
 * until one does not fit.  Returns how many it enqueued; the caller still
 * owns the rest, to retry or drop. */
int
vhu_dev_enqueue_burst(struct vhu_dev *dev, unsigned int qp,
                      const struct vhu_buf *pkts, int n)
{
    struct vhu_vq *vq;
    int n_tx = 0;

    if (qp >= VHU_MAX_QUEUE_PAIRS) {
        return 0;
    }
    vq = vhu_dev_vq(dev, 2 * qp);
    if (vhu_vq_try_enter(vq)) {
        if (vq->ready && !vhu_vq_is_broken(vq)) {
            n_tx = (vq->packed
                    ? vhu_vq_enqueue_packed(vq, pkts, n)
                    : vhu_vq_enqueue_split(vq, pkts, n));
        }
        vhu_vq_leave(vq);
    }
    return n_tx;
}

/* Returns how many packets the guest has queued on queue pair 'qp''s TX
 * ring that no dequeue has taken yet: a snapshot, 0 if the ring is not
 * running or a burst is inside it. */
int
vhu_dev_dequeue_backlog(struct vhu_dev *dev, unsigned int qp)
{
    struct vhu_vq *vq;
    int n = 0;

    if (qp >= VHU_MAX_QUEUE_PAIRS) {
        return 0;
    }
    vq = vhu_dev_vq(dev, 2 * qp + 1);
    if (vhu_vq_try_enter(vq)) {
        if (vq->ready && !vhu_vq_is_broken(vq)) {
            n = (vq->packed
                 ? vhu_vq_backlog_packed(vq)
                 : vhu_vq_backlog_split(vq));
        }
        vhu_vq_leave(vq);
    }
    return n;
}

/* State. */

void
vhu_dev_get_state(struct vhu_dev *dev, struct vhu_dev_state *state)
{
    memset(state, 0, sizeof *state);
    ovs_mutex_lock(&dev->mutex);
    state->connected = dev->sock >= 0;
    state->features = dev->features;
    state->protocol_features = dev->protocol_features;
    state->mtu = dev->mtu;
    state->status = dev->status;
    state->n_connects = dev->n_connects;
    state->n_errors = dev->n_errors;
    state->n_ring_resumed = dev->n_resumed;
    state->n_ring_rejected = dev->n_rejected;
    state->n_ring_replayed = dev->n_replayed;
    state->n_ring_finished = dev->n_finished;
    state->connected_since = dev->sock >= 0 ? dev->connected_since : 0;
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        struct vhu_vq *vq = vhu_dev_vq(dev, i);
        enum vhu_vq_fault fault;

        if (dev->ctl[i].addr_set) {
            state->n_vrings++;
            state->n_queue_pairs = i / 2 + 1;
        }
        unsigned long long int faults = vhu_vq_faults(vq);

        state->n_faults += vhu_vq_n_faults(faults);
        fault = vhu_vq_fault_now(faults);
        if (fault != VHU_VQ_OK && state->n_faults > dev->n_faults_seen) {
            vhu_dev_set_error(dev, "virtqueue %u broken: %s", i,
                              vhu_vq_fault_name(fault));
        }
    }
    dev->n_faults_seen = state->n_faults;
    ovs_strlcpy(state->last_error, dev->last_error,
                sizeof state->last_error);
    struct vhu_vq *rx = vhu_dev_vq(dev, 0);
    struct vhu_vq *tx = vhu_dev_vq(dev, 1);
    state->running = dev->mem && rx->ready && tx->ready;
    ovs_mutex_unlock(&dev->mutex);
}

/* Reads whether vring 'idx' is ready and whether it is broken.  Neither
 * needs the queue stopped: the control path, which we exclude with the
 * mutex, is the only writer of 'ready', and 'faults' is atomic.  So a
 * burst in the queue carries on. */
static void
vhu_dev_vq_flags(struct vhu_dev *dev, unsigned int idx, bool *readyp,
                 bool *brokenp)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);

    ovs_mutex_lock(&dev->mutex);
    *readyp = vq->ready;
    *brokenp = vhu_vq_is_broken(vq);
    ovs_mutex_unlock(&dev->mutex);
}

bool
vhu_dev_vring_ready(struct vhu_dev *dev, unsigned int idx)
{
    bool ready = false, broken = false;

    if (idx < VHU_MAX_VRINGS) {
        vhu_dev_vq_flags(dev, idx, &ready, &broken);
    }
    return ready && !broken;
}

bool
vhu_dev_vring_broken(struct vhu_dev *dev, unsigned int idx)
{
    bool ready = false, broken = false;

    if (idx < VHU_MAX_VRINGS) {
        vhu_dev_vq_flags(dev, idx, &ready, &broken);
    }
    return broken;
}

bool
vhu_dev_vring_enabled(struct vhu_dev *dev, unsigned int idx)
{
    bool enabled = false;

    if (idx < VHU_MAX_VRINGS) {
        ovs_mutex_lock(&dev->mutex);
        enabled = (dev->features & (1ULL << VHU_F_PROTOCOL_FEATURES)
                   ? dev->ctl[idx].enabled
                   : dev->ctl[idx].addr_set);
        ovs_mutex_unlock(&dev->mutex);
    }
    return enabled;
}

uint16_t
vhu_dev_vring_size(struct vhu_dev *dev, unsigned int idx)
{
    uint16_t size = 0;

    if (idx < VHU_MAX_VRINGS) {
        ovs_mutex_lock(&dev->mutex);
        size = dev->ctl[idx].size;
        ovs_mutex_unlock(&dev->mutex);
    }
    return size;
}

void
vhu_dev_vring_stats(struct vhu_dev *dev, unsigned int idx,
                    struct vhu_vq_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (idx < VHU_MAX_VRINGS) {
        struct vhu_vq *vq = vhu_dev_vq(dev, idx);

        vhu_vq_stop(vq);
        *stats = vq->stats;
        vhu_vq_leave(vq);
    }
}

static void
vhu_dev_set_error(struct vhu_dev *dev, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(dev->last_error, sizeof dev->last_error, format, args);
    va_end(args);
}

/* If the frontend asked us (SEND_RARP) to announce the guest's MAC address,
 * stores it in 'mac' and returns true, once per request. */
bool
vhu_dev_take_rarp(struct vhu_dev *dev, uint8_t mac[6])
{
    bool pending;

    ovs_mutex_lock(&dev->mutex);
    pending = dev->rarp_pending;
    if (pending) {
        memcpy(mac, dev->rarp_mac, sizeof dev->rarp_mac);
        dev->rarp_pending = false;
    }
    ovs_mutex_unlock(&dev->mutex);
    return pending;
}

/* Returns the NUMA node that holds the first page of guest memory, or -1
 * if there is no guest memory or the kernel cannot say. */
int
vhu_dev_numa_node(struct vhu_dev *dev)
{
    int node = -1;

    ovs_mutex_lock(&dev->mutex);
    if (dev->mem && dev->mem->n_regions) {
        if (syscall(SYS_get_mempolicy, &node, NULL, 0,
                    dev->mem->regions[0].host_addr,
                    MPOL_F_NODE | MPOL_F_ADDR)) {
            node = -1;
        }
    }
    ovs_mutex_unlock(&dev->mutex);
    return node;
}

/* Appends to 's' the state of vring 'idx', which the frontend set up. */
static void
vhu_dev_show_vring(struct vhu_dev *dev, unsigned int idx, struct ds *s)
    OVS_REQUIRES(dev->mutex)
{
    const struct vhu_vring_ctl *ctl = &dev->ctl[idx];
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    bool protocol = dev->features & (1ULL << VHU_F_PROTOCOL_FEATURES);
    struct vhu_vq_stats stats;
    uint16_t avail_idx = 0, used_idx = 0;
    uint16_t last_avail, last_used;
    bool avail_wrap, used_wrap;
    uint16_t event_flags = 0, event_off_wrap = 0;
    unsigned long long int faults = vhu_vq_faults(vq);
    enum vhu_vq_fault fault = vhu_vq_fault_now(faults);
    unsigned long long int n_faults = vhu_vq_n_faults(faults);
    bool broken = fault != VHU_VQ_OK;
    bool ready = vq->ready;
    bool packed = vq->packed;

    /* The indexes and counters are the bursts': stop them to read. */
    vhu_vq_stop(vq);
    stats = vq->stats;
    last_avail = vq->last_avail_idx;
    last_used = vq->last_used_idx;
    avail_wrap = vq->avail_wrap;
    used_wrap = vq->used_wrap;
    if (ready && packed) {
        event_flags = vhu_read_u16(&vq->driver_event->flags);
        event_off_wrap = vhu_read_u16(&vq->driver_event->off_wrap);
    } else if (ready) {
        avail_idx = vhu_read_u16(&vq->avail->idx);
        used_idx = vhu_read_u16(&vq->used->idx);
    }
    vhu_vq_leave(vq);

    ds_put_format(s, "  vring %u (%s %u): %s, size %"PRIu16", %s, %s\n",
                  idx, idx % 2 ? "tx" : "rx", idx / 2,
                  packed ? "packed" : "split", ctl->size,
                  !protocol || ctl->enabled ? "enabled" : "disabled",
                  broken ? "broken" : ready ? "running" : "stopped");
    if (packed) {
        static const char *const event_names[] = {
            "enable", "disable", "desc", "reserved",
        };

        ds_put_format(s, "    next to take %"PRIu16" (wrap %d), next to "
                      "mark used %"PRIu16" (wrap %d)", last_avail,
                      avail_wrap, last_used, used_wrap);
        if (ready) {
            ds_put_format(s, ", guest wants calls: %s",
                          event_names[event_flags & 3]);
            if ((event_flags & 3) == VHU_RING_EVENT_FLAGS_DESC) {
                ds_put_format(s, " at %d (wrap %d)", event_off_wrap & 0x7fff,
                              event_off_wrap >> 15);
            }
        }
        ds_put_char(s, '\n');
    } else if (ready) {
        ds_put_format(s, "    avail idx %"PRIu16" (next to take %"PRIu16"), "
                      "used idx %"PRIu16" (next to write %"PRIu16")\n",
                      avail_idx, last_avail, used_idx, last_used);
    } else {
        ds_put_format(s, "    next avail %"PRIu16", next used %"PRIu16"\n",
                      last_avail, last_used);
    }
    ds_put_format(s, "    packets %"PRIu64", bytes %"PRIu64", dropped "
                  "%"PRIu64", kicks %"PRIu64", calls %"PRIu64"%s\n",
                  stats.packets, stats.bytes, stats.dropped, ctl->n_kicks,
                  stats.calls, vq->call_fd < 0 ? " (no call fd)" : "");
    if (ctl->resumed_from) {
        ds_put_format(s, "    resumed from %s\n", ctl->resumed_from);
    }
    if (n_faults) {
        ds_put_format(s, "    faults %llu%s%s\n", n_faults,
                      broken ? ", broken: " : "",
                      broken ? vhu_vq_fault_name(fault) : "");
    }
}

void
vhu_dev_show(struct vhu_dev *dev, struct ds *s)
{
    ovs_mutex_lock(&dev->mutex);
    vhu_dev_count_kicks(dev);
    ds_put_format(s, "  socket: %s (%s)\n", dev->name,
                  dev->mode == VHU_DEV_SERVER ? "server" : "client");
    if (dev->sock >= 0) {
        ds_put_cstr(s, "  frontend: connected since ");
        ds_put_strftime_msec(s, "%Y-%m-%d %H:%M:%S.###",
                             dev->connected_since, true);
    } else {
        ds_put_cstr(s, "  frontend: not connected");
    }
    ds_put_format(s, ", %"PRIu64" connection(s), %"PRIu64" refused "
                  "request(s)\n", dev->n_connects, dev->n_errors);
    if (dev->last_error[0]) {
        ds_put_format(s, "  last error: %s\n", dev->last_error);
    }
    ds_put_format(s, "  ring record: %s; %"PRIu64" queue(s) resumed from "
                  "it, %"PRIu64" disagreed with the ring, %"PRIu64" "
                  "hand-back(s) finished, %"PRIu64" taken again\n",
                  (vhu_ring_state_path(dev->ring_state)
                   ? vhu_ring_state_path(dev->ring_state)
                   : "in memory only"),
                  dev->n_resumed, dev->n_rejected, dev->n_finished,
                  dev->n_replayed);

    ds_put_format(s, "  features: %#"PRIx64" ", dev->features);
    vhu_format_features(s, VHU_FEATURES_VIRTIO, dev->features);
    ds_put_format(s, "\n  protocol features: %#"PRIx64" ",
                  dev->protocol_features);
    vhu_format_features(s, VHU_FEATURES_PROTOCOL, dev->protocol_features);
    ds_put_format(s, "\n  status: %#"PRIx8" ", dev->status);
    vhu_format_features(s, VHU_FEATURES_STATUS, dev->status);
    ds_put_format(s, "\n  mtu: %"PRIu16"\n", dev->mtu);

    size_t n_regions = dev->mem ? dev->mem->n_regions : 0;
    ds_put_format(s, "  memory: %"PRIuSIZE" region(s)\n", n_regions);
    for (size_t i = 0; i < n_regions; i++) {
        const struct vhu_mem_region *r = &dev->mem->regions[i];

        ds_put_format(s, "    region %"PRIuSIZE": guest %#"PRIx64
                      "-%#"PRIx64", %"PRIu64" kB, frontend address %#"
                      PRIx64"\n", i, r->guest_phys_addr,
                      r->guest_phys_addr + r->size - 1, r->size / 1024,
                      r->userspace_addr);
    }
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        if (dev->ctl[i].size || dev->ctl[i].addr_set) {
            vhu_dev_show_vring(dev, i, s);
        }
    }
    ovs_mutex_unlock(&dev->mutex);
}

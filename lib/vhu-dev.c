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

/* Device and vring state: the layer below the protocol (vhu-user.c) and
 * above the queues (vhu-vq-split.c, vhu-vq-packed.c, vhu-ring-state.c).
 *
 * It keeps what the frontend set up for each vring (struct vhu_vring_ctl)
 * and brings the queue that bursts use (struct vhu_vq) in line with it,
 * always between vhu_vq_stop() and vhu_vq_leave(), so that a burst never
 * sees a queue half-changed (see "The queue gate" in vhu-vq.h).  It also
 * holds the bursts' entry points, which the PMD threads call.
 *
 * It may call guest memory (vhu-mem.h), the queues and their records; it
 * never reads or writes the socket. */

#include <config.h>

#include "vhu-dev-private.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coverage.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vhu-mem.h"
#include "vhu-ring-state.h"

VLOG_DEFINE_THIS_MODULE(vhu_dev);

COVERAGE_DEFINE(vhu_ring_resumed);
COVERAGE_DEFINE(vhu_ring_record_rejected);
COVERAGE_DEFINE(vhu_ring_replayed);
COVERAGE_DEFINE(vhu_ring_handback_finished);

void
vhu_close_fd(int *fdp)
{
    if (*fdp >= 0) {
        close(*fdp);
        *fdp = -1;
    }
}

/* Makes a device with nothing set up, not connected. */
struct vhu_dev *
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

    /* Nobody else can see the device yet; the mutex and the gates are
     * taken all the same, as everywhere else. */
    ovs_mutex_lock(&dev->mutex);
    for (unsigned int i = 0; i < VHU_MAX_VRINGS; i++) {
        struct vhu_vq *vq = vhu_dev_vq(dev, i);

        atomic_init(&vq->gate.busy, false);
        atomic_init(&vq->faults, 0);
        vq->name = dev->name;
        vq->index = i;
        vhu_vq_stop(vq);
        vq->call_fd = -1;
        vq->avail_wrap = vq->used_wrap = true;  /* The spec's start. */
        vq->record = vhu_ring_state_record(dev->ring_state, i);
        vq->marker = vhu_ring_state_marker(dev->ring_state);
        vhu_vq_leave(vq);
        dev->ctl[i].kick_fd = -1;
        dev->ctl[i].err_fd = -1;
        dev->ctl[i].check_record = true;
    }
    ovs_mutex_unlock(&dev->mutex);
    return dev;
}

/* Frees 'dev', which vhu_dev_reset() left with nothing set up. */
void
vhu_dev_free(struct vhu_dev *dev)
{
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

void
vhu_dev_set_error(struct vhu_dev *dev, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(dev->last_error, sizeof dev->last_error, format, args);
    va_end(args);
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
vhu_dev_map_vring(struct vhu_dev *dev, struct vhu_vq *vq)
    OVS_REQUIRES(dev->mutex) VHU_VQ_REQUIRES(vq)
{
    const struct vhu_vring_ctl *ctl = &dev->ctl[vq->index];
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

/* On the first start of stopped 'vq' on a connection, set up as 'layout':
 * picks where it resumes, from its record or the frontend's base (see
 * vhu-ring-state.h), and says which in the log. */
static void
vhu_dev_resume_from_record(struct vhu_dev *dev, struct vhu_vq *vq,
                           const struct vhu_ring_layout *layout)
    OVS_REQUIRES(dev->mutex) VHU_VQ_REQUIRES(vq)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(20, 40);
    unsigned int idx = vq->index;
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];
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
vhu_dev_refresh_vq(struct vhu_dev *dev, struct vhu_vq *vq)
    OVS_REQUIRES(dev->mutex) VHU_VQ_REQUIRES(vq)
{
    const struct vhu_vring_ctl *ctl = &dev->ctl[vq->index];
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
        if (vhu_dev_map_vring(dev, vq)) {
            vq->ready = true;
        } else {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
            VLOG_WARN_RL(&rl, "%s: virtqueue %u: ring addresses are not in "
                         "guest memory, or do not suit a %s ring of %"PRIu16
                         "; queue stays stopped", dev->name, vq->index,
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
            vhu_dev_resume_from_record(dev, vq, &layout);
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

/* Ends a change to 'vq' that the control path made with the queue
 * stopped: brings the queue in line with what the frontend has set up and
 * lets bursts in again.  'set_up_again' means that the frontend set the
 * ring up anew, which clears a fault found in the old set-up. */
static void
vhu_dev_resume_vq(struct vhu_dev *dev, struct vhu_vq *vq, bool set_up_again)
    OVS_REQUIRES(dev->mutex) OVS_RELEASES(vq->gate, vhu_vq_any_gate)
{
    if (set_up_again) {
        unsigned long long int faults = vhu_vq_faults(vq);

        atomic_store_relaxed(&vq->faults, faults & ~0xffULL);
    }
    vhu_dev_refresh_vq(dev, vq);
    vhu_vq_leave(vq);
}

/* Applies to vring 'idx' what the control path changed in its 'ctl'. */
static void
vhu_dev_update_vq(struct vhu_dev *dev, unsigned int idx, bool set_up_again)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);

    vhu_vq_stop(vq);
    vhu_dev_resume_vq(dev, vq, set_up_again);
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
void
vhu_dev_replace_mem(struct vhu_dev *dev, struct vhu_mem *mem)
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
void
vhu_dev_reset(struct vhu_dev *dev)
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
        vhu_dev_resume_vq(dev, vq, true);
    }
    dev->features = 0;
    dev->protocol_features = 0;
    dev->owner = false;
    dev->mtu = 0;
    dev->status = 0;
    dev->rarp_pending = false;
    vhu_dev_replace_mem(dev, NULL);
}

/* Vrings, as the protocol sets them up.  The protocol layer has checked
 * the request: 'idx' is below VHU_MAX_VRINGS. */

/* Makes 'features' the negotiated features.  The protocol layer allows a
 * change only while every ring is stopped: they decide the rings' layout
 * and the header's length. */
void
vhu_dev_set_features(struct vhu_dev *dev, uint64_t features)
{
    if (features != dev->features) {
        dev->features = features;
        vhu_dev_update_all_vqs(dev);
        dev->changed = true;
    }
}

/* A frontend stops a ring (GET_VRING_BASE) before it sets it up again, and
 * starts it with a kick (SET_VRING_KICK) after.  One that gives a running
 * ring a new size or base without stopping it first stops it here: the
 * ring's next set-up messages would otherwise each leave it running
 * half-changed, the new base with the old addresses, say. */
static void
vhu_dev_restart_later(struct vhu_dev *dev, unsigned int idx,
                      const char *what)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];

    if (ctl->started) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_INFO_RL(&rl, "%s: vring %u: new %s while it runs; stopped until "
                     "its next kick", dev->name, idx, what);
        ctl->started = false;
    }
}

/* SET_VRING_NUM. */
void
vhu_dev_set_vring_size(struct vhu_dev *dev, unsigned int idx, uint16_t size)
{
    dev->ctl[idx].size = size;
    vhu_dev_restart_later(dev, idx, "size");
    vhu_dev_update_vq(dev, idx, true);
}

/* SET_VRING_ADDR.  Returns false if the addresses are not in guest memory
 * (the queue stays stopped until they are). */
bool
vhu_dev_set_vring_addr(struct vhu_dev *dev, unsigned int idx,
                       const struct vhu_vring_addr *addr)
{
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);

    vhu_vq_stop(vq);
    ctl->addr_set = true;
    ctl->desc_uaddr = addr->desc_user_addr;
    ctl->avail_uaddr = addr->avail_user_addr;
    ctl->used_uaddr = addr->used_user_addr;
    bool mapped = !dev->mem || !ctl->size || vhu_dev_map_vring(dev, vq);
    vhu_dev_resume_vq(dev, vq, true);
    return mapped;
}

/* SET_VRING_BASE: where the queue starts. */
void
vhu_dev_set_vring_base(struct vhu_dev *dev, unsigned int idx, uint32_t base)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);

    vhu_dev_restart_later(dev, idx, "base");
    vhu_vq_stop(vq);
    if (dev->features & (1ULL << VHU_VIRTIO_F_RING_PACKED)) {
        /* Bits 0-14 are the next descriptor to take, bit 15 the driver's
         * wrap counter there.  The upper half (the used position, which
         * QEMU sends and virtio-user leaves 0) is not needed: we had used
         * every buffer we took when the ring stopped, so both positions
         * were equal. */
        uint16_t avail = base & 0xffff;
        uint16_t used = base >> 16;

        vq->last_avail_idx = vq->last_used_idx = avail & 0x7fff;
        vq->avail_wrap = vq->used_wrap = avail >> 15;
        if (used && used != avail) {
            VLOG_DBG("%s: vring %u: used position %#"PRIx16" in SET_VRING_"
                     "BASE differs from avail %#"PRIx16"; following avail",
                     dev->name, idx, used, avail);
        }
    } else {
        vq->last_avail_idx = vq->last_used_idx = base;
    }
    vhu_dev_resume_vq(dev, vq, true);
}

/* GET_VRING_BASE: stops the queue until its next kick, and returns where
 * it stopped.  No burst is inside the queue when this returns, and none
 * can move it any more. */
uint32_t
vhu_dev_stop_vring(struct vhu_dev *dev, unsigned int idx)
{
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    uint32_t base;

    vhu_vq_stop(vq);
    ctl->started = false;
    vhu_close_fd(&ctl->kick_fd);
    vhu_close_fd(&vq->call_fd);
    if (vq->ready) {
        vhu_ring_record_handed_back(vq);
    }
    if (vq->packed) {
        /* The avail position and wrap counter in the lower half, the used
         * ones in the upper half, as QEMU reads them back. */
        base = ((vq->last_avail_idx | vq->avail_wrap << 15)
                | (uint32_t) (vq->last_used_idx | vq->used_wrap << 15) << 16);
    } else {
        base = vq->last_avail_idx;
    }
    vhu_dev_resume_vq(dev, vq, false);
    return base;
}

/* SET_VRING_KICK: starts the queue.  We poll every started ring, so the
 * kick fd itself ('kick_fd', or -1 for none: the ring is polled just the
 * same) is read only to count kicks. */
void
vhu_dev_start_vring(struct vhu_dev *dev, unsigned int idx, int kick_fd)
{
    struct vhu_vring_ctl *ctl = &dev->ctl[idx];

    vhu_close_fd(&ctl->kick_fd);
    ctl->kick_fd = kick_fd;
    ctl->started = true;
    vhu_dev_update_vq(dev, idx, true);
}

/* SET_VRING_CALL: the eventfd that the bursts write to interrupt the
 * guest, or -1 for none. */
void
vhu_dev_set_vring_call(struct vhu_dev *dev, unsigned int idx, int call_fd)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);

    vhu_vq_stop(vq);
    vhu_close_fd(&vq->call_fd);
    vq->call_fd = call_fd;
    vhu_vq_leave(vq);
}

/* SET_VRING_ENABLE. */
void
vhu_dev_enable_vring(struct vhu_dev *dev, unsigned int idx, bool enable)
{
    if (dev->ctl[idx].enabled != enable) {
        dev->ctl[idx].enabled = enable;
        dev->changed = true;
    }
    vhu_dev_update_vq(dev, idx, false);
}

/* Adds up the kicks that the guest sent since the last look.  We poll
 * every started ring, so nothing waits on a kick fd; the count is for
 * operators (vhu/show). */
void
vhu_dev_count_kicks(struct vhu_dev *dev)
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

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

/* What threads other than the control path read of a vhost-user device:
 * the getters of vhu-dev.h (for the netdev's status, statistics and
 * carrier) and the text of vhu/show.
 *
 * Each takes the device's mutex, which excludes the control path, and
 * leaves the bursts alone: a queue's 'ready' and its atomic 'faults' can
 * be read with the mutex alone.  Only vhu_dev_vring_stats() and the
 * vhu/show text stop a queue, for a moment, to read the indexes and
 * counters that its bursts own.
 *
 * It may call the device layer (vhu-dev-private.h), guest memory and the
 * feature names (vhu-features.h); it changes nothing but 'last_error' and
 * the kick counts. */

#include <config.h>

#include "vhu-dev-private.h"

#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"
#include "vhu-features.h"
#include "vhu-mem.h"
#include "vhu-ring-state.h"

const char *
vhu_dev_get_name(const struct vhu_dev *dev)
{
    return dev->name;
}

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
    state->running = (dev->mem && vhu_dev_vq_ready(dev, 0)
                      && vhu_dev_vq_ready(dev, 1));
    ovs_mutex_unlock(&dev->mutex);
}

/* Reads whether vring 'idx' is ready and whether it is broken.  Neither
 * needs the queue stopped (see vhu_dev_vq_ready()), and 'faults' is
 * atomic.  So a burst in the queue carries on. */
static void
vhu_dev_vq_flags(struct vhu_dev *dev, unsigned int idx, bool *readyp,
                 bool *brokenp)
{
    ovs_mutex_lock(&dev->mutex);
    *readyp = vhu_dev_vq_ready(dev, idx);
    *brokenp = vhu_vq_is_broken(vhu_dev_vq(dev, idx));
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
    int node;

    ovs_mutex_lock(&dev->mutex);
    node = vhu_mem_numa_node(dev->mem);
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
    bool ready, packed, has_call_fd;

    /* The indexes and counters are the bursts': stop them to read. */
    vhu_vq_stop(vq);
    ready = vq->ready;
    packed = vq->packed;
    has_call_fd = vq->call_fd >= 0;
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
                  stats.calls, has_call_fd ? "" : " (no call fd)");
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

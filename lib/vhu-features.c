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

/* Names of feature and status bits (vhu-features.h), for vhu/show and the
 * ports' status keys.  A leaf of the engine: it calls nothing of it. */

#include <config.h>

#include "vhu-features.h"

#include <stddef.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* virtio 1.2, sections 5.1.3 (virtio-net) and 6 (reserved bits). */
static const char *const virtio_names[64] = {
    [0] = "CSUM", [1] = "GUEST_CSUM", [2] = "CTRL_GUEST_OFFLOADS",
    [3] = "MTU", [5] = "MAC", [7] = "GUEST_TSO4", [8] = "GUEST_TSO6",
    [9] = "GUEST_ECN", [10] = "GUEST_UFO", [11] = "HOST_TSO4",
    [12] = "HOST_TSO6", [13] = "HOST_ECN", [14] = "HOST_UFO",
    [15] = "MRG_RXBUF", [16] = "STATUS", [17] = "CTRL_VQ",
    [18] = "CTRL_RX", [19] = "CTRL_VLAN", [21] = "GUEST_ANNOUNCE",
    [22] = "MQ", [23] = "CTRL_MAC_ADDR", [24] = "NOTIFY_ON_EMPTY",
    [27] = "ANY_LAYOUT", [28] = "INDIRECT_DESC", [29] = "EVENT_IDX",
    [30] = "PROTOCOL_FEATURES", [32] = "VERSION_1",
    [33] = "ACCESS_PLATFORM", [34] = "RING_PACKED", [35] = "IN_ORDER",
    [36] = "ORDER_PLATFORM", [37] = "SR_IOV", [38] = "NOTIFICATION_DATA",
    [39] = "NOTIF_CONFIG_DATA", [40] = "RING_RESET",
    [61] = "RSC_EXT", [62] = "STANDBY", [63] = "SPEED_DUPLEX",
};

/* QEMU docs/interop/vhost-user.rst, "Protocol features". */
static const char *const protocol_names[64] = {
    [0] = "MQ", [1] = "LOG_SHMFD", [2] = "RARP", [3] = "REPLY_ACK",
    [4] = "NET_MTU", [5] = "BACKEND_REQ", [6] = "CROSS_ENDIAN",
    [7] = "CRYPTO_SESSION", [8] = "PAGEFAULT", [9] = "CONFIG",
    [10] = "BACKEND_SEND_FD", [11] = "HOST_NOTIFIER",
    [12] = "INFLIGHT_SHMFD", [13] = "RESET_DEVICE",
    [14] = "INBAND_NOTIFICATIONS", [15] = "CONFIGURE_MEM_SLOTS",
    [16] = "STATUS", [17] = "XEN_MMAP",
};

/* virtio 1.2, section 2.1 "Device Status Field". */
static const char *const status_names[64] = {
    [0] = "ACKNOWLEDGE", [1] = "DRIVER", [2] = "DRIVER_OK",
    [3] = "FEATURES_OK", [6] = "DEVICE_NEEDS_RESET", [7] = "FAILED",
};

const char *
vhu_feature_name(enum vhu_feature_set set, unsigned int bit)
{
    const char *const *names = (set == VHU_FEATURES_VIRTIO ? virtio_names
                                : set == VHU_FEATURES_PROTOCOL
                                ? protocol_names
                                : status_names);

    return bit < 64 ? names[bit] : NULL;
}

void
vhu_format_features(struct ds *s, enum vhu_feature_set set, uint64_t bits)
{
    size_t start = s->length;

    for (unsigned int bit = 0; bit < 64; bit++) {
        if (bits & (UINT64_C(1) << bit)) {
            const char *name = vhu_feature_name(set, bit);

            if (s->length > start) {
                ds_put_char(s, ' ');
            }
            if (name) {
                ds_put_cstr(s, name);
            } else {
                ds_put_format(s, "bit%u", bit);
            }
        }
    }
    if (s->length == start) {
        ds_put_cstr(s, "none");
    }
}

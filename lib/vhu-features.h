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

#ifndef VHU_FEATURES_H
#define VHU_FEATURES_H 1

/* Names of virtio and vhost-user protocol feature bits and of virtio device
 * status bits, for operators: the spellings of the virtio 1.2 spec and of
 * QEMU's docs/interop/vhost-user.rst, without their prefixes
 * ("MRG_RXBUF", "REPLY_ACK").  A bit without a name is written "bit<N>". */

#include <stdint.h>

struct ds;

enum vhu_feature_set {
    VHU_FEATURES_VIRTIO,        /* virtio-net device features. */
    VHU_FEATURES_PROTOCOL,      /* vhost-user protocol features. */
    VHU_FEATURES_STATUS,        /* virtio device status (8 bits). */
};

const char *vhu_feature_name(enum vhu_feature_set, unsigned int bit);

/* Appends the names of the bits set in 'bits', separated by spaces, or
 * "none". */
void vhu_format_features(struct ds *, enum vhu_feature_set, uint64_t bits);

#endif /* vhu-features.h */

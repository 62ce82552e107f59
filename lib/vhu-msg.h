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

#ifndef VHU_MSG_H
#define VHU_MSG_H 1

/* vhost-user messages on the wire (QEMU's docs/interop/vhost-user.rst):
 * a header of three native-endian 32-bit words (request, flags, payload
 * size), the payload, and up to VHU_MSG_MAX_FDS file descriptors in the
 * ancillary data of the same sendmsg().
 *
 * This layer only frames messages: it reads them from a nonblocking socket
 * as they arrive, refuses frames that cannot be valid whatever the request
 * (wrong version, reply flag on a request, payload larger than any request
 * has, too many fds), and owns the fds of a message until the caller takes
 * them.  Whether a request's payload and fds fit that request is the
 * protocol layer's business. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "openvswitch/compiler.h"
#include "vhu-mem.h"
#include "vhu-requests.h"

/* VHU_GET_FEATURES and the others (vhu-requests.h). */
#define VHU_REQUEST_ENUM(NAME, NUMBER, ...) VHU_##NAME = NUMBER,
enum vhu_request {
    VHU_REQUESTS(VHU_REQUEST_ENUM)
};
#undef VHU_REQUEST_ENUM

/* Header flags. */
#define VHU_MSG_VERSION_MASK 0x3
#define VHU_MSG_VERSION 0x1
#define VHU_MSG_REPLY (1u << 2)
#define VHU_MSG_NEED_REPLY (1u << 3)

/* Protocol feature bits (GET_PROTOCOL_FEATURES). */
#define VHU_PROTOCOL_F_MQ 0
#define VHU_PROTOCOL_F_LOG_SHMFD 1
#define VHU_PROTOCOL_F_RARP 2
#define VHU_PROTOCOL_F_REPLY_ACK 3
#define VHU_PROTOCOL_F_NET_MTU 4
#define VHU_PROTOCOL_F_RESET_DEVICE 13
#define VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
#define VHU_PROTOCOL_F_STATUS 16

/* The virtio feature bit that announces protocol features. */
#define VHU_F_PROTOCOL_FEATURES 30

/* SET_VRING_KICK, SET_VRING_CALL and SET_VRING_ERR: the u64 payload holds
 * the ring index in its low byte, and this flag when no fd comes with it
 * (for a kick: the ring is to be polled). */
#define VHU_VRING_INDEX_MASK 0xff
#define VHU_VRING_NOFD (1u << 8)

/* At most this many fds travel with one message: one per region of a
 * memory table. */
#define VHU_MSG_MAX_FDS VHU_MEM_BASELINE_REGIONS

struct vhu_msg_header {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
};

struct vhu_vring_state {
    uint32_t index;
    uint32_t num;
};

/* Linux's struct vhost_vring_addr, which is what frontends send. */
struct vhu_vring_addr {
    uint32_t index;
    uint32_t flags;
    uint64_t desc_user_addr;
    uint64_t used_user_addr;
    uint64_t avail_user_addr;
    uint64_t log_guest_addr;
};

struct vhu_mem_table {
    uint32_t n_regions;
    uint32_t padding;
    struct vhu_mem_region_desc regions[VHU_MEM_BASELINE_REGIONS];
};

/* ADD_MEM_REG and REM_MEM_REG. */
struct vhu_mem_single {
    uint64_t padding;
    struct vhu_mem_region_desc region;
};

union vhu_msg_payload {
    uint64_t u64;
    struct vhu_vring_state state;
    struct vhu_vring_addr addr;
    struct vhu_mem_table mem_table;
    struct vhu_mem_single mem_single;
};

struct vhu_msg {
    struct vhu_msg_header hdr;
    union vhu_msg_payload payload;
    int fds[VHU_MSG_MAX_FDS];
    size_t n_fds;
};

/* The largest payload of any request we understand. */
#define VHU_MSG_MAX_PAYLOAD sizeof(union vhu_msg_payload)

/* Reads messages from one connection as they arrive. */
struct vhu_msg_reader {
    struct vhu_msg msg;         /* The message being read. */
    size_t received;            /* Bytes of header and payload so far. */
};

void vhu_msg_reader_init(struct vhu_msg_reader *);
void vhu_msg_reader_clear(struct vhu_msg_reader *);
int vhu_msg_recv(struct vhu_msg_reader *, int sock, char **errorp);

void vhu_msg_close_fds(struct vhu_msg *);
int vhu_msg_take_fd(struct vhu_msg *, size_t idx);

int vhu_msg_send(int sock, const struct vhu_msg_header *,
                 const void *payload, const int *fds, size_t n_fds);
struct iovec;
ssize_t vhu_msg_sendv(int sock, const struct iovec *, size_t n_iov,
                      const int *fds, size_t n_fds);

const char *vhu_request_name(uint32_t request);

#endif /* vhu-msg.h */

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

#ifndef VHU_REQUESTS_H
#define VHU_REQUESTS_H 1

/* The vhost-user requests (QEMU's docs/interop/vhost-user.rst, "Front-end
 * message types"), each defined once, here.
 *
 * VHU_REQUESTS(R) calls R(NAME, NUMBER, HANDLER, PAYLOAD, MIN_FDS,
 * MAX_FDS, REPLY, RING) once per request.  vhu-msg.h makes the enum
 * (VHU_NAME = NUMBER) from it and vhu-msg.c the names; vhu-user.c (the
 * protocol layer) makes its request table from it, and checks every
 * request against its line before the handler sees it:
 *
 *   - HANDLER: the function of vhu-user.c that carries the request out, or
 *     NULL for a request we know by name and do not offer (it is refused
 *     as unknown);
 *
 *   - PAYLOAD: the payload's size: NONE (empty), U64, STATE (struct
 *     vhu_vring_state), ADDR (struct vhu_vring_addr), MEM_SINGLE (struct
 *     vhu_mem_single), or VARIABLE (the handler checks it);
 *
 *   - MIN_FDS, MAX_FDS: how many fds may come with it;
 *
 *   - REPLY: ACK if the frontend gets a reply only when it asks for one
 *     (VHU_MSG_NEED_REPLY with REPLY_ACK negotiated), REPLY if the request
 *     always has a reply of its own;
 *
 *   - RING: where the request names a vring, whose index is checked for
 *     the handler: NO_RING, STATE ('index' of struct vhu_vring_state),
 *     ADDR ('index' of struct vhu_vring_addr), or, for the requests whose
 *     u64 payload holds an index and VHU_VRING_NOFD, EVENTFD (the fd, if
 *     any, must be an eventfd) or CALLFD (a nonblocking eventfd: we write
 *     it from the PMD threads).
 *
 * To add a request: a line here, its handler in vhu-user.c. */

#define VHU_REQUESTS(R)                                                     \
    R(GET_FEATURES, 1, vhu_handle_get_features,                             \
      NONE, 0, 0, REPLY, NO_RING)                                           \
    R(SET_FEATURES, 2, vhu_handle_set_features,                             \
      U64, 0, 0, ACK, NO_RING)                                              \
    R(SET_OWNER, 3, vhu_handle_set_owner,                                   \
      NONE, 0, 0, ACK, NO_RING)                                             \
    R(RESET_OWNER, 4, vhu_handle_reset_owner,                               \
      NONE, 0, 0, ACK, NO_RING)                                             \
    R(SET_MEM_TABLE, 5, vhu_handle_set_mem_table,                           \
      VARIABLE, 1, VHU_MEM_BASELINE_REGIONS, ACK, NO_RING)                  \
    R(SET_LOG_BASE, 6, NULL,                                                \
      VARIABLE, 0, 0, ACK, NO_RING)                                         \
    R(SET_LOG_FD, 7, NULL,                                                  \
      VARIABLE, 0, 0, ACK, NO_RING)                                         \
    R(SET_VRING_NUM, 8, vhu_handle_set_vring_num,                           \
      STATE, 0, 0, ACK, STATE)                                              \
    R(SET_VRING_ADDR, 9, vhu_handle_set_vring_addr,                         \
      ADDR, 0, 0, ACK, ADDR)                                                \
    R(SET_VRING_BASE, 10, vhu_handle_set_vring_base,                        \
      STATE, 0, 0, ACK, STATE)                                              \
    R(GET_VRING_BASE, 11, vhu_handle_get_vring_base,                        \
      STATE, 0, 0, REPLY, STATE)                                            \
    R(SET_VRING_KICK, 12, vhu_handle_set_vring_kick,                        \
      U64, 0, 1, ACK, EVENTFD)                                              \
    R(SET_VRING_CALL, 13, vhu_handle_set_vring_call,                        \
      U64, 0, 1, ACK, CALLFD)                                               \
    R(SET_VRING_ERR, 14, vhu_handle_set_vring_err,                          \
      U64, 0, 1, ACK, EVENTFD)                                              \
    R(GET_PROTOCOL_FEATURES, 15, vhu_handle_get_protocol_features,          \
      NONE, 0, 0, REPLY, NO_RING)                                           \
    R(SET_PROTOCOL_FEATURES, 16, vhu_handle_set_protocol_features,          \
      U64, 0, 0, ACK, NO_RING)                                              \
    R(GET_QUEUE_NUM, 17, vhu_handle_get_queue_num,                          \
      NONE, 0, 0, REPLY, NO_RING)                                           \
    R(SET_VRING_ENABLE, 18, vhu_handle_set_vring_enable,                    \
      STATE, 0, 0, ACK, STATE)                                              \
    R(SEND_RARP, 19, vhu_handle_send_rarp,                                  \
      U64, 0, 0, ACK, NO_RING)                                              \
    R(NET_SET_MTU, 20, vhu_handle_net_set_mtu,                              \
      U64, 0, 0, ACK, NO_RING)                                              \
    R(RESET_DEVICE, 34, vhu_handle_reset_owner,                             \
      NONE, 0, 0, ACK, NO_RING)                                             \
    R(GET_MAX_MEM_SLOTS, 36, vhu_handle_get_max_mem_slots,                  \
      NONE, 0, 0, REPLY, NO_RING)                                           \
    R(ADD_MEM_REG, 37, vhu_handle_add_mem_reg,                              \
      MEM_SINGLE, 1, 1, ACK, NO_RING)                                       \
    R(REM_MEM_REG, 38, vhu_handle_rem_mem_reg,                              \
      MEM_SINGLE, 0, 1, ACK, NO_RING)                                       \
    R(SET_STATUS, 39, vhu_handle_set_status,                                \
      U64, 0, 0, ACK, NO_RING)                                              \
    R(GET_STATUS, 40, vhu_handle_get_status,                                \
      NONE, 0, 0, REPLY, NO_RING)

#endif /* vhu-requests.h */

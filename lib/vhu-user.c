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

/* The vhost-user protocol (QEMU's docs/interop/vhost-user.rst), backend
 * side: the layer below the socket (vhu-socket.c), which hands it each
 * complete message, and above the device (vhu-dev.c), which it changes.
 *
 * Every request is defined once, in vhu-requests.h.  vhu_user_handle_msg()
 * checks a message against its request's line there (known, payload size,
 * fd count, vring index, eventfds) before any handler runs, so a handler
 * sees only a request of the right shape, and then answers it: the
 * request's own reply, or an ack or nack when the frontend asked for one
 * (REPLY_ACK).  A refused request is logged (rate-limited) with the
 * socket's name and counted; without a nack to send, the connection
 * ends.
 *
 * It may call the device layer (vhu-dev-private.h), guest memory
 * (vhu-mem.h) to build memory tables, and vhu-msg.h to send replies; it
 * never touches a queue that bursts use. */

#include <config.h>

#include "vhu-dev-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coverage.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vhu-mem.h"

VLOG_DEFINE_THIS_MODULE(vhu_user);

COVERAGE_DEFINE(vhu_request_refused);

/* What a handler gets: the message, checked against its request's line in
 * vhu-requests.h, with the vring it names (if it names one) and the fd
 * that came with it for the vring-fd requests (or -1 for VHU_VRING_NOFD),
 * which the handler then owns.  A handler returns 0 or an errno value with
 * a message in 'error'; it takes from the message the fds that it keeps,
 * and vhu_user_handle_msg() closes the rest.  A request with a reply of
 * its own stores it in 'reply' and its size in 'reply_size'. */
struct vhu_request_ctx {
    struct vhu_msg *msg;
    unsigned int vring;
    int fd;
    union vhu_msg_payload reply;
    uint32_t reply_size;
    char *error;
};

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

/* The handlers, in the order of vhu-requests.h. */

static int
vhu_handle_get_features(struct vhu_dev *dev OVS_UNUSED,
                        struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_DEV_FEATURES);
    return 0;
}

static int
vhu_handle_set_features(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
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
        vhu_dev_set_features(dev, features);
    }
    return 0;
}

static int
vhu_handle_set_owner(struct vhu_dev *dev,
                     struct vhu_request_ctx *ctx OVS_UNUSED)
    OVS_REQUIRES(dev->mutex)
{
    dev->owner = true;
    return 0;
}

/* RESET_OWNER and RESET_DEVICE. */
static int
vhu_handle_reset_owner(struct vhu_dev *dev,
                       struct vhu_request_ctx *ctx OVS_UNUSED)
    OVS_REQUIRES(dev->mutex)
{
    vhu_dev_reset(dev);
    dev->changed = true;
    return 0;
}

static int
vhu_handle_set_mem_table(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
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
    vhu_dev_replace_mem(dev, mem);
    return 0;
}

static int
vhu_handle_set_vring_num(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    uint32_t num = ctx->msg->payload.state.num;

    /* A packed ring may have any size; a split one, a power of 2. */
    bool packed = dev->features & (1ULL << VHU_VIRTIO_F_RING_PACKED);
    if (!num || num > VHU_VRING_MAX_SIZE || (!packed && !IS_POW2(num))) {
        return vhu_refuse(ctx, EINVAL, "vring %u: size %"PRIu32" is not %s "
                          "from 1 to %d", ctx->vring, num,
                          packed ? "a size" : "a power of 2",
                          VHU_VRING_MAX_SIZE);
    }
    vhu_dev_set_vring_size(dev, ctx->vring, num);
    return 0;
}

static int
vhu_handle_set_vring_addr(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    const struct vhu_vring_addr *addr = &ctx->msg->payload.addr;

    if (addr->desc_user_addr % VHU_VRING_DESC_ALIGN
        || addr->avail_user_addr % VHU_VRING_AVAIL_ALIGN
        || addr->used_user_addr % VHU_VRING_USED_ALIGN) {
        return vhu_refuse(ctx, EINVAL, "vring %u: misaligned ring address",
                          ctx->vring);
    }
    if (!vhu_dev_set_vring_addr(dev, ctx->vring, addr)) {
        return vhu_refuse(ctx, EINVAL, "vring %u: ring addresses are not in "
                          "guest memory", ctx->vring);
    }
    return 0;
}

static int
vhu_handle_set_vring_base(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    uint32_t base = ctx->msg->payload.state.num;
    bool packed = dev->features & (1ULL << VHU_VIRTIO_F_RING_PACKED);

    if (!packed && base > UINT16_MAX) {
        return vhu_refuse(ctx, EINVAL, "vring %u: base %"PRIu32" out of "
                          "range for a split ring", ctx->vring, base);
    }
    vhu_dev_set_vring_base(dev, ctx->vring, base);
    return 0;
}

static int
vhu_handle_get_vring_base(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    ctx->reply.state.index = ctx->vring;
    ctx->reply.state.num = vhu_dev_stop_vring(dev, ctx->vring);
    ctx->reply_size = sizeof ctx->reply.state;
    return 0;
}

static int
vhu_handle_set_vring_kick(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    vhu_dev_start_vring(dev, ctx->vring, ctx->fd);
    return 0;
}

static int
vhu_handle_set_vring_call(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    vhu_dev_set_vring_call(dev, ctx->vring, ctx->fd);
    return 0;
}

static int
vhu_handle_set_vring_err(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_vring_ctl *ctl = &dev->ctl[ctx->vring];

    vhu_close_fd(&ctl->err_fd);
    ctl->err_fd = ctx->fd;
    return 0;
}

static int
vhu_handle_get_protocol_features(struct vhu_dev *dev OVS_UNUSED,
                                 struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_DEV_PROTOCOL_FEATURES);
    return 0;
}

static int
vhu_handle_set_protocol_features(struct vhu_dev *dev,
                                 struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    uint64_t features = ctx->msg->payload.u64;

    if (features & ~VHU_DEV_PROTOCOL_FEATURES) {
        return vhu_refuse(ctx, EINVAL, "protocol features %#"PRIx64" were "
                          "not offered",
                          (uint64_t) (features
                                      & ~VHU_DEV_PROTOCOL_FEATURES));
    }
    dev->protocol_features = features;
    return 0;
}

static int
vhu_handle_get_queue_num(struct vhu_dev *dev OVS_UNUSED,
                         struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_MAX_QUEUE_PAIRS);
    return 0;
}

static int
vhu_handle_set_vring_enable(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    uint32_t enable = ctx->msg->payload.state.num;

    if (enable > 1) {
        return vhu_refuse(ctx, EINVAL, "vring %u: enable state %"PRIu32" is "
                          "neither 0 nor 1", ctx->vring, enable);
    }
    vhu_dev_enable_vring(dev, ctx->vring, enable);
    return 0;
}

static int
vhu_handle_send_rarp(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    /* The guest's MAC address, in the first 6 bytes of the u64. */
    memcpy(dev->rarp_mac, &ctx->msg->payload.u64, sizeof dev->rarp_mac);
    dev->rarp_pending = true;
    dev->changed = true;
    return 0;
}

static int
vhu_handle_net_set_mtu(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    uint64_t mtu = ctx->msg->payload.u64;

    if (mtu < VHU_DEV_MIN_MTU || mtu > VHU_DEV_MAX_MTU) {
        return vhu_refuse(ctx, EINVAL, "MTU %"PRIu64" out of range %d..%d",
                          mtu, VHU_DEV_MIN_MTU, VHU_DEV_MAX_MTU);
    }
    dev->mtu = mtu;
    dev->changed = true;
    return 0;
}

static int
vhu_handle_get_max_mem_slots(struct vhu_dev *dev OVS_UNUSED,
                             struct vhu_request_ctx *ctx)
{
    vhu_reply_u64(ctx, VHU_MEM_MAX_REGIONS);
    return 0;
}

static int
vhu_handle_add_mem_reg(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
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
vhu_handle_rem_mem_reg(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
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

static int
vhu_handle_set_status(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    uint64_t status = ctx->msg->payload.u64;

    if (status > UINT8_MAX) {
        return vhu_refuse(ctx, EINVAL, "device status %#"PRIx64" is more "
                          "than 8 bits", status);
    }
    if (status & VHU_VIRTIO_STATUS_DRIVER_OK
        && !(dev->status & VHU_VIRTIO_STATUS_DRIVER_OK)
        && !dev->mem) {
        /* QEMU gets here when the guest's memory is not shared (no
         * memory backend with share=on): it has no fd to send, so it
         * sends no memory table, and says nothing.  The port would just
         * stay down. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_WARN_RL(&rl, "%s: the frontend's driver is ready but sent no "
                     "memory table, so no queue can run: is the guest's "
                     "memory shared (QEMU: share=on)?", dev->name);
        vhu_dev_set_error(dev, "driver ready without a memory table "
                          "(guest memory not shared?)");
    }
    dev->status = status;
    dev->changed = true;
    return 0;
}

static int
vhu_handle_get_status(struct vhu_dev *dev, struct vhu_request_ctx *ctx)
    OVS_REQUIRES(dev->mutex)
{
    vhu_reply_u64(ctx, dev->status);
    return 0;
}

/* The request table, from vhu-requests.h. */

/* Where a request names a vring (the RING column). */
enum vhu_request_ring {
    VHU_RING_NO_RING,
    VHU_RING_STATE,             /* struct vhu_vring_state's 'index'. */
    VHU_RING_ADDR,              /* struct vhu_vring_addr's 'index'. */
    VHU_RING_EVENTFD,           /* A u64 of an index and VHU_VRING_NOFD,
                                 * and an eventfd unless NOFD. */
    VHU_RING_CALLFD,            /* The same with a nonblocking eventfd. */
};

typedef int vhu_request_handler(struct vhu_dev *, struct vhu_request_ctx *);

struct vhu_request_spec {
    vhu_request_handler *handler;   /* NULL: not offered. */
    int size;                   /* Payload bytes, or -1: the handler checks
                                 * it. */
    uint8_t min_fds, max_fds;
    bool own_reply;             /* Has a reply of its own, so never a
                                 * REPLY_ACK. */
    enum vhu_request_ring ring;
};

/* The PAYLOAD column. */
#define VHU_PAYLOAD_NONE 0
#define VHU_PAYLOAD_U64 ((int) sizeof(uint64_t))
#define VHU_PAYLOAD_STATE ((int) sizeof(struct vhu_vring_state))
#define VHU_PAYLOAD_ADDR ((int) sizeof(struct vhu_vring_addr))
#define VHU_PAYLOAD_MEM_SINGLE ((int) sizeof(struct vhu_mem_single))
#define VHU_PAYLOAD_VARIABLE (-1)

/* The REPLY column. */
#define VHU_REPLIES_ACK false
#define VHU_REPLIES_REPLY true

#define VHU_REQUEST_SPEC(NAME, NUMBER, HANDLER, PAYLOAD, MIN_FDS, MAX_FDS, \
                         REPLY, RING)                                     \
    [NUMBER] = { HANDLER, VHU_PAYLOAD_##PAYLOAD, MIN_FDS, MAX_FDS,        \
                 VHU_REPLIES_##REPLY, VHU_RING_##RING },
static const struct vhu_request_spec vhu_requests[] = {
    VHU_REQUESTS(VHU_REQUEST_SPEC)
};
#undef VHU_REQUEST_SPEC

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

/* Checks the u64 payload of a vring-fd request (SET_VRING_KICK, _CALL or
 * _ERR) and the fd that comes with it: an eventfd, nonblocking if
 * 'nonblocking'.  Returns the vring index, or -1; stores the fd, taken
 * from the message, or -1 for VHU_VRING_NOFD, in 'ctx->fd'. */
static int
vhu_check_vring_fd(struct vhu_request_ctx *ctx, bool nonblocking)
{
    uint64_t value = ctx->msg->payload.u64;
    bool nofd = value & VHU_VRING_NOFD;
    const char *problem;

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
        problem = vhu_eventfd_problem(ctx->msg->fds[0], nonblocking);
        if (problem) {
            vhu_refuse(ctx, EINVAL, "the fd is %s", problem);
            return -1;
        }
    }
    return value & VHU_VRING_INDEX_MASK;
}

/* Checks what 'spec' says of the vring that 'ctx->msg' names, and stores
 * its index in 'ctx->vring' (and the fd of a vring-fd request in
 * 'ctx->fd').  Returns 0 or an errno value. */
static int
vhu_check_vring(struct vhu_request_ctx *ctx,
                const struct vhu_request_spec *spec)
{
    const union vhu_msg_payload *payload = &ctx->msg->payload;
    int64_t index;

    switch (spec->ring) {
    case VHU_RING_NO_RING:
        return 0;
    case VHU_RING_STATE:
        index = payload->state.index;
        break;
    case VHU_RING_ADDR:
        index = payload->addr.index;
        break;
    case VHU_RING_EVENTFD:
    case VHU_RING_CALLFD:
        index = vhu_check_vring_fd(ctx, spec->ring == VHU_RING_CALLFD);
        if (index < 0) {
            return EINVAL;
        }
        break;
    default:
        OVS_NOT_REACHED();
    }
    if (index >= VHU_MAX_VRINGS) {
        return vhu_refuse(ctx, EINVAL, "vring index %"PRId64" out of range "
                          "(at most %d vrings)", index, VHU_MAX_VRINGS);
    }
    ctx->vring = index;
    if (spec->ring == VHU_RING_EVENTFD || spec->ring == VHU_RING_CALLFD) {
        ctx->fd = (payload->u64 & VHU_VRING_NOFD
                   ? -1 : vhu_msg_take_fd(ctx->msg, 0));
    }
    return 0;
}

/* Checks 'ctx->msg' against its request's line, 'spec' (NULL for a
 * request we do not offer), before its handler sees it.  Returns 0 or an
 * errno value with a message in 'ctx->error'. */
static int
vhu_check_request(struct vhu_request_ctx *ctx,
                  const struct vhu_request_spec *spec)
{
    const struct vhu_msg *msg = ctx->msg;

    if (!spec) {
        return vhu_refuse(ctx, EOPNOTSUPP, "unknown request");
    } else if (spec->size >= 0 && msg->hdr.size != spec->size) {
        return vhu_refuse(ctx, EINVAL, "payload of %"PRIu32" bytes, "
                          "expected %d", msg->hdr.size, spec->size);
    } else if (msg->n_fds < spec->min_fds || msg->n_fds > spec->max_fds) {
        return vhu_refuse(ctx, EINVAL, "%"PRIuSIZE" fds, expected %s%d",
                          msg->n_fds,
                          spec->min_fds == spec->max_fds ? "" : "at most ",
                          spec->max_fds);
    }
    return vhu_check_vring(ctx, spec);
}

/* Replies to 'request'.  Returns 0 or an errno value, which ends the
 * connection. */
static int
vhu_user_send_reply(struct vhu_dev *dev, uint32_t request,
                    const void *payload, uint32_t size)
    OVS_REQUIRES(dev->mutex)
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
bool
vhu_user_handle_msg(struct vhu_dev *dev, struct vhu_msg *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    uint32_t request = msg->hdr.request;
    const struct vhu_request_spec *spec
        = (request < ARRAY_SIZE(vhu_requests) && vhu_requests[request].handler
           ? &vhu_requests[request] : NULL);
    struct vhu_request_ctx ctx = { .msg = msg, .fd = -1 };
    int error;

    VLOG_DBG("%s: %s (%"PRIu32"), %"PRIu32" bytes, %"PRIuSIZE" fds",
             dev->name, vhu_request_name(request), request, msg->hdr.size,
             msg->n_fds);
    error = vhu_check_request(&ctx, spec);
    if (!error) {
        error = spec->handler(dev, &ctx);
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
        return !vhu_user_send_reply(dev, request, &nack, sizeof nack);
    }
    if (spec->own_reply) {
        return !vhu_user_send_reply(dev, request, &ctx.reply,
                                    ctx.reply_size);
    } else if (need_ack) {
        uint64_t ack = 0;
        return !vhu_user_send_reply(dev, request, &ack, sizeof ack);
    }
    return true;
}

/* Accounts for a message that the socket layer could not read as one
 * ('error', with 'error_msg' if it says more): a frame no request can
 * have, or a connection broken inside one.  The connection ends. */
void
vhu_user_bad_frame(struct vhu_dev *dev, int error, const char *error_msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    dev->n_errors++;
    COVERAGE_INC(vhu_request_refused);
    VLOG_WARN_RL(&rl, "%s: %s; closing the connection", dev->name,
                 error_msg ? error_msg : ovs_strerror(error));
    vhu_dev_set_error(dev, "%s", error_msg ? error_msg
                                           : ovs_strerror(error));
}

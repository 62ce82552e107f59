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

/* vhost-user messages on the wire (vhu-msg.h): reading them from a
 * nonblocking socket as they arrive, with the fds that come with them,
 * refusing frames no request can have, and sending replies and requests.
 * The socket layer (vhu-socket.c) and the protocol (vhu-user.c) use it, as
 * does the tests' frontend; it knows no request but by its name
 * (vhu-requests.h). */

#include <config.h>

#include "vhu-msg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

BUILD_ASSERT_DECL(sizeof(struct vhu_msg_header) == 12);
BUILD_ASSERT_DECL(sizeof(struct vhu_vring_addr) == 40);
BUILD_ASSERT_DECL(sizeof(struct vhu_mem_region_desc) == 32);
BUILD_ASSERT_DECL(sizeof(struct vhu_mem_table) == 8 + 8 * 32);
BUILD_ASSERT_DECL(sizeof(struct vhu_mem_single) == 40);

void
vhu_msg_reader_init(struct vhu_msg_reader *reader)
{
    memset(&reader->msg.hdr, 0, sizeof reader->msg.hdr);
    reader->msg.n_fds = 0;
    reader->received = 0;
}

/* Closes the fds of 'msg' that the caller has not taken. */
void
vhu_msg_close_fds(struct vhu_msg *msg)
{
    for (size_t i = 0; i < msg->n_fds; i++) {
        if (msg->fds[i] >= 0) {
            close(msg->fds[i]);
        }
    }
    msg->n_fds = 0;
}

/* Forgets the message in 'reader', closing its fds that the caller has not
 * taken, and gets ready for the next one. */
void
vhu_msg_reader_clear(struct vhu_msg_reader *reader)
{
    vhu_msg_close_fds(&reader->msg);
    vhu_msg_reader_init(reader);
}

/* Takes fd number 'idx' of 'msg' from it: the caller now owns it. */
int
vhu_msg_take_fd(struct vhu_msg *msg, size_t idx)
{
    int fd = msg->fds[idx];

    msg->fds[idx] = -1;
    return fd;
}

/* Keeps the fds that came with 'mh' in 'msg'.  Returns false if there were
 * more than a message may carry (those are closed). */
static bool
collect_fds(struct vhu_msg *msg, struct msghdr *mh)
{
    bool ok = true;

    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(mh); cmsg;
         cmsg = CMSG_NXTHDR(mh, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
            continue;
        }

        size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const uint8_t *data = CMSG_DATA(cmsg);
        for (size_t i = 0; i < n; i++) {
            int fd;

            memcpy(&fd, data + i * sizeof fd, sizeof fd);
            if (msg->n_fds < VHU_MSG_MAX_FDS) {
                msg->fds[msg->n_fds++] = fd;
            } else {
                close(fd);
                ok = false;
            }
        }
    }
    return ok;
}

/* Returns NULL if 'hdr' can start a request, otherwise why not. */
static char *
check_header(const struct vhu_msg_header *hdr)
{
    if ((hdr->flags & VHU_MSG_VERSION_MASK) != VHU_MSG_VERSION) {
        return xasprintf("%s (%"PRIu32"): unsupported protocol version %"
                         PRIu32, vhu_request_name(hdr->request),
                         hdr->request, hdr->flags & VHU_MSG_VERSION_MASK);
    }
    if (hdr->flags & VHU_MSG_REPLY) {
        return xasprintf("%s (%"PRIu32"): reply flag set on a request",
                         vhu_request_name(hdr->request), hdr->request);
    }
    /* No protocol feature gives the other bits a meaning yet: a frontend
     * that sets them speaks something we do not. */
    if (hdr->flags & ~(VHU_MSG_VERSION_MASK | VHU_MSG_NEED_REPLY)) {
        return xasprintf("%s (%"PRIu32"): reserved flags %#"PRIx32" set",
                         vhu_request_name(hdr->request), hdr->request,
                         hdr->flags & ~(uint32_t) (VHU_MSG_VERSION_MASK
                                                   | VHU_MSG_REPLY
                                                   | VHU_MSG_NEED_REPLY));
    }
    if (hdr->size > VHU_MSG_MAX_PAYLOAD) {
        return xasprintf("%s (%"PRIu32"): payload of %"PRIu32" bytes is "
                         "larger than any request's (%"PRIuSIZE")",
                         vhu_request_name(hdr->request), hdr->request,
                         hdr->size, VHU_MSG_MAX_PAYLOAD);
    }
    return NULL;
}

/* Reads from nonblocking socket 'sock' what has arrived of the next
 * message.  Returns:
 *
 *   - 0 when the message in 'reader->msg' is complete: the caller handles
 *     it, takes the fds it keeps, and calls vhu_msg_reader_clear();
 *
 *   - EAGAIN when more is to come;
 *
 *   - EOF when the peer closed the connection between two messages;
 *
 *   - EPROTO, with a message in '*errorp' for the caller to log and free,
 *     when the frame is invalid or the connection ends inside it, or
 *     another errno value when reading fails.  Either way the connection
 *     is unusable: the caller closes it and clears 'reader'. */
int
vhu_msg_recv(struct vhu_msg_reader *reader, int sock, char **errorp)
{
    struct vhu_msg *msg = &reader->msg;
    const size_t hdr_size = sizeof msg->hdr;

    for (;;) {
        uint8_t *dst;
        size_t want;

        if (reader->received < hdr_size) {
            dst = (uint8_t *) &msg->hdr + reader->received;
            want = hdr_size - reader->received;
        } else {
            size_t got = reader->received - hdr_size;

            if (got == msg->hdr.size) {
                return 0;
            }
            dst = (uint8_t *) &msg->payload + got;
            want = msg->hdr.size - got;
        }

        union {
            struct cmsghdr cmsg;
            char buf[CMSG_SPACE(sizeof(int) * VHU_MSG_MAX_FDS)];
        } control;
        struct iovec iov = { .iov_base = dst, .iov_len = want };
        struct msghdr mh = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = &control,
            .msg_controllen = sizeof control,
        };
        ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (!collect_fds(msg, &mh) || mh.msg_flags & MSG_CTRUNC) {
            *errorp = xasprintf("more than %d file descriptors with one "
                                "message", VHU_MSG_MAX_FDS);
            return EPROTO;
        }
        if (!n) {
            if (!reader->received && !msg->n_fds) {
                return EOF;
            }
            *errorp = xasprintf("connection closed after %"PRIuSIZE" bytes "
                                "of a message", reader->received);
            return EPROTO;
        }

        reader->received += n;
        if (reader->received == hdr_size) {
            char *error = check_header(&msg->hdr);
            if (error) {
                *errorp = error;
                return EPROTO;
            }
        }
    }
}

/* The most fds Linux passes with one message (its SCM_MAX_FD). */
#define VHU_MSG_SEND_MAX_FDS 253

/* Sends the 'n_iov' pieces of 'iov' and 'n_fds' fds (at most 253) on
 * 'sock' with one sendmsg(), without blocking.  Returns the bytes sent,
 * or a negative errno value. */
ssize_t
vhu_msg_sendv(int sock, const struct iovec *iov, size_t n_iov,
              const int *fds, size_t n_fds)
{
    union {
        struct cmsghdr cmsg;
        char buf[CMSG_SPACE(sizeof(int) * VHU_MSG_SEND_MAX_FDS)];
    } control;
    struct msghdr mh = {
        .msg_iov = CONST_CAST(struct iovec *, iov),
        .msg_iovlen = n_iov,
    };

    ovs_assert(n_fds <= VHU_MSG_SEND_MAX_FDS);
    if (n_fds) {
        memset(&control, 0, sizeof control);
        mh.msg_control = &control;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
    }

    ssize_t n;
    do {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* Sends a message with header 'hdr', its 'hdr->size' bytes of 'payload'
 * and 'n_fds' fds on 'sock'.  Returns 0 or an errno value; a message only
 * partly sent is an error (EPIPE), as the peer cannot make sense of the
 * rest. */
int
vhu_msg_send(int sock, const struct vhu_msg_header *hdr, const void *payload,
             const int *fds, size_t n_fds)
{
    struct iovec iov[2] = {
        { .iov_base = CONST_CAST(struct vhu_msg_header *, hdr),
          .iov_len = sizeof *hdr },
        { .iov_base = CONST_CAST(void *, payload), .iov_len = hdr->size },
    };

    ovs_assert(n_fds <= VHU_MSG_MAX_FDS);
    ssize_t n = vhu_msg_sendv(sock, iov, hdr->size ? 2 : 1, fds, n_fds);
    if (n < 0) {
        return -n;
    }
    return n == sizeof *hdr + hdr->size ? 0 : EPIPE;
}

const char *
vhu_request_name(uint32_t request)
{
    switch (request) {
#define VHU_REQUEST_CASE(NAME, NUMBER, ...) case NUMBER: return #NAME;
    VHU_REQUESTS(VHU_REQUEST_CASE)
#undef VHU_REQUEST_CASE
    }
    return "unknown request";
}

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

/* Unit test "msg" of ovs-vhu-test: the framing of vhost-user messages
 * (lib/vhu-msg.c) over socketpairs: whole and split reads, fds passed,
 * and frames refused. */

#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ovs-vhu-test.h"
#include "util.h"
#include "vhu-msg.h"

static void
make_socketpair(int fds[2])
{
    VHU_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
}

static struct vhu_msg_header
header(uint32_t request, uint32_t flags, uint32_t size)
{
    struct vhu_msg_header hdr = {
        .request = request, .flags = flags, .size = size,
    };
    return hdr;
}

/* Sends raw bytes, for frames that vhu_msg_send() would not make. */
static void
send_raw(int sock, const void *data, size_t size)
{
    VHU_CHECK(write(sock, data, size) == size);
}

/* Reads from 'sock' and checks that the frame is refused with a message
 * that contains 'reason'. */
static void
check_refused(struct vhu_msg_reader *reader, int sock, const char *reason)
{
    char *error = NULL;

    VHU_CHECK(vhu_msg_recv(reader, sock, &error) == EPROTO);
    VHU_CHECK(error && strstr(error, reason));
    printf("refused: %s\n", error);
    free(error);
    vhu_msg_reader_clear(reader);
}

static void
run_msg(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    int base_fds = vhu_test_count_fds();
    struct vhu_msg_reader reader;
    struct vhu_msg_header hdr;
    char *error = NULL;
    int sock[2];

    vhu_msg_reader_init(&reader);

    /* A request without payload, then one with payload and fds. */
    make_socketpair(sock);
    hdr = header(VHU_GET_FEATURES, VHU_MSG_VERSION, 0);
    VHU_CHECK(!vhu_msg_send(sock[0], &hdr, NULL, NULL, 0));
    VHU_CHECK(vhu_msg_recv(&reader, sock[1], &error) == 0);
    VHU_CHECK(reader.msg.hdr.request == VHU_GET_FEATURES);
    VHU_CHECK(reader.msg.hdr.size == 0 && reader.msg.n_fds == 0);
    vhu_msg_reader_clear(&reader);
    VHU_CHECK(vhu_msg_recv(&reader, sock[1], &error) == EAGAIN);

    int pipe_fds[2];
    VHU_CHECK(!pipe(pipe_fds));
    uint64_t u64 = 0x100 | 3;
    hdr = header(VHU_SET_VRING_CALL, VHU_MSG_VERSION | VHU_MSG_NEED_REPLY,
                 sizeof u64);
    VHU_CHECK(!vhu_msg_send(sock[0], &hdr, &u64, pipe_fds, 2));
    VHU_CHECK(vhu_msg_recv(&reader, sock[1], &error) == 0);
    VHU_CHECK(reader.msg.hdr.request == VHU_SET_VRING_CALL);
    VHU_CHECK(reader.msg.hdr.flags & VHU_MSG_NEED_REPLY);
    VHU_CHECK(reader.msg.payload.u64 == u64);
    VHU_CHECK(reader.msg.n_fds == 2);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    int kept = vhu_msg_take_fd(&reader.msg, 1);
    vhu_msg_reader_clear(&reader);
    VHU_CHECK(vhu_test_count_fds() == base_fds + 3);
    close(kept);
    printf("requests with payload and fds arrive whole\n");

    /* A message that arrives in pieces. */
    struct {
        struct vhu_msg_header hdr;
        struct vhu_vring_state state;
    } frame = {
        header(VHU_SET_VRING_NUM, VHU_MSG_VERSION, 8), { 1, 256 },
    };
    send_raw(sock[0], &frame, 5);
    VHU_CHECK(vhu_msg_recv(&reader, sock[1], &error) == EAGAIN);
    send_raw(sock[0], (char *) &frame + 5, 10);
    VHU_CHECK(vhu_msg_recv(&reader, sock[1], &error) == EAGAIN);
    send_raw(sock[0], (char *) &frame + 15, sizeof frame - 15);
    VHU_CHECK(vhu_msg_recv(&reader, sock[1], &error) == 0);
    VHU_CHECK(reader.msg.payload.state.index == 1);
    VHU_CHECK(reader.msg.payload.state.num == 256);
    vhu_msg_reader_clear(&reader);
    printf("a message in pieces is put together\n");

    /* End of connection between messages, then inside one. */
    close(sock[0]);
    VHU_CHECK(vhu_msg_recv(&reader, sock[1], &error) == EOF);
    close(sock[1]);
    make_socketpair(sock);
    send_raw(sock[0], &frame, 14);
    close(sock[0]);
    check_refused(&reader, sock[1], "connection closed after 14 bytes");
    close(sock[1]);

    /* Frames that no request may have. */
    make_socketpair(sock);
    hdr = header(VHU_GET_FEATURES, 2, 0);
    send_raw(sock[0], &hdr, sizeof hdr);
    check_refused(&reader, sock[1], "unsupported protocol version 2");
    hdr = header(VHU_GET_FEATURES, VHU_MSG_VERSION | VHU_MSG_REPLY, 0);
    send_raw(sock[0], &hdr, sizeof hdr);
    check_refused(&reader, sock[1], "reply flag set on a request");
    hdr = header(VHU_SET_MEM_TABLE, VHU_MSG_VERSION,
                 VHU_MSG_MAX_PAYLOAD + 1);
    send_raw(sock[0], &hdr, sizeof hdr);
    check_refused(&reader, sock[1], "SET_MEM_TABLE (5): payload of 265");
    close(sock[0]);
    close(sock[1]);

    /* Too many fds: all of them closed. */
    make_socketpair(sock);
    int many[VHU_MSG_MAX_FDS + 1];
    for (size_t i = 0; i < ARRAY_SIZE(many); i++) {
        many[i] = dup(STDIN_FILENO);
    }
    hdr = header(VHU_SET_MEM_TABLE, VHU_MSG_VERSION, 8);
    u64 = 0;
    union {
        struct cmsghdr cmsg;
        char buf[CMSG_SPACE(sizeof many)];
    } control;
    struct iovec iov[2] = {
        { .iov_base = &hdr, .iov_len = sizeof hdr },
        { .iov_base = &u64, .iov_len = sizeof u64 },
    };
    struct msghdr mh = {
        .msg_iov = iov, .msg_iovlen = 2,
        .msg_control = &control, .msg_controllen = sizeof control,
    };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof many);
    memcpy(CMSG_DATA(cmsg), many, sizeof many);
    VHU_CHECK(sendmsg(sock[0], &mh, 0) == sizeof hdr + sizeof u64);
    for (size_t i = 0; i < ARRAY_SIZE(many); i++) {
        close(many[i]);
    }
    check_refused(&reader, sock[1], "more than 8 file descriptors");
    close(sock[0]);
    close(sock[1]);

    VHU_CHECK(vhu_test_count_fds() == base_fds);
    printf("no fd leaked\n");
}

const struct vhu_test vhu_test_msg = {
    "msg", "framing of vhost-user messages", run_msg,
};

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

/* "ovs-vhu-test dev" subcommands about the vhost-user protocol
 * (lib/vhu-user.c, lib/vhu-dev.c): feature and protocol feature
 * negotiation and the small requests ("negotiate"), GET_VRING_BASE and
 * SET_VRING_KICK stopping and starting a queue ("vring-base"), memory
 * tables replaced and regions added and removed ("memory"), and every kind
 * of malformed request, refused with a nack or by closing the connection
 * ("bad-requests").  tests/dev.at runs them. */

#include <config.h>

#include "dev-harness.h"

#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* "negotiate": features, protocol features, and the small requests. */
static void
test_negotiate(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(1, REGION_SIZE);
    uint64_t value, ack;

    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_FEATURES, &value));
    VHU_CHECK(value == VHU_DEV_FEATURES);
    printf("features offered: %#"PRIx64"\n", value);
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_PROTOCOL_FEATURES, &value));
    VHU_CHECK(value == VHU_DEV_PROTOCOL_FEATURES);
    printf("protocol features offered: %#"PRIx64"\n", value);
    VHU_CHECK(!vhu_fe_negotiate(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES));
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_QUEUE_NUM, &value));
    printf("GET_QUEUE_NUM: %"PRIu64"\n", value);
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_MAX_MEM_SLOTS, &value));
    printf("GET_MAX_MEM_SLOTS: %"PRIu64"\n", value);

    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_SET_STATUS, 0xf, true, &ack));
    VHU_CHECK(!ack);
    VHU_CHECK(!vhu_fe_get_u64(h->fe, VHU_GET_STATUS, &value));
    VHU_CHECK(value == 0xf);
    printf("SET_STATUS then GET_STATUS: %#"PRIx64"\n", value);

    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_NET_SET_MTU, 9000, true, &ack));
    VHU_CHECK(!ack);
    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_NET_SET_MTU, 9711, true, &ack));
    VHU_CHECK(ack);
    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.mtu == 9000 && state.status == 0xf);
    printf("NET_SET_MTU 9000 acked, 9711 refused\n");

    uint8_t mac[6];
    uint64_t rarp = 0;
    memcpy(&rarp, (uint8_t[6]) { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, 6);
    VHU_CHECK(!vhu_dev_take_rarp(h->dev, mac));
    VHU_CHECK(!vhu_fe_set_u64(h->fe, VHU_SEND_RARP, rarp, true, &ack));
    VHU_CHECK(!ack);
    VHU_CHECK(vhu_dev_take_rarp(h->dev, mac));
    VHU_CHECK(!memcmp(mac, &rarp, 6));
    VHU_CHECK(!vhu_dev_take_rarp(h->dev, mac));
    printf("SEND_RARP: the owner gets the MAC address once\n");

    /* With protocol features, SET_VRING_ENABLE starts and stops rings. */
    VHU_CHECK(!vhu_fe_share_memory(h->fe));
    VHU_CHECK(!vhu_fe_setup_vring(h->fe, 0, RING_SIZE));
    VHU_CHECK(!vhu_fe_setup_vring(h->fe, 1, RING_SIZE));
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_ENABLE, 1, 0, true,
                                &ack));
    VHU_CHECK(!ack && !vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(!vhu_dev_vring_enabled(h->dev, 1));
    VHU_CHECK(!vhu_fe_set_state(h->fe, VHU_SET_VRING_ENABLE, 1, 1, true,
                                &ack));
    VHU_CHECK(!ack && vhu_dev_vring_ready(h->dev, 1));
    printf("SET_VRING_ENABLE stops and starts a ring\n");

    unsigned int n_changes;
    atomic_read(&h->n_changes, &n_changes);
    VHU_CHECK(n_changes > 0);

    VHU_CHECK(!vhu_fe_send(h->fe, VHU_RESET_OWNER, VHU_MSG_VERSION, NULL, 0,
                           NULL, 0));
    harness_sync(h);
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.connected && !state.running && !state.features);
    printf("RESET_OWNER stops every ring and forgets the memory table\n");
    harness_destroy(h);

    h = harness_create(1, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, dev_parse_features("legacy"), 0, 1,
                            RING_SIZE));
    harness_sync(h);
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 0));
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    harness_check_guest_tx(h, 0, 100);
    harness_check_guest_rx(h, 0, 100);
    printf("without protocol features rings start enabled\n");
    harness_destroy(h);
}

/* "vring-base": GET_VRING_BASE stops a queue and returns where it stopped;
 * SET_VRING_KICK starts it again from there. */
static void
test_vring_base(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(1, REGION_SIZE);
    uint8_t data[100];

    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    harness_check_guest_tx(h, 0, 300);
    VHU_CHECK(harness_get_vring_base(h, 1) == 300);
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 1));

    dev_fill_packet(data, sizeof data, 300);
    VHU_CHECK(!vhu_fe_tx(h->fe, 0, data, sizeof data, VHU_FE_LAYOUT_ONE));
    struct vhu_buf buf = { .data = xmalloc(BUF_SIZE), .size = BUF_SIZE };
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &buf, 1) == 0);
    printf("GET_VRING_BASE: base 300 after 300 packets; the queue stops\n");

    harness_kick_vring(h, 1);
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 1));
    VHU_CHECK(vhu_dev_dequeue_burst(h->dev, 0, &buf, 1) == 1);
    VHU_CHECK(buf.len == sizeof data
              && dev_check_packet(buf.data, buf.len, 300));
    VHU_CHECK(harness_get_vring_base(h, 1) == 301);
    printf("SET_VRING_KICK: the queue starts again where it stopped\n");
    free(buf.data);
    harness_destroy(h);
}

/* "memory": memory tables replaced while idle, more than 8 regions through
 * ADD_MEM_REG, REM_MEM_REG. */
static void
test_memory(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct harness *h = harness_create(2, REGION_SIZE);

    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    harness_check_guest_tx(h, 0, 100);
    int n_fds = vhu_test_count_fds_but_pipes();
    for (int i = 0; i < 10; i++) {
        VHU_CHECK(!vhu_fe_share_memory(h->fe));
    }
    VHU_CHECK(vhu_test_count_fds_but_pipes() == n_fds);
    harness_check_guest_tx(h, 0, 100);
    harness_check_guest_rx(h, 0, 100);
    printf("memory table replaced 10 times: traffic goes on, no fd "
           "leaks\n");
    harness_destroy(h);

    /* 16 regions of 96 KiB: rings and buffers end up spread over 12 or
     * more of them. */
    h = harness_create(16, 96 * 1024);
    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    harness_check_guest_tx(h, 0, 1000);
    harness_check_guest_rx(h, 0, 1000);
    VHU_CHECK(h->fe->regions[VHU_MEM_BASELINE_REGIONS].used > 0);
    printf("16 regions through ADD_MEM_REG: traffic in more than 8 of "
           "them\n");

    struct vhu_mem_region_desc region;
    vhu_fe_region_desc(h->fe, 11, &region);
    struct vhu_mem_single single = { .region = region };
    VHU_CHECK(!vhu_fe_send(h->fe, VHU_REM_MEM_REG,
                           VHU_MSG_VERSION | VHU_MSG_NEED_REPLY,
                           &single, sizeof single, NULL, 0));
    struct vhu_msg_header hdr;
    union vhu_msg_payload reply;
    VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
    VHU_CHECK(reply.u64 == 0);
    VHU_CHECK(!vhu_fe_send(h->fe, VHU_REM_MEM_REG,
                           VHU_MSG_VERSION | VHU_MSG_NEED_REPLY,
                           &single, sizeof single, NULL, 0));
    VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
    VHU_CHECK(reply.u64 != 0);
    /* The rings live in region 0. */
    VHU_CHECK(vhu_dev_vring_ready(h->dev, 0));
    printf("REM_MEM_REG removes a region once; again, it is refused\n");
    harness_destroy(h);
}

/* One malformed request: what to send, and whether the device must answer
 * with a nack ('nack') or close the connection. */
struct bad_request {
    const char *what;
    uint32_t request;
    uint32_t flags;
    const void *payload;
    size_t size;
    int n_fds;
    bool reply_ack;             /* Negotiate REPLY_ACK first. */
    bool nack;                  /* Expect a nack, not a close. */
    enum {
        FDS_EVENTFD,            /* Blocking eventfds. */
        FDS_NONBLOCKING,        /* Nonblocking eventfds. */
        FDS_PIPE,               /* The write ends of pipes. */
    } fd_kind;
};

static void
check_bad_request(const struct bad_request *bad)
{
    int n_fds = vhu_test_count_fds_but_pipes();
    struct harness *h = harness_create(1, REGION_SIZE);
    int fds[VHU_MSG_MAX_FDS];

    VHU_CHECK(!vhu_fe_negotiate(h->fe, ALL_FEATURES,
                                bad->reply_ack ? ALL_PROTOCOL_FEATURES
                                : ALL_PROTOCOL_FEATURES
                                  & ~F(VHU_PROTOCOL_F_REPLY_ACK)));
    harness_sync(h);
    int n_fds_connected = vhu_test_count_fds_but_pipes();

    for (int i = 0; i < bad->n_fds; i++) {
        int pipe_fds[2];

        switch (bad->fd_kind) {
        case FDS_EVENTFD:
            fds[i] = eventfd(0, EFD_CLOEXEC);
            break;
        case FDS_NONBLOCKING:
            fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            break;
        case FDS_PIPE:
            VHU_CHECK(!pipe2(pipe_fds, O_CLOEXEC));
            close(pipe_fds[0]);
            fds[i] = pipe_fds[1];
            break;
        default:
            OVS_NOT_REACHED();
        }
    }
    VHU_CHECK(!vhu_fe_send(h->fe, bad->request, bad->flags, bad->payload,
                           bad->size, fds, bad->n_fds));
    for (int i = 0; i < bad->n_fds; i++) {
        close(fds[i]);
    }

    if (bad->nack) {
        struct vhu_msg_header hdr;
        union vhu_msg_payload reply;

        VHU_CHECK(!vhu_fe_recv(h->fe, &hdr, &reply));
        VHU_CHECK(hdr.request == bad->request);
        VHU_CHECK(hdr.size == sizeof(uint64_t) && reply.u64 != 0);
        harness_sync(h);
        VHU_CHECK(vhu_test_count_fds_but_pipes() == n_fds_connected);
        printf("%s: refused with a nack, connection kept\n", bad->what);
    } else {
        VHU_CHECK(vhu_fe_closed(h->fe));
        printf("%s: connection closed\n", bad->what);
    }

    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.n_errors == 1);
    harness_destroy(h);
    VHU_CHECK(vhu_test_count_fds_but_pipes() == n_fds);
}

/* "bad-requests": every kind of malformed request. */
static void
test_bad_requests(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    const uint32_t V = VHU_MSG_VERSION;
    const uint32_t NR = VHU_MSG_VERSION | VHU_MSG_NEED_REPLY;
    static const uint64_t u64_zero;
    static const uint32_t u32_zero;
    static const struct vhu_vring_state state_300 = { 300, 256 };
    static const struct vhu_vring_state state_odd = { 0, 100 };
    static const struct vhu_vring_state state_enable_2 = { 0, 2 };
    static const uint64_t kick_300 = 300;
    static const uint64_t kick_nofd = 0 | VHU_VRING_NOFD;
    static const uint64_t kick_junk = 0 | (1ULL << 40);
    static const uint64_t mtu_20 = 20;
    static const uint64_t bad_features = 1ULL << 63;
    struct vhu_mem_table one_region = {
        .n_regions = 1,
        .regions = { { 0x100000000ULL, 0x200000, 0x7f0000000000ULL, 0 } },
    };
    struct vhu_mem_table overflow = {
        .n_regions = 1,
        .regions = { { 0xfffffffffffff000ULL, 0x2000, 0x7f0000000000ULL,
                       0 } },
    };
    struct vhu_mem_table nine = { .n_regions = 9 };
    size_t one = offsetof(struct vhu_mem_table, regions)
                 + sizeof one_region.regions[0];
    const struct bad_request bad[] = {
        { "bad version", VHU_GET_FEATURES, 0x2, NULL, 0, 0, true, false,
          FDS_EVENTFD },
        { "unknown request", 99, V, NULL, 0, 0, false, false, FDS_EVENTFD },
        { "unknown request asking for a reply", 99, NR, NULL, 0, 0, true,
          true, FDS_EVENTFD },
        { "SET_LOG_BASE (not offered)", VHU_SET_LOG_BASE, NR, &u64_zero, 8,
          1, true, true, FDS_EVENTFD },
        { "SET_FEATURES of 4 bytes", VHU_SET_FEATURES, NR, &u32_zero, 4, 0,
          true, true, FDS_EVENTFD },
        { "SET_FEATURES of 4 bytes, no reply asked", VHU_SET_FEATURES, V,
          &u32_zero, 4, 0, true, false, FDS_EVENTFD },
        { "GET_FEATURES with a payload", VHU_GET_FEATURES, V, &u64_zero, 8,
          0, true, false, FDS_EVENTFD },
        { "SET_FEATURES not offered", VHU_SET_FEATURES, NR, &bad_features, 8,
          0, true, true, FDS_EVENTFD },
        { "SET_FEATURES with an fd", VHU_SET_FEATURES, NR, &u64_zero, 8, 1,
          true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE without fds", VHU_SET_MEM_TABLE, NR, &one_region,
          one, 0, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE with an extra fd", VHU_SET_MEM_TABLE, NR,
          &one_region, one, 2, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE with 9 regions", VHU_SET_MEM_TABLE, NR, &nine,
          sizeof nine, 8, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE region overflowing", VHU_SET_MEM_TABLE, NR,
          &overflow, one, 1, true, true, FDS_EVENTFD },
        { "SET_MEM_TABLE region not in its fd", VHU_SET_MEM_TABLE, NR,
          &one_region, one, 1, true, true, FDS_EVENTFD },
        { "ADD_MEM_REG without fd", VHU_ADD_MEM_REG, NR,
          &(struct vhu_mem_single) { .region = one_region.regions[0] },
          sizeof(struct vhu_mem_single), 0, true, true, FDS_EVENTFD },
        { "SET_VRING_NUM index 300", VHU_SET_VRING_NUM, NR, &state_300,
          sizeof state_300, 0, true, true, FDS_EVENTFD },
        { "SET_VRING_NUM size 100", VHU_SET_VRING_NUM, NR, &state_odd,
          sizeof state_odd, 0, true, true, FDS_EVENTFD },
        { "SET_VRING_ENABLE 2", VHU_SET_VRING_ENABLE, NR, &state_enable_2,
          sizeof state_enable_2, 0, true, true, FDS_EVENTFD },
        { "GET_VRING_BASE index 300", VHU_GET_VRING_BASE, V, &state_300,
          sizeof state_300, 0, true, false, FDS_EVENTFD },
        { "SET_VRING_KICK index 300", VHU_SET_VRING_KICK, NR, &kick_300, 8,
          1, true, true, FDS_EVENTFD },
        { "SET_VRING_KICK without fd or no-fd flag", VHU_SET_VRING_KICK, NR,
          &u64_zero, 8, 0, true, true, FDS_EVENTFD },
        { "SET_VRING_CALL with fd and no-fd flag", VHU_SET_VRING_CALL, NR,
          &kick_nofd, 8, 1, true, true, FDS_EVENTFD },
        { "SET_VRING_ERR with unknown bits", VHU_SET_VRING_ERR, NR,
          &kick_junk, 8, 1, true, true, FDS_EVENTFD },
        { "NET_SET_MTU 20", VHU_NET_SET_MTU, NR, &mtu_20, 8, 0, true,
          true, FDS_EVENTFD },
        { "reserved flag 0x10", VHU_GET_FEATURES, V | 0x10, NULL, 0, 0, true,
          false, FDS_EVENTFD },
        { "SET_VRING_CALL with a pipe", VHU_SET_VRING_CALL, NR, &u64_zero, 8,
          1, true, true, FDS_PIPE },
        { "SET_VRING_CALL with a blocking eventfd", VHU_SET_VRING_CALL, NR,
          &u64_zero, 8, 1, true, true, FDS_EVENTFD },
        { "SET_VRING_KICK with a pipe", VHU_SET_VRING_KICK, NR, &u64_zero, 8,
          1, true, true, FDS_PIPE },
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        check_bad_request(&bad[i]);
    }
}

const struct dev_test dev_protocol_tests[] = {
    { "negotiate", test_negotiate },
    { "vring-base", test_vring_base },
    { "memory", test_memory },
    { "bad-requests", test_bad_requests },
    { NULL, NULL },
};

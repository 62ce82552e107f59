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

#ifndef DEV_HARNESS_H
#define DEV_HARNESS_H 1

/* The harness that the "ovs-vhu-test dev" subjects share
 * (tests/test-dev-*.c): a device of the engine (lib/vhu-dev.h) with its
 * control thread, the test frontend (tests/vhu-frontend.h) on the other end
 * of a socketpair or a unix socket, packets whose every byte can be checked,
 * and the guest-side loops and requests that more than one subject uses.
 * As in ovs-vswitchd, the device's control path runs in a thread of its
 * own; the test's main thread plays the guest and the PMD thread.
 *
 * tests/test-dev.c dispatches "ovs-vhu-test dev SUBTEST" to the tables
 * that the subjects export at the end of this file. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latch.h"
#include "ovs-atomic.h"
#include "ovs-vhu-test.h"
#include "timeval.h"
#include "util.h"
#include "vhu-dev.h"
#include "vhu-frontend.h"

#define RING_SIZE 256
#define BUF_SIZE 2048
#define REGION_SIZE (8 * 1024 * 1024)

#define F(BIT) (1ULL << (BIT))
/* Split rings with every other feature; PACKED_FEATURES for packed
 * rings. */
#define ALL_FEATURES (VHU_DEV_FEATURES & ~(F(VHU_VIRTIO_F_RING_PACKED)     \
                                           | F(VHU_VIRTIO_F_IN_ORDER)))
#define PACKED_FEATURES (ALL_FEATURES | F(VHU_VIRTIO_F_RING_PACKED))
#define ALL_PROTOCOL_FEATURES VHU_DEV_PROTOCOL_FEATURES

/* A device, its control thread and a frontend talking to it. */
struct harness {
    struct vhu_dev *dev;
    struct vhu_fe *fe;
    int sock;                   /* The frontend's end of the connection. */
    struct latch exit;
    pthread_t thread;
    atomic_uint n_changes;      /* Calls of the device's callback. */
};

/* The device and its control thread. */
struct harness *harness_create(size_t n_regions, uint64_t region_size);
struct harness *harness_create_socket(const char *path,
                                      enum vhu_dev_mode mode);
void harness_destroy(struct harness *);
void harness_sync(struct harness *);

/* Waits up to 10 s for 'COND' to hold, failing the test if it does not. */
#define WAIT_UNTIL(COND)                                        \
    do {                                                        \
        long long int deadline_ = time_msec() + 10000;          \
        while (!(COND)) {                                       \
            VHU_CHECK(time_msec() < deadline_);                 \
            xnanosleep(1000 * 1000);                            \
        }                                                       \
    } while (0)

/* Packets whose bytes say which packet they are. */
void dev_fill_packet(uint8_t *p, size_t len, uint32_t seq);
bool dev_check_packet(const uint8_t *p, size_t len, uint32_t seq);
size_t dev_packet_len(uint32_t seq);

/* Traffic between the guest and the device, every byte checked. */
void harness_check_guest_tx(struct harness *, size_t qp, int n);
void harness_check_guest_rx(struct harness *, size_t qp, int n);
void harness_send_packets(struct harness *, int n, uint32_t seq);
void harness_dequeue_all(struct harness *, size_t qp, int n, uint32_t seq);

/* A ring stopped and started again by the frontend. */
uint32_t harness_get_vring_base(struct harness *, uint32_t idx);
void harness_kick_vring(struct harness *, uint32_t idx);

/* A ring that the guest broke. */
void harness_check_broken_alone(struct harness *, uint16_t size,
                                enum vhu_vq_fault);

/* Runs 'check' for each case 0 to 'n' - 1 of a kind of broken ring, each
 * of which checks what harness_check_broken_alone() checks, and prints
 * what the switch did with each, under its name in 'names'. */
void harness_check_broken_cases(void (*check)(int), const char *const names[],
                                int n);

/* The feature set that a test's argument names. */
uint64_t dev_parse_features(const char *name);

/* One subcommand of "ovs-vhu-test dev". */
struct dev_test {
    const char *name;
    void (*run)(int argc, char *argv[]);
};

/* Each subject's subcommands, ended by one with a null 'name': the
 * protocol, split rings, packed rings, queues and threads, and sockets. */
extern const struct dev_test dev_protocol_tests[];
extern const struct dev_test dev_split_tests[];
extern const struct dev_test dev_packed_tests[];
extern const struct dev_test dev_multiqueue_tests[];
extern const struct dev_test dev_reconnect_tests[];

#endif /* dev-harness.h */

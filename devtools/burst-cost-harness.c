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

/* The bursts alone, in one process, for devtools/burst-cost-vs-build: a
 * driver makes 32 one-descriptor buffers available on a ring of 256, and
 * a burst takes them (TX, dequeue) or fills them with 64-byte frames (RX,
 * enqueue), ROUNDS times, with no empty poll in between.  Under callgrind
 * the instructions per packet of two builds of the engine (this one, and
 * one before a change) compare exactly, which rates on a shared machine
 * cannot.  The script compiles this file against each build.
 *
 *   burst-cost split|packed dequeue|enqueue ROUNDS */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"
#include "vhu-mem.h"
#include "vhu-virtio.h"
#include "vhu-vq.h"
#if __has_include("vhu-ring-state.h")
#include "vhu-ring-state.h"
#define HAVE_RING_RECORDS 1
#endif
#ifndef VHU_VQ_REQUIRES
#define VHU_VQ_REQUIRES(VQ)     /* A build before the queue gate's. */
#endif

#define SIZE 256
#define BURST 32
#define GPA 0x100000
#define MEM_SIZE 0x1000000
#define RING_GPA GPA
#define AVAIL_GPA (GPA + 0x10000)
#define USED_GPA (GPA + 0x20000)
#define BUF_GPA (GPA + 0x100000)
#define BUF_SIZE 2048

static uint8_t *guest;

static void *
gpa(uint64_t addr)
{
    return guest + (addr - GPA);
}

/* The driver: makes BURST buffers available from '*posp' ('*wrapp'). */
static void
post(struct vhu_vq *vq, bool write, uint16_t *posp, bool *wrapp)
    VHU_VQ_REQUIRES(vq)
{
    uint16_t len = write ? BUF_SIZE : VHU_VIRTIO_NET_HDR_LEN + 64;
    uint16_t flags = write ? VHU_VRING_DESC_F_WRITE : 0;

    for (int i = 0; i < BURST; i++) {
        uint16_t id = *posp % SIZE;
        uint64_t buf = BUF_GPA + id * BUF_SIZE;

        if (vq->packed) {
            struct vhu_vring_packed_desc *d = gpa(RING_GPA);

            d[id] = (struct vhu_vring_packed_desc) {
                .addr = buf, .len = len, .id = id,
                .flags = flags | (*wrapp ? VHU_VRING_PACKED_DESC_F_AVAIL
                                  : VHU_VRING_PACKED_DESC_F_USED),
            };
            if (id == SIZE - 1) {
                *wrapp = !*wrapp;
            }
        } else {
            struct vhu_vring_desc *d = gpa(RING_GPA);
            struct vhu_vring_avail *avail = gpa(AVAIL_GPA);

            d[id] = (struct vhu_vring_desc) {
                .addr = buf, .len = len, .flags = flags,
            };
            avail->ring[id] = id;
            avail->idx = *posp + 1;
        }
        *posp = vq->packed ? (id + 1) % SIZE : *posp + 1;
    }
}

int
main(int argc, char *argv[])
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s split|packed dequeue|enqueue ROUNDS\n",
                argv[0]);
        return EXIT_FAILURE;
    }
    bool packed = !strcmp(argv[1], "packed");
    bool enqueue = !strcmp(argv[2], "enqueue");
    long rounds = atol(argv[3]);

    int fd = memfd_create("burst-cost", 0);
    if (fd < 0 || ftruncate(fd, MEM_SIZE)) {
        perror("memfd");
        return EXIT_FAILURE;
    }
    guest = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    struct vhu_mem_region_desc region = {
        .guest_phys_addr = GPA, .memory_size = MEM_SIZE,
        .userspace_addr = GPA, .mmap_offset = 0,
    };
    struct vhu_mem *mem = vhu_mem_create();
    char *error;
    if (guest == MAP_FAILED
        || vhu_mem_add_region(mem, &region, dup(fd), &error)) {
        fprintf(stderr, "cannot set guest memory up\n");
        return EXIT_FAILURE;
    }

    /* The harness plays the control path and the PMD thread at once: it
     * holds the queue's gate throughout. */
    static struct vhu_vq vq;    /* Zeroed: its gate is open. */
    if (!vhu_vq_try_enter(&vq)) {
        fprintf(stderr, "cannot enter the queue\n");
        return EXIT_FAILURE;
    }
    atomic_init(&vq.faults, 0);
    vq.packed = packed;
    vq.size = SIZE;
    vq.mask = SIZE - 1;
    vq.mem = mem;
    vq.hdr_len = VHU_VIRTIO_NET_HDR_LEN;
    vq.mrg_rxbuf = true;
    vq.call_fd = -1;
    vq.name = "burst-cost";
    vq.avail_wrap = vq.used_wrap = true;
    if (packed) {
        vq.packed_desc = gpa(RING_GPA);
        vq.driver_event = gpa(AVAIL_GPA);
        vq.device_event = gpa(USED_GPA);
    } else {
        vq.desc = gpa(RING_GPA);
        vq.avail = gpa(AVAIL_GPA);
        vq.used = gpa(USED_GPA);
    }
#ifdef HAVE_RING_RECORDS
    /* In a file, as ovs-vswitchd keeps them. */
    char path[] = "/tmp/burst-cost-XXXXXX";
    int tmp = mkstemp(path);
    struct vhu_ring_state *rs = vhu_ring_state_create(path, 2, &error);
    if (tmp < 0 || !rs) {
        fprintf(stderr, "cannot make a ring state file\n");
        vhu_vq_leave(&vq);
        return EXIT_FAILURE;
    }
    close(tmp);
    unlink(path);
    vq.record = vhu_ring_state_record(rs, 1);
    vq.marker = vhu_ring_state_marker(rs);
#endif
    if (!(packed ? vhu_vq_start_packed(&vq) : vhu_vq_start_split(&vq))) {
        fprintf(stderr, "cannot start the queue\n");
        vhu_vq_leave(&vq);
        return EXIT_FAILURE;
    }

    static uint8_t data[BURST][BUF_SIZE];
    struct vhu_buf bufs[BURST];
    for (int i = 0; i < BURST; i++) {
        bufs[i] = (struct vhu_buf) { .data = data[i], .len = 64,
                                     .size = BUF_SIZE };
    }

    uint16_t pos = 0;
    bool wrap = true;
    long long int n = 0;
    for (long i = 0; i < rounds; i++) {
        post(&vq, enqueue, &pos, &wrap);
        n += (enqueue
              ? (packed ? vhu_vq_enqueue_packed(&vq, bufs, BURST)
                 : vhu_vq_enqueue_split(&vq, bufs, BURST))
              : (packed ? vhu_vq_dequeue_packed(&vq, bufs, BURST)
                 : vhu_vq_dequeue_split(&vq, bufs, BURST)));
    }
    vhu_vq_leave(&vq);
    printf("%lld packets\n", n);
    return n == (long long int) BURST * rounds ? EXIT_SUCCESS : EXIT_FAILURE;
}

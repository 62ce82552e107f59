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

/* "ovs-vhu-test ring-state": ring records (vhu-ring-state.h) weighed
 * against rings in every state that a switch killed at any point leaves
 * them in, which the bursts themselves never stop at on cue: a hand-back
 * of used descriptors recorded but not written, written in part, written
 * whole; buffers taken and not handed back; rings that their driver set up
 * anew; records of other memory or other rings; and the file itself,
 * across processes and spoiled. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ovs-vhu-test.h"
#include "util.h"
#include "vhu-mem.h"
#include "vhu-ring-state.h"
#include "vhu-virtio.h"
#include "vhu-vq.h"

#define SIZE 8                  /* Ring entries: a lap is quickly done. */
#define GPA 0x100000
#define MEM_SIZE 0x100000
#define DESC_GPA GPA
#define DRIVER_GPA (GPA + 0x1000)     /* Split: the avail ring. */
#define DEVICE_GPA (GPA + 0x2000)     /* Split: the used ring. */
#define BUF_GPA (GPA + 0x4000)
#define BUF_SIZE 256
#define FRAME_LEN 64

/* Guest memory, our view of it, and the records of a "switch". */
struct rig {
    int fd;
    uint8_t *guest;             /* Guest-physical GPA is guest[0]. */
    struct vhu_mem *mem;
    struct vhu_ring_state *rs;
    struct vhu_ring_layout layout;
    bool packed;

    /* The driver's side. */
    uint16_t next_pos;          /* Packed: where it makes the next buffer
                                 * available, and with which wrap. */
    bool next_wrap;
    uint16_t avail_idx;         /* Split. */
};

static void *
guest_ptr(const struct rig *rig, uint64_t gpa)
{
    return rig->guest + (gpa - GPA);
}

static struct vhu_vring_packed_desc *
packed_desc(const struct rig *rig, uint16_t pos)
{
    struct vhu_vring_packed_desc *descs = guest_ptr(rig, DESC_GPA);

    return &descs[pos];
}

static void
rig_init(struct rig *rig, bool packed)
{
    memset(rig, 0, sizeof *rig);
    rig->fd = memfd_create("test-ring-state", MFD_CLOEXEC);
    VHU_CHECK(rig->fd >= 0 && !ftruncate(rig->fd, MEM_SIZE));
    rig->guest = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                      rig->fd, 0);
    VHU_CHECK(rig->guest != MAP_FAILED);

    struct vhu_mem_region_desc region = {
        .guest_phys_addr = GPA, .memory_size = MEM_SIZE,
        .userspace_addr = GPA, .mmap_offset = 0,
    };
    char *error = NULL;
    rig->mem = vhu_mem_create();
    VHU_CHECK(!vhu_mem_add_region(rig->mem, &region, dup(rig->fd), &error));

    rig->rs = vhu_ring_state_create(NULL, 2, &error);
    VHU_CHECK(rig->rs);
    rig->packed = packed;
    rig->layout = (struct vhu_ring_layout) {
        .features = ((1ULL << VHU_VIRTIO_F_VERSION_1)
                     | (packed ? 1ULL << VHU_VIRTIO_F_RING_PACKED : 0)),
        .mem_generation = vhu_mem_generation(rig->mem),
        .desc_uaddr = DESC_GPA,
        .avail_uaddr = DRIVER_GPA,
        .used_uaddr = DEVICE_GPA,
        .size = SIZE,
    };
    rig->next_wrap = true;
}

static void
rig_destroy(struct rig *rig)
{
    vhu_ring_state_destroy(rig->rs);
    vhu_mem_destroy(rig->mem);
    munmap(rig->guest, MEM_SIZE);
    close(rig->fd);
}

/* Makes 'vq' a queue whose gate the test holds from now on, as a switch's
 * control path holds it while it sets the queue up: the test plays the
 * control path and the bursts' thread at once.  vq_init() sets it up, as
 * often as a new switch would. */
static void
vq_open(struct vhu_vq *vq)
    OVS_ACQUIRES(vq->gate, vhu_vq_any_gate)
{
    memset(vq, 0, sizeof *vq);
    atomic_init(&vq->gate.busy, false);
    vhu_vq_stop(vq);
}

/* The TX queue of a switch process that sets the ring up as the frontend
 * says (its base: packed position 0 with wrap 1, or split 'split_base'),
 * with the rig's record. */
static void
vq_init(struct rig *rig, struct vhu_vq *vq, uint16_t split_base)
    VHU_VQ_REQUIRES(vq)
{
    /* A new switch's queue, whose gate the test goes on holding. */
    memset(vq, 0, sizeof *vq);
    atomic_init(&vq->gate.busy, true);
    atomic_init(&vq->faults, 0);
    vq->packed = rig->packed;
    vq->size = SIZE;
    vq->mask = SIZE - 1;
    vq->mem = rig->mem;
    vq->hdr_len = VHU_VIRTIO_NET_HDR_LEN;
    vq->call_fd = -1;
    vq->name = "test";
    vq->index = 1;
    vq->record = vhu_ring_state_record(rig->rs, 1);
    vq->marker = vhu_ring_state_marker(rig->rs);
    if (rig->packed) {
        vq->packed_desc = vhu_mem_uva_to_hva(rig->mem, DESC_GPA,
                                             VHU_VRING_DESC_BYTES(SIZE));
        vq->driver_event = vhu_mem_uva_to_hva(rig->mem, DRIVER_GPA, 4);
        vq->device_event = vhu_mem_uva_to_hva(rig->mem, DEVICE_GPA, 4);
        vq->avail_wrap = vq->used_wrap = true;
    } else {
        vq->desc = vhu_mem_uva_to_hva(rig->mem, DESC_GPA,
                                      VHU_VRING_DESC_BYTES(SIZE));
        vq->avail = vhu_mem_uva_to_hva(rig->mem, DRIVER_GPA,
                                       VHU_VRING_AVAIL_BYTES(SIZE));
        vq->used = vhu_mem_uva_to_hva(rig->mem, DEVICE_GPA,
                                      VHU_VRING_USED_BYTES(SIZE));
        vq->last_avail_idx = vq->last_used_idx = split_base;
    }
}

/* Starts 'vq' as the switch does on a queue's first start: weighs the
 * record, starts the ring, records the start. */
static void
vq_start(struct rig *rig, struct vhu_vq *vq, struct vhu_ring_resume *r)
    VHU_VQ_REQUIRES(vq)
{
    vhu_ring_resume(vq, &rig->layout, r);
    VHU_CHECK(rig->packed ? vhu_vq_start_packed(vq) : vhu_vq_start_split(vq));
    vhu_ring_record_start(vq, &rig->layout);
}

/* The driver makes 'n' one-descriptor frames available. */
static void
driver_send(struct rig *rig, int n)
{
    for (int i = 0; i < n; i++) {
        uint16_t id = rig->packed ? rig->next_pos : rig->avail_idx % SIZE;
        uint64_t buf = BUF_GPA + id * BUF_SIZE;

        memset(guest_ptr(rig, buf), 0, VHU_VIRTIO_NET_HDR_LEN + FRAME_LEN);
        if (rig->packed) {
            struct vhu_vring_packed_desc *d = packed_desc(rig, rig->next_pos);

            d->addr = buf;
            d->len = VHU_VIRTIO_NET_HDR_LEN + FRAME_LEN;
            d->id = id;
            d->flags = (rig->next_wrap
                        ? VHU_VRING_PACKED_DESC_F_AVAIL
                        : VHU_VRING_PACKED_DESC_F_USED);
            if (++rig->next_pos == SIZE) {
                rig->next_pos = 0;
                rig->next_wrap = !rig->next_wrap;
            }
        } else {
            struct vhu_vring_desc *descs = guest_ptr(rig, DESC_GPA);
            struct vhu_vring_avail *avail = guest_ptr(rig, DRIVER_GPA);

            descs[id].addr = buf;
            descs[id].len = VHU_VIRTIO_NET_HDR_LEN + FRAME_LEN;
            descs[id].flags = 0;
            avail->ring[rig->avail_idx % SIZE] = id;
            avail->idx = ++rig->avail_idx;
        }
    }
}

static int
device_take(struct vhu_vq *vq, int n)
    VHU_VQ_REQUIRES(vq)
{
    uint8_t data[SIZE][BUF_SIZE];
    struct vhu_buf bufs[SIZE];

    for (int i = 0; i < SIZE; i++) {
        bufs[i] = (struct vhu_buf) { .data = data[i], .size = BUF_SIZE };
    }
    return (vq->packed
            ? vhu_vq_dequeue_packed(vq, bufs, n)
            : vhu_vq_dequeue_split(vq, bufs, n));
}

static bool
packed_is_used(const struct rig *rig, uint16_t pos, bool wrap)
{
    uint16_t flags = packed_desc(rig, pos)->flags;

    return (!!(flags & VHU_VRING_PACKED_DESC_F_AVAIL) == wrap
            && !!(flags & VHU_VRING_PACKED_DESC_F_USED) == wrap);
}

/* What a switch killed in the middle of handing back the 2 buffers that
 * the driver made available at 'pos' (wrap counter 'wrap') leaves: a real
 * burst takes them and hands them back, which leaves its batch and pending
 * position in the record; then the flags it wrote are undone, all but
 * 'n_flags' of them (it writes the second's, then the first's), and the
 * record's 'committed' is put back to where it stood, as if the process
 * had died before it wrote them. */
static void
kill_in_handback(struct rig *rig, struct vhu_vq *vq, uint16_t pos,
                 bool wrap, int n_flags)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_ring_record *record = vq->record;
    uint32_t committed = record->committed;
    uint16_t avail_flags = (wrap
                            ? VHU_VRING_PACKED_DESC_F_AVAIL
                            : VHU_VRING_PACKED_DESC_F_USED);

    VHU_CHECK(committed == vhu_ring_position(pos, wrap));
    VHU_CHECK(device_take(vq, SIZE) == 2);
    VHU_CHECK(record->batch.n == 2
              && record->batch.used[0].id == packed_desc(rig, pos)->id
              && record->batch.used[1].id
                 == packed_desc(rig, (pos + 1) % SIZE)->id);
    VHU_CHECK(record->pending == record->committed
              && record->pending == vhu_ring_position(vq->last_avail_idx,
                                                      vq->avail_wrap));

    record->committed = committed;
    if (n_flags < 1) {
        packed_desc(rig, (pos + 1) % SIZE)->flags = avail_flags;
    }
    if (n_flags < 2) {
        packed_desc(rig, pos)->flags = avail_flags;
    }
}

static void
test_packed(void)
{
    struct vhu_ring_resume r;
    struct rig rig;
    struct vhu_vq vq;

    rig_init(&rig, true);
    vq_open(&vq);

    /* A first switch: 8 frames, a lap, then 4 more. */
    vq_init(&rig, &vq, 0);
    vq_start(&rig, &vq, &r);
    VHU_CHECK(!r.ran && !r.applies);
    driver_send(&rig, SIZE);
    VHU_CHECK(device_take(&vq, SIZE) == SIZE);
    driver_send(&rig, 4);
    VHU_CHECK(device_take(&vq, SIZE) == 4);
    VHU_CHECK(vq.last_avail_idx == 4 && !vq.avail_wrap);

    /* Killed.  The next is told position 0, wrap 1. */
    vq_init(&rig, &vq, 0);
    vq_start(&rig, &vq, &r);
    VHU_CHECK(r.applies && r.from_record && !r.rejected);
    VHU_CHECK(r.position == vhu_ring_position(4, false));
    VHU_CHECK(r.frontend_base == vhu_ring_position(0, true));
    VHU_CHECK(!r.finished && !r.replayed);
    VHU_CHECK(vq.last_avail_idx == 4 && !vq.avail_wrap
              && vq.last_used_idx == 4 && !vq.used_wrap);
    driver_send(&rig, 2);
    VHU_CHECK(device_take(&vq, SIZE) == 2);
    printf("packed: a switch killed after a lap and a half resumes at 4 "
           "(wrap 0), not at the frontend's 0 (wrap 1)\n");

    /* Killed handing back 6 and 7, at each point. */
    for (int n_flags = 0; n_flags <= 2; n_flags++) {
        driver_send(&rig, 2);
        kill_in_handback(&rig, &vq, 6, false, n_flags);
        vq_init(&rig, &vq, 0);
        vq_start(&rig, &vq, &r);
        VHU_CHECK(r.from_record && !r.rejected);
        VHU_CHECK(r.position == vhu_ring_position(0, true));
        VHU_CHECK(r.finished == (n_flags == 2 ? 0 : 2));
        VHU_CHECK(packed_is_used(&rig, 6, false)
                  && packed_is_used(&rig, 7, false));
        printf("packed: killed handing back 2 buffers with %d of their "
               "flags written: %s, resumes at 0 (wrap 1)\n", n_flags,
               n_flags == 2 ? "the guest has them" : "handed back now");

        /* Go on to the same place for the next round. */
        driver_send(&rig, 6);
        VHU_CHECK(device_take(&vq, SIZE) == 6);
        VHU_CHECK(vq.last_avail_idx == 6 && vq.avail_wrap);
        driver_send(&rig, 2);
        VHU_CHECK(device_take(&vq, SIZE) == 2);
        driver_send(&rig, 6);
        VHU_CHECK(device_take(&vq, SIZE) == 6);
        VHU_CHECK(vq.last_avail_idx == 6 && !vq.avail_wrap);
    }

    /* Killed with 3 buffers taken and not handed back. */
    driver_send(&rig, 3);
    vq_init(&rig, &vq, 0);
    vq_start(&rig, &vq, &r);
    VHU_CHECK(r.from_record && r.position == vhu_ring_position(6, false));
    VHU_CHECK(!r.finished);
    VHU_CHECK(device_take(&vq, SIZE) == 3);
    printf("packed: killed with 3 buffers taken and not handed back: "
           "taken again\n");

    /* The record and the ring disagree. */
    struct vhu_ring_record saved = *vq.record;
    uint16_t at = vq.last_avail_idx;
    bool wrap = vq.avail_wrap;
    packed_desc(&rig, at)->flags = (wrap
                                    ? (VHU_VRING_PACKED_DESC_F_AVAIL
                                       | VHU_VRING_PACKED_DESC_F_USED)
                                    : 0);
    vq_init(&rig, &vq, 0);
    vq_start(&rig, &vq, &r);
    VHU_CHECK(r.applies && !r.from_record);
    VHU_CHECK_STREQ(r.rejected,
                    "the descriptor there is already used in this lap");
    VHU_CHECK(vq.last_avail_idx == 0 && vq.avail_wrap);
    printf("packed: rejected, the frontend's base followed: %s\n",
           r.rejected);

    *vq.record = saved;
    vq.record->pending = vq.record->committed ^ 1;
    vq.record->batch.n = 0;
    packed_desc(&rig, at)->flags = 0;
    vq_init(&rig, &vq, 0);
    vhu_ring_resume(&vq, &rig.layout, &r);
    VHU_CHECK_STREQ(r.rejected, "the hand-back it was in the middle of does "
                    "not fit the ring");
    printf("packed: rejected: %s\n", r.rejected);

    /* The driver set the ring up anew: our mark is gone. */
    *vq.record = saved;
    memset(guest_ptr(&rig, DEVICE_GPA), 0, 4);
    vq_init(&rig, &vq, 0);
    vhu_ring_resume(&vq, &rig.layout, &r);
    VHU_CHECK(r.ran && !r.applies && !r.from_record);
    VHU_CHECK_STREQ(r.ignored, "the guest's driver set the ring up anew");
    printf("packed: not applied: %s\n", r.ignored);

    /* Other guest memory, another ring, the frontend told. */
    struct vhu_ring_layout layout = rig.layout;
    rig.layout.mem_generation ^= 1;
    vhu_ring_resume(&vq, &rig.layout, &r);
    VHU_CHECK_STREQ(r.ignored, "it is of other guest memory");
    printf("not applied: %s\n", r.ignored);
    rig.layout = layout;
    rig.layout.used_uaddr += 64;
    vhu_ring_resume(&vq, &rig.layout, &r);
    VHU_CHECK_STREQ(r.ignored, "it is of another ring");
    printf("not applied: %s\n", r.ignored);
    rig.layout = layout;
    vhu_ring_record_handed_back(&vq);
    vhu_ring_resume(&vq, &rig.layout, &r);
    VHU_CHECK(!r.ran);
    VHU_CHECK_STREQ(r.ignored, "the frontend was told the position");
    printf("not applied: %s\n", r.ignored);

    vhu_vq_leave(&vq);
    rig_destroy(&rig);
}

static void
test_split(void)
{
    struct vhu_ring_resume r;
    struct rig rig;
    struct vhu_vq vq;

    rig_init(&rig, false);
    vq_open(&vq);
    vq_init(&rig, &vq, 0);
    vq_start(&rig, &vq, &r);
    driver_send(&rig, 6);
    VHU_CHECK(device_take(&vq, SIZE) == 6);
    driver_send(&rig, 6);
    VHU_CHECK(device_take(&vq, SIZE) == 6);

    /* Killed after a burst, told 0 (DPDK's virtio-user) or the used index
     * (QEMU). */
    for (int base = 0; base <= 12; base += 12) {
        vq_init(&rig, &vq, base);
        vq_start(&rig, &vq, &r);
        VHU_CHECK(r.from_record && r.position == 12 && !r.replayed);
        VHU_CHECK(vq.last_avail_idx == 12 && vq.last_used_idx == 12);
    }
    printf("split: resumes at the used index, 12, told 0 or 12\n");

    /* A TX burst records how far it may take the ring before it takes
     * anything: one that stops at its first descriptor (its head beyond
     * the ring breaks the queue) leaves the record saying 3, as one killed
     * there would. */
    driver_send(&rig, 3);
    ((struct vhu_vring_avail *) guest_ptr(&rig, DRIVER_GPA))->ring[12 % SIZE]
        = SIZE + 1;
    VHU_CHECK(device_take(&vq, SIZE) == 0 && vhu_vq_is_broken(&vq));
    vq_init(&rig, &vq, 12);
    vq_start(&rig, &vq, &r);
    VHU_CHECK(r.from_record && r.position == 12 && r.replayed == 3);
    printf("split: a burst stopped before handing back 3 descriptors it "
           "meant to take: they are counted, to take again\n");

    /* Killed between the used index and the record. */
    vq.record->pending = 15;
    ((struct vhu_vring_used *) guest_ptr(&rig, DEVICE_GPA))->idx = 15;
    vq_init(&rig, &vq, 15);
    vq_start(&rig, &vq, &r);
    VHU_CHECK(r.from_record && r.position == 15 && !r.replayed);
    printf("split: killed after the used index moved, before the record: "
           "resumes at the used index, nothing taken again\n");

    ((struct vhu_vring_used *) guest_ptr(&rig, DEVICE_GPA))->idx = 40;
    vq_init(&rig, &vq, 40);
    vhu_ring_resume(&vq, &rig.layout, &r);
    VHU_CHECK_STREQ(r.rejected, "the ring's used index is not where it left "
                    "it");
    printf("split: rejected: %s\n", r.rejected);
    vhu_vq_leave(&vq);
    rig_destroy(&rig);
}

static void
test_file(void)
{
    const char *path = "test-ring-state.rings";
    char *error = NULL;

    unlink(path);
    struct vhu_ring_state *rs = vhu_ring_state_create(path, 4, &error);
    VHU_CHECK(rs);
    VHU_CHECK_STREQ(vhu_ring_state_path(rs), path);
    uint16_t marker = vhu_ring_state_marker(rs);
    VHU_CHECK(marker);
    struct vhu_ring_record *record = vhu_ring_state_record(rs, 3);
    VHU_CHECK(record->state == VHU_RING_RECORD_NONE);
    record->state = VHU_RING_RECORD_RUNNING;
    record->committed = 42;
    vhu_ring_state_destroy(rs);

    /* Another process would see the same: a file it maps again. */
    rs = vhu_ring_state_create(path, 4, &error);
    VHU_CHECK(rs && vhu_ring_state_marker(rs) == marker);
    record = vhu_ring_state_record(rs, 3);
    VHU_CHECK(record->state == VHU_RING_RECORD_RUNNING
              && record->committed == 42);
    vhu_ring_state_destroy(rs);
    printf("a ring state file keeps its records and mark across mappings\n");

    /* One spoiled, or of another size, starts afresh. */
    int fd = open(path, O_WRONLY);
    VHU_CHECK(fd >= 0 && pwrite(fd, "spoiled!", 8, 0) == 8 && !close(fd));
    rs = vhu_ring_state_create(path, 4, &error);
    VHU_CHECK(rs);
    VHU_CHECK(vhu_ring_state_record(rs, 3)->state == VHU_RING_RECORD_NONE);
    vhu_ring_state_destroy(rs);
    rs = vhu_ring_state_create(path, 2, &error);
    VHU_CHECK(rs && vhu_ring_state_record(rs, 1)->state
              == VHU_RING_RECORD_NONE);
    vhu_ring_state_destroy(rs);
    printf("a spoiled ring state file, or one of another size, starts "
           "afresh\n");

    VHU_CHECK(!unlink(path) && !mkdir(path, 0700));
    VHU_CHECK(!vhu_ring_state_create(path, 4, &error));
    printf("refused: %s\n", error);
    free(error);
    VHU_CHECK(!rmdir(path));
}

static void
run_ring_state(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    test_packed();
    test_split();
    test_file();
}

const struct vhu_test vhu_test_ring_state = {
    "ring-state", "ring records weighed against rings", run_ring_state,
};

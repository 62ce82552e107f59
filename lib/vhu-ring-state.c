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

/* Ring records that outlive the switch (vhu-ring-state.h): the file they
 * live in, and weighing a record against the frontend's base and the ring
 * when a queue first starts on a connection.  The device layer
 * (vhu-dev.c) calls it with the queue's gate held; it calls the packed
 * ring's checks (vhu-vq-packed.c) and nothing above. */

#include <config.h>

#include "vhu-ring-state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "random.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vhu_ring_state);

#define VHU_RING_STATE_MAGIC "OVSVHURS"
#define VHU_RING_STATE_VERSION 2

/* The file: a header, then one record per queue, each in cache lines of
 * its own (different PMD threads write different queues' records). */
struct vhu_ring_state_header {
    char magic[8];
    uint32_t version;
    uint32_t n_vrings;
    uint32_t record_size;
    uint16_t marker;
    uint8_t pad[CACHE_LINE_SIZE - 22];
};
BUILD_ASSERT_DECL(sizeof(struct vhu_ring_state_header) == CACHE_LINE_SIZE);

#define VHU_RING_RECORD_SIZE ROUND_UP(sizeof(struct vhu_ring_record), \
                                      CACHE_LINE_SIZE)

struct vhu_ring_state {
    char *path;                 /* NULL for private memory. */
    void *base;
    size_t size;
    unsigned int n_vrings;
};

static struct vhu_ring_state_header *
vhu_ring_state_header(const struct vhu_ring_state *rs)
{
    return rs->base;
}

static bool
vhu_ring_state_header_ok(const struct vhu_ring_state_header *h,
                         unsigned int n_vrings)
{
    return (!memcmp(h->magic, VHU_RING_STATE_MAGIC, sizeof h->magic)
            && h->version == VHU_RING_STATE_VERSION
            && h->n_vrings == n_vrings
            && h->record_size == VHU_RING_RECORD_SIZE
            && h->marker);
}

/* Maps 'path', made at 'size' bytes if it is not a file of that size
 * already, and stores its fd, still open, in '*fdp'. */
static void *
vhu_ring_state_map_file(const char *path, size_t size, int *fdp,
                        char **errorp)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    void *base;

    if (fd < 0) {
        *errorp = xasprintf("cannot open ring state file %s (%s)", path,
                            ovs_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *errorp = xasprintf("ring state file %s is not a regular file",
                            path);
        close(fd);
        return NULL;
    }
    if (st.st_size != size && (ftruncate(fd, 0) || ftruncate(fd, size))) {
        *errorp = xasprintf("cannot size ring state file %s (%s)", path,
                            ovs_strerror(errno));
        close(fd);
        return NULL;
    }
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        *errorp = xasprintf("cannot map ring state file %s (%s)", path,
                            ovs_strerror(errno));
        close(fd);
        return NULL;
    }
    *fdp = fd;
    return base;
}

struct vhu_ring_state *
vhu_ring_state_create(const char *path, unsigned int n_vrings,
                      char **errorp)
{
    size_t size = CACHE_LINE_SIZE + n_vrings * VHU_RING_RECORD_SIZE;
    int fd = -1;
    void *base;

    if (path) {
        base = vhu_ring_state_map_file(path, size, &fd, errorp);
        if (!base) {
            return NULL;
        }
    } else {
        base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) {
            out_of_memory();
        }
    }

    struct vhu_ring_state_header *h = base;
    bool fresh = !vhu_ring_state_header_ok(h, n_vrings);
    if (fresh && fd >= 0) {
        if (memcmp(h->magic, "\0\0\0\0\0\0\0\0", sizeof h->magic)) {
            VLOG_WARN("%s: not a ring state file of this version; starting "
                      "it afresh", path);
        }
        /* Zeroed by cutting the file back to nothing, as a new file or new
         * private memory is: no page is taken until a queue writes its
         * record (a few kB of a file that has room for every queue a
         * frontend may use). */
        if (ftruncate(fd, 0) || ftruncate(fd, size)) {
            *errorp = xasprintf("cannot clear ring state file %s (%s)", path,
                                ovs_strerror(errno));
            munmap(base, size);
            close(fd);
            return NULL;
        }
    }
    if (fd >= 0) {
        close(fd);
    }

    struct vhu_ring_state *rs = xmalloc(sizeof *rs);
    rs->path = nullable_xstrdup(path);
    rs->base = base;
    rs->size = size;
    rs->n_vrings = n_vrings;
    if (fresh) {
        memcpy(h->magic, VHU_RING_STATE_MAGIC, sizeof h->magic);
        h->version = VHU_RING_STATE_VERSION;
        h->n_vrings = n_vrings;
        h->record_size = VHU_RING_RECORD_SIZE;
        h->marker = random_uint32() | 1;
    }
    return rs;
}

void
vhu_ring_state_destroy(struct vhu_ring_state *rs)
{
    if (rs) {
        munmap(rs->base, rs->size);
        free(rs->path);
        free(rs);
    }
}

struct vhu_ring_record *
vhu_ring_state_record(struct vhu_ring_state *rs, unsigned int idx)
{
    ovs_assert(idx < rs->n_vrings);
    return ALIGNED_CAST(struct vhu_ring_record *,
                        ((char *) rs->base + CACHE_LINE_SIZE
                         + idx * VHU_RING_RECORD_SIZE));
}

const char *
vhu_ring_state_path(const struct vhu_ring_state *rs)
{
    return rs->path;
}

uint16_t
vhu_ring_state_marker(const struct vhu_ring_state *rs)
{
    return vhu_ring_state_header(rs)->marker;
}

/* Returns NULL if 'record' is of a queue set up as 'layout', else how it
 * differs. */
static const char *
vhu_ring_record_mismatch(const struct vhu_ring_record *record,
                         const struct vhu_ring_layout *layout)
{
    const struct vhu_ring_layout *old = &record->layout;

    if (old->mem_generation != layout->mem_generation) {
        return "it is of other guest memory";
    } else if (old->features != layout->features) {
        return "it is of other features";
    } else if (old->size != layout->size
               || old->desc_uaddr != layout->desc_uaddr
               || old->avail_uaddr != layout->avail_uaddr
               || old->used_uaddr != layout->used_uaddr) {
        return "it is of another ring";
    }
    return NULL;
}

static void
vhu_ring_set_position(struct vhu_vq *vq, uint32_t position)
    VHU_VQ_REQUIRES(vq)
{
    vq->last_avail_idx = vq->last_used_idx = (vq->packed
                                              ? position & 0x7fff
                                              : position);
    vq->avail_wrap = vq->used_wrap = vq->packed && position >> 15;
}

static uint32_t
vhu_ring_get_position(const struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    return (vq->packed
            ? vhu_ring_position(vq->last_avail_idx, vq->avail_wrap)
            : vq->last_avail_idx);
}

/* A packed ring: the record's position, once the ring agrees with it, and
 * a hand-back in progress finished, stands. */
static void
vhu_ring_resume_packed(struct vhu_vq *vq, struct vhu_ring_resume *r)
    VHU_VQ_REQUIRES(vq)
{
    const struct vhu_ring_record *record = vq->record;
    uint32_t committed = record->committed;

    if (committed >> 16 || record->pending >> 16) {
        r->rejected = "its positions are out of range";
        return;
    }
    r->rejected = vhu_vq_check_position_packed(vq, committed & 0x7fff,
                                               committed >> 15);
    if (r->rejected && record->pending != committed) {
        /* The hand-back in progress may have reached the guest, which may
         * have reused the first descriptor: check the ring from where it
         * went. */
        r->rejected = vhu_vq_check_position_packed(vq,
                                                   record->pending & 0x7fff,
                                                   record->pending >> 15);
    }
    if (r->rejected) {
        return;
    }

    r->finished = vhu_vq_finish_handback_packed(vq);
    if (r->finished < 0) {
        r->finished = 0;
        r->rejected = "the hand-back it was in the middle of does not fit "
                      "the ring";
        return;
    }
    r->from_record = true;
    r->position = record->pending;
}

/* A split ring: the used index is where the guest was handed back up to,
 * and the queue goes on from there, whatever the frontend's base (QEMU
 * sends the used index, DPDK's virtio-user 0); the record says how many
 * descriptors past it the switch had taken. */
static void
vhu_ring_resume_split(struct vhu_vq *vq, struct vhu_ring_resume *r)
    VHU_VQ_REQUIRES(vq)
{
    const struct vhu_ring_record *record = vq->record;
    uint16_t used_idx = vhu_read_u16(&vq->used->idx);

    if (record->committed >> 16 || record->pending >> 16) {
        r->rejected = "its positions are out of range";
    } else if (used_idx == record->pending) {
        r->position = used_idx;
    } else if (used_idx == record->committed
               && (uint16_t) (record->pending - used_idx) <= vq->size) {
        r->position = used_idx;
        r->replayed = (uint16_t) (record->pending - used_idx);
    } else {
        r->rejected = "the ring's used index is not where it left it";
        return;
    }
    r->from_record = !r->rejected;
}

void
vhu_ring_resume(struct vhu_vq *vq, const struct vhu_ring_layout *layout,
                struct vhu_ring_resume *r)
    VHU_VQ_REQUIRES(vq)
{
    const struct vhu_ring_record *record = vq->record;

    memset(r, 0, sizeof *r);
    r->frontend_base = vhu_ring_get_position(vq);
    if (record->state == VHU_RING_RECORD_NONE) {
        r->ignored = "there is none";
        return;
    } else if (record->state == VHU_RING_RECORD_HANDED_BACK) {
        r->ignored = "the frontend was told the position";
        return;
    } else if (record->state != VHU_RING_RECORD_RUNNING) {
        r->ignored = "it is unreadable";
        return;
    }
    r->ran = true;
    r->ignored = vhu_ring_record_mismatch(record, layout);
    if (!r->ignored && vq->packed && !vhu_vq_ring_marked_packed(vq)) {
        /* Then its base is right (DPDK's virtio-user does this when it
         * reconnects). */
        r->ignored = "the guest's driver set the ring up anew";
    }
    if (r->ignored) {
        return;
    }

    r->applies = true;
    if (vq->packed) {
        vhu_ring_resume_packed(vq, r);
    } else {
        vhu_ring_resume_split(vq, r);
    }
    if (r->from_record) {
        r->frontend_agreed = r->position == r->frontend_base;
        vhu_ring_set_position(vq, r->position);
    }
}

/* Records that stopped 'vq', set up as 'layout', starts from its
 * position. */
void
vhu_ring_record_start(struct vhu_vq *vq, const struct vhu_ring_layout *layout)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_ring_record *record = vq->record;
    uint32_t position = vhu_ring_get_position(vq);

    /* A switch killed in the middle leaves no record rather than a record
     * of half one queue and half another. */
    record->state = VHU_RING_RECORD_NONE;
    atomic_thread_fence(memory_order_release);
    record->layout = *layout;
    record->committed = record->pending = position;
    memset(&record->batch, 0, sizeof record->batch);
    atomic_thread_fence(memory_order_release);
    record->state = VHU_RING_RECORD_RUNNING;
}

/* Records a new layout (new guest memory, say) of running 'vq'. */
void
vhu_ring_record_update(struct vhu_vq *vq, const struct vhu_ring_layout *layout)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_ring_record *record = vq->record;

    record->state = VHU_RING_RECORD_NONE;
    atomic_thread_fence(memory_order_release);
    record->layout = *layout;
    atomic_thread_fence(memory_order_release);
    record->state = VHU_RING_RECORD_RUNNING;
}

/* Records that the frontend learned stopped 'vq''s position
 * (GET_VRING_BASE): the next start follows the frontend. */
void
vhu_ring_record_handed_back(struct vhu_vq *vq)
    VHU_VQ_REQUIRES(vq)
{
    struct vhu_ring_record *record = vq->record;

    if (record->state == VHU_RING_RECORD_RUNNING) {
        record->state = VHU_RING_RECORD_HANDED_BACK;
    }
}

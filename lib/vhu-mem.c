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

/* Guest memory (vhu-mem.h): mapping the regions that a frontend shares,
 * sealing them against shrinking, and translating guest-physical and
 * frontend-virtual addresses into ours.  The lowest layer of the engine:
 * the protocol builds memory tables with it, the queues translate through
 * it, and it calls nothing of theirs. */

#include <config.h>

#include "vhu-mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/mempolicy.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hash.h"
#include "ovs-atomic.h"
#include "util.h"

/* One mmap() of one file descriptor from the frontend. */
struct vhu_mem_map {
    struct ovs_refcount ref_cnt;
    void *addr;
    size_t size;
    int fd;
    dev_t file_dev;             /* Which file 'fd' is: the same guest */
    ino_t file_ino;             /* memory comes back in the same file. */
};

static void
vhu_mem_map_unref(struct vhu_mem_map *map)
{
    if (map && ovs_refcount_unref(&map->ref_cnt) == 1) {
        munmap(map->addr, map->size);
        close(map->fd);
        free(map);
    }
}

static struct vhu_mem_map *
vhu_mem_map_ref(struct vhu_mem_map *map)
{
    ovs_refcount_ref(&map->ref_cnt);
    return map;
}

struct vhu_mem *
vhu_mem_create(void)
{
    struct vhu_mem *mem = xmalloc(sizeof *mem);
    mem->n_regions = 0;
    return mem;
}

void
vhu_mem_destroy(struct vhu_mem *mem)
{
    if (mem) {
        for (size_t i = 0; i < mem->n_regions; i++) {
            vhu_mem_map_unref(mem->regions[i].map);
        }
        free(mem);
    }
}

/* Returns a new table with the regions of 'mem', which share its mappings
 * (NULL gives an empty table). */
struct vhu_mem *
vhu_mem_clone(const struct vhu_mem *mem)
{
    struct vhu_mem *clone = vhu_mem_create();

    if (mem) {
        clone->n_regions = mem->n_regions;
        for (size_t i = 0; i < mem->n_regions; i++) {
            clone->regions[i] = mem->regions[i];
            vhu_mem_map_ref(clone->regions[i].map);
        }
    }
    return clone;
}

/* Returns true if [a, a + a_size) and [b, b + b_size) overlap.  Neither may
 * wrap around. */
static bool
ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

/* Returns true if 'a + b' overflows 64 bits. */
static bool
add_overflows(uint64_t a, uint64_t b)
{
    return a + b < a;
}

/* Checks 'desc' against the table and the file it comes in.  Returns NULL
 * or a message for the operator. */
static char *
vhu_mem_check_region(const struct vhu_mem *mem,
                     const struct vhu_mem_region_desc *desc, int fd,
                     struct stat *stp)
{
    struct stat st;

    if (mem->n_regions >= VHU_MEM_MAX_REGIONS) {
        return xasprintf("too many memory regions (at most %d)",
                         VHU_MEM_MAX_REGIONS);
    }
    if (!desc->memory_size) {
        return xstrdup("memory region of size 0");
    }
    if (add_overflows(desc->guest_phys_addr, desc->memory_size)
        || add_overflows(desc->userspace_addr, desc->memory_size)
        || add_overflows(desc->mmap_offset, desc->memory_size)
        || desc->mmap_offset + desc->memory_size > SIZE_MAX) {
        return xasprintf("memory region at 0x%"PRIx64" of size 0x%"PRIx64
                         " (offset 0x%"PRIx64") overflows the address space",
                         desc->guest_phys_addr, desc->memory_size,
                         desc->mmap_offset);
    }
    for (size_t i = 0; i < mem->n_regions; i++) {
        const struct vhu_mem_region *r = &mem->regions[i];

        if (ranges_overlap(desc->guest_phys_addr, desc->memory_size,
                           r->guest_phys_addr, r->size)
            || ranges_overlap(desc->userspace_addr, desc->memory_size,
                              r->userspace_addr, r->size)) {
            return xasprintf("memory region at 0x%"PRIx64" of size 0x%"
                             PRIx64" overlaps the region at 0x%"PRIx64,
                             desc->guest_phys_addr, desc->memory_size,
                             r->guest_phys_addr);
        }
    }
    if (fstat(fd, &st) < 0) {
        return xasprintf("cannot stat memory region fd (%s)",
                         ovs_strerror(errno));
    }
    if (!S_ISREG(st.st_mode)
        || (uint64_t) st.st_size < desc->mmap_offset + desc->memory_size) {
        return xasprintf("memory region fd is %s of %jd bytes, smaller than "
                         "its region (offset 0x%"PRIx64" + size 0x%"PRIx64")",
                         S_ISREG(st.st_mode) ? "a file" : "not a file",
                         (intmax_t) st.st_size, desc->mmap_offset,
                         desc->memory_size);
    }
    *stp = st;
    return NULL;
}

/* Returns the region of 'mem' with the guest-physical address, size and
 * frontend address of 'desc', or NULL. */
static struct vhu_mem_region *
vhu_mem_find_region(struct vhu_mem *mem,
                    const struct vhu_mem_region_desc *desc)
{
    for (size_t i = 0; i < mem->n_regions; i++) {
        struct vhu_mem_region *r = &mem->regions[i];

        if (r->guest_phys_addr == desc->guest_phys_addr
            && r->size == desc->memory_size
            && r->userspace_addr == desc->userspace_addr) {
            return r;
        }
    }
    return NULL;
}

/* Maps the region that 'desc' describes from 'fd' and adds it to 'mem'.
 * Takes ownership of 'fd' whatever happens: it stays open while the
 * mapping lives, or is closed at once when the region is refused.  Returns
 * 0, or an errno value with a message in '*errorp' for the caller to log
 * and free. */
int
vhu_mem_add_region(struct vhu_mem *mem,
                   const struct vhu_mem_region_desc *desc, int fd,
                   char **errorp)
{
    struct vhu_mem_region *same = vhu_mem_find_region(mem, desc);

    if (same) {
        /* QEMU sets each queue pair of a multiqueue device up as a device
         * of its own on the same connection, and each one adds every
         * region: the same region again is one more holder of it. */
        same->n_adds++;
        close(fd);
        return 0;
    }

    struct stat st = { .st_ino = 0 };
    char *error = vhu_mem_check_region(mem, desc, fd, &st);
    if (error) {
        close(fd);
        *errorp = error;
        return EINVAL;
    }

    /* A frontend that shrank the file under our mapping would make the
     * next access to the lost pages raise SIGBUS in ovs-vswitchd.  A memfd
     * that allows sealing (QEMU's memory-backend-memfd seals it itself)
     * is sealed against shrinking here; other files (hugetlbfs, tmpfs)
     * cannot be, and are trusted not to shrink, as every vhost-user
     * backend does. */
    ignore(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));

    /* Map from the start of the file, as the offset need not be page
     * aligned. */
    size_t size = desc->mmap_offset + desc->memory_size;
    void *addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
        int err = errno;
        *errorp = xasprintf("cannot map memory region at 0x%"PRIx64" of size "
                            "0x%"PRIx64" (%s)", desc->guest_phys_addr,
                            desc->memory_size, ovs_strerror(err));
        close(fd);
        return err;
    }

    struct vhu_mem_map *map = xmalloc(sizeof *map);
    ovs_refcount_init(&map->ref_cnt);
    map->addr = addr;
    map->size = size;
    map->fd = fd;
    map->file_dev = st.st_dev;
    map->file_ino = st.st_ino;

    struct vhu_mem_region *r = &mem->regions[mem->n_regions++];
    r->guest_phys_addr = desc->guest_phys_addr;
    r->size = desc->memory_size;
    r->userspace_addr = desc->userspace_addr;
    r->host_addr = (uint8_t *) addr + desc->mmap_offset;
    r->map = map;
    r->n_adds = 1;
    return 0;
}

/* Removes from 'mem' the region that 'desc' names by its guest-physical
 * address, size and frontend address, once as many removals as additions
 * of it have come.  Returns 0, or ENOENT if there is none.  The mapping
 * goes when no other table holds it. */
int
vhu_mem_remove_region(struct vhu_mem *mem,
                      const struct vhu_mem_region_desc *desc)
{
    struct vhu_mem_region *r = vhu_mem_find_region(mem, desc);

    if (!r) {
        return ENOENT;
    }
    if (--r->n_adds == 0) {
        vhu_mem_map_unref(r->map);
        *r = mem->regions[--mem->n_regions];
    }
    return 0;
}

/* Returns our address of 'addr', a guest-physical address or, if 'by_uva',
 * a frontend-virtual one, and stores in '*lenp' how many of the '*lenp'
 * bytes from there the same region holds.  Returns NULL if no region holds
 * 'addr'. */
static void *
vhu_mem_lookup(const struct vhu_mem *mem, uint64_t addr, uint64_t *lenp,
               bool by_uva)
{
    for (size_t i = 0; i < mem->n_regions; i++) {
        const struct vhu_mem_region *r = &mem->regions[i];
        uint64_t start = by_uva ? r->userspace_addr : r->guest_phys_addr;
        uint64_t offset = addr - start;

        if (addr >= start && offset < r->size) {
            *lenp = MIN(*lenp, r->size - offset);
            return r->host_addr + offset;
        }
    }
    return NULL;
}

/* Returns our address of 'len' bytes at 'addr', or NULL unless one region
 * holds all of them. */
static void *
vhu_mem_lookup_whole(const struct vhu_mem *mem, uint64_t addr, uint64_t len,
                     bool by_uva)
{
    uint64_t avail = len;
    void *hva = vhu_mem_lookup(mem, addr, &avail, by_uva);

    return hva && avail == len ? hva : NULL;
}

/* Returns our address of the 'len' bytes at guest-physical address 'gpa',
 * or NULL unless one region holds all of them. */
void *
vhu_mem_gpa_to_hva(const struct vhu_mem *mem, uint64_t gpa, uint64_t len)
{
    return vhu_mem_lookup_whole(mem, gpa, len, false);
}

/* Returns our address of the 'len' bytes at frontend-virtual address 'uva'
 * (how SET_VRING_ADDR names the rings), or NULL unless one region holds all
 * of them. */
void *
vhu_mem_uva_to_hva(const struct vhu_mem *mem, uint64_t uva, uint64_t len)
{
    return vhu_mem_lookup_whole(mem, uva, len, true);
}

/* Returns a tag of what 'mem' maps: each region's addresses and size, and
 * the file and offset it comes from.  A frontend that reconnects with the
 * same guest memory (the same memfd or hugetlbfs file, at the same places)
 * gets the same tag, in this process or another; a restarted guest, whose
 * memory is a new file, gets another.  The order of the regions does not
 * matter. */
uint64_t
vhu_mem_generation(const struct vhu_mem *mem)
{
    uint64_t tag = 0;

    for (size_t i = 0; mem && i < mem->n_regions; i++) {
        const struct vhu_mem_region *r = &mem->regions[i];
        uint64_t fields[] = {
            r->guest_phys_addr, r->size, r->userspace_addr,
            r->host_addr - (uint8_t *) r->map->addr,
            r->map->file_dev, r->map->file_ino,
        };

        tag ^= ((uint64_t) hash_bytes64(fields, sizeof fields, 0) << 32
                | hash_bytes64(fields, sizeof fields, 1));
    }
    return tag;
}

/* Returns the NUMA node that holds the first page of 'mem' (which may be
 * NULL), or -1 if there is no guest memory or the kernel cannot say. */
int
vhu_mem_numa_node(const struct vhu_mem *mem)
{
    int node = -1;

    if (mem && mem->n_regions
        && syscall(SYS_get_mempolicy, &node, NULL, 0,
                   mem->regions[0].host_addr, MPOL_F_NODE | MPOL_F_ADDR)) {
        node = -1;
    }
    return node;
}

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

#ifndef VHU_MEM_H
#define VHU_MEM_H 1

/* Guest memory: the regions a vhost-user frontend shares with us, mapped
 * from the file descriptors it sends (memfd, hugetlbfs, shm), and the
 * translation of guest-physical addresses (descriptor buffers) and
 * frontend-virtual addresses (ring addresses) into our own.
 *
 * A translation names an address and a length and succeeds only when the
 * whole range lies inside one region, so no access that it allows can leave
 * a mapping, whatever the guest writes into its rings.  A buffer that spans
 * two regions is translated piece by piece by the caller
 * (vhu_mem_gpa_to_hva_max() says how much of it one region holds).
 *
 * A 'struct vhu_mem' is a value that the control path builds and replaces
 * as a whole; readers (the PMD threads) never see it change under them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many regions one table may hold: the answer to GET_MAX_MEM_SLOTS.
 * SET_MEM_TABLE carries at most VHU_MEM_BASELINE_REGIONS (a limit of the
 * protocol: one fd per region in one message); ADD_MEM_REG goes beyond. */
#define VHU_MEM_MAX_REGIONS 128
#define VHU_MEM_BASELINE_REGIONS 8

/* One region as the frontend describes it (the vhost-user wire format). */
struct vhu_mem_region_desc {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;    /* The frontend's own virtual address. */
    uint64_t mmap_offset;       /* Offset of the region in the fd. */
};

struct vhu_mem_map;

/* A region as the translation functions see it.  Its mapping is shared,
 * with a reference count, between the tables that hold the region, so that
 * the control path can build a new table (ADD_MEM_REG, REM_MEM_REG) while
 * the PMD threads still read the old one. */
struct vhu_mem_region {
    uint64_t guest_phys_addr;
    uint64_t size;
    uint64_t userspace_addr;
    uint8_t *host_addr;         /* Our address of guest_phys_addr. */
    struct vhu_mem_map *map;
    uint32_t n_adds;            /* ADD_MEM_REGs of it, less REM_MEM_REGs. */
};

struct vhu_mem {
    size_t n_regions;
    struct vhu_mem_region regions[VHU_MEM_MAX_REGIONS];
};

struct vhu_mem *vhu_mem_create(void);
void vhu_mem_destroy(struct vhu_mem *);
struct vhu_mem *vhu_mem_clone(const struct vhu_mem *);

int vhu_mem_add_region(struct vhu_mem *, const struct vhu_mem_region_desc *,
                       int fd, char **errorp);
int vhu_mem_remove_region(struct vhu_mem *,
                          const struct vhu_mem_region_desc *);

uint64_t vhu_mem_generation(const struct vhu_mem *);
int vhu_mem_numa_node(const struct vhu_mem *);

void *vhu_mem_gpa_to_hva(const struct vhu_mem *, uint64_t gpa, uint64_t len);
void *vhu_mem_uva_to_hva(const struct vhu_mem *, uint64_t uva, uint64_t len);

/* Returns our address of guest-physical address 'gpa', and stores in
 * '*lenp' how many of the '*lenp' bytes from there the same region
 * holds.  Returns NULL if no region holds 'gpa'.  Inline: every buffer of
 * every burst goes through it, and a guest has few regions. */
static inline void *
vhu_mem_gpa_to_hva_max(const struct vhu_mem *mem, uint64_t gpa,
                       uint64_t *lenp)
{
    for (size_t i = 0; i < mem->n_regions; i++) {
        const struct vhu_mem_region *r = &mem->regions[i];
        uint64_t offset = gpa - r->guest_phys_addr;

        if (gpa >= r->guest_phys_addr && offset < r->size) {
            if (*lenp > r->size - offset) {
                *lenp = r->size - offset;
            }
            return r->host_addr + offset;
        }
    }
    return NULL;
}

#endif /* vhu-mem.h */

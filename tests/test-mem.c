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

/* Unit test "mem" of ovs-vhu-test: guest memory tables (lib/vhu-mem.c):
 * regions refused, translation within a region and piece by piece across
 * two, clones sharing mappings, regions added twice and removed, and a
 * full table. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ovs-vhu-test.h"
#include "util.h"
#include "vhu-mem.h"

#define GPA 0x100000
#define UVA 0x7f0000000000ULL
#define FILE_SIZE 0x10000

static int
make_memfd(size_t size)
{
    int fd = memfd_create("test-mem", MFD_CLOEXEC);

    VHU_CHECK(fd >= 0);
    VHU_CHECK(!ftruncate(fd, size));
    return fd;
}

static bool
fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

static struct vhu_mem_region_desc
region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t offset)
{
    struct vhu_mem_region_desc desc = {
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = uva,
        .mmap_offset = offset,
    };
    return desc;
}

/* Checks that adding 'desc' with a fresh fd of 'file_size' bytes to 'mem'
 * is refused with a message containing 'reason', closes the fd, and
 * changes nothing. */
static void
check_refused(struct vhu_mem *mem, struct vhu_mem_region_desc desc,
              size_t file_size, const char *reason)
{
    size_t n_regions = mem->n_regions;
    int fd = make_memfd(file_size);
    char *error = NULL;

    VHU_CHECK(vhu_mem_add_region(mem, &desc, fd, &error) == EINVAL);
    VHU_CHECK(error && strstr(error, reason));
    VHU_CHECK(!fd_is_open(fd));
    VHU_CHECK(mem->n_regions == n_regions);
    printf("refused: %s\n", error);
    free(error);
}

static void
run_mem(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct vhu_mem *mem = vhu_mem_create();
    struct vhu_mem_region_desc desc;
    char *error = NULL;
    int fd = make_memfd(FILE_SIZE);

    /* A region at an offset in its file. */
    desc = region(GPA, 0x8000, UVA, 0x1000);
    VHU_CHECK(!vhu_mem_add_region(mem, &desc, fd, &error));
    VHU_CHECK(mem->n_regions == 1);

    /* Both translations land in the same bytes of the file. */
    uint8_t *p = vhu_mem_gpa_to_hva(mem, GPA + 0x10, 4);
    VHU_CHECK(p != NULL);
    VHU_CHECK(vhu_mem_uva_to_hva(mem, UVA + 0x10, 4) == p);
    memcpy(p, "vhu!", 4);
    char buf[4];
    VHU_CHECK(pread(fd, buf, 4, 0x1010) == 4 && !memcmp(buf, "vhu!", 4));
    printf("gpa and uva translate to the region at its file offset\n");

    /* Ranges are checked whole. */
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA, 0x8000) != NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA, 0x8001) == NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA + 0x7fff, 1) != NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA + 0x7fff, 2) == NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA + 0x8000, 1) == NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA - 1, 2) == NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, UINT64_MAX, 2) == NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA + 8, UINT64_MAX) == NULL);
    VHU_CHECK(vhu_mem_uva_to_hva(mem, UVA + 0x7ff0, 0x11) == NULL);
    VHU_CHECK(vhu_mem_uva_to_hva(mem, GPA, 1) == NULL);
    printf("a range is translated only when one region holds all of it\n");

    /* A second region right after the first: a buffer across both is
     * translated piecewise. */
    desc = region(GPA + 0x8000, 0x4000, UVA + 0x8000, 0);
    VHU_CHECK(!vhu_mem_add_region(mem, &desc, make_memfd(0x4000), &error));
    VHU_CHECK(vhu_mem_gpa_to_hva(mem, GPA + 0x7ff0, 0x20) == NULL);
    uint64_t len = 0x20;
    VHU_CHECK(vhu_mem_gpa_to_hva_max(mem, GPA + 0x7ff0, &len) != NULL);
    VHU_CHECK(len == 0x10);
    len = 0x10;
    VHU_CHECK(vhu_mem_gpa_to_hva_max(mem, GPA + 0x8000, &len) != NULL);
    VHU_CHECK(len == 0x10);
    printf("a range across two regions is translated piecewise\n");

    /* Refusals, each leaving the table and the fd count alone. */
    check_refused(mem, region(0x200000, 0, 0x1000, 0), FILE_SIZE, "size 0");
    check_refused(mem, region(UINT64_MAX - 0xfff, 0x2000, 0x1000, 0),
                  FILE_SIZE, "overflows");
    check_refused(mem, region(0x200000, 0x2000, UINT64_MAX - 0xfff, 0),
                  FILE_SIZE, "overflows");
    check_refused(mem, region(0x200000, 0x2000, 0x1000, UINT64_MAX - 0xfff),
                  FILE_SIZE, "overflows");
    check_refused(mem, region(GPA + 0x7000, 0x2000, 0x1000, 0), FILE_SIZE,
                  "overlaps");
    check_refused(mem, region(0x200000, 0x2000, UVA + 0x100, 0), FILE_SIZE,
                  "overlaps");
    check_refused(mem, region(0x200000, 0x2000, 0x1000, 0), 0x1fff,
                  "smaller than its region");
    check_refused(mem, region(0x200000, 0x2000, 0x1000, 0xf000), FILE_SIZE,
                  "smaller than its region");

    /* A pipe is no memory. */
    int pipe_fds[2];
    VHU_CHECK(!pipe(pipe_fds));
    desc = region(0x200000, 0x1000, 0x1000, 0);
    VHU_CHECK(vhu_mem_add_region(mem, &desc, pipe_fds[0], &error) == EINVAL);
    VHU_CHECK(strstr(error, "not a file"));
    VHU_CHECK(!fd_is_open(pipe_fds[0]));
    close(pipe_fds[1]);
    free(error);
    error = NULL;

    /* A clone shares the mappings: they outlive the original table. */
    struct vhu_mem *clone = vhu_mem_clone(mem);
    vhu_mem_destroy(mem);
    VHU_CHECK(fd_is_open(fd));
    p = vhu_mem_gpa_to_hva(clone, GPA + 0x10, 4);
    VHU_CHECK(p && !memcmp(p, "vhu!", 4));
    printf("a clone keeps the mappings of the table it came from\n");

    /* The same region added again (by each queue pair of a multiqueue
     * QEMU device) is held once more, not refused as an overlap: it stays
     * until as many removals have come. */
    int same_fd = make_memfd(FILE_SIZE);
    desc = region(GPA, 0x8000, UVA, 0);
    VHU_CHECK(!vhu_mem_add_region(clone, &desc, same_fd, &error));
    VHU_CHECK(!fd_is_open(same_fd));
    VHU_CHECK(clone->n_regions == 2);
    VHU_CHECK(!vhu_mem_remove_region(clone, &desc));
    VHU_CHECK(clone->n_regions == 2 && fd_is_open(fd));
    VHU_CHECK(vhu_mem_gpa_to_hva(clone, GPA, 1) != NULL);
    printf("the same region added twice stays until removed twice\n");

    /* Removal names the region exactly. */
    desc = region(GPA, 0x8000, UVA + 1, 0x1000);
    VHU_CHECK(vhu_mem_remove_region(clone, &desc) == ENOENT);
    desc = region(GPA, 0x8000, UVA, 0);
    VHU_CHECK(!vhu_mem_remove_region(clone, &desc));
    VHU_CHECK(clone->n_regions == 1);
    VHU_CHECK(!fd_is_open(fd));
    VHU_CHECK(vhu_mem_gpa_to_hva(clone, GPA, 1) == NULL);
    VHU_CHECK(vhu_mem_gpa_to_hva(clone, GPA + 0x8000, 1) != NULL);
    printf("a removed region is unmapped and its fd closed\n");

    /* A full table. */
    while (clone->n_regions < VHU_MEM_MAX_REGIONS) {
        uint64_t base = 0x10000000 + clone->n_regions * 0x1000ULL;

        desc = region(base, 0x1000, base, 0);
        VHU_CHECK(!vhu_mem_add_region(clone, &desc, make_memfd(0x1000),
                                      &error));
    }
    check_refused(clone, region(0x20000000, 0x1000, 0x20000000, 0), 0x1000,
                  "too many memory regions");
    vhu_mem_destroy(clone);
    printf("a table holds %d regions\n", VHU_MEM_MAX_REGIONS);
}

const struct vhu_test vhu_test_mem = {
    "mem", "guest memory regions and address translation", run_mem,
};

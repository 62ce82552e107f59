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

/* ovs-vhu-test: the unit test driver for lib/, in the manner of OVS's
 * ovstest.  "ovs-vhu-test NAME [ARG...]" runs the test NAME; the autotest
 * suite (tests/library.at) calls it.  Each test prints what it checked and
 * exits nonzero on the first failure. */

#include <config.h>

#include "ovs-vhu-test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const struct vhu_test *const vhu_tests[] = {
    &vhu_test_attack,
    &vhu_test_dev,
    &vhu_test_frontend,
    &vhu_test_mem,
    &vhu_test_msg,
    &vhu_test_ring_state,
    &vhu_test_sock_dir,
};

/* Returns how many fds this process has open (as Linux lists them), all
 * of them or, if 'skip_pipes', leaving out pipes: Open vSwitch's library
 * opens some of those, once per process, the first time it needs them. */
static int
count_fds(bool skip_pipes)
{
    static const char proc_fd[] = "/proc/self/fd";
    DIR *dir = opendir(proc_fd);
    struct dirent *de;
    int n = 0;

    VHU_CHECK(dir != NULL);
    while ((de = readdir(dir)) != NULL) {
        char path[300], target[64];
        ssize_t len;

        snprintf(path, sizeof path, "%s/%s", proc_fd, de->d_name);
        len = readlink(path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            if (skip_pipes && !strncmp(target, "pipe:", 5)) {
                continue;
            }
        }
        n++;
    }
    closedir(dir);
    return n;
}

int
vhu_test_count_fds(void)
{
    return count_fds(false);
}

int
vhu_test_count_fds_but_pipes(void)
{
    return count_fds(true);
}

static void
usage(void)
{
    printf("%s: unit tests for the ovs-vhu engine\n"
           "usage: %s TEST [ARG...]\n"
           "tests:\n", program_name, program_name);
    for (size_t i = 0; i < ARRAY_SIZE(vhu_tests); i++) {
        printf("  %-20s %s\n", vhu_tests[i]->name, vhu_tests[i]->help);
    }
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);

    if (argc < 2 || !strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    for (size_t i = 0; i < ARRAY_SIZE(vhu_tests); i++) {
        if (!strcmp(argv[1], vhu_tests[i]->name)) {
            vhu_tests[i]->run(argc - 1, argv + 1);
            return EXIT_SUCCESS;
        }
    }
    ovs_fatal(0, "unknown test \"%s\" (use --help for a list)", argv[1]);
}

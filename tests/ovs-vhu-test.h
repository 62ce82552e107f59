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

#ifndef OVS_VHU_TEST_H
#define OVS_VHU_TEST_H 1

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One unit test of ovs-vhu-test.  'run' returns only if every check in it
 * passed: a failed check exits the process with a message. */
struct vhu_test {
    const char *name;
    const char *help;
    void (*run)(int argc, char *argv[]);
};

extern const struct vhu_test vhu_test_attack;
extern const struct vhu_test vhu_test_dev;
extern const struct vhu_test vhu_test_frontend;
extern const struct vhu_test vhu_test_mem;
extern const struct vhu_test vhu_test_msg;
extern const struct vhu_test vhu_test_ring_state;
extern const struct vhu_test vhu_test_sock_dir;

int vhu_test_count_fds(void);
int vhu_test_count_fds_but_pipes(void);

/* Fails the running test, naming the source line, unless 'COND' holds. */
#define VHU_CHECK(COND)                                                 \
    ((COND) ? (void) 0                                                  \
     : vhu_check_failed(__FILE__, __LINE__, #COND))

/* Fails the running test unless strings 'A' and 'B' are equal (NULL only
 * equals NULL). */
#define VHU_CHECK_STREQ(A, B)                                           \
    vhu_check_streq(__FILE__, __LINE__, #A, A, B)

static inline void
vhu_check_failed(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    exit(EXIT_FAILURE);
}

static inline void
vhu_check_streq(const char *file, int line, const char *what,
                const char *a, const char *b)
{
    if (a == b || (a && b && !strcmp(a, b))) {
        return;
    }
    fprintf(stderr, "%s:%d: check failed: %s is \"%s\", expected \"%s\"\n",
            file, line, what, a ? a : "(null)", b ? b : "(null)");
    exit(EXIT_FAILURE);
}

#endif /* ovs-vhu-test.h */

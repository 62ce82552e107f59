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

/* "ovs-vhu-test dev SUBTEST [ARG...]": the unit tests of the engine's
 * device (lib/vhu-dev.h) driven by the test frontend, one subject a file,
 * all on the shared harness (tests/dev-harness.h):
 *
 *   tests/test-dev-protocol.c    negotiation, requests, memory tables
 *   tests/test-dev-split.c       split rings, mergeable buffers, in order
 *   tests/test-dev-packed.c      packed rings
 *   tests/test-dev-multiqueue.c  traffic on every queue pair, PMD threads
 *   tests/test-dev-reconnect.c   server and client sockets, reconnection
 *
 * This file only finds SUBTEST in the subjects' tables and runs it. */

#include <config.h>

#include "dev-harness.h"

#include <string.h>

#include "util.h"

static const struct dev_test *const dev_subjects[] = {
    dev_protocol_tests,
    dev_split_tests,
    dev_packed_tests,
    dev_multiqueue_tests,
    dev_reconnect_tests,
};

static void
run_dev_test(int argc, char *argv[])
{
    VHU_CHECK(argc >= 2);
    for (size_t i = 0; i < ARRAY_SIZE(dev_subjects); i++) {
        for (const struct dev_test *t = dev_subjects[i]; t->name; t++) {
            if (!strcmp(argv[1], t->name)) {
                t->run(argc - 1, argv + 1);
                return;
            }
        }
    }
    ovs_fatal(0, "unknown dev test \"%s\"", argv[1]);
}

const struct vhu_test vhu_test_dev = {
    "dev", "vhost-user device: protocol, rings, sockets (dev SUBTEST ...)",
    run_dev_test,
};

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

#include <config.h>

#include <string.h>

#include "ovs-vhu-test.h"
#include "util.h"
#include "vhu-sock-dir.h"

/* The run directory the tests resolve against. */
#define RUNDIR "/run/ovs"

/* Checks that vhu_sock_dir_resolve() gives 'expected' for 'sock_dir'. */
static void
check_resolve(const char *sock_dir, const char *expected)
{
    char *error = NULL;
    char *dir = vhu_sock_dir_resolve(RUNDIR, sock_dir, &error);

    VHU_CHECK_STREQ(error, NULL);
    VHU_CHECK_STREQ(dir, expected);
    printf("vhost-sock-dir \"%s\" -> %s\n", sock_dir ? sock_dir : "(none)",
           dir);
    free(dir);
}

/* Checks that vhu_sock_dir_resolve() refuses 'sock_dir' with a message that
 * contains 'reason'. */
static void
check_resolve_refused(const char *sock_dir, const char *reason)
{
    char *error = NULL;
    char *dir = vhu_sock_dir_resolve(RUNDIR, sock_dir, &error);

    VHU_CHECK(dir == NULL);
    VHU_CHECK(error && strstr(error, reason));
    printf("vhost-sock-dir \"%s\" refused: %s\n", sock_dir, error);
    free(error);
}

static void
check_socket_path(const char *name, const char *expected)
{
    char *error = NULL;
    char *path = vhu_server_socket_path(RUNDIR, name, &error);

    VHU_CHECK_STREQ(error, NULL);
    VHU_CHECK_STREQ(path, expected);
    printf("port \"%s\" -> %s\n", name, path);
    free(path);
}

static void
check_socket_path_refused(const char *name)
{
    char *error = NULL;
    char *path = vhu_server_socket_path(RUNDIR, name, &error);

    VHU_CHECK(path == NULL);
    VHU_CHECK(error && strstr(error, "not a valid name"));
    printf("port \"%s\" refused\n", name);
    free(error);
}

static void
run_sock_dir(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    check_resolve(NULL, "/run/ovs");
    check_resolve("", "/run/ovs");
    check_resolve("vhost", "/run/ovs/vhost");
    check_resolve("a/b", "/run/ovs/a/b");
    check_resolve("a..b", "/run/ovs/a..b");
    check_resolve("..a/b..", "/run/ovs/..a/b..");

    check_resolve_refused("..", "..");
    check_resolve_refused("../etc", "..");
    check_resolve_refused("a/../../etc", "..");
    check_resolve_refused("a/..", "..");
    /* Repeated slashes around "..". */
    check_resolve_refused("a/" "/.." "/" "/b", "..");
    check_resolve_refused(RUNDIR, "relative");

    check_socket_path("vhu0", "/run/ovs/vhu0");
    check_socket_path("vm.1-eth0", "/run/ovs/vm.1-eth0");
    check_socket_path_refused("");
    check_socket_path_refused(".");
    check_socket_path_refused("..");
    check_socket_path_refused("a/b");
    check_socket_path_refused("a\\b");
}

const struct vhu_test vhu_test_sock_dir = {
    "sock-dir", "server socket directory and path rules", run_sock_dir,
};

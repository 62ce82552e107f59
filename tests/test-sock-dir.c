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

/* Unit test "sock-dir" of ovs-vhu-test: where server ports put their
 * sockets (lib/vhu-sock-dir.c): vhost-sock-dir and port names accepted and
 * refused, and socket directories opened without following a symbolic
 * link. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Opens the directory of socket 'path' below trusted directory 'trusted'
 * (both relative to the current directory) and checks that it is
 * 'expected_dir' and the socket's name 'expected_name', or, with
 * 'expected_dir' NULL, that it is refused with a message that contains
 * 'expected_name'. */
static void
check_open(const char *path, const char *trusted, const char *expected_dir,
           const char *expected_name)
{
    const char *name = NULL;
    char *error = NULL;
    int fd = vhu_sock_dir_open(path, trusted, &name, &error);

    if (!expected_dir) {
        VHU_CHECK(fd < 0 && error && strstr(error, expected_name));
        printf("%s below %s: refused: %s\n", path,
               trusted ? trusted : "(none)", error);
        free(error);
        return;
    }

    struct stat fd_st, dir_st;
    VHU_CHECK_STREQ(error, NULL);
    VHU_CHECK(fd >= 0);
    VHU_CHECK_STREQ(name, expected_name);
    VHU_CHECK(!fstat(fd, &fd_st) && !stat(expected_dir, &dir_st));
    VHU_CHECK(fd_st.st_ino == dir_st.st_ino && fd_st.st_dev == dir_st.st_dev);
    printf("%s below %s: directory %s, name %s\n", path,
           trusted ? trusted : "(none)", expected_dir, name);
    close(fd);
}

/* vhu_sock_dir_open() in a directory tree of its own, in the current
 * directory. */
static void
check_sock_dir_open(void)
{
    VHU_CHECK(!mkdir("run", 0755) && !mkdir("run/socks", 0755)
              && !mkdir("run/socks/sub", 0755) && !mkdir("elsewhere", 0755)
              && !symlink("run", "runlink")
              && !symlink("../../elsewhere", "run/socks/link")
              && !mknod("run/file", S_IFREG | 0644, 0));

    check_open("run/socks/sub/p1", "run", "run/socks/sub", "p1");
    check_open("run/p1", "run", "run", "p1");
    /* The trusted directory may itself be reached through a link. */
    check_open("runlink/socks/p1", "runlink", "run/socks", "p1");
    /* Trusted as a whole when it is not a prefix, or not given. */
    check_open("run/socks/link/p1", NULL, "elsewhere", "p1");
    check_open("run/socks/link/p1", "other", "elsewhere", "p1");
    check_open("p1", "run", ".", "p1");

    check_open("run/socks/link/p1", "run", NULL,
               "\"link\" is not a directory (below run, a symbolic link is "
               "never followed)");
    /* "run" is not a directory of "runlink/socks": trusted as a whole. */
    check_open("runlink/socks/p1", "run", "run/socks", "p1");
    check_open("run/file/p1", "run", NULL, "\"file\" is not a directory");
    check_open("run/missing/p1", "run", NULL,
               "\"missing\": No such file or directory");
    check_open("run/socks/", "run", NULL, "a directory, not a socket's path");
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

    check_sock_dir_open();
}

const struct vhu_test vhu_test_sock_dir = {
    "sock-dir", "server socket directory and path rules", run_sock_dir,
};

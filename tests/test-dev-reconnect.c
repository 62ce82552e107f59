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

/* "ovs-vhu-test dev" subcommands about the device's unix sockets
 * (lib/vhu-socket.c): a server that takes one frontend at a time and
 * handles stale and live socket files ("server"), and a client that
 * connects, retries with backoff and reconnects ("client").
 * tests/dev.at runs them. */

#include <config.h>

#include "dev-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Accepts a connection on listening socket 'fd' within 'ms' milliseconds,
 * or returns -1. */
static int
accept_within(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    if (poll(&pfd, 1, ms) != 1) {
        return -1;
    }
    return accept(fd, NULL, NULL);
}

static int
unix_socket(const char *path, bool do_listen)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    VHU_CHECK(fd >= 0);
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    if (do_listen) {
        VHU_CHECK(!bind(fd, (struct sockaddr *) &sun, sizeof sun));
        VHU_CHECK(!listen(fd, 1));
    } else if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool
harness_connected(struct harness *h)
{
    struct vhu_dev_state state;

    vhu_dev_get_state(h->dev, &state);
    return state.connected;
}

/* "server": listening, one frontend at a time, stale and live sockets. */
static void
test_server(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    const char *path = "server.sock";
    struct stat st;
    char *error;

    unlink(path);
    struct harness *h = harness_create_socket(path, VHU_DEV_SERVER);
    VHU_CHECK(!stat(path, &st) && S_ISSOCK(st.st_mode));

    for (int i = 1; i <= 3; i++) {
        h->sock = unix_socket(path, false);
        VHU_CHECK(h->sock >= 0);
        h->fe = vhu_fe_create(h->sock, 1, REGION_SIZE);
        VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES,
                                1, RING_SIZE));
        harness_check_guest_tx(h, 0, 10);

        /* A second frontend waits until the first one leaves. */
        int second = unix_socket(path, false);
        VHU_CHECK(second >= 0);
        struct vhu_fe *fe2 = vhu_fe_create(second, 1, REGION_SIZE);
        uint64_t features;
        harness_sync(h);
        vhu_fe_destroy(h->fe);
        close(h->sock);
        VHU_CHECK(!vhu_fe_get_u64(fe2, VHU_GET_FEATURES, &features));
        VHU_CHECK(features == VHU_DEV_FEATURES);
        vhu_fe_destroy(fe2);
        close(second);
        h->fe = NULL;
        h->sock = -1;
        WAIT_UNTIL(!harness_connected(h));
    }
    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.n_connects == 6);
    printf("server: 3 times a frontend connects and moves traffic while "
           "the next one waits, then both leave\n");

    /* A second backend on the same path is refused. */
    VHU_CHECK(!vhu_dev_create(path, VHU_DEV_SERVER, NULL, NULL, NULL,
                              &error));
    printf("refused: %s\n", error);
    free(error);
    harness_destroy(h);
    VHU_CHECK(stat(path, &st) && errno == ENOENT);
    printf("server: the socket file goes with the device\n");

    /* A socket file that nobody listens on is replaced. */
    close(unix_socket(path, true));
    VHU_CHECK(!stat(path, &st));
    h = harness_create_socket(path, VHU_DEV_SERVER);
    h->sock = unix_socket(path, false);
    VHU_CHECK(h->sock >= 0);
    h->fe = vhu_fe_create(h->sock, 1, REGION_SIZE);
    harness_sync(h);
    harness_destroy(h);
    printf("server: a stale socket file is replaced\n");

    /* Anything else is left alone. */
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    VHU_CHECK(fd >= 0);
    close(fd);
    VHU_CHECK(!vhu_dev_create(path, VHU_DEV_SERVER, NULL, NULL, NULL,
                              &error));
    printf("refused: %s\n", error);
    free(error);
    VHU_CHECK(!stat(path, &st) && S_ISREG(st.st_mode));
    unlink(path);

    char long_path[200];
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    VHU_CHECK(!vhu_dev_create(long_path, VHU_DEV_CLIENT, NULL, NULL, NULL,
                              &error));
    VHU_CHECK(strstr(error, "socket path longer than 107 bytes"));
    printf("refused: socket path longer than 107 bytes\n");
    free(error);
}

/* "client": connecting, retrying with backoff, reconnecting. */
static void
test_client(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    const char *path = "client.sock";

    unlink(path);
    struct harness *h = harness_create_socket(path, VHU_DEV_CLIENT);

    /* Nobody listens yet: the device keeps trying. */
    xsleep(1);
    VHU_CHECK(!harness_connected(h));

    /* The first retries come well within a second of each other, so a
     * frontend that starts listening is found quickly. */
    int listener = unix_socket(path, true);
    int conn = accept_within(listener, 2000);
    VHU_CHECK(conn >= 0);
    h->sock = conn;
    h->fe = vhu_fe_create(conn, 1, REGION_SIZE);
    VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_check_guest_tx(h, 0, 10);
    printf("client: connects once the frontend listens\n");

    /* The frontend goes away and comes back: the device reconnects. */
    for (int i = 0; i < 3; i++) {
        vhu_fe_destroy(h->fe);
        close(h->sock);
        h->fe = NULL;
        h->sock = accept_within(listener, 2000);
        VHU_CHECK(h->sock >= 0);
        h->fe = vhu_fe_create(h->sock, 1, REGION_SIZE);
        VHU_CHECK(!vhu_fe_start(h->fe, ALL_FEATURES, ALL_PROTOCOL_FEATURES,
                                1, RING_SIZE));
        harness_check_guest_tx(h, 0, 10);
    }
    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.n_connects == 4);
    printf("client: reconnects each time the frontend closes the "
           "connection\n");

    /* The frontend's socket disappears for a while. */
    vhu_fe_destroy(h->fe);
    close(h->sock);
    h->fe = NULL;
    h->sock = -1;
    close(listener);
    unlink(path);
    WAIT_UNTIL(!harness_connected(h));
    xsleep(2);
    listener = unix_socket(path, true);
    h->sock = accept_within(listener, 5000);
    VHU_CHECK(h->sock >= 0);
    printf("client: reconnects after the frontend's socket was gone\n");
    harness_destroy(h);
    close(listener);
    unlink(path);
}

const struct dev_test dev_reconnect_tests[] = {
    { "server", test_server },
    { "client", test_client },
    { NULL, NULL },
};

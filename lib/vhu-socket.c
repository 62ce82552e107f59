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

/* The socket of a vhost-user device: the top layer of the engine.
 *
 * A device in server mode listens on its socket path (replacing a stale
 * socket file, never anything else, and giving the file its owner, group
 * and mode before it listens); one in client mode connects to the
 * frontend's, and after a failed attempt or a disconnect tries again with
 * a backoff that doubles from VHU_DEV_MIN_BACKOFF_MS to
 * VHU_DEV_MAX_BACKOFF_MS.  vhu_dev_run() accepts or connects when it is
 * time, reads what the frontend sent (vhu-msg.c frames messages and
 * collects the fds that come with them) and hands each complete message to
 * the protocol layer (vhu-user.c); when the connection ends, everything the
 * frontend set up goes (vhu_dev_reset(), vhu-dev.c).
 *
 * It may call the protocol and device layers (vhu-dev-private.h) and the
 * socket directory checks (vhu-sock-dir.h). */

#include <config.h>

#include "vhu-dev-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "coverage.h"
#include "fatal-signal.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"
#include "vhu-sock-dir.h"

VLOG_DEFINE_THIS_MODULE(vhu_socket);

COVERAGE_DEFINE(vhu_connect_failed);
COVERAGE_DEFINE(vhu_disconnect);

/* Requests handled per vhu_dev_run() call, so that a frontend that talks
 * without pause cannot starve other devices of the control thread. */
#define VHU_DEV_MAX_MSGS_PER_RUN 64

static void vhu_dev_disconnect(struct vhu_dev *dev, const char *why)
    OVS_REQUIRES(dev->mutex);

static int
vhu_sockaddr_init(struct sockaddr_un *sun, const char *path, char **errorp)
{
    if (strlen(path) >= sizeof sun->sun_path) {
        *errorp = xasprintf("%s: socket path longer than %"PRIuSIZE" bytes",
                            path, sizeof sun->sun_path - 1);
        return ENAMETOOLONG;
    }
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    ovs_strlcpy(sun->sun_path, path, sizeof sun->sun_path);
    return 0;
}

static int
vhu_socket(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

/* True if a process accepts connections on the socket at 'sun'. */
static bool
vhu_socket_is_live(const struct sockaddr_un *sun)
{
    int fd = vhu_socket();
    bool live;

    if (fd < 0) {
        return false;
    }
    live = !connect(fd, (const struct sockaddr *) sun, sizeof *sun)
           || errno == EAGAIN;
    close(fd);
    return live;
}

/* Gives the socket file of server 'dev' the owner, group and mode of
 * 'dev->perms'.  Never follows a symbolic link. */
static int
vhu_dev_apply_sock_perms(struct vhu_dev *dev, char **errorp)
{
    const struct vhu_sock_perms *p = &dev->perms;

    if ((p->owner != (uid_t) -1 || p->group != (gid_t) -1)
        && fchownat(dev->sock_dir_fd, dev->sock_name, p->owner, p->group,
                    AT_SYMLINK_NOFOLLOW)) {
        int error = errno;
        *errorp = xasprintf("%s: setting the socket's owner and group: %s",
                            dev->name, ovs_strerror(error));
        return error;
    }
    if (p->mode >= 0
        && fchmodat(dev->sock_dir_fd, dev->sock_name, p->mode & 0777,
                    AT_SYMLINK_NOFOLLOW)) {
        int error = errno;
        *errorp = xasprintf("%s: setting the socket's mode to %#o: %s",
                            dev->name, p->mode & 0777, ovs_strerror(error));
        return error;
    }
    return 0;
}

/* Stores in 'sun' the address of server 'dev''s socket: its name in the
 * directory that 'dev->sock_dir_fd' holds open, reached through /proc, so
 * that nothing on the way there is looked up again (and could have been
 * replaced by a symbolic link since we opened it).  Without /proc, or if
 * that is too long, the path itself. */
static void
vhu_dev_sock_addr(const struct vhu_dev *dev, struct sockaddr_un *sun)
{
    char *via_proc = xasprintf("%s/%d/%s", PROC_FD_DIR, dev->sock_dir_fd,
                               dev->sock_name);
    char *error = NULL;

    if (access(PROC_FD_DIR, X_OK)
        || vhu_sockaddr_init(sun, via_proc, &error)) {
        free(error);
        error = NULL;
        /* vhu_dev_create() checked the path's length. */
        ovs_assert(!vhu_sockaddr_init(sun, dev->name, &error));
    }
    free(via_proc);
}

/* Removes server 'dev''s socket file, from the directory we opened. */
static void
vhu_dev_unlink_socket(struct vhu_dev *dev)
{
    fatal_signal_remove_file_to_unlink(dev->name);
    unlinkat(dev->sock_dir_fd, dev->sock_name, 0);
}

/* Listens on 'dev->name'.  A socket file that nobody listens on any more
 * (left by a process that died) is replaced; one that somebody does is
 * not, nor is anything that is not a socket. */
static int
vhu_dev_listen(struct vhu_dev *dev, char **errorp)
{
    struct sockaddr_un sun;
    struct stat st;
    int error;

    error = vhu_sockaddr_init(&sun, dev->name, errorp);
    if (error) {
        return error;
    }
    int dir_fd = vhu_sock_dir_open(dev->name, dev->perms.trusted_dir,
                                   &dev->sock_name, errorp);
    if (dir_fd < 0) {
        return -dir_fd;
    }
    dev->sock_dir_fd = dir_fd;
    vhu_dev_sock_addr(dev, &sun);

    if (!fstatat(dir_fd, dev->sock_name, &st, AT_SYMLINK_NOFOLLOW)
        && !S_ISSOCK(st.st_mode)) {
        *errorp = xasprintf("%s: exists and is not a socket", dev->name);
        return EEXIST;
    }

    int fd = vhu_socket();
    if (fd < 0) {
        *errorp = xasprintf("%s: socket: %s", dev->name, ovs_strerror(-fd));
        return -fd;
    }
    error = bind(fd, (struct sockaddr *) &sun, sizeof sun) ? errno : 0;
    if (error == EADDRINUSE && !vhu_socket_is_live(&sun)) {
        VLOG_INFO("%s: replacing a stale socket", dev->name);
        unlinkat(dir_fd, dev->sock_name, 0);
        error = bind(fd, (struct sockaddr *) &sun, sizeof sun) ? errno : 0;
    }
    if (error) {
        *errorp = (error == EADDRINUSE
                   ? xasprintf("%s: a running process already listens on "
                               "this socket", dev->name)
                   : xasprintf("%s: bind: %s", dev->name,
                               ovs_strerror(error)));
        close(fd);
        return error;
    }
    fatal_signal_add_file_to_unlink(dev->name);
    error = vhu_dev_apply_sock_perms(dev, errorp);
    if (error) {
        close(fd);
        vhu_dev_unlink_socket(dev);
        return error;
    }
    if (listen(fd, 8)) {
        error = errno;
        *errorp = xasprintf("%s: listen: %s", dev->name, ovs_strerror(error));
        close(fd);
        vhu_dev_unlink_socket(dev);
        return error;
    }
    dev->listen_fd = fd;
    return 0;
}

/* Creates a device for the vhost-user socket at 'path': in server mode it
 * listens there at once (and fails, with a message in '*errorp' for the
 * caller to free, if it cannot); in client mode it starts connecting,
 * which vhu_dev_run() retries until it succeeds.  'cb' (if nonnull) is
 * called with 'aux' whenever the state changes. */
struct vhu_dev *
vhu_dev_create(const char *path, enum vhu_dev_mode mode,
               const struct vhu_sock_perms *perms,
               vhu_dev_changed_cb *cb, void *aux, char **errorp)
{
    struct vhu_dev *dev = vhu_dev_alloc(path, mode, cb, aux);

    *errorp = NULL;
    dev->reconnect = true;
    dev->perms = perms ? *perms : VHU_SOCK_PERMS_DEFAULT;
    if (mode == VHU_DEV_SERVER) {
        if (vhu_dev_listen(dev, errorp)) {
            vhu_dev_destroy(dev);
            return NULL;
        }
    } else {
        struct sockaddr_un sun;
        if (vhu_sockaddr_init(&sun, path, errorp)) {
            vhu_dev_destroy(dev);
            return NULL;
        }
        dev->next_connect = LLONG_MIN;
    }
    return dev;
}

/* Creates a device on 'sock', a connection (a socketpair in tests) already
 * made, which it owns.  When that connection ends the device stays
 * disconnected. */
struct vhu_dev *
vhu_dev_create_connected(const char *name, int sock,
                         vhu_dev_changed_cb *cb, void *aux)
{
    struct vhu_dev *dev = vhu_dev_alloc(name, VHU_DEV_CLIENT, cb, aux);

    set_nonblocking(sock);
    ovs_mutex_lock(&dev->mutex);
    dev->sock = sock;
    dev->n_connects = 1;
    ovs_mutex_unlock(&dev->mutex);
    return dev;
}

/* Changes the owner, group and mode of server 'dev''s socket file to
 * 'perms'.  Returns 0 or an errno value with a message in '*errorp'. */
int
vhu_dev_set_sock_perms(struct vhu_dev *dev,
                       const struct vhu_sock_perms *perms, char **errorp)
{
    int error = 0;

    *errorp = NULL;
    ovs_mutex_lock(&dev->mutex);
    dev->perms = *perms;
    if (dev->mode == VHU_DEV_SERVER && dev->listen_fd >= 0) {
        error = vhu_dev_apply_sock_perms(dev, errorp);
    }
    ovs_mutex_unlock(&dev->mutex);
    return error;
}

void
vhu_dev_destroy(struct vhu_dev *dev)
{
    if (!dev) {
        return;
    }

    ovs_mutex_lock(&dev->mutex);
    if (dev->sock >= 0) {
        vhu_dev_disconnect(dev, "device destroyed");
    }
    vhu_dev_reset(dev);
    if (dev->listen_fd >= 0) {
        close(dev->listen_fd);
        vhu_dev_unlink_socket(dev);
    }
    if (dev->sock_dir_fd >= 0) {
        close(dev->sock_dir_fd);
    }
    ovs_mutex_unlock(&dev->mutex);

    vhu_dev_free(dev);
}

/* Connection. */

static void
vhu_dev_connected(struct vhu_dev *dev, int sock)
    OVS_REQUIRES(dev->mutex)
{
    VLOG_INFO("%s: vhost-user frontend connected", dev->name);
    dev->sock = sock;
    dev->connected_since = time_wall_msec();
    /* What went wrong before this connection is history now. */
    dev->last_error[0] = '\0';
    dev->n_connects++;
    dev->backoff = VHU_DEV_MIN_BACKOFF_MS;
    dev->changed = true;
}

static void
vhu_dev_disconnect(struct vhu_dev *dev, const char *why)
    OVS_REQUIRES(dev->mutex)
{
    VLOG_INFO("%s: vhost-user frontend disconnected (%s)", dev->name, why);
    COVERAGE_INC(vhu_disconnect);
    close(dev->sock);
    dev->sock = -1;
    vhu_msg_reader_clear(&dev->reader);
    vhu_dev_reset(dev);
    dev->next_connect = time_msec() + dev->backoff;
    dev->changed = true;
}

static void
vhu_dev_try_connect(struct vhu_dev *dev)
    OVS_REQUIRES(dev->mutex)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct sockaddr_un sun;
    char *error_msg;
    int error;

    /* vhu_dev_create() checked the path's length. */
    error = vhu_sockaddr_init(&sun, dev->name, &error_msg);
    ovs_assert(!error);
    int fd = vhu_socket();
    if (fd < 0) {
        error = -fd;
    } else if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        error = errno;
        close(fd);
    } else {
        vhu_dev_connected(dev, fd);
        return;
    }

    COVERAGE_INC(vhu_connect_failed);
    vhu_dev_set_error(dev, "connecting: %s", ovs_strerror(error));
    VLOG_INFO_RL(&rl, "%s: connecting to the vhost-user frontend failed "
                 "(%s); retrying in %d ms", dev->name, ovs_strerror(error),
                 dev->backoff);
    dev->next_connect = time_msec() + dev->backoff;
    dev->backoff = MIN(dev->backoff * 2, VHU_DEV_MAX_BACKOFF_MS);
}

/* Connects or accepts if it is time, and handles the requests that have
 * arrived. */
void
vhu_dev_run(struct vhu_dev *dev)
{
    ovs_mutex_lock(&dev->mutex);
    if (dev->sock < 0 && dev->reconnect) {
        if (dev->mode == VHU_DEV_SERVER) {
            int fd = accept4(dev->listen_fd, NULL, NULL,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                vhu_dev_connected(dev, fd);
            }
        } else if (time_msec() >= dev->next_connect) {
            vhu_dev_try_connect(dev);
        }
    }

    for (int i = 0; dev->sock >= 0 && i < VHU_DEV_MAX_MSGS_PER_RUN; i++) {
        char *error_msg = NULL;
        int error = vhu_msg_recv(&dev->reader, dev->sock, &error_msg);

        if (error == EAGAIN) {
            break;
        } else if (error == EOF) {
            vhu_dev_disconnect(dev, "closed by the frontend");
        } else if (error) {
            vhu_user_bad_frame(dev, error, error_msg);
            vhu_dev_disconnect(dev, error_msg ? "protocol error"
                                              : ovs_strerror(error));
            free(error_msg);
        } else {
            bool keep = vhu_user_handle_msg(dev, &dev->reader.msg);
            vhu_msg_reader_clear(&dev->reader);
            if (!keep) {
                vhu_dev_disconnect(dev, "request refused");
            }
        }
    }

    vhu_dev_count_kicks(dev);
    bool changed = dev->changed;
    dev->changed = false;
    ovs_mutex_unlock(&dev->mutex);

    if (changed && dev->changed_cb) {
        dev->changed_cb(dev->aux);
    }
}

void
vhu_dev_wait(struct vhu_dev *dev)
{
    ovs_mutex_lock(&dev->mutex);
    if (dev->sock >= 0) {
        poll_fd_wait(dev->sock, POLLIN);
    } else if (!dev->reconnect) {
        /* Nothing more will happen. */
    } else if (dev->mode == VHU_DEV_SERVER) {
        poll_fd_wait(dev->listen_fd, POLLIN);
    } else {
        poll_timer_wait_until(dev->next_connect);
    }
    ovs_mutex_unlock(&dev->mutex);
}

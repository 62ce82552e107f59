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

/* Where server ports put their sockets (vhu-sock-dir.h): the run
 * directory or other_config:vhost-sock-dir below it, and opening the
 * socket's directory without following a symbolic link.  The module
 * (vswitchd-plugin/) resolves the directory; the socket layer
 * (vhu-socket.c) opens it.  It calls nothing of the engine. */

#include <config.h>

#include "vhu-sock-dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Returns true if 'path' has ".." as one of its '/'-separated components. */
static bool
path_has_dotdot(const char *path)
{
    const char *p = path;

    while (*p) {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.') {
            return true;
        }
        p += len;
        p += strspn(p, "/");
    }
    return false;
}

/* Joins 'rundir' and 'sock_dir', the value of other_config:vhost-sock-dir
 * (NULL or "" for the run directory itself).  'sock_dir' must stay inside
 * the run directory: an absolute path or a ".." component is refused, so
 * that a database write cannot make the switch create sockets elsewhere. */
char *
vhu_sock_dir_resolve(const char *rundir, const char *sock_dir, char **errorp)
{
    if (!sock_dir || !sock_dir[0]) {
        return xstrdup(rundir);
    }
    if (sock_dir[0] == '/') {
        *errorp = xasprintf("vhost-sock-dir \"%s\" must be relative to the "
                            "run directory %s", sock_dir, rundir);
        return NULL;
    }
    if (path_has_dotdot(sock_dir)) {
        *errorp = xasprintf("vhost-sock-dir \"%s\" may not contain \"..\": "
                            "it must stay inside the run directory %s",
                            sock_dir, rundir);
        return NULL;
    }
    return xasprintf("%s/%s", rundir, sock_dir);
}

/* Returns the path of the socket of server-mode port 'port_name' in
 * 'sock_dir'.  The port name becomes a file name, so '/' and '\' (which
 * would reach into other directories) and the names "." and ".." are
 * refused. */
char *
vhu_server_socket_path(const char *sock_dir, const char *port_name,
                       char **errorp)
{
    if (!port_name[0] || strpbrk(port_name, "/\\")
        || !strcmp(port_name, ".") || !strcmp(port_name, "..")) {
        *errorp = xasprintf("\"%s\" is not a valid name for a server-mode "
                            "vhost-user port: the port's socket is named "
                            "after it, so it may not contain '/' or '\\' "
                            "nor be \".\" or \"..\"", port_name);
        return NULL;
    }
    return xasprintf("%s/%s", sock_dir, port_name);
}

#define ROOT_DIR "/"

/* Opens the directory that holds socket 'path', for the *at() functions,
 * and stores the socket's file name (a pointer into 'path') in '*namep'.
 * 'trusted_dir', if nonnull and a prefix of 'path', is opened as it is;
 * each directory below it is opened without following a symbolic link, so
 * that nobody who can write one of them (a group of VMMs that may create
 * sockets there, say) can send the socket, and the owner and mode we give
 * it, anywhere else.  Returns an fd (O_PATH) or a negative errno value
 * with a message in '*errorp' for the caller to free. */
int
vhu_sock_dir_open(const char *path, const char *trusted_dir,
                  const char **namep, char **errorp)
{
    const char *slash = strrchr(path, '/');
    size_t trusted_len = trusted_dir ? strlen(trusted_dir) : 0;
    char *dir;
    int fd;

    if (slash && !slash[1]) {
        *errorp = xasprintf("%s: a directory, not a socket's path", path);
        return -EINVAL;
    }
    *namep = slash ? slash + 1 : path;
    dir = (!slash ? xstrdup(".")
           : slash == path ? xstrdup(ROOT_DIR)
           : xmemdup0(path, slash - path));
    if (!trusted_dir || !trusted_len || strncmp(dir, trusted_dir, trusted_len)
        || (dir[trusted_len] && dir[trusted_len] != '/')) {
        trusted_len = strlen(dir);
    }

    char *trusted = xmemdup0(dir, trusted_len);
    fd = open(trusted, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int error = errno;
        *errorp = xasprintf("%s: %s", trusted, ovs_strerror(error));
        free(trusted);
        free(dir);
        return -error;
    }

    char *save_ptr = NULL;
    for (char *c = strtok_r(dir + trusted_len, "/", &save_ptr); c;
         c = strtok_r(NULL, "/", &save_ptr)) {
        int next = openat(fd, c, (O_PATH | O_DIRECTORY | O_NOFOLLOW
                                  | O_CLOEXEC));
        int error = errno;

        close(fd);
        if (next < 0) {
            /* O_NOFOLLOW with O_PATH opens a symbolic link itself, which
             * O_DIRECTORY then refuses with ENOTDIR. */
            *errorp = (error == ENOTDIR
                       ? xasprintf("%s: \"%s\" is not a directory (below "
                                   "%s, a symbolic link is never followed)",
                                   path, c, trusted)
                       : xasprintf("%s: \"%s\": %s", path, c,
                                   ovs_strerror(error)));
            free(trusted);
            free(dir);
            return -error;
        }
        fd = next;
    }
    free(trusted);
    free(dir);
    return fd;
}

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

#ifndef VHU_SOCK_DIR_H
#define VHU_SOCK_DIR_H 1

/* Where server-mode vhost-user ports put their sockets.
 *
 * As in OVS-DPDK, a server-mode port ("dpdkvhostuser", "vhostuser") listens
 * on a socket named after the port, in the run directory or in the
 * subdirectory of it that Open_vSwitch other_config:vhost-sock-dir names.
 * Both functions return NULL and set '*errorp' to a message for the
 * operator (which the caller frees) when the input is refused, otherwise a
 * path that the caller frees and leave '*errorp' alone. */

char *vhu_sock_dir_resolve(const char *rundir, const char *sock_dir,
                           char **errorp);
char *vhu_server_socket_path(const char *sock_dir, const char *port_name,
                             char **errorp);

/* Opens the directory that holds socket 'path' (see the comment on
 * vhu_sock_dir_open() in vhu-sock-dir.c). */
int vhu_sock_dir_open(const char *path, const char *trusted_dir,
                      const char **namep, char **errorp);

#endif /* vhu-sock-dir.h */

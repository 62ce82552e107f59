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

#ifndef NETDEV_VHU_H
#define NETDEV_VHU_H 1

/* ovs-vhu's netdev classes: vhost-user ports for ovs-vswitchd's userspace
 * datapath.
 *
 * Loading the ovs-vhu module (libovs-vhu.so) registers them from its
 * constructor, before ovs-vswitchd's main() runs.  netdev_vhu_register() is
 * also exported so that an executable can name it, which makes the linker
 * keep the module as a dependency even with --as-needed.  Calling it again
 * does nothing. */
void netdev_vhu_register(void);

struct smap;

/* Takes the Open_vSwitch table's other_config: "vhost-sock-dir", the
 * directory (relative to the run directory) for server ports' sockets.
 * Server ports move their sockets when it changes. */
void netdev_vhu_set_other_config(const struct smap *other_config);

#endif /* netdev-vhu.h */

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

/* Our ovs-vswitchd is Open vSwitch's own: main() and the bridge come from
 * the objects of the Open vSwitch build (vswitchd/ovs-vswitchd.o and its
 * neighbours), unchanged.  This file makes the executable depend on the
 * ovs-vhu module, whose constructor registers the vhost-user netdev
 * classes before main() runs, and hands the module the Open_vSwitch
 * table's other_config. */

#include <config.h>

#include <stdio.h>

#include "dpdk.h"
#include "netdev-vhu.h"
#include "openvswitch/vlog.h"
#include "smap.h"

VLOG_DEFINE_THIS_MODULE(ovs_vswitchd_vhu);

extern void (*const ovs_vswitchd_vhu_module)(void);
void (*const ovs_vswitchd_vhu_module)(void) = netdev_vhu_register;

/* The bridge calls dpdk_init() with the Open_vSwitch table's other_config
 * on every pass of its main loop; it is where OVS-DPDK reads
 * "vhost-sock-dir".  Open vSwitch without DPDK has only a stub, which
 * this definition, linked into the executable ahead of the library,
 * replaces: it does what the stub does and passes the configuration on to
 * the vhost-user ports. */
void
dpdk_init(const struct smap *ovs_other_config)
{
    static bool warned;

    if (!warned && smap_get_bool(ovs_other_config, "dpdk-init", false)) {
        VLOG_ERR("DPDK not supported in this copy of Open vSwitch; "
                 "ovs-vhu's vhost-user ports need no DPDK.");
        warned = true;
    }
    netdev_vhu_set_other_config(ovs_other_config);
}

/* "ovs-vswitchd --version" prints Open vSwitch's version line, then calls
 * print_dpdk_version(), where OVS-DPDK names its DPDK.  This definition,
 * like dpdk_init() above, replaces the library's empty stub, so that the
 * line after Open vSwitch's names the ovs-vhu release linked in. */
void
print_dpdk_version(void)
{
    printf("ovs-vhu %s\n", OVS_VHU_VERSION);
}

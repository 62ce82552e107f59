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
 * neighbours), unchanged.  This file only makes the executable depend on
 * the ovs-vhu module, whose constructor registers the vhost-user netdev
 * classes before main() runs. */

#include <config.h>

#include "netdev-vhu.h"

extern void (*const ovs_vswitchd_vhu_module)(void);
void (*const ovs_vswitchd_vhu_module)(void) = netdev_vhu_register;

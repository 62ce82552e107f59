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

/* Code that breaks the queue gate or the device's mutex, one way per
 * VHU_TSA_CASE, for tests/thread-safety.at: under clang -Wthread-safety
 * -Werror (tests/clang-thread-safety) every case from 1 on must fail to
 * compile, with the diagnostic that the test names, and case 0, the same
 * code done right, must compile.  Never built into a program. */

#include <config.h>

#include "vhu-dev-private.h"
#include "vhu-vq.h"

#ifndef VHU_TSA_CASE
#error "compile with -DVHU_TSA_CASE=N"
#endif

/* A protocol handler, which holds the device's mutex, setting a ring's
 * base. */
int
vhu_tsa_handler(struct vhu_dev *dev, unsigned int idx, uint16_t base)
    OVS_REQUIRES(dev->mutex)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
#if VHU_TSA_CASE == 1
    /* 1: moves the ring's index without stopping the queue first. */
    vq->last_avail_idx = base;
#elif VHU_TSA_CASE == 2
    /* 2: starts the ring without stopping the queue first. */
    vq->last_avail_idx = base;
    return vhu_vq_start_split(vq);
#elif VHU_TSA_CASE == 3
    /* 3: stops the queue and never lets the bursts in again. */
    vhu_vq_stop(vq);
    vq->last_avail_idx = base;
#else
    vhu_vq_stop(vq);
    vq->last_avail_idx = base;
    vhu_vq_leave(vq);
#endif
    return 0;
}

/* A burst entry point. */
int
vhu_tsa_burst(struct vhu_dev *dev, unsigned int idx, struct vhu_buf *bufs,
              int n)
{
    struct vhu_vq *vq = vhu_dev_vq(dev, idx);
    int n_rx = 0;

#if VHU_TSA_CASE == 4
    /* 4: enters the queue whether or not the gate was open. */
    vhu_vq_try_enter(vq);
    n_rx = vhu_vq_dequeue_split(vq, bufs, n);
    vhu_vq_leave(vq);
#else
    if (vhu_vq_try_enter(vq)) {
        n_rx = vhu_vq_dequeue_split(vq, bufs, n);
        vhu_vq_leave(vq);
    }
#endif
    return n_rx;
}

/* The control path changing queue 'b'. */
void
vhu_tsa_two_queues(struct vhu_dev *dev, unsigned int a, unsigned int b)
{
#if VHU_TSA_CASE == 5
    /* 5: stops queue 'a' and starts queue 'b'. */
    struct vhu_vq *stopped = vhu_dev_vq(dev, a);
    struct vhu_vq *changed = vhu_dev_vq(dev, b);

    vhu_vq_stop(stopped);
    vhu_vq_start_split(changed);
    vhu_vq_leave(stopped);
#else
    struct vhu_vq *changed = vhu_dev_vq(dev, b);

    vhu_vq_stop(changed);
    vhu_vq_start_split(changed);
    vhu_vq_leave(changed);
    (void) a;
#endif
}

/* Another thread asking whether a queue runs. */
bool
vhu_tsa_reader(struct vhu_dev *dev, unsigned int idx)
{
    bool ready;

    ovs_mutex_lock(&dev->mutex);
#if VHU_TSA_CASE == 6
    /* 6: reads 'ready' with the mutex alone, not through
     * vhu_dev_vq_ready(). */
    ready = vhu_dev_vq(dev, idx)->ready;
#else
    ready = vhu_dev_vq_ready(dev, idx);
#endif
    ovs_mutex_unlock(&dev->mutex);
    return ready;
}

/* The socket layer handing a message to the protocol. */
void
vhu_tsa_caller(struct vhu_dev *dev, struct vhu_msg *msg)
{
#if VHU_TSA_CASE == 7
    /* 7: without the device's mutex. */
    vhu_user_handle_msg(dev, msg);
#else
    ovs_mutex_lock(&dev->mutex);
    vhu_user_handle_msg(dev, msg);
    ovs_mutex_unlock(&dev->mutex);
#endif
}

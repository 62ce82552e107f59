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

/* What the bursts of both ring layouts share outside the fast path:
 * breaking a queue, calling the guest, counting drops. */

#include <config.h>

#include "vhu-vq.h"
#include "vhu-vq-chain.h"

#include <sched.h>
#include <unistd.h>

#include "coverage.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vhu_vq);

COVERAGE_DEFINE(vhu_vq_broken);
COVERAGE_DEFINE(vhu_guest_tx_dropped);
COVERAGE_DEFINE(vhu_guest_rx_full);
COVERAGE_DEFINE(vhu_guest_call);

static const char *const fault_names[VHU_VQ_N_FAULTS] = {
    [VHU_VQ_OK] = "no fault",
    [VHU_VQ_BAD_AVAIL_IDX] = "avail index ahead by more than the ring size",
    [VHU_VQ_BAD_HEAD] = "avail entry names a descriptor beyond the ring",
    [VHU_VQ_BAD_NEXT] = "descriptor 'next' beyond its table",
    [VHU_VQ_LOOP] = "descriptor chain longer than its table (a loop)",
    [VHU_VQ_ZERO_LEN] = "zero-length buffer",
    [VHU_VQ_BAD_ADDR] = "buffer outside guest memory",
    [VHU_VQ_BAD_DIRECTION] = "buffer writable where readable expected, "
                             "or the reverse",
    [VHU_VQ_NESTED_INDIRECT] = "indirect table inside an indirect table",
    [VHU_VQ_BAD_INDIRECT] = "indirect descriptor misaligned, empty, "
                            "longer than the ring, chained or not "
                            "negotiated",
    [VHU_VQ_BAD_WRAP] = "descriptor flags disagree with the ring wrap "
                        "counter",
    [VHU_VQ_BAD_ID] = "buffer id beyond the ring",
};

const char *
vhu_vq_fault_name(enum vhu_vq_fault fault)
{
    return fault < VHU_VQ_N_FAULTS ? fault_names[fault] : "unknown fault";
}

void
vhu_vq_stop(struct vhu_vq *vq)
{
    while (!vhu_vq_try_enter(vq)) {
        sched_yield();
    }
}

/* Only this queue stops; its device and every other queue carry on. */
void
vhu_vq_break(struct vhu_vq *vq, enum vhu_vq_fault fault)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    atomic_store_relaxed(&vq->faults,
                         ((vhu_vq_n_faults(vhu_vq_faults(vq)) + 1) << 8)
                         | fault);
    COVERAGE_INC(vhu_vq_broken);
    VLOG_WARN_RL(&rl, "%s: virtqueue %u stopped: %s (it stays stopped until "
                 "the frontend sets it up again)",
                 vq->name, vq->index, vhu_vq_fault_name(fault));
}

void
vhu_vq_call(struct vhu_vq *vq)
{
    uint64_t one = 1;

    /* EAGAIN means the counter is full, so the guest has a wakeup pending
     * anyway. */
    ignore(write(vq->call_fd, &one, sizeof one));
    vq->stats.calls++;
    COVERAGE_INC(vhu_guest_call);
}

void
vhu_vq_count_tx_drop(struct vhu_vq *vq)
{
    vq->stats.dropped++;
    COVERAGE_INC(vhu_guest_tx_dropped);
}

void
vhu_vq_count_rx_full(void)
{
    COVERAGE_INC(vhu_guest_rx_full);
}

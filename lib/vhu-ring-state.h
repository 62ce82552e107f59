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

#ifndef VHU_RING_STATE_H
#define VHU_RING_STATE_H 1

/* Ring state that outlives the switch.
 *
 * A frontend that loses its backend (ovs-vswitchd killed, or restarted)
 * loses with it where the device side of each ring stood: QEMU rebuilds a
 * split ring's position from the used index, but has nothing to rebuild a
 * packed ring's from, and starts it again at the base it last sent, out of
 * step with its guest's driver, which then never gets another packet.
 *
 * So each device keeps, per queue, a record (struct vhu_ring_record, in
 * vhu-vq.h) of where the device side stands, with what the queue was set
 * up as: features, ring addresses and size, and a tag of the guest memory.
 * The records of one port live in one file under the run directory, which
 * the device maps shared, so that the bursts keep them up to date with
 * plain stores and they survive a SIGKILL.  When a queue starts for the
 * first time on a new connection, vhu_ring_resume() weighs the record
 * against the frontend's base and the ring itself. */

#include <stdbool.h>
#include <stdint.h>

#include "vhu-vq.h"

struct vhu_ring_state;

/* Maps the records of 'n_vrings' queues from the file 'path', made if it is
 * not there, or fresh private memory if 'path' is NULL.  A file that holds
 * no records of this version is started afresh.  Returns NULL, with a
 * message in '*errorp' for the caller to free, if the file cannot be made
 * or mapped. */
struct vhu_ring_state *vhu_ring_state_create(const char *path,
                                             unsigned int n_vrings,
                                             char **errorp);
void vhu_ring_state_destroy(struct vhu_ring_state *);
struct vhu_ring_record *vhu_ring_state_record(struct vhu_ring_state *,
                                              unsigned int idx);
const char *vhu_ring_state_path(const struct vhu_ring_state *);
uint16_t vhu_ring_state_marker(const struct vhu_ring_state *);

/* What vhu_ring_resume() made of a queue's record. */
struct vhu_ring_resume {
    bool ran;                   /* The record is of a queue that ran, and
                                 * whose position the frontend never got
                                 * back. */
    bool applies;               /* Of this very ring, as it was. */
    const char *ignored;        /* Or why the record does not apply. */
    const char *rejected;       /* It applies but disagrees with the ring:
                                 * why, and the frontend's base is used. */
    bool from_record;           /* The position comes from the record. */
    bool frontend_agreed;       /* The frontend's base was the same. */
    uint32_t frontend_base;     /* What the frontend's base was. */
    uint32_t position;          /* Where the queue resumes (a position in
                                 * the record's encoding). */
    int finished;               /* Buffers whose hand-back the switch that
                                 * stopped had begun, handed back now. */
    int replayed;               /* Split: descriptors that it had taken
                                 * and never handed on, which the queue
                                 * takes again.  (A packed ring's are not
                                 * counted: that would cost a store per
                                 * packet.) */
};

void vhu_ring_resume(struct vhu_vq *vq, const struct vhu_ring_layout *,
                     struct vhu_ring_resume *)
    VHU_VQ_REQUIRES(vq);
void vhu_ring_record_start(struct vhu_vq *vq, const struct vhu_ring_layout *)
    VHU_VQ_REQUIRES(vq);
void vhu_ring_record_update(struct vhu_vq *vq,
                            const struct vhu_ring_layout *)
    VHU_VQ_REQUIRES(vq);
void vhu_ring_record_handed_back(struct vhu_vq *vq) VHU_VQ_REQUIRES(vq);

#endif /* vhu-ring-state.h */

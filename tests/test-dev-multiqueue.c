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

/* "ovs-vhu-test dev" subcommands about queues and the threads that use
 * them: packets both ways on every queue pair of a device, from 1 to 4
 * pairs, with any feature set, split or packed ("traffic"), and a PMD
 * thread bursting on a queue while the control path replaces the memory
 * table and restarts the queue under it ("threads").  tests/dev.at and
 * tests/dev-packed.at run them. */

#include <config.h>

#include "dev-harness.h"

#include "ovs-thread.h"

/* "traffic PAIRS FEATURES [RING_SIZE]": packets both ways on every queue
 * pair. */
static void
test_traffic(int argc, char *argv[])
{
    VHU_CHECK(argc == 3 || argc == 4);
    size_t n_pairs = atoi(argv[1]);
    uint64_t features = dev_parse_features(argv[2]);
    uint16_t ring_size = argc > 3 ? atoi(argv[3]) : RING_SIZE;
    struct harness *h = harness_create(2, REGION_SIZE);

    VHU_CHECK(!vhu_fe_start(h->fe, features, ALL_PROTOCOL_FEATURES, n_pairs,
                            ring_size));
    harness_sync(h);

    struct vhu_dev_state state;
    vhu_dev_get_state(h->dev, &state);
    VHU_CHECK(state.connected && state.running);
    VHU_CHECK(state.features == features);
    VHU_CHECK(state.n_vrings == 2 * n_pairs);
    VHU_CHECK(state.n_queue_pairs == n_pairs);
    for (size_t i = 0; i < 2 * n_pairs; i++) {
        VHU_CHECK(vhu_dev_vring_ready(h->dev, i));
        VHU_CHECK(vhu_dev_vring_size(h->dev, i) == ring_size);
    }
    VHU_CHECK(!vhu_dev_vring_ready(h->dev, 2 * n_pairs));
    printf("%"PRIuSIZE" queue pairs ready, features %s", n_pairs, argv[2]);
    if (argc > 3) {
        printf(", rings of %"PRIu16, ring_size);
    }
    printf("\n");

    for (size_t qp = 0; qp < n_pairs; qp++) {
        harness_check_guest_tx(h, qp, 1000);
        harness_check_guest_rx(h, qp, 1000);
    }
    for (size_t qp = 0; qp < n_pairs; qp++) {
        struct vhu_vq_stats tx, rx;

        vhu_dev_vring_stats(h->dev, 2 * qp + 1, &tx);
        vhu_dev_vring_stats(h->dev, 2 * qp, &rx);
        VHU_CHECK(tx.packets == 1000 && rx.packets == 1000);
        VHU_CHECK(!tx.dropped);
    }
    printf("1000 packets each way on each queue pair, every byte checked\n");
    harness_destroy(h);
}

/* "threads": a PMD thread bursting while the control path replaces the
 * memory table and restarts the queue under it. */
struct pmd_ctx {
    struct vhu_dev *dev;
    atomic_bool stop;
    atomic_uint received;
    bool corrupt;
};

static void *
pmd_main(void *ctx_)
{
    struct pmd_ctx *ctx = ctx_;
    static uint8_t data[32][BUF_SIZE];
    struct vhu_buf bufs[32];
    unsigned int received = 0;
    bool stop;

    for (int i = 0; i < 32; i++) {
        bufs[i].data = data[i];
        bufs[i].size = BUF_SIZE;
    }
    do {
        atomic_read(&ctx->stop, &stop);
        int n = vhu_dev_dequeue_burst(ctx->dev, 0, bufs, 32);
        for (int i = 0; i < n; i++, received++) {
            if (bufs[i].len != dev_packet_len(received)
                || !dev_check_packet(bufs[i].data, bufs[i].len, received)) {
                ctx->corrupt = true;
            }
        }
        atomic_store(&ctx->received, received);
    } while (!stop);
    return NULL;
}

static void
test_threads(int argc, char *argv[])
{
    uint64_t features = argc > 1 ? dev_parse_features(argv[1]) : ALL_FEATURES;
    bool packed = features & F(VHU_VIRTIO_F_RING_PACKED);
    struct harness *h = harness_create(2, REGION_SIZE);
    struct pmd_ctx ctx = { .dev = h->dev };
    const int n_rounds = 200;
    unsigned int sent = 0, received;
    uint8_t pkt[BUF_SIZE];

    VHU_CHECK(!vhu_fe_start(h->fe, features, ALL_PROTOCOL_FEATURES, 1,
                            RING_SIZE));
    harness_sync(h);
    atomic_init(&ctx.stop, false);
    atomic_init(&ctx.received, 0);
    pthread_t pmd = ovs_thread_create("pmd", pmd_main, &ctx);

    for (int round = 0; round < n_rounds; round++) {
        for (int i = 0; i < 32; i++, sent++) {
            dev_fill_packet(pkt, dev_packet_len(sent), sent);
            if (vhu_fe_tx(h->fe, 0, pkt, dev_packet_len(sent),
                          VHU_FE_LAYOUT_ONE)) {
                break;
            }
        }
        vhu_fe_tx_reap(h->fe, 0);
        VHU_CHECK(!vhu_fe_share_memory(h->fe));
        if (round % 10 == 5) {
            uint32_t base = harness_get_vring_base(h, 1);
            VHU_CHECK(packed
                      ? ((base & 0x7fff) < RING_SIZE
                         && base >> 16 == (base & 0xffff))
                      : base <= sent);
            harness_kick_vring(h, 1);
        }
    }
    WAIT_UNTIL((atomic_read(&ctx.received, &received), received == sent));
    atomic_store(&ctx.stop, true);
    xpthread_join(pmd, NULL);
    VHU_CHECK(!ctx.corrupt);
    printf("a PMD thread bursts while the memory table is replaced %d times "
           "and the queue restarted %d times: every packet arrives once, "
           "intact\n", n_rounds, n_rounds / 10);
    harness_destroy(h);
}

const struct dev_test dev_multiqueue_tests[] = {
    { "traffic", test_traffic },
    { "threads", test_threads },
    { NULL, NULL },
};

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

/* vhu-bench: the vhost-user engine alone, without ovs-vswitchd, against
 * one frontend (DPDK virtio-user, QEMU).  The datapath runs on the calling
 * thread, one core, as a PMD thread would; the control path runs in a
 * thread of its own.  See vhu-bench(1). */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command-line.h"
#include "fatal-signal.h"
#include "latch.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "util.h"
#include "vhu-dev.h"

VLOG_DEFINE_THIS_MODULE(ovs_vhu_bench);

#define MAX_BURST 256
#define MAX_PKT_SIZE 9728

enum bench_mode {
    MODE_SINK,                  /* Dequeue from the guest only. */
    MODE_SOURCE,                /* Enqueue to the guest only. */
    MODE_LOOPBACK,              /* Send back what the guest sends. */
};

struct bench_options {
    const char *path;
    const char *ring_state;     /* File for the ring records, or NULL. */
    enum vhu_dev_mode dev_mode;
    enum bench_mode mode;
    unsigned int pkt_size;
    int burst;
    unsigned int n_queues;
    double duration;            /* Seconds of traffic, or 0: until killed. */
    uint64_t count;             /* Packets to move, or 0: no limit. */
    double idle_exit;           /* With 'count': give up after this many
                                 * seconds without progress. */
    double linger;              /* With 'count': stay connected this many
                                 * seconds after the last packet, so that
                                 * the guest reads what we sent. */
};

static volatile sig_atomic_t stop_requested;

static void
handle_stop_signal(int signr OVS_UNUSED)
{
    stop_requested = 1;
}

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void) OVS_NO_RETURN;

static void
usage(void)
{
    printf("%s: runs the ovs-vhu engine alone against a vhost-user "
           "frontend\n"
           "usage: %s [OPTIONS] --socket PATH\n"
           "  --socket PATH       vhost-user socket\n"
           "  --server            listen on PATH (default)\n"
           "  --client            connect to PATH, reconnecting\n"
           "  --mode MODE         sink (default), source or loopback\n"
           "  --size BYTES        source: frame size (60..%d, default 64)\n"
           "  --burst N           packets per burst (1..%d, default 32)\n"
           "  --queues N          queue pairs to use (default 1)\n"
           "  --duration SECS     stop after SECS of traffic\n"
           "  --count N           stop after N packets (sent by a source,\n"
           "                      received by a sink or loopback)\n"
           "  --idle-exit SECS    with --count: stop after SECS without\n"
           "                      progress (default 30)\n"
           "  --linger SECS       with --count: stay connected SECS after\n"
           "                      the last packet (default 0)\n"
           "  --ring-state FILE   keep the ring records in FILE, as\n"
           "                      ovs-vswitchd does (default: memory)\n"
           "  --verbose[=SPEC]    log more (as ovs-appctl vlog/set SPEC)\n"
           "  -h, --help          this help\n",
           program_name, program_name, MAX_PKT_SIZE, MAX_BURST);
    exit(EXIT_SUCCESS);
}

static double
parse_number(const char *opt, const char *s, double min, double max)
{
    char *end;
    double value = strtod(s, &end);

    if (*end || end == s || value < min || value > max) {
        ovs_fatal(0, "%s: '%s' is not a number from %g to %g", opt, s, min,
                  max);
    }
    return value;
}

static void
parse_options(int argc, char *argv[], struct bench_options *o)
{
    enum { OPT_SERVER = UCHAR_MAX + 1, OPT_CLIENT, OPT_SOCKET, OPT_MODE,
           OPT_SIZE, OPT_BURST, OPT_QUEUES, OPT_DURATION, OPT_COUNT,
           OPT_IDLE_EXIT, OPT_LINGER, OPT_RING_STATE, OPT_VERBOSE };
    static const struct option long_options[] = {
        { "socket", required_argument, NULL, OPT_SOCKET },
        { "server", no_argument, NULL, OPT_SERVER },
        { "client", no_argument, NULL, OPT_CLIENT },
        { "mode", required_argument, NULL, OPT_MODE },
        { "size", required_argument, NULL, OPT_SIZE },
        { "burst", required_argument, NULL, OPT_BURST },
        { "queues", required_argument, NULL, OPT_QUEUES },
        { "duration", required_argument, NULL, OPT_DURATION },
        { "count", required_argument, NULL, OPT_COUNT },
        { "idle-exit", required_argument, NULL, OPT_IDLE_EXIT },
        { "linger", required_argument, NULL, OPT_LINGER },
        { "ring-state", required_argument, NULL, OPT_RING_STATE },
        { "verbose", optional_argument, NULL, OPT_VERBOSE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };

    *o = (struct bench_options) {
        .dev_mode = VHU_DEV_SERVER,
        .mode = MODE_SINK,
        .pkt_size = 64,
        .burst = 32,
        .n_queues = 1,
        .idle_exit = 30,
    };
    for (;;) {
        int c = getopt_long(argc, argv, "h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_SOCKET:
            o->path = optarg;
            break;
        case OPT_SERVER:
            o->dev_mode = VHU_DEV_SERVER;
            break;
        case OPT_CLIENT:
            o->dev_mode = VHU_DEV_CLIENT;
            break;
        case OPT_MODE:
            if (!strcmp(optarg, "sink")) {
                o->mode = MODE_SINK;
            } else if (!strcmp(optarg, "source")) {
                o->mode = MODE_SOURCE;
            } else if (!strcmp(optarg, "loopback")) {
                o->mode = MODE_LOOPBACK;
            } else {
                ovs_fatal(0, "--mode: '%s' is not sink, source or loopback",
                          optarg);
            }
            break;
        case OPT_SIZE:
            o->pkt_size = parse_number("--size", optarg, 60, MAX_PKT_SIZE);
            break;
        case OPT_BURST:
            o->burst = parse_number("--burst", optarg, 1, MAX_BURST);
            break;
        case OPT_QUEUES:
            o->n_queues = parse_number("--queues", optarg, 1,
                                       VHU_MAX_QUEUE_PAIRS);
            break;
        case OPT_DURATION:
            o->duration = parse_number("--duration", optarg, 0.1, 1e9);
            break;
        case OPT_COUNT:
            o->count = parse_number("--count", optarg, 1, 1e15);
            break;
        case OPT_IDLE_EXIT:
            o->idle_exit = parse_number("--idle-exit", optarg, 0.1, 1e9);
            break;
        case OPT_LINGER:
            o->linger = parse_number("--linger", optarg, 0, 3600);
            break;
        case OPT_RING_STATE:
            o->ring_state = optarg;
            break;
        case OPT_VERBOSE:
            vlog_set_verbosity(optarg);
            break;
        case 'h':
            usage();
        case '?':
            exit(EXIT_FAILURE);
        default:
            OVS_NOT_REACHED();
        }
    }
    if (optind != argc) {
        ovs_fatal(0, "unexpected argument '%s' (use --help)", argv[optind]);
    }
    if (!o->path) {
        ovs_fatal(0, "--socket is required (use --help)");
    }
}

/* The control thread. */
struct control {
    struct vhu_dev *dev;
    struct latch exit;
};

static void *
control_main(void *control_)
{
    struct control *control = control_;

    while (!latch_is_set(&control->exit)) {
        vhu_dev_run(control->dev);
        vhu_dev_wait(control->dev);
        latch_wait(&control->exit);
        poll_block();
    }
    return NULL;
}

/* A 'size'-byte UDP/IPv4 frame from 02:00:00:00:00:01 (10.0.0.1) to
 * 02:00:00:00:00:02 (10.0.0.2), port 9 (discard). */
static void
build_frame(uint8_t *p, unsigned int size)
{
    static const uint8_t head[] = {
        0x02, 0, 0, 0, 0, 0x02,             /* Destination MAC. */
        0x02, 0, 0, 0, 0, 0x01,             /* Source MAC. */
        0x08, 0x00,                         /* IPv4. */
        0x45, 0x00, 0, 0,                   /* Length below. */
        0, 0, 0, 0, 64, 17, 0, 0,           /* TTL 64, UDP. */
        10, 0, 0, 1, 10, 0, 0, 2,
        0x04, 0x00, 0x00, 0x09, 0, 0, 0, 0, /* Ports 1024 -> 9. */
    };
    unsigned int ip_len = size - 14;
    unsigned int udp_len = ip_len - 20;

    memset(p, 0, size);
    memcpy(p, head, sizeof head);
    p[16] = ip_len >> 8;
    p[17] = ip_len;
    p[38] = udp_len >> 8;
    p[39] = udp_len;

    uint32_t sum = 0;
    for (int i = 14; i < 34; i += 2) {
        sum += (p[i] << 8) | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[24] = ~sum >> 8;
    p[25] = ~sum;
}

struct totals {
    uint64_t rx;
    uint64_t tx;
    uint64_t tx_failed;         /* Loopback: packets the guest had no room
                                 * for, dropped. */
};

static void
print_rates(const char *label, const struct totals *t,
            const struct totals *prev, double secs)
{
    printf("%s rx %.3f Mpps  tx %.3f Mpps  (rx %"PRIu64", tx %"PRIu64
           ", dropped %"PRIu64")\n", label,
           (t->rx - prev->rx) / secs / 1e6, (t->tx - prev->tx) / secs / 1e6,
           t->rx, t->tx, t->tx_failed);
    fflush(stdout);
}

int
main(int argc, char *argv[])
{
    struct bench_options o;
    struct control control;
    char *error;

    set_program_name(argv[0]);
    /* Connections (vhu_socket) and queues resumed (vhu_dev) on stderr. */
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    vlog_set_levels(vlog_module_from_name("vhu_socket"), VLF_CONSOLE,
                    VLL_INFO);
    vlog_set_levels(vlog_module_from_name("vhu_dev"), VLF_CONSOLE, VLL_INFO);
    parse_options(argc, argv, &o);

    /* Our own handlers, installed after Open vSwitch's, so that a signal
     * ends the run with a summary instead of exiting on the spot. */
    fatal_signal_init();
    signal(SIGINT, handle_stop_signal);
    signal(SIGTERM, handle_stop_signal);

    control.dev = vhu_dev_create(o.path, o.dev_mode, NULL, NULL, NULL,
                                 &error);
    if (!control.dev) {
        ovs_fatal(0, "%s", error);
    }
    if (o.ring_state
        && vhu_dev_set_ring_state_file(control.dev, o.ring_state, &error)) {
        ovs_fatal(0, "%s", error);
    }
    latch_init(&control.exit);
    pthread_t thread = ovs_thread_create("vhu-control", control_main,
                                         &control);

    static uint8_t data[MAX_BURST][MAX_PKT_SIZE];
    struct vhu_buf bufs[MAX_BURST];
    for (int i = 0; i < MAX_BURST; i++) {
        bufs[i].data = data[i];
        bufs[i].size = MAX_PKT_SIZE;
        if (o.mode == MODE_SOURCE) {
            build_frame(data[i], o.pkt_size);
            bufs[i].len = o.pkt_size;
        }
    }

    printf("%s: %s, %s on %s, %u queue pair%s\n", program_name,
           o.mode == MODE_SINK ? "sink" : o.mode == MODE_SOURCE ? "source"
           : "loopback", o.dev_mode == VHU_DEV_SERVER ? "server" : "client",
           o.path, o.n_queues, o.n_queues > 1 ? "s" : "");
    fflush(stdout);

    struct totals t = { 0 }, prev = { 0 };
    double start = 0, last_report = 0, last_progress = now_sec();
    uint64_t last_total = 0;
    bool running = false;
    unsigned int iter = 0;

    while (!stop_requested) {
        for (unsigned int qp = 0; qp < o.n_queues; qp++) {
            int n;

            switch (o.mode) {
            case MODE_SINK:
                t.rx += vhu_dev_dequeue_burst(control.dev, qp, bufs,
                                              o.burst);
                break;
            case MODE_SOURCE:
                n = o.burst;
                if (o.count && o.count - t.tx < n) {
                    n = o.count - t.tx;
                }
                t.tx += vhu_dev_enqueue_burst(control.dev, qp, bufs, n);
                break;
            case MODE_LOOPBACK:
                n = vhu_dev_dequeue_burst(control.dev, qp, bufs, o.burst);
                if (n) {
                    int sent = vhu_dev_enqueue_burst(control.dev, qp, bufs,
                                                     n);
                    t.rx += n;
                    t.tx += sent;
                    t.tx_failed += n - sent;
                }
                break;
            default:
                OVS_NOT_REACHED();
            }
        }

        /* Look at the clock and the device once in a while only: the loop
         * above is what is measured. */
        if (++iter % 1024) {
            continue;
        }
        double now = now_sec();
        if (!running) {
            struct vhu_dev_state state;

            vhu_dev_get_state(control.dev, &state);
            if (state.running) {
                running = true;
                start = last_report = last_progress = now;
                prev = t;
                printf("frontend ready: %u queue pair%s, features %#"PRIx64
                       "\n", state.n_queue_pairs,
                       state.n_queue_pairs > 1 ? "s" : "", state.features);
                fflush(stdout);
            }
            continue;
        }
        if (now - last_report >= 1.0) {
            print_rates("", &t, &prev, now - last_report);
            prev = t;
            last_report = now;
        }
        uint64_t total = t.rx + t.tx;
        if (total != last_total) {
            last_total = total;
            last_progress = now;
        }
        if (o.duration && now - start >= o.duration) {
            break;
        }
        if (o.count) {
            uint64_t done = o.mode == MODE_SOURCE ? t.tx : t.rx;
            if (done >= o.count || now - last_progress >= o.idle_exit) {
                break;
            }
        }
    }

    /* Connected but idle, so that the guest can read what we sent. */
    for (double until = now_sec() + o.linger;
         !stop_requested && now_sec() < until;) {
        xnanosleep(10 * 1000 * 1000);
    }

    double elapsed = running ? now_sec() - start : 0;
    struct totals zero = { 0 };
    printf("summary: %.1f s,", elapsed);
    print_rates("", &t, &zero, elapsed > 0 ? elapsed : 1);

    latch_set(&control.exit);
    xpthread_join(thread, NULL);
    vhu_dev_destroy(control.dev);
    latch_destroy(&control.exit);

    if (o.count) {
        uint64_t done = o.mode == MODE_SOURCE ? t.tx : t.rx;
        return done >= o.count ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

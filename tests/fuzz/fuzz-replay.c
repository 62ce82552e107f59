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

/* ovs-vhu-fuzz-replay: runs the fuzz targets on saved inputs, without
 * libFuzzer, so that "make check" (tests/fuzz.at) replays every seed and
 * every regression input with the project's own compiler, and "make
 * check-sanitizers" does under AddressSanitizer and
 * UndefinedBehaviorSanitizer.
 *
 *   ovs-vhu-fuzz-replay [-v | -vv] TARGET PATH...
 *       runs TARGET on each file PATH, or on each file in directory PATH,
 *       and prints "TARGET: N inputs replayed"; a failed check aborts.
 *       -v names each input on stderr as it starts, -vv also logs what
 *       the engine does.
 *   ovs-vhu-fuzz-replay --make-seeds DIR
 *       writes the seed corpora into DIR/TARGET/ (tests/fuzz/fuzz-seeds.c)
 *   ovs-vhu-fuzz-replay --list
 *       lists the targets */

#include <config.h>

#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openvswitch/ofpbuf.h"
#include "util.h"

void vhu_fuzz_make_seeds(const char *dir);

static const struct vhu_fuzz_target *const targets[] = {
    &vhu_fuzz_msg,
    &vhu_fuzz_split,
    &vhu_fuzz_packed,
    &vhu_fuzz_net_hdr,
};

static int verbosity;

/* Counts the fds this process has open. */
static int
count_fds(void)
{
    static const char proc_fd[] = "/proc/self/fd";
    DIR *dir = opendir(proc_fd);
    struct dirent *de;
    int n = 0;

    if (!dir) {
        ovs_fatal(errno, "%s", proc_fd);
    }
    while ((de = readdir(dir)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(dir);
    return n;
}

static void
replay_file(const struct vhu_fuzz_target *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    struct ofpbuf b;

    if (!f) {
        ovs_fatal(errno, "%s: open failed", path);
    }
    ofpbuf_init(&b, 4096);
    for (;;) {
        ofpbuf_prealloc_tailroom(&b, 4096);
        size_t n = fread(ofpbuf_tail(&b), 1, 4096, f);
        if (!n) {
            break;
        }
        b.size += n;
    }
    if (ferror(f)) {
        ovs_fatal(errno, "%s: read failed", path);
    }
    fclose(f);

    if (verbosity) {
        fprintf(stderr, "%s: %s (%"PRIu32" bytes)\n", t->name, path, b.size);
    }

    /* Each input must leave no fd behind. */
    int before = count_fds();
    t->run(b.data, b.size);
    if (count_fds() != before) {
        ovs_fatal(0, "%s: %s: %d fds open before, %d after", t->name, path,
                  before, count_fds());
    }
    ofpbuf_uninit(&b);
}

static int
compare_names(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;

    return strcmp(*a, *b);
}

/* Replays 'path', a file or every file in a directory (in name order, not
 * those whose names start with "." or "README").  Returns how many. */
static int
replay_path(const struct vhu_fuzz_target *t, const char *path)
{
    struct stat st;

    if (stat(path, &st)) {
        ovs_fatal(errno, "%s: stat failed", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_file(t, path);
        return 1;
    }

    DIR *dir = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, allocated = 0;

    if (!dir) {
        ovs_fatal(errno, "%s: opendir failed", path);
    }
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.' || !strncmp(de->d_name, "README", 6)) {
            continue;
        }
        if (n >= allocated) {
            names = x2nrealloc(names, &allocated, sizeof *names);
        }
        names[n++] = xasprintf("%s/%s", path, de->d_name);
    }
    closedir(dir);
    if (n) {
        qsort(names, n, sizeof *names, compare_names);
    }

    int n_replayed = 0;
    for (size_t i = 0; i < n; i++) {
        n_replayed += replay_path(t, names[i]);
        free(names[i]);
    }
    free(names);
    return n_replayed;
}

static void
usage(void)
{
    printf("%s: replays inputs of the ovs-vhu fuzz targets\n"
           "usage: %s [-v | -vv] TARGET PATH...\n"
           "       %s --make-seeds DIR\n"
           "       %s --list\n"
           "PATH is an input file or a directory of them.  -v names each\n"
           "input as it starts, -vv logs what the engine does too.\n"
           "Targets:\n",
           program_name, program_name, program_name, program_name);
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        printf("  %-8s %s\n", targets[i]->name, targets[i]->help);
    }
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    argv++, argc--;
    if (argc && (!strcmp(argv[0], "-v") || !strcmp(argv[0], "-vv"))) {
        verbosity = strlen(argv[0]) - 1;
        argv++, argc--;
    }
    vhu_fuzz_init(verbosity > 1);

    if (!argc || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        usage();
        return argc ? EXIT_SUCCESS : EXIT_FAILURE;
    } else if (!strcmp(argv[0], "--list")) {
        for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
            printf("%s\n", targets[i]->name);
        }
        return EXIT_SUCCESS;
    } else if (!strcmp(argv[0], "--make-seeds")) {
        if (argc != 2) {
            ovs_fatal(0, "--make-seeds needs one directory");
        }
        vhu_fuzz_make_seeds(argv[1]);
        return EXIT_SUCCESS;
    }

    const struct vhu_fuzz_target *t = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        if (!strcmp(argv[0], targets[i]->name)) {
            t = targets[i];
        }
    }
    if (!t) {
        ovs_fatal(0, "unknown target \"%s\" (use --help for a list)",
                  argv[0]);
    }
    if (argc < 2) {
        ovs_fatal(0, "%s: no input given", t->name);
    }
    if (t->init) {
        t->init();
    }

    int n = 0;
    for (int i = 1; i < argc; i++) {
        n += replay_path(t, argv[i]);
    }
    printf("%s: %d inputs replayed\n", t->name, n);
    return EXIT_SUCCESS;
}

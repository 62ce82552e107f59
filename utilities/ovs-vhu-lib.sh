# Copyright (c) 2026 The ovs-vhu authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# ovs-vhu-lib.sh: what the tools' bash scripts share, sourced by each of
# them: ovs-vhu-sandbox and ovs-vhu-soak (installed in $(pkgdatadir), or
# from utilities/ in the source tree) and the scripts of devtools/.  It
# defines functions and a few variables and runs nothing; the scripts keep
# their own "set -e".  tests/devtools.at tests every function here.
#
#   say, die               messages
#   need_programs          programs that must be installed
#   median, spread, ratio  numbers from runs
#   ring_args              the virtio-user arguments of a ring layout
#   hugepages_reserve,     2 MB hugepages: adds what is missing, later
#   hugepages_release      removes exactly that, and mounts hugetlbfs
#   track_pid, start_bg,   processes this script started, stopped by pid;
#   stop_pid, stop_all,    waiting for a condition by polling
#   reap, wait_until
#   testpmd_rates,         what dpdk-testpmd prints
#   testpmd_totals
#   pmd_perf, pmd_stats_cycles
#                          what ovs-appctl dpif-netdev/pmd-perf-show and
#                          pmd-stats-show print
#   show_log_tails         the end of every log of a run, for a failure

# The name messages start with: the script's own, unless it says another.
program=${program:-$(basename "$0")}

# ---------------------------------------------------------------------
# Messages.

# say MESSAGE...: "PROGRAM: MESSAGE" on standard error (on the fd in
# $vhu_say_fd instead, where a script reports on standard output), with
# $vhu_say_prefix in place of the program's name if it is set.
say () {
    printf '%s: %s\n' "${vhu_say_prefix:-$program}" "$*" >&"${vhu_say_fd:-2}"
}

# die MESSAGE...: the same on standard error, and exit 1 (the EXIT trap
# of the script then stops what it started).
die () {
    printf '%s: %s\n' "${vhu_say_prefix:-$program}" "$*" >&2
    exit 1
}

# need_programs PACKAGE PROGRAM...: dies unless each PROGRAM is on the
# PATH, naming the Debian package that has it.
need_programs () {
    local package=$1 p
    shift
    for p; do
        command -v "$p" > /dev/null \
            || die "needs $p, which is not installed" \
                   "(Debian: apt-get install $package)"
    done
}

# ---------------------------------------------------------------------
# Numbers.  Each takes its values as arguments and leaves out those that
# are not numbers (the "?" of a run that measured nothing); with none
# left, it prints "?".

# vhu_numbers VALUES...: the numbers among VALUES, one a line.
vhu_numbers () {
    local v
    for v; do
        case $v in
            ''|-|.|-.|*[!0-9.-]*|?*-*|*.*.*) ;;
            *) printf '%s\n' "$v" ;;
        esac
    done
}

# median VALUES...: the middle one of the numbers among VALUES, or the
# mean of the two middle ones when there is an even count.
median () {
    vhu_numbers "$@" | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (!NR) {
                print "?"
            } else if (NR % 2) {
                print v[(NR + 1) / 2]
            } else {
                printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
            }
        }'
}

# spread VALUES...: "MIN MAX" of the numbers among VALUES, as written.
spread () {
    vhu_numbers "$@" | sort -g | awk '
        NR == 1 { lo = $1 }
        { hi = $1 }
        END { if (NR) print lo, hi; else print "? ?" }'
}

# ratio A B [DIGITS]: A / B with DIGITS decimals (default 2), or "?"
# unless both are numbers and B is above 0.
ratio () {
    local a b
    a=$(vhu_numbers "$1")
    b=$(vhu_numbers "$2")
    if test -z "$a" || test -z "$b"; then
        echo "?"
        return 0
    fi
    awk -v a="$a" -v b="$b" -v d="${3:-2}" 'BEGIN {
        if (b + 0 > 0) printf "%." d "f\n", a / b; else print "?" }'
}

# ---------------------------------------------------------------------
# Ring layouts: what the guests' virtio-user ports (DPDK's
# net_virtio_user) are told for each, as "ARG=VALUE,...".

ring_layouts='split split-no-mrg split-in-order packed packed-in-order'

# ring_args LAYOUT: the virtio-user arguments of LAYOUT, one of
# $ring_layouts; for another, a message on standard error and status 1.
ring_args () {
    case $1 in
        split) echo packed_vq=0,in_order=0 ;;
        split-no-mrg) echo packed_vq=0,in_order=0,mrg_rxbuf=0 ;;
        split-in-order) echo packed_vq=0,in_order=1 ;;
        packed) echo packed_vq=1,in_order=0 ;;
        packed-in-order) echo packed_vq=1,in_order=1 ;;
        *) printf '%s: unknown ring layout '\''%s'\'' (one of: %s)\n' \
               "${vhu_say_prefix:-$program}" "$1" "$ring_layouts" >&2
           return 1 ;;
    esac
}

# ---------------------------------------------------------------------
# Hugepages (2 MB, the kernel's default size), for the testpmd guests and
# OVS-DPDK.  Others on the machine may reserve or give back pages while a
# script runs, so a script adds only what is missing and later removes
# only what it added, never writing back a count it read earlier.  The
# files are variables so that a test can point them elsewhere.

vhu_nr_hugepages=${vhu_nr_hugepages:-/proc/sys/vm/nr_hugepages}
vhu_meminfo=${vhu_meminfo:-/proc/meminfo}
vhu_mounts=${vhu_mounts:-/proc/self/mounts}
vhu_hugetlbfs=${vhu_hugetlbfs:-/dev/hugepages}
hugepages_added=0
hugepages_mounted=no

# hugepages_free: the free hugepages (HugePages_Free), 0 if none.
hugepages_free () {
    awk '$1 == "HugePages_Free:" { n = $2 } END { print n + 0 }' \
        "$vhu_meminfo" 2>/dev/null || echo 0
}

# hugepages_reserve N: makes N hugepages free, if the kernel gives them,
# by adding to nr_hugepages only the ones that are missing; counts what it
# added in hugepages_added, for hugepages_release.  Mounts hugetlbfs at
# $vhu_hugetlbfs if nothing is mounted there.  Status 1 if fewer than N
# are free after all (the caller decides: memfd memory instead, or die).
hugepages_reserve () {
    local want=$1 free missing before after got
    hugepages_mount
    free=$(hugepages_free)
    missing=$((want - free))
    test $missing -gt 0 || return 0
    before=$(cat "$vhu_nr_hugepages") || return 1
    vhu_write_nr $((before + missing)) || :
    after=$(cat "$vhu_nr_hugepages") || after=$before
    got=$((after - before))
    # Someone else's change in between is not ours to count.
    test $got -ge 0 || got=0
    test $got -le $missing || got=$missing
    hugepages_added=$((hugepages_added + got))
    test $((free + got)) -ge "$want"
}

# hugepages_release: removes from nr_hugepages what hugepages_reserve
# added, from the count as it is now (someone else may have reserved or
# given back pages meanwhile), and unmounts what hugepages_mount mounted.
hugepages_release () {
    local now
    if test "$hugepages_added" -gt 0; then
        now=$(cat "$vhu_nr_hugepages") || now=
        # Fewer than we added: someone gave ours back already.
        if test -n "$now" && test "$now" -ge "$hugepages_added"; then
            vhu_write_nr $((now - hugepages_added)) || :
        fi
        hugepages_added=0
    fi
    if test $hugepages_mounted = yes; then
        umount "$vhu_hugetlbfs" 2>/dev/null || :
        hugepages_mounted=no
    fi
}

# vhu_write_nr N: asks the kernel for N hugepages in all; it may give
# fewer (hugepages_reserve reads back what it got).
vhu_write_nr () {
    echo "$1" 2>/dev/null > "$vhu_nr_hugepages"
}

# hugepages_mount: mounts hugetlbfs at $vhu_hugetlbfs (where DPDK looks
# for it) unless something is mounted there already; failing quietly,
# since testpmd's --in-memory needs no mount where the kernel has memfd
# hugepages.
hugepages_mount () {
    test $hugepages_mounted = no || return 0
    if awk -v d="$vhu_hugetlbfs" '$2 == d { found = 1 }
                                  END { exit !found }' "$vhu_mounts"; then
        return 0
    fi
    mkdir -p "$vhu_hugetlbfs" 2>/dev/null || :
    if mount -t hugetlbfs nodev "$vhu_hugetlbfs" 2>/dev/null; then
        hugepages_mounted=yes
    fi
}

# ---------------------------------------------------------------------
# Processes.  A script stops only what it started, by pid, and forgets a
# pid once the process is gone (so that it never signals a pid the
# kernel gave to another process since).  'vhu_pids' holds them, oldest
# first.

vhu_pids=

# track_pid PID: PID is this script's to stop (a child started with "&",
# or a daemon's pid from its pidfile).
track_pid () {
    vhu_pids="$vhu_pids $1"
}

# untrack_pid PID: PID is no longer this script's.
untrack_pid () {
    local p rest=
    for p in $vhu_pids; do
        test "$p" = "$1" || rest="$rest $p"
    done
    vhu_pids=$rest
}

# tracked PID: whether this script started PID and has not stopped it.
tracked () {
    test -n "$1" || return 1
    case " $vhu_pids " in
        *" $1 "*) return 0 ;;
    esac
    return 1
}

# start_bg LOG COMMAND...: COMMAND in the background, its standard input
# /dev/null and its output in LOG; sets 'bg_pid' and tracks it.  (A
# process that needs another standard input is started with "&" and
# track_pid.)
start_bg () {
    local log=$1
    shift
    "$@" < /dev/null > "$log" 2>&1 &
    bg_pid=$!
    track_pid $bg_pid
}

# stop_pid PID [SIGNAL [SECONDS]]: if this script started PID, sends it
# SIGNAL (default TERM; "none" sends nothing, for a process already asked
# to exit some other way, such as "ovs-appctl exit"), gives it SECONDS
# (default 5) to go, then SIGKILL; reaps it if it is a child, and forgets
# it.  Status 1, and nothing sent, for a pid this script did not start.
stop_pid () {
    local pid=$1 signal=${2:-TERM} secs=${3:-5}
    tracked "$pid" || return 1
    if test "$signal" != none; then
        kill -"$signal" "$pid" 2>/dev/null || :
    fi
    if ! wait_until "$secs" vhu_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null || :
        wait_until 5 vhu_gone "$pid" || :
    fi
    wait "$pid" 2>/dev/null || :
    untrack_pid "$pid"
}

# vhu_gone PID: whether PID has exited.  A zombie that is this shell's
# child counts as gone (stop_pid reaps it); another's zombie, such as a
# detached daemon's, is gone only once its parent (init) has reaped it.
vhu_gone () {
    local stat
    kill -0 "$1" 2>/dev/null || return 0
    stat=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
    set -- $stat
    test "$1" = Z && test "$2" = "$BASHPID"
}

# stop_all [SIGNAL [SECONDS]]: stop_pid on everything this script still
# runs, the newest first: for its EXIT trap.
stop_all () {
    local p list=
    for p in $vhu_pids; do
        list="$p $list"
    done
    for p in $list; do
        stop_pid "$p" "$@" || :
    done
}

# reap PID: waits for a child that was told to go (or that exits by
# itself), quietly, and forgets it.
reap () {
    wait "$1" 2>/dev/null || :
    untrack_pid "$1"
}

# wait_until SECONDS COMMAND...: runs COMMAND every $vhu_poll seconds
# (default 0.1) until it succeeds (status 0) or SECONDS (a whole number)
# have passed on the clock (status 1).
wait_until () {
    local now end
    now=${EPOCHREALTIME//[!0-9]/}
    end=$((now + $1 * 1000000))
    shift
    until "$@"; do
        now=${EPOCHREALTIME//[!0-9]/}
        test "$now" -lt "$end" || return 1
        sleep "${vhu_poll:-0.1}"
    done
}

# ---------------------------------------------------------------------
# What dpdk-testpmd prints (DPDK 22.11).

# testpmd_rates LOG FIELD [PORT]: the values of FIELD (Rx-pps, Tx-pps,
# Rx-bps, Tx-bps, or a counter such as RX-packets) that testpmd's periodic
# statistics (--stats-period) printed for port PORT (default 0) in LOG,
# oldest first, one a line.
testpmd_rates () {
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | awk -v f="$2:" -v p="${3:-0}" '
        /NIC statistics for port / {
            s = $0
            sub(/.*NIC statistics for port /, "", s)
            inside = (s + 0 == p)
            next
        }
        /^ *#+ *$/ { inside = 0 }
        inside {
            for (i = 1; i < NF; i++) {
                if ($i == f) print $(i + 1)
            }
        }'
}

# testpmd_totals LOG RX|TX [PORT]: RX-packets or TX-packets of the last
# "Forward statistics for port PORT" (default 0) in LOG, what testpmd
# prints when it stops forwarding; nothing if it printed none.
testpmd_totals () {
    awk -v f="$2-packets:" -v p="${3:-0}" '
        /Forward statistics for port / {
            s = $0
            sub(/.*Forward statistics for port /, "", s)
            inside = (s + 0 == p)
            next
        }
        /^ *-+ *$/ { inside = 0 }
        inside && $1 == f { v = $2 }
        END { if (v != "") print v }' "$1"
}

# ---------------------------------------------------------------------
# What ovs-appctl dpif-netdev/pmd-perf-show and pmd-stats-show print (Open
# vSwitch 3.1).

# pmd_perf FILE WHAT: from pmd-perf-show's output in FILE, over all its
# PMD threads, WHAT is one of
#   seconds  the measurement's duration
#   rx       the packets the PMD threads received
#   mpps     rx per second, in millions (3 decimals)
#   cycles   their cycles per packet (each thread's, weighted by its
#            packets)
# or "?" where it has none.
pmd_perf () {
    awk -v what="$2" '
        /^ *Measurement duration:/ { secs = $3 }
        /^ *Rx packets:/ {
            rx += $3
            if (match($0, /[0-9.]+ cycles\/pkt/)) {
                weighted += $3 * substr($0, RSTART, RLENGTH - 11)
            }
            n++
        }
        END {
            if (what == "seconds" && secs != "") print secs
            else if (what == "rx" && n) print rx
            else if (what == "mpps" && n && secs > 0)
                printf "%.3f\n", rx / secs / 1e6
            else if (what == "cycles" && rx > 0)
                printf "%.10g\n", weighted / rx
            else print "?"
        }' "$1"
}

# pmd_stats_cycles FILE: the processing cycles per packet of the PMD
# threads in pmd-stats-show's output in FILE, all together (2 decimals),
# or "?".
pmd_stats_cycles () {
    awk '
        /avg processing cycles per packet: .*\([0-9]+\/[0-9]+\)/ {
            s = $0
            sub(/.*\(/, "", s)
            sub(/\).*/, "", s)
            split(s, f, "/")
            cycles += f[1]
            packets += f[2]
        }
        END {
            if (packets > 0) printf "%.2f\n", cycles / packets
            else print "?"
        }' "$1"
}

# ---------------------------------------------------------------------

# show_log_tails DIR [LINES]: the last LINES (default 15) of each DIR/*.log
# on standard error, without testpmd's periodic statistics and
# screen-clearing escapes, for a script that fails.
show_log_tails () {
    local log
    for log in "$1"/*.log; do
        test -f "$log" || continue
        echo "==> $log <==" >&2
        sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" \
            | grep -Ev 'statistics =|^ *(#|RX-|TX-|Rx-|Tx-|Throughput|$)' \
            | tail -n "${2:-15}" >&2 || :
    done
}

# tests/load/lib.sh: what tests/load/run and tests/load/soak share, sourced by both.
#
# Stage messages, the Debian packages and the system daemons they enable, the release build,
# the scratch directory and the processes started (ended by pid at exit), free loopback
# ports, /proc readings, NSD on loopback, and the /tmp/LOAD_RUNNING flag. Expects REPO (the
# repository root) and sets nothing else until a function is called. Not executable: source it.
# shellcheck shell=bash

LOAD_SCRIPT=tests/load/${0##*/} # for messages: tests/load/run, tests/load/soak

stage() {
    printf '\n==> [%ss] %s\n' "$SECONDS" "$*" >&2
}

die() {
    printf '%s: %s\n' "$LOAD_SCRIPT" "$*" >&2
    exit 1
}

# require_root_and_cpus: as root (installs packages, runs servers) on 2 or more CPUs (the
# forwarder alone on CPU 0; dnsperf and NSD on CPU 1).
require_root_and_cpus() {
    [[ $(id -u) == 0 ]] || die "run as root (it installs packages and runs the servers)"
    (($(nproc) >= 2)) || die "needs at least 2 CPUs (forwarder on CPU 0, dnsperf and NSD on CPU 1)"
}

# install_packages PKG...: installs the Debian packages given (none: nothing), with
# --no-install-recommends and without letting any start its daemon.
install_packages() {
    (($#)) || return 0
    apt-get update
    # The postinst scripts of nsd, unbound and dnsdist start their system daemons; a
    # policy-rc.d that forbids every action (exit 101) stops that. Only one we made is removed.
    local made_policy=false
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=true
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
    if $made_policy; then
        rm -f /usr/sbin/policy-rc.d
    fi
}

# quiet_system_daemons: whatever the packages enabled or started (here or on an earlier run),
# only their own units: the harness runs the binaries itself with configs in a scratch
# directory. Debian's unbound enables unbound.service and unbound-resolvconf.service (which
# would rewrite resolv.conf at boot); Debian's dnsdist enables dnsdist.service (and an init
# script, update-rc.d defaults). The unit file is looked for on disk, not with `systemctl
# cat`, which fails where systemd is not PID 1 (a container, a VM with another init);
# `systemctl disable` works there too (it removes the symlinks and runs update-rc.d disable
# for the init script).
quiet_system_daemons() {
    local unit pair binary pidfile pid
    for unit in nsd unbound unbound-resolvconf dnsdist; do
        command -v systemctl >/dev/null || break
        [[ -e /lib/systemd/system/$unit.service || -e /usr/lib/systemd/system/$unit.service ]] || continue
        if [[ -d /run/systemd/system ]] && systemctl is-active --quiet "$unit.service" 2>/dev/null; then
            stage "stopping the system's $unit.service"
            systemctl stop "$unit.service" || true
        fi
        if systemctl is-enabled --quiet "$unit.service" 2>/dev/null; then
            stage "disabling $unit.service (enabled by its package)"
            systemctl disable "$unit.service" || true
        fi
    done
    # Without systemd: a daemon the init script started leaves its pid file (dnsdist's init
    # script makes one with start-stop-daemon -m). Stop that pid only, and only if it is that
    # package's binary.
    for pair in /usr/sbin/nsd:/run/nsd/nsd.pid /usr/sbin/unbound:/run/unbound.pid \
        /usr/sbin/dnsmasq:/run/dnsmasq/dnsmasq.pid /usr/bin/dnsdist:/run/dnsdist.pid; do
        binary=${pair%%:*} pidfile=${pair#*:}
        [[ -r $pidfile ]] || continue
        pid=$(<"$pidfile")
        if [[ $pid =~ ^[0-9]+$ && $(readlink "/proc/$pid/exe" 2>/dev/null) == "$binary" ]]; then
            stage "stopping the system's ${binary##*/} (pid $pid from $pidfile)"
            kill -TERM "$pid" || true
        fi
    done
}

# build_pathwise [DIR]: cargo build --release -p pathwise in DIR (default REPO), under the
# machine's cargo lock (PATHWISE_CARGO_LOCK, default /tmp/pathwise-cargo.lock) when flock(1)
# exists, so that it waits for other builds instead of competing with them.
build_pathwise() {
    if ! command -v cargo >/dev/null && [[ -f "$HOME/.cargo/env" ]]; then
        # shellcheck source=/dev/null
        source "$HOME/.cargo/env"
    fi
    local lock=()
    command -v flock >/dev/null && lock=(flock "${PATHWISE_CARGO_LOCK:-/tmp/pathwise-cargo.lock}")
    (cd "${1:-$REPO}" && "${lock[@]}" cargo build --release -p pathwise)
}

# --- the /tmp/LOAD_RUNNING flag ----------------------------------------------------------
#
# While a load script measures, /tmp/LOAD_RUNNING holds its pid, its command and when it
# expects to end: anyone about to start heavy work on the machine (a build, a test suite)
# can look and wait, since that work would distort the figures. Only the script that wrote
# the flag removes it (cleanup, below); a flag whose pid is gone is stale and replaced.

LOAD_FLAG=${LOAD_FLAG:-/tmp/LOAD_RUNNING}
LOAD_FLAG_OURS=no

# load_flag_take COMMAND SECONDS: writes the flag, or dies if another load run holds it.
load_flag_take() {
    local pid
    if [[ -e $LOAD_FLAG ]]; then
        pid=$(awk '$1 == "pid" { print $2 }' "$LOAD_FLAG" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            die "another load run holds $LOAD_FLAG: $(tr '\n' ' ' <"$LOAD_FLAG")"
        fi
        stage "replacing a stale $LOAD_FLAG (pid ${pid:-none} is gone)"
    fi
    printf 'pid %s\ncommand %s\nstarted %s\nexpected_end %s\n' "$$" "$1" \
        "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$(date -u -d "+$2 seconds" '+%Y-%m-%dT%H:%M:%SZ')" \
        >"$LOAD_FLAG"
    LOAD_FLAG_OURS=yes
}

load_flag_drop() {
    if [[ $LOAD_FLAG_OURS == yes ]] && [[ $(awk '$1 == "pid" { print $2 }' "$LOAD_FLAG" 2>/dev/null) == "$$" ]]; then
        rm -f "$LOAD_FLAG"
    fi
    LOAD_FLAG_OURS=no
}

# --- scratch directory, processes, cleanup -----------------------------------------------

STARTED=() # every pid the script started; cleanup ends these and no others

# make_scratch: TMP, a new directory under /tmp, removed at exit (kept if KEEP=yes), when
# every process in STARTED is also ended (SIGTERM, then SIGKILL after 5 s).
make_scratch() {
    TMP=$(mktemp -d "/tmp/pathwise-${LOAD_SCRIPT##*/}.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    load_flag_drop
    if [[ ${KEEP:-no} == yes ]]; then
        printf 'scratch directory kept: %s\n' "$TMP" >&2
    elif [[ -n ${TMP:-} ]]; then
        rm -rf "$TMP"
    fi
}

# forget PID: drops PID from STARTED once it has been waited for, so that cleanup never
# signals a pid the system may since have given to another process.
forget() {
    local pid kept=()
    for pid in "${STARTED[@]}"; do
        [[ $pid == "$1" ]] || kept+=("$pid")
    done
    STARTED=("${kept[@]}")
}

# --- readings ------------------------------------------------------------------------------

# A port free on 127.0.0.1 for both UDP and TCP (bounded tries).
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        if [[ -z $(ss -Hlntu "( sport = :$port )" 2>/dev/null) ]]; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

# utime + stime of a process (all its threads), in clock ticks.
cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# Busy and total ticks of one CPU from /proc/stat, as "busy total".
cpu_busy() {
    awk -v cpu="cpu$1" '$1 == cpu {
        total = 0; for (i = 2; i <= NF; i++) total += $i
        print total - $5 - $6, total }' /proc/stat
}

status_field() { # status_field PID VmHWM -> the value in kB (or the count)
    awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"
}

# Waits (at most 10 s) until the server on PORT answers NAME; fails if PID died.
wait_answers() {
    local port=$1 name=$2 pid=$3 type=${4:-A}
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        if dig +tries=1 +time=1 +short @127.0.0.1 -p "$port" "$name" "$type" | grep -q .; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# --- NSD, the upstream, on CPU 1 -------------------------------------------------------------

# start_nsd: NSD on 127.0.0.1:NSD_PORT (a free port), CPU 1, serving zone "test." from
# $TMP/test.zone, with response rate limiting off (it would otherwise be what a saturation
# run measures); sets NSD_PORT and NSD_PID (in STARTED). Dies if it does not answer h1.test.
start_nsd() {
    # shellcheck disable=SC2034 # NSD_PID is for the caller
    NSD_PORT=$(free_port)
    stage "upstream: nsd on 127.0.0.1:$NSD_PORT, CPU 1"
    cat >"$TMP/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$NSD_PORT
    port: $NSD_PORT
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$TMP"
    database: ""
    zonelistfile: "$TMP/zone.list"
    xfrdfile: "$TMP/xfrd.state"
    xfrdir: "$TMP"
    pidfile: "$TMP/nsd.pid"
    logfile: "$TMP/nsd.log"
    verbosity: 1
    server-count: 1
    rrl-ratelimit: 0
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: "test."
    zonefile: "test.zone"
EOF
    taskset -c 1 /usr/sbin/nsd -d -c "$TMP/nsd.conf" >"$TMP/nsd.stderr" 2>&1 &
    NSD_PID=$!
    STARTED+=("$NSD_PID")
    wait_answers "$NSD_PORT" h1.test "$NSD_PID" ||
        die "nsd did not answer: $(cat "$TMP/nsd.stderr" "$TMP/nsd.log" 2>/dev/null)"
}

# launch DIR COMMAND...: runs COMMAND on CPU 0 in the background with its output in DIR and
# sets FWD_PID. The subshell writes the wall-clock time ($EPOCHREALTIME, no fork) to
# DIR/exec_time and then execs taskset, which execs COMMAND: FWD_PID is COMMAND's pid (so
# `wait` gives its exit status) and exec_time is the start of "start-up to first answer"
# (which thus includes taskset's own exec, well under a millisecond).
launch() {
    local dir=$1
    shift
    (
        printf '%s\n' "$EPOCHREALTIME" >"$dir/exec_time"
        exec taskset -c 0 "$@" >"$dir/stdout" 2>"$dir/stderr" </dev/null
    ) &
    # shellcheck disable=SC2034 # for the caller
    FWD_PID=$!
}

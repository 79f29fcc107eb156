#!/bin/sh
# capture-qemu.sh -- record vhost-user samples from real QEMU 7.2 through
# `vhost-conform record`, against qemu-storage-daemon (blk), virtiofsd (fs) and
# dpdk-testpmd (net): for each daemon one trace of QEMU's realize (-S, then quit)
# and one of a device start driven by a small guest (a Debian 12 kernel and a
# busybox initramfs whose /init loads the virtio modules, touches the device and
# powers off). traces/samples/README.md says how the committed samples were made.
#
#   traces/capture-qemu.sh [-b BUILD_DIR] [-o OUT_DIR] [-w WORK_DIR] [-k] [DAEMON...]
#
#   DAEMON   qsd, virtiofsd, testpmd (default: all three)
#   -b DIR   the meson build directory (default: build)
#   -o DIR   where the .pcap files go (default: traces/samples)
#   -w DIR   work directory for the guest kernel, initramfs, sockets and logs
#            (default: a new directory under /tmp, removed at the end unless -k)
#   -k       keep the work directory (the guest is reused by a later -w run)
#
# Needs root (virtiofsd and dpdk-testpmd), qemu-system-x86, qemu-system-common,
# dpdk, and apt access to download linux-image-6.1.0-*-amd64 and busybox-static
# (nothing is installed: the packages are extracted with dpkg -x into the work
# directory). Every wait has a timeout; started processes are stopped on exit.
set -eu

cd "$(dirname "$0")/.."
build=build
out=traces/samples
work=""
keep=0
while getopts b:o:w:k opt; do
    case "$opt" in
    b) build="$OPTARG" ;;
    o) out="$OPTARG" ;;
    w) work="$OPTARG"; keep=1 ;;
    k) keep=1 ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-o OUT_DIR] [-w WORK_DIR] [-k] [qsd|virtiofsd|testpmd]..." >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
daemons="${*:-qsd virtiofsd testpmd}"

vc="$(pwd)/$build/conformance/vhost-conform"
[ -x "$vc" ] || { echo "capture: $vc not built (ninja -C $build)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "capture: run as root (virtiofsd and dpdk-testpmd need it)" >&2; exit 2; }
for p in qemu-system-x86_64 qemu-storage-daemon dpdk-testpmd apt-get dpkg timeout; do
    command -v "$p" >/dev/null || { echo "capture: $p is missing" >&2; exit 2; }
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -z "$work" ]; then
    work="$(mktemp -d /tmp/vc-capture.XXXXXX)"
fi
mkdir -p "$work"
work="$(cd "$work" && pwd)"

# Processes we started, stopped on exit (by pid, never by name).
pids=""
cleanup() {
    for p in $pids; do
        kill -TERM "$p" 2>/dev/null || true
    done
    sleep 1
    for p in $pids; do
        kill -KILL "$p" 2>/dev/null || true
    done
    if [ "$keep" -eq 0 ]; then
        rm -rf "$work"
    else
        echo "capture: work directory kept: $work" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

log() { echo "capture: $*" >&2; }

# wait_for PATH SECONDS: until PATH exists (a socket a daemon creates).
wait_for() {
    n=0
    while [ ! -e "$1" ]; do
        n=$((n + 1))
        [ "$n" -le $(($2 * 10)) ] || { log "timed out waiting for $1"; return 1; }
        sleep 0.1
    done
}

# stop PID SECONDS SIGNAL: signal it, wait up to SECONDS, then SIGKILL.
stop() {
    kill -"$3" "$1" 2>/dev/null || return 0
    n=0
    while kill -0 "$1" 2>/dev/null; do
        n=$((n + 1))
        if [ "$n" -gt $(($2 * 10)) ]; then
            kill -KILL "$1" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    wait "$1" 2>/dev/null || true
}

# --- The guest: a Debian 12 kernel and a busybox initramfs (built once per work dir) ---
guest="$work/guest"
make_guest() {
    [ -f "$guest/initrd.img" ] && [ -f "$guest/vmlinuz" ] && return 0
    mkdir -p "$guest/deb" "$guest/root"
    kpkg="$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
            awk '{print $1}' | sort -V | tail -n 1)"
    [ -n "$kpkg" ] || { log "no linux-image-6.1.0-*-amd64 package (apt-get update?)"; return 1; }
    log "downloading $kpkg and busybox-static"
    (cd "$guest/deb" && timeout 600 apt-get download "$kpkg" busybox-static >/dev/null 2>&1) ||
        { log "apt-get download failed"; return 1; }
    dpkg -x "$guest/deb/$kpkg"_*.deb "$guest/kernel"
    dpkg -x "$guest/deb"/busybox-static_*.deb "$guest/busybox"
    cp "$guest/kernel/boot/vmlinuz-"* "$guest/vmlinuz"
    r="$guest/root"
    mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/mnt" "$r/modules"
    cp "$guest/busybox/bin/busybox" "$r/bin/busybox"
    for m in virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
             failover net_failover virtio_net virtio_blk fuse virtiofs; do
        f="$(find "$guest/kernel/lib/modules" -name "$m.ko" | head -n 1)"
        [ -n "$f" ] && cp "$f" "$r/modules/"
    done
    cat > "$r/init" <<'EOF'
#!/bin/busybox sh
# vhost-conform capture guest: load virtio, touch the device named by vc.dev=, power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# The package has no modules.dep: a few passes load each module once its dependencies are in.
for pass in 1 2 3 4; do
    for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
             failover net_failover virtio_net virtio_blk fuse virtiofs; do
        grep -q "^$m " /proc/modules || insmod /modules/$m.ko 2>/dev/null
    done
done
echo "vc-guest: modules loaded"
case "$(cat /proc/cmdline)" in
*vc.dev=blk*)
    dd if=/dev/vda of=/dev/null bs=4096 count=64 && echo "vc-guest: read /dev/vda"
    dd if=/dev/zero of=/dev/vda bs=4096 count=4 conv=fsync && echo "vc-guest: wrote /dev/vda"
    ;;
*vc.dev=fs*)
    mount -t virtiofs myfs /mnt && ls /mnt && cat /mnt/hello && echo "vc-guest: read virtiofs"
    umount /mnt
    ;;
*vc.dev=net*)
    ip link set eth0 up && sleep 2 && echo "vc-guest: eth0 up"
    ;;
esac
echo "vc-guest: done"
poweroff -f
EOF
    chmod +x "$r/init"
    (cd "$r" && find . | "$r/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -9 > "$guest/initrd.img")
    echo "$kpkg" > "$guest/kernel-package"
    log "guest ready: $(cat "$guest/kernel-package"), initramfs $(wc -c < "$guest/initrd.img") bytes"
}

# --- Daemons (the commands are in traces/samples/MANIFEST too, for replay) ---
start_daemon() { # NAME SOCK
    case "$1" in
    qsd)
        qemu-storage-daemon --blockdev driver=null-co,node-name=n0,size=67108864,read-zeroes=on \
            --export type=vhost-user-blk,id=e0,node-name=n0,addr.type=unix,addr.path="$2",writable=on,num-queues=2 \
            > "$work/daemon.log" 2>&1 &
        ;;
    virtiofsd)
        mkdir -p "$work/shared"
        echo "hello from the host" > "$work/shared/hello"
        /usr/lib/qemu/virtiofsd --socket-path="$2" -o source="$work/shared" -o cache=auto \
            > "$work/daemon.log" 2>&1 &
        ;;
    testpmd)
        dpdk-testpmd --lcores 0@1,1@1 --no-huge -m 512 --no-pci --file-prefix=vccapture \
            --vdev net_vhost0,iface="$2",queues=1 -- --total-num-mbufs=16384 \
            --forward-mode=rxonly --auto-start --stats-period 1 --nb-cores=1 \
            < /dev/null > "$work/daemon.log" 2>&1 &
        ;;
    esac
    daemon_pid=$!
    pids="$pids $daemon_pid"
}

qemu_device() { # NAME
    case "$1" in
    qsd) echo "-device vhost-user-blk-pci,chardev=c0,num-queues=1" ;;
    virtiofsd) echo "-device vhost-user-fs-pci,chardev=c0,tag=myfs" ;;
    testpmd) echo "-netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0,vectors=0" ;;
    esac
}

guest_dev() {
    case "$1" in qsd) echo blk ;; virtiofsd) echo fs ;; testpmd) echo net ;; esac
}

sample_name() { # NAME PHASE
    case "$1" in
    qsd) echo "qsd-blk-$2.pcap" ;;
    virtiofsd) echo "virtiofsd-fs-$2.pcap" ;;
    testpmd) echo "testpmd-net-$2.pcap" ;;
    esac
}

capture() { # NAME PHASE
    name="$1"
    phase="$2"
    dsock="$work/$name.sock"
    psock="$work/$name-proxy.sock"
    pcap="$out/$(sample_name "$name" "$phase")"
    rm -f "$dsock" "$psock" "$pcap"
    log "$name $phase: starting the daemon"
    start_daemon "$name" "$dsock"
    wait_for "$dsock" 30 || { tail -n 5 "$work/daemon.log" >&2; return 1; }
    "$vc" record --listen "$psock" --upstream "$dsock" -o "$pcap" --sessions 1 \
        --accept-timeout 60s --connect-timeout 30s --idle-timeout 120s -v \
        2> "$work/proxy-$name-$phase.log" &
    proxy_pid=$!
    pids="$pids $proxy_pid"
    wait_for "$psock" 10
    # shellcheck disable=SC2046
    set -- qemu-system-x86_64 -machine q35 -accel tcg -nodefaults -display none -m 256M \
        -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
        -chardev socket,id=c0,path="$psock" $(qemu_device "$name")
    if [ "$phase" = realize ]; then
        log "$name realize: QEMU -S, then quit through the monitor"
        (sleep 3; echo quit) | timeout 60 "$@" -S -monitor stdio > "$work/qemu-$name-$phase.log" 2>&1 ||
            log "$name realize: QEMU exited with $?"
    else
        log "$name start: booting the guest (TCG: 10 to 60 s)"
        timeout 240 "$@" -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -no-reboot \
            -append "console=ttyS0 panic=-1 vc.dev=$(guest_dev "$name")" \
            -serial "file:$work/guest-$name.log" > "$work/qemu-$name-$phase.log" 2>&1 ||
            log "$name start: QEMU exited with $?"
        grep "vc-guest:" "$work/guest-$name.log" >&2 || log "$name start: no guest output"
    fi
    # The proxy ends when QEMU closes its socket; give it 20 s.
    n=0
    while kill -0 "$proxy_pid" 2>/dev/null && [ "$n" -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
    stop "$proxy_pid" 5 TERM
    if [ "$name" = testpmd ]; then
        stop "$daemon_pid" 10 INT
        rm -rf /var/run/dpdk/vccapture
    else
        stop "$daemon_pid" 10 TERM
    fi
    rm -f "$dsock"
    "$vc" trace stats "$pcap" | head -n 3 >&2
}

make_guest
for d in $daemons; do
    case "$d" in
    qsd|virtiofsd|testpmd) ;;
    *) log "unknown daemon '$d' (qsd, virtiofsd, testpmd)"; exit 2 ;;
    esac
    capture "$d" realize
    capture "$d" start
done
log "versions: $(qemu-system-x86_64 --version | head -n 1); $(dpkg-query -W -f='dpdk ${Version}' dpdk); guest kernel $(cat "$guest/kernel-package")"

#!/bin/sh
# Set up a Debian 12 machine, build vhost-conform, then either run it against
# the bundled reference back end ("run") or run the whole test suite ("test").
#
#   scripts/bootstrap.sh run    install what is missing, build, print a per-rule report
#   scripts/bootstrap.sh test   install what is missing, build, meson test, then meson test
#                               --setup valgrind (what CI runs)
#
# Extra arguments after "run" go to vhost-conform; after "test" to meson test.
set -eu

cd "$(dirname "$0")/.."
what="${1:-}"
[ $# -gt 0 ] && shift

case "$what" in
run|test) ;;
*) echo "usage: $0 run|test [ARGS...]" >&2; exit 2 ;;
esac

# Debian packages the build and the tests need.
packages="gcc meson ninja-build pkg-config python3 libglib2.0-dev libjson-glib-dev libpcap-dev \
check valgrind"
# The third-party daemons of the launch recipes (backends/recipes): the matrix suite runs
# every check against them, and traces-samples replays the committed QEMU samples with them.
# qemu-system-common: qemu-storage-daemon, virtiofsd; qemu-system-gui: vhost-user-gpu;
# dpdk-dev: dpdk-testpmd (the dpdk package has the libraries). tshark runs the Wireshark
# dissector test. Without them those tests skip. Recording new samples
# (traces/capture-qemu.sh) also needs qemu-system-x86.
packages="$packages tshark qemu-system-common qemu-system-gui dpdk dpdk-dev"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "bootstrap: installing:$missing" >&2
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "bootstrap: missing packages:$missing; run as root or install them" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ -f build/build.ninja ]; then
    meson setup --reconfigure build >/dev/null
else
    meson setup build >/dev/null
fi
ninja -C build

case "$what" in
run)
    exec ./build/conformance/vhost-conform --format text "$@" \
        --backend ./build/backends/vhost-user-rng-ref
    ;;
test)
    # The whole suite, then the same under valgrind (the harness must stay clean). The
    # third-party matrix runs once, without valgrind: it judges the daemons, not the harness.
    meson test -C build --print-errorlogs "$@"
    exec meson test -C build --setup valgrind --no-suite matrix --print-errorlogs "$@"
    ;;
esac

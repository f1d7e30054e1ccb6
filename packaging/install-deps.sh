#!/bin/bash
# Installs the Debian packages corehttpd needs, and only those missing.
#
# Usage: packaging/install-deps.sh [LIST...]
#   build  compilers, CMake and the libraries corehttpd links with
#   test   what the integration tests and the demo run: ip, ping, curl, ab,
#          wrk, nft, tcpdump, Debian's /usr/bin/python3, media-types,
#          chromium (the headless browser test), promtool (package
#          prometheus) for the status page's Prometheus format, openssl and
#          certutil (libnss3-tools) for the HTTPS test's PKI and Chromium's
#          trust store, slowhttptest (test_slowloris) and python3-scapy
#          (test_crafted)
#   demo   the part of "test" that config/demo.sh itself uses (ip, curl)
#   bench  what bench/ compares against and with: nginx, lighttpd, ethtool,
#          curl, ab, wrk, nft, gnuplot (bench/compare.sh's charts), perf
#          (linux-perf, for profiles), util-linux (taskset), and for the
#          HTTPS benches openssl, testssl.sh, jq and h2load (nghttp2-client)
#   package  what packaging/build-deb.sh and tests/packaging/test_deb.sh use:
#          debhelper, dpkg-dev, fakeroot, lintian, blhc, systemd
#          (systemd-analyze), logrotate, man-db, and the package's own
#          dependencies (dpdk, its mempool, bus and TAP drivers)
#   sanitize  clang 14 with libFuzzer and the sanitizer runtimes, llvm's
#          tools (llvm-profdata, llvm-cov): tests/fuzz/ and build-tsan/
# With no LIST, installs build and test. Runs apt-get (and its update) only
# when something is missing, so a second run does nothing and needs no
# network. Needs root.
set -eu

build_pkgs="build-essential cmake pkg-config libdpdk-dev libnuma-dev
            libhttp-parser-dev libinih-dev libcmocka-dev libssl-dev clang-format
            media-types"
test_pkgs="iproute2 iputils-ping curl apache2-utils nftables tcpdump python3 media-types
           wrk chromium prometheus openssl libnss3-tools slowhttptest python3-scapy"
demo_pkgs="iproute2 curl openssl"
bench_pkgs="nginx-light lighttpd ethtool iproute2 curl apache2-utils wrk nftables
            gnuplot-nox linux-perf util-linux procps openssl testssl.sh jq
            nghttp2-client"
package_pkgs="debhelper dpkg-dev fakeroot lintian blhc systemd logrotate man-db
              binutils dpdk librte-mempool-ring23 librte-bus-pci23
              librte-bus-vdev23 librte-net-tap23 iproute2 curl"
sanitize_pkgs="clang libclang-rt-14-dev llvm"

usage() {
    sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
}

want=""
[ $# -gt 0 ] || set -- build test
for list in "$@"; do
    case $list in
    build) want="$want $build_pkgs" ;;
    test) want="$want $test_pkgs" ;;
    demo) want="$want $demo_pkgs" ;;
    bench) want="$want $bench_pkgs" ;;
    package) want="$want $package_pkgs" ;;
    sanitize) want="$want $sanitize_pkgs" ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "install-deps.sh: unknown list '$list' (build, test, demo, bench, package, sanitize)" >&2
        exit 2
        ;;
    esac
done

# A package counts as present only when dpkg says "install ok installed"
# (not merely known, half-configured or removed with its config left).
missing=""
# $want is a list of package names: split on purpose.
# shellcheck disable=SC2086
for pkg in $(printf '%s\n' $want | sort -u); do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps.sh: all packages present ($*)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: missing:$missing; run as root (sudo) to install them" >&2
    exit 1
fi

echo "install-deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# $missing is a list of package names: split on purpose.
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

# shellcheck shell=bash
# tests/integration/lib.sh: what every integration test shares.
#
# A test is run by ctest as `test_x.sh <path-to-corehttpd> <repo-root>` and
# starts with:
#
#     . "$(dirname "$0")/lib.sh"
#     lib_init x "$@"        # x: a short name (letters/digits, <= 8 chars)
#     cfg_write "[tcp] ..."  # optional: extra config lines
#     srv_start              # namespace, config, server, TAP, addresses
#     ...assert_* ...
#     lib_finish             # stops the server (must exit 0), prints the tally
#
# The test host: a network namespace chttpd-<x>-<pid> of its own; corehttpd
# runs inside it on a DPDK net_tap port whose TAP (ct<x><pid>, <= 15 chars)
# it creates there; the kernel side gets 198.18.0.1/24, the server is
# 198.18.0.2 (RFC 2544 benchmarking range: no traffic leaves it). IPv6 is off
# in the namespace so the kernel sends nothing to other addresses.
#
# Cleanup (an EXIT trap, so also on failure and on INT/TERM) undoes only what
# this script made: the server it started (TERM, then KILL), processes left
# inside its own namespace, the namespace, its temp dir and the DPDK runtime
# dir of its own --file-prefix. On failure it prints the server log.
#
# Impaired links (the lossy tests): net_impair loads nftables netdev rules
# on the TAP inside the namespace (loss, duplication, corruption; this
# kernel has no netem), and the server's own [dpdk] impair_* keys delay and
# reorder frames in dpdk/. See "impaired links" below.
#
# Environment:
#   COREHTTPD_BIN        run this binary instead of $1 (e.g. an ASan build)
#   COREHTTPD_TEST_KEEP  1: leave the namespace, server and temp dir for
#                        debugging (printed at exit)
#   COREHTTPD_LONG       1: the lossy tests also move a 100 MB file (minutes)

set -eu

PY=/usr/bin/python3
HOST_IP=198.18.0.1
SRV_IP=198.18.0.2
NET_PREFIX=24
SRV_PORT=80
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

T_NAME=""
BIN=""
ROOT=""
WWW=""
NS=""
TAP=""
TMPD=""
CFG=""
LOG=""
FILE_PREFIX=""
SRV_PID=""
SITE_ROOT=""
IMPAIRED_TO_CLIENT=""
IMPAIRED_TO_SERVER=""
NS_MADE=0
PASSES=0
FAILS=0
FINISHED=0

# ---------------------------------------------------------------- output

say() {
    printf '[%s] %s\n' "$T_NAME" "$*"
}

ok() {
    PASSES=$((PASSES + 1))
    printf '[%s] ok   %s\n' "$T_NAME" "$*"
}

fail() {
    FAILS=$((FAILS + 1))
    printf '[%s] FAIL %s\n' "$T_NAME" "$*" >&2
}

# die MSG: a failure the test cannot go on after.
die() {
    fail "$*"
    exit 1
}

# ---------------------------------------------------------------- asserts
# Each prints "ok WHAT" or "FAIL WHAT: expected ..., got ..." and counts; the
# test goes on so that one run shows every failure. lib_finish exits 1 if any.

assert_eq() { # WHAT EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        fail "$1: expected '$2', got '$3'"
    fi
}

assert_ne() { # WHAT UNEXPECTED ACTUAL
    if [ "$2" != "$3" ]; then
        ok "$1"
    else
        fail "$1: expected anything but '$2'"
    fi
}

assert_match() { # WHAT EXTENDED-REGEX ACTUAL
    if printf '%s' "$3" | grep -Eq -- "$2"; then
        ok "$1"
    else
        fail "$1: expected to match /$2/, got '$(printf '%s' "$3" | head -c 300)'"
    fi
}

assert_no_match() { # WHAT EXTENDED-REGEX ACTUAL
    if printf '%s' "$3" | grep -Eq -- "$2"; then
        fail "$1: expected no match for /$2/, got '$(printf '%s' "$3" | head -c 300)'"
    else
        ok "$1"
    fi
}

assert_contains() { # WHAT FIXED-STRING ACTUAL
    case $3 in
    *"$2"*) ok "$1" ;;
    *) fail "$1: expected to contain '$2', got '$(printf '%s' "$3" | head -c 300)'" ;;
    esac
}

assert_ge() { # WHAT MIN ACTUAL  (integers)
    if [ -n "$3" ] && [ "$3" -ge "$2" ] 2>/dev/null; then
        ok "$1"
    else
        fail "$1: expected >= $2, got '$3'"
    fi
}

assert_same_file() { # WHAT EXPECTED-FILE ACTUAL-FILE
    local want got
    if [ ! -f "$3" ]; then
        fail "$1: $3 was not written"
        return 0
    fi
    want=$(sha256sum <"$2" | cut -d' ' -f1)
    got=$(sha256sum <"$3" | cut -d' ' -f1)
    if [ "$want" = "$got" ]; then
        ok "$1"
    else
        fail "$1: sha256 $got ($(stat -c %s "$3") bytes), expected $want ($(stat -c %s "$2") bytes)"
    fi
}

# ---------------------------------------------------------------- helpers

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "needs '$c' (run packaging/install-deps.sh test)"
    done
}

# pid_running PID: true while PID exists and is not a zombie (a child that
# exited is a zombie until waited for, and kill -0 still succeeds on it).
pid_running() {
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# nsx CMD...: runs CMD in the test's namespace.
nsx() {
    ip netns exec "$NS" "$@"
}

# curl_ns ARGS...: curl in the namespace, quiet but showing errors, bounded,
# never through a proxy from the environment.
curl_ns() {
    nsx curl -sS --noproxy '*' --max-time 20 "$@"
}

# url PATH: the server's URL for PATH ("/index.html").
url() {
    printf 'http://%s:%s%s' "$SRV_IP" "$SRV_PORT" "$1"
}

# raw_http ARGS...: runs rawhttp.py against the server inside the namespace
# (see that file for the options); prints its key=value lines.
raw_http() {
    nsx "$PY" "$LIB_DIR/rawhttp.py" "$SRV_IP" "$SRV_PORT" "$@" 2>&1 || true
}

# kv OUTPUT KEY: the value of KEY in raw_http's output ("" when absent).
kv() {
    printf '%s\n' "$1" | sed -n "s/^$2=//p" | head -n 1
}

# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.1 s. Gives up
# early (returning 2) when the server was started and has died.
wait_until() {
    local secs=$1 what=$2 end
    shift 2
    end=$(($(date +%s) + secs))
    while ! "$@" >/dev/null 2>&1; do
        if [ -n "$SRV_PID" ] && ! pid_running "$SRV_PID"; then
            local st=0
            wait "$SRV_PID" || st=$?
            SRV_PID=""
            fail "server exited (status $st) while waiting for $what"
            return 2
        fi
        if [ "$(date +%s)" -ge "$end" ]; then
            fail "timed out after ${secs}s waiting for $what"
            return 1
        fi
        sleep 0.1
    done
}

# ---------------------------------------------------------------- impaired links
# Seen from the server: on the TAP's kernel side, the netdev ingress hook
# sees the frames the server sent (server -> client), the egress hook the
# frames the kernel sends to it (client -> server). Rules select TCP only
# (ARP stays clean) and pick frames with `numgen random`, so they are not
# reproducible run to run; the server's own impair_* stage is seeded.
# The egress hook runs before software GSO splits a kernel skb into wire
# frames, so net_impair caps the TAP at one segment per skb (gso_max_segs
# 1, read by sockets when they connect): a rule then acts on one frame.
# Loss towards the server must not use `drop` on the egress hook: the drop
# is reported to the sending socket (NET_XMIT_DROP), so Linux TCP sends a
# data segment again at once and nothing is lost on the wire (pure ACKs,
# which are not queued, would be). `fwd to` a sink device (sink_dev) steals
# the frame and reports success, as a lossy wire does.

# net_impair TO-CLIENT-STMT TO-SERVER-STMT: loads table `netdev impair` with
# one rule per direction, `meta l4proto tcp <STMT>`; an empty STMT leaves
# that direction clean. Put a `counter` in STMT for net_impair_count. E.g.
#   net_impair 'numgen random mod 100 < 5 counter drop' \
#              'numgen random mod 100 < 5 counter drop'
net_impair() {
    local f=$TMPD/impair.nft
    if [ -z "$1" ] && [ -z "$2" ]; then
        say "no nftables impairment rules"
        return 0
    fi
    {
        printf 'table netdev impair {\n'
        if [ -n "$1" ]; then
            printf '  chain to_client {\n    type filter hook ingress device "%s" priority 0;\n' "$TAP"
            printf '    meta l4proto tcp %s\n  }\n' "$1"
        fi
        if [ -n "$2" ]; then
            printf '  chain to_server {\n    type filter hook egress device "%s" priority 0;\n' "$TAP"
            printf '    meta l4proto tcp %s\n  }\n' "$2"
        fi
        printf '}\n'
    } >"$f"
    nsx ip link set dev "$TAP" gso_max_segs 1
    nsx nft -f "$f" || die "nft refused the impairment rules ($f): $(cat "$f")"
    say "impairment rules on $TAP: $(tr -s ' \n' ' ' <"$f")"
}

# net_impair_count CHAIN: frames the rule of CHAIN (to_client, to_server)
# acted on so far; "" when the chain does not exist.
net_impair_count() {
    nsx nft list chain netdev impair "$1" 2>/dev/null |
        sed -n 's/.* counter packets \([0-9]*\) .*/\1/p' | head -n 1
}

# net_impair_clear: removes the rules (for clean set-up and tear-down traffic).
net_impair_clear() {
    nsx nft delete table netdev impair 2>/dev/null || true
}

# dup_to_client_dev: the device a `dup to` rule on the TAP's ingress sends
# server -> client copies to. `dup to` transmits, so a copy sent out of the
# TAP itself would go back to the server; instead it goes out of a veth
# whose peer carries the TAP's kernel-side MAC, and the kernel receives it
# there as a second copy of the frame (rp_filter off for the odd interface).
dup_to_client_dev() {
    local mac
    mac=$(nsx cat "/sys/class/net/$TAP/address")
    nsx ip link add cdupa type veth peer name cdupb
    nsx ip link set cdupb address "$mac"
    nsx ip link set cdupa up
    nsx ip link set cdupb up
    nsx sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.conf.cdupb.rp_filter=0
    printf 'cdupa'
}

# ns_tcp_counter NAME: a TCP counter of the namespace's kernel (the client)
# by its name in /proc/net/snmp (Tcp: InSegs, InCsumErrors, ...) or
# /proc/net/netstat (TcpExt: TCPOFOQueue, TCPSACKReorder, ...).
ns_tcp_counter() {
    nsx cat /proc/net/snmp /proc/net/netstat | awk -v want="$1" '
        $1 == "Tcp:" || $1 == "TcpExt:" {
            if ($2 ~ /^[0-9-]/) { for (i = 2; i <= NF; i++) if (name[$1, i] == want) print $i }
            else for (i = 2; i <= NF; i++) name[$1, i] = $i
        }' | head -n 1
}

# sink_dev: a device that swallows what is sent to it, for `fwd to` in a
# rule towards the server (a veth whose peer discards frames addressed to
# another MAC; this kernel has no dummy devices). Prints its name.
sink_dev() {
    if ! nsx ip link show csinka >/dev/null 2>&1; then
        nsx ip link add csinka type veth peer name csinkb
        nsx ip link set csinka up
        nsx ip link set csinkb up
    fi
    printf 'csinka'
}

# client_sockets: the namespace's TCP sockets to the server, one per line
# ("STATE local peer"), TIME-WAIT left out (a closed connection).
client_sockets() {
    nsx ss -tanH state all dst "$SRV_IP" 2>/dev/null |
        awk '$1 != "TIME-WAIT" { print $1, $4, $5 }'
}

no_client_sockets() {
    [ -z "$(client_sockets)" ]
}

# assert_no_stuck_sockets SECONDS: within SECONDS every client connection to
# the server has closed (TIME-WAIT or gone): none stays ESTABLISHED,
# FIN-WAIT-*, CLOSE-WAIT or LAST-ACK, which would mean a FIN or its ACK was
# lost for good.
assert_no_stuck_sockets() {
    local end=$(($(date +%s) + $1))
    while ! no_client_sockets; do
        if [ "$(date +%s)" -ge "$end" ]; then
            fail "client sockets still open ${1}s after the transfers: $(client_sockets | tr '\n' ';')"
            return 0
        fi
        sleep 0.2
    done
    ok "no client socket left open (ss in $NS, within ${1}s)"
}

# srv_report_value NAME: a counter of the server's exit report (after
# srv_stop), e.g. "retransmits", "bad checksum", "timeouts"; summed over the
# cores.
srv_report_value() {
    grep -E '^core [0-9]+: ' "$LOG" | grep -oE "$1 [0-9]+" | awk '{ n += $NF } END { print n + 0 }'
}

# port_report_value KEY: a key=value of the server's port line at exit.
port_report_value() {
    grep -m1 '^port: ' "$LOG" | grep -oE " $1=[0-9]+" | cut -d= -f2
}

# timed_fetch WHAT SECONDS URL-PATH EXPECTED-FILE: downloads URL-PATH with
# curl --max-time SECONDS, checks status 200 and the sha256 against
# EXPECTED-FILE, and says the time and goodput. Sets FETCH_SECS.
timed_fetch() {
    local what=$1 bound=$2 path=$3 want=$4 out=$TMPD/fetch.out res t0 ms
    t0=$(date +%s%N)
    res=$(nsx curl -sS --noproxy '*' --max-time "$bound" -o "$out" \
        -w '%{http_code} %{size_download}' "$(url "$path")" 2>"$TMPD/fetch.err") ||
        res="curl exit $?: $(cat "$TMPD/fetch.err")"
    ms=$((($(date +%s%N) - t0) / 1000000))
    FETCH_SECS=$(awk -v ms="$ms" 'BEGIN { printf "%.2f", ms / 1000 }')
    assert_match "$what: status 200 within ${bound}s (curl --max-time)" '^200 ' "$res"
    assert_same_file "$what: sha256 of $(stat -c %s "$want") bytes" "$want" "$out"
    say "$what: ${FETCH_SECS}s, $(awk -v ms="$ms" -v b="$(stat -c %s "$want")" \
        'BEGIN { printf "%.2f MB/s", ms ? b / ms / 1000 : 0 }')"
    rm -f "$out"
}

# long_site: with COREHTTPD_LONG=1, a site of its own in $TMPD with
# www/'s files plus files/big100.bin (100 MB of random bytes) as SITE_ROOT;
# call (not in a subshell) before cfg_write.
long_site() {
    [ "${COREHTTPD_LONG:-0}" = 1 ] || return 0
    SITE_ROOT=$TMPD/site
    mkdir -p "$SITE_ROOT"
    cp -a "$WWW/." "$SITE_ROOT/"
    head -c $((100 * 1024 * 1024)) /dev/urandom >"$SITE_ROOT/files/big100.bin"
}

# lossy_case TO-CLIENT-STMT TO-SERVER-STMT WHAT SECONDS [LONG-SECONDS]: the
# body every lossy test shares, once the server runs: impairment on, the
# 10 MB file within SECONDS (and with COREHTTPD_LONG=1 the 100 MB one within
# LONG-SECONDS), no client socket stuck, impairment off (the rules' counts
# left in IMPAIRED_TO_CLIENT and IMPAIRED_TO_SERVER), the server stops
# cleanly. The caller set up the site (long_site) and the config.
lossy_case() {
    local big=$WWW/files/big.bin
    [ -f "$big" ] || die "$big missing: run packaging/gen-site-data.sh"
    net_impair "$1" "$2"
    timed_fetch "10 MB, $3" "$4" /files/big.bin "$big"
    if [ -n "$SITE_ROOT" ] && [ -f "$SITE_ROOT/files/big100.bin" ]; then
        timed_fetch "100 MB, $3" "${5:-600}" /files/big100.bin "$SITE_ROOT/files/big100.bin"
    else
        say "100 MB variant skipped (COREHTTPD_LONG=1 runs it)"
    fi
    # The closing handshakes still cross the impaired link.
    assert_no_stuck_sockets 20
    IMPAIRED_TO_CLIENT=$(net_impair_count to_client)
    IMPAIRED_TO_SERVER=$(net_impair_count to_server)
    [ -z "$1$2" ] ||
        say "rules acted on ${IMPAIRED_TO_CLIENT:-no} frames to the client, ${IMPAIRED_TO_SERVER:-no} to the server"
    net_impair_clear
    srv_stop
    say "server: $(grep -m1 -oE 'tcp: [^;]*' "$LOG"); bad checksum $(srv_report_value 'bad checksum')"
    # the body goes out by reference, retransmissions included; copies are
    # the response headers (and pieces too small to chain)
    local ref copied
    ref=$(srv_report_value 'by reference')
    copied=$(srv_report_value 'payload bytes copied')
    assert_ge "body bytes by reference >= 99% of the file's $(stat -c %s "$big")" \
        $(($(stat -c %s "$big") / 100 * 99)) "$ref"
    assert_ge "bytes copied under 1% of bytes referenced ($copied of $ref)" $((copied * 100)) "$ref"
    say "$(grep -m1 '^port: ' "$LOG" | sed 's/^port: //')"
}

# ---------------------------------------------------------------- TLS

# tls_pki DIR: a test PKI in DIR made with openssl (EC P-256 keys, quick to
# make): ca.pem (a root) and int.pem (an intermediate it signed); then
# mk_leaf NAME DIR/PREFIX makes PREFIX.key, PREFIX.crt and PREFIX.pem (the
# leaf for NAME signed by the intermediate, then the intermediate: a full
# chain), naming an OCSP responder and a CRL (in 198.18.0.0/15, never
# fetched by the tests); tls_ocsp DIR/PREFIX OUT writes a DER OCSP response
# ("good", signed by the intermediate) for that leaf. Certificates are valid
# TLS_PKI_DAYS days (2).
# tls_get HOST SESS-OUT SESS-IN [s_client options...]: openssl s_client's
# output of one GET / for HOST on the server's port 443, trusting the tls_pki
# root; the session goes to SESS-OUT, and SESS-IN (unless empty) is resumed.
tls_get() {
    local host=$1 out=$2 in=$3 args=()
    shift 3
    [ -z "$in" ] || args+=(-sess_in "$in")
    printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" |
        nsx timeout 10 openssl s_client -connect "$SRV_IP:443" -servername "$host" \
            -CAfile "$PKI_DIR/ca.pem" -ign_eof -sess_out "$out" "${args[@]}" "$@" 2>&1 || true
}

tls_pki() {
    PKI_DIR=$1
    local days=${TLS_PKI_DAYS:-2}
    mkdir -p "$PKI_DIR"
    mk_key "$PKI_DIR/ca.key"
    openssl req -x509 -new -key "$PKI_DIR/ca.key" -subj "/CN=corehttpd test root" -days "$days" \
        -addext "basicConstraints=critical,CA:true" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$PKI_DIR/ca.pem" 2>/dev/null
    mk_key "$PKI_DIR/int.key"
    openssl req -new -key "$PKI_DIR/int.key" -subj "/CN=corehttpd test intermediate" \
        -out "$PKI_DIR/int.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' \
        >"$PKI_DIR/int.ext"
    openssl x509 -req -in "$PKI_DIR/int.csr" -CA "$PKI_DIR/ca.pem" -CAkey "$PKI_DIR/ca.key" \
        -CAcreateserial -days "$days" -extfile "$PKI_DIR/int.ext" -out "$PKI_DIR/int.pem" 2>/dev/null
    [ -s "$PKI_DIR/int.pem" ] || die "openssl could not make the test PKI in $PKI_DIR"
}

mk_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

mk_leaf() { # NAME FILE-PREFIX
    mk_key "$2.key"
    openssl req -new -key "$2.key" -subj "/CN=$1" -out "$2.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:false\n' \
        "$1" >"$2.ext"
    printf 'authorityInfoAccess=OCSP;URI:http://198.18.0.1/ocsp\ncrlDistributionPoints=URI:http://198.18.0.1/int.crl\n' \
        >>"$2.ext"
    openssl x509 -req -in "$2.csr" -CA "$PKI_DIR/int.pem" -CAkey "$PKI_DIR/int.key" \
        -CAcreateserial -days "${TLS_PKI_DAYS:-2}" -extfile "$2.ext" -out "$2.crt" 2>/dev/null
    cat "$2.crt" "$PKI_DIR/int.pem" >"$2.pem"
    [ -s "$2.crt" ] || die "openssl could not make the certificate of $1"
}

tls_ocsp() { # LEAF-PREFIX OUT-DER
    local serial end subj
    serial=$(openssl x509 -in "$1.crt" -noout -serial | cut -d= -f2)
    end=$(date -u -d "$(openssl x509 -in "$1.crt" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
    subj=$(openssl x509 -in "$1.crt" -noout -subject -nameopt compat | sed 's/^subject=//')
    printf 'V\t%s\t\t%s\tunknown\t%s\n' "$end" "$serial" "$subj" >"$PKI_DIR/index.txt"
    openssl ocsp -issuer "$PKI_DIR/int.pem" -cert "$1.crt" -no_nonce -reqout "$1.ocspreq" \
        >/dev/null 2>&1
    openssl ocsp -index "$PKI_DIR/index.txt" -rsigner "$PKI_DIR/int.pem" \
        -rkey "$PKI_DIR/int.key" -CA "$PKI_DIR/int.pem" -reqin "$1.ocspreq" -respout "$2" \
        -ndays 1 >/dev/null 2>&1
    [ -s "$2" ] || die "openssl could not make an OCSP response for $1.crt"
}

# ---------------------------------------------------------------- life cycle

# lib_init NAME "$@": checks the arguments and the machine, names everything
# and installs the cleanup trap.
lib_init() {
    T_NAME=$1
    shift
    if [ $# -lt 2 ]; then
        echo "usage: $0 <path-to-corehttpd> <repo-root>" >&2
        exit 2
    fi
    BIN=${COREHTTPD_BIN:-$1}
    ROOT=$(cd "$2" && pwd)
    WWW=$ROOT/www
    case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
    [ -x "$BIN" ] || die "server binary $BIN is not executable (build first)"
    [ -f "$WWW/index.html" ] || die "no site at $WWW"
    [ -x "$PY" ] || die "needs Debian's $PY (packaging/install-deps.sh test)"

    NS=chttpd-$T_NAME-$$
    TAP=ct$(printf '%s' "$T_NAME" | cut -c1-5)$$
    FILE_PREFIX=chttpd-$T_NAME-$$
    TMPD=$(mktemp -d "/tmp/chttpd-$T_NAME.XXXXXX")
    CFG=$TMPD/corehttpd.ini
    LOG=$TMPD/server.log
    trap lib_cleanup EXIT
    trap 'fail "interrupted (SIGINT)"; exit 130' INT
    trap 'fail "terminated (SIGTERM)"; exit 143' TERM
    say "server $BIN"
}

# cfg_write EXTRA-INI-TEXT: the test config, with EXTRA appended (new keys;
# a key already in the base would be a duplicate, which is an error; more
# sections, or repeated ones with more keys). The site is $SITE_ROOT when a
# test set it, else the repository's www/.
cfg_write() {
    cat >"$CFG" <<EOF
[dpdk]
port = net_tap0,iface=$TAP
hugepages = no
memory_mb = 512
eal_args = --file-prefix=$FILE_PREFIX --no-pci

[net]
address = $SRV_IP/$NET_PREFIX
gateway = $HOST_IP
mtu = 1500

[cores]
list = 0

[http]
listen = $SRV_PORT
root = ${SITE_ROOT:-$WWW}
index = index.html
EOF
    if [ $# -gt 0 ] && [ -n "$1" ]; then
        printf '\n%s\n' "$1" >>"$CFG"
    fi
}

# ns_create: the test's namespace, loopback up, IPv6 off.
ns_create() {
    need_cmd ip
    if ip netns list | grep -qx "$NS\( (id: [0-9]*)\)\{0,1\}"; then
        die "namespace $NS already exists (not ours: left by an earlier run?)"
    fi
    ip netns add "$NS"
    NS_MADE=1
    # (/proc/sys/net is the namespace's own; no IPv6 at all is fine too.)
    nsx sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
        echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null || true
    ip -n "$NS" link set lo up
}

tap_exists() {
    ip -n "$NS" link show dev "$TAP"
}

ready_line_seen() {
    grep -Eq "corehttpd: serving .* on $SRV_IP:$SRV_PORT" "$LOG"
}

http_answers() {
    nsx curl -s --noproxy '*' --max-time 2 -o /dev/null "$(url /)"
}

# srv_start: writes the config (unless the test did, with cfg_write EXTRA),
# makes the namespace, starts the server in it and waits until it answers
# HTTP. Dies on any failure.
srv_start() {
    [ -f "$CFG" ] || cfg_write ""
    [ "$NS_MADE" = 1 ] || ns_create
    say "namespace $NS, tap $TAP, config $CFG"
    # ip netns exec execs the command, so $! is the server's own pid.
    ip netns exec "$NS" "$BIN" -c "$CFG" </dev/null >"$LOG" 2>&1 &
    SRV_PID=$!
    say "server pid $SRV_PID, log $LOG"

    wait_until 30 "the server to create TAP $TAP" tap_exists || exit 1
    ip -n "$NS" addr add "$HOST_IP/$NET_PREFIX" dev "$TAP"
    ip -n "$NS" link set "$TAP" up
    wait_until 30 "the readiness line 'corehttpd: serving ... on $SRV_IP:$SRV_PORT'" \
        ready_line_seen || exit 1
    wait_until 30 "HTTP answers from $(url /)" http_answers || exit 1
    ok "server up: $(grep -E -m1 'corehttpd: serving' "$LOG")"
}

srv_alive() {
    [ -n "$SRV_PID" ] && pid_running "$SRV_PID"
}

# srv_stop: SIGTERM, then the server must exit 0 within 10 s (KILL after) and
# its log must hold no sanitizer report.
srv_stop() {
    local rc=0
    [ -n "$SRV_PID" ] || return 0
    if pid_running "$SRV_PID"; then
        kill -TERM "$SRV_PID" 2>/dev/null || true
        for _ in $(seq 100); do
            pid_running "$SRV_PID" || break
            sleep 0.1
        done
        if pid_running "$SRV_PID"; then
            fail "server did not exit within 10 s of SIGTERM; killing it"
            kill -KILL "$SRV_PID" 2>/dev/null || true
        fi
    else
        fail "server (pid $SRV_PID) had already exited before the test stopped it"
    fi
    wait "$SRV_PID" 2>/dev/null || rc=$?
    SRV_PID=""
    if [ "$rc" = 0 ]; then
        ok "server exited 0 on SIGTERM"
    else
        fail "server exit status $rc (0 expected after SIGTERM)"
    fi
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$LOG"; then
        fail "sanitizer report in the server log"
    fi
}

# lib_finish: stops the server and exits with the test's verdict.
lib_finish() {
    [ "${COREHTTPD_TEST_KEEP:-0}" = 1 ] || srv_stop
    FINISHED=1
    printf '%s: %d passed, %d failed\n' "$T_NAME" "$PASSES" "$FAILS"
    [ "$FAILS" -eq 0 ] || exit 1
    exit 0
}

# lib_cleanup: the EXIT trap. Undoes only what this script made.
lib_cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    set +e
    if [ "$FINISHED" = 0 ] && [ "$rc" = 0 ]; then
        rc=1 # the test exited without lib_finish
    fi
    if [ "${COREHTTPD_TEST_KEEP:-0}" = 1 ]; then
        say "kept: namespace $NS, server pid ${SRV_PID:-none}, dir $TMPD"
        exit "$rc"
    fi
    if [ -n "$SRV_PID" ]; then
        kill -TERM "$SRV_PID" 2>/dev/null
        for _ in $(seq 50); do
            pid_running "$SRV_PID" || break
            sleep 0.1
        done
        pid_running "$SRV_PID" && kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
    fi
    if [ "$NS_MADE" = 1 ]; then
        # Clients a failed test left behind inside our own namespace.
        for pid in $(ip netns pids "$NS" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$NS" 2>/dev/null || echo "[$T_NAME] could not delete namespace $NS" >&2
    fi
    if [ "$rc" != 0 ] || [ "$FAILS" != 0 ]; then
        if [ -n "$LOG" ] && [ -s "$LOG" ]; then
            echo "----- server log ($LOG, last 200 lines) -----" >&2
            tail -n 200 "$LOG" >&2
            echo "----- end of server log -----" >&2
        fi
        [ "$FINISHED" = 1 ] || printf '%s: %d passed, %d failed\n' "$T_NAME" "$PASSES" "$((FAILS > 0 ? FAILS : 1))"
    fi
    if [ -n "$FILE_PREFIX" ] && [ -d "/var/run/dpdk/$FILE_PREFIX" ]; then
        rm -rf "/var/run/dpdk/$FILE_PREFIX"
    fi
    case $TMPD in /tmp/chttpd-*) rm -rf "$TMPD" ;; esac
    exit "$rc"
}

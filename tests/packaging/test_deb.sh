#!/bin/bash
# tests/packaging/test_deb.sh: the Debian package, from source to purge, on
# this machine (as root; it installs system-wide):
#
#   build    packaging/build-deb.sh (dpkg-buildpackage from a staged copy of
#            the source, not from any build*/ tree)
#   lint     lintian: no error and no warning; blhc: every compile and link
#            line has Debian's hardening flags; the binary is PIE, BIND_NOW,
#            RELRO, stack-protected and fortified
#   install  apt-get install ./corehttpd_*.deb; the conffile, log dir
#            (root:adm 0750), run-time dir, welcome page, man pages, enabled
#            unit; `corehttpd -t` on the shipped ini with no NIC (no EAL);
#            systemd-analyze verify on the unit; logrotate parses its snippet
#   serve    the installed /usr/sbin/corehttpd, on the installed ini with
#            only the machine's keys changed (a net_tap port in a namespace,
#            no hugepages), serves the installed welcome page (curl); the
#            package's autopkgtest (debian/tests/serve-static) passes
#   upgrade  a newer version over it keeps an edited conffile (no prompt)
#   remove   keeps the conffile and the logs; purge removes every file of
#            the package, /etc/corehttpd, the logs and the welcome page, and
#            leaves /var/www as it was
#   admin's  a page of the admin's under the welcome page's name survives
#            install and purge
#
# A corehttpd package already installed is purged first. Namespaces and
# addresses as every integration test (tests/integration/lib.sh): its own
# namespace, 198.18.0.0/15 only.
#
# Usage: tests/packaging/test_deb.sh [REPO-ROOT]   (default: this checkout)
# Environment: COREHTTPD_DEB_OUT (where the .deb is built, default
# <repo>/build-deb).

repo=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
. "$repo/tests/integration/lib.sh"

T_NAME=deb
out=${COREHTTPD_DEB_OUT:-$repo/build-deb}
pkg=corehttpd
ini=/etc/corehttpd/corehttpd.ini
unit=/lib/systemd/system/corehttpd.service
page=/var/www/html/index.corehttpd-debian.html
shipped_page=/usr/share/corehttpd/html/index.corehttpd-debian.html
work=$(mktemp -d /tmp/chttpd-deb.XXXXXX)
lib_ready=0
created_www=""
export DEBIAN_FRONTEND=noninteractive
apt_get() {
    apt-get -o DPkg::Lock::Timeout=120 -y -q "$@" </dev/null
}

pkg_status() {
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true
}

pkg_version() {
    dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true
}

# The EXIT trap: purge what this test installed, then lib.sh's cleanup
# (server, namespace, temp dirs) once it was set up.
pkg_cleanup() {
    local rc=$?
    set +e
    if [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != "unknown ok not-installed" ]; then
        echo "[deb] cleanup: purging $pkg" >&2
        apt_get purge "$pkg" >/dev/null 2>&1
    fi
    [ -z "$created_www" ] || rmdir --ignore-fail-on-non-empty /var/www/html /var/www 2>/dev/null
    rm -rf "$work"
    if [ "$lib_ready" = 0 ] && [ "$rc" != 0 ]; then
        printf '%s: %d passed, %d failed (stopped early, exit %d)\n' \
            "$T_NAME" "$PASSES" "$((FAILS > 0 ? FAILS : 1))" "$rc"
    fi
    if [ "$lib_ready" = 1 ]; then
        set_status "$rc"
        lib_cleanup
    fi
    exit "$rc"
}
set_status() {
    return "$1"
}
trap pkg_cleanup EXIT
trap 'fail "interrupted"; exit 130' INT
trap 'fail "terminated"; exit 143' TERM

need_cmd dpkg-buildpackage dh lintian blhc systemd-analyze logrotate readelf curl ip apt-get

if [ "$(id -u)" -ne 0 ]; then
    die "run as root: the test installs and purges the package"
fi
if [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != "unknown ok not-installed" ]; then
    say "$pkg is installed ($(pkg_status)); purging it first"
    apt_get purge "$pkg" >/dev/null || die "could not purge the $pkg already installed"
fi

# leftovers: every path named *corehttpd* in the system's trees, except
# other tests' namespaces and DPDK run-time dirs, and man-db's page cache.
leftovers() {
    find /etc /usr /var /run /opt /srv \
        \( -path /run/netns -o -path /run/dpdk -o -path /var/cache/man -o -path "$repo" \
        -o -path /var/tmp \) -prune -o -name '*corehttpd*' -print 2>/dev/null | LC_ALL=C sort
}
www_state() {
    [ -d /var/www ] && find /var/www -printf '%p %y %m %u:%g %s\n' | LC_ALL=C sort
    return 0
}
leftovers_before=$(leftovers)
www_before=$(www_state)
[ -e /var/www ] || created_www=1

# ---------------------------------------------------------------- build
say "building the package in $out"
t0=$(date +%s)
if packaging_out=$("$repo/packaging/build-deb.sh" "$out" 2>&1); then
    ok "packaging/build-deb.sh built it in $(($(date +%s) - t0)) s"
else
    printf '%s\n' "$packaging_out" | tail -n 40 >&2
    die "packaging/build-deb.sh failed"
fi
version=$(dpkg-parsechangelog -l "$repo/packaging/debian/changelog" -S Version)
deb=$out/${pkg}_${version}_amd64.deb
changes=$out/${pkg}_${version}_amd64.changes
[ -f "$deb" ] || die "no $deb"
log=$out/build.log
assert_eq "the build used no build*/ tree of the checkout" 0 \
    "$(grep -cE "$repo/build(-asan)?/" "$log" || true)"
assert_match "dh built with CMake and ran the unit tests" '100% tests passed' "$(cat "$log")"

# ---------------------------------------------------------------- lint
lrc=0
lint=$(lintian --fail-on error,warning -EvIL +pedantic --display-info "$changes" 2>&1) || lrc=$?
lint=$(printf '%s\n' "$lint" | grep -v 'running with root privileges' || true)
say "lintian: $(printf '%s\n' "$lint" | grep -cE '^[EWIPX]: ') tags"
[ -z "$lint" ] || printf '%s\n' "$lint" | sed 's/^/    /'
assert_eq "lintian --fail-on error,warning (pedantic, info and experimental shown)" 0 "$lrc"
assert_eq "lintian: no E: or W: tag" 0 "$(printf '%s\n' "$lint" | grep -cE '^[EW]: ' || true)"

brc=0
blhc_out=$(blhc --bindnow "$log" 2>&1) || brc=$?
assert_eq "blhc --bindnow: every compile and link line has the hardening flags" \
    "0 " "$brc $(printf '%s' "$blhc_out" | head -c 300)"
mkdir -p "$work/x"
dpkg-deb -x "$deb" "$work/x"
bin=$work/x/usr/sbin/corehttpd
assert_match "the binary is PIE" 'DYN \(Position-Independent' "$(readelf -h "$bin")"
assert_match "the binary is BIND_NOW" 'FLAGS.*(BIND_NOW|NOW)' "$(readelf -d "$bin")"
assert_match "the binary has RELRO" 'GNU_RELRO' "$(readelf -lW "$bin")"
syms=$(readelf -sW --dyn-syms "$bin")
assert_match "the binary is stack-protected" '__stack_chk_fail' "$syms"
assert_match "the binary is fortified" '__[a-z]+_chk' "$syms"

# ---------------------------------------------------------------- install
say "installing $deb"
apt_get install "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; die "apt-get install failed"; }
assert_eq "installed" "install ok installed" "$(pkg_status)"
dpkg -L "$pkg" >"$work/files"
assert_contains "the leftover probe sees the installed package" "$ini" "$(leftovers)"
assert_eq "/usr/sbin/corehttpd --version" "corehttpd ${version%%[+~-]*}" \
    "$(/usr/sbin/corehttpd --version 2>&1)"
assert_match "$ini is a conffile" "^ $ini [0-9a-f]{32}\$" \
    "$(dpkg-query -W -f='${Conffiles}\n' "$pkg")"

# The conffile is the production template: the same keys and values.
keys() {
    grep -E '^[[:space:]]*[a-z_]+[[:space:]]*=' "$1" | sed 's/[[:space:]]*=[[:space:]]*/ = /'
}
assert_eq "$ini has config/corehttpd.ini's keys and values" \
    "$(keys "$repo/config/corehttpd.ini")" "$(keys "$ini")"
assert_match "$ini: the production profile (a PCI port, hugepages on)" \
    '^port = [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] hugepages = yes$' \
    "$(keys "$ini" | grep -E '^(port|hugepages) ' | tr '\n' ' ' | sed 's/ $//')"
logpath_lines=$(grep -F /var/log/corehttpd/access.log "$ini" || true)
assert_match "$ini names /var/log/corehttpd/access.log" . "$logpath_lines"
assert_eq "$ini names it only in a comment (access_log stays empty by default)" "" \
    "$(printf '%s\n' "$logpath_lines" | grep -v '^[;#]' || true)"

t_rc=0
t_out=$(/usr/sbin/corehttpd -t -c "$ini" 2>&1) || t_rc=$?
assert_eq "corehttpd -t -c $ini: exit 0" 0 "$t_rc"
assert_no_match "corehttpd -t starts no EAL (no NIC $(keys "$ini" | sed -n 's/^port = //p') here)" \
    'EAL|hugepage' "$t_out"

assert_eq "/var/log/corehttpd: root:adm 0750" "root:adm 750" \
    "$(stat -c '%U:%G %a' /var/log/corehttpd 2>&1)"
assert_eq "/run/corehttpd made by systemd-tmpfiles" "root:root 755" \
    "$(stat -c '%U:%G %a' /run/corehttpd 2>&1)"
if cmp -s "$shipped_page" "$page"; then
    ok "the welcome page was copied to $page"
else
    fail "$page is not the shipped welcome page"
fi
assert_eq "man corehttpd and man corehttpd.ini" \
    "/usr/share/man/man8/corehttpd.8.gz /usr/share/man/man5/corehttpd.ini.5.gz" \
    "$(man -w 8 corehttpd 2>&1) $(man -w 5 corehttpd.ini 2>&1)"
man5=$(zcat /usr/share/man/man5/corehttpd.ini.5.gz | sed 's/\\-/-/g')
missing=""
for k in $(keys "$repo/config/corehttpd.ini" | cut -d' ' -f1; grep -oE '^;[a-z_]+ =' "$repo/config/corehttpd.ini" | tr -d ';= '); do
    printf '%s' "$man5" | grep -q -- "$k" || missing="$missing $k"
done
assert_eq "corehttpd.ini(5) documents every key of config/corehttpd.ini" "" "$missing"
assert_eq "the unit is enabled (multi-user.target.wants)" "$unit" \
    "$(readlink /etc/systemd/system/multi-user.target.wants/corehttpd.service 2>&1)"

vrc=0
verify=$(systemd-analyze verify "$unit" 2>&1) || vrc=$?
assert_eq "systemd-analyze verify $unit: exit 0, no message" "0 " "$vrc $verify"
# The same check on a copy with a bad value must complain (it reports
# parse errors as messages, not in its exit status).
sed 's/^Restart=on-failure$/Restart=sometimes/' "$unit" >"$work/corehttpd.service"
assert_match "systemd-analyze verify flags a broken copy" 'Restart|restart' \
    "$(systemd-analyze verify "$work/corehttpd.service" 2>&1)"
u=$(cat "$unit")
say "systemd-analyze security --offline: $(systemd-analyze security --offline=true "$unit" 2>&1 |
    grep -o 'Overall exposure level.*' || echo 'no score')"
assert_match "unit: Wants= and After= dpdk.service" \
    'Wants=dpdk.service.*After=dpdk.service' "$(printf '%s' "$u" | tr '\n' ' ')"
assert_contains "unit: ExecStartPre runs the config test" \
    "ExecStartPre=/usr/sbin/corehttpd -t -c $ini" "$u"
assert_match "unit: ExecReload tests the config, then sends SIGHUP" \
    "ExecReload=/usr/sbin/corehttpd -t -c $ini ExecReload=/bin/kill -HUP \\\$MAINPID" \
    "$(printf '%s\n' "$u" | grep '^ExecReload=' | tr '\n' ' ')"
assert_match "unit: Restart=on-failure, LimitMEMLOCK=infinity" \
    'Restart=on-failure.*LimitMEMLOCK=infinity' "$(printf '%s' "$u" | tr '\n' ' ')"
assert_no_match "unit: no device restriction (PrivateDevices=, DeviceAllow=, DevicePolicy=, ProtectClock=: /dev/vfio, /dev/hugepages stay)" \
    '^(PrivateDevices|DeviceAllow|DevicePolicy|ProtectClock)=' "$u"
lrrc=0
lr=$(logrotate -d /etc/logrotate.d/corehttpd 2>&1) || lrrc=$?
assert_eq "logrotate -d /etc/logrotate.d/corehttpd parses" "0" "$lrrc"
assert_no_match "logrotate: no error" '^error' "$lr"
assert_contains "logrotate: postrotate sends SIGUSR1" "--signal=SIGUSR1 corehttpd.service" \
    "$(cat /etc/logrotate.d/corehttpd)"
assert_contains "postinst: an upgrade restarts a running service" \
    "deb-systemd-invoke try-restart 'corehttpd.service'" "$(cat /var/lib/dpkg/info/corehttpd.postinst)"
assert_contains "prerm: removal stops the service" \
    "deb-systemd-invoke stop corehttpd.service" "$(cat /var/lib/dpkg/info/corehttpd.prerm)"

# ---------------------------------------------------------------- serve
# The installed binary on the installed ini, with only what ties it to a
# machine changed: a TAP port in a namespace, no hugepages, test addresses,
# and the welcome page as the index.
lib_init deb /usr/sbin/corehttpd "$repo"
lib_ready=1
trap pkg_cleanup EXIT
trap 'fail "interrupted"; exit 130' INT
trap 'fail "terminated"; exit 143' TERM
sed -e "s|^port = .*|port = net_tap0,iface=$TAP|" \
    -e 's|^hugepages = .*|hugepages = no|' \
    -e 's|^memory_mb = .*|memory_mb = 256|' \
    -e "s|^eal_args =.*|eal_args = --file-prefix=$FILE_PREFIX --no-pci|" \
    -e "s|^address = .*|address = $SRV_IP/$NET_PREFIX|" \
    -e "s|^gateway =.*|gateway = $HOST_IP|" \
    -e 's|^index = .*|index = index.corehttpd-debian.html|' \
    "$ini" >"$CFG"
assert_eq "the demo profile from the installed ini passes -t" 0 \
    "$(/usr/sbin/corehttpd -t -c "$CFG" >/dev/null 2>&1; echo $?)"
srv_start
code=$(curl_ns -o "$TMPD/got.html" -w '%{http_code} %{content_type}' "$(url /)") || code="curl failed"
assert_match "GET / from the installed server: 200 text/html" '^200 text/html' "$code"
assert_same_file "GET /: the welcome page" "$shipped_page" "$TMPD/got.html"
srv_stop

mkdir -p "$work/autopkgtest"
if AUTOPKGTEST_TMP=$work/autopkgtest sh "$repo/packaging/debian/tests/serve-static" \
    >"$work/autopkgtest.log" 2>&1; then
    ok "autopkgtest serve-static: $(grep -m1 '^served' "$work/autopkgtest.log")"
else
    sed 's/^/    /' "$work/autopkgtest.log" >&2
    fail "autopkgtest serve-static failed"
fi

# ---------------------------------------------------------------- upgrade
# A newer version of the same package (its control file's version raised)
# over an edited conffile: dpkg keeps the edit without asking, since the
# package's own copy did not change.
sed -i 's/^mtu = 1500$/mtu = 1400/' "$ini"
printf '; edited by test_deb.sh\n' >>"$ini"
sum_edited=$(sha256sum <"$ini")
new_version=$version+upgradetest1
dpkg-deb -R "$deb" "$work/up"
sed -i "s/^Version: .*/Version: $new_version/" "$work/up/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/up" "$work/${pkg}_${new_version}_amd64.deb" >/dev/null
apt_get install "$work/${pkg}_${new_version}_amd64.deb" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "upgrade to $new_version failed"; }
assert_eq "upgraded to $new_version" "$new_version" "$(pkg_version)"
assert_eq "the edited conffile is kept" "$sum_edited" "$(sha256sum <"$ini")"
assert_eq "no .dpkg-dist or .dpkg-new beside it" "" \
    "$(find /etc/corehttpd -name '*.dpkg-*')"
assert_eq "the edited conffile passes -t" 0 \
    "$(/usr/sbin/corehttpd -t -c "$ini" >/dev/null 2>&1; echo $?)"

# ---------------------------------------------------------------- remove, purge
install -m 0640 -o root -g adm /dev/null /var/log/corehttpd/access.log
echo "a log line" >>/var/log/corehttpd/access.log
apt_get remove "$pkg" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get remove failed"; }
assert_eq "removed, configuration kept" "deinstall ok config-files" "$(pkg_status)"
assert_eq "after remove: /usr/sbin/corehttpd gone" "no" "$([ -e /usr/sbin/corehttpd ] && echo yes || echo no)"
assert_eq "after remove: the conffile and the logs are kept" "yes yes" \
    "$([ -f "$ini" ] && echo yes || echo no) $([ -f /var/log/corehttpd/access.log ] && echo yes || echo no)"

apt_get purge "$pkg" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get purge failed"; }
assert_eq "purged" "" "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -v 'not-installed' || true)"
left=""
while read -r p; do
    [ "$p" != "/." ] || continue
    if [ -e "$p" ] || [ -L "$p" ]; then
        dpkg -S "$p" >/dev/null 2>&1 || left="$left $p"
    fi
done <"$work/files"
assert_eq "every file of the package is gone ($(wc -l <"$work/files") paths; shared dirs stay)" "" "$left"
assert_eq "/etc/corehttpd, /var/log/corehttpd, /run/corehttpd and the welcome page are gone" \
    "no no no no" \
    "$(for p in /etc/corehttpd /var/log/corehttpd /run/corehttpd "$page"; do [ -e "$p" ] && echo yes || echo no; done | tr '\n' ' ' | sed 's/ $//')"
assert_eq "no path named *corehttpd* is left (systemd links and state, dpkg info)" \
    "$leftovers_before" "$(leftovers)"
assert_eq "/var/www is as it was before the install" "$www_before" "$(www_state)"

# ---------------------------------------------------------------- admin's page
# A file of the admin's under the welcome page's name is neither replaced
# on install nor removed on purge.
mkdir -p /var/www/html
printf '<p>the admin'"'"'s own page</p>\n' >"$page"
sum_admin=$(sha256sum <"$page")
apt_get install "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "reinstall failed"; }
assert_eq "install keeps a page already there" "$sum_admin" "$(sha256sum <"$page")"
apt_get purge "$pkg" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "purge failed"; }
assert_eq "purge keeps a page that is not the shipped one" "$sum_admin" "$(sha256sum <"$page" 2>&1)"
rm -f "$page"
[ -z "$created_www" ] || rmdir --ignore-fail-on-non-empty /var/www/html /var/www
assert_eq "/var/www is as it was" "$www_before" "$(www_state)"

lib_finish

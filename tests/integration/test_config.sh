#!/bin/bash
# The command line and the config check: `corehttpd -t -c FILE` exits 0 on a
# good file, and 1 on a bad one with "FILE:LINE: [section] key: reason" on
# stderr; --version and --help exit 0. Starts no server and no namespace.
. "$(dirname "$0")/lib.sh"
lib_init config "$@"
need_cmd timeout

cfg_write "" # the valid base config, $CFG

# check_cfg FILE: runs -t on FILE; sets RC and ERR (stderr).
check_cfg() {
    RC=0
    ERR=$(timeout 30 "$BIN" -t -c "$1" 2>&1 >/dev/null) || RC=$?
}

# variant NAME SECTION KEY VALUE: a copy of $CFG with "KEY = VALUE" in SECTION
# (replacing KEY's line if the section has it, else right after the header).
# Prints the path; LINE is set to the line number of KEY.
variant() {
    local f=$TMPD/$1.ini
    awk -v sec="[$2]" -v key="$3" -v line="$3 = $4" '
        FNR == NR { if (/^\[/) insec = ($0 == sec); else if (insec && $1 == key) has = 1; next }
        /^\[/ { insec = ($0 == sec) }
        insec && $1 == key { print line; next }
        { print }
        $0 == sec && !has { print line }
    ' "$CFG" "$CFG" >"$f"
    LINE=$(grep -n -F -x "$3 = $4" "$f" | head -n 1 | cut -d: -f1)
    VARIANT=$f
}

# expect_error WHAT FILE LINE SECTION KEY: -t must exit 1 and name them all.
expect_error() {
    check_cfg "$2"
    assert_eq "$1: -t exits 1" 1 "$RC"
    assert_contains "$1: stderr is '$2:$3: [$4] $5: <reason>'" "$2:$3: [$4] $5:" "$ERR"
    say "  stderr: $(printf '%s' "$ERR" | head -n 3)"
}

# ---- good files
check_cfg "$CFG"
assert_eq "valid config: -t exits 0" 0 "$RC"
[ "$RC" = 0 ] || say "  stderr: $ERR"
if [ -f "$ROOT/config/demo.ini" ]; then
    check_cfg "$ROOT/config/demo.ini"
    assert_eq "config/demo.ini: -t exits 0" 0 "$RC"
    [ "$RC" = 0 ] || say "  stderr: $ERR"
fi

# ---- unknown key
variant unknown-key http no_such_key 1
expect_error "unknown key" "$VARIANT" "$LINE" http no_such_key

# ---- unknown section (reported at its first key; some parsers give the
# header's line, which is as good)
f=$TMPD/unknown-section.ini
{ cat "$CFG"; printf '\n[no_such_section]\nsome_key = 1\n'; } >"$f"
sec_line=$(grep -n '^\[no_such_section\]$' "$f" | cut -d: -f1)
key_line=$((sec_line + 1))
check_cfg "$f"
assert_eq "unknown section: -t exits 1" 1 "$RC"
case $ERR in
*"$f:$key_line: [no_such_section]"* | *"$f:$sec_line: [no_such_section]"*)
    ok "unknown section: stderr names file, line $key_line (or $sec_line) and [no_such_section]" ;;
*) fail "unknown section: expected '$f:$key_line: [no_such_section] ...' on stderr, got '$ERR'" ;;
esac

# ---- bad values
n=0
while read -r sec key val; do
    n=$((n + 1))
    variant "bad-$n-$key" "$sec" "$key" "$val"
    expect_error "bad value [$sec] $key = $val" "$VARIANT" "$LINE" "$sec" "$key"
done <<'EOF_CASES'
net mtu 99999
net mtu 1500abc
net address 198.18.0.300/24
net gateway not-an-address
dpdk hugepages perhaps
dpdk memory_mb -5
http listen 70000
cores list zero
EOF_CASES

# ---- missing file
missing=$TMPD/does-not-exist.ini
check_cfg "$missing"
assert_eq "missing file: -t exits 1" 1 "$RC"
assert_contains "missing file: stderr names it" "$missing" "$ERR"

# ---- the command line
out=$(timeout 10 "$BIN" --version 2>&1) && RC=0 || RC=$?
assert_eq "--version exits 0" 0 "$RC"
version=$(sed -n 's/^project(corehttpd VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
assert_contains "--version prints corehttpd $version" "$version" "$out"
assert_contains "--version names corehttpd" corehttpd "$out"

out=$(timeout 10 "$BIN" --help 2>&1) && RC=0 || RC=$?
assert_eq "--help exits 0" 0 "$RC"
assert_contains "--help mentions -c" "-c" "$out"
assert_contains "--help mentions -t" "-t" "$out"

out=$(timeout 10 "$BIN" --no-such-option 2>&1) && RC=0 || RC=$?
assert_ne "an unknown option fails" 0 "$RC"

lib_finish

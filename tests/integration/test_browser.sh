#!/bin/bash
# The demo site in a real browser: Debian's chromium, headless, in the test
# namespace, loads http://198.18.0.2/ through corehttpd and saves a
# screenshot under the build folder (BUILD/test-artifacts/browser-demo.png);
# the access log must show the page, its stylesheet and its image fetched
# with 200 by Chromium's user agent, and the screenshot must be a PNG of
# the window's size.
. "$(dirname "$0")/lib.sh"
lib_init browser "$@"
need_cmd chromium
ALOG=$TMPD/access.log
cfg_write "access_log = $ALOG"
srv_start

ART=$(cd "$(dirname "$BIN")/.." && pwd)/test-artifacts
mkdir -p "$ART"
SHOT=$ART/browser-demo.png
rm -f "$SHOT"
mkdir -p "$TMPD/home" "$TMPD/chrome"
# A fresh profile; nothing that would phone home; no GPU, no sandbox (root).
set +e
HOME=$TMPD/home timeout 90 ip netns exec "$NS" chromium --headless --no-sandbox \
    --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-dev-shm-usage \
    --user-data-dir="$TMPD/chrome" --window-size=1280,900 \
    --screenshot="$SHOT" "http://$SRV_IP/" >"$TMPD/chrome.log" 2>&1
rc=$?
set -e
if [ "$rc" = 0 ]; then ok "chromium exited 0"; else fail "chromium exit $rc: $(tail -n 5 "$TMPD/chrome.log" | tr '\n' ' ')"; fi

dims=$("$PY" - "$SHOT" <<'PYEOF' 2>&1
import struct, sys
d = open(sys.argv[1], "rb").read(32)
assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", d[16:24])
print("%dx%d" % (w, h))
PYEOF
) || dims="unreadable: $dims"
assert_eq "screenshot $SHOT: a PNG of the window's size" 1280x900 "$dims"
assert_ge "screenshot: more than a blank page (bytes)" 20000 "$(stat -c %s "$SHOT" 2>/dev/null || echo 0)"

wait_until 5 "the image in the access log" grep -q '"GET /img/logo.png ' "$ALOG"
ua='"Mozilla/[^"]*(Chrome|HeadlessChrome)/[^"]*"$'
for p in / /style.css /img/logo.png; do
    line=$(grep -F "\"GET $p HTTP/1.1\"" "$ALOG" | grep -E "$ua" | tail -n 1)
    assert_match "access log: Chromium fetched $p with 200" " 200 [0-9]+ " "$line"
done
size=$(stat -c %s "$WWW/style.css")
assert_match "access log: the whole stylesheet was sent" "\"GET /style.css HTTP/1.1\" 200 $size " "$(cat "$ALOG")"
say "screenshot saved: $SHOT"
lib_finish

#!/bin/bash
# The access log and the error log over the wire: combined-format lines
# byte for byte (client address, request line, status, body bytes, referer,
# user agent) for 200, 206, 404, HEAD and a bad request; one line per
# response under ab (2000 requests); SIGUSR1 after a rename (logrotate)
# moves to a new file; SIGHUP to access_log_format = json gives JSON lines;
# the error log file holds the reload messages; the exit report counts the
# lines written and dropped.
. "$(dirname "$0")/lib.sh"
lib_init alog "$@"
need_cmd curl ab
ALOG=$TMPD/access.log
ELOG=$TMPD/error.log
cfg_write "access_log = $ALOG
error_log = $ELOG"
srv_start

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
lines_ge() { [ "$(lines "$1")" -ge "$2" ]; } # FILE N
re_date='\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\]'

# srv_start's readiness probe made one line already
base=$(lines "$ALOG")
size=$(stat -c %s "$WWW/index.html")
curl_ns -o /dev/null -e 'http://198.18.0.2/from' -A 'test-agent/1.0 "quoted"' "$(url '/index.html?q=1')"
curl_ns -o /dev/null -r 0-9 "$(url /style.css)"
curl_ns -o /dev/null "$(url /nope.html)" || true
curl_ns -o /dev/null --head "$(url /about.html)"
raw_http --send 'GARBAGE\r\n\r\n' >/dev/null
wait_until 5 "five more access log lines" lines_ge "$ALOG" $((base + 5))
tail -n 5 "$ALOG" >"$TMPD/five"
l() { sed -n "${1}p" "$TMPD/five"; }
assert_match "200 line" "^198\\.18\\.0\\.1 - - $re_date \"GET /index.html\\?q=1 HTTP/1\\.1\" 200 $size \"http://198\\.18\\.0\\.2/from\" \"test-agent/1\\.0 \\\\x22quoted\\\\x22\"\$" "$(l 1)"
assert_match "206 line: the range's bytes" "\"GET /style.css HTTP/1\\.1\" 206 10 \"-\" \"curl/" "$(l 2)"
assert_match "404 line" "\"GET /nope.html HTTP/1\\.1\" 404 [0-9]+ \"-\" \"curl/" "$(l 3)"
assert_match "HEAD line: 0 body bytes" "\"HEAD /about.html HTTP/1\\.1\" 200 0 " "$(l 4)"
assert_match "bad request line" "\"-\" 400 [0-9]+ \"-\" \"-\"\$" "$(l 5)"

# ---- one line per response under load
before=$(lines "$ALOG")
out=$(nsx ab -k -n 2000 -c 20 "$(url /style.css)" 2>&1) || true
done_n=$(printf '%s\n' "$out" | sed -n 's/^Complete requests: *//p')
assert_eq "ab: 2000 requests complete" 2000 "$done_n"
wait_until 5 "2000 more lines" lines_ge "$ALOG" $((before + 2000))
assert_eq "ab: exactly one line per request" 2000 "$(($(lines "$ALOG") - before))"
assert_eq "ab: every line a 200 for /style.css" 2000 "$(tail -n 2000 "$ALOG" | grep -c '"GET /style.css HTTP/1.0" 200 ')"

# ---- logrotate: rename, SIGUSR1, new lines in a new file
mv "$ALOG" "$ALOG.1"
kill -USR1 "$SRV_PID"
wait_until 5 "the reopened access log" test -f "$ALOG"
curl_ns -o /dev/null "$(url /after-rotate)" || true
wait_until 5 "a line in the new file" lines_ge "$ALOG" 1
assert_match "after SIGUSR1: the new file has the new line" '"GET /after-rotate HTTP/1.1" 404' "$(cat "$ALOG")"
assert_no_match "after SIGUSR1: the old file does not" 'after-rotate' "$(cat "$ALOG.1")"
assert_match "error log: the reopen" '\[info\] corehttpd: (SIGUSR1: reopening the logs|logs reopened)' "$(cat "$ELOG")"

# ---- SIGHUP to JSON
cfg_write "access_log = $ALOG
access_log_format = json
error_log = $ELOG"
kill -HUP "$SRV_PID"
wait_until 10 "the reload" grep -q 'reloaded' "$ELOG"
sleep 0.3
curl_ns -o /dev/null -A 'j' "$(url /index.html)"
wait_until 5 "a JSON line" grep -q '^{"time"' "$ALOG"
j=$(grep '^{"time"' "$ALOG" | tail -n 1)
assert_match "JSON line" '^\{"time":"[0-9T:Z-]+","remote_addr":"198\.18\.0\.1","method":"GET","uri":"/index\.html","protocol":"HTTP/1\.1","status":200,"bytes":'"$size"',"host":"198\.18\.0\.2","referer":"","user_agent":"j"\}$' "$j"
if printf '%s\n' "$j" | "$PY" -c 'import json,sys; json.loads(sys.stdin.read())'; then ok "JSON line parses"; else fail "JSON line does not parse: $j"; fi
assert_match "error log: the reload, with a level" '^[0-9/]+ [0-9:]+ \[info\] corehttpd: reloaded ' "$(grep reloaded "$ELOG")"

srv_stop
assert_match "exit report: lines written, none dropped" '^access log: [0-9]+ lines written, 0 dropped$' "$(grep '^access log:' "$LOG")"
total=$(($(lines "$ALOG") + $(lines "$ALOG.1")))
assert_eq "exit report: the count is the lines in the files" "$total" "$(sed -n 's/^access log: \([0-9]*\) lines.*/\1/p' "$LOG")"
lib_finish

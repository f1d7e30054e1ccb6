"""Opens connections and holds them, for tests/integration/test_exhaust.sh.

Usage: holdconns.py HOST PORT N [SOURCE-IP]

Opens N TCP connections to HOST:PORT (from SOURCE-IP when given), sending
nothing, then waits 1 s and sorts them: held (still open, silent) or
refused (reset, or closed by the server, or the connect failed). Then,
with all of them still held, one more connection must be refused within
2 s (no hang). Then it closes the held ones and at once fetches / on a new
connection. Prints key=value lines:

    held=N refused=N connect_failed=N connect_errors=NAMES
    extra=refused|held|timeout  extra_ms=...
    after=STATUS after_ms=...   (the fetch once the held ones are closed)
"""

import select
import socket
import sys
import time


def connect(host, port, src, timeout=3):
    s = socket.socket()
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def closed(s):
    """True when the server reset or closed @p s."""
    try:
        return s.recv(1) == b""
    except OSError:
        return True


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    src = sys.argv[4] if len(sys.argv) > 4 else None
    socks, failed, errors = [], 0, set()
    for _ in range(n):
        try:
            socks.append(connect(host, port, src))
        except OSError as e:
            failed += 1
            errors.add(type(e).__name__)
    time.sleep(1)
    readable = select.select(socks, [], [], 0)[0] if socks else []
    refused = [s for s in readable if closed(s)]
    held = [s for s in socks if s not in refused]
    print(f"held={len(held)}")
    print(f"refused={len(refused)}")
    print(f"connect_failed={failed}")
    print(f"connect_errors={','.join(sorted(errors))}")

    t0 = time.monotonic()
    try:
        s = connect(host, port, src)
        r = select.select([s], [], [], 2)[0]
        extra = "refused" if r and closed(s) else "held"
        s.close()
    except OSError:
        extra = "refused"
    print(f"extra={extra}")
    print(f"extra_ms={int((time.monotonic() - t0) * 1000)}")

    for s in socks:
        s.close()
    # The server frees a socket once its side of the close is acknowledged,
    # a round trip after ours: a client that comes in between may still be
    # refused. "At once" is judged by after_ms; retry until 1 s has passed.
    t0 = time.monotonic()
    status = "none"
    while True:
        try:
            s = connect(host, port, None)
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            status = s.recv(64).split(b" ")[1].decode()
            s.close()
        except (OSError, IndexError) as e:
            status = f"error:{e}"
        if status == "200" or time.monotonic() - t0 > 1:
            break
        time.sleep(0.01)
    print(f"after={status}")
    print(f"after_ms={int((time.monotonic() - t0) * 1000)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

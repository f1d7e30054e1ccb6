"""A raw HTTP/1.x client for the integration tests, for what curl will not do:
garbage, requests split into tiny pieces, pipelining, HEAD followed by more
requests on the same connection.

It opens one TCP connection, sends the request bytes (optionally in pieces
with a delay between them), reads the responses and prints what it saw as
key=value lines that lib.sh's raw_get reads:

    count=2                     responses parsed
    r1.status=200               status code of response 1
    r1.version=HTTP/1.1
    r1.h.content-length=1234    each header, name lower-cased
    r1.body_len=1234
    r1.body_sha256=...
    closed=1                    the server closed the connection after them
    trailing=0                  bytes received after the last full response
    error=...                   only when something went wrong (timeout, ...)

It exits 0 whenever it could connect, whatever the server answered: the
shell test decides what is right. Run it with Debian's /usr/bin/python3.
"""

import argparse
import codecs
import hashlib
import socket
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--send", required=True,
                   help="request bytes, with \\r \\n \\xNN escapes")
    p.add_argument("--repeat-url", type=int, default=0, metavar="N",
                   help="replace the token LONGURL in --send by N 'a's")
    p.add_argument("--pad-header", type=int, default=0, metavar="N",
                   help="replace the token PADHDR by an X-Pad header of N bytes")
    p.add_argument("--chunk", type=int, default=0,
                   help="send in pieces of this many bytes (0: one write)")
    p.add_argument("--delay", type=float, default=0.0,
                   help="seconds between pieces")
    p.add_argument("--methods", default="",
                   help="comma list, the method of each expected response in "
                        "order (HEAD responses have no body); default GET")
    p.add_argument("--responses", type=int, default=1,
                   help="how many responses to read")
    p.add_argument("--close-wait", type=float, default=1.0,
                   help="seconds to wait for the server to close afterwards")
    p.add_argument("--timeout", type=float, default=5.0)
    return p.parse_args()


class Reader:
    """Buffered reads from the socket with a deadline per call."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def fill(self):
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def until(self, sep):
        while sep not in self.buf:
            if not self.fill():
                return None
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self):
        while self.fill():
            pass
        out, self.buf = self.buf, b""
        return out


def read_response(rd, method, idx, out):
    """Parses one response; returns False when none could be read."""
    head = rd.until(b"\r\n\r\n")
    if head is None:
        if rd.buf:
            out.append("error=partial response %d: %r" % (idx, rd.buf[:200]))
        return False
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        out.append("error=bad status line %d: %r" % (idx, lines[0][:200]))
        return False
    status = int(parts[1])
    out.append("r%d.version=%s" % (idx, parts[0]))
    out.append("r%d.status=%d" % (idx, status))
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = value
        out.append("r%d.h.%s=%s" % (idx, name, value))

    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size_line = rd.until(b"\r\n")
            if size_line is None:
                out.append("error=truncated chunked body %d" % idx)
                return False
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                rd.until(b"\r\n")
                break
            chunk = rd.exactly(size + 2)
            if chunk is None:
                out.append("error=truncated chunked body %d" % idx)
                return False
            body += chunk[:-2]
    elif "content-length" in headers:
        n = int(headers["content-length"])
        body = rd.exactly(n)
        if body is None:
            got = len(rd.buf)
            out.append("error=truncated body %d: %d of %d bytes" % (idx, got, n))
            return False
    else:
        body = rd.rest()
    out.append("r%d.body_len=%d" % (idx, len(body)))
    out.append("r%d.body_sha256=%s" % (idx, hashlib.sha256(body).hexdigest()))
    return True


def main():
    a = parse_args()
    text = a.send.replace("LONGURL", "a" * a.repeat_url)
    text = text.replace("PADHDR", "X-Pad: " + "p" * a.pad_header + "\\r\\n")
    data = codecs.escape_decode(text.encode("latin-1"))[0]
    methods = [m for m in a.methods.split(",") if m]
    methods += ["GET"] * (a.responses - len(methods))

    sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = []
    rd = Reader(sock)
    try:
        if a.chunk > 0:
            for i in range(0, len(data), a.chunk):
                sock.sendall(data[i:i + a.chunk])
                if a.delay:
                    time.sleep(a.delay)
        else:
            sock.sendall(data)
    except OSError as e:
        # The server may answer and close before it has read everything
        # (a 4xx for a bad request); the responses below still count.
        out.append("send_error=%s" % e)

    count = 0
    try:
        for i in range(a.responses):
            if not read_response(rd, methods[i], i + 1, out):
                break
            count += 1
        sock.settimeout(a.close_wait)
        try:
            trailing = rd.rest()
            out.append("closed=1")
        except socket.timeout:
            trailing = rd.buf
            out.append("closed=0")
        out.append("trailing=%d" % len(trailing))
        if trailing:
            out.append("trailing_start=%r" % trailing[:80])
    except socket.timeout:
        out.append("error=timeout after %d responses" % count)
    except OSError as e:
        out.append("error=%s" % e)
    finally:
        sock.close()
    out.insert(0, "count=%d" % count)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

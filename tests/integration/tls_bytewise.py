#!/usr/bin/python3
"""A TLS client that sends every byte it writes in a TCP segment of its own:
the handshake and then a request, split at every byte (Python's ssl with a
MemoryBIO over a plain socket with TCP_NODELAY, a pause after each byte).

Usage: tls_bytewise.py HOST PORT SERVERNAME CAFILE PATH
Prints key=value lines: version=, status=, body_bytes=, segments= (the
bytes sent one at a time); exits 1 on any failure.
"""
import socket
import ssl
import sys
import time


def main():
    host, port, name, cafile, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=name)
    sock = socket.create_connection((host, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    segments = 0

    def flush():
        nonlocal segments
        data = out.read()
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
            segments += 1
            time.sleep(0.0005)

    def fill():
        data = sock.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        inc.write(data)

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush()
            fill()
    flush()
    req = "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, name)
    tls.write(req.encode())
    flush()
    resp = b""
    while True:
        try:
            chunk = tls.read(65536)
            if not chunk:
                break
            resp += chunk
        except ssl.SSLWantReadError:
            try:
                fill()
            except EOFError:
                break
        except ssl.SSLZeroReturnError:
            break
    head, _, body = resp.partition(b"\r\n\r\n")
    print("version=%s" % tls.version())
    print("status=%s" % head.split(b" ")[1].decode() if head else "status=")
    print("body_bytes=%d" % len(body))
    print("segments=%d" % segments)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # reported as a line the test shows
        print("error=%s" % e)
        sys.exit(1)

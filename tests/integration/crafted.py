"""Crafted frames against corehttpd, for tests/integration/test_crafted.sh.

Usage: crafted.py IFACE SERVER-MAC SERVER-IP CLIENT-IP CLIENT-PORT

Run inside the test's namespace with Debian's /usr/bin/python3 (scapy). It
watches one frame each way of a live connection (the kernel's download from
SERVER-IP:80 to CLIENT-IP:CLIENT-PORT) to learn its sequence numbers, then
writes damaged and hostile frames to IFACE (the TAP's kernel side), each
aimed at one drop reason of the stack (those on the connection first), and
prints how many it sent per reason as key=value lines, and alive_after=1
when the server still sent on the connection after the last of them:

    bad_ip, bad_checksum, bad_tcp, bad_tcp_options, fragment:
        malformed frames: truncated headers, bad lengths, bad checksums,
        option lists that loop or run past the header, IP fragments;
    out_of_window: segments of the live connection outside the server's
        receive window (guessed sequence numbers: RST, SYN and data),
        and old data overlapping what it has already taken;
    challenge: segments the server must answer with a challenge ACK and
        drop (RFC 5961): a RST and a SYN inside the window but not at its
        edge, data whose ACK is far below what the server has sent.

None of them may reset the connection or add a byte to its stream: the
download must end byte-exact.
"""

import random
import socket
import struct
import sys

from scapy.all import IP, TCP, Ether, Raw, conf, sniff
from scapy.utils import checksum

conf.verb = 0

FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}


def tcp(src, dst, sport, dport, flags, seq=0, ack=0, opts=b"", data=b"",
        doff=None, csum=None, win=65535):
    """TCP header and payload as bytes: the checksum right unless csum is
    given, the data offset that of the options unless doff is given."""
    fl = sum(FLAGS[c] for c in flags)
    if doff is None:
        doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq % 2**32, ack % 2**32,
                      doff << 4, fl, win, 0, 0) + opts
    if csum is None:
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
            "!BBH", 0, 6, len(hdr) + len(data))
        csum = checksum(pseudo + hdr + data)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:] + data


def main():
    iface, smac, sip, cip, cport = sys.argv[1:6]
    cport = int(cport)
    rng = random.Random(11)

    # the live connection's sequence numbers: the client's next (the
    # server's rcv_nxt) and the server's latest
    c2s = sniff(iface=iface, count=1, timeout=5,
                lfilter=lambda p: TCP in p and p[IP].src == cip and p[TCP].sport == cport)
    s2c = sniff(iface=iface, count=1, timeout=5,
                lfilter=lambda p: TCP in p and p[IP].src == sip and p[TCP].dport == cport)
    if not c2s or not s2c:
        print(f"error=no frames of the live connection seen ({len(c2s)} from the "
              f"client, {len(s2c)} from the server)")
        return 1
    rcv_nxt = c2s[0][TCP].seq
    srv_seq = s2c[0][TCP].seq
    print(f"rcv_nxt={rcv_nxt}")
    print(f"srv_seq={srv_seq}")

    eth = Ether(dst=smac, type=0x0800)
    sent = {}
    sock = conf.L2socket(iface=iface)

    def send(reason, frames):
        for f in frames:
            sock.send(f)
        sent[reason] = sent.get(reason, 0) + len(frames)

    def ip(payload, **kw):
        return eth / IP(src=cip, dst=sip, proto=6, **kw) / Raw(payload)

    def new_syn(sport, **kw):
        return tcp(cip, sip, sport, 80, "S", seq=1, **kw)

    syn_ip = bytes(IP(src=cip, dst=sip, proto=6) / Raw(new_syn(41000)))

    # ---- the live connection, blind: guessed sequence numbers
    def seg(flags, seq, ack, data=b""):
        return ip(tcp(cip, sip, cport, 80, flags, seq=seq, ack=ack, data=data))

    far = [rcv_nxt + 1000000 + rng.randrange(2**30) for _ in range(3)]
    send("out_of_window", [
        seg("R", far[0], 0),                             # RST, guessed
        seg("S", far[1], 0),                             # SYN, guessed
        seg("PA", far[2], srv_seq, b"GET /evil HTTP/1.1\r\n\r\n"),  # data, guessed
        seg("PA", rcv_nxt - 200, srv_seq, b"A" * 100),   # old data, overlapping
        seg("A", rcv_nxt + 70000, srv_seq, b"B" * 100),  # past the window
    ])
    send("challenge", [
        seg("R", rcv_nxt + 100, 0),                      # RST in the window, not exact
        seg("S", rcv_nxt + 100, 0),                      # SYN in the window
        # ACK far below snd_una: a quarter of the sequence space, not half, so
        # that it still reads as below (and not as ahead of snd_nxt) once the
        # server has sent a window or more past srv_seq
        seg("PA", rcv_nxt, srv_seq - 2**30, b"C" * 10),
    ])
    # ---- IP
    send("bad_ip", [
        eth / Raw(syn_ip[:12]),                          # a truncated header
        eth / Raw(syn_ip[:2] + struct.pack("!H", 400) + syn_ip[4:10] + b"\0\0" +
                  syn_ip[12:]),                         # total length past the frame
        eth / Raw(bytes([0x65]) + syn_ip[1:]),           # version 6
        eth / Raw(bytes([0x44]) + syn_ip[1:]),           # IHL 4: 16 bytes
    ])
    send("bad_checksum", [ip(new_syn(41001), chksum=0x1234)])
    send("fragment", [
        ip(new_syn(41002), flags="MF"),                  # a first fragment
        ip(b"x" * 16, frag=8),                           # a later one
    ])

    # ---- TCP headers
    send("bad_tcp", [
        ip(new_syn(41003)[:10]),                         # a truncated header
        ip(new_syn(41004, doff=3)),                      # data offset under 5
        ip(new_syn(41005, doff=15)),                     # data offset past the segment
    ])
    send("bad_checksum", [ip(new_syn(41006, csum=0xbeef))])
    send("bad_tcp_options", [
        ip(new_syn(41007, opts=b"\x08\x00\x01\x01")),     # length 0: a parser loops
        ip(new_syn(41008, opts=b"\x02\x09\x05\xb4")),     # a length past the header
        ip(new_syn(41009, opts=b"\x01\x01\x01\x03")),     # a kind with no length byte
        # the same on the live connection
        ip(tcp(cip, sip, cport, 80, "A", seq=rcv_nxt, ack=srv_seq,
               opts=b"\x01\x05\x00\x00")),
    ])

    # the connection still moves: a frame of it from the server after all
    after = sniff(iface=iface, count=1, timeout=3,
                  lfilter=lambda p: TCP in p and p[IP].src == sip and p[TCP].dport == cport)
    print(f"alive_after={len(after)}")
    sock.close()
    for k, v in sorted(sent.items()):
        print(f"{k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

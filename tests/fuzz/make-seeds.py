#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/corpus/<harness>/ from the project's
own tests (run from anywhere; the output is committed, rerun after the tests
change):

  fuzz_stack      the inbound segments of every tests/tcpstack/scripts/*.pkt,
                  as records of fuzz_stack.c (all fix-ups on, relative to a
                  connection of the set-up, twice: one picked by the script's
                  index, and the established one with data in flight; the
                  script's time steps and application calls mapped to the
                  record's act byte), plus an ARP request, an ICMP echo
                  and bursts of data segments
  fuzz_http       the requests of tests/server/test_http.c and
                  tests/integration/test_badrequests.sh (C and shell string
                  literals holding "HTTP/"), each behind two settings headers
  fuzz_config     config/*.ini and the ini texts of tests/server/test_config.c
  fuzz_pktscript  tests/tcpstack/scripts/*.pkt as they are
"""
import glob
import hashlib
import os
import re
import shutil
import struct
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "fuzz", "corpus")

STEPS_US = [0, 1000, 10000, 40000, 200000, 1000000, 5000000, 60000000]
APP_OPS = {"read": 1, "write": 2, "write_ref": 3, "shutdown": 4, "close": 5,
           "accept": 6, "connect": 7}
FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, ".": 0x10, "U": 0x20,
         "E": 0x40, "W": 0x80}


def save(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if not name:
        name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def tcp_options(text):
    out = b""
    for o in [x.strip() for x in text.split(",") if x.strip()]:
        w = o.split()
        if w[0] == "nop":
            out += b"\x01"
        elif w[0] == "eol":
            out += b"\x00"
        elif w[0] == "mss":
            out += struct.pack("!BBH", 2, 4, int(w[1], 0))
        elif w[0] == "wscale":
            out += struct.pack("!BBB", 3, 3, int(w[1], 0) & 0xff)
        elif w[0] == "sackOK":
            out += b"\x04\x02"
        elif w[0] == "TS":
            val = 0 if w[2] == "*" else int(w[2], 0)
            ecr = 0 if w[4] == "*" else int(w[4], 0)
            out += struct.pack("!BBII", 8, 10, val & 0xffffffff, ecr & 0xffffffff)
        elif w[0] == "sack":
            blocks = [b.split(":") for b in w[1:]]
            out += struct.pack("!BB", 5, 2 + 8 * len(blocks))
            for a, b in blocks:
                out += struct.pack("!II", (int(a) - 1) & 0xffffffff, (int(b) - 1) & 0xffffffff)
    while len(out) % 4:
        out += b"\x01"
    return out[:40]


SEG = re.compile(r"^(\S+)\s+<\s+(\S+)\s+(-?\d+):(-?\d+)\((\d+)\)(?:\s+ack\s+(-?\d+))?"
                 r"(?:\s+win\s+(\d+))?(?:\s*<(.*)>)?")


def frame(flags, seq, ack, win, opts, length):
    """Ethernet + IPv4 + TCP; the harness fixes addresses, lengths, ports
    and checksums."""
    length = min(length, 1400)
    tcp = struct.pack("!HHIIBBHHH", 0, 0, seq & 0xffffffff, ack & 0xffffffff,
                      ((20 + len(opts)) // 4) << 4, flags, win, 0, 0) + opts
    payload = bytes((0x41 + i % 26) for i in range(length))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + length, 0, 0x4000, 64, 6,
                     0, bytes(4), bytes(4))
    eth = bytes(6) + bytes(6) + b"\x08\x00"
    return eth + ip + tcp + payload


def time_us(tok, prev):
    rel = tok.startswith("+")
    v = float(tok[1:] if rel else tok)
    t = int(round(v * 1e6))
    return (prev + t) if rel else t


def step_of(dt):
    best = 0
    for i, s in enumerate(STEPS_US):
        if s <= dt:
            best = i
    return best


def stack_seed(name, text, conn):
    """One script's inbound segments as records for connection @conn."""
    lines = [l.split("//")[0].strip() for l in text.splitlines()]
    lines = [l for l in lines if l and not l.startswith(("#", "%"))]
    recs = []
    prev_t = 0
    for i, l in enumerate(lines):
        t = time_us(l.split()[0], prev_t)
        m = SEG.match(l)
        if m:
            flags = 0
            for c in m.group(2):
                flags |= FLAGS.get(c, 0)
            seq = int(m.group(3)) - 1
            ack = int(m.group(6)) - 1 if m.group(6) else 0
            win = int(m.group(7) or 65535)
            opts = tcp_options(m.group(8) or "")
            f = frame(flags, seq, ack, win, opts, int(m.group(5)))
            # the time to the next line, and an application call there
            act = 0
            if i + 1 < len(lines):
                w = lines[i + 1].split()
                act = step_of(max(0, time_us(w[0], t) - t))
                if len(w) > 1 and w[1] in APP_OPS:
                    act |= APP_OPS[w[1]] << 3
            ctl = 0x0f | (conn << 4)
            recs.append(struct.pack("!BBH", ctl, act, len(f)) + f)
        prev_t = t
    if recs:
        save("fuzz_stack", name, b"".join(recs[:64]))


def stack_seeds():
    scripts = sorted(glob.glob(os.path.join(REPO, "tests", "tcpstack", "scripts", "*.pkt")))
    for n, path in enumerate(scripts):
        text = open(path).read()
        name = os.path.basename(path)[:-4]
        # once on a connection of the set-up picked by its index, once on the
        # established one with data in flight and the same options (0 with
        # timestamps, 1 with SACK only)
        stack_seed(name, text, n % 14)
        ts = "TS val" in text
        stack_seed(name + (".c0" if ts else ".c1"), text, 0 if ts else 1)
    # a SYN flood from 8 ports of connection 15's spread: past the backlog
    recs = b""
    for port in range(1, 9):
        f = bytearray(frame(0x02, 0, 0, 65535, tcp_options("mss 1460,sackOK,nop,nop"), 0))
        struct.pack_into("!H", f, 34, port)  # the spread takes the low byte
        recs += struct.pack("!BBH", 0x0f | (15 << 4), 0, len(f)) + bytes(f)
    save("fuzz_stack", "syn_flood", recs)
    # data segments of the established connection 1 in one burst (act bit 7:
    # wait for the next record), in order and beyond a gap: runs that the
    # stack coalesces, taken whole or segment by segment
    for name, seqs in (("data_burst", range(0, 8000, 1000)),
                       ("data_burst_gap", [1000, 2000, 3000, 0, 4000])):
        recs = b""
        for k, seq in enumerate(seqs):
            f = frame(0x10, seq, 0, 65535, b"", 1000)
            act = 0x80 if k + 1 < len(seqs) else 0
            recs += struct.pack("!BBH", 0x0f | (1 << 4), act, len(f)) + f
        save("fuzz_stack", name, recs)
    arp = (b"\xff" * 6 + bytes(6) + b"\x08\x06" +
           struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\x00\x00\x00\x00\x01",
                       bytes([198, 18, 0, 1]), bytes(6), bytes([198, 18, 0, 2])))
    save("fuzz_stack", "arp_request", struct.pack("!BBH", 0, 0, len(arp)) + arp)
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0, bytes(4),
                     bytes(4))
    echo = bytes(12) + b"\x08\x00" + ip + icmp
    save("fuzz_stack", "icmp_echo", struct.pack("!BBH", 0x05, 0, len(echo)) + echo)


def c_literals(text):
    """Adjacent C string literals joined, unescaped."""
    out = []
    for m in re.finditer(r'((?:"(?:[^"\\\n]|\\.)*"\s*)+)', text):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(1))
        s = "".join(parts)
        try:
            out.append(s.encode("latin-1").decode("unicode_escape").encode("latin-1"))
        except (UnicodeDecodeError, UnicodeEncodeError):
            pass
    return out


def http_seeds():
    reqs = set()
    for p in ["tests/server/test_http.c"]:
        for s in c_literals(open(os.path.join(REPO, p), encoding="latin-1").read()):
            if b"HTTP/" in s and b"\r\n" in s and not s.startswith(b"HTTP/"):
                reqs.add(s)
    for p in ["tests/integration/test_badrequests.sh", "tests/integration/rawhttp.py"]:
        path = os.path.join(REPO, p)
        if not os.path.exists(path):
            continue
        for m in re.finditer(r"(?:\$'|b?')((?:[^'\\\n]|\\.)*HTTP/(?:[^'\\\n]|\\.)*)'",
                             open(path, encoding="latin-1").read()):
            s = m.group(1).encode("latin-1").decode("unicode_escape").encode("latin-1")
            if b"\r\n" in s or b"\\r" not in m.group(1).encode():
                reqs.add(s)
    for i, r in enumerate(sorted(reqs)):
        # keep-alive, no request limit, default max; and a small max, 1 request
        save("fuzz_http", "", b"\x01\x05\x00\x01" + r)
        if i % 4 == 0:
            save("fuzz_http", "", b"\x0b\x03\x17\x01" + r)
    save("fuzz_http", "pipeline", b"\x01\x07\x00\x01" +
         b"GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /a.txt HTTP/1.1\r\nHost: a\r\n\r\n"
         b"GET /docs HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n\r\n")


def config_seeds():
    for p in glob.glob(os.path.join(REPO, "config", "*.ini")):
        shutil.copy(p, os.path.join(OUT, "fuzz_config", os.path.basename(p)))
    text = open(os.path.join(REPO, "tests", "server", "test_config.c"), encoding="latin-1").read()
    for s in c_literals(text):
        if b"[" in s and b"=" in s:
            save("fuzz_config", "", s)


def pktscript_seeds():
    for p in glob.glob(os.path.join(REPO, "tests", "tcpstack", "scripts", "*.pkt")):
        shutil.copy(p, os.path.join(OUT, "fuzz_pktscript", os.path.basename(p)))


def main():
    for h in ["fuzz_stack", "fuzz_http", "fuzz_config", "fuzz_pktscript"]:
        shutil.rmtree(os.path.join(OUT, h), ignore_errors=True)
        os.makedirs(os.path.join(OUT, h))
    stack_seeds()
    http_seeds()
    config_seeds()
    pktscript_seeds()
    for h in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, h))
        size = sum(os.path.getsize(os.path.join(OUT, h, f)) for f in files)
        print(f"{h}: {len(files)} files, {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

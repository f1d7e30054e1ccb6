#!/bin/bash
# Generates the demo site's large files, which are not kept in git:
#   www/files/big.bin        10 MiB
#   www/files/edge/N.bin     files of sizes N on the server's edges
# The bytes come from Python's random.Random seeded with a fixed number, so
# every machine gets the same files. A file already there with the right
# size is kept; running this again is cheap.
#
# Usage: packaging/gen-site-data.sh [SITE_ROOT]   (default: <repo>/www)
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
site=${1:-$repo/www}
py=/usr/bin/python3

if [ ! -x "$py" ]; then
    echo "gen-site-data.sh: $py not found (install the python3 package)" >&2
    exit 1
fi
if [ ! -d "$site" ]; then
    echo "gen-site-data.sh: $site is not a directory" >&2
    exit 1
fi

"$py" - "$site" <<'PY'
import os
import random
import sys

site = sys.argv[1]

# name -> (size, seed). Sizes: empty, one byte, one TCP segment (MSS 1460 at
# MTU 1500) and its neighbours, the 64 KiB mbuf buf_len limit and its
# neighbours, and two mbuf chains' worth.
files = {"files/big.bin": (10 * 1024 * 1024, 2026)}
for n in (0, 1, 1459, 1460, 1461, 2920, 65535, 65536, 65537, 131073):
    files["files/edge/%d.bin" % n] = (n, 2026 + n)

for rel, (size, seed) in sorted(files.items()):
    path = os.path.join(site, rel)
    if os.path.isfile(path) and os.path.getsize(path) == size:
        continue
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(random.Random(seed).randbytes(size))
    os.replace(tmp, path)
    print("gen-site-data.sh: wrote %s (%d bytes)" % (rel, size))
PY

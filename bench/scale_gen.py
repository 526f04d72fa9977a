#!/usr/bin/env python3
"""Generates a metadata-heavy array for bench/scale_bench.sh.

Usage: scale_gen.py FILES DISK_DIR... [--seed N]

Writes FILES small files spread round-robin over the DISK_DIRs, 1000 per
directory (DISK/dNNNN/fNNNNNNN.bin), each 0..4096 bytes of random data, with
a fixed mtime, deterministic for a given seed. Prints nothing but a summary
line: files, bytes.
"""
import os
import random
import sys


def main(argv):
    seed = 20240601
    args = []
    i = 1
    while i < len(argv):
        if argv[i] == "--seed":
            seed = int(argv[i + 1])
            i += 2
            continue
        args.append(argv[i])
        i += 1
    if len(args) < 2:
        sys.exit("usage: scale_gen.py FILES DISK_DIR... [--seed N]")
    files = int(args[0])
    disks = args[1:]
    rng = random.Random(seed)
    # One pool of random bytes, sliced at random offsets: generating 4 KiB of
    # fresh randomness per file would dominate the run.
    pool = rng.randbytes(1 << 20)
    mtime_ns = 1717200000 * 10**9 + 123456789
    total = 0
    made_dirs = set()
    for n in range(files):
        disk = disks[n % len(disks)]
        k = n // len(disks)
        d = os.path.join(disk, f"d{k // 1000:04d}")
        if d not in made_dirs:
            os.makedirs(d, exist_ok=True)
            made_dirs.add(d)
        size = rng.randrange(0, 4097)
        off = rng.randrange(0, len(pool) - 4096)
        path = os.path.join(d, f"f{n:07d}.bin")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        if size:
            # Distinct content per file: the file number in the first bytes.
            data = (n.to_bytes(8, "little") + pool[off:off + size])[:size]
            os.write(fd, data)
        os.close(fd)
        os.utime(path, ns=(mtime_ns, mtime_ns))
        total += size
    print(f"{files} files, {total} bytes")


if __name__ == "__main__":
    main(sys.argv)

#!/usr/bin/env python3
"""Counts case-folded 3-byte grams (at even offsets, as the prefilter scans) in a sample of a
corpus and prints the most frequent ones: `count<TAB>gram in hex`, most frequent first.

The matcher's literal prefilter uses the list to index the rarest grams of each rule literal
(crates/keyhound-engine/src/common_grams.txt). Regenerate it from a corpus of real code and text
(the checked-in table counts the whole 1.2 GB corpus of bench/build-corpus.sh):

    bench/gram-frequency.py /work/bench-data/corpus --bytes 2000000000 --top 4096 \
        > crates/keyhound-engine/src/common_grams.txt
"""
import argparse
import collections
import os
import random
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--bytes", type=int, default=200_000_000, help="sample size")
    ap.add_argument("--top", type=int, default=4096)
    args = ap.parse_args()
    files = []
    for d, _dirs, names in os.walk(args.root):
        for n in names:
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append(p)
    files.sort()
    random.Random(1).shuffle(files)
    counts = collections.Counter()
    total = 0
    for p in files:
        try:
            with open(p, "rb") as f:
                data = f.read(4 << 20)
        except OSError:
            continue
        low = data.lower()
        total += len(low)
        counts.update(low[i:i + 3] for i in range(0, len(low) - 2, 2))
        if total >= args.bytes:
            break
    top = sorted(counts.items(), key=lambda x: (-x[1], x[0]))[: args.top]
    print(f"# {len(top)} most frequent case-folded 3-grams in {total} bytes of {args.root}", file=sys.stderr)
    for g, c in top:
        sys.stdout.write(f"{c}\t{g.hex()}\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""False-positive report: findings per GiB of a corpus by rule and by confidence level.

Scans nothing itself: give it the JSONL report of `keyhound scan --format jsonl --show-secrets`
over the corpus, the corpus's planted ground truth (bench/build-corpus.sh), and
`keyhound rules list --format json`. Planted credentials are left out (they are the recall
benchmark, not false positives); every other location counts. Generic rules (`generic: true`)
are reported separately. With --sample N it also prints N locations per confidence level,
picked at random (seeded), with the line they are on, for a hand audit.

usage: bench/fp_report.py --findings F.jsonl --truth truth.jsonl --rules rules.json \\
           --corpus DIR [--sample 10] [--markdown]
"""
import argparse
import collections
import json
import os
import random


def corpus_bytes(root):
    total = 0
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.isfile(p) and not os.path.islink(p):
                total += os.lstat(p).st_size
    return total


def line_of(path, line):
    try:
        with open(path, "rb") as f:
            for i, text in enumerate(f, 1):
                if i == line:
                    return text.decode("utf-8", "replace").rstrip("\n")[:300]
    except OSError:
        pass
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()

    rules = {r["id"]: r for r in json.load(open(args.rules))}
    prefix = args.corpus.rstrip("/") + "/"
    truth = set()
    for t in map(json.loads, open(args.truth)):
        truth.add((t["path"], t["line"], t["secret"]))
    gib = corpus_bytes(args.corpus) / 2**30

    locs = []  # (rule, confidence, generic, path, line, secret)
    planted = 0
    for f in map(json.loads, open(args.findings)):
        rule = rules.get(f["rule_id"], {})
        for loc in f["locations"]:
            rel = loc["path"][len(prefix):] if loc["path"].startswith(prefix) else loc["path"]
            if (rel, loc["line"], f.get("secret", "")) in truth:
                planted += 1
                continue
            locs.append((f["rule_id"], f["confidence"], bool(rule.get("generic")), loc["path"],
                         loc["line"], f.get("secret", "")))

    print(f"corpus: {gib:.3f} GiB; planted locations found and left out: {planted}; "
          f"other locations: {len(locs)}\n")
    for generic in (False, True):
        part = [l for l in locs if l[2] == generic]
        title = "generic rules" if generic else "specific rules"
        print(f"### {title}: {len(part)} locations, {len(part) / gib:.1f} per GiB\n")
        print("| confidence | locations | per GiB | distinct secrets |")
        print("|---|---|---|---|")
        for conf in ("high", "medium", "low"):
            c = [l for l in part if l[1] == conf]
            print(f"| {conf} | {len(c)} | {len(c) / gib:.1f} | {len({l[5] for l in c})} |")
        print()
        print("| rule | confidence | locations | per GiB |")
        print("|---|---|---|---|")
        by_rule = collections.Counter((l[0], l[1]) for l in part)
        for (rule, conf), n in sorted(by_rule.items(), key=lambda x: (-x[1], x[0])):
            print(f"| `{rule}` | {conf} | {n} | {n / gib:.1f} |")
        print()

    if args.sample:
        rng = random.Random(args.seed)
        for generic in (False, True):
            for conf in ("high", "medium", "low"):
                c = [l for l in locs if l[2] == generic and l[1] == conf]
                pick = c if len(c) <= args.sample else rng.sample(c, args.sample)
                if not pick:
                    continue
                print(f"#### sample: {'generic' if generic else 'specific'} {conf} "
                      f"({len(pick)} of {len(c)})")
                for rule, _conf, _g, path, line, secret in sorted(pick):
                    print(f"- {rule} {path[len(prefix):]}:{line}\n    secret: {secret[:80]!r}\n"
                          f"    line:   {line_of(path, line)!r}")
                print()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Recall of the built-in rules on the generated recall corpus.

Builds the corpus with keyhound-recall (fake credentials for every built-in rule in .env,
code, config, JSON, YAML and XML files, see crates/keyhound-testkit/src/recall.rs), scans it
with keyhound and compares the findings with the ground truth:

- strict: a finding of the expected rule at the expected path and line with the same secret;
- family: the same, by any rule of the same provider family (keyhound.<family>.<n>).

Usage: bench/recall.py [--keyhound PATH] [--recall PATH] [--work DIR] [--seed N]
Prints the figures and every miss (rule, context, path, line; never the secret).
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys


def family(rule_id):
    rest = rule_id[len("keyhound."):] if rule_id.startswith("keyhound.") else rule_id
    return rest.rsplit(".", 1)[0]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(here), "target"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--keyhound", default=os.path.join(target, "release", "keyhound"))
    ap.add_argument("--recall", default=os.path.join(target, "release", "keyhound-recall"))
    ap.add_argument("--work", default="/tmp/keyhound-recall")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    args.keyhound = os.path.abspath(args.keyhound)
    args.recall = os.path.abspath(args.recall)

    corpus = os.path.join(args.work, "corpus")
    truth_path = os.path.join(args.work, "truth.jsonl")
    shutil.rmtree(corpus, ignore_errors=True)
    os.makedirs(args.work, exist_ok=True)
    subprocess.run([args.recall, "--out", corpus, "--truth", truth_path, "--seed", args.seed],
                   check=True)
    truth = [json.loads(l) for l in open(truth_path)]
    out = subprocess.run([args.keyhound, "scan", "--no-store", "--format", "json", "--show-secrets", "-q", "."],
                         cwd=corpus, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"keyhound failed: {out.stderr}")
    findings = json.loads(out.stdout)["findings"]

    at = collections.defaultdict(list)  # (path, line) -> [(rule, secret)]
    for f in findings:
        for loc in f["locations"]:
            at[(loc["path"], loc["line"])].append((f["rule_id"], f.get("secret", "")))

    strict = fam = 0
    misses = []
    by_context = collections.defaultdict(lambda: [0, 0])
    rules = collections.Counter(t["rule_id"] for t in truth)
    for t in truth:
        here = at.get((t["path"], t["line"]), [])
        same_secret = [r for r, s in here if s == t["secret"]]
        s_ok = t["rule_id"] in same_secret
        f_ok = any(family(r) == family(t["rule_id"]) for r in same_secret)
        strict += s_ok
        fam += f_ok
        by_context[t["context"]][0] += f_ok
        by_context[t["context"]][1] += 1
        if not f_ok:
            misses.append((t["rule_id"], t["context"], t["path"], t["line"],
                           sorted({r for r, _ in here})))
    n = len(truth)
    figures = {
        "rules": len(rules),
        "credentials": n,
        "min_per_rule": min(rules.values()),
        "strict": strict,
        "family": fam,
        "strict_pct": round(100 * strict / n, 2),
        "family_pct": round(100 * fam / n, 2),
        "by_context": {c: {"found": v[0], "total": v[1]} for c, v in sorted(by_context.items())},
    }
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print(f"{len(rules)} rules, {n} credentials (at least {figures['min_per_rule']} per rule)")
        print(f"strict (same rule):   {strict}/{n} = {figures['strict_pct']}%")
        print(f"family (same family): {fam}/{n} = {figures['family_pct']}%")
        for c, v in sorted(by_context.items()):
            print(f"  {c:8} {v[0]}/{v[1]}")
    for m in misses:
        print("MISS", *m, file=sys.stderr)
    wrong_rule = [t for t in truth
                  if t["rule_id"] not in [r for r, s in at.get((t["path"], t["line"]), [])
                                          if s == t["secret"]]]
    for t in wrong_rule:
        others = sorted({r for r, _ in at.get((t["path"], t["line"]), [])})
        if others and family(t["rule_id"]) in {family(o) for o in others}:
            print("OTHER-RULE", t["rule_id"], t["context"], t["path"], others, file=sys.stderr)


if __name__ == "__main__":
    main()

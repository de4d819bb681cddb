#!/usr/bin/env python3
"""Directory-scan benchmark: keyhound against ripgrep on the corpus from build-corpus.sh.

Runs each tool once to warm the page cache, then RUNS times alternately, pinned to the given
CPUs with `taskset` when available. Reports the median wall time, MB/s, peak RSS (from wait4),
the ratio keyhound/rg, the work each tool did (rg: matching lines of AKCp; keyhound: findings),
and keyhound's recall of the planted credentials (right secret, path, line and rule id).
keyhound runs with --no-archives: rg -uuu reads archives and compressed files as raw bytes,
so both tools read the same bytes (the corpus holds .jar, .zip and .gz files from /usr/share).

usage: bench/scan_bench.py [--dir DIR] [--runs 5] [--threads 2] [--keyhound BIN] [--json OUT]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def corpus_bytes(root):
    total = files = 0
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.isfile(p) and not os.path.islink(p):
                total += st.st_size
                files += 1
    return total, files


def run(cmd, stdout):
    """Runs cmd; returns (wall seconds, peak RSS in KiB, exit status)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def pin(cmd, cpus):
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", cpus] + cmd
    return cmd


def recall(truth_path, findings_path, corpus):
    truth = [json.loads(l) for l in open(truth_path)]
    found_exact = set()
    found_value = set()
    prefix = corpus.rstrip("/") + "/"
    for line in open(findings_path):
        f = json.loads(line)
        for loc in f["locations"]:
            path = loc["path"][len(prefix):] if loc["path"].startswith(prefix) else loc["path"]
            found_exact.add((f["rule_id"], path, loc["line"], f.get("secret", "")))
            found_value.add((path, loc["line"], f.get("secret", "")))
    exact = sum((t["rule_id"], t["path"], t["line"], t["secret"]) in found_exact for t in truth)
    located = sum((t["path"], t["line"], t["secret"]) in found_value for t in truth)
    missed = [t for t in truth if (t["path"], t["line"], t["secret"]) not in found_value]
    return len(truth), located, exact, missed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.environ.get("KEYHOUND_BENCH_DIR", "/tmp/keyhound-bench"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cpus", default="0,1", help="taskset CPU list, empty for none")
    ap.add_argument("--keyhound", default=None)
    ap.add_argument("--json", default=None, help="write results here")
    ap.add_argument("--extra", default="", help="extra keyhound scan arguments")
    args = ap.parse_args()

    corpus = os.path.join(args.dir, "corpus")
    truth = os.path.join(args.dir, "truth.jsonl")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(repo, "target"))
    keyhound = args.keyhound or os.path.join(target, "release", "keyhound")
    for tool in (keyhound, shutil.which("rg")):
        if not tool or not os.path.exists(tool):
            sys.exit(f"error: missing tool {tool!r} (build keyhound with cargo build --release; apt install ripgrep)")

    size, files = corpus_bytes(corpus)
    out_dir = tempfile.mkdtemp(prefix="kh-bench-")
    findings = os.path.join(out_dir, "findings.jsonl")
    kh_cmd = pin([keyhound, "scan", corpus, "-j", str(args.threads), "-q", "--format", "jsonl",
                  "--show-secrets", "--no-store", "--no-archives", "-o", findings] + args.extra.split(), args.cpus)
    rg_cmd = pin(["rg", "-uuu", "-c", "-j", str(args.threads), "AKCp", corpus], args.cpus)
    rg_out = os.path.join(out_dir, "rg.txt")

    # Warm the page cache and check that both tools run.
    with open(rg_out, "w") as out:
        run(rg_cmd, out)
    run(kh_cmd, subprocess.DEVNULL)

    times = {"keyhound": [], "rg": []}
    rss = {"keyhound": [], "rg": []}
    for _ in range(args.runs):
        with open(rg_out, "w") as out:
            w, m, _ = run(rg_cmd, out)
        times["rg"].append(w)
        rss["rg"].append(m)
        w, m, code = run(kh_cmd, subprocess.DEVNULL)
        if code not in (0, 1):
            sys.exit(f"error: keyhound exited {code}")
        times["keyhound"].append(w)
        rss["keyhound"].append(m)

    rg_lines = sum(int(l.rsplit(":", 1)[1]) for l in open(rg_out) if ":" in l)
    kh_findings = sum(1 for _ in open(findings))
    total, located, exact, missed = recall(truth, findings, corpus)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "corpus_bytes": size,
        "corpus_files": files,
        "runs": args.runs,
        "threads": args.threads,
        "median_seconds": med,
        "all_seconds": times,
        "mb_per_s": {k: size / 1e6 / v for k, v in med.items()},
        "peak_rss_mib": {k: max(v) / 1024 for k, v in rss.items()},
        "ratio_keyhound_to_rg": med["keyhound"] / med["rg"],
        "work": {"rg_matching_lines": rg_lines, "keyhound_findings": kh_findings},
        "recall": {"planted": total, "found_at_path_and_line": located, "with_expected_rule": exact},
        "missed": missed[:20],
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    print(f"corpus: {size / 2**20:.0f} MiB in {files} files; {args.runs} runs, {args.threads} threads")
    print("| tool | median s | MB/s | peak RSS MiB | work |")
    print("|---|---|---|---|---|")
    print(f"| keyhound | {med['keyhound']:.2f} | {result['mb_per_s']['keyhound']:.0f} | "
          f"{result['peak_rss_mib']['keyhound']:.0f} | {kh_findings} findings |")
    print(f"| rg -uuu -c AKCp | {med['rg']:.2f} | {result['mb_per_s']['rg']:.0f} | "
          f"{result['peak_rss_mib']['rg']:.0f} | {rg_lines} matching lines |")
    print(f"ratio keyhound/rg: {result['ratio_keyhound_to_rg']:.2f}")
    print(f"recall: {located}/{total} at the planted path and line, {exact}/{total} with the expected rule id")
    for m in missed[:10]:
        print(f"  missed: {m['template']} {m['rule_id']} {m['path']}:{m['line']}")
    shutil.rmtree(out_dir)


if __name__ == "__main__":
    main()

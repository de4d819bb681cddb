#!/usr/bin/env python3
"""History-scan benchmark on the repository from build-git-repo.py.

Measures, with the same thread count for every run:
- a full-history scan (`keyhound scan history.git`): wall time, blobs/s, MB/s of blob data,
  peak RSS (from wait4), and recall of the planted credentials (secret, path, line, commit);
- a second scan of the same repository, nothing changed, without the findings database
  (`--no-store`: every blob is scanned again);
- the incremental scan (issue #5): on a copy of the repository and a new database, a first
  full-history scan that records the run, one new commit (a new file with a planted
  credential and an edit of an existing file), then a second full-history scan that reuses
  what the first recorded; the ratio first / second is the issue's target (>= 20);
- a directory scan of the same bytes: every blob exported to its own file
  (`git cat-file --batch-all-objects`), scanned with `--git-history none`; the ratio of the two
  throughputs per byte is the issue's target (≤ 1.5).
Medians of RUNS runs each.

usage: bench/git_bench.py [--dir DIR] [--runs 3] [--threads 2] [--keyhound BIN] [--json OUT]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time


def run(cmd, out_path=None):
    start = time.perf_counter()
    with open(out_path or os.devnull, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def export_blobs(repo, dest):
    """Writes every blob of the repository to dest/<id[:2]>/<id>; returns (count, bytes)."""
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    batch = subprocess.Popen(["git", "cat-file", "--batch-all-objects", "--batch", "--unordered"],
                             cwd=repo, stdout=subprocess.PIPE)
    count = total = 0
    stream = batch.stdout
    while True:
        header = stream.readline()
        if not header:
            break
        oid, kind, size = header.split()
        data = stream.read(int(size))
        stream.read(1)
        if kind != b"blob":
            continue
        oid = oid.decode()
        os.makedirs(os.path.join(dest, oid[:2]), exist_ok=True)
        with open(os.path.join(dest, oid[:2], oid), "wb") as f:
            f.write(data)
        count += 1
        total += len(data)
    batch.wait()
    return count, total


def add_commit(repo, work, seed, fake):
    """Adds one commit to the bare repository `repo` through a temporary worktree: a new file
    with a fake npm token (from keyhound-fake, so its checksum is valid) and an edit of an
    existing file."""
    if os.path.isdir(work):
        subprocess.run(["git", "worktree", "remove", "--force", work], cwd=repo,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    subprocess.check_call(["git", "worktree", "add", "-q", "--detach", work, "HEAD"], cwd=repo)
    token = subprocess.check_output([fake, "npm", str(1000 + seed)], text=True).strip()
    with open(os.path.join(work, "incremental.npmrc"), "w") as f:
        f.write("//registry.npmjs.org/:_authToken=" + token + "\n")
    tracked = subprocess.check_output(["git", "ls-files"], cwd=work, text=True).split()
    with open(os.path.join(work, tracked[0]), "a") as f:
        f.write("\n# one more line\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com")
    subprocess.check_call(["git", "add", "-A"], cwd=work, env=env)
    subprocess.check_call(["git", "commit", "-q", "-m", "one new commit"], cwd=work, env=env)
    head = subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=work, text=True).strip()
    subprocess.check_call(["git", "update-ref", "refs/heads/incremental", head], cwd=repo)
    subprocess.check_call(["git", "worktree", "remove", "--force", work], cwd=repo)
    return token


def incremental_run(keyhound, fake, repo, out, threads, i):
    """One first-then-second measurement on a fresh copy of the repository and database."""
    copy = os.path.join(out, "incremental.git")
    db = os.path.join(out, "incremental.db")
    for p in (copy, db, db + "-wal", db + "-shm"):
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)
    subprocess.check_call(["cp", "-a", repo, copy])
    scan = [keyhound, "scan", copy, "-j", str(threads), "-q", "--format", "json", "--show-secrets",
            "--db", db]
    first_s, first_rss, code = run(scan + ["-o", os.path.join(out, "incr-first.json")])
    assert code in (0, 1), f"first scan exited {code}"
    token = add_commit(copy, os.path.join(out, "incremental-work"), i, fake)
    second_report = os.path.join(out, "incr-second.json")
    second_s, second_rss, code = run(scan + ["-o", second_report])
    assert code in (0, 1), f"second scan exited {code}"
    with open(second_report) as f:
        doc = json.load(f)
    first_doc = json.load(open(os.path.join(out, "incr-first.json")))
    hist = doc["summary"].get("history") or [{}]
    return {
        "first_s": first_s,
        "second_s": second_s,
        "ratio": first_s / second_s,
        "first_rss_kib": first_rss,
        "second_rss_kib": second_rss,
        "findings_first": len(first_doc["findings"]),
        "findings_second": len(doc["findings"]),
        "new_token_found": any(f.get("secret") == token for f in doc["findings"]),
        "blobs_scanned_second": hist[0].get("blobs_scanned"),
        "known_packs_skipped_second": hist[0].get("known_packs_skipped"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.environ.get("KEYHOUND_BENCH_DIR", "/tmp/keyhound-bench"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keyhound", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    repo = os.path.join(args.dir, "history.git")
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(here), "target"))
    keyhound = args.keyhound or os.path.join(target, "release", "keyhound")
    fake = os.path.join(os.path.dirname(keyhound), "keyhound-fake")
    if not os.path.isdir(repo) or not os.path.exists(keyhound) or not os.path.exists(fake):
        sys.exit("error: run bench/build-git-repo.py and cargo build --release -p keyhound-cli -p keyhound-testkit --bins first")

    out = os.path.join(args.dir, "git-bench-out")
    os.makedirs(out, exist_ok=True)
    report = os.path.join(out, "history.json")
    scan = [keyhound, "scan", repo, "-j", str(args.threads), "-q", "--format", "json", "--show-secrets",
            "-o", report, "--no-store"]
    run(scan)  # warm the page cache
    first = [run(scan) for _ in range(args.runs)]
    second = [run(scan) for _ in range(args.runs)]  # nothing changed since the previous scan

    with open(report) as f:
        doc = json.load(f)
    summary = doc["summary"]
    blobs, blob_bytes = summary["inputs"], summary["bytes"]

    exported = os.path.join(args.dir, "history-blobs")
    n_exported, exported_bytes = export_blobs(repo, exported)
    dir_scan = [keyhound, "scan", exported, "--no-store", "-j", str(args.threads), "-q", "--git-history", "none",
                "--format", "json", "-o", os.path.join(out, "dir.json")]
    run(dir_scan)
    dir_runs = [run(dir_scan) for _ in range(args.runs)]

    incremental = [incremental_run(keyhound, fake, repo, out, args.threads, i) for i in range(args.runs)]

    truth = [json.loads(l) for l in open(os.path.join(args.dir, "git-truth.jsonl"))]
    found = set()
    for fnd in doc["findings"]:
        for loc in fnd["locations"]:
            g = loc.get("git") or {}
            path = loc["path"][len(repo) + 1:] if loc["path"].startswith(repo + "/") else loc["path"]
            found.add((fnd.get("secret"), path, loc["line"], g.get("commit")))
    exact = sum((t["secret"], t["path"], t["line"], t["commit"]) in found for t in truth)
    history_only = sum(1 for fnd in doc["findings"] if fnd.get("presence") == "history_only")

    med = lambda runs: statistics.median(r[0] for r in runs)
    git_s, second_s, dir_s = med(first), med(second), med(dir_runs)
    result = {
        "commits": int(subprocess.check_output(["git", "rev-list", "--all", "--count"], cwd=repo, text=True)),
        "blobs_scanned": blobs,
        "blob_bytes": blob_bytes,
        "exported_blobs": n_exported,
        "exported_bytes": exported_bytes,
        "pack_bytes": sum(os.path.getsize(os.path.join(repo, "objects/pack", p))
                          for p in os.listdir(os.path.join(repo, "objects/pack"))),
        "history_seconds": [r[0] for r in first],
        "second_scan_seconds": [r[0] for r in second],
        "directory_seconds": [r[0] for r in dir_runs],
        "history_median_s": git_s,
        "second_scan_median_s": second_s,
        "directory_median_s": dir_s,
        "blobs_per_s": blobs / git_s,
        "history_mb_per_s": blob_bytes / 1e6 / git_s,
        "directory_mb_per_s": exported_bytes / 1e6 / dir_s,
        "throughput_ratio_dir_over_git": (exported_bytes / dir_s) / (blob_bytes / git_s),
        "incremental_runs": incremental,
        "incremental_first_median_s": statistics.median(r["first_s"] for r in incremental),
        "incremental_second_median_s": statistics.median(r["second_s"] for r in incremental),
        "incremental_ratio_median": statistics.median(r["ratio"] for r in incremental),
        "incremental_first_peak_rss_mib": max(r["first_rss_kib"] for r in incremental) / 1024,
        "history_peak_rss_mib": max(r[1] for r in first) / 1024,
        "directory_peak_rss_mib": max(r[1] for r in dir_runs) / 1024,
        "planted": len(truth),
        "found_with_path_line_commit": exact,
        "findings": len(doc["findings"]),
        "history_only_findings": history_only,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("_seconds")}, indent=2))


if __name__ == "__main__":
    main()

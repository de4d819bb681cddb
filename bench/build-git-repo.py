#!/usr/bin/env python3
"""Builds the synthetic git history for the history-scan benchmark.

A bare repository with COMMITS commits (default 51,000), each changing FILES_PER_COMMIT
(default 4) files, so about COMMITS * 4 distinct blobs. File contents are real source files
from this machine (Python's stdlib, cargo registry sources), each version made distinct by a
revision line. There are feature branches (some merged, some not), tags every 1,000 commits,
and fake JFrog credentials (from keyhound-fake) planted in old commits and overwritten a few
commits later, so they live only in history. The ground truth goes to DIR/git-truth.jsonl.

usage: bench/build-git-repo.py [--dir DIR] [--commits N] [--files-per-commit K]
Produces DIR/history.git (bare) and DIR/git-truth.jsonl. Uses `git fast-import`, then
`git repack -a -d` so that the pack has real deltas.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import sysconfig

AUTHORS = [("Alice Dev", "alice@example.com"), ("Bob Ops", "bob@example.com"),
           ("Carol CI", "carol@example.com"), ("Dan Build", "dan@example.com")]
KINDS = ["jfrog-api-key", "jfrog-reference-token", "jfrog-access-token", "github-classic",
         "npm", "slack-bot"]
LINES = {
    "jfrog-api-key": "ARTIFACTORY_API_KEY = \"{}\"\n",
    "jfrog-reference-token": "    headers = {{\"Authorization\": \"Bearer {}\"}}\n",
    "jfrog-access-token": "JF_ACCESS_TOKEN={}\n",
    "github-classic": "GITHUB_TOKEN = '{}'\n",
    "npm": "//registry.npmjs.org/:_authToken={}\n",
    "slack-bot": "SLACK_BOT_TOKEN = \"{}\"\n",
}


def source_files(limit_bytes=8192, want=30000):
    roots = [sysconfig.get_paths()["stdlib"], os.path.expanduser("~/.cargo/registry/src")]
    out = []
    for root in roots:
        for dirpath, _dirs, names in os.walk(root):
            for n in names:
                if n.endswith((".py", ".rs", ".txt", ".md", ".toml", ".cfg", ".json", ".yml")):
                    p = os.path.join(dirpath, n)
                    try:
                        size = os.path.getsize(p)
                    except OSError:
                        continue
                    if 200 < size <= limit_bytes:
                        out.append(p)
                if len(out) >= want:
                    return out
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.environ.get("KEYHOUND_BENCH_DIR", "/tmp/keyhound-bench"))
    ap.add_argument("--commits", type=int, default=51000)
    ap.add_argument("--files-per-commit", type=int, default=4)
    ap.add_argument("--secrets", type=int, default=60)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()

    repo = os.path.join(args.dir, "history.git")
    repo_dir = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(repo_dir), "target"))
    fake = os.path.join(target, "release", "keyhound-fake")
    if not os.path.exists(fake):
        subprocess.check_call(["cargo", "build", "--quiet", "--release", "-p", "keyhound-testkit",
                               "--bin", "keyhound-fake"], cwd=os.path.dirname(repo_dir))
    rng = random.Random(args.seed)
    files = source_files()
    if len(files) < 1000:
        sys.exit("error: not enough source files on this machine")
    contents = []
    for p in files:
        with open(p, "rb") as f:
            contents.append(f.read())
    dirs = ["src", "src/core", "src/net", "lib", "lib/util", "docs", "config", "scripts", "tests", "tools"]
    paths = [f"{rng.choice(dirs)}/m{i:04d}{os.path.splitext(files[i % len(files)])[1]}" for i in range(2000)]

    subprocess.run(["rm", "-rf", repo], check=True)
    subprocess.check_call(["git", "init", "-q", "--bare", "-b", "main", repo])
    marks_file = os.path.join(args.dir, "history.marks")
    fi = subprocess.Popen(["git", "fast-import", "--quiet", f"--export-marks={marks_file}"], cwd=repo,
                          stdin=subprocess.PIPE)
    out = fi.stdin
    truth = []
    secret_commits = sorted(rng.sample(range(100, args.commits // 2), args.secrets))
    secret_at = {c: i for i, c in enumerate(secret_commits)}
    pending_overwrite = {}  # commit index -> [(path, content)]
    mark = 0
    branch_tip = {"main": None}
    t0 = 1_600_000_000
    for n in range(args.commits):
        # Every 500 commits start a feature branch from main; merge half of them 100 later.
        branch = "main"
        if n % 500 in range(200, 260) and n > 500:
            branch = f"feature/{n // 500}"
        mark += 1
        name, email = AUTHORS[n % len(AUTHORS)]
        when = t0 + n * 600
        out.write(f"commit refs/heads/{branch}\nmark :{mark}\n".encode())
        out.write(f"author {name} <{email}> {when} +0000\ncommitter {name} <{email}> {when} +0000\n".encode())
        msg = f"change {n}\n".encode()
        out.write(b"data %d\n" % len(msg) + msg)
        parent = branch_tip.get(branch) or branch_tip["main"]
        if parent:
            out.write(f"from :{parent}\n".encode())
        if branch == "main" and n % 500 == 300 and (n // 500) % 2 == 0 and f"feature/{n // 500}" in branch_tip:
            out.write(f"merge :{branch_tip[f'feature/{n // 500}']}\n".encode())
        changes = []
        for _ in range(args.files_per_commit):
            path = rng.choice(paths)
            body = contents[rng.randrange(len(contents))]
            changes.append((path, body + f"\n# revision {n}-{len(changes)}\n".encode()))
        if n in secret_at:
            i = secret_at[n]
            kind = KINDS[i % len(KINDS)]
            value = subprocess.check_output([fake, kind, str(1000 + i)], text=True).strip()
            path, body = changes[0]
            text = body.decode("utf-8", "replace")
            lines = text.splitlines(keepends=True)
            at = rng.randrange(len(lines) + 1)
            lines.insert(at, LINES[kind].format(value))
            changes[0] = (path, "".join(lines).encode())
            truth.append({"secret": value, "kind": kind, "path": path, "line": at + 1, "commit_index": n,
                          "branch": branch})
            # Overwrite the file a few commits later on the same branch: history only.
            pending_overwrite.setdefault(n + rng.randrange(3, 40), []).append((path, branch))
        for (path, b) in pending_overwrite.pop(n, []):
            if b == branch:
                changes.append((path, contents[rng.randrange(len(contents))] + f"\n# cleaned {n}\n".encode()))
            else:
                pending_overwrite.setdefault(n + 1, []).append((path, b))
        for path, body in changes:
            out.write(f"M 100644 inline {path}\n".encode())
            out.write(b"data %d\n" % len(body) + body + b"\n")
        branch_tip[branch] = mark
        if n % 1000 == 999:
            out.write(f"tag v{n // 1000}.0\nfrom :{mark}\ntagger {name} <{email}> {when} +0000\n".encode())
            tagmsg = f"release {n // 1000}\n".encode()
            out.write(b"data %d\n" % len(tagmsg) + tagmsg)
    out.close()
    if fi.wait() != 0:
        sys.exit("error: git fast-import failed")
    # Record the commit ids of the planted secrets (commit n has mark n + 1).
    marks = dict(line.split() for line in open(marks_file))
    for t in truth:
        t["commit"] = marks[f":{t['commit_index'] + 1}"]
    subprocess.check_call(["git", "repack", "-a", "-d", "-q"], cwd=repo)
    with open(os.path.join(args.dir, "git-truth.jsonl"), "w") as f:
        for t in truth:
            f.write(json.dumps(t) + "\n")
    count = subprocess.check_output(["git", "count-objects", "-v"], cwd=repo, text=True)
    blobs = subprocess.check_output(
        "git cat-file --batch-all-objects --batch-check='%(objecttype)' | grep -c '^blob'",
        cwd=repo, shell=True, text=True).strip()
    commits = subprocess.check_output(["git", "rev-list", "--all", "--count"], cwd=repo, text=True).strip()
    print(f"{repo}: {commits} commits, {blobs} blobs, {len(truth)} planted secrets")
    print(count)


if __name__ == "__main__":
    main()

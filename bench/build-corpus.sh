#!/usr/bin/env bash
# Builds the scan-benchmark corpus: at least SIZE_MB of real text, code and binaries already on
# this machine (cargo registry sources, Python's stdlib and site-packages, /usr/share,
# /usr/include, /usr/lib), then plants 200 fake JFrog credentials of every kind with
# keyhound-plant and keeps the ground truth.
#
# usage: bench/build-corpus.sh [DIR] [SIZE_MB]    (defaults: $KEYHOUND_BENCH_DIR or
#        /tmp/keyhound-bench, and 1100)
# Produces DIR/corpus/ and DIR/truth.jsonl. Idempotent: an existing corpus is rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
dir=${1:-${KEYHOUND_BENCH_DIR:-/tmp/keyhound-bench}}
size_mb=${2:-1100}
target=${CARGO_TARGET_DIR:-$repo/target}

py_lib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
sources=(
  "$HOME/.cargo/registry/src"
  "$py_lib"
  /usr/share
  /usr/include
  /usr/lib/x86_64-linux-gnu
  /usr/lib/jvm
)

rm -rf "$dir/corpus"
mkdir -p "$dir/corpus"
want=$((size_mb * 1024 * 1024))
have=0
for src in "${sources[@]}"; do
  [ -d "$src" ] || continue
  [ "$have" -ge "$want" ] && break
  name=$(echo "$src" | tr '/' '_' | sed 's/^_//')
  # Symlinks are copied as symlinks (the scan does not follow them, nor does rg -uuu).
  cp -a "$src" "$dir/corpus/$name" 2>/dev/null || true
  have=$(du -sb "$dir/corpus" | cut -f1)
  echo "corpus: $((have / 1024 / 1024)) MiB after $src" >&2
done
if [ "$have" -lt "$want" ]; then
  echo "error: only $((have / 1024 / 1024)) MiB of source text found; wanted $size_mb MiB" >&2
  exit 1
fi

cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p keyhound-testkit --bin keyhound-plant
"$target/release/keyhound-plant" --corpus "$dir/corpus" --truth "$dir/truth.jsonl" --count 200 --seed 7
files=$(find "$dir/corpus" -type f | wc -l)
echo "corpus: $dir/corpus, $((have / 1024 / 1024)) MiB in $files files; truth: $dir/truth.jsonl" >&2

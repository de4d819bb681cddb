//! `keyhound-plant --corpus DIR --truth FILE [--count 200] [--seed 1]`: plants fake JFrog
//! credentials of every kind into a corpus of real text, in realistic files and lines, and
//! writes the ground truth (one JSON object per credential) for the benchmark's recall figure.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use keyhound_testkit::fake::Rng;
use keyhound_testkit::plant::{Placement, TEMPLATES};

struct Args {
    corpus: PathBuf,
    count: usize,
    truth: PathBuf,
    seed: u64,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut corpus = None;
    let mut truth = None;
    let mut count = 200;
    let mut seed = 1;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--corpus" => corpus = Some(PathBuf::from(value()?)),
            "--truth" => truth = Some(PathBuf::from(value()?)),
            "--count" => count = value()?.parse().map_err(|_| "--count takes a number")?,
            "--seed" => seed = value()?.parse().map_err(|_| "--seed takes a number")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        corpus: corpus.ok_or("--corpus is required")?,
        truth: truth.ok_or("--truth is required")?,
        count,
        seed,
    })
}

/// Text files under `root` that a line can be inserted into: small, valid UTF-8, with lines.
fn text_files(root: &Path, out: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) {
    let Ok(entries) = fs_err::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            dirs.push(p.clone());
            text_files(&p, out, dirs);
        } else if ft.is_file() {
            let ok_ext = p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                matches!(
                    x,
                    "py" | "rs"
                        | "sh"
                        | "txt"
                        | "md"
                        | "yml"
                        | "yaml"
                        | "json"
                        | "cfg"
                        | "ini"
                        | "h"
                        | "c"
                        | "toml"
                        | "rst"
                        | "html"
                        | "xml"
                        | "js"
                )
            });
            if ok_ext
                && e.metadata()
                    .is_ok_and(|m| m.len() > 200 && m.len() < 2_000_000)
            {
                out.push(p);
            }
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    text_files(&args.corpus, &mut files, &mut dirs);
    files.sort();
    dirs.sort();
    if files.is_empty() || dirs.is_empty() {
        return Err(format!("no text files under {}", args.corpus.display()));
    }
    let mut rng = Rng::new(args.seed);
    let mut truth =
        fs_err::File::create(&args.truth).map_err(|e| format!("{}: {e}", args.truth.display()))?;
    let mut planted = 0;
    let mut used = std::collections::HashSet::new();
    let mut i = 0u64;
    while planted < args.count {
        let t = &TEMPLATES[(i as usize) % TEMPLATES.len()];
        let snippet = (t.render)(args.seed.wrapping_mul(1_000_003).wrapping_add(i));
        i += 1;
        let (path, line_offset) = match t.placement {
            Placement::File(name) => {
                let dir = rng.pick(&dirs).clone();
                let path = dir.join(format!("kh{i}-{}", name.trim_start_matches('.')));
                let path = if name.starts_with('.') {
                    dir.join(format!("{name}.kh{i}"))
                } else {
                    path
                };
                fs_err::write(&path, &snippet.text)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                (path, 0)
            }
            Placement::Lines => {
                // Insert at a line boundary of a real file not used before.
                let path = loop {
                    let p = rng.pick(&files).clone();
                    if used.insert(p.clone()) {
                        break p;
                    }
                };
                let Ok(mut text) = fs_err::read_to_string(&path) else {
                    continue;
                };
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                let lines = text.matches('\n').count();
                let at = rng.below(lines as u64 + 1) as usize;
                let offset = text
                    .match_indices('\n')
                    .nth(at.wrapping_sub(1))
                    .map_or(0, |(i, _)| i + 1);
                let offset = if at == 0 { 0 } else { offset };
                text.insert_str(offset, &snippet.text);
                fs_err::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
                (path, at as u64)
            }
        };
        let rel = path
            .strip_prefix(&args.corpus)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        for e in &snippet.expected {
            let row = serde_json::json!({
                "path": rel, "line": e.line + line_offset, "rule_id": e.rule_id,
                "secret": e.secret, "template": t.name,
            });
            writeln!(truth, "{row}").map_err(|e| e.to_string())?;
            planted += 1;
        }
    }
    eprintln!(
        "planted {planted} credentials from {} templates into {}",
        i,
        args.corpus.display()
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

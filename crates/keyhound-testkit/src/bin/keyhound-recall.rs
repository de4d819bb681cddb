//! `keyhound-recall --out DIR --truth FILE [--seed N]`: writes the recall corpus (fake
//! credentials for every built-in rule in `.env`, code, config, JSON, YAML and XML files) into
//! DIR and its ground truth, one JSON object per credential, into FILE. FILE must be outside
//! DIR: it holds the secrets, so a scan of DIR would find them there too.

use std::io::Write as _;
use std::path::PathBuf;

use keyhound_testkit::recall;

fn run(args: &[String]) -> Result<(), String> {
    let mut out = None;
    let mut truth = None;
    let mut seed = 1u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(value()?)),
            "--truth" => truth = Some(PathBuf::from(value()?)),
            "--seed" => seed = value()?.parse().map_err(|_| "--seed takes a number")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let out = out.ok_or("--out is required")?;
    let truth = truth.ok_or("--truth is required")?;
    let corpus = recall::corpus(seed)?;
    for f in &corpus.files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        fs_err::write(&path, &f.text).map_err(|e| e.to_string())?;
    }
    let mut w = std::io::BufWriter::new(fs_err::File::create(&truth).map_err(|e| e.to_string())?);
    for c in &corpus.cases {
        let line = serde_json::json!({
            "rule_id": c.rule_id,
            "family": recall::family(&c.rule_id),
            "context": c.context,
            "path": c.path,
            "line": c.line,
            "secret": c.secret,
        });
        writeln!(w, "{line}").map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())?;
    eprintln!(
        "{} files, {} credentials of {} rules",
        corpus.files.len(),
        corpus.cases.len(),
        recall::specs()?.len()
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

//! `keyhound rules list|check`, and rule loading shared with `scan`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use keyhound_engine::{Options, check_rules};
use keyhound_rules::{ProblemLevel, Rule, RuleFile, validate};
use serde_json::json;

use crate::Hint;
use crate::args::{FormatArg, GlobalArgs, RuleArgs, RulesCheckArgs, RulesCommand, RulesListArgs};

/// Rule files under `path` (a file, or every `.yml`/`.yaml` file below a directory), sorted.
fn rule_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = fs_err::metadata(path).context("cannot read rules")?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs_err::read_dir(&dir)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Parses the custom rule files under each path.
fn read_custom(paths: &[PathBuf]) -> Result<Vec<Rule>> {
    let mut rules = Vec::new();
    for path in paths {
        for file in rule_files(path)? {
            let text = fs_err::read_to_string(&file)?;
            rules.extend(RuleFile::parse(&file.display().to_string(), &text)?.rules);
        }
    }
    Ok(rules)
}

/// The rules a command uses: built-in plus `--rules`, narrowed by `--only` and `--disable`.
pub fn load_rules(args: &RuleArgs) -> Result<Vec<Rule>> {
    let mut rules = keyhound_rules::builtin().context("the built-in rules do not parse")?;
    let custom = read_custom(&args.rules)?;
    let errors: Vec<String> = validate(&custom)
        .into_iter()
        .filter(|p| p.level == ProblemLevel::Error)
        .map(|p| p.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(
            anyhow::Error::new(Hint("run `keyhound rules check FILE` for details".into()))
                .context(format!("invalid custom rules:\n  {}", errors.join("\n  "))),
        );
    }
    rules.extend(custom);
    let known: HashSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let unknown: Vec<&String> = args
        .only
        .iter()
        .chain(&args.disable)
        .filter(|id| !known.contains(id.as_str()))
        .collect();
    if !unknown.is_empty() {
        let list: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(
            anyhow::Error::new(Hint("`keyhound rules list` shows every rule id".into()))
                .context(format!("unknown rule id: {}", list.join(", "))),
        );
    }
    if !args.only.is_empty() {
        rules.retain(|r| args.only.contains(&r.id));
    }
    rules.retain(|r| !args.disable.contains(&r.id));
    if rules.is_empty() {
        bail!("no rules left to run after --only and --disable");
    }
    Ok(rules)
}

fn list(args: &RulesListArgs) -> Result<ExitCode> {
    let rules = load_rules(&args.rules)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        FormatArg::Json => {
            let items: Vec<_> = rules
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id, "name": r.name, "provider": r.provider, "category": r.category,
                        "severity": r.severity.as_str(), "confidence": r.confidence.as_str(),
                        "description": r.description.trim(), "anchors": r.anchors, "keywords": r.keywords,
                        "decoder": r.decoder, "references": r.references, "origin": r.origin,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &items)?;
            writeln!(out)?;
        }
        FormatArg::Text => {
            let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(2);
            writeln!(
                out,
                "{:<width$}  {:<8}  {:<10}  NAME",
                "ID", "SEVERITY", "CONFIDENCE"
            )?;
            for r in &rules {
                writeln!(
                    out,
                    "{:<width$}  {:<8}  {:<10}  {}",
                    r.id,
                    r.severity.as_str(),
                    r.confidence.as_str(),
                    r.name
                )?;
            }
        }
        other => bail!("rules list supports --format text or json, not {other:?}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn check(global: &GlobalArgs, args: &RulesCheckArgs) -> Result<ExitCode> {
    let rules = if args.paths.is_empty() {
        keyhound_rules::builtin().context("the built-in rules do not parse")?
    } else {
        match read_custom(&args.paths) {
            Ok(r) => r,
            Err(e) if e.downcast_ref::<keyhound_rules::Error>().is_some() => {
                println!("error: {}", crate::chain(&e));
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(e),
        }
    };
    let problems = check_rules(&rules, Options::default());
    let examples: usize = rules
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    for p in &problems {
        println!("{p}");
    }
    let failed = problems.iter().any(|p| {
        p.level == ProblemLevel::Error
            || (args.warnings_as_errors && p.level == ProblemLevel::Warning)
    });
    if !global.quiet {
        let errors = problems
            .iter()
            .filter(|p| p.level == ProblemLevel::Error)
            .count();
        let warnings = problems.len() - errors;
        eprintln!(
            "{}: {} rules, {examples} examples, {errors} errors, {warnings} warnings",
            if failed { "failed" } else { "ok" },
            rules.len()
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `keyhound rules ...`.
pub fn run(global: &GlobalArgs, cmd: &RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::List(args) => list(args),
        RulesCommand::Check(args) => check(global, args),
    }
}

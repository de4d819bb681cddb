//! `keyhound rules list|check`, and rule loading shared with `scan`.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use keyhound_engine::{Options, check_rules, check_rules_with};
use keyhound_rules::{
    ProblemLevel, Rule, RuleFile, ValidateOptions, gitleaks, validate, validate_with,
};
use serde_json::json;

use crate::Hint;
use crate::args::{FormatArg, GlobalArgs, RuleArgs, RulesCheckArgs, RulesCommand, RulesListArgs};

/// Rule files under `path` (a file, or every `.yml`/`.yaml` rule file and `.toml` gitleaks
/// configuration below a directory), sorted.
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
            } else if p
                .extension()
                .is_some_and(|e| e == "yml" || e == "yaml" || e == "toml")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_gitleaks(file: &Path) -> bool {
    file.extension().is_some_and(|e| e == "toml")
}

/// Custom rules: keyhound YAML rules, and rules converted from gitleaks configurations with
/// what the conversion could not keep.
#[derive(Default)]
struct Custom {
    yaml: Vec<Rule>,
    converted: Vec<Rule>,
    /// (is an error, message) for each conversion note.
    notes: Vec<(bool, String)>,
}

/// Converts a gitleaks configuration, following `[extend] path` (at most two levels, as
/// gitleaks does): rules of the extended file come first and are replaced by same-id rules of
/// the extending one.
fn read_gitleaks(file: &Path, depth: usize, out: &mut Custom) -> Result<Vec<Rule>> {
    let text = fs_err::read_to_string(file)?;
    let name = file.display().to_string();
    let conv = gitleaks::convert(&name, &text)?;
    for n in &conv.notes {
        out.notes.push((
            n.level == gitleaks::NoteLevel::Error,
            format!("gitleaks config {name}: {n}"),
        ));
    }
    let mut rules = Vec::new();
    if let Some(extends) = &conv.extends {
        let base = file.parent().unwrap_or(Path::new(".")).join(extends);
        if depth >= 2 {
            out.notes.push((
                true,
                format!("gitleaks config {name}: [extend] path {extends:?} is past the depth limit of 2 and is not loaded"),
            ));
        } else {
            let disabled: HashSet<String> =
                conv.disabled.iter().map(|d| gitleaks::rule_id(d)).collect();
            rules = read_gitleaks(&base, depth + 1, out)
                .with_context(|| format!("cannot load [extend] path {extends:?} of {name}"))?;
            rules.retain(|r: &Rule| !disabled.contains(&r.id));
        }
    }
    for rule in conv.rules {
        match rules.iter_mut().find(|r| r.id == rule.id) {
            Some(existing) => *existing = rule,
            None => rules.push(rule),
        }
    }
    Ok(rules)
}

/// Parses the custom rule files under each path.
fn read_custom(paths: &[PathBuf]) -> Result<Custom> {
    let mut custom = Custom::default();
    for path in paths {
        for file in rule_files(path)? {
            if is_gitleaks(&file) {
                let rules = read_gitleaks(&file, 0, &mut custom)?;
                custom.converted.extend(rules);
            } else {
                let text = fs_err::read_to_string(&file)?;
                custom
                    .yaml
                    .extend(RuleFile::parse(&file.display().to_string(), &text)?.rules);
            }
        }
    }
    Ok(custom)
}

/// What converted rules need: no examples, possibly no prefilter literal.
const CONVERTED: ValidateOptions = ValidateOptions {
    require_examples: false,
    require_literals: false,
};

/// The rules a command uses: built-in plus `--rules`, narrowed by `--only` and `--disable`.
/// Conversion notes of gitleaks configurations go to stderr unless `quiet`.
pub fn load_rules(args: &RuleArgs, quiet: bool) -> Result<Vec<Rule>> {
    let mut rules = keyhound_rules::builtin().context("the built-in rules do not parse")?;
    let custom = read_custom(&args.rules)?;
    if !quiet {
        for (_, note) in &custom.notes {
            eprintln!("warning: {note}");
        }
    }
    let errors: Vec<String> = validate(&custom.yaml)
        .into_iter()
        .chain(validate_with(&custom.converted, CONVERTED))
        .filter(|p| p.level == ProblemLevel::Error)
        .map(|p| p.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(
            anyhow::Error::new(Hint("run `keyhound rules check FILE` for details".into()))
                .context(format!("invalid custom rules:\n  {}", errors.join("\n  "))),
        );
    }
    rules.extend(custom.yaml);
    rules.extend(custom.converted);
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

fn list(global: &GlobalArgs, args: &RulesListArgs) -> Result<ExitCode> {
    let rules = load_rules(&args.rules, global.quiet)?;
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
                        "decoder": r.decoder, "generic": r.generic, "references": r.references, "origin": r.origin,
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
    let custom = if args.paths.is_empty() {
        Custom {
            yaml: keyhound_rules::builtin().context("the built-in rules do not parse")?,
            ..Custom::default()
        }
    } else {
        match read_custom(&args.paths) {
            Ok(r) => r,
            Err(e)
                if e.downcast_ref::<keyhound_rules::Error>().is_some()
                    || e.downcast_ref::<gitleaks::Error>().is_some() =>
            {
                println!("error: {}", crate::chain(&e));
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(e),
        }
    };
    let mut problems = check_rules(&custom.yaml, Options::default());
    problems.extend(check_rules_with(
        &custom.converted,
        Options::default(),
        CONVERTED,
    ));
    let examples: usize = custom
        .yaml
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    for (is_error, note) in &custom.notes {
        println!("{}: {note}", if *is_error { "error" } else { "warning" });
    }
    for p in &problems {
        println!("{p}");
    }
    let note_errors = custom.notes.iter().filter(|(e, _)| *e).count();
    let note_warnings = custom.notes.len() - note_errors;
    let errors = note_errors
        + problems
            .iter()
            .filter(|p| p.level == ProblemLevel::Error)
            .count();
    let warnings = note_warnings + problems.len() + note_errors - errors;
    let failed = errors > 0 || (args.warnings_as_errors && warnings > 0);
    if !global.quiet {
        eprintln!(
            "{}: {} rules, {examples} examples, {errors} errors, {warnings} warnings",
            if failed { "failed" } else { "ok" },
            custom.yaml.len() + custom.converted.len()
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
        RulesCommand::List(args) => list(global, args),
        RulesCommand::Check(args) => check(global, args),
    }
}

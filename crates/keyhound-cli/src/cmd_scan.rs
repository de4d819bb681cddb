//! `keyhound scan`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use keyhound_report::{RenderOptions, render};
use keyhound_rules::Severity;
use keyhound_scan::{
    GitSettings, Input, Progress, ScanReport, ScanSettings, Scanner, ScannerOptions,
};
use keyhound_sources::Limits;
use keyhound_sources::fs_walk::WalkOptions;
use keyhound_sources::git::RemoteOptions;

use keyhound_jfrog::enrich::{EnrichOptions, enrich, plan_findings};
use keyhound_jfrog::validate::Validator;

use crate::args::{
    FormatArg, GitHistory, GlobalArgs, ScanArgs, default_clone_dir, stderr_is_terminal,
};
use crate::cmd_rules::load_rules;
use crate::settings;

/// Exit code when the scan found nothing and every input was read.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code when there are findings (unless `--exit-zero`).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code on an error, including inputs that could not be read.
pub const EXIT_ERROR: u8 = 2;

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    format!("{:.1} MB/s", bytes as f64 / 1e6 / secs)
}

/// A spinner on stderr with live counts, drawn only when stderr is a terminal.
struct ProgressDisplay {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressDisplay {
    fn start(global: &GlobalArgs, progress: Arc<Progress>) -> ProgressDisplay {
        let stop = Arc::new(AtomicBool::new(false));
        if global.quiet || !stderr_is_terminal() {
            return ProgressDisplay { stop, thread: None };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        let flag = stop.clone();
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let inputs = progress.inputs.load(Ordering::Relaxed);
                let bytes = progress.bytes.load(Ordering::Relaxed);
                let matches = progress.matches.load(Ordering::Relaxed);
                bar.set_message(format!(
                    "scanning: {inputs} files, {}, {}, {matches} matches",
                    human_bytes(bytes),
                    rate(bytes, started.elapsed())
                ));
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        ProgressDisplay {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn summary(global: &GlobalArgs, report: &ScanReport) {
    if global.quiet {
        return;
    }
    let mut by_severity = std::collections::BTreeMap::<Severity, usize>::new();
    for f in &report.findings {
        *by_severity.entry(f.severity).or_default() += 1;
    }
    let severities: Vec<String> = by_severity
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let stats = &report.stats;
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "keyhound: {} finding{}{} in {} input{} ({}) in {:.2} s, {}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        if severities.is_empty() {
            String::new()
        } else {
            format!(" ({})", severities.join(", "))
        },
        stats.inputs,
        if stats.inputs == 1 { "" } else { "s" },
        human_bytes(stats.bytes),
        stats.duration.as_secs_f64(),
        rate(stats.bytes, stats.duration),
    );
    let counts = report.skip_counts();
    if !counts.is_empty() {
        let parts: Vec<String> = counts
            .iter()
            .map(|(r, n)| format!("{n} {}", r.describe()))
            .collect();
        let hint = if global.verbose == 0 {
            "; -v lists them"
        } else {
            ""
        };
        let _ = writeln!(err, "skipped: {}{hint}", parts.join(", "));
    }
    if global.verbose > 0 {
        for s in &report.skipped {
            let _ = writeln!(
                err,
                "  skipped {} ({}): {}",
                s.origin,
                s.reason.as_str(),
                s.detail
            );
        }
    }
    if report.has_errors() {
        let n = report
            .skipped
            .iter()
            .filter(|s| s.reason.is_error())
            .count();
        let _ = writeln!(
            err,
            "error: {n} input{} could not be read completely",
            if n == 1 { "" } else { "s" }
        );
    }
}

fn base_uri() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let mut s = cwd.to_str()?.to_owned();
    if !s.ends_with('/') {
        s.push('/');
    }
    let encoded: String = s
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Some(format!("file://{encoded}"))
}

/// `--validate-plan`: every request validation would send, on stdout; nothing is sent.
fn print_plan(
    global: &GlobalArgs,
    args: &ScanArgs,
    js: &settings::JfrogSettings,
    report: &ScanReport,
    now: i64,
) -> Result<ExitCode> {
    let plan = plan_findings(&js.resolver, &report.findings, now);
    let mut out = io::BufWriter::new(io::stdout().lock());
    if matches!(args.format, FormatArg::Json | FormatArg::Jsonl) {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "requests": plan }))?;
        writeln!(out)?;
    } else {
        for p in &plan {
            writeln!(
                out,
                "{} {}  auth={}  rule={}  fingerprint={}  when={}{}",
                p.method,
                p.url,
                p.auth,
                p.rule.as_deref().unwrap_or("-"),
                p.fingerprint,
                p.when,
                if p.trusted {
                    ""
                } else {
                    "  (discovered: public addresses only)"
                }
            )?;
        }
    }
    out.flush()?;
    if !global.quiet {
        eprintln!(
            "validation plan: {} request{} for {} finding{}; nothing was sent",
            plan.len(),
            if plan.len() == 1 { "" } else { "s" },
            report.findings.len(),
            if report.findings.len() == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::from(EXIT_CLEAN))
}

/// Runs `keyhound scan`.
pub fn run(global: &GlobalArgs, args: &ScanArgs) -> Result<ExitCode> {
    let rules = load_rules(&args.rules, global.quiet)?;
    let scanner = Scanner::new(rules.clone(), ScannerOptions::default())
        .context("cannot compile the rules")?;
    let limits = Limits {
        max_file_size: (args.max_file_size > 0).then_some(args.max_file_size),
        archive_depth: if args.no_archives {
            0
        } else {
            args.archive_depth
        },
        max_archive_bytes: if args.max_archive_bytes == 0 {
            u64::MAX
        } else {
            args.max_archive_bytes
        },
        max_archive_ratio: if args.max_archive_ratio == 0 {
            u64::MAX
        } else {
            args.max_archive_ratio
        },
        max_archive_entries: if args.max_archive_entries == 0 {
            u64::MAX
        } else {
            args.max_archive_entries
        },
        ..Limits::default()
    };
    let walk = WalkOptions {
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
        follow_symlinks: args.follow_symlinks,
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        skip_git_dirs: true,
        limits,
    };
    let git = GitSettings {
        history: args.git_history == GitHistory::Full,
        since_commit: args.since_commit.clone(),
        branch: args.branch.clone(),
        staged: args.staged,
        remote: RemoteOptions {
            clone_dir: args.clone_dir.clone().unwrap_or_else(default_clone_dir),
            timeout: Duration::from_secs(args.clone_timeout),
        },
    };
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
        args.paths.iter().partition(|p| p.as_os_str() == "-");
    let inputs: Vec<Input> = paths
        .into_iter()
        .map(|p| match p.to_str() {
            Some(s) => Input::from_arg(s),
            None => Input::Path(p.clone()),
        })
        .collect();
    let settings = ScanSettings { walk, git };

    let progress = Arc::new(Progress::default());
    let display = ProgressDisplay::start(global, progress.clone());
    let mut report = ScanReport::default();
    let result = (|| -> Result<()> {
        if !inputs.is_empty() {
            report.absorb(scanner.scan(&inputs, &settings, &progress)?);
        }
        if !stdin.is_empty() {
            report.absorb(scanner.scan_stream(
                &mut io::stdin().lock(),
                &args.stdin_name,
                &limits,
                &progress,
            ));
        }
        Ok(())
    })();
    display.finish();
    result?;

    if args.validate || args.validate_plan {
        let roots: Vec<PathBuf> = args
            .paths
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .cloned()
            .collect();
        let files = crate::settings::discover(global, &roots)?;
        let js = crate::settings::jfrog(&args.jfrog, &files)?;
        let now = keyhound_jfrog::now();
        if args.validate_plan {
            return print_plan(global, args, &js, &report, now);
        }
        let admin = js.admin()?;
        let client = js.client()?;
        let validator = Arc::new(Validator::new(client));
        let opts = EnrichOptions {
            blast_radius: !args.no_blast_radius,
            admin,
            now,
        };
        let rt = crate::settings::runtime()?;
        let checked = rt.block_on(enrich(validator, &js.resolver, &mut report.findings, &opts));
        report.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.locations.first().cmp(&b.locations.first()))
        });
        if !global.quiet {
            let verdicts: Vec<String> = checked
                .verdicts
                .iter()
                .map(|(v, n)| format!("{n} {v}"))
                .collect();
            eprintln!(
                "validation: {} credential{} checked ({}); egress log: {}",
                checked.checked,
                if checked.checked == 1 { "" } else { "s" },
                if verdicts.is_empty() {
                    "none".to_owned()
                } else {
                    verdicts.join(", ")
                },
                js.egress_log.display()
            );
        }
    }

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let opts = RenderOptions {
        show_secrets: args.show_secrets,
        color: args.format == FormatArg::Text && global.color.enabled(to_terminal),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        rules,
        base_uri: base_uri(),
    };
    let written = match &args.output {
        Some(path) => {
            let mut file = io::BufWriter::new(fs_err::File::create(path)?);
            render(&report, args.format.into(), &opts, &mut file).and_then(|()| file.flush())
        }
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            render(&report, args.format.into(), &opts, &mut out).and_then(|()| out.flush())
        }
    };
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("cannot write the report")?,
    }
    summary(global, &report);

    let code = if report.has_errors() {
        EXIT_ERROR
    } else if !report.findings.is_empty() && !args.exit_zero {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    };
    Ok(ExitCode::from(code))
}

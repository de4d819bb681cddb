//! `keyhound scan`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use keyhound_report::{RenderOptions, render};
use keyhound_rules::Severity;
use keyhound_scan::incremental::{History, RepoMemory};
use keyhound_scan::suppress::{Baseline, PathAllowlist, Suppressions};
use keyhound_scan::{
    GitSettings, Input, Progress, ScanReport, ScanSettings, Scanner, ScannerOptions,
};
use keyhound_sources::Limits;
use keyhound_sources::fs_walk::WalkOptions;
use keyhound_sources::git::RemoteOptions;
use keyhound_store::{NewRun, RunId, RunKind, RunResult, RunStatus, Store};

use keyhound_jfrog::enrich::{EnrichOptions, enrich, plan_findings};
use keyhound_jfrog::validate::Validator;

use crate::args::{
    FormatArg, GitHistory, GlobalArgs, ScanArgs, default_clone_dir, stderr_is_terminal,
};
use crate::cmd_rules::load_rules;
use crate::settings::{self, KeyUse};

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

fn summary(global: &GlobalArgs, report: &ScanReport, recorded: Option<&str>) {
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
    for repo in report.repos.iter().filter(|r| !r.replace) {
        let _ = writeln!(
            err,
            "history of {}: {} new blob{} scanned, {} known blob{} and {} known pack{} skipped",
            repo.display,
            repo.blobs.len(),
            if repo.blobs.len() == 1 { "" } else { "s" },
            repo.known_blobs,
            if repo.known_blobs == 1 { "" } else { "s" },
            repo.known_packs,
            if repo.known_packs == 1 { "" } else { "s" },
        );
    }
    let s = report.suppressed;
    if !s.is_empty() {
        let parts: Vec<String> = [
            (s.inline, "by keyhound:allow comments"),
            (s.baseline, "by the baseline"),
            (s.fingerprints, "by allowlisted fingerprints"),
            (s.paths, "locations under allowlisted paths"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let _ = writeln!(err, "suppressed: {}", parts.join(", "));
    }
    if let Some(line) = recorded {
        let _ = writeln!(err, "{line}");
    }
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

/// The limits the scan flags set.
fn limits(args: &ScanArgs) -> Limits {
    let unlimited = |v: u64| if v == 0 { u64::MAX } else { v };
    Limits {
        max_file_size: (args.max_file_size > 0).then_some(args.max_file_size),
        archive_depth: if args.no_archives {
            0
        } else {
            args.archive_depth
        },
        max_archive_bytes: unlimited(args.max_archive_bytes),
        max_archive_ratio: unlimited(args.max_archive_ratio),
        max_archive_entries: unlimited(args.max_archive_entries),
        ..Limits::default()
    }
}

/// The rules of a scan: built-in and custom ones, less those `[allowlist] disabled_rules`
/// names, each with the `[allowlist]` regexes and stopwords as one more allowlist.
fn rules_with_allowlist(
    args: &ScanArgs,
    global: &GlobalArgs,
    allow: &settings::AllowSettings,
) -> Result<Vec<keyhound_rules::Rule>> {
    let mut rules = load_rules(&args.rules, global.quiet)?;
    if !allow.disabled_rules.is_empty() {
        for id in &allow.disabled_rules {
            if !rules.iter().any(|r| &r.id == id) {
                tracing::warn!(rule = %id, "keyhound.toml disables a rule that does not exist");
            }
        }
        rules.retain(|r| !allow.disabled_rules.contains(&r.id));
    }
    if !allow.regexes.is_empty() || !allow.stopwords.is_empty() {
        for re in &allow.regexes {
            regex::bytes::Regex::new(re)
                .with_context(|| format!("invalid [allowlist] regex {re:?} in keyhound.toml"))?;
        }
        let list = keyhound_rules::Allowlist {
            description: "keyhound.toml [allowlist]".into(),
            regexes: allow.regexes.clone(),
            stopwords: allow.stopwords.clone(),
            ..keyhound_rules::Allowlist::default()
        };
        for rule in &mut rules {
            rule.allowlists.push(list.clone());
        }
    }
    Ok(rules)
}

/// How a scan target is recorded: absolute paths and URLs without credentials, sorted.
pub fn normalize_target(args: &[PathBuf], stdin_name: &str) -> String {
    let mut parts: Vec<String> = args
        .iter()
        .map(|p| match p.to_str() {
            Some("-") => format!("stdin:{stdin_name}"),
            Some(s) if keyhound_sources::git::is_remote_url(s) => {
                keyhound_sources::git::redact_url(s)
            }
            _ => fs_err::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .to_string_lossy()
                .into_owned(),
        })
        .collect();
    parts.sort();
    parts.dedup();
    parts.join(" ")
}

/// The run being recorded in the findings database.
pub struct Recording {
    /// The store, shared with the incremental history.
    pub store: Arc<Mutex<Store>>,
    /// The run.
    pub run: RunId,
    /// Store secret values.
    pub store_secrets: bool,
    /// Where (for messages).
    pub location: String,
    heartbeat: Option<Heartbeat>,
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Recording {
    fn start(
        global: &GlobalArgs,
        args: &ScanArgs,
        files: &[settings::Loaded],
        rules_version: &str,
    ) -> Result<Recording> {
        let st = settings::store(global, files)?;
        let store_secrets = args.store.store_secrets || st.store_secrets;
        let mut store = st.open(if store_secrets {
            KeyUse::Write
        } else {
            KeyUse::None
        })?;
        let interrupted = store.recover_interrupted()?;
        if !interrupted.is_empty() && !global.quiet {
            let ids: Vec<String> = interrupted.iter().map(ToString::to_string).collect();
            eprintln!(
                "keyhound: run{} {} did not finish (its process is gone); marked interrupted",
                if ids.len() == 1 { "" } else { "s" },
                ids.join(", ")
            );
        }
        let run = store.begin_run(&NewRun {
            kind: RunKind::Scan,
            target: normalize_target(&args.paths, &args.stdin_name),
            rules_version: rules_version.to_owned(),
            keyhound_version: env!("CARGO_PKG_VERSION").to_owned(),
        })?;
        Ok(Recording {
            store: Arc::new(Mutex::new(store)),
            run,
            store_secrets,
            location: st.location.redacted(),
            heartbeat: Some(Heartbeat::start(st, run)),
        })
    }

    /// Records the outcome; the run fails when `error` is given.
    pub fn finish(mut self, report: &ScanReport, error: Option<&anyhow::Error>) -> Result<()> {
        drop(self.heartbeat.take());
        let mut stats = keyhound_report::summary_json(report);
        if let Some(list) = stats
            .get_mut("skipped_inputs")
            .and_then(serde_json::Value::as_array_mut)
        {
            list.truncate(100);
        }
        let result = RunResult {
            status: if error.is_some() {
                RunStatus::Failed
            } else {
                RunStatus::Completed
            },
            stats,
            findings: &report.findings,
            store_secrets: self.store_secrets && error.is_none(),
            repos: &report.repos,
            error: error.map(crate::chain),
        };
        lock(&self.store)
            .finish_run(self.run, &result)
            .with_context(|| format!("cannot record run {} in {}", self.run, self.location))
    }
}

/// Tells the database every minute that a long run is still alive, from a thread with a
/// connection of its own (opened only when a minute has passed).
struct Heartbeat {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    const EVERY: Duration = Duration::from_secs(60);

    fn start(settings: settings::StoreSettings, run: RunId) -> Heartbeat {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut store = None;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(Heartbeat::EVERY)
            {
                if store.is_none() {
                    store = settings.open(KeyUse::None).ok();
                }
                if let Some(s) = store.as_mut() {
                    if let Err(e) = s.heartbeat(run) {
                        tracing::debug!(error = %e, "heartbeat failed");
                    }
                }
            }
        });
        Heartbeat {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The incremental history, read from the store.
struct StoreHistory(Arc<Mutex<Store>>);

impl History for StoreHistory {
    fn recall(&self, key: &str, profile: &str) -> Option<RepoMemory> {
        match lock(&self.0).repo_memory(key, profile) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(repo = %key, error = %e, "cannot read what earlier scans remember; scanning every blob");
                None
            }
        }
    }
}

/// A scan, done: validated and with its suppressions applied.
pub struct Scanned {
    /// The report.
    pub report: ScanReport,
    /// The rules it ran.
    pub rules: Vec<keyhound_rules::Rule>,
    /// The run being recorded, unless `--no-store`.
    pub recording: Option<Recording>,
}

/// Scans as `args` say; the run is begun in the database, not yet finished. `Ok(Err(code))`
/// when `--validate-plan` printed its plan instead.
pub fn scan(global: &GlobalArgs, args: &ScanArgs) -> Result<Result<Scanned, ExitCode>> {
    let roots: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let files = settings::discover(global, &roots)?;
    let allow = settings::allowlist(&files);
    let rules = rules_with_allowlist(args, global, &allow)?;
    let scanner = Scanner::new(rules.clone(), ScannerOptions::default())
        .context("cannot compile the rules")?;
    let baseline = match &args.store.baseline {
        Some(path) => Some(Baseline::read(path)?),
        None => None,
    };
    let suppressions = Suppressions {
        paths: PathAllowlist::new(&allow.paths)
            .context("invalid [allowlist] paths in keyhound.toml")?,
        roots: roots
            .iter()
            .map(|r| r.to_string_lossy().into_owned())
            .collect(),
        fingerprints: allow.fingerprints.iter().cloned().collect(),
        baseline,
    };
    let limits = limits(args);
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
    let recording = if args.store.no_store || args.validate_plan {
        None
    } else {
        Some(Recording::start(
            global,
            args,
            &files,
            scanner.rules_version(),
        )?)
    };
    let history: Option<Arc<dyn History>> = match &recording {
        Some(r) if !args.store.no_incremental => Some(Arc::new(StoreHistory(r.store.clone()))),
        _ => None,
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
    let settings = ScanSettings { walk, git, history };

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
    if let Err(e) = result {
        if let Some(r) = recording {
            if let Err(record) = r.finish(&report, Some(&e)) {
                tracing::error!(error = %crate::chain(&record), "cannot record the failed run");
            }
        }
        return Err(e);
    }
    suppressions.apply(&mut report);

    if args.validate || args.validate_plan {
        let js = crate::settings::jfrog(&args.jfrog, &files)?;
        let now = keyhound_jfrog::now();
        if args.validate_plan {
            return print_plan(global, args, &js, &report, now).map(Err);
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
    Ok(Ok(Scanned {
        report,
        rules,
        recording,
    }))
}

/// Writes `report` as `format` to `output` or stdout. A closed pipe is not an error.
pub fn write_report(
    report: &ScanReport,
    format: FormatArg,
    output: Option<&Path>,
    opts: &RenderOptions,
) -> Result<()> {
    let written = match output {
        Some(path) => {
            let mut file = io::BufWriter::new(fs_err::File::create(path)?);
            render(report, format.into(), opts, &mut file).and_then(|()| file.flush())
        }
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            render(report, format.into(), opts, &mut out).and_then(|()| out.flush())
        }
    };
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the report"),
    }
}

/// Render options for `format` on stdout or a file.
pub fn render_options(
    global: &GlobalArgs,
    format: FormatArg,
    to_file: bool,
    show_secrets: bool,
    rules: Vec<keyhound_rules::Rule>,
) -> RenderOptions {
    let to_terminal = !to_file && io::stdout().is_terminal();
    RenderOptions {
        show_secrets,
        color: format == FormatArg::Text && global.color.enabled(to_terminal),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        rules,
        base_uri: base_uri(),
    }
}

/// Records the run (when recording), prints the summary, and says how to exit.
pub fn conclude(global: &GlobalArgs, report: &ScanReport, recording: Option<Recording>) -> u8 {
    let mut recorded = true;
    let mut line = None;
    if let Some(r) = recording {
        let (run, location) = (r.run, r.location.clone());
        match r.finish(report, None) {
            Ok(()) => line = Some(format!("recorded as run {run} in {location}")),
            Err(e) => {
                crate::print_error(&e);
                recorded = false;
            }
        }
    }
    summary(global, report, line.as_deref());
    if report.has_errors() || !recorded {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }
}

/// Runs `keyhound scan`.
pub fn run(global: &GlobalArgs, args: &ScanArgs) -> Result<ExitCode> {
    let Scanned {
        report,
        rules,
        recording,
    } = match scan(global, args)? {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let opts = render_options(
        global,
        args.format,
        args.output.is_some(),
        args.show_secrets,
        rules,
    );
    write_report(&report, args.format, args.output.as_deref(), &opts)?;
    let code = match conclude(global, &report, recording) {
        EXIT_CLEAN if !report.findings.is_empty() && !args.exit_zero => EXIT_FINDINGS,
        code => code,
    };
    Ok(ExitCode::from(code))
}

//! The sink that scans blobs and collects findings, one partial result per thread.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use keyhound_engine::{Facts, Flag, Match, Scratch, Secret};
use keyhound_rules::Severity;
use keyhound_sources::{Blob, Origin, Sink, Skipped, Worker};

use crate::position::LineCursor;
use crate::{
    Finding, GitLocation, ImageLocation, Location, Progress, ScanReport, Scanner, Stats,
    fingerprint,
};

struct Pending {
    rule: usize,
    secret: Secret,
    occurrences: Vec<(Location, Facts)>,
}

#[derive(Default)]
struct Partial {
    findings: HashMap<String, Pending>,
    skipped: Vec<Skipped>,
    inputs: u64,
    bytes: u64,
    matches: u64,
    allowed_inline: u64,
}

impl Partial {
    fn absorb(&mut self, other: Partial) {
        for (fp, pending) in other.findings {
            match self.findings.get_mut(&fp) {
                Some(p) => p.occurrences.extend(pending.occurrences),
                None => {
                    self.findings.insert(fp, pending);
                }
            }
        }
        self.skipped.extend(other.skipped);
        self.inputs += other.inputs;
        self.bytes += other.bytes;
        self.matches += other.matches;
        self.allowed_inline += other.allowed_inline;
    }
}

pub(crate) struct Collector<'s> {
    scanner: &'s Scanner,
    progress: &'s Progress,
    shared: Mutex<Partial>,
}

impl<'s> Collector<'s> {
    pub(crate) fn new(scanner: &'s Scanner, progress: &'s Progress) -> Collector<'s> {
        Collector {
            scanner,
            progress,
            shared: Mutex::new(Partial::default()),
        }
    }

    pub(crate) fn finish(self, duration: Duration) -> ScanReport {
        let partial = self
            .shared
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let matcher = &self.scanner.matcher;
        let mut findings: Vec<Finding> = partial
            .findings
            .into_iter()
            .map(|(fp, mut p)| {
                p.occurrences.sort_by(|a, b| a.0.cmp(&b.0));
                p.occurrences.dedup_by(|a, b| a.0 == b.0);
                let mut facts = Facts::default();
                for (_, f) in &p.occurrences {
                    facts.merge(f);
                }
                let rule = matcher.rule(p.rule);
                Finding {
                    fingerprint: fp,
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    category: rule.category.clone(),
                    severity: severity(rule.severity, &facts),
                    confidence: rule.confidence,
                    secret: p.secret,
                    facts,
                    locations: p.occurrences.into_iter().map(|(l, _)| l).collect(),
                    presence: None,
                    checks: crate::Checks::default(),
                }
            })
            .collect();
        sort_findings(&mut findings);
        let mut skipped = partial.skipped;
        crate::sort_skipped(&mut skipped);
        ScanReport {
            findings,
            stats: Stats {
                inputs: partial.inputs,
                bytes: partial.bytes,
                matches: partial.matches,
                duration,
            },
            skipped,
            repos: Vec::new(),
            suppressed: crate::suppress::Suppressed {
                inline: partial.allowed_inline,
                ..Default::default()
            },
        }
    }
}

/// An admin-scoped token is critical whatever the rule says.
fn severity(rule: Severity, facts: &Facts) -> Severity {
    if facts.flags.contains(&Flag::AdminScope) {
        Severity::Critical
    } else {
        rule
    }
}

fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.locations.first().cmp(&b.locations.first()))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
}

/// Merges findings with equal fingerprints (from separate scans) and sorts them.
pub(crate) fn merge_findings(all: Vec<Finding>) -> Vec<Finding> {
    let mut by_fp: HashMap<String, Finding> = HashMap::new();
    for f in all {
        match by_fp.get_mut(&f.fingerprint) {
            Some(existing) => {
                existing.locations.extend(f.locations);
                existing.locations.sort();
                existing.locations.dedup();
                existing.facts.merge(&f.facts);
                existing.severity = existing.severity.max(f.severity);
            }
            None => {
                by_fp.insert(f.fingerprint.clone(), f);
            }
        }
    }
    let mut findings: Vec<Finding> = by_fp.into_values().collect();
    sort_findings(&mut findings);
    findings
}

pub(crate) struct CollectWorker<'a> {
    collector: &'a Collector<'a>,
    scratch: Scratch,
    matches: Vec<Match>,
    partial: Partial,
}

impl<'s> Sink for Collector<'s> {
    type Worker<'a>
        = CollectWorker<'a>
    where
        Self: 'a;

    fn worker(&self) -> CollectWorker<'_> {
        CollectWorker {
            collector: self,
            scratch: self.scanner.matcher.scratch(),
            matches: Vec::new(),
            partial: Partial::default(),
        }
    }
}

impl Worker for CollectWorker<'_> {
    fn blob(&mut self, blob: Blob<'_>) {
        let scanner = self.collector.scanner;
        self.matches.clear();
        scanner
            .matcher
            .scan(blob.data, &mut self.scratch, &mut self.matches);
        if self.matches.is_empty() {
            return;
        }
        crate::instance_url::annotate(blob.data, &mut self.matches, &scanner.matcher);
        // A git blob's paths are attributed after matching (see git_scan.rs); meanwhile the
        // path holds what follows the blob (`!/member` for an archive committed to git).
        let (path, git) = match blob.origin.git_root() {
            Some((repo, id)) => {
                let full = blob.origin.display_path();
                let suffix = full
                    .strip_prefix(&format!("{repo}@{id}"))
                    .unwrap_or_default()
                    .to_owned();
                let git = GitLocation {
                    repository: repo.to_string(),
                    blob: id.to_string(),
                    ..GitLocation::default()
                };
                (suffix, Some(git))
            }
            None => (blob.origin.display_path(), None),
        };
        let archive_chain = blob.origin.archive_chain();
        let image = ImageLocation::of(blob.origin);
        let mut cursor = LineCursor::new(blob.data);
        let mut reported = 0;
        for m in self.matches.drain(..) {
            if m.start >= blob.chunk.report_until {
                continue;
            }
            if crate::path_filter::drops(&scanner.matcher, &m, &path) {
                continue;
            }
            let rule = scanner.matcher.rule(m.rule);
            if crate::suppress::allowed_inline(blob.data, m.start, m.end, &rule.id) {
                self.partial.allowed_inline += 1;
                continue;
            }
            let (line, column) = cursor.at(m.start);
            let (end_line, end_column) = cursor.peek(m.end);
            let location = Location {
                path: path.clone(),
                line: blob.chunk.line + line + 1,
                column,
                end_line: blob.chunk.line + end_line + 1,
                end_column,
                offset: blob.chunk.offset + m.start as u64,
                encoding: blob.chunk.encoding.label(),
                decoded_from: m.decoded_by.map(|r| scanner.matcher.rule(r).id.clone()),
                git: git.clone(),
                archive_chain: archive_chain.clone(),
                image: image.clone(),
            };
            let fp = fingerprint(&scanner.key, rule.family(), m.secret.expose());
            self.partial
                .findings
                .entry(fp)
                .or_insert_with(|| Pending {
                    rule: m.rule,
                    secret: m.secret.clone(),
                    occurrences: Vec::new(),
                })
                .occurrences
                .push((location, m.facts));
            reported += 1;
        }
        self.partial.matches += reported;
        self.collector
            .progress
            .add(&self.collector.progress.matches, reported);
    }

    fn skipped(&mut self, skipped: Skipped) {
        tracing::warn!(path = %skipped.origin, reason = skipped.reason.as_str(), detail = %skipped.detail, "skipped");
        self.partial.skipped.push(skipped);
    }

    fn input_done(&mut self, _origin: &Origin, bytes: u64) {
        self.partial.inputs += 1;
        self.partial.bytes += bytes;
        let progress = self.collector.progress;
        progress.add(&progress.inputs, 1);
        progress.add(&progress.bytes, bytes);
    }
}

impl Drop for CollectWorker<'_> {
    fn drop(&mut self) {
        let partial = std::mem::take(&mut self.partial);
        let mut shared = self
            .collector
            .shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.absorb(partial);
    }
}

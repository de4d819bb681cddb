//! Validation and blast radius for a scan's findings: each JFrog finding is resolved to its
//! instance, validated once per (secret, instance), and, when live, measured. Results go into
//! [`keyhound_scan::Finding::checks`]; severity is raised to what the blast radius shows.

use std::sync::Arc;

use keyhound_rules::Severity;
use keyhound_scan::Finding;
use serde::Serialize;

use crate::blast::blast_radius;
use crate::credential::Credential;
use crate::instance::{InstanceResolver, Resolution};
use crate::validate::{PlannedRequest, Validation, Validator, Verdict, plan};

/// What to do.
#[derive(Debug, Clone)]
pub struct EnrichOptions {
    /// Measure the blast radius of live credentials.
    pub blast_radius: bool,
    /// An admin credential for permission lookups.
    pub admin: Option<Credential>,
    /// The current time.
    pub now: i64,
}

/// Counts of verdicts, for the run summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EnrichSummary {
    /// Findings checked (JFrog credentials).
    pub checked: usize,
    /// Per verdict.
    pub verdicts: std::collections::BTreeMap<&'static str, usize>,
}

/// The JFrog credential of a finding, if it is one.
pub fn credential_of(f: &Finding, now: i64) -> Option<Credential> {
    Credential::from_finding(&f.rule_id, &f.secret, &f.facts, &f.fingerprint, now)
}

/// Every request `--validate` would send for these findings (nothing is sent).
pub fn plan_findings(
    resolver: &InstanceResolver,
    findings: &[Finding],
    now: i64,
) -> Vec<PlannedRequest> {
    let mut out: Vec<PlannedRequest> = Vec::new();
    for f in findings {
        let Some(cred) = credential_of(f, now) else {
            continue;
        };
        let resolution = resolver.resolve(cred.beside_url(), cred.instance_id());
        for p in plan(&cred, &resolution) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn severity_of(s: &str) -> Option<Severity> {
    match s {
        "critical" => Some(Severity::Critical),
        "high" => Some(Severity::High),
        "medium" => Some(Severity::Medium),
        _ => None,
    }
}

/// Validates every JFrog finding (concurrently, bounded per instance by the client) and
/// measures the live ones.
pub async fn enrich(
    validator: Arc<Validator>,
    resolver: &InstanceResolver,
    findings: &mut [Finding],
    opts: &EnrichOptions,
) -> EnrichSummary {
    let mut tasks = tokio::task::JoinSet::new();
    let admin = Arc::new(opts.admin.clone());
    for (i, f) in findings.iter().enumerate() {
        let Some(cred) = credential_of(f, opts.now) else {
            continue;
        };
        let resolution = resolver.resolve(cred.beside_url(), cred.instance_id());
        let validator = validator.clone();
        let admin = admin.clone();
        let want_blast = opts.blast_radius;
        tasks.spawn(async move {
            let v: Validation = validator.validate(&cred, &resolution).await;
            let radius = match (&resolution, v.status) {
                (Resolution::Found(instance), Verdict::Live | Verdict::Forbidden) if want_blast => {
                    Some(
                        blast_radius(
                            validator.client(),
                            &cred,
                            instance,
                            &v,
                            admin.as_ref().as_ref(),
                        )
                        .await,
                    )
                }
                _ => None,
            };
            (i, v, radius)
        });
    }
    let mut summary = EnrichSummary::default();
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, v, radius)) = joined else {
            continue;
        };
        let f = &mut findings[i];
        summary.checked += 1;
        *summary.verdicts.entry(v.status.as_str()).or_default() += 1;
        if v.status.is_live() {
            f.severity = f.severity.max(Severity::High);
        }
        if let Some(r) = &radius {
            if let Some(s) = severity_of(&r.severity) {
                f.severity = f.severity.max(s);
            }
            f.checks.blast_radius = serde_json::to_value(r).ok();
        }
        f.checks.validation = serde_json::to_value(&v).ok();
    }
    summary
}

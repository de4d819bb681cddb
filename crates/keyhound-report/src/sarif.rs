//! SARIF 2.1.0 output, checked in CI by Microsoft's `Sarif.Multitool validate`.
//!
//! One result per finding: the first location is the result's location and the others are
//! `relatedLocations`, so a dashboard shows one alert per secret. `partialFingerprints`
//! carries the value-based fingerprint, which does not change when the secret moves.

use std::collections::BTreeMap;
use std::io::{self, Write};

use keyhound_rules::{Confidence, Severity};
use keyhound_scan::{Location, ScanReport};
use serde_json::{Value, json};

use crate::RenderOptions;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFO_URI: &str = "https://github.com/keyhound/keyhound";
const BASE_ID: &str = "%SRCROOT%";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// Percent-encodes a path for a URI reference: unreserved characters, sub-delimiters, `:`,
/// `@` and `/` stay; everything else (spaces, `%`, `#`, `?`, non-ASCII bytes) is encoded.
pub(crate) fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifact_location(path: &str) -> Value {
    if path.starts_with('/') {
        json!({"uri": format!("file://{}", uri_path(path))})
    } else {
        json!({"uri": uri_path(path), "uriBaseId": BASE_ID})
    }
}

fn location(l: &Location) -> Value {
    let mut v = json!({"physicalLocation": physical(l)});
    if let Some(g) = &l.git {
        v["properties"] = json!({"git": g});
    }
    v
}

fn physical(l: &Location) -> Value {
    json!({
        "artifactLocation": artifact_location(&l.path),
        "region": {
            "startLine": l.line,
            "startColumn": l.column,
            "endLine": l.end_line,
            "endColumn": l.end_column.max(1),
        },
    })
}

/// A PascalCase identifier from a rule name (SARIF `reportingDescriptor.name`).
fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub(crate) fn render(
    report: &ScanReport,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Rule descriptors for the rules that produced results, in id order.
    let used: BTreeMap<&str, ()> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), ()))
        .collect();
    let mut rules = Vec::new();
    let mut index = BTreeMap::new();
    for id in used.keys() {
        let Some(rule) = opts.rules.iter().find(|r| r.id == *id) else {
            continue;
        };
        index.insert(*id, rules.len());
        let mut descriptor = json!({
            "id": rule.id,
            "name": pascal(&rule.name),
            "shortDescription": {"text": format!("{}.", rule.name)},
            "fullDescription": {"text": if rule.description.is_empty() { format!("{}.", rule.name) } else { rule.description.trim().to_owned() }},
            "help": {"text": format!("{} Revoke the credential, replace it, and remove it from the file and its history.", rule.description.trim())},
            "defaultConfiguration": {"level": level(rule.severity)},
            "properties": {
                "tags": ["security", "secret", rule.category],
                "precision": precision(rule.confidence),
                "security-severity": security_severity(rule.severity),
            },
        });
        if let Some(uri) = rule.references.first() {
            descriptor["helpUri"] = Value::String(uri.clone());
        }
        rules.push(descriptor);
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .filter_map(|f| {
            let (first, rest) = f.locations.split_first()?;
            let secret = opts.shown_secret(f);
            let n = f.locations.len();
            let verdict = crate::verdict(f).map(|v| format!(" Validation: {v}.")).unwrap_or_default();
            let blast = f
                .checks
                .blast_radius
                .as_ref()
                .and_then(|b| b.get("summary").and_then(Value::as_str))
                .map(|s| format!(" Blast radius: {s}."))
                .unwrap_or_default();
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": level(f.severity),
                "message": {"text": format!("{} found: {secret} ({n} location{}).{verdict}{blast}", f.rule_name, if n == 1 { "" } else { "s" })},
                "locations": [location(first)],
                "partialFingerprints": {"keyhound/v1": f.fingerprint},
                "properties": {
                    "presence": f.presence.map(|p| p.as_str()),
                    "severity": f.severity.as_str(),
                    "confidence": f.confidence.as_str(),
                    "facts": f.facts,
                },
            });
            if let Some(v) = &f.checks.validation {
                result["properties"]["validation"] = v.clone();
            }
            if let Some(b) = &f.checks.blast_radius {
                result["properties"]["blast_radius"] = b.clone();
            }
            if let Some(i) = index.get(f.rule_id.as_str()) {
                result["ruleIndex"] = (*i).into();
            }
            if !rest.is_empty() {
                let related: Vec<Value> = rest
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let mut v = location(l);
                        v["id"] = (i + 1).into();
                        v["message"] = json!({"text": "The same secret."});
                        v
                    })
                    .collect();
                result["relatedLocations"] = Value::Array(related);
            }
            Some(result)
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "keyhound",
            "semanticVersion": opts.tool_version,
            "informationUri": INFO_URI,
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(base) = &opts.base_uri {
        run["originalUriBaseIds"] = json!({BASE_ID: {"uri": base}});
    }
    let doc = json!({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]});
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths() {
        assert_eq!(uri_path("src/a b#c.rs"), "src/a%20b%23c.rs");
        assert_eq!(uri_path("é"), "%C3%A9");
        assert_eq!(uri_path("app.war!/WEB-INF/x.xml"), "app.war!/WEB-INF/x.xml");
    }

    #[test]
    fn pascal_names() {
        assert_eq!(
            pascal("JFrog Artifactory API key"),
            "JFrogArtifactoryAPIKey"
        );
        assert_eq!(
            pascal("npm _auth for an Artifactory registry"),
            "NpmAuthForAnArtifactoryRegistry"
        );
    }
}

//! Renders a [`ScanReport`] in the formats users ask for: `text` for people, `json` and
//! `jsonl` for scripts, `sarif` for code-scanning dashboards, `csv` for spreadsheets.
//!
//! Secrets are redacted in every format unless [`RenderOptions::show_secrets`] is set. This
//! crate does no I/O of its own: it writes to the `Write` it is given.
//!
//! ```
//! use keyhound_report::{Format, RenderOptions, render};
//! let report = keyhound_scan::ScanReport::default();
//! let mut out = Vec::new();
//! render(&report, Format::Json, &RenderOptions::default(), &mut out).expect("render");
//! assert!(String::from_utf8(out).expect("utf-8").contains("\"findings\": []"));
//! ```

mod csv_out;
mod json;
mod sarif;
mod text;

use std::io::{self, Write};

use keyhound_rules::Rule;
use keyhound_scan::ScanReport;

pub use json::{finding_json, summary_json};

/// The one-line verdict of a finding's validation, such as `live`, `forbidden (live but
/// restricted)` or `unknown (network: timeout)`; `None` when it was not validated.
pub fn verdict(f: &keyhound_scan::Finding) -> Option<String> {
    let v = f.checks.validation.as_ref()?;
    let status = v.get("status")?.as_str()?;
    let reason = v.get("reason").and_then(serde_json::Value::as_str);
    Some(match (status, reason) {
        ("forbidden", _) => "forbidden (live but restricted)".to_owned(),
        ("unknown", Some(r)) => format!("unknown ({r})"),
        (s, _) => s.to_owned(),
    })
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable, coloured on a terminal.
    #[default]
    Text,
    /// One JSON document with findings and a summary.
    Json,
    /// One JSON object per finding per line.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// One row per location.
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Ok(match s {
            "text" => Format::Text,
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            "sarif" => Format::Sarif,
            "csv" => Format::Csv,
            other => {
                return Err(format!(
                    "unknown format {other:?} (text, json, jsonl, sarif, csv)"
                ));
            }
        })
    }
}

/// Rendering options.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Print secret values instead of redacted previews.
    pub show_secrets: bool,
    /// Use ANSI colours (text format only).
    pub color: bool,
    /// keyhound's version, for SARIF and JSON.
    pub tool_version: String,
    /// The rules of the scan, for SARIF rule descriptors.
    pub rules: Vec<Rule>,
    /// The directory relative paths are relative to, as an absolute `file://` URI ending in
    /// `/` (SARIF `originalUriBaseIds`).
    pub base_uri: Option<String>,
}

impl RenderOptions {
    /// The secret as this report shows it: the value with `show_secrets`, else the redacted
    /// preview. A secret whose value is not known (a stored finding saved without
    /// `--store-secrets`) always shows its preview.
    pub fn shown_secret(&self, f: &keyhound_scan::Finding) -> String {
        if self.show_secrets && !f.secret.is_withheld() {
            f.secret.expose_str().into_owned()
        } else {
            f.redacted()
        }
    }
}

/// Writes `report` in `format`.
pub fn render(
    report: &ScanReport,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(report, opts, out),
        Format::Json => json::render(report, opts, out),
        Format::Jsonl => json::render_lines(report, opts, out),
        Format::Sarif => sarif::render(report, opts, out),
        Format::Csv => csv_out::render(report, opts, out),
    }
}

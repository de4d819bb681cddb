//! CSV output: one row per location.

use std::io::{self, Write};

use keyhound_scan::ScanReport;

use crate::RenderOptions;

pub(crate) fn render(
    report: &ScanReport,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "fingerprint",
        "rule_id",
        "rule_name",
        "severity",
        "confidence",
        "secret",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "commit",
        "author",
        "author_date",
        "presence",
        "validation",
    ])?;
    for f in &report.findings {
        let secret = opts.shown_secret(f);
        let verdict = crate::verdict(f).unwrap_or_default();
        for l in &f.locations {
            w.write_record([
                f.fingerprint.as_str(),
                &f.rule_id,
                &f.rule_name,
                f.severity.as_str(),
                f.confidence.as_str(),
                &secret,
                &l.path,
                &l.line.to_string(),
                &l.column.to_string(),
                &l.end_line.to_string(),
                &l.end_column.to_string(),
                l.git
                    .as_ref()
                    .and_then(|g| g.commit.as_deref())
                    .unwrap_or(""),
                l.git
                    .as_ref()
                    .and_then(|g| g.author_email.as_deref())
                    .unwrap_or(""),
                l.git
                    .as_ref()
                    .and_then(|g| g.author_date.as_deref())
                    .unwrap_or(""),
                f.presence.map_or("", |p| p.as_str()),
                &verdict,
            ])?;
        }
    }
    w.flush()
}

//! Suppressions: what a team has decided not to be told about again.
//!
//! - **Inline comments.** A line holding `keyhound:allow` reports nothing; `keyhound:allow=ID`
//!   (or `=ID1,ID2`) reports nothing of those rules only, so a wrong rule id suppresses
//!   nothing. `gitleaks:allow` works like a bare `keyhound:allow`, for code bases coming from
//!   gitleaks. Checked in the bytes, so it holds in history and archives too.
//! - **Paths** (`[allowlist] paths` in keyhound.toml): globs on the location's path relative to
//!   the scanned root; a glob without `/` matches a file or directory name anywhere. Checked
//!   per location after attribution, so they hold for history too; a finding left without
//!   locations is dropped.
//! - **Fingerprints** (`[allowlist] fingerprints`): findings by their fingerprint.
//! - **Baselines** ([`Baseline`]): a file of the findings that already existed, each
//!   fingerprinted again under the file's own random key, so the file can be committed and
//!   shared without revealing a secret or matching the fingerprints of any other file or
//!   database.

use std::collections::HashSet;
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::{Finding, FingerprintKey, ScanReport, fingerprint};

/// The marker of an inline suppression.
pub const ALLOW_MARKER: &[u8] = b"keyhound:allow";
/// gitleaks' marker, honoured as a bare [`ALLOW_MARKER`].
pub const GITLEAKS_MARKER: &[u8] = b"gitleaks:allow";

/// True when the lines holding `data[start..end]` carry an allow comment that covers
/// `rule_id`.
pub(crate) fn allowed_inline(data: &[u8], start: usize, end: usize, rule_id: &str) -> bool {
    let end = end.min(data.len());
    let start = start.min(end);
    let from = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
    let to = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
    let lines = &data[from..to];
    if memchr::memmem::find(lines, GITLEAKS_MARKER).is_some() {
        return true;
    }
    memchr::memmem::find_iter(lines, ALLOW_MARKER).any(|at| {
        let rest = &lines[at + ALLOW_MARKER.len()..];
        match rest.first() {
            Some(b'=') => {
                let list = &rest[1..];
                let len = list
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b"._-,:/".contains(&b)))
                    .unwrap_or(list.len());
                list[..len]
                    .split(|&b| b == b',')
                    .any(|id| !id.is_empty() && id == rule_id.as_bytes())
            }
            // A bare marker (followed by the end, a space, or the end of a comment).
            None => true,
            Some(b) => !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-'),
        }
    })
}

/// How many findings or locations each kind of suppression removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// Matches on lines with an allow comment.
    pub inline: u64,
    /// Locations under an allowlisted path.
    pub paths: u64,
    /// Findings allowlisted by fingerprint.
    pub fingerprints: u64,
    /// Findings in the baseline.
    pub baseline: u64,
}

impl Suppressed {
    /// True when nothing was suppressed.
    pub fn is_empty(&self) -> bool {
        *self == Suppressed::default()
    }
}

/// Errors of suppression settings and baseline files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A path glob does not parse.
    #[error("invalid allowlist path glob {glob:?}")]
    Glob {
        /// The glob.
        glob: String,
        /// Why.
        #[source]
        source: globset::Error,
    },
    /// A baseline file cannot be read or written.
    #[error("cannot use the baseline file {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A baseline file does not parse.
    #[error("the baseline file {path} is not a keyhound baseline")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A baseline file of another format version.
    #[error("the baseline file {path} has version {version}; this keyhound reads version 1")]
    Version {
        /// The file.
        path: String,
        /// Its version.
        version: u64,
    },
    /// A baseline key that is not 64 hex characters.
    #[error("the baseline file {path} has an invalid key")]
    Key {
        /// The file.
        path: String,
    },
}

/// Globs on location paths.
#[derive(Debug, Clone, Default)]
pub struct PathAllowlist {
    anywhere: Option<GlobSet>,
    rooted: Option<GlobSet>,
    globs: Vec<String>,
}

impl PathAllowlist {
    /// Compiles `globs`.
    pub fn new(globs: &[String]) -> Result<PathAllowlist, Error> {
        let mut anywhere = GlobSetBuilder::new();
        let mut rooted = GlobSetBuilder::new();
        let (mut any_n, mut rooted_n) = (0, 0);
        for g in globs {
            let pattern = g.trim_start_matches("./").trim_start_matches('/');
            let glob = GlobBuilder::new(pattern.trim_end_matches('/'))
                .literal_separator(true)
                .build()
                .map_err(|source| Error::Glob {
                    glob: g.clone(),
                    source,
                })?;
            if pattern.trim_end_matches('/').contains('/') {
                rooted.add(glob);
                rooted_n += 1;
                // `vendor/**` style globs also cover what lies below a matched directory.
            } else {
                anywhere.add(glob);
                any_n += 1;
            }
        }
        let build = |b: GlobSetBuilder, n: usize| -> Result<Option<GlobSet>, Error> {
            if n == 0 {
                return Ok(None);
            }
            b.build().map(Some).map_err(|source| Error::Glob {
                glob: globs.join(", "),
                source,
            })
        };
        Ok(PathAllowlist {
            anywhere: build(anywhere, any_n)?,
            rooted: build(rooted, rooted_n)?,
            globs: globs.to_vec(),
        })
    }

    /// True when there is no glob.
    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// True when `path` (as shown, possibly under one of `roots`, possibly an archive member
    /// chain `a.war!/b.jar!/c`) is allowlisted.
    pub fn matches(&self, path: &str, roots: &[String]) -> bool {
        let path = path.replace("!/", "/");
        let mut candidates = vec![path.trim_start_matches("./").to_owned()];
        for root in roots {
            let root = root.trim_end_matches('/');
            if root.is_empty() || root == "." {
                continue;
            }
            if let Some(rest) = path.strip_prefix(root).and_then(|r| r.strip_prefix('/')) {
                candidates.push(rest.to_owned());
            }
        }
        candidates.iter().any(|c| {
            let rooted = self.rooted.as_ref().is_some_and(|set| {
                // A glob matching a directory covers everything below it.
                let mut prefix = String::new();
                c.split('/').any(|part| {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(part);
                    set.is_match(&prefix)
                })
            });
            rooted
                || self
                    .anywhere
                    .as_ref()
                    .is_some_and(|set| c.split('/').any(|part| set.is_match(part)))
        })
    }
}

/// A baseline file: the findings that existed when it was made.
#[derive(Debug, Clone)]
pub struct Baseline {
    key: FingerprintKey,
    key_hex: String,
    entries: Vec<BaselineEntry>,
    set: HashSet<String>,
}

/// One finding of a baseline. Nothing in it reveals the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The fingerprint under the baseline's key.
    pub fingerprint: String,
    /// The rule that found it.
    pub rule_id: String,
    /// Where it was first listed (path:line), for people reviewing the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    keyhound_baseline: u64,
    /// 32 random bytes, hex: the key of this file's fingerprints.
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    findings: Vec<BaselineEntry>,
}

impl Baseline {
    /// A baseline of `findings`, under a new random key.
    pub fn create(findings: &[Finding]) -> Baseline {
        let mut raw = [0u8; 32];
        rand::fill(&mut raw);
        let key_hex = hex::encode(raw);
        let key = FingerprintKey::from_bytes(&raw);
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                fingerprint: rekey(&key, f),
                rule_id: f.rule_id.clone(),
                location: f
                    .locations
                    .first()
                    .map(|l| format!("{}:{}", l.path, l.line)),
            })
            .collect();
        entries.sort_by(|a, b| (&a.rule_id, &a.location).cmp(&(&b.rule_id, &b.location)));
        let set = entries.iter().map(|e| e.fingerprint.clone()).collect();
        Baseline {
            key,
            key_hex,
            entries,
            set,
        }
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, Error> {
        let shown = path.display().to_string();
        let text = fs_err::read_to_string(path).map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        let file: BaselineFile = serde_json::from_str(&text).map_err(|source| Error::Parse {
            path: shown.clone(),
            source,
        })?;
        if file.keyhound_baseline != 1 {
            return Err(Error::Version {
                path: shown,
                version: file.keyhound_baseline,
            });
        }
        let raw = hex::decode(&file.key)
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or(Error::Key { path: shown })?;
        let set = file
            .findings
            .iter()
            .map(|e| e.fingerprint.clone())
            .collect();
        Ok(Baseline {
            key: FingerprintKey::from_bytes(&raw),
            key_hex: file.key,
            entries: file.findings,
            set,
        })
    }

    /// Writes the baseline as JSON.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let file = BaselineFile {
            keyhound_baseline: 1,
            key: self.key_hex.clone(),
            created_at: Some(jiff::Timestamp::now().to_string()),
            findings: self.entries.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a baseline serializes");
        text.push('\n');
        fs_err::write(path, text).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// The findings it lists.
    pub fn entries(&self) -> &[BaselineEntry] {
        &self.entries
    }

    /// True when `f` is in the baseline.
    pub fn contains(&self, f: &Finding) -> bool {
        self.set.contains(&rekey(&self.key, f))
    }
}

/// A finding's fingerprint under a baseline's key: a keyed hash of its own value-based
/// fingerprint (itself a keyed hash of the rule family and the secret), so it survives moves
/// and reformatting like the finding's, and matches nothing outside the baseline.
fn rekey(key: &FingerprintKey, f: &Finding) -> String {
    fingerprint(key, "keyhound baseline v1", f.fingerprint.as_bytes())
}

/// The suppressions applied to a report after the scan.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// Path globs.
    pub paths: PathAllowlist,
    /// The scanned roots, as given (paths in locations start with them).
    pub roots: Vec<String>,
    /// Fingerprints (the findings' own).
    pub fingerprints: HashSet<String>,
    /// A baseline.
    pub baseline: Option<Baseline>,
}

impl Suppressions {
    /// Removes suppressed locations and findings from `report`, and counts them in
    /// `report.suppressed`.
    pub fn apply(&self, report: &mut ScanReport) {
        let mut counts = report.suppressed;
        report.findings.retain_mut(|f| {
            if self.fingerprints.contains(&f.fingerprint) {
                counts.fingerprints += 1;
                return false;
            }
            if self.baseline.as_ref().is_some_and(|b| b.contains(f)) {
                counts.baseline += 1;
                return false;
            }
            if !self.paths.is_empty() {
                let before = f.locations.len();
                f.locations
                    .retain(|l| !self.paths.matches(&l.path, &self.roots));
                counts.paths += (before - f.locations.len()) as u64;
            }
            !f.locations.is_empty()
        });
        report.suppressed = counts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markers() {
        let text = b"a = 1\nTOKEN=abc # keyhound:allow\nTOKEN=abc\n";
        let at = |line: &[u8]| {
            let i = memchr::memmem::find(text, line).expect("present");
            (i + 6, i + 9)
        };
        let (s, e) = at(b"TOKEN=abc # keyhound");
        assert!(allowed_inline(text, s, e, "any.rule"));
        let last = text.len() - 4;
        assert!(!allowed_inline(text, last, last + 3, "any.rule"));

        let with_id = b"key = 'x' // keyhound:allow=keyhound.jfrog.1,keyhound.npm.1\n";
        assert!(allowed_inline(with_id, 7, 8, "keyhound.jfrog.1"));
        assert!(allowed_inline(with_id, 7, 8, "keyhound.npm.1"));
        assert!(!allowed_inline(with_id, 7, 8, "keyhound.jfrog.2"));
        assert!(!allowed_inline(with_id, 7, 8, "keyhound.jfrog"));

        assert!(allowed_inline(b"k = 'x' # gitleaks:allow\n", 5, 6, "r"));
        assert!(allowed_inline(b"k = 'x' /* keyhound:allow */", 5, 6, "r"));
        // Not a marker: a longer word.
        assert!(!allowed_inline(b"k = 'x' # keyhound:allowed\n", 5, 6, "r"));
        // The comment on the next line does not count.
        assert!(!allowed_inline(b"k = 'x'\n# keyhound:allow\n", 5, 6, "r"));
        // A match spanning lines: the marker on any of them counts.
        assert!(allowed_inline(
            b"-----BEGIN # keyhound:allow\nAAAA\n",
            0,
            31,
            "r"
        ));
    }

    #[test]
    fn path_globs() {
        let p = PathAllowlist::new(&[
            "vendor/**".into(),
            "*.min.js".into(),
            "tests/fixtures/".into(),
            "node_modules".into(),
        ])
        .expect("globs");
        let roots = vec!["/src/app".to_owned(), "repo".to_owned()];
        assert!(p.matches("vendor/a/b.py", &roots));
        assert!(p.matches("/src/app/vendor/a.py", &roots));
        assert!(p.matches("repo/web/app.min.js", &roots));
        assert!(p.matches("tests/fixtures/keys/k.pem", &roots));
        assert!(p.matches("a/node_modules/x/index.js", &roots));
        assert!(p.matches("dist.war!/node_modules/x.js", &roots));
        assert!(!p.matches("src/vendor.py", &roots));
        assert!(!p.matches("other/vendor/a.py", &roots));
        assert!(!p.matches("app.js", &roots));
        assert!(PathAllowlist::new(&["a/[".into()]).is_err());
    }
}

//! The compiled matcher. See the crate docs for the pipeline.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use keyhound_rules::{Confidence, Rule};
use regex::bytes::{CaptureLocations, Regex};

use crate::allowlist::{CompiledAllowlist, Verdict};
use crate::decode::{DECODER_NAMES, DecodeCtx, Decoder};
use crate::entropy::shannon;
use crate::facts::Facts;
use crate::placeholder::is_placeholder;
use crate::prefilter::{self, Prefilter};
use crate::{CompileError, Secret};

/// Window on each side of a literal hit for patterns whose longest match is unbounded.
const DEFAULT_UNBOUNDED_WINDOW: usize = 512;
/// Upper bound for a derived window (a rule can ask for more with `window:`).
const MAX_DERIVED_WINDOW: usize = 4096;
/// Hard cap for any window, so that a hostile custom rule cannot make every hit rescan a file.
const MAX_WINDOW: usize = 64 * 1024;
/// Bytes past the window end that the regex may look at for a trailing `\b` or `$`.
const LOOKAHEAD: usize = 8;

/// Matcher settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Current Unix time in seconds, for expiry flags.
    pub now: i64,
    /// How many times decoded content (base64 inside base64...) is scanned again.
    pub max_decode_depth: u8,
}

impl Default for Options {
    fn default() -> Options {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Options {
            now,
            max_decode_depth: 2,
        }
    }
}

/// One rule hit in one input.
#[derive(Debug, Clone)]
pub struct Match {
    /// Index of the rule in [`Matcher::rules`].
    pub rule: usize,
    /// Byte offset of the secret in the input. For a secret found inside decoded content,
    /// the span of the encoded value that contained it.
    pub start: usize,
    /// End of the secret (exclusive).
    pub end: usize,
    /// The secret value (decoded, when found inside decoded content).
    pub secret: Secret,
    /// Decoded facts and the rule's other named groups (user names, hosts, URLs).
    pub facts: Facts,
    /// For a secret found inside decoded content: the rule whose decoder produced it.
    pub decoded_by: Option<usize>,
    /// Bit `i` set: the rule's allowlist `i` passed its content checks, and the input's path
    /// decides whether the match is reported ([`Matcher::dropped_by_path`]).
    pub path_allowlists: u64,
}

struct CompiledRule {
    rule: Rule,
    /// Compiled on the first window that needs it (`None`: it could not be). Compiling every
    /// regex of the pack up front costs more than a small scan does, and most scans reach
    /// few rules past the prefilter. [`Matcher::new`] has already checked the syntax.
    regex: OnceLock<Option<Regex>>,
    secret_group: usize,
    /// Other named groups, reported as facts.
    context_groups: Vec<(usize, String)>,
    window: usize,
    decoder: Option<Decoder>,
    /// Index in [`Matcher::require_sets`] of the rule's `requires` literals: one must occur
    /// in the input.
    requires: Option<usize>,
    precedence: (bool, Confidence, bool, bool),
    allowlists: Vec<CompiledAllowlist>,
    /// Some allowlist tests the line around the match.
    needs_line: bool,
    /// Facts the decoder must produce, with the regex their value must match.
    require_facts: Vec<(String, regex::Regex)>,
    /// The rule reports only in inputs whose path matches (gitleaks' rule `path`).
    paths: Option<regex::Regex>,
}

impl CompiledRule {
    /// The rule's regex, compiled on first use.
    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| match keyhound_rules::pattern_regex(&self.rule.pattern) {
                Ok(re) => Some(re),
                Err(error) => {
                    tracing::warn!(rule = %self.rule.id, %error, "the rule's regex does not compile; the rule is skipped");
                    None
                }
            })
            .as_ref()
    }
}

/// Rules compiled into one prefilter plus per-rule regexes. Cheap to share between threads;
/// each thread brings its own [`Scratch`].
pub struct Matcher {
    rules: Vec<CompiledRule>,
    /// Rules triggered by each prefilter literal.
    triggers: Vec<Vec<usize>>,
    prefilter: Prefilter,
    options: Options,
    max_window: usize,
    /// Rules without literals: their regex runs over every input.
    always: Vec<usize>,
    /// Some rule has a `paths` filter or an allowlist with path or commit checks.
    path_conditions: bool,
    /// Distinct `requires` sets (case-insensitive literals), searched in an input only when a
    /// rule that needs one has matched there.
    require_sets: Vec<aho_corasick::AhoCorasick>,
}

/// Per-thread reusable buffers.
pub struct Scratch {
    windows: Vec<(usize, usize, usize)>,
    /// Per `requires` set, for the current input: unknown, absent or present.
    required: Vec<Option<bool>>,
    locations: Vec<Option<CaptureLocations>>,
}

struct Candidate {
    rule: usize,
    start: usize,
    end: usize,
    facts: Facts,
    inner: Option<Vec<u8>>,
    path_allowlists: u64,
}

/// Most allowlists one rule may carry (they are tracked in a `u64` per match).
const MAX_ALLOWLISTS: usize = 64;

/// The line (or lines) holding `hay[start..end]`, without the line breaks.
fn line_around(hay: &[u8], start: usize, end: usize) -> &[u8] {
    let from = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let to = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |i| end + i);
    &hay[from..to]
}

/// A fact's value as text, for `require_facts`.
fn fact_text(facts: &Facts, name: &str) -> Option<String> {
    if name == "kind" {
        return facts.kind.clone();
    }
    Some(match facts.fields.get(name)? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    })
}

fn invalid(rule_id: &str, what: String) -> impl FnOnce(regex::Error) -> CompileError {
    let rule_id = rule_id.to_owned();
    move |source| CompileError::InvalidRegex {
        rule_id,
        what,
        source,
    }
}

fn window_for(rule: &Rule) -> usize {
    if let Some(w) = rule.window {
        return w.clamp(1, MAX_WINDOW);
    }
    let parsed = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(&rule.pattern);
    match parsed.ok().and_then(|hir| hir.properties().maximum_len()) {
        Some(n) => n.clamp(1, MAX_DERIVED_WINDOW),
        None => DEFAULT_UNBOUNDED_WINDOW,
    }
}

/// The named capture groups of a rule's pattern, by group index, read from its syntax tree
/// with the settings [`keyhound_rules::pattern_regex`] compiles it with, so that the indexes
/// are the compiled regex's. A pattern that does not parse gets the compiler's own error.
fn named_groups(rule: &Rule) -> Result<Vec<(usize, String)>, CompileError> {
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .build()
            .parse(&rule.pattern)
            .ok()
    };
    let hir = match parse(false).or_else(|| parse(true)) {
        Some(hir) => hir,
        None => {
            let source = keyhound_rules::pattern_regex(&rule.pattern)
                .err()
                .unwrap_or_else(|| regex::Error::Syntax(format!("{:?}", rule.pattern)));
            return Err(CompileError::Regex {
                rule_id: rule.id.clone(),
                source,
            });
        }
    };
    fn walk(hir: &regex_syntax::hir::Hir, out: &mut Vec<(usize, String)>) {
        use regex_syntax::hir::HirKind;
        match hir.kind() {
            HirKind::Capture(cap) => {
                if let Some(name) = &cap.name {
                    out.push((cap.index as usize, name.to_string()));
                }
                walk(&cap.sub, out);
            }
            HirKind::Repetition(rep) => walk(&rep.sub, out),
            HirKind::Concat(subs) | HirKind::Alternation(subs) => {
                for sub in subs {
                    walk(sub, out);
                }
            }
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(&hir, &mut out);
    out.sort();
    Ok(out)
}

impl Matcher {
    /// Compiles rules. Fails on the first rule that cannot be used.
    pub fn new(rules: Vec<Rule>, options: Options) -> Result<Matcher, CompileError> {
        let mut ids = HashSet::new();
        // Literals are keyed by their bytes and case sensitivity: anchors match exactly,
        // keywords and `requires` in any ASCII case.
        let mut literal_ids: HashMap<(Vec<u8>, bool), usize> = HashMap::new();
        let mut triggers: Vec<Vec<usize>> = Vec::new();
        let mut literal_id = |lit: &str, any_case: bool, triggers: &mut Vec<Vec<usize>>| -> usize {
            let bytes = if any_case {
                lit.as_bytes().to_ascii_lowercase()
            } else {
                lit.as_bytes().to_vec()
            };
            *literal_ids.entry((bytes, any_case)).or_insert_with(|| {
                triggers.push(Vec::new());
                triggers.len() - 1
            })
        };
        let mut compiled = Vec::with_capacity(rules.len());
        let mut require_keys: Vec<Vec<Vec<u8>>> = Vec::new();
        for (idx, rule) in rules.into_iter().enumerate() {
            if !ids.insert(rule.id.clone()) {
                return Err(CompileError::DuplicateId { rule_id: rule.id });
            }
            let mut secret_group = None;
            let mut context_groups = Vec::new();
            for (i, name) in named_groups(&rule)? {
                if name == "secret" {
                    secret_group = Some(i);
                } else {
                    context_groups.push((i, name));
                }
            }
            let Some(secret_group) = secret_group else {
                return Err(CompileError::NoSecretGroup { rule_id: rule.id });
            };
            let decoder =
                match &rule.decoder {
                    None => None,
                    Some(name) => Some(Decoder::from_name(name).ok_or_else(|| {
                        CompileError::UnknownDecoder {
                            rule_id: rule.id.clone(),
                            decoder: name.clone(),
                            known: DECODER_NAMES.join(", "),
                        }
                    })?),
                };
            for anchor in &rule.anchors {
                let id = literal_id(anchor, false, &mut triggers);
                triggers[id].push(idx);
            }
            for keyword in &rule.keywords {
                let id = literal_id(keyword, true, &mut triggers);
                triggers[id].push(idx);
            }
            // `requires` is checked per input, and only when the rule has matched: it need
            // not be in the prefilter (common words like `artifactory` or `jfrog` there would
            // make every scan verify them).
            let requires = if rule.requires.is_empty() {
                None
            } else {
                let mut set: Vec<Vec<u8>> = rule
                    .requires
                    .iter()
                    .map(|r| r.as_bytes().to_ascii_lowercase())
                    .collect();
                set.sort();
                set.dedup();
                Some(match require_keys.iter().position(|k| *k == set) {
                    Some(i) => i,
                    None => {
                        require_keys.push(set);
                        require_keys.len() - 1
                    }
                })
            };
            let precedence = (
                !rule.generic,
                rule.confidence,
                decoder.is_some(),
                !rule.anchors.is_empty(),
            );
            if rule.allowlists.len() > MAX_ALLOWLISTS {
                return Err(CompileError::TooManyAllowlists { rule_id: rule.id });
            }
            let allowlists = rule
                .allowlists
                .iter()
                .enumerate()
                .map(|(n, a)| {
                    CompiledAllowlist::compile(a)
                        .map_err(invalid(&rule.id, format!("allowlist {}", n + 1)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let require_facts = rule
                .require_facts
                .iter()
                .map(|(name, re)| {
                    regex::Regex::new(re)
                        .map(|re| (name.clone(), re))
                        .map_err(invalid(&rule.id, format!("require_facts.{name}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let paths = if rule.paths.is_empty() {
                None
            } else {
                let joined: Vec<String> = rule.paths.iter().map(|p| format!("(?:{p})")).collect();
                Some(
                    regex::Regex::new(&joined.join("|"))
                        .map_err(invalid(&rule.id, "paths".into()))?,
                )
            };
            compiled.push(CompiledRule {
                needs_line: allowlists.iter().any(CompiledAllowlist::needs_line),
                allowlists,
                require_facts,
                paths,
                window: window_for(&rule),
                rule,
                regex: OnceLock::new(),
                secret_group,
                context_groups,
                decoder,
                requires,
                precedence,
            });
        }
        let mut literals = vec![
            prefilter::Literal {
                bytes: Vec::new(),
                any_case: false
            };
            literal_ids.len()
        ];
        for ((bytes, any_case), id) in literal_ids {
            literals[id] = prefilter::Literal { bytes, any_case };
        }
        let prefilter = Prefilter::new(literals);
        let max_window = compiled.iter().map(|r| r.window).max().unwrap_or(0);
        let always = compiled
            .iter()
            .enumerate()
            .filter(|(_, r)| r.rule.anchors.is_empty() && r.rule.keywords.is_empty())
            .map(|(i, _)| i)
            .collect();
        let require_sets = require_keys
            .iter()
            .map(|set| {
                aho_corasick::AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(set)
                    .expect("a few short literals always build an automaton")
            })
            .collect();
        let path_conditions = compiled.iter().any(|r| {
            r.paths.is_some()
                || r.allowlists
                    .iter()
                    .any(CompiledAllowlist::has_origin_checks)
        });
        Ok(Matcher {
            rules: compiled,
            triggers,
            prefilter,
            options,
            max_window,
            always,
            path_conditions,
            require_sets,
        })
    }

    /// The compiled rules, indexed by [`Match::rule`].
    pub fn rule(&self, idx: usize) -> &Rule {
        &self.rules[idx].rule
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Iterates over the rules in index order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// The longest match any rule can produce near its literal. Chunked readers overlap
    /// chunks by at least this much so that no match is cut in two.
    pub fn max_window(&self) -> usize {
        2 * self.max_window + LOOKAHEAD
    }

    /// True when some rule depends on the input's path (`paths`, or an allowlist with path
    /// or commit checks): the scan layer must then call [`Matcher::dropped_by_path`].
    pub fn has_path_conditions(&self) -> bool {
        self.path_conditions
    }

    /// True when `m` must not be reported in an input shown as `path`: its rule's `paths` do
    /// not match the path, or an allowlist whose content checks held for `m` matches it.
    pub fn dropped_by_path(&self, m: &Match, path: &str) -> bool {
        let rule = &self.rules[m.rule];
        if rule.paths.as_ref().is_some_and(|p| !p.is_match(path)) {
            return true;
        }
        let mut bits = m.path_allowlists;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            if rule.allowlists.get(i).is_some_and(|a| a.path_allows(path)) {
                return true;
            }
            bits &= bits - 1;
        }
        false
    }

    /// Fresh buffers for one thread.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            windows: Vec::new(),
            required: vec![None; self.require_sets.len()],
            locations: (0..self.rules.len()).map(|_| None).collect(),
        }
    }

    /// Scans `haystack` and appends its matches to `out`, ordered by offset.
    pub fn scan(&self, haystack: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        self.scan_at_depth(haystack, scratch, out, 0);
    }

    fn scan_at_depth(&self, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>, depth: u8) {
        scratch.windows.clear();
        scratch.required.fill(None);
        let (triggers, rules) = (&self.triggers, &self.rules);
        let windows = &mut scratch.windows;
        self.prefilter.find(hay, |id, s, e| {
            for &r in &triggers[id] {
                let w = rules[r].window;
                windows.push((r, s.saturating_sub(w), (e + w).min(hay.len())));
            }
        });
        for &r in &self.always {
            scratch.windows.push((r, 0, hay.len()));
        }
        if scratch.windows.is_empty() {
            return;
        }
        scratch.windows.sort_unstable();
        let mut candidates = Vec::new();
        let mut i = 0;
        while i < scratch.windows.len() {
            let (rule, mut start, mut end) = scratch.windows[i];
            i += 1;
            let compiled = &self.rules[rule];
            let Some(regex) = compiled.regex() else {
                while i < scratch.windows.len() && scratch.windows[i].0 == rule {
                    i += 1;
                }
                continue;
            };
            // Merge this rule's overlapping windows into one search.
            loop {
                while i < scratch.windows.len()
                    && scratch.windows[i].0 == rule
                    && scratch.windows[i].1 <= end
                {
                    end = end.max(scratch.windows[i].2);
                    i += 1;
                }
                let locs = scratch.locations[rule].get_or_insert_with(|| regex.capture_locations());
                let before = candidates.len();
                self.confirm(rule, hay, start, end, locs, &mut candidates);
                // `requires` is checked only for a rule that matched: searching the whole
                // input for its literals costs far more than the regex in a small window, and
                // the windows of keyword rules rarely match.
                if let Some(set) = compiled.requires
                    && candidates.len() > before
                    && !*scratch.required[set]
                        .get_or_insert_with(|| self.require_sets[set].is_match(hay))
                {
                    candidates.truncate(before);
                }
                if i < scratch.windows.len() && scratch.windows[i].0 == rule {
                    (_, start, end) = scratch.windows[i];
                    i += 1;
                } else {
                    break;
                }
            }
        }
        self.resolve(hay, candidates, out, depth);
    }

    /// Runs one rule's regex over `hay[start..end]` (looking a few bytes past for boundaries)
    /// and keeps the matches that pass the rule's filters and decoder.
    fn confirm(
        &self,
        rule: usize,
        hay: &[u8],
        start: usize,
        end: usize,
        locs: &mut CaptureLocations,
        out: &mut Vec<Candidate>,
    ) {
        let compiled = &self.rules[rule];
        let Some(regex) = compiled.regex() else {
            return;
        };
        let full = hay;
        let mut limit = (end + LOOKAHEAD).min(full.len());
        let mut at = start;
        while at <= end {
            let Some(mut m) = regex.captures_read_at(locs, &full[..limit], at) else {
                break;
            };
            // A match that runs into the cut may be truncated (an unbounded value longer than
            // the window): search again with more input, up to the hard cap.
            while m.end() >= limit && limit < full.len() && limit - m.start() < MAX_WINDOW {
                let shorter = limit;
                limit = (limit + compiled.window.max(4096))
                    .min(full.len())
                    .min(m.start() + MAX_WINDOW);
                match regex.captures_read_at(locs, &full[..limit], at) {
                    Some(longer) => m = longer,
                    None => {
                        // Only an end-anchored pattern can lose its match; keep the first one.
                        limit = shorter;
                        if let Some(first) = regex.captures_read_at(locs, &full[..limit], at) {
                            m = first;
                        }
                        break;
                    }
                }
            }
            if m.start() >= end {
                break;
            }
            let hay = &full[..limit];
            // Resume after the secret, not after the whole match: a pattern that consumes a
            // trailing boundary byte must not hide a token that starts right after it.
            let Some((s, e)) = locs.get(compiled.secret_group).filter(|(s, e)| e > s) else {
                at = m.end().max(m.start() + 1);
                continue;
            };
            at = e.max(m.start() + 1);
            let secret = &hay[s..e];
            if compiled.rule.reject_placeholders && is_placeholder(secret) {
                continue;
            }
            if compiled
                .rule
                .min_entropy
                .is_some_and(|h| shannon(secret) < h)
            {
                continue;
            }
            let mut path_allowlists = 0u64;
            if !compiled.allowlists.is_empty() {
                let (ms, me) = (m.start(), m.end());
                let line = if compiled.needs_line {
                    line_around(hay, ms, me)
                } else {
                    &[]
                };
                let mut dropped = false;
                for (i, allow) in compiled.allowlists.iter().enumerate() {
                    match allow.check(secret, &hay[ms..me], line) {
                        Verdict::Keep => {}
                        Verdict::Drop => {
                            dropped = true;
                            break;
                        }
                        Verdict::Defer => path_allowlists |= 1 << i,
                    }
                }
                if dropped {
                    continue;
                }
            }
            let (mut facts, inner) = match compiled.decoder {
                None => (Facts::default(), None),
                Some(d) => match d.decode(
                    secret,
                    DecodeCtx {
                        now: self.options.now,
                    },
                ) {
                    Some(decoded) => (decoded.facts, decoded.inner),
                    None => continue,
                },
            };
            for (group, name) in &compiled.context_groups {
                if let Some((gs, ge)) = locs.get(*group) {
                    if ge > gs && !facts.fields.contains_key(name) {
                        facts.set(name, String::from_utf8_lossy(&hay[gs..ge]).into_owned());
                    }
                }
            }
            if !compiled
                .require_facts
                .iter()
                .all(|(name, re)| fact_text(&facts, name).is_some_and(|v| re.is_match(&v)))
            {
                continue;
            }
            out.push(Candidate {
                rule,
                start: s,
                end: e,
                facts,
                inner,
                path_allowlists,
            });
        }
    }

    /// Keeps the most specific rule where matches overlap, scans decoded content again, and
    /// appends the survivors in offset order.
    fn resolve(&self, hay: &[u8], mut cands: Vec<Candidate>, out: &mut Vec<Match>, depth: u8) {
        cands.sort_by(|a, b| {
            let pa = self.rules[a.rule].precedence;
            let pb = self.rules[b.rule].precedence;
            pb.cmp(&pa)
                .then((b.end - b.start).cmp(&(a.end - a.start)))
                .then(a.start.cmp(&b.start))
                .then(a.rule.cmp(&b.rule))
        });
        let mut kept: Vec<Candidate> = Vec::with_capacity(cands.len());
        for c in cands {
            match kept.iter_mut().find(|k| k.start < c.end && c.start < k.end) {
                Some(winner) => {
                    // The same bytes seen by a context rule often carry a user name or host.
                    if winner.start == c.start && winner.end == c.end {
                        winner.facts.merge(&Facts {
                            kind: None,
                            ..c.facts
                        });
                    }
                }
                None => kept.push(c),
            }
        }
        kept.sort_by_key(|c| (c.start, c.rule));
        for c in kept {
            if let (Some(inner), true) = (&c.inner, depth < self.options.max_decode_depth) {
                let mut scratch = self.scratch();
                let mut found = Vec::new();
                self.scan_at_depth(inner, &mut scratch, &mut found, depth + 1);
                out.push(Match {
                    rule: c.rule,
                    start: c.start,
                    end: c.end,
                    secret: Secret::new(&hay[c.start..c.end]),
                    facts: c.facts,
                    decoded_by: None,
                    path_allowlists: c.path_allowlists,
                });
                for mut m in found {
                    m.start = c.start;
                    m.end = c.end;
                    m.decoded_by.get_or_insert(c.rule);
                    out.push(m);
                }
            } else {
                out.push(Match {
                    rule: c.rule,
                    start: c.start,
                    end: c.end,
                    secret: Secret::new(&hay[c.start..c.end]),
                    facts: c.facts,
                    decoded_by: None,
                    path_allowlists: c.path_allowlists,
                });
            }
        }
    }
}

//! The recall corpus: fake credentials for every built-in rule, written into realistic files of
//! six kinds (`.env`, code, config, JSON, YAML, XML), with the ground truth a scan must find.
//!
//! How to leak each rule's credential is data: `data/recall.json` maps a rule id to a spec.
//!
//! - `kind`: the fake to generate ([`crate::kinds::generate`]); `field`: which space-separated
//!   field of it is the secret (an AWS key pair is `ID SECRET`); `wrap`: text around the
//!   secret with `{token}` (a connection string, a URL).
//! - `var`: the variable name the value is assigned to. The value is then written in every
//!   context (or only those in `contexts`), in a context-typical form: `VAR=value` in `.env`,
//!   `snake_case = "value"` in Python, `camelCase` in JSON and JavaScript, `<add key=…>` in XML.
//!   `multiline` values (PEM keys) become a quoted block, a YAML literal block or an escaped
//!   JSON string.
//! - `snippets`: context → whole text, for credentials that only leak in one shape (a Git
//!   remote URL, a Jenkins credentials.xml). `{token}`, `{f1}`, `{f2}` (the fields) and
//!   `{token_indent4}` are replaced, `{{`/`}}` are braces.
//! - `secret_regex`: what the rule reports when that is not the generated value itself (a PEM
//!   block inside a JSON key file); group 1 if it has one.
//! - `plant`: use the JFrog templates of [`crate::plant`] instead.
//!
//! Values come from seeds the rule examples do not use, and the surrounding text is not the
//! examples' text, so the corpus measures whether rules find credentials as they appear in
//! repositories rather than whether they match their own examples.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::fake::Rng;
use crate::kinds;
use crate::plant::{Placement, TEMPLATES};

/// The spec of every built-in rule (see the module documentation).
pub const SPECS: &str = include_str!("../data/recall.json");

/// The six contexts every `var` spec is written in unless it names its own.
pub const CONTEXTS: [&str; 6] = ["env", "code", "config", "json", "yaml", "xml"];

/// Every case a spec must produce at least.
pub const MIN_CASES: usize = 3;

/// A file of the corpus.
#[derive(Debug, Clone)]
pub struct File {
    /// Relative path, `/`-separated.
    pub path: String,
    /// Contents.
    pub text: String,
}

/// One credential a scan must find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The rule that should report it.
    pub rule_id: String,
    /// `env`, `code`, `config`, `json`, `yaml`, `xml`, `docker` or `plant`.
    pub context: String,
    /// Relative path of its file.
    pub path: String,
    /// 1-based line of the secret's first byte.
    pub line: u64,
    /// The secret as the rule reports it.
    pub secret: String,
}

/// A generated corpus.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Files to write.
    pub files: Vec<File>,
    /// Ground truth.
    pub cases: Vec<Case>,
}

/// The provider family of a rule id: `keyhound.github.1` → `github`. A finding by another rule
/// of the same family counts as found (see docs/benchmarks.md).
pub fn family(rule_id: &str) -> &str {
    let rest = rule_id.strip_prefix("keyhound.").unwrap_or(rule_id);
    rest.rsplit_once('.').map_or(rest, |(provider, _)| provider)
}

/// Parses [`SPECS`].
pub fn specs() -> Result<BTreeMap<String, Value>, String> {
    let v: Value = serde_json::from_str(SPECS).map_err(|e| format!("recall.json: {e}"))?;
    let map = v.as_object().ok_or("recall.json: not an object")?;
    Ok(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// Builds the corpus for every rule in [`SPECS`]; `seed` varies the values.
pub fn corpus(seed: u64) -> Result<Corpus, String> {
    let specs = specs()?;
    let mut out = Corpus::default();
    let plant: Vec<&str> = specs
        .iter()
        .filter(|(_, s)| s["plant"].as_bool() == Some(true))
        .map(|(id, _)| id.as_str())
        .collect();
    for (id, spec) in &specs {
        if spec["plant"].as_bool() != Some(true) {
            rule_cases(id, spec, seed, &mut out)?;
        }
    }
    plant_cases(&plant, seed, &mut out);
    Ok(out)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn slug(id: &str) -> String {
    id.strip_prefix("keyhound.").unwrap_or(id).replace('.', "-")
}

fn rule_cases(id: &str, spec: &Value, seed: u64, out: &mut Corpus) -> Result<(), String> {
    let kind = spec["kind"]
        .as_str()
        .ok_or_else(|| format!("{id}: no kind"))?;
    let snippets = spec["snippets"].as_object();
    let contexts: Vec<String> = match (snippets, spec["contexts"].as_array()) {
        (Some(s), _) => s.keys().cloned().collect(),
        (None, Some(c)) => c
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
        (None, None) => CONTEXTS.iter().map(|c| (*c).to_owned()).collect(),
    };
    if contexts.is_empty() {
        return Err(format!("{id}: no contexts"));
    }
    let n = contexts.len().max(MIN_CASES);
    for j in 0..n {
        let context = &contexts[j % contexts.len()];
        // Far from the seeds the rule examples were generated with (< 100 000).
        let s = seed
            .wrapping_mul(1_000_003)
            .wrapping_add(1_000_000 + (fnv(id) % 1_000_000) * 16 + j as u64);
        let token = kinds::generate(kind, s).ok_or_else(|| format!("{id}: unknown kind {kind}"))?;
        let fields: Vec<&str> = token.split(' ').collect();
        let value = match spec["field"].as_u64() {
            Some(f) => fields
                .get(f as usize - 1)
                .ok_or_else(|| format!("{id}: no field {f}"))?
                .to_string(),
            None => token.clone(),
        };
        let dir = format!("{context}/{}-{j}", slug(id));
        let (name, text) = match snippets
            .and_then(|m| m.get(context))
            .and_then(Value::as_str)
        {
            Some(template) => (
                snippet_name(context),
                render_snippet(template, &value, &fields),
            ),
            None => {
                let var = spec["var"]
                    .as_str()
                    .ok_or_else(|| format!("{id}: no var and no snippet for {context}"))?;
                let wrapped = match spec["wrap"].as_str() {
                    Some(w) => w.replace("{token}", &value),
                    None => value.clone(),
                };
                let multiline = spec["multiline"].as_bool() == Some(true);
                render_var(context, var, &wrapped, multiline, s)
            }
        };
        let (secret, offset) = match spec["secret_regex"].as_str() {
            Some(re) => {
                let re = regex::Regex::new(&format!("(?s){re}"))
                    .map_err(|e| format!("{id}: secret_regex: {e}"))?;
                let caps = re
                    .captures(&text)
                    .ok_or_else(|| format!("{id}: secret_regex does not match in {context}"))?;
                let m = caps.get(1).or_else(|| caps.get(0)).expect("group 0");
                (m.as_str().to_owned(), m.start())
            }
            None => {
                let at = text
                    .find(&value)
                    .ok_or_else(|| format!("{id}: value not in the {context} text"))?;
                (value.clone(), at)
            }
        };
        let path = format!("{dir}/{name}");
        out.cases.push(Case {
            rule_id: id.to_owned(),
            context: context.clone(),
            path: path.clone(),
            line: line_of(&text, offset),
            secret,
        });
        out.files.push(File { path, text });
    }
    Ok(())
}

fn plant_cases(ids: &[&str], seed: u64, out: &mut Corpus) {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..16u64 {
        if round >= MIN_CASES as u64 && ids.iter().all(|id| count.get(id) >= Some(&MIN_CASES)) {
            break;
        }
        for (i, t) in TEMPLATES.iter().enumerate() {
            let s = seed
                .wrapping_mul(1_000_003)
                .wrapping_add(5_000_000 + round * 100 + i as u64);
            let snippet = (t.render)(s);
            let name = match t.placement {
                Placement::File(name) => name,
                Placement::Lines => "deploy.sh",
            };
            let path = format!("plant/{}-{round}/{name}", t.name);
            let mut any = false;
            for e in &snippet.expected {
                let Some(id) = ids.iter().find(|id| **id == e.rule_id) else {
                    continue;
                };
                *count.entry(id).or_default() += 1;
                any = true;
                out.cases.push(Case {
                    rule_id: e.rule_id.to_owned(),
                    context: "plant".to_owned(),
                    path: path.clone(),
                    line: e.line,
                    secret: e.secret.clone(),
                });
            }
            if any {
                out.files.push(File {
                    path,
                    text: snippet.text,
                });
            }
        }
    }
}

fn line_of(text: &str, offset: usize) -> u64 {
    1 + text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
}

fn snippet_name(context: &str) -> &'static str {
    match context {
        "env" => ".env",
        "code" => "deploy.sh",
        "config" => "app.conf",
        "json" => "config.json",
        "yaml" => "config.yaml",
        "xml" => "config.xml",
        "docker" => "Dockerfile",
        _ => "notes.txt",
    }
}

fn render_snippet(template: &str, token: &str, fields: &[&str]) -> String {
    let indented: String = token.lines().map(|l| format!("    {l}\n")).collect();
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let mut replaced = false;
        for (name, value) in [
            ("{{", "{"),
            ("}}", "}"),
            ("{token}", token),
            ("{token_indent4}", indented.as_str()),
            ("{f1}", fields.first().copied().unwrap_or_default()),
            ("{f2}", fields.get(1).copied().unwrap_or_default()),
        ] {
            if let Some(r) = rest.strip_prefix(name) {
                out.push_str(value);
                rest = r;
                replaced = true;
                break;
            }
        }
        if !replaced {
            out.push_str(&rest[..1]);
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

fn snake(var: &str) -> String {
    var.to_ascii_lowercase()
}

fn camel(var: &str) -> String {
    let mut out = String::new();
    for (i, part) in var
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let lower = part.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut c = lower.chars();
            if let Some(first) = c.next() {
                out.push(first.to_ascii_uppercase());
                out.push_str(c.as_str());
            }
        }
    }
    out
}

fn host(seed: u64) -> &'static str {
    let hosts = [
        "api.acme-corp.io",
        "internal.globex.net",
        "svc.initech.dev",
        "platform.hooli.xyz",
    ];
    hosts[(seed % hosts.len() as u64) as usize]
}

/// Renders `VAR = value` in `context`; returns the file name and text.
fn render_var(
    context: &str,
    var: &str,
    value: &str,
    multiline: bool,
    seed: u64,
) -> (&'static str, String) {
    let mut rng = Rng::new(seed ^ 0xfeed);
    let mut variant = rng.below(4) as usize;
    // A value starting with `#` (or, in YAML, another indicator) is a comment or syntax when
    // unquoted: write it the way a person would, quoted.
    let needs_quotes = value.starts_with(['#', '%', '!', '&', '*', '@', '-', '|', '>', '?']);
    if needs_quotes && context == "env" && (variant == 0 || variant == 3) {
        variant = 1;
    }
    if needs_quotes && context == "config" {
        variant = 2;
    }
    let h = host(seed);
    let snake = snake(var);
    let camel = camel(var);
    let mut t = String::new();
    // `write!` into a String cannot fail.
    let _ = match (context, multiline) {
        ("env", false) => {
            let quote = ["", "\"", "'", ""][variant];
            writeln!(
                t,
                "# {h} deployment\nNODE_ENV=production\nLOG_LEVEL=info\n{var}={quote}{value}{quote}\nPORT=8080"
            )
        }
        ("env", true) => writeln!(
            t,
            "# {h} signing\nNODE_ENV=production\n{var}=\"{value}\"\nPORT=8080"
        ),
        ("docker", _) => writeln!(
            t,
            "FROM python:3.12-slim\nWORKDIR /app\nENV {var}={value}\nCOPY . .\nCMD [\"python\", \"main.py\"]"
        ),
        ("code", true) => {
            return (
                "settings.py",
                format!(
                    "import os\n\nDEBUG = False\nALLOWED_HOSTS = [\"{h}\"]\n{var} = \"\"\"{value}\"\"\"\n"
                ),
            );
        }
        ("code", false) => {
            let (name, text) = match variant {
                0 => (
                    "settings.py",
                    format!(
                        "import os\n\nDEBUG = False\nALLOWED_HOSTS = [\"{h}\"]\n{snake} = \"{value}\"\nTIMEOUT = 30\n"
                    ),
                ),
                1 => (
                    "client.js",
                    format!(
                        "const axios = require('axios');\n\nconst baseURL = 'https://{h}';\nconst {camel} = '{value}';\n\nmodule.exports = {{ baseURL, {camel} }};\n"
                    ),
                ),
                2 => (
                    "config.go",
                    format!(
                        "package config\n\nconst (\n\tBaseURL = \"https://{h}\"\n\t{camel} = \"{value}\"\n)\n"
                    ),
                ),
                _ => (
                    "deploy.sh",
                    format!(
                        "#!/usr/bin/env bash\nset -euo pipefail\n\nexport {var}=\"{value}\"\n./release.sh --target https://{h}\n"
                    ),
                ),
            };
            return (name, text);
        }
        ("config", true) => {
            return ("signing.conf", format!("# key for {h}\n{value}\n"));
        }
        ("config", false) => {
            let (name, text) = match variant {
                0 | 1 => (
                    "app.ini",
                    format!(
                        "[server]\nhost = {h}\nport = 443\n\n[credentials]\n{snake} = {value}\n"
                    ),
                ),
                _ => (
                    "config.toml",
                    format!(
                        "[service]\nurl = \"https://{h}\"\n{snake} = \"{value}\"\ntimeout = 30\n"
                    ),
                ),
            };
            return (name, text);
        }
        ("json", _) => {
            let quoted = serde_json::to_string(value).unwrap_or_default();
            writeln!(
                t,
                "{{\n  \"name\": \"deploy\",\n  \"endpoint\": \"https://{h}\",\n  \"{camel}\": {quoted},\n  \"retries\": 3\n}}"
            )
        }
        ("yaml", true) => {
            let block: String = value.lines().map(|l| format!("    {l}\n")).collect();
            write!(
                t,
                "service:\n  url: https://{h}\n  {snake}: |\n{block}  retries: 3\n"
            )
        }
        ("yaml", false) => {
            if variant % 2 == 0 {
                let quote = if needs_quotes { "\"" } else { "" };
                writeln!(
                    t,
                    "service:\n  url: https://{h}\n  {snake}: {quote}{value}{quote}\n  retries: 3"
                )
            } else {
                writeln!(
                    t,
                    "jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      {var}: \"{value}\"\n    steps:\n      - run: ./deploy.sh"
                )
            }
        }
        ("xml", true) => writeln!(
            t,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config>\n  <endpoint>https://{h}</endpoint>\n  <{camel}>\n{value}\n  </{camel}>\n</config>"
        ),
        ("xml", false) => {
            if variant % 2 == 0 {
                writeln!(
                    t,
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>\n    <add key=\"Endpoint\" value=\"https://{h}\" />\n    <add key=\"{var}\" value=\"{value}\" />\n  </appSettings>\n</configuration>"
                )
            } else {
                writeln!(
                    t,
                    "<project>\n  <properties>\n    <service.url>https://{h}</service.url>\n    <{camel}>{value}</{camel}>\n  </properties>\n</project>"
                )
            }
        }
        _ => writeln!(t, "{var}={value}"),
    };
    let name = match context {
        "env" => ".env",
        "docker" => "Dockerfile",
        "json" => "settings.json",
        "yaml" => "config.yml",
        "xml" => {
            if variant % 2 == 0 {
                "app.config"
            } else {
                "pom.xml"
            }
        }
        _ => "notes.txt",
    };
    (name, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_renders_at_least_three_cases_with_their_secret() {
        let c = corpus(1).expect("corpus");
        let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for case in &c.cases {
            *per_rule.entry(&case.rule_id).or_default() += 1;
            let file = c.files.iter().find(|f| f.path == case.path).expect("file");
            let line = file
                .text
                .lines()
                .nth(case.line as usize - 1)
                .expect("line exists");
            let first = case.secret.lines().next().unwrap_or_default();
            // The plant templates check their own lines (one secret there is base64-encoded).
            assert!(
                case.context == "plant" || line.contains(first),
                "{}: line {} lacks the secret",
                case.path,
                case.line
            );
        }
        for id in specs().expect("specs").keys() {
            assert!(
                per_rule.get(id.as_str()) >= Some(&MIN_CASES),
                "{id}: too few cases"
            );
        }
    }

    #[test]
    fn family_is_the_provider() {
        assert_eq!(family("keyhound.github.1"), "github");
        assert_eq!(family("keyhound.private-keys.10"), "private-keys");
    }

    #[test]
    fn snippets_replace_placeholders_and_braces() {
        assert_eq!(
            render_snippet(
                "{{\"a\": \"{f2}\", \"t\": \"{token}\"}}",
                "x y",
                &["x", "y"]
            ),
            "{\"a\": \"y\", \"t\": \"x y\"}"
        );
    }
}

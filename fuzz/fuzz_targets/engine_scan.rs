//! Any bytes through the matching engine with every built-in rule: prefilter, windows,
//! regexes, entropy and placeholder filters, every structural decoder a match reaches, and
//! rescanning of decoded content. The same bytes also go through `inspect` (every decoder,
//! as `keyhound inspect` runs them).
#![no_main]

use std::sync::OnceLock;

use keyhound_engine::{Matcher, Options};
use libfuzzer_sys::fuzz_target;

fn matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| {
        let rules = keyhound_rules::builtin().expect("built-in rules load");
        Matcher::new(rules, Options::default()).expect("built-in rules compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let m = matcher();
    let mut scratch = m.scratch();
    let mut out = Vec::new();
    m.scan(data, &mut scratch, &mut out);
    for found in &out {
        assert!(
            found.start <= found.end && found.end <= data.len(),
            "a match's span lies inside its input"
        );
    }
    if data.len() <= 16 * 1024 {
        let _ = keyhound_engine::inspect(data, 1_767_225_600);
    }
});

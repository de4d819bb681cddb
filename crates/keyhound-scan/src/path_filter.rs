//! Rule conditions on where the bytes came from: a rule's `paths` and the path checks of its
//! allowlists (gitleaks' `path` and `[[rules.allowlists]] paths`). The matcher never sees
//! origins, so it marks the matches whose fate depends on the path and this module decides
//! once the path is known.

use keyhound_engine::{Match, Matcher};

/// True when `m`, found in the input shown as `path`, must not be reported.
pub(crate) fn drops(matcher: &Matcher, m: &Match, path: &str) -> bool {
    matcher.has_path_conditions() && matcher.dropped_by_path(m, path)
}

//! Which process owns a run, and whether it still runs: read from `/proc`, without libc.

/// This machine's name (`/proc/sys/kernel/hostname`, as `uname -n`), `unknown` when it
/// cannot be read.
pub(crate) fn hostname() -> String {
    fs_err::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A process's state letter and start time (clock ticks after boot), fields 3 and 22 of
/// `/proc/PID/stat`.
fn stat(pid: &str) -> Option<(char, u64)> {
    let text = fs_err::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// This process's start time, recorded with its runs to tell a reused pid apart.
pub(crate) fn self_start_time() -> Option<u64> {
    stat("self").map(|(_, start)| start)
}

/// What is known of a process on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// It runs (or `/proc` cannot tell).
    Alive,
    /// It exited, is a zombie, or its pid now belongs to another process.
    Gone,
    /// This system has no `/proc`: only heartbeats tell.
    Unknown,
}

/// Whether process `pid`, started at `start` (when known), still runs.
pub(crate) fn liveness(pid: u32, start: Option<u64>) -> Liveness {
    if stat("self").is_none() {
        return Liveness::Unknown;
    }
    match stat(&pid.to_string()) {
        None => Liveness::Gone,
        Some(('Z' | 'X' | 'x', _)) => Liveness::Gone,
        Some((_, now)) if start.is_some_and(|s| s != now) => Liveness::Gone,
        Some(_) => Liveness::Alive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_child_is_gone() {
        let me = std::process::id();
        let start = self_start_time();
        assert!(start.is_some());
        assert_eq!(liveness(me, start), Liveness::Alive);
        assert_eq!(liveness(me, start.map(|s| s + 1)), Liveness::Gone);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert_eq!(liveness(pid, None), Liveness::Gone);
        assert!(!hostname().is_empty());
    }
}

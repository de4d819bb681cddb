//! Remote repositories: a bare mirror clone in a cache directory, fetched again on later scans.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Error, GixError, boxed};

/// Where and how long to clone.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// The cache directory holding one mirror per URL.
    pub clone_dir: PathBuf,
    /// Give up on a clone or fetch after this long (a server that refuses fails at once; one
    /// that hangs fails here).
    pub timeout: Duration,
}

/// True for `https://`, `http://`, `ssh://`, `git://` and scp-like `user@host:path` URLs.
pub fn is_remote_url(s: &str) -> bool {
    if ["https://", "http://", "ssh://", "git://"]
        .iter()
        .any(|p| s.starts_with(p))
    {
        return true;
    }
    // scp-like: user@host:path, with no slash before the colon.
    match (s.find('@'), s.find(':'), s.find('/')) {
        (Some(at), Some(colon), slash) => {
            at < colon && slash.is_none_or(|sl| colon < sl) && !s.starts_with('/')
        }
        _ => false,
    }
}

/// The URL without credentials (`https://token@host/x` → `https://host/x`), for display.
pub fn redact_url(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let host_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            return format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]);
        }
    }
    url.to_owned()
}

/// A directory name for a URL: its host and path made safe, plus a short hash of the full URL
/// (credentials excluded) so that different URLs never share a mirror.
fn mirror_dir(clone_dir: &Path, url: &str) -> PathBuf {
    let shown = redact_url(url);
    let readable: String = shown
        .split("://")
        .last()
        .unwrap_or(&shown)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    // FNV-1a: a stable short tag, not a security boundary.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in shown.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    clone_dir.join(format!("{readable}-{:08x}.git", h as u32))
}

/// The refs a mirror keeps: every namespace where committed content lives. (gitoxide maps no
/// refs for a bare `+refs/*:refs/*`, so the namespaces are listed.)
const MIRROR_REFSPECS: &[&str] = &[
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
    "+refs/notes/*:refs/notes/*",
    // Pull and merge request heads: contributions that were never merged still leak.
    "+refs/pull/*:refs/pull/*",
    "+refs/merge-requests/*:refs/merge-requests/*",
];

fn clone_mirror(url: &str, dest: &Path, interrupt: &AtomicBool) -> Result<(), GixError> {
    let mut prepare = gix::prepare_clone_bare(url, dest)
        .map_err(boxed)?
        .configure_remote(|remote| {
            remote.with_refspecs(
                MIRROR_REFSPECS.iter().copied(),
                gix::remote::Direction::Fetch,
            )
        });
    prepare
        .fetch_only(gix::progress::Discard, interrupt)
        .map_err(boxed)?;
    Ok(())
}

fn fetch(dest: &Path, interrupt: &AtomicBool) -> Result<(), GixError> {
    let repo = gix::open_opts(
        dest,
        gix::open::Options::isolated().with(gix::sec::Trust::Full),
    )
    .map_err(boxed)?;
    let remote = repo.find_remote("origin").map_err(boxed)?;
    let connection = remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(boxed)?;
    connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(boxed)?
        .receive(gix::progress::Discard, interrupt)
        .map_err(boxed)?;
    Ok(())
}

/// Makes or updates the bare mirror of `url` and returns its path. Runs the network part on its own
/// thread and gives up after `timeout`.
///
/// The first scan clones every branch, tag, note and pull/merge request ref; later scans fetch
/// only what is new.
pub fn mirror(url: &str, options: &RemoteOptions) -> Result<PathBuf, Error> {
    let shown = redact_url(url);
    fs_err::create_dir_all(&options.clone_dir).map_err(|source| Error::CloneDir {
        path: options.clone_dir.clone(),
        source,
    })?;
    let dest = mirror_dir(&options.clone_dir, url);
    let existing = dest.join("HEAD").is_file();
    let interrupt = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let (url, dest, interrupt) = (url.to_owned(), dest.clone(), interrupt.clone());
        std::thread::spawn(move || {
            let result = if existing {
                fetch(&dest, &interrupt)
            } else {
                // Clone next to the destination and rename, so an interrupted clone never looks
                // like a mirror.
                let tmp = dest.with_extension(format!("tmp-{}", std::process::id()));
                let _ = fs_err::remove_dir_all(&tmp);
                let r = clone_mirror(&url, &tmp, &interrupt)
                    .and_then(|()| fs_err::rename(&tmp, &dest).map_err(boxed));
                if r.is_err() {
                    let _ = fs_err::remove_dir_all(&tmp);
                }
                r
            };
            let _ = tx.send(result);
        });
    }
    match rx.recv_timeout(options.timeout) {
        Ok(Ok(())) => Ok(dest),
        Ok(Err(source)) => Err(Error::Remote { url: shown, source }),
        Err(_) => {
            // The thread may be blocked in a read; it ends with the process.
            interrupt.store(true, Ordering::SeqCst);
            Err(Error::RemoteTimeout {
                url: shown,
                seconds: options.timeout.as_secs(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls() {
        for u in [
            "https://github.com/a/b.git",
            "ssh://git@host/x",
            "git@github.com:org/repo.git",
            "git://127.0.0.1/r",
        ] {
            assert!(is_remote_url(u), "{u}");
        }
        for p in [
            ".",
            "./repo",
            "/tmp/repo",
            "C:/x",
            "dir/with:colon",
            "user@host/path:x",
        ] {
            assert!(!is_remote_url(p), "{p}");
        }
    }

    #[test]
    fn credentials_are_removed() {
        assert_eq!(
            redact_url("https://user:tok@github.com/a/b.git"),
            "https://github.com/a/b.git"
        );
        assert_eq!(
            redact_url("https://github.com/a@b"),
            "https://github.com/a@b"
        );
        assert_eq!(redact_url("git@github.com:a/b"), "git@github.com:a/b");
    }

    #[test]
    fn mirror_dirs_differ_per_url_but_not_per_credentials() {
        let base = Path::new("/cache");
        let a = mirror_dir(base, "https://x:1@h/r.git");
        assert_eq!(a, mirror_dir(base, "https://y:2@h/r.git"));
        assert_ne!(a, mirror_dir(base, "https://h/other.git"));
        assert!(!a.to_string_lossy().contains(':'));
    }
}

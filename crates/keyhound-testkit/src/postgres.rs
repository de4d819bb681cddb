//! A real PostgreSQL for tests: a database of its own per test ([`TestDatabase`]), on the
//! server that `KEYHOUND_TEST_POSTGRES_URL` names, else on a throwaway cluster this process
//! starts.
//!
//! `initdb` runs once per PostgreSQL version into a template under the system temporary
//! directory (`keyhound-test-pg-UID`), guarded by a file lock; each test process copies the
//! template, starts `postgres` on 127.0.0.1 on a free port (no Unix socket), and stops it when
//! its last user is dropped. PostgreSQL refuses to run as root, so as root both run as the
//! `postgres` user (`setpriv`), in directories it owns.
//!
//! `KEYHOUND_TEST_POSTGRES=skip` (and no URL) makes [`TestDatabase::new`] return `None`, so
//! that a machine without PostgreSQL can still run the rest of the suite; without it, a missing
//! PostgreSQL fails the test with what to install.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// A running cluster; stopped (immediate shutdown) and deleted on drop.
struct Cluster {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    url: String,
    dir: PathBuf,
    child: Child,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGQUIT: immediate shutdown. The child is the postmaster itself (setpriv execs).
        let _ = Command::new("kill")
            .args(["-s", "QUIT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = fs_err::remove_dir_all(&self.dir);
        let _ = fs_err::remove_file(self.dir.with_extension("log"));
    }
}

/// The cluster this process shares between its tests, started on first use.
fn shared() -> Result<Arc<Cluster>, String> {
    static CLUSTER: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());
    let mut slot = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = slot.upgrade() {
        return Ok(c);
    }
    let c = Arc::new(start()?);
    *slot = Arc::downgrade(&c);
    Ok(c)
}

/// PostgreSQL's binary directory: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin`, else wherever `initdb` is on the `PATH`.
pub fn bindir() -> Option<PathBuf> {
    let has_initdb = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_initdb(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs_err::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_initdb(d))
        .collect();
    versions.sort();
    if let Some((_, d)) = versions.pop() {
        return Some(d);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| has_initdb(d))
}

fn effective_uid() -> Option<u32> {
    let status = fs_err::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The `postgres` user's uid and gid, from /etc/passwd.
fn postgres_user() -> Result<(u32, u32), String> {
    let passwd = fs_err::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"postgres"))
        .and_then(|f| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
        .ok_or_else(|| {
            "running as root, and there is no `postgres` user to run PostgreSQL as".to_owned()
        })
}

/// A command for a PostgreSQL program: as the `postgres` user when this process is root.
fn pg_command(bindir: &Path, program: &str, as_postgres: bool) -> Command {
    let exe = bindir.join(program);
    if as_postgres {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ]);
        c.arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

fn chown_to_postgres(path: &Path) -> Result<(), String> {
    let (uid, gid) = postgres_user()?;
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| format!("cannot chown {}: {e}", path.display()))
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The template cluster for this PostgreSQL version, made once.
fn template(base: &Path, bindir: &Path, as_postgres: bool) -> Result<PathBuf, String> {
    let version = run(
        pg_command(bindir, "postgres", false).arg("--version"),
        "postgres --version",
    )?;
    let tag: String = version
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let dir = base.join(format!("template-{tag}"));
    let ready = base.join(format!("template-{tag}.ready"));
    let lock = fs_err::File::create(base.join("template.lock")).map_err(|e| e.to_string())?;
    // `File::lock` is newer than the workspace's declared rust-version (1.85); this is test
    // code, built only by the project's one toolchain (1.95), and it saves a dependency.
    #[allow(clippy::incompatible_msrv)]
    let locked = lock.file().lock();
    locked.map_err(|e| format!("cannot lock the template: {e}"))?;
    if ready.exists() && dir.join("PG_VERSION").exists() {
        return Ok(dir);
    }
    let _ = fs_err::remove_dir_all(&dir);
    let mut cmd = pg_command(bindir, "initdb", as_postgres);
    cmd.arg("-D")
        .arg(&dir)
        .args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ])
        .current_dir(base);
    run(&mut cmd, "initdb")?;
    fs_err::write(&ready, version).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Stops and deletes the clusters of test processes that died without stopping theirs.
fn remove_stale(base: &Path) {
    let Ok(entries) = fs_err::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix("run-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{owner}")).exists() || name.ends_with(".log") {
            continue;
        }
        let dir = entry.path();
        if let Some(pid) = fs_err::read_to_string(dir.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned))
        {
            // Only a postmaster of this very directory.
            let cmdline = fs_err::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&*dir.to_string_lossy()) {
                let _ = Command::new("kill").args(["-s", "QUIT", &pid]).status();
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        let _ = fs_err::remove_dir_all(&dir);
        let _ = fs_err::remove_file(dir.with_extension("log"));
    }
}

fn start() -> Result<Cluster, String> {
    let bindir = bindir().ok_or("no PostgreSQL binaries (initdb, postgres) found")?;
    let as_postgres = effective_uid() == Some(0);
    let base = std::env::temp_dir().join(format!(
        "keyhound-test-pg-{}",
        effective_uid().map_or_else(|| "unknown".to_owned(), |u| u.to_string())
    ));
    fs_err::create_dir_all(&base).map_err(|e| e.to_string())?;
    if as_postgres {
        chown_to_postgres(&base)?;
    }
    remove_stale(&base);
    let template = template(&base, &bindir, as_postgres)?;
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let dir = base.join(format!("run-{}-{n}", std::process::id()));
    let _ = fs_err::remove_dir_all(&dir);
    run(
        Command::new("cp").arg("-a").arg(&template).arg(&dir),
        "cp -a of the template cluster",
    )?;
    let mut last_error = String::new();
    // A free port can be taken by someone else before postgres binds it: try a few.
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let log_path = dir.with_extension("log");
        let log = fs_err::File::create(&log_path).map_err(|e| e.to_string())?;
        let mut cmd = pg_command(&bindir, "postgres", as_postgres);
        cmd.arg("-D")
            .arg(&dir)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k", ""])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=60"])
            .args(["-c", "shared_buffers=32MB"])
            .current_dir(&base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.into_parts().0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut text = String::new();
                let _ = fs_err::File::open(&log_path).map(|mut f| f.read_to_string(&mut text));
                last_error = format!("postgres exited ({status}): {text}");
                break;
            }
            if postgres::Client::connect(&url, postgres::NoTls).is_ok() {
                return Ok(Cluster { url, dir, child });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("postgres did not accept connections within 60 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = fs_err::remove_dir_all(&dir);
    Err(last_error)
}

/// `KEYHOUND_TEST_POSTGRES_URL`: a superuser URL to a throwaway server.
pub const POSTGRES_URL: &str = "KEYHOUND_TEST_POSTGRES_URL";
/// `KEYHOUND_TEST_POSTGRES=skip`: skip the PostgreSQL tests when no server is given.
pub const POSTGRES_SKIP: &str = "KEYHOUND_TEST_POSTGRES";

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A database created for one test, dropped (with its connections) at the end.
pub struct TestDatabase {
    url: String,
    admin: String,
    name: String,
    _cluster: Option<Arc<Cluster>>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl TestDatabase {
    /// A new, empty database; `None` when the PostgreSQL tests are explicitly skipped.
    ///
    /// # Panics
    /// When there is no server to use and none can be started: the message says what to
    /// install or set.
    pub fn new() -> Option<TestDatabase> {
        let (admin, cluster) = match std::env::var(POSTGRES_URL) {
            Ok(url) if !url.is_empty() => (url, None),
            _ => {
                if std::env::var(POSTGRES_SKIP).as_deref() == Ok("skip") {
                    eprintln!(
                        "skipped: {POSTGRES_SKIP}=skip and no {POSTGRES_URL}; this PostgreSQL test did not run"
                    );
                    return None;
                }
                if bindir().is_none() {
                    panic!(
                        "the PostgreSQL tests need a server: install PostgreSQL (Debian: \
                         apt-get install postgresql) so that they start a throwaway cluster, or \
                         set {POSTGRES_URL}=postgres://USER@HOST:PORT/postgres to a superuser \
                         of a throwaway server; {POSTGRES_SKIP}=skip skips them"
                    );
                }
                let cluster =
                    shared().unwrap_or_else(|e| panic!("cannot start a throwaway PostgreSQL: {e}"));
                (cluster.url.clone(), Some(cluster))
            }
        };
        let name = format!("kh_{:016x}", rand::random::<u64>());
        let mut c = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL}: {e}"));
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the test database");
        Some(TestDatabase {
            url: with_database(&admin, &name),
            admin,
            name,
            _cluster: cluster,
        })
    }

    /// The database's URL (`postgres://…/kh_…`), as `--db` and `KEYHOUND_DB` take it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn urls_get_their_database_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres?sslmode=disable", "kh_1"),
            "postgres://u:p@h:5/kh_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h", "kh_1"),
            "postgres://u@h/kh_1"
        );
    }
}

//! A small CGI host that serves repositories over HTTP with the real `git http-backend`, on
//! loopback, for clone and fetch tests. Also a server that accepts connections and never
//! answers, for timeout tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// A running server; stops when dropped.
pub struct GitHttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl GitHttpServer {
    /// Serves the bare repositories under `root` (`http://127.0.0.1:PORT/<name>.git`).
    pub fn start(root: &Path) -> std::io::Result<GitHttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let root = root.to_path_buf();
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            requests.fetch_add(1, Ordering::Relaxed);
                            let root = root.clone();
                            std::thread::spawn(move || {
                                let _ = serve(conn, &root);
                            });
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                    }
                }
            })
        };
        Ok(GitHttpServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        })
    }

    /// The URL of a repository under the root.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    /// HTTP requests served so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let size =
            usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            let mut end = String::new();
            reader.read_line(&mut end)?;
            return Ok(body);
        }
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk)?;
        body.extend_from_slice(&chunk);
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

fn serve(conn: TcpStream, root: &Path) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut b = vec![0; len];
        reader.read_exact(&mut b)?;
        b
    };
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(p) = header("git-protocol") {
        cgi.env("GIT_PROTOCOL", p);
    }
    if let Some(enc) = header("content-encoding") {
        cgi.env("HTTP_CONTENT_ENCODING", enc);
    }
    let mut child = cgi.spawn()?;
    {
        let mut stdin = child.stdin.take().expect("piped");
        stdin.write_all(&body)?;
    }
    let out = child.wait_with_output()?;
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let split = split.or_else(|| {
        out.stdout
            .windows(2)
            .position(|w| w == b"\n\n")
            .map(|i| (i, 2))
    });
    let (head, payload) = match split {
        Some((i, n)) => (
            String::from_utf8_lossy(&out.stdout[..i]).into_owned(),
            &out.stdout[i + n..],
        ),
        None => (String::new(), &out.stdout[..]),
    };
    let mut status = "200 OK".to_owned();
    let mut response_headers = Vec::new();
    for line in head.lines() {
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("status") {
                status = v.trim().to_owned();
            } else {
                response_headers.push(format!("{}: {}", k.trim(), v.trim()));
            }
        }
    }
    let mut conn = conn;
    write!(conn, "HTTP/1.1 {status}\r\n")?;
    for h in response_headers {
        write!(conn, "{h}\r\n")?;
    }
    write!(
        conn,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    conn.write_all(payload)?;
    conn.flush()
}

/// A server that accepts connections and never answers: a hung remote.
pub struct SilentServer {
    addr: SocketAddr,
    _held: Arc<std::sync::Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl SilentServer {
    /// Listens on loopback.
    pub fn start() -> std::io::Result<SilentServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let held = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (held, stop) = (held.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((c, _)) = listener.accept() {
                        held.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(c);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            });
        }
        Ok(SilentServer {
            addr,
            _held: held,
            stop,
        })
    }

    /// A repository URL on this server.
    pub fn url(&self) -> String {
        format!("http://{}/hang.git", self.addr)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs `git` with fixed identity and no user or system configuration; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_env(dir, args, &[])
}

/// Like [`git`] with extra environment variables (e.g. `GIT_AUTHOR_DATE`).
pub fn git_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Alice Dev")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice Dev")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .envs(env.iter().copied())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Creates a repository with `main` as its first branch.
pub fn init(dir: &Path) -> PathBuf {
    fs_err::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q", "-b", "main"]);
    dir.to_path_buf()
}

/// Writes a file and commits it; returns the commit id.
pub fn commit_file(repo: &Path, path: &str, content: &str, message: &str) -> String {
    let full = repo.join(path);
    if let Some(parent) = full.parent() {
        fs_err::create_dir_all(parent).expect("mkdir");
    }
    fs_err::write(&full, content).expect("write");
    git(repo, &["add", path]);
    git(repo, &["commit", "-q", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

//! Runs an axum router on a loopback port in a background thread, over plain HTTP or TLS, so
//! that synchronous tests (which run the real `keyhound` binary) can talk to it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

/// A running server; stopped when dropped.
pub struct Server {
    addr: SocketAddr,
    tls: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Serves `router` on 127.0.0.1 (a free port), with TLS when `tls` is given.
    pub fn start(router: Router, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind a loopback port for a test server");
        listener
            .set_nonblocking(true)
            .expect("set the listener non-blocking");
        let addr = listener.local_addr().expect("listener address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let is_tls = tls.is_some();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime for the test server");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                match tls {
                    None => {
                        let _ = axum::serve(listener, router)
                            .with_graceful_shutdown(async {
                                let _ = stopped.await;
                            })
                            .await;
                    }
                    Some(cfg) => serve_tls(listener, router, cfg, stopped).await,
                }
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        Server {
            addr,
            tls: is_tls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` or `https://…`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve_tls(
    listener: tokio::net::TcpListener,
    router: Router,
    cfg: Arc<rustls::ServerConfig>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r { Ok(c) => c, Err(_) => continue },
            _ = &mut stopped => return,
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
        });
    }
}

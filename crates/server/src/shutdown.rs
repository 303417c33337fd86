//! Graceful shutdown: one signal, every listener stops accepting, in-flight work drains
//! within a deadline.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A shared shutdown switch plus the set of tasks to wait for.
///
/// Listeners stop accepting when [`Shutdown::triggered`] resolves and tell their open
/// connections to finish; [`Shutdown::drain`] waits for every task spawned through
/// [`Shutdown::spawn`], up to a timeout.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tracker: TaskTracker,
}

impl Shutdown {
    /// A switch that has not been triggered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start shutting down (idempotent).
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether shutdown has started.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown has started.
    pub async fn triggered(&self) {
        self.token.cancelled().await;
    }

    /// Run `task` on the runtime and wait for it in [`Shutdown::drain`].
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn(task)
    }

    /// Trigger shutdown and wait up to `timeout` for every spawned task to finish.
    /// Returns `true` when all finished in time, `false` when some were still running
    /// (the caller then exits, which cuts them off).
    pub async fn drain(&self, timeout: Duration) -> bool {
        self.trigger();
        self.tracker.close();
        tokio::time::timeout(timeout, self.tracker.wait())
            .await
            .is_ok()
    }

    /// Resolves once [`Shutdown::drain`] has begun and every spawned task has finished
    /// (a worker thread keeps its runtime turning until then, see
    /// [`crate::serve::spawn_worker`]).
    pub async fn finished(&self) {
        self.token.cancelled().await;
        self.tracker.wait().await;
    }

    /// Number of spawned tasks still running.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }
}

/// SIGINT (Ctrl-C) and SIGTERM listeners. Register them with [`Signals::listen`] before
/// the process announces that it is ready (prints its addresses, writes `endpoints.json`):
/// a signal that arrives before registration gets the default action, which kills the
/// process without draining or cleaning up.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Register the listeners now; from here on SIGINT and SIGTERM are queued for
    /// [`Signals::recv`] instead of terminating the process. Needs a tokio runtime.
    pub fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Resolves with the signal's name once SIGINT or SIGTERM has arrived (also one that
    /// arrived after [`Signals::listen`] and before this call).
    pub async fn recv(&mut self) -> std::io::Result<&'static str> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Ok("SIGTERM"),
                _ = self.int.recv() => Ok("SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await?;
            Ok("Ctrl-C")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signal that arrives between `listen` and `recv` is kept for `recv`, not fatal
    /// (`up` announces its endpoints in that window).
    #[cfg(unix)]
    #[tokio::test]
    async fn a_signal_before_recv_is_queued() {
        let mut signals = Signals::listen().unwrap();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::time::sleep(Duration::from_millis(50)).await;
        let got = tokio::time::timeout(Duration::from_secs(5), signals.recv()).await;
        assert_eq!(got.unwrap().unwrap(), "SIGTERM");
    }

    #[tokio::test]
    async fn drain_waits_for_tasks_that_finish() {
        let s = Shutdown::new();
        let s2 = s.clone();
        s.spawn(async move {
            s2.triggered().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        });
        assert_eq!(s.running(), 1);
        assert!(s.drain(Duration::from_secs(5)).await);
        assert_eq!(s.running(), 0);
        assert!(s.is_triggered());
    }

    #[tokio::test]
    async fn drain_gives_up_after_timeout() {
        let s = Shutdown::new();
        s.spawn(tokio::time::sleep(Duration::from_secs(3600)));
        assert!(!s.drain(Duration::from_millis(20)).await);
    }
}

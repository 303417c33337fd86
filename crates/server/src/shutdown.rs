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

    /// Number of spawned tasks still running.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }
}

/// Resolves with the signal's name when the process receives SIGINT (Ctrl-C) or SIGTERM.
pub async fn wait_for_signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

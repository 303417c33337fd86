//! Copying a proxied connection both ways, with buffers reused across connections.
//!
//! Each direction reads into a 64 KiB buffer and writes what it read, so bulk transfers
//! move in large chunks; when the client (or backend) half-closes, the other side's write
//! half is shut down and the opposite direction goes on until it ends too. The buffers come
//! from a small pool: allocating and zeroing 128 KiB per connection (what
//! `tokio::io::copy_bidirectional_with_sizes` does) cost a measurable share of the lb's CPU
//! at thousands of new connections per second.

use std::io;
use std::sync::Mutex;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Size of each direction's buffer.
pub const BUFFER: usize = 64 * 1024;
/// Buffers kept for reuse at most (4 MiB); more are freed when returned.
const POOLED: usize = 64;

static POOL: Mutex<Vec<Box<[u8]>>> = Mutex::new(Vec::new());

/// A buffer from the pool, returned to it on drop.
struct Buffer(Option<Box<[u8]>>);

impl Buffer {
    fn take() -> Self {
        let reused = POOL.lock().unwrap_or_else(|p| p.into_inner()).pop();
        Buffer(Some(
            reused.unwrap_or_else(|| vec![0u8; BUFFER].into_boxed_slice()),
        ))
    }

    fn bytes(&mut self) -> &mut [u8] {
        self.0.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < POOLED {
                pool.push(b);
            }
        }
    }
}

/// Copy `a ⇄ b` until both directions have ended; the bytes copied `a → b` and `b → a`.
pub async fn copy_both_ways(a: &mut TcpStream, b: &mut TcpStream) -> io::Result<(u64, u64)> {
    let (mut ar, mut aw) = a.split();
    let (mut br, mut bw) = b.split();
    let (mut up, mut down) = (Buffer::take(), Buffer::take());
    tokio::try_join!(
        pump(&mut ar, &mut bw, up.bytes()),
        pump(&mut br, &mut aw, down.bytes())
    )
}

/// One direction: read, write all of it, and shut the writer down at end of stream.
async fn pump<R, W>(r: &mut R, w: &mut W, buf: &mut [u8]) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut total = 0u64;
    loop {
        let n = r.read(buf).await?;
        if n == 0 {
            // The peer may already be gone; the copy itself is complete.
            let _ = w.shutdown().await;
            return Ok(total);
        }
        w.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        (c, s)
    }

    /// Bytes arrive intact both ways, half-closes propagate, counts are exact, and
    /// buffers go back to the pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn copies_both_ways_and_propagates_half_close() {
        let (mut client, mut lb_client) = pair().await;
        let (mut lb_backend, mut backend) = pair().await;
        let relay =
            tokio::spawn(async move { copy_both_ways(&mut lb_client, &mut lb_backend).await });
        let upload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let sent = upload.clone();
        let writer = tokio::spawn(async move {
            client.write_all(&sent).await.unwrap();
            client.shutdown().await.unwrap();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).await.unwrap();
            answer
        });
        let mut got = Vec::new();
        backend.read_to_end(&mut got).await.unwrap();
        assert!(got == upload, "upload altered");
        backend.write_all(b"counted").await.unwrap();
        backend.shutdown().await.unwrap();
        assert_eq!(writer.await.unwrap(), b"counted");
        let (up, down) = relay.await.unwrap().unwrap();
        assert_eq!((up, down), (upload.len() as u64, 7));
        assert!(!POOL.lock().unwrap().is_empty(), "buffers returned");
    }
}

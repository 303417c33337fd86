//! Copying a proxied connection both ways, with buffers reused across connections.
//!
//! Each direction reads into a 64 KiB buffer and writes what it read, so bulk transfers
//! move in large chunks; when the client (or backend) half-closes, the other side's write
//! half is shut down and the opposite direction goes on until it ends too. A direction takes
//! its buffer from a small pool only once its socket is readable and gives it back when
//! what it read is written, so a connection waiting for bytes holds none: with a buffer per
//! direction for the connection's lifetime, 10,000 open connections pinned 1.25 GiB, and
//! beyond the pool's size every new connection allocated and zeroed 128 KiB (at 128
//! concurrent connections that made the lb 10% slower than haproxy, which also takes its
//! buffers on demand). Allocating per connection is what
//! `tokio::io::copy_bidirectional_with_sizes` does.
//!
//! On Linux, with [`Splice::Auto`], a direction whose read fills the whole buffer (a bulk
//! transfer, not a handshake) moves on to `splice(2)` through a pipe: the bytes go from one
//! socket to the other inside the kernel, never copied to this process (haproxy's
//! `option splice-auto`). Short connections never pay for a pipe; pipes are pooled too.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::TcpStream;

use super::config::Splice;

/// Size of each direction's buffer.
pub const BUFFER: usize = 64 * 1024;

/// Values kept for reuse across connections: at most 64 (for buffers, 4 MiB); more are
/// freed when returned.
struct Pool<T>(Mutex<Vec<T>>);

impl<T> Pool<T> {
    const MAX: usize = 64;

    const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    fn take(&self) -> Option<T> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    fn put(&self, value: T) {
        let mut pool = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < Self::MAX {
            pool.push(value);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

static BUFFERS: Pool<Box<[u8]>> = Pool::new();

/// A buffer from the pool, returned to it on drop.
struct Buffer(Option<Box<[u8]>>);

impl Buffer {
    fn take() -> Self {
        Buffer(Some(
            BUFFERS
                .take()
                .unwrap_or_else(|| vec![0u8; BUFFER].into_boxed_slice()),
        ))
    }

    fn bytes(&mut self) -> &mut [u8] {
        self.0.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            BUFFERS.put(b);
        }
    }
}

/// Copy `a ⇄ b` until both directions have ended; the bytes copied `a → b` and `b → a`.
/// The caller closes both streams when this returns (the last FIN is sent by closing).
pub async fn copy_both_ways(
    a: &mut TcpStream,
    b: &mut TcpStream,
    splice: Splice,
) -> io::Result<(u64, u64)> {
    let (mut ar, mut aw) = a.split();
    let (mut br, mut bw) = b.split();
    let one_ended = AtomicBool::new(false);
    tokio::try_join!(
        pump(&mut ar, &mut bw, splice, &one_ended),
        pump(&mut br, &mut aw, splice, &one_ended)
    )
}

/// One direction: read, write all of it, and at end of stream shut the writer down —
/// unless the other direction has ended already: then both sockets are about to be
/// closed, and closing sends the FIN without a `shutdown` call of its own (the writer's
/// own incoming bytes were read to their end by the other direction, so the close is a
/// FIN, not a reset).
async fn pump<R, W>(r: &mut R, w: &mut W, splice: Splice, one_ended: &AtomicBool) -> io::Result<u64>
where
    R: AsyncRead + Unpin + AsRef<TcpStream>,
    W: AsyncWrite + Unpin + AsRef<TcpStream>,
{
    #[cfg(not(target_os = "linux"))]
    let _ = splice;
    let mut total = 0u64;
    loop {
        // Wait for bytes (or the end) without holding a buffer. When the peer's FIN had
        // arrived before this read (epoll reported RDHUP), a read that leaves room in the
        // buffer took everything up to it: that is the end, and the read that would return
        // 0 is not made (the data and the FIN of a connection's last flight usually arrive
        // together).
        let ended = r.as_ref().ready(Interest::READABLE).await?.is_read_closed();
        let mut buf = Buffer::take();
        let mut into = ReadBuf::new(buf.bytes());
        // The read is tried once: when the readiness was stale (a new socket's first one
        // can be), the buffer goes back and the wait starts again.
        let read = std::future::poll_fn(|cx| match Pin::new(&mut *r).poll_read(cx, &mut into) {
            Poll::Ready(result) => Poll::Ready(Some(result)),
            Poll::Pending => Poll::Ready(None),
        })
        .await;
        let Some(read) = read else {
            continue;
        };
        read?;
        let n = into.filled().len();
        if n == 0 {
            break;
        }
        w.write_all(&buf.bytes()[..n]).await?;
        drop(buf);
        total += n as u64;
        if ended && n < BUFFER {
            break;
        }
        #[cfg(target_os = "linux")]
        if n == BUFFER
            && splice == Splice::Auto
            && let Some(pipe) = kernel::Pipe::take()
        {
            total += kernel::pump(r.as_ref(), w.as_ref(), pipe).await?;
            break;
        }
    }
    if !one_ended.swap(true, Ordering::AcqRel) {
        // The peer may already be gone; the copy itself is complete.
        let _ = w.shutdown().await;
    }
    Ok(total)
}

/// `splice(2)` from socket to pipe to socket.
#[cfg(target_os = "linux")]
mod kernel {
    use std::io;
    use std::os::fd::OwnedFd;

    use rustix::pipe::{PipeFlags, SpliceFlags};
    use tokio::io::Interest;
    use tokio::net::TcpStream;

    /// Bytes moved per `splice` call at most (the default pipe capacity; a larger pipe
    /// measured no faster).
    const CHUNK: usize = 64 * 1024;
    /// Empty pipes, for reuse.
    static PIPES: super::Pool<(OwnedFd, OwnedFd)> = super::Pool::new();
    /// Bytes moved by `splice` so far (tests).
    #[cfg(test)]
    pub(super) static SPLICED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    /// A pipe, returned to the pool on drop if it is empty.
    pub(super) struct Pipe {
        ends: Option<(OwnedFd, OwnedFd)>,
        held: usize,
    }

    impl Pipe {
        /// A pooled or new pipe; `None` when none can be made (the copy goes on).
        pub(super) fn take() -> Option<Self> {
            let ends = match PIPES.take() {
                Some(e) => e,
                None => rustix::pipe::pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).ok()?,
            };
            Some(Self {
                ends: Some(ends),
                held: 0,
            })
        }
    }

    impl Drop for Pipe {
        fn drop(&mut self) {
            // A pipe with bytes left in it would leak them into the next connection.
            if let (Some(ends), 0) = (self.ends.take(), self.held) {
                PIPES.put(ends);
            }
        }
    }

    /// Empty pipes in the pool.
    #[cfg(test)]
    pub(super) fn pooled() -> usize {
        PIPES.len()
    }

    /// Move `r → w` through `pipe` until `r` ends; the bytes moved.
    pub(super) async fn pump(r: &TcpStream, w: &TcpStream, mut pipe: Pipe) -> io::Result<u64> {
        let Some((out, into)) = pipe.ends.as_ref() else {
            return Ok(0);
        };
        let flags = SpliceFlags::MOVE | SpliceFlags::NONBLOCK;
        let mut total = 0u64;
        loop {
            // The pipe is empty here, so "would block" can only mean `r` has nothing.
            let n = loop {
                r.readable().await?;
                match r.try_io(Interest::READABLE, || {
                    rustix::pipe::splice(r, None, into, None, CHUNK, flags).map_err(io::Error::from)
                }) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                return Ok(total);
            }
            pipe.held = n;
            while pipe.held > 0 {
                w.writable().await?;
                match w.try_io(Interest::WRITABLE, || {
                    rustix::pipe::splice(out, None, w, None, pipe.held, flags)
                        .map_err(io::Error::from)
                }) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(k) => {
                        pipe.held -= k;
                        total += k as u64;
                        #[cfg(test)]
                        SPLICED.fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        (c, s)
    }

    /// Bytes arrive intact both ways (bulk both ways, so `Auto` splices each direction
    /// after its first full buffer), half-closes propagate, counts are exact, and buffers
    /// and pipes go back to their pools.
    async fn bulk_both_ways(splice: Splice) {
        let (mut client, mut lb_client) = pair().await;
        let (mut lb_backend, mut backend) = pair().await;
        let relay =
            tokio::spawn(
                async move { copy_both_ways(&mut lb_client, &mut lb_backend, splice).await },
            );
        let upload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let download: Vec<u8> = (0..2_000_003u32).map(|i| (i % 241) as u8).collect();
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
        assert!(got == upload, "upload altered ({splice:?})");
        backend.write_all(&download).await.unwrap();
        backend.shutdown().await.unwrap();
        assert!(
            writer.await.unwrap() == download,
            "download altered ({splice:?})"
        );
        let (up, down) = relay.await.unwrap().unwrap();
        assert_eq!((up, down), (upload.len() as u64, download.len() as u64));
        assert!(BUFFERS.len() > 0, "buffers returned");
    }

    /// A read half that counts its reads.
    struct Counted<'a> {
        inner: tokio::net::tcp::ReadHalf<'a>,
        reads: usize,
    }

    impl AsRef<TcpStream> for Counted<'_> {
        fn as_ref(&self) -> &TcpStream {
            self.inner.as_ref()
        }
    }

    impl AsyncRead for Counted<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let filled = buf.filled().len();
            let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
            if polled.is_ready() && (buf.filled().len() > filled || buf.remaining() > 0) {
                self.reads += 1;
            }
            polled
        }
    }

    /// Pumps `peer`'s last flight out of `from` into `to`; `fin_first`: the FIN arrives
    /// with the data, else after the data was relayed. The reads made and the bytes.
    async fn last_flight(fin_first: bool) -> (usize, Vec<u8>) {
        let (mut peer, mut from) = pair().await;
        let (mut to, mut sink) = pair().await;
        peer.write_all(b"last flight").await.unwrap();
        from.readable().await.unwrap();
        if fin_first {
            peer.shutdown().await.unwrap();
            while !from
                .ready(Interest::READABLE)
                .await
                .unwrap()
                .is_read_closed()
            {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        let (r, _) = from.split();
        let (_, mut w) = to.split();
        let mut counted = Counted { inner: r, reads: 0 };
        let one_ended = AtomicBool::new(true);
        let pumped = pump(&mut counted, &mut w, Splice::Off, &one_ended);
        let late_fin = async {
            if !fin_first {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                peer.shutdown().await.unwrap();
            }
        };
        let (n, ()) = tokio::join!(pumped, late_fin);
        assert_eq!(n.unwrap(), 11);
        let reads = counted.reads;
        drop(to);
        let mut got = Vec::new();
        sink.read_to_end(&mut got).await.unwrap();
        (reads, got)
    }

    /// Data and FIN together: one read, no read for the end of stream; FIN later: the
    /// copy waits for it and ends on the read that returns 0.
    #[tokio::test(flavor = "current_thread")]
    async fn a_last_flight_with_its_fin_ends_without_another_read() {
        assert_eq!(last_flight(true).await, (1, b"last flight".to_vec()));
        assert_eq!(last_flight(false).await, (2, b"last flight".to_vec()));
    }

    /// Connections waiting for bytes hold no buffer: 40 idle relays leave the pool as it
    /// was (a buffer per direction would have taken 80), and bytes still flow afterwards.
    #[tokio::test(flavor = "current_thread")]
    async fn idle_connections_hold_no_buffers() {
        let warm: Vec<Buffer> = (0..Pool::<()>::MAX).map(|_| Buffer::take()).collect();
        drop(warm);
        let pooled = BUFFERS.len();
        let mut ends = Vec::new();
        let mut relays = Vec::new();
        for _ in 0..40 {
            let (client, mut lb_client) = pair().await;
            let (mut lb_backend, backend) = pair().await;
            relays.push(tokio::spawn(async move {
                copy_both_ways(&mut lb_client, &mut lb_backend, Splice::Off).await
            }));
            ends.push((client, backend));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Other tests running at the same time take a few at most.
        assert!(
            BUFFERS.len() + 8 >= pooled,
            "idle relays took {} buffers from the pool",
            pooled - BUFFERS.len()
        );
        for (client, backend) in &mut ends {
            client.write_all(b"ping").await.unwrap();
            client.shutdown().await.unwrap();
            let mut got = Vec::new();
            backend.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"ping");
            backend.shutdown().await.unwrap();
        }
        for r in relays {
            assert_eq!(r.await.unwrap().unwrap(), (4, 0));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn copies_both_ways_and_propagates_half_close() {
        bulk_both_ways(Splice::Off).await;
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn splices_bulk_both_ways() {
        use std::sync::atomic::Ordering::Relaxed;
        let before = kernel::SPLICED.load(Relaxed);
        bulk_both_ways(Splice::Auto).await;
        let spliced = kernel::SPLICED.load(Relaxed) - before;
        assert!(spliced > 0, "bulk went through splice");
        assert!(kernel::pooled() >= 1, "pipes returned");
    }
}

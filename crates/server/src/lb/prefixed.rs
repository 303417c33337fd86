//! A stream that first replays bytes already read from it: after the front-end header is
//! consumed, the buffered ClientHello goes to the TLS stack as if never read. It can also
//! hold bytes to send before anything its user writes (the TLS-LB answer), so that they
//! leave in the same segment as the ServerHello: one write and one wakeup fewer on both
//! ends of the connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `inner`, with `prefix` read first and `unsent` written first.
#[derive(Debug)]
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    unsent: Vec<u8>,
    sent: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    /// Replay `prefix`, then read `inner`.
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Self::answering(prefix, Vec::new(), inner)
    }

    /// Replay `prefix`, then read `inner`; write `unsent` before the first bytes written
    /// (or at the first flush or shutdown).
    pub fn answering(prefix: Vec<u8>, unsent: Vec<u8>, inner: S) -> Self {
        Self {
            prefix,
            at: 0,
            unsent,
            sent: 0,
            inner,
        }
    }

    /// Bytes of the prefix not yet read.
    pub fn pending(&self) -> &[u8] {
        &self.prefix[self.at..]
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.at < this.prefix.len() {
            let n = (this.prefix.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            if this.at == this.prefix.len() {
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> Prefixed<S> {
    /// Write what is left of `unsent`, together with `first` (the caller's bytes) when
    /// the stream takes vectored writes. `Ready(Ok(n))`: `unsent` is gone and `n` bytes of
    /// `first` went with it.
    fn poll_unsent(&mut self, cx: &mut Context<'_>, first: &[u8]) -> Poll<io::Result<usize>> {
        while self.sent < self.unsent.len() {
            let rest = &self.unsent[self.sent..];
            let bufs = [io::IoSlice::new(rest), io::IoSlice::new(first)];
            let n = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, &bufs))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if n >= rest.len() {
                let of_first = n - rest.len();
                self.unsent = Vec::new();
                self.sent = 0;
                return Poll::Ready(Ok(of_first));
            }
            self.sent += n;
        }
        Poll::Ready(Ok(0))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.unsent.is_empty() {
            let n = ready!(this.poll_unsent(cx, buf))?;
            if n > 0 || buf.is_empty() {
                return Poll::Ready(Ok(n));
            }
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.unsent.is_empty() {
            // Rare (once per connection): the first non-empty buffer goes with `unsent`.
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &**b);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_unsent(cx, &[]))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_unsent(cx, &[]))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn prefix_then_inner() {
        let inner: &[u8] = b" world";
        let mut s = Prefixed::new(b"hello".to_vec(), inner);
        let mut small = [0u8; 3];
        s.read_exact(&mut small).await.unwrap();
        assert_eq!(&small, b"hel");
        assert_eq!(s.pending(), b"lo");
        let mut rest = String::new();
        s.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "lo world");
    }

    /// `unsent` leaves before the first write, even one byte at a time, and at a flush
    /// or shutdown when nothing else is written.
    #[tokio::test]
    async fn unsent_goes_first() {
        use tokio::io::AsyncWriteExt;
        let (a, mut b) = tokio::io::duplex(1);
        let mut s = Prefixed::answering(Vec::new(), b"answer".to_vec(), a);
        let writer = tokio::spawn(async move {
            s.write_all(b"ServerHello").await.unwrap();
            s.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(got, b"answerServerHello");

        let (a, mut b) = tokio::io::duplex(64);
        let mut s = Prefixed::answering(Vec::new(), b"answer".to_vec(), a);
        s.shutdown().await.unwrap();
        drop(s);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"answer");

        let (a, mut b) = tokio::io::duplex(64);
        let mut s = Prefixed::answering(Vec::new(), b"ans".to_vec(), a);
        let bufs = [io::IoSlice::new(b""), io::IoSlice::new(b"wer")];
        let n = s.write_vectored(&bufs).await.unwrap();
        assert_eq!(n, 3);
        drop(s);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"answer");
    }
}

//! TCP socket options of the load balancer's two sides.
//!
//! TLS is a protocol where the client speaks first and the server answers, so the
//! kernel's immediate ACKs at the start of a connection are mostly wasted packets: the
//! ACK of the client's ClientHello could ride on the first bytes relayed back, and the last
//! packet of the handshake with a backend could carry the header and the ClientHello. With
//! `delayed_acks` (haproxy's `option tcp-smart-accept` and `option tcp-smart-connect`),
//! the listener and each backend socket start in delayed-ACK mode (`TCP_QUICKACK` off,
//! Linux): on loopback this takes 4 of the 24 packets of a proxied connection away. The
//! kernel still sends a lone ACK after its delayed-ACK timer (40 ms) when no data comes to
//! carry it, and then goes back to its usual mode.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Prepare the client-facing listener; `true` when the sockets it accepts get
/// `TCP_NODELAY` from it. On Linux they inherit it (so it is one call here instead of one
/// per connection); quick-ACK mode off on the listener holds back one ACK per accepted
/// connection (measured with `nstat`).
pub(super) fn tune_listener(listener: &TcpListener, delayed_acks: bool) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use rustix::net::sockopt;
        sockopt::set_tcp_nodelay(listener, true)?;
        if delayed_acks {
            sockopt::set_tcp_quickack(listener, false)?;
        }
        Ok(true)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (listener, delayed_acks);
        Ok(false)
    }
}

/// Set `TCP_NODELAY` on a socket `accept` returned, unless it `inherited` it from the
/// listener ([`tune_listener`]).
pub(super) fn tune_accepted(stream: &TcpStream, inherited: bool) {
    if !inherited {
        let _ = stream.set_nodelay(true);
    }
}

/// Connect to a backend with `TCP_NODELAY` (each relayed write leaves at once) and, with
/// `delayed_acks`, without the lone ACK that ends the handshake: it leaves with the first
/// bytes written.
pub(super) async fn connect(addr: SocketAddr, delayed_acks: bool) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_nodelay(true)?;
    #[cfg(target_os = "linux")]
    if delayed_acks {
        rustix::net::sockopt::set_tcp_quickack(&socket, false)?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = delayed_acks;
    socket.connect(addr).await
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use rustix::net::sockopt;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn the_listener_passes_its_options_on() {
        for delayed in [true, false] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tune_listener(&listener, delayed).unwrap();
            assert_eq!(sockopt::tcp_quickack(&listener).unwrap(), !delayed);
            let addr = listener.local_addr().unwrap();
            let (_out, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
            assert!(sockopt::tcp_nodelay(&accepted.unwrap().0).unwrap());
        }
    }

    /// With delayed ACKs the handshake's last ACK is held back (the kernel's delayed-ACK
    /// timer is 200 ms here), so the listener has nothing to accept until the first bytes
    /// carry it.
    #[tokio::test]
    async fn the_first_bytes_complete_the_backend_handshake() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut out = connect(addr, true).await.unwrap();
        assert!(sockopt::tcp_nodelay(&out).unwrap());
        let connected = Instant::now();
        if let Ok(early) = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await
        {
            // Only the delayed-ACK timer may have completed it (this task can be late).
            early.unwrap();
            assert!(
                connected.elapsed() >= Duration::from_millis(150),
                "the handshake completed without data after {:?}",
                connected.elapsed()
            );
            return;
        }
        out.write_all(b"hello").await.unwrap();
        let (mut accepted, _) = listener.accept().await.unwrap();
        let mut got = [0u8; 5];
        accepted.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");

        // Without, the listener accepts at once.
        let _plain = connect(addr, false).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .unwrap()
            .unwrap();
    }
}

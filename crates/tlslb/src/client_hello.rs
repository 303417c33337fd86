//! Reading the client's ClientHello without terminating TLS: reassemble the handshake
//! message from however many records the client split it into, and read the server name
//! and ALPN protocols a load balancer routes by.
//!
//! The complete handshake message (`msg_type ‖ u24 length ‖ body`) is what the
//! `proxy_header` is bound to (its AEAD additional data), whatever the record
//! fragmentation.

use crate::Error;
use crate::codec::Reader;

/// Largest ClientHello accepted (post-quantum key shares make them a few KB; this leaves
/// room and bounds memory).
pub const MAX_CLIENT_HELLO: usize = 64 * 1024;
/// TLS record content type of handshake records.
pub const HANDSHAKE: u8 = 22;

/// What the load balancer learned from a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The complete handshake message: the AEAD additional data.
    pub message: Vec<u8>,
    /// Bytes of the connection (whole records) the message arrived in.
    pub raw_len: usize,
    /// `server_name` (host_name), if any.
    pub server_name: Option<String>,
    /// ALPN protocol names offered, in order.
    pub alpn: Vec<Vec<u8>>,
    /// Whether it carries an `encrypted_client_hello` (0xfe0d) extension.
    pub ech: bool,
}

/// Parse the ClientHello at the start of `buf` (TLS records). `Ok(None)` until enough
/// bytes have arrived; an error for anything that is not a ClientHello.
pub fn parse(buf: &[u8]) -> Result<Option<ClientHello>, Error> {
    let mut message: Vec<u8> = Vec::new();
    let mut pos = 0;
    loop {
        let Some(header) = buf.get(pos..pos + 5) else {
            return Ok(None);
        };
        if header[0] != HANDSHAKE {
            return Err(Error::NotClientHello(
                "a record before the ClientHello completed is not a handshake record",
            ));
        }
        if header[1] != 3 {
            return Err(Error::NotClientHello("record version is not 3.x"));
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len == 0 || len > (1 << 14) {
            return Err(Error::NotClientHello("record length out of range"));
        }
        let Some(fragment) = buf.get(pos + 5..pos + 5 + len) else {
            return Ok(None);
        };
        message.extend_from_slice(fragment);
        pos += 5 + len;
        if message.len() >= 4 {
            if message[0] != 1 {
                return Err(Error::NotClientHello(
                    "first handshake message is not a ClientHello",
                ));
            }
            let body_len = u32::from_be_bytes([0, message[1], message[2], message[3]]) as usize;
            if body_len + 4 > MAX_CLIENT_HELLO {
                return Err(Error::TooLong("ClientHello"));
            }
            if message.len() >= body_len + 4 {
                message.truncate(body_len + 4);
                let (server_name, alpn, ech) = extensions(&message[4..])?;
                return Ok(Some(ClientHello {
                    message,
                    raw_len: pos,
                    server_name,
                    alpn,
                    ech,
                }));
            }
        }
    }
}

type Routing = (Option<String>, Vec<Vec<u8>>, bool);

fn extensions(body: &[u8]) -> Result<Routing, Error> {
    let mut r = Reader::new(body, "ClientHello");
    r.u16()?; // legacy_version
    r.take(32)?; // random
    r.vec8(0)?; // legacy_session_id
    r.vec16(2)?; // cipher_suites
    r.vec8(1)?; // legacy_compression_methods
    let (mut sni, mut alpn, mut ech) = (None, Vec::new(), false);
    if r.is_empty() {
        return Ok((sni, alpn, ech)); // TLS 1.2 without extensions
    }
    let exts = r.vec16(0)?;
    r.finish()?;
    let mut er = Reader::new(exts, "ClientHello extensions");
    let mut seen: Vec<u16> = Vec::new();
    while !er.is_empty() {
        let ty = er.u16()?;
        let data = er.vec16(0)?;
        if seen.contains(&ty) {
            return Err(Error::NotClientHello(
                "duplicate extension in the ClientHello",
            ));
        }
        seen.push(ty);
        match ty {
            0 => {
                let mut sr = Reader::new(data, "server_name");
                let list = sr.vec16(1)?;
                sr.finish()?;
                let mut lr = Reader::new(list, "server_name list");
                while !lr.is_empty() {
                    let name_type = lr.u8()?;
                    let name = lr.vec16(1)?;
                    if name_type == 0 && sni.is_none() {
                        let s = std::str::from_utf8(name)
                            .map_err(|_| Error::NotClientHello("server name is not ASCII"))?;
                        if !s.bytes().all(|b| b.is_ascii_graphic()) {
                            return Err(Error::NotClientHello("server name is not a host name"));
                        }
                        sni = Some(s.to_ascii_lowercase());
                    }
                }
            }
            16 => {
                let mut ar = Reader::new(data, "application_layer_protocol_negotiation");
                let list = ar.vec16(2)?;
                ar.finish()?;
                let mut lr = Reader::new(list, "ALPN list");
                while !lr.is_empty() {
                    alpn.push(lr.vec8(1)?.to_vec());
                }
            }
            0xfe0d => ech = true,
            _ => {}
        }
    }
    Ok((sni, alpn, ech))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal TLS 1.3-style ClientHello with SNI and ALPN.
    pub(crate) fn sample(sni: &str) -> Vec<u8> {
        let mut exts = Vec::new();
        let mut name = vec![0u8];
        name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        name.extend_from_slice(sni.as_bytes());
        let mut list = (name.len() as u16).to_be_bytes().to_vec();
        list.extend(name);
        exts.extend([0, 0]);
        exts.extend((list.len() as u16).to_be_bytes());
        exts.extend(list);
        let alpn = [0u8, 3, 2, b'h', b'2'];
        exts.extend([0, 16, 0, 5]);
        exts.extend(alpn);
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(0);
        body.extend([0, 2, 0x13, 0x01, 1, 0]);
        body.extend((exts.len() as u16).to_be_bytes());
        body.extend(exts);
        let mut msg = vec![1];
        msg.extend(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend(body);
        msg
    }

    fn records(msg: &[u8], split: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in msg.chunks(split) {
            out.extend([22, 3, 1]);
            out.extend((chunk.len() as u16).to_be_bytes());
            out.extend(chunk);
        }
        out
    }

    #[test]
    fn reads_sni_and_alpn_across_any_fragmentation() {
        let msg = sample("Example.COM");
        for split in [1, 2, 3, 7, 50, msg.len()] {
            let wire = records(&msg, split);
            for cut in 0..wire.len() {
                assert_eq!(
                    parse(&wire[..cut]).unwrap(),
                    None,
                    "split {split}, cut {cut}"
                );
            }
            let mut more = wire.clone();
            more.extend([23, 3, 3, 0, 1, 0]); // what follows is not ours to read
            let ch = parse(&more).unwrap().unwrap();
            assert_eq!(ch.message, msg);
            assert_eq!(ch.raw_len, wire.len());
            assert_eq!(ch.server_name.as_deref(), Some("example.com"));
            assert_eq!(ch.alpn, vec![b"h2".to_vec()]);
        }
    }

    #[test]
    fn refuses_what_is_not_a_client_hello() {
        assert!(parse(&[23, 3, 3, 0, 1, 0]).is_err());
        assert!(parse(&[22, 3, 3, 0, 4, 2, 0, 0, 0]).is_err(), "ServerHello");
        assert!(parse(&[22, 9, 3, 0, 1, 1]).is_err());
        assert!(parse(&[22, 3, 3, 0, 0]).is_err(), "empty record");
        assert!(
            parse(&[22, 3, 3, 0, 4, 1, 0xff, 0xff, 0xff]).is_err(),
            "too long"
        );
        let mut msg = sample("a");
        msg[4 + 2 + 32] = 40; // session id longer than the body
        assert!(parse(&records(&msg, msg.len())).is_err());
    }
}

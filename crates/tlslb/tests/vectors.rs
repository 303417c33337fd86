//! draft-schwartz-tls-lb-02 against real ClientHellos (Zeek's traces) and the worked
//! AES-128-GCM vector: byte-exact sealing, then every way a header must fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use secdispatch_tlslb::encrypted::{Cipher, EncryptedProxyData, Keyring, ProxyKey};
use secdispatch_tlslb::proxy_data::{Direction, ProxyData, ProxyExtension, RatchetValue, ext};
use secdispatch_tlslb::{
    Error, client_hello, open_downstream, open_upstream, seal_downstream, seal_upstream,
};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The client→server TCP payload of each stream (by client port) of a pcap, in order.
fn client_streams(file: &str) -> BTreeMap<u16, Vec<u8>> {
    let data = std::fs::read(format!(
        "{}/tests/vectors/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (_, cap) = pcap_parser::parse_pcap(&data).unwrap();
    let mut out: BTreeMap<u16, Vec<u8>> = BTreeMap::new();
    for b in &cap.blocks {
        let Ok(p) = etherparse::SlicedPacket::from_ethernet(b.data) else {
            continue;
        };
        let Some(etherparse::TransportSlice::Tcp(tcp)) = p.transport else {
            continue;
        };
        if tcp.destination_port() == 443 && !tcp.payload().is_empty() {
            out.entry(tcp.source_port())
                .or_default()
                .extend_from_slice(tcp.payload());
        }
    }
    out
}

fn first_client_hello(file: &str, port: Option<u16>) -> client_hello::ClientHello {
    let streams = client_streams(file);
    let bytes = match port {
        Some(p) => &streams[&p],
        None => streams.values().find(|s| s.first() == Some(&22)).unwrap(),
    };
    client_hello::parse(bytes).unwrap().unwrap()
}

fn vector_keys() -> Keyring {
    let key: Vec<u8> = (0u8..16).collect();
    Keyring::new(vec![
        ProxyKey::new(b"lb-key-1", Cipher::Aes128Gcm, &key).unwrap(),
    ])
    .unwrap()
}

fn vector_upstream() -> ProxyData {
    let mut pd = ProxyData::new(Direction::Upstream)
        .client_address("192.0.2.1".parse().unwrap())
        .ratchet(RatchetValue {
            index: 0x0123_4567_89ab_cdef,
            floor: 0x0123_4567_89ab_cde0,
        });
    pd.extensions.push(ProxyExtension {
        extension_type: ext::PADDING,
        data: vec![0; 11],
    });
    pd
}

const UP_RECORD: &str = "000000005900086c622d6b65792d31000ca0a1a2a3a4a5a6a7a8a9aaab003faa8614bb7f89360e4a78b7014614b07052cd666f0abcf040243334fccb2642489aa3453a0feaec6d7fdee2c4afdb091e908b98c5b47a0078c08c97313593cb";
const DOWN_RECORD: &str = "000000003500086c622d6b65792d31000cb0b1b2b3b4b5b6b7b8b9babb001b5fc9b89dc6972b3fb82a5b1fe6f66c8591583b43fbe6276ade95d7";

#[test]
fn the_ech_client_hello_is_read_whole() {
    let ch = first_client_hello("tls13-ech.pcap", Some(51066));
    assert_eq!(ch.message.len(), 512);
    assert_eq!(hex(&ch.message[..8]), "010001fc0303d820");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &ch.message);
    assert_eq!(
        hex(digest.as_ref()),
        "995d08eb3f6f6fdaff6b25a24edc2f9ff0a7ca23d0b682ab6b1321c3c77bd33b"
    );
    assert!(ch.ech);
    assert_eq!(ch.server_name.as_deref(), Some("cloudflare-ech.com"));
}

#[test]
fn sealing_reproduces_the_worked_vector_and_opens_again() {
    let ch = first_client_hello("tls13-ech.pcap", Some(51066));
    let keys = vector_keys();
    let nonce: [u8; 12] = std::array::from_fn(|i| 0xa0 + i as u8);
    let (record, epd) = seal_upstream(&keys, &vector_upstream(), &ch.message, nonce, 0).unwrap();
    assert_eq!(hex(&record), UP_RECORD);
    assert_eq!(epd.len(), 89);
    let (data, parsed) = open_upstream(&keys, &record[5..], &ch.message).unwrap();
    assert_eq!(data, vector_upstream());
    let m = data.metadata().unwrap();
    assert_eq!(m.ratchet.unwrap().index, 0x0123_4567_89ab_cdef);

    let ack =
        ProxyData::new(Direction::Downstream).acknowledge(&[ext::CLIENT_ADDRESS, ext::RATCHET]);
    let down_nonce: [u8; 12] = std::array::from_fn(|i| 0xb0 + i as u8);
    let answer = seal_downstream(&keys, &parsed, &ack, &epd, down_nonce, 0).unwrap();
    assert_eq!(hex(&answer), DOWN_RECORD);
    let back = open_downstream(&keys, &answer[5..], &epd).unwrap();
    assert!(back.answers(&vector_upstream()));
}

#[test]
fn every_tampering_fails() {
    let ch = first_client_hello("tls13-ech.pcap", Some(51066));
    let keys = vector_keys();
    let record = unhex(UP_RECORD);
    // A bit flip anywhere in the payload: refused (structure, identity or AEAD).
    for i in 5..record.len() {
        for bit in [0x01, 0x80] {
            let mut r = record.clone();
            r[i] ^= bit;
            assert!(
                open_upstream(&keys, &r[5..], &ch.message).is_err(),
                "flip at {i}"
            );
        }
    }
    // Spliced onto another ClientHello.
    let other = first_client_hello("chrome-34-google.pcap", None);
    assert_eq!(
        open_upstream(&keys, &record[5..], &other.message),
        Err(Error::Authentication)
    );
    // A changed byte of the ClientHello.
    let mut changed = ch.message.clone();
    changed[100] ^= 1;
    assert_eq!(
        open_upstream(&keys, &record[5..], &changed),
        Err(Error::Authentication)
    );
    // Unknown psk_identity.
    let other_keys = Keyring::new(vec![
        ProxyKey::new(b"lb-key-2", Cipher::Aes128Gcm, &[0; 16]).unwrap(),
    ])
    .unwrap();
    assert!(matches!(
        open_upstream(&other_keys, &record[5..], &ch.message),
        Err(Error::UnknownIdentity(_))
    ));
    // Reflected: the downstream answer presented as an upstream header.
    let down = unhex(DOWN_RECORD);
    let epd = &record[5..];
    assert!(open_upstream(&keys, &down[5..], epd).is_err_and(
        |e| e == Error::WrongDirection("ProxyData direction does not match the way it travels")
    ));
    // Truncation at every offset.
    for cut in 0..record.len() - 5 {
        assert!(
            EncryptedProxyData::decode(&record[5..5 + cut]).is_err() || cut == record.len() - 5
        );
    }
}

#[test]
fn fragmented_and_retried_hellos_from_real_traces() {
    for file in [
        "tls13-ech.pcap",
        "hrr.pcap",
        "ecdhe.pcap",
        "chrome-34-google.pcap",
    ] {
        let ch = first_client_hello(file, None);
        let streams = client_streams(file);
        let wire = streams.values().find(|s| s.first() == Some(&22)).unwrap();
        // Re-record the same message in 100-byte records: same message, same AAD.
        let mut split = Vec::new();
        for c in ch.message.chunks(100) {
            split.extend([22, 3, 1]);
            split.extend((c.len() as u16).to_be_bytes());
            split.extend(c);
        }
        let again = client_hello::parse(&split).unwrap().unwrap();
        assert_eq!(again.message, ch.message, "{file}");
        assert!(ch.raw_len <= wire.len());
    }
    assert_eq!(
        first_client_hello("chrome-34-google.pcap", None)
            .server_name
            .as_deref(),
        Some("google.de")
    );
    assert_eq!(first_client_hello("ecdhe.pcap", None).server_name, None);
    // HRR: the second ClientHello on the stream is not read as part of the first.
    let hrr = first_client_hello("hrr.pcap", None);
    assert_eq!(
        hrr.message.len(),
        4 + u32::from_be_bytes([0, hrr.message[1], hrr.message[2], hrr.message[3]]) as usize
    );
}

fn arb_proxy_data() -> impl Strategy<Value = ProxyData> {
    (
        any::<bool>(),
        proptest::option::of(any::<[u8; 4]>()),
        proptest::option::of(any::<(u64, u64)>()),
        proptest::option::of(any::<(u16, u16)>()),
        proptest::collection::vec(
            (
                0x9000u16..0xffff,
                proptest::collection::vec(any::<u8>(), 0..20),
            ),
            0..3,
        ),
        0usize..80,
    )
        .prop_map(|(down, addr, ratchet, ports, unknown, pad)| {
            let dir = if down {
                Direction::Downstream
            } else {
                Direction::Upstream
            };
            let mut pd = ProxyData::new(dir);
            if let Some(a) = addr {
                pd = pd.client_address(std::net::IpAddr::from(a));
            }
            if let Some((index, floor)) = ratchet {
                pd = pd.ratchet(RatchetValue { index, floor });
            }
            if let Some((c, d)) = ports {
                pd = pd.ports(c, d);
            }
            for (t, d) in unknown {
                if !pd.extensions.iter().any(|e| e.extension_type == t) {
                    pd.extensions.push(ProxyExtension {
                        extension_type: t,
                        data: d,
                    });
                }
            }
            pd.pad_to(pad)
        })
}

proptest! {
    #[test]
    fn proxy_data_round_trips_and_truncation_always_fails(pd in arb_proxy_data()) {
        let bytes = pd.encode().unwrap();
        prop_assert_eq!(ProxyData::decode(&bytes).unwrap(), pd);
        for cut in 0..bytes.len() {
            prop_assert!(ProxyData::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ProxyData::decode(&bytes);
        let _ = EncryptedProxyData::decode(&bytes);
        let _ = client_hello::parse(&bytes);
        let _ = secdispatch_tlslb::proxy_protocol::decode(&bytes);
        let _ = ProxyKey::decode(&bytes);
    }

    #[test]
    fn sealed_headers_open_with_any_cipher(pd in arb_proxy_data(), ch in proptest::collection::vec(any::<u8>(), 1..600), c in 0usize..3) {
        let cipher = [Cipher::Aes128Gcm, Cipher::Aes256Gcm, Cipher::ChaCha20Poly1305][c];
        let keys = Keyring::new(vec![ProxyKey::new(b"k", cipher, &vec![9; cipher.key_len()]).unwrap()]).unwrap();
        let up = ProxyData { direction: Direction::Upstream, ..pd };
        let (record, _) = seal_upstream(&keys, &up, &ch, [3; 12], 0).unwrap();
        prop_assert_eq!(open_upstream(&keys, &record[5..], &ch).unwrap().0, up);
    }
}

//! pcap and pcapng captures, streamed through a fixed-size buffer (pcap-parser), decoded
//! from the link layer down to the transport (etherparse, lax mode so that snap-length
//! truncation still yields addresses and ports), and fed to a [`FlowTracker`].
//!
//! Link types: Ethernet (with 802.1Q/QinQ VLAN tags), Linux cooked capture v1 and v2,
//! raw IP (101, 228, 229) and BSD loopback (0, 108). Packets of other link types, cut-off
//! records and undecodable packets are skipped and counted in [`Skipped`]; a capture whose
//! record stream is corrupt stops at that point (pcap has no resynchronisation marker) and
//! reports it, keeping everything read before.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};

use crate::error::Error;
use crate::flow::{Flow, Proto};
use crate::skip::Skipped;
use crate::tracker::{FlowTracker, Packet, TcpFlags};

/// Largest record the reader grows its buffer for.
const MAX_RECORD: usize = 64 * 1024 * 1024;

/// Counters for one capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packet records read.
    pub packets: u64,
    /// Bytes of the capture consumed.
    pub bytes: u64,
    /// Packets that were not IP or ARP (LLDP, STP, ...): ignored, not errors.
    pub non_ip: u64,
    /// IP fragments after the first (no transport header): counted, not tracked.
    pub fragments: u64,
}

/// Whether `head` starts like a pcap or pcapng file.
pub fn is_capture(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some(
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        )
    )
}

#[derive(Debug, Clone, Copy)]
struct Iface {
    linktype: i32,
    /// Units per second; 0 when the interface's resolution is invalid.
    resolution: u64,
    offset: i64,
}

/// Read one capture into `tracker`; finished flows go to `sink` as they complete (so
/// memory holds only the active ones). `progress` is called now and then with the bytes
/// consumed so far. Errors only when the file is not a capture at all; everything after a
/// valid header is best effort.
pub fn read_capture<R: Read + Send>(
    reader: R,
    source: &str,
    tracker: &mut FlowTracker,
    skipped: &mut Skipped,
    progress: &mut dyn FnMut(u64),
    sink: &mut dyn FnMut(Flow),
) -> Result<CaptureStats, Error> {
    let mut rd = match create_reader(1 << 20, reader) {
        Ok(r) => r,
        Err(PcapError::HeaderNotRecognized) => return Err(Error::NotACapture),
        Err(PcapError::ReadError) => return Err(Error::Io(std::io::Error::other("read failed"))),
        Err(_) => return Err(Error::TruncatedHeader),
    };
    let mut stats = CaptureStats::default();
    let mut legacy = Iface {
        linktype: 1,
        resolution: 1_000_000,
        offset: 0,
    };
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut last_ts = 0.0;
    let mut stalls = 0;
    loop {
        match rd.next() {
            Ok((offset, block)) => {
                stalls = 0;
                stats.bytes += offset as u64;
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = Iface {
                            linktype: h.network.0,
                            resolution: if h.is_nanosecond_precision() {
                                1_000_000_000
                            } else {
                                1_000_000
                            },
                            offset: 0,
                        };
                    }
                    PcapBlockOwned::Legacy(b) => {
                        stats.packets += 1;
                        let ts =
                            f64::from(b.ts_sec) + f64::from(b.ts_usec) / legacy.resolution as f64;
                        last_ts = ts;
                        packet(
                            legacy.linktype,
                            ts,
                            b.data,
                            tracker,
                            skipped,
                            source,
                            &mut stats,
                        );
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => ifaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        let resolution =
                            pcap_parser::pcapng::build_ts_resolution(idb.if_tsresol).unwrap_or(0);
                        ifaces.push(Iface {
                            linktype: idb.linktype.0,
                            resolution,
                            offset: idb.if_tsoffset,
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        stats.packets += 1;
                        let n = stats.packets;
                        match ifaces.get(epb.if_id as usize) {
                            Some(i) if i.resolution > 0 => {
                                let t = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                let ts = i.offset as f64
                                    + (t / i.resolution) as f64
                                    + (t % i.resolution) as f64 / i.resolution as f64;
                                last_ts = ts;
                                packet(
                                    i.linktype,
                                    ts,
                                    epb.packet_data(),
                                    tracker,
                                    skipped,
                                    source,
                                    &mut stats,
                                );
                            }
                            Some(_) => skipped.skip(
                                source,
                                || format!("packet {n}"),
                                "invalid interface time resolution",
                            ),
                            None => skipped.skip(
                                source,
                                || format!("packet {n}"),
                                "packet for an undeclared interface",
                            ),
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        stats.packets += 1;
                        let n = stats.packets;
                        match ifaces.first() {
                            Some(i) => packet(
                                i.linktype,
                                last_ts,
                                spb.packet_data(),
                                tracker,
                                skipped,
                                source,
                                &mut stats,
                            ),
                            None => skipped.skip(
                                source,
                                || format!("packet {n}"),
                                "packet for an undeclared interface",
                            ),
                        }
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                rd.consume(offset);
                if tracker.has_ready() {
                    tracker.drain().for_each(&mut *sink);
                }
                if stats.packets % 8192 == 0 {
                    progress(stats.bytes);
                }
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if rd.reader_exhausted() {
                    let at = stats.bytes;
                    skipped.skip(
                        source,
                        || format!("byte {at}"),
                        "truncated record at the end of the capture",
                    );
                    break;
                }
                stalls += 1;
                if stalls > 4 {
                    let at = stats.bytes;
                    skipped.skip(
                        source,
                        || format!("byte {at}"),
                        "capture stopped growing inside a record",
                    );
                    break;
                }
                if rd.refill().is_err() {
                    let at = stats.bytes;
                    skipped.skip(
                        source,
                        || format!("byte {at}"),
                        "read error inside the capture",
                    );
                    break;
                }
            }
            Err(PcapError::BufferTooSmall) => {
                let size = rd.data().len().max(1 << 20) * 2;
                if size > MAX_RECORD || !rd.grow(size) {
                    let at = stats.bytes;
                    skipped.skip(
                        source,
                        || format!("byte {at}"),
                        "record larger than 64 MiB: capture corrupt from here",
                    );
                    break;
                }
                if rd.refill().is_err() {
                    break;
                }
            }
            Err(e) => {
                let at = stats.bytes;
                let what = match e {
                    PcapError::UnexpectedEof => {
                        "truncated record at the end of the capture".to_owned()
                    }
                    PcapError::ReadError => "read error inside the capture".to_owned(),
                    other => format!("corrupt record: capture unreadable from here ({other:?})")
                        .chars()
                        .take(120)
                        .collect(),
                };
                skipped.skip(source, || format!("byte {at}"), &what);
                break;
            }
        }
    }
    tracker.drain().for_each(&mut *sink);
    progress(stats.bytes);
    Ok(stats)
}

fn packet(
    linktype: i32,
    ts: f64,
    data: &[u8],
    tracker: &mut FlowTracker,
    skipped: &mut Skipped,
    source: &str,
    stats: &mut CaptureStats,
) {
    match decode(linktype, ts, data) {
        Ok(Decoded::Packet(p)) => tracker.packet(&p),
        Ok(Decoded::NonIp) => stats.non_ip += 1,
        Ok(Decoded::Fragment) => stats.fragments += 1,
        Err(reason) => {
            let n = stats.packets;
            if reason == "unknown link type" {
                skipped.skip(
                    source,
                    || format!("packet {n}"),
                    &format!("unknown link type: {linktype}"),
                );
            } else {
                skipped.skip(source, || format!("packet {n}"), reason);
            }
        }
    }
}

/// What one link-layer frame holds.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// An IP (or ARP) packet for the tracker.
    Packet(Packet<'a>),
    /// Not IP or ARP.
    NonIp,
    /// A non-first IP fragment.
    Fragment,
}

/// Decode one frame of the given link type; `Err` names why it cannot be used.
pub fn decode(linktype: i32, ts: f64, data: &[u8]) -> Result<Decoded<'_>, &'static str> {
    if linktype == 1
        && let Some(p) = ethernet_ipv4_fast(ts, data)
    {
        return Ok(Decoded::Packet(p));
    }
    decode_sliced(linktype, ts, data)
}

/// The frame most captures are made of — untagged Ethernet, an IPv4 header with a
/// consistent length, not a fragment, a complete TCP header or a UDP datagram filling the
/// IP payload — read directly. Everything else (`None`) goes through etherparse, whose
/// answer for these frames is the same (`fast_path_agrees_with_etherparse` checks it).
fn ethernet_ipv4_fast(ts: f64, data: &[u8]) -> Option<Packet<'_>> {
    let ip = data.get(14..)?;
    if data[12..14] != [0x08, 0x00] || ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if hl < 20 || total < hl || total > ip.len() || fragment {
        return None;
    }
    let l4 = &ip[hl..total];
    let mut p = Packet {
        ts,
        src: IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15])),
        dst: IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19])),
        proto: Proto::Other,
        sport: 0,
        dport: 0,
        ip_len: total as u32,
        ttl: ip[8],
        tcp: None,
        payload: &[],
        payload_len: 0,
        reply: false,
    };
    match ip[9] {
        6 => {
            let off = usize::from(l4.get(12)? >> 4) * 4;
            if off < 20 || off > l4.len() {
                return None;
            }
            let flags = l4[13];
            p.proto = Proto::Tcp;
            p.sport = u16::from_be_bytes([l4[0], l4[1]]);
            p.dport = u16::from_be_bytes([l4[2], l4[3]]);
            p.tcp = Some(TcpFlags {
                fin: flags & 0x01 != 0,
                syn: flags & 0x02 != 0,
                rst: flags & 0x04 != 0,
                ack: flags & 0x10 != 0,
                seq: u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]),
            });
            p.payload = &l4[off..];
            p.payload_len = (l4.len() - off) as u32;
        }
        17 => {
            let len = usize::from(u16::from_be_bytes([*l4.get(4)?, *l4.get(5)?]));
            if len < 8 || len != l4.len() {
                return None;
            }
            p.proto = Proto::Udp;
            p.sport = u16::from_be_bytes([l4[0], l4[1]]);
            p.dport = u16::from_be_bytes([l4[2], l4[3]]);
            p.payload = &l4[8..];
            p.payload_len = (len - 8) as u32;
        }
        _ => return None,
    }
    Some(p)
}

/// [`decode`] through etherparse: every link type, VLANs, IPv6, ICMP, ARP, truncation.
fn decode_sliced(linktype: i32, ts: f64, data: &[u8]) -> Result<Decoded<'_>, &'static str> {
    let sliced = match linktype {
        1 => LaxSlicedPacket::from_ethernet(data).map_err(|_| "truncated Ethernet header")?,
        101 | 228 | 229 | 12 | 14 => LaxSlicedPacket::from_ip(data).map_err(|_| "bad IP header")?,
        113 => {
            let h = data.get(..16).ok_or("truncated Linux SLL header")?;
            LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([h[14], h[15]])),
                &data[16..],
            )
        }
        276 => {
            let h = data.get(..20).ok_or("truncated Linux SLL2 header")?;
            LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([h[0], h[1]])),
                &data[20..],
            )
        }
        0 | 108 => {
            data.get(..4).ok_or("truncated loopback header")?;
            LaxSlicedPacket::from_ip(&data[4..]).map_err(|_| "bad IP header")?
        }
        _ => return Err("unknown link type"),
    };
    let (src, dst, ip_len, ttl, hdr_len, payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let hl = u32::from(h.ihl()) * 4;
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                u32::from(h.total_len()),
                h.ttl(),
                hl,
                v4.payload(),
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let hl = 40 + v6.extensions().slice().len() as u32;
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                u32::from(h.payload_length()) + 40,
                h.hop_limit(),
                hl,
                v6.payload(),
            )
        }
        Some(LaxNetSlice::Arp(arp)) => return arp_packet(ts, arp.slice()),
        None => {
            return match sliced.stop_err {
                Some(_) if sliced.link.is_some() || linktype != 1 => {
                    Err("truncated or malformed IP header")
                }
                _ => Ok(Decoded::NonIp),
            };
        }
    };
    let wire_payload = ip_len.saturating_sub(hdr_len);
    let mut p = Packet {
        ts,
        src,
        dst,
        proto: Proto::Other,
        sport: 0,
        dport: u16::from(payload.ip_number.0),
        ip_len,
        ttl,
        tcp: None,
        payload: &[],
        payload_len: 0,
        reply: false,
    };
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            p.proto = Proto::Tcp;
            p.sport = t.source_port();
            p.dport = t.destination_port();
            p.tcp = Some(TcpFlags {
                syn: t.syn(),
                ack: t.ack(),
                fin: t.fin(),
                rst: t.rst(),
                seq: t.sequence_number(),
            });
            p.payload = t.payload();
            p.payload_len = wire_payload.saturating_sub(u32::from(t.data_offset()) * 4);
        }
        Some(TransportSlice::Udp(u)) => {
            p.proto = Proto::Udp;
            p.sport = u.source_port();
            p.dport = u.destination_port();
            p.payload = u.payload();
            p.payload_len = u32::from(u.length()).saturating_sub(8);
        }
        Some(TransportSlice::Icmpv4(i)) => {
            icmp(&mut p, i.type_u8(), i.code_u8(), (8, 0), wire_payload)
        }
        Some(TransportSlice::Icmpv6(i)) => {
            icmp(&mut p, i.type_u8(), i.code_u8(), (128, 129), wire_payload)
        }
        Some(_) => {}
        None => {
            if payload.fragmented {
                return Ok(Decoded::Fragment);
            }
            if matches!(payload.ip_number.0, 1 | 6 | 17 | 58) {
                return Err("truncated transport header");
            }
        }
    }
    Ok(Decoded::Packet(p))
}

/// ICMP as Zeek keys it: type in the originator's port, code in the responder's; an echo
/// reply is mapped onto its request's key.
fn icmp(p: &mut Packet<'_>, typ: u8, code: u8, (req, rep): (u8, u8), wire: u32) {
    p.proto = Proto::Icmp;
    p.payload_len = wire.saturating_sub(8);
    if typ == rep {
        p.sport = u16::from(code);
        p.dport = u16::from(req);
        p.reply = true;
    } else {
        p.sport = u16::from(typ);
        p.dport = u16::from(code);
    }
}

/// ARP over Ethernet/IPv4: a request `who-has T tell S` opens the flow S→T, the reply
/// answers it.
fn arp_packet(ts: f64, b: &[u8]) -> Result<Decoded<'_>, &'static str> {
    let h = b.get(..8).ok_or("truncated ARP packet")?;
    let (hlen, plen) = (usize::from(h[4]), usize::from(h[5]));
    let op = u16::from_be_bytes([h[6], h[7]]);
    if plen != 4 {
        return Ok(Decoded::NonIp);
    }
    let spa = b
        .get(8 + hlen..8 + hlen + 4)
        .ok_or("truncated ARP packet")?;
    let tpa = b
        .get(8 + 2 * hlen + 4..8 + 2 * hlen + 8)
        .ok_or("truncated ARP packet")?;
    let ip = |s: &[u8]| IpAddr::V4(Ipv4Addr::new(s[0], s[1], s[2], s[3]));
    let reply = op == 2;
    Ok(Decoded::Packet(Packet {
        ts,
        src: ip(spa),
        dst: ip(tpa),
        proto: Proto::Arp,
        sport: if reply { 0 } else { 1 },
        dport: if reply { 1 } else { 0 },
        ip_len: b.len() as u32,
        ttl: 0,
        tcp: None,
        payload: &[],
        payload_len: 0,
        reply,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A legacy pcap with Ethernet frames built from (ts, frame) pairs.
    pub(crate) fn pcap_file(linktype: u32, frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&4u16.to_le_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&linktype.to_le_bytes());
        for (ts, fr) in frames {
            f.extend_from_slice(&(ts.trunc() as u32).to_le_bytes());
            f.extend_from_slice(&((ts.fract() * 1e6).round() as u32).to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(fr);
        }
        f
    }

    /// An Ethernet + IPv4 + TCP frame.
    pub(crate) fn eth_tcp(
        src: [u8; 4],
        sp: u16,
        dst: [u8; 4],
        dp: u16,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
        let total = 20 + 20 + payload.len();
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&sp.to_be_bytes());
        f.extend_from_slice(&dp.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    /// An Ethernet + IPv4 + ICMP echo frame.
    pub(crate) fn eth_icmp(src: [u8; 4], dst: [u8; 4], typ: u8, ttl: u8) -> Vec<u8> {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
        f.extend_from_slice(&[0x45, 0, 0, 28, 0, 1, 0, 0, ttl, 1, 0, 0]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&[typ, 0, 0, 0, 0, 1, 0, 1]);
        f
    }

    fn read(bytes: &[u8]) -> (Vec<crate::flow::Flow>, Skipped) {
        let mut t = FlowTracker::default();
        let mut s = Skipped::default();
        let mut flows = Vec::new();
        read_capture(bytes, "test.pcap", &mut t, &mut s, &mut |_| {}, &mut |f| {
            flows.push(f)
        })
        .unwrap();
        t.finish();
        flows.extend(t.drain());
        (flows, s)
    }

    /// The direct IPv4 reader gives exactly what etherparse gives, on ordinary frames and
    /// on 40,000 frames with random bytes overwritten (lengths, flags, versions, ...).
    #[test]
    fn fast_path_agrees_with_etherparse() {
        let mut frames = Vec::new();
        for flags in 0..=0x3fu8 {
            frames.push(eth_tcp(
                [10, 0, 0, 1],
                40000,
                [10, 0, 0, 2],
                443,
                flags,
                b"x",
            ));
        }
        for n in [0usize, 1, 100, 1400] {
            frames.push(eth_tcp(
                [10, 0, 0, 1],
                1,
                [10, 0, 0, 2],
                2,
                0x18,
                &vec![7; n],
            ));
        }
        let mut padded = eth_tcp([10, 0, 0, 1], 1, [10, 0, 0, 2], 2, 0x10, b"");
        padded.extend_from_slice(&[0; 6]); // Ethernet minimum-size padding
        frames.push(padded);
        let mut udp = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
        udp.extend_from_slice(&[
            0x45, 0, 0, 33, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        udp.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 13, 0, 0, 1, 2, 3, 4, 5]);
        frames.push(udp);
        frames.push(eth_icmp([10, 0, 0, 1], [10, 0, 0, 2], 8, 64));
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = frames.clone();
        for _ in 0..40_000 {
            let mut f = base[(rnd() % base.len() as u64) as usize].clone();
            for _ in 0..1 + rnd() % 3 {
                // Mostly the headers, where the lengths and flags are.
                let i = (rnd() % (f.len().min(60) as u64)) as usize;
                f[i] = rnd() as u8;
            }
            if rnd() % 4 == 0 {
                let cut = (rnd() % f.len() as u64) as usize;
                f.truncate(cut);
            }
            frames.push(f);
        }
        let mut fast = 0;
        for f in &frames {
            if let Some(p) = ethernet_ipv4_fast(1.5, f) {
                fast += 1;
                let slow = decode_sliced(1, 1.5, f);
                assert_eq!(
                    format!("{:?}", Ok::<_, &str>(Decoded::Packet(p))),
                    format!("{slow:?}"),
                    "frame {f:02x?}"
                );
            }
        }
        assert!(fast > 10_000, "the fast path took only {fast} frames");
    }

    #[test]
    fn syn_synack_and_echo() {
        let a = [192, 168, 1, 109];
        let b = [192, 168, 1, 1];
        let file = pcap_file(
            1,
            &[
                (1.0, eth_tcp(a, 4000, b, 80, 0x02, b"")),
                (1.1, eth_tcp(b, 80, a, 4000, 0x12, b"")),
                (1.2, eth_icmp(a, b, 8, 40)),
                (1.3, eth_icmp(b, a, 0, 64)),
            ],
        );
        let (flows, s) = read(&file);
        assert!(!s.any());
        assert_eq!(flows.len(), 2);
        let icmp = flows.iter().find(|f| f.proto == Proto::Icmp).unwrap();
        assert_eq!(
            (
                icmp.orig_port,
                icmp.resp_port,
                icmp.orig_pkts,
                icmp.resp_pkts
            ),
            (8, 0, 1, 1)
        );
        assert_eq!(icmp.orig_ip_bytes, 28);
        assert_eq!(icmp.orig_ttl, Some((40, 40)));
        let tcp = flows.iter().find(|f| f.proto == Proto::Tcp).unwrap();
        assert_eq!(tcp.history, "Sh");
        assert_eq!(tcp.conn_state, Some(crate::flow::ConnState::S1));
    }

    #[test]
    fn bad_input_is_counted_never_fatal() {
        let a = [10, 0, 0, 1];
        let b = [10, 0, 0, 2];
        let good = pcap_file(
            1,
            &[
                (1.0, eth_tcp(a, 1, b, 2, 0x02, b"")),
                (2.0, eth_tcp(a, 1, b, 2, 0x10, b"hello")),
            ],
        );
        // Truncated in the middle of the second record.
        let (flows, s) = read(&good[..good.len() - 10]);
        assert_eq!(flows.len(), 1);
        assert_eq!(s.count, 1, "{s:?}");
        // Unknown link type.
        let odd = pcap_file(147, &[(1.0, vec![1, 2, 3])]);
        let (_, s) = read(&odd);
        assert_eq!(s.by_reason.get("unknown link type"), Some(&1));
        // A frame cut inside its IP header.
        let mut short = eth_tcp(a, 1, b, 2, 0x02, b"");
        short.truncate(20);
        let (_, s) = read(&pcap_file(1, &[(1.0, short)]));
        assert_eq!(s.count, 1);
        // Not a capture.
        let mut t = FlowTracker::default();
        let mut sk = Skipped::default();
        assert!(matches!(
            read_capture(
                &b"#separator \\x09\n"[..],
                "x",
                &mut t,
                &mut sk,
                &mut |_| {},
                &mut |_| {}
            ),
            Err(Error::NotACapture)
        ));
        assert!(
            read_capture(
                &[0xd4, 0xc3, 0xb2][..],
                "x",
                &mut t,
                &mut sk,
                &mut |_| {},
                &mut |_| {}
            )
            .is_err()
        );
        assert!(is_capture(&good));
    }

    /// A pcapng file: section header, one Ethernet interface (microseconds), EPBs.
    fn pcapng_file(frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
        let mut f = Vec::new();
        let block = |f: &mut Vec<u8>, typ: u32, body: &[u8]| {
            let len = 12 + body.len() as u32;
            f.extend_from_slice(&typ.to_le_bytes());
            f.extend_from_slice(&len.to_le_bytes());
            f.extend_from_slice(body);
            f.extend_from_slice(&len.to_le_bytes());
        };
        let mut shb = 0x1A2B3C4Du32.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        block(&mut f, 0x0A0D0D0A, &shb);
        block(&mut f, 1, &[1, 0, 0, 0, 0xff, 0xff, 0, 0]);
        for (ts, fr) in frames {
            let t = (ts * 1e6).round() as u64;
            let mut epb = 0u32.to_le_bytes().to_vec();
            epb.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
            epb.extend_from_slice(&(t as u32).to_le_bytes());
            epb.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            epb.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            epb.extend_from_slice(fr);
            while !epb.len().is_multiple_of(4) {
                epb.push(0);
            }
            block(&mut f, 6, &epb);
        }
        f
    }

    #[test]
    fn pcapng_with_interface_resolution() {
        let a = [10, 0, 0, 1];
        let b = [10, 0, 0, 2];
        let file = pcapng_file(&[
            (1_700_000_000.25, eth_tcp(a, 1000, b, 80, 0x02, b"")),
            (1_700_000_000.5, eth_tcp(b, 80, a, 1000, 0x14, b"")),
        ]);
        let (flows, s) = read(&file);
        assert!(!s.any(), "{s:?}");
        assert_eq!(flows.len(), 1);
        assert!((flows[0].ts - 1_700_000_000.25).abs() < 1e-6);
        assert_eq!(flows[0].conn_state, Some(crate::flow::ConnState::REJ));
        // A packet block for an interface that was never described.
        let mut bad = file.clone();
        let epb_start = 28 + 20;
        bad[epb_start + 8] = 7; // if_id = 7
        let (_, s) = read(&bad);
        assert_eq!(
            s.by_reason.get("packet for an undeclared interface"),
            Some(&1)
        );
    }

    #[test]
    fn linux_sll_and_raw_ip() {
        let frame = eth_tcp([10, 0, 0, 1], 1, [10, 0, 0, 2], 2, 0x02, b"");
        let ip = frame[14..].to_vec();
        let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ip);
        for (lt, fr) in [(113, sll), (101, ip.clone())] {
            let (flows, s) = read(&pcap_file(lt, &[(1.0, fr)]));
            assert!(!s.any(), "{lt}: {s:?}");
            assert_eq!(flows.len(), 1, "{lt}");
        }
        // VLAN-tagged Ethernet.
        let mut vlan = frame[..12].to_vec();
        vlan.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
        vlan.extend_from_slice(&frame[12..]);
        let (flows, _) = read(&pcap_file(1, &[(1.0, vlan)]));
        assert_eq!(flows.len(), 1);
    }
}

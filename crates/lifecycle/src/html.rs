//! A self-contained HTML report: inline CSS and SVG only, no scripts, no external assets.
//! Per host a timeline of its evidence coloured by state; a 24-bin interval histogram per
//! beacon candidate; the infection chain as a graph; containment and skipped records.

use std::fmt::Write as _;

use crate::model::State;
use crate::net::format_time;
use crate::report::Report;

/// Escape text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn color(s: State) -> &'static str {
    match s {
        State::Attack => "#b30000",
        State::Control => "#e34a33",
        State::Propagation => "#fc8d59",
        State::Trigger => "#9e3ea8",
        State::Cleanup => "#777777",
        State::Discovery => "#3182bd",
        State::Access => "#31a354",
        State::Infection => "#756bb1",
        State::Unknown => "#cccccc",
    }
}

fn timeline(r: &Report, out: &mut String) {
    let (Some(t0), Some(t1)) = (r.summary.first_ts, r.summary.last_ts) else {
        return;
    };
    let span = (t1 - t0).max(1e-6);
    let (w, left, row) = (900.0, 160.0, 22.0);
    let h = 30.0 + row * r.hosts.len() as f64;
    let _ = writeln!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"timeline\">"
    );
    let _ = writeln!(
        out,
        "<text x=\"{left}\" y=\"12\" class=\"ax\">{}</text><text x=\"{}\" y=\"12\" class=\"ax\" text-anchor=\"end\">{}</text>",
        esc(&format_time(t0)),
        w - 10.0,
        esc(&format_time(t1))
    );
    for (i, host) in r.hosts.iter().enumerate() {
        let y = 22.0 + row * i as f64;
        let _ = writeln!(
            out,
            "<text x=\"4\" y=\"{}\" class=\"lbl\">{}</text>",
            y + 12.0,
            esc(&host.host)
        );
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>",
            y + 8.0,
            w - 10.0,
            y + 8.0
        );
        for e in &host.evidence {
            let x0 = left + (e.window.start - t0) / span * (w - left - 10.0);
            let x1 = left + (e.window.end - t0) / span * (w - left - 10.0);
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"14\" fill=\"{}\" opacity=\"0.85\"><title>{} {} {:.3}: {}</title></rect>",
                x0.max(left),
                y + 1.0,
                (x1 - x0).max(3.0),
                color(e.state),
                e.state,
                esc(&e.kind),
                e.score,
                esc(&e.reason)
            );
        }
    }
    out.push_str("</svg>\n<p class=\"legend\">");
    for s in [
        State::Discovery,
        State::Propagation,
        State::Access,
        State::Control,
        State::Trigger,
        State::Attack,
        State::Cleanup,
    ] {
        let _ = write!(out, "<span style=\"background:{}\">{}</span> ", color(s), s);
    }
    out.push_str("</p>\n");
}

fn histogram(bars: &[u32]) -> String {
    let max = bars.iter().copied().max().unwrap_or(0).max(1);
    let (w, h) = (240.0, 60.0);
    let bw = w / bars.len().max(1) as f64;
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"240\" height=\"60\" role=\"img\" aria-label=\"histogram\">"
    );
    for (i, b) in bars.iter().enumerate() {
        let bh = f64::from(*b) / f64::from(max) * (h - 4.0);
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#e34a33\"><title>bin {i}: {b}</title></rect>",
            i as f64 * bw + 0.5,
            h - bh,
            bw - 1.0,
            bh
        );
    }
    s.push_str("</svg>");
    s
}

fn chain_graph(r: &Report, out: &mut String) {
    let mut nodes: Vec<&str> = Vec::new();
    for c in &r.chain {
        for n in [c.from.as_str(), c.to.as_str()] {
            if !nodes.contains(&n) {
                nodes.push(n);
            }
        }
    }
    if nodes.is_empty() {
        out.push_str("<p>No host was seen reaching another one.</p>\n");
        return;
    }
    let (w, h) = (600.0, 360.0);
    let (cx, cy, rad) = (w / 2.0, h / 2.0, 130.0);
    let pos = |i: usize| {
        let a = std::f64::consts::TAU * i as f64 / nodes.len() as f64;
        (cx + rad * a.cos(), cy + rad * a.sin())
    };
    let _ = writeln!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"600\" role=\"img\" aria-label=\"infection chain\"><defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444\"/></marker></defs>"
    );
    for c in &r.chain {
        let (Some(i), Some(j)) = (
            nodes.iter().position(|n| *n == c.from),
            nodes.iter().position(|n| *n == c.to),
        ) else {
            continue;
        };
        let ((x1, y1), (x2, y2)) = (pos(i), pos(j));
        let d = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt().max(1.0);
        let (ex, ey) = (x2 - (x2 - x1) / d * 18.0, y2 - (y2 - y1) / d * 18.0);
        let _ = writeln!(
            out,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{ex:.1}\" y2=\"{ey:.1}\" stroke=\"#444\" marker-end=\"url(#arr)\"{}><title>{}</title></line>",
            if c.confirmed {
                ""
            } else {
                " stroke-dasharray=\"4 3\""
            },
            esc(&c.via)
        );
    }
    for (i, n) in nodes.iter().enumerate() {
        let (x, y) = pos(i);
        let st = r.host(n).map_or(State::Unknown, |h| h.state);
        let _ = writeln!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"16\" fill=\"{}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"lbl\">{}</text>",
            color(st),
            y + 30.0,
            esc(n)
        );
    }
    out.push_str("</svg>\n");
}

/// Render the report as one HTML document.
pub fn render(r: &Report) -> String {
    let mut o = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>secdispatch lifecycle report</title>\n<style>\
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}\
.ax,.lbl{font:11px monospace;fill:#333}.grid{stroke:#eee}.legend span{color:#fff;padding:1px 6px;margin-right:4px;border-radius:3px}\
.state{font-weight:bold;text-transform:uppercase}code{font-size:12px}</style></head><body>\n<h1>Malware lifecycle report</h1>\n",
    );
    let s = &r.summary;
    let _ = writeln!(
        o,
        "<p>{} flows, {} DNS transactions{}. Model: draft-fabini-smart-malware-lifecycle-00; beacon scores RITA-compatible.</p>",
        s.flows,
        s.dns_transactions,
        match (s.first_ts, s.last_ts) {
            (Some(a), Some(b)) => format!(", {} to {}", esc(&format_time(a)), esc(&format_time(b))),
            _ => String::new(),
        }
    );
    o.push_str("<h2>Hosts</h2>\n<table><tr><th>host</th><th>state</th><th>score</th><th>path</th><th>top evidence</th></tr>\n");
    for h in &r.hosts {
        let path: Vec<&str> = h.path.iter().map(|p| p.as_str()).collect();
        let top = h.evidence.iter().max_by(|a, b| {
            a.state
                .severity()
                .cmp(&b.state.severity())
                .then(a.score.total_cmp(&b.score))
        });
        let _ = writeln!(
            o,
            "<tr><td><code>{}</code></td><td class=\"state\" style=\"color:{}\">{}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            esc(&h.host),
            color(h.state),
            h.state,
            h.score,
            esc(&path.join(" → ")),
            top.map_or(String::new(), |e| esc(&e.reason))
        );
    }
    o.push_str("</table>\n<h2>Timeline</h2>\n");
    timeline(r, &mut o);
    o.push_str("<h2>Beacons</h2>\n");
    if r.beacons.is_empty() {
        o.push_str("<p>No eligible beacon candidates.</p>\n");
    } else {
        o.push_str("<table><tr><th>source → peer</th><th>score</th><th>ts / ds / dur / hist</th><th>connections</th><th>interval histogram (24 bins)</th></tr>\n");
        for b in r.beacons.iter().take(30) {
            let _ = writeln!(
                o,
                "<tr><td><code>{} → {}</code>{}</td><td>{:.3}{}</td><td>{:.3} / {:.3} / {:.3} / {:.3}</td><td>{} (every ~{:.0} s)</td><td>{}</td></tr>",
                esc(&b.src),
                esc(&b.peer),
                if b.proxy_count > 0 {
                    format!("<br>{} via proxy", b.proxy_count)
                } else {
                    String::new()
                },
                b.score,
                if b.control { " <b>control</b>" } else { "" },
                b.ts_score,
                b.ds_score,
                b.dur_score,
                b.hist_score,
                b.count,
                b.median_interval,
                histogram(&b.histogram)
            );
        }
        o.push_str("</table>\n");
    }
    o.push_str("<h2>Infection chain</h2>\n");
    chain_graph(r, &mut o);
    o.push_str("<h2>Containment</h2>\n");
    let _ = writeln!(o, "<pre>{}</pre>", esc(&r.containment_text()));
    o.push_str("<h2>Evidence</h2>\n<table><tr><th>host</th><th>state</th><th>kind</th><th>window</th><th>score</th><th>reason</th><th>flows</th></tr>\n");
    for h in &r.hosts {
        for e in &h.evidence {
            let _ = writeln!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} – {}</td><td>{:.3}</td><td>{}<br><small>{}</small></td><td>{}</td></tr>",
                esc(&e.host),
                e.state,
                esc(&e.kind),
                esc(&format_time(e.window.start)),
                esc(&format_time(e.window.end)),
                e.score,
                esc(&e.reason),
                esc(&e.technique),
                e.flow_count
            );
        }
    }
    o.push_str("</table>\n<h2>Covert-channel capacity</h2>\n<table><tr><th>channel</th><th>messages</th><th>bits/message</th><th>total bits</th><th>note</th></tr>\n");
    for c in &r.covert_channels {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.channel),
            c.messages,
            c.bits_per_message,
            c.total_bits,
            esc(&c.note)
        );
    }
    o.push_str("</table>\n");
    if r.skipped.any() {
        let _ = writeln!(o, "<h2>Skipped records: {}</h2>\n<ul>", r.skipped.count);
        for e in &r.skipped.examples {
            let _ = writeln!(
                o,
                "<li>{} {}: {}</li>",
                esc(&e.source),
                esc(&e.location),
                esc(&e.reason)
            );
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</body></html>\n");
    o
}

//! `secdispatch lifecycle analyze | watch`: where hosts are in the malware lifecycle of
//! draft-fabini-smart-malware-lifecycle-00, from captures and Zeek logs or live from the
//! flow events of this project's gateway and load balancer.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use secdispatch_lifecycle::input::{self, InputKind};
use secdispatch_lifecycle::live::{LiveView, StateChange};
use secdispatch_lifecycle::net::{format_time, parse_time};
use secdispatch_lifecycle::zeek::LogKind;
use secdispatch_lifecycle::{Config, LocalNets, Report, Session, html};

use crate::args::OutArgs;
use crate::output::{Secrecy, write_artifact};

/// Exit status when the analysis completed but some records were skipped.
const EXIT_SKIPPED: u8 = 3;

/// `secdispatch lifecycle ...`
#[derive(Debug, Subcommand)]
pub(crate) enum LifecycleCommand {
    /// Analyse pcap/pcapng captures and Zeek logs: per host its lifecycle state, path and
    /// evidence, beacons, the infection chain, and what to contain.
    ///
    /// Exit status: 0 analysed everything, 3 analysed but some records were skipped
    /// (truncated captures, unknown link types, corrupt log lines: counted and listed in
    /// the report), 1 error.
    Analyze(AnalyzeArgs),
    /// Show lifecycle states live from flow events (JSON lines over TCP, format v1 of
    /// secdispatch_lifecycle::event) sent by the gateway and the load balancer.
    Watch(WatchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Hosts by severity, their state path and top evidence.
    Text,
    /// Everything: hosts with every evidence item, beacons, chain, containment, skipped.
    Json,
    /// A self-contained HTML report (inline SVG, no external assets).
    Html,
    /// The infection chain as Graphviz DOT.
    Dot,
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// pcap/pcapng files, Zeek logs (TSV or JSON, .gz allowed), or directories of Zeek logs
    /// (each read as one log set, joined on uid).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    out: OutArgs,
    /// Ignore flows before this time (Unix seconds or RFC 3339).
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// Ignore flows after this time (Unix seconds or RFC 3339).
    #[arg(long, value_name = "T")]
    until: Option<String>,
    /// Local networks, comma-separated CIDRs [default: the private ranges].
    #[arg(long, value_name = "CIDR,...")]
    local_nets: Option<String>,
    /// Print only what to isolate: the hosts and their peers (JSON with --format json).
    #[arg(long)]
    containment: bool,
    /// With --containment: print an nftables script that drops their traffic.
    #[arg(long, requires = "containment")]
    nftables: bool,
    /// Never show the progress bar (shown on a terminal for inputs over 32 MiB).
    #[arg(long)]
    no_progress: bool,
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Address to listen on for flow events (JSON lines over TCP).
    #[arg(long, value_name = "ADDR")]
    flows: SocketAddr,
    /// Local networks, comma-separated CIDRs [default: the private ranges].
    #[arg(long, value_name = "CIDR,...")]
    local_nets: Option<String>,
    /// How often the detectors re-run, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    refresh_ms: u64,
    /// Print state changes as JSON lines instead of text.
    #[arg(long)]
    json: bool,
}

/// Run a lifecycle command.
pub(crate) fn run(cmd: LifecycleCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LifecycleCommand::Analyze(a) => analyze(a),
        LifecycleCommand::Watch(w) => watch(w),
    }
}

fn config(local_nets: Option<&str>) -> anyhow::Result<Config> {
    let mut cfg = Config::default();
    if let Some(l) = local_nets {
        cfg.local = LocalNets::parse_list(l)?;
        if cfg.local.nets().is_empty() {
            bail!("--local-nets names no network");
        }
    }
    Ok(cfg)
}

/// One input file and what it is.
struct Input {
    path: PathBuf,
    kind: InputKind,
    order: u8,
}

/// Expand directories and sniff every file: captures keep their order; Zeek logs are read
/// ssl/http first, then the others, then conn (the join order).
fn collect_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot list {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|e| e.is_file() && !file_name(e).starts_with('.'))
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(p.clone());
        }
    }
    let mut inputs = Vec::new();
    for path in files {
        let f = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut r = input::maybe_gunzip(BufReader::new(f))
            .with_context(|| format!("cannot read {}", path.display()))?;
        let kind =
            input::sniff(&mut r).with_context(|| format!("cannot read {}", path.display()))?;
        let order = match kind {
            InputKind::Capture => 0,
            InputKind::ZeekLog => 1 + LogKind::from_name(&file_name(&path)).read_order(),
        };
        inputs.push(Input { path, kind, order });
    }
    inputs.sort_by_key(|i| i.order);
    Ok(inputs)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A progress bar on standard error, drawn only on a terminal.
struct Bar {
    total: u64,
    done: u64,
    enabled: bool,
    started: Instant,
    drawn: Instant,
}

impl Bar {
    fn new(total: u64, enabled: bool) -> Bar {
        let now = Instant::now();
        Bar {
            total: total.max(1),
            done: 0,
            enabled,
            started: now,
            drawn: now,
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if self.enabled && self.drawn.elapsed() >= Duration::from_millis(200) {
            self.draw();
        }
    }

    fn draw(&mut self) {
        self.drawn = Instant::now();
        let frac = (self.done as f64 / self.total as f64).min(1.0);
        let width = 30;
        let filled = (frac * width as f64) as usize;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r[{}{}] {:3.0}% {:.0} MB/s ",
            "#".repeat(filled),
            ".".repeat(width - filled),
            frac * 100.0,
            self.done as f64 / 1e6 / secs
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&mut self) {
        if self.enabled {
            self.draw();
            eprintln!();
        }
    }
}

/// Counts bytes read into the progress bar.
struct Counting<'a, R> {
    inner: R,
    bar: &'a mut Bar,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.advance(n as u64);
        Ok(n)
    }
}

fn analyze(a: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = config(a.local_nets.as_deref())?;
    cfg.since = a.since.as_deref().map(parse_time).transpose()?;
    cfg.until = a.until.as_deref().map(parse_time).transpose()?;
    if let (Some(s), Some(u)) = (cfg.since, cfg.until)
        && s > u
    {
        bail!("--since is after --until");
    }
    let inputs = collect_inputs(&a.paths)?;
    let total: u64 = inputs
        .iter()
        .filter_map(|i| std::fs::metadata(&i.path).ok())
        .map(|m| m.len())
        .sum();
    let show = !a.no_progress && std::io::stderr().is_terminal() && total >= 32 << 20;
    let mut bar = Bar::new(total, show);
    let mut session = Session::new(cfg);
    for inp in &inputs {
        let name = inp.path.display().to_string();
        let f = File::open(&inp.path).with_context(|| format!("cannot open {name}"))?;
        let counting = Counting {
            inner: f,
            bar: &mut bar,
        };
        let r = input::maybe_gunzip(BufReader::with_capacity(1 << 16, counting))
            .with_context(|| format!("cannot read {name}"))?;
        let res = match inp.kind {
            InputKind::Capture => session.read_capture(r, &name, &mut |_| {}).map(|_| ()),
            InputKind::ZeekLog => session.read_zeek_log(r, &name).map(|_| ()),
        };
        if let Err(e) = res {
            session.skip_input(&name, &format!("unreadable: {e}"));
        }
    }
    bar.finish();
    let report = session.finish();
    let text = render(&report, &a)?;
    write_artifact(&a.out, text.as_bytes(), Secrecy::Public)?;
    Ok(if report.skipped.any() {
        ExitCode::from(EXIT_SKIPPED)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(r: &Report, a: &AnalyzeArgs) -> anyhow::Result<String> {
    if a.containment {
        return Ok(match (a.nftables, a.format) {
            (true, _) => r.nftables(),
            (false, Format::Json) => serde_json::to_string_pretty(&r.containment)? + "\n",
            (false, _) => r.containment_text(),
        });
    }
    Ok(match a.format {
        Format::Text => r.to_text(),
        Format::Json => r.to_json() + "\n",
        Format::Html => html::render(r),
        Format::Dot => r.to_dot(),
    })
}

/// Lines longer than this from a flow-event sender are cut off and counted as bad.
const MAX_LINE: usize = 64 * 1024;

fn watch(w: WatchArgs) -> anyhow::Result<ExitCode> {
    let cfg = config(w.local_nets.as_deref())?;
    let listener =
        TcpListener::bind(w.flows).with_context(|| format!("cannot listen on {}", w.flows))?;
    let addr = listener.local_addr()?;
    eprintln!("listening for flow events on {addr}");
    let (tx, rx) = mpsc::sync_channel::<(String, String)>(65_536);
    std::thread::Builder::new()
        .name("flow-accept".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let peer = conn
                    .peer_addr()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|_| "?".into());
                let tx = tx.clone();
                let _ = std::thread::Builder::new()
                    .name("flow-conn".into())
                    .spawn(move || {
                        let mut r = BufReader::new(conn);
                        let mut buf = Vec::new();
                        loop {
                            buf.clear();
                            match (&mut r).take(MAX_LINE as u64).read_until(b'\n', &mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(_) => {
                                    let line = String::from_utf8_lossy(&buf).into_owned();
                                    if tx.send((peer.clone(), line)).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                    });
            }
        })?;
    let mut view = LiveView::new(cfg);
    let refresh = Duration::from_millis(w.refresh_ms.max(50));
    let tty = std::io::stdout().is_terminal() && !w.json;
    let mut log: Vec<String> = Vec::new();
    let mut next = Instant::now() + refresh;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok((peer, line)) => view.line(&peer, &line),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the listener stopped"),
        }
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + refresh;
        let changes = view.refresh();
        let mut out = std::io::stdout().lock();
        for c in &changes {
            let line = change_line(c, w.json);
            if tty {
                log.push(line);
            } else {
                writeln!(out, "{line}")?;
            }
        }
        if tty {
            let keep = log.len().saturating_sub(10);
            log.drain(..keep);
            write!(out, "\x1b[2J\x1b[H{}", screen(&view, &log))?;
        }
        out.flush()?;
    }
}

fn change_line(c: &StateChange, json: bool) -> String {
    if json {
        serde_json::json!({"host": c.host, "from": c.from, "to": c.to, "score": c.score, "reason": c.reason}).to_string()
    } else {
        format!(
            "{} {} → {} score {:.3}: {}",
            c.host, c.from, c.to, c.score, c.reason
        )
    }
}

fn screen(view: &LiveView, log: &[String]) -> String {
    let r = view.report();
    let mut s = format!(
        "secdispatch lifecycle watch — {} events, {} open connections, {} flows, data until {}\n\n",
        view.events(),
        view.open_connections(),
        r.summary.flows,
        r.summary
            .last_ts
            .map_or_else(|| "-".to_owned(), format_time)
    );
    s.push_str(&format!(
        "{:<40} {:<12} {:>6}  path\n",
        "host", "state", "score"
    ));
    for h in r.hosts.iter().take(30) {
        let path: Vec<&str> = h.path.iter().map(|p| p.as_str()).collect();
        s.push_str(&format!(
            "{:<40} {:<12} {:>6.3}  {}\n",
            h.host,
            h.state.as_str(),
            h.score,
            path.join(" → ")
        ));
    }
    if r.skipped.any() {
        s.push_str(&format!("\n{} bad event lines skipped\n", r.skipped.count));
    }
    s.push_str("\nrecent changes:\n");
    for l in log {
        s.push_str(l);
        s.push('\n');
    }
    s
}

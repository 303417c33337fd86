//! The crate's one error type: every variant names what was wrong with the input.

/// What went wrong while reading captures, logs or flow events, or configuring the analysis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes start with neither a pcap nor a pcapng header.
    #[error("not a pcap or pcapng capture (header not recognised)")]
    NotACapture,
    /// The capture's header is cut short.
    #[error("capture ends inside its file header")]
    TruncatedHeader,
    /// Reading from the underlying source failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// A Zeek log whose kind (conn, dns, ssl, http, x509, ...) could not be told.
    #[error("cannot tell which Zeek log this is (no #path header, no known fields)")]
    UnknownLogKind,
    /// A CIDR network in `--local-nets` did not parse.
    #[error("invalid network {0:?}: expected ADDRESS/PREFIX, e.g. 10.0.0.0/8")]
    InvalidNetwork(String),
    /// A time bound did not parse.
    #[error("invalid time {0:?}: expected Unix seconds or an RFC 3339 date-time")]
    InvalidTime(String),
    /// A flow event line did not parse.
    #[error("invalid flow event: {0}")]
    InvalidFlowEvent(String),
}

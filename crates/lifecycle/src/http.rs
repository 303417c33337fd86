//! Clear-text application banners: HTTP/1.x request heads (method, Host, CONNECT target,
//! User-Agent) and SSH identification strings (RFC 4253 §4.2), so that a service is
//! recognised by what it says, not by its port.

use crate::flow::HttpInfo;

const METHODS: &[&str] = &[
    "GET", "POST", "HEAD", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Whether `data` can be the start of an HTTP/1.x request (a known method and a space).
pub fn looks_like_request(data: &[u8]) -> bool {
    METHODS
        .iter()
        .any(|m| data.len() > m.len() && data.starts_with(m.as_bytes()) && data[m.len()] == b' ')
}

/// Parse a request head; `None` until the request line is complete or if it is not HTTP.
pub fn request(data: &[u8]) -> Option<HttpInfo> {
    if !looks_like_request(data) {
        return None;
    }
    let head_end = find(data, b"\r\n\r\n").unwrap_or(data.len());
    let head = String::from_utf8_lossy(&data[..head_end.min(8192)]);
    let mut lines = head.split("\r\n");
    let line = lines.next()?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_owned();
    let uri = parts.next()?.to_owned();
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let mut info = HttpInfo {
        method,
        host: None,
        uri,
        user_agent: None,
    };
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("host") {
                info.host = Some(strip_port(v.trim()));
            } else if k.eq_ignore_ascii_case("user-agent") {
                info.user_agent = Some(v.trim().to_owned());
            }
        }
    }
    if info.method == "CONNECT" {
        info.host = Some(strip_port(&info.uri));
    }
    Some(info)
}

/// `host:port` or `[v6]:port` to the host, lower case.
pub fn strip_port(s: &str) -> String {
    let s = s.trim();
    let h = if let Some(r) = s.strip_prefix('[') {
        r.split(']').next().unwrap_or(r)
    } else if s.matches(':').count() == 1 {
        s.split(':').next().unwrap_or(s)
    } else {
        s
    };
    h.to_ascii_lowercase()
}

/// An SSH identification string (`SSH-2.0-OpenSSH_9.6p1 ...`) at the start of `data`,
/// without the line end; at most 255 bytes as RFC 4253 allows.
pub fn ssh_banner(data: &[u8]) -> Option<String> {
    if !data.starts_with(b"SSH-") {
        return None;
    }
    let end = data
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(data.len());
    Some(String::from_utf8_lossy(&data[..end.min(255)]).into_owned())
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let r = request(b"GET /x HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: curl/8\r\n\r\n")
            .unwrap();
        assert_eq!(
            (r.method.as_str(), r.host.as_deref(), r.uri.as_str()),
            ("GET", Some("example.com"), "/x")
        );
        assert_eq!(r.user_agent.as_deref(), Some("curl/8"));
        let c = request(b"CONNECT www.honestimnotevil.com:443 HTTP/1.1\r\nHost: www.honestimnotevil.com:443\r\n\r\n").unwrap();
        assert_eq!(c.host.as_deref(), Some("www.honestimnotevil.com"));
        assert!(request(b"GETX / HTTP/1.1\r\n").is_none());
        assert!(request(b"GET / SPDY/3\r\n\r\n").is_none());
        assert_eq!(strip_port("[::1]:443"), "::1");
    }

    #[test]
    fn banners() {
        assert_eq!(
            ssh_banner(b"SSH-2.0-libssh2_1.11.0\r\n").as_deref(),
            Some("SSH-2.0-libssh2_1.11.0")
        );
        assert!(ssh_banner(b"HTTP/1.1 200 OK").is_none());
    }
}

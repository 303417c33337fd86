//! Certificates from PEM text (RFC 7468), the form proxies and files carry them in.

use base64::Engine as _;

use crate::Error;

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// Every `CERTIFICATE` block of `text`, in order, as DER. Text between blocks (such as the
/// `subject=` lines OpenSSL writes) is ignored; a block of another type, an unterminated
/// block or bad base64 is an error, as is text with no certificate at all.
pub fn certificates_from_pem(text: &str) -> Result<Vec<Vec<u8>>, Error> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        if !block.starts_with(BEGIN) {
            return Err(Error::Pem("a PEM block that is not a CERTIFICATE"));
        }
        let body_and_more = &block[BEGIN.len()..];
        let end = body_and_more
            .find(END)
            .ok_or(Error::Pem("unterminated CERTIFICATE block"))?;
        let body: String = body_and_more[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = b64
            .decode(body.as_bytes())
            .map_err(|_| Error::Pem("invalid base64"))?;
        if der.is_empty() {
            return Err(Error::Pem("empty CERTIFICATE block"));
        }
        out.push(der);
        rest = &body_and_more[end + END.len()..];
    }
    if out.is_empty() {
        return Err(Error::Pem("no CERTIFICATE block"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_certificate() {
        assert_eq!(
            certificates_from_pem(""),
            Err(Error::Pem("no CERTIFICATE block"))
        );
        assert!(
            certificates_from_pem("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----")
                .is_err()
        );
        assert!(certificates_from_pem("-----BEGIN CERTIFICATE-----\nMAMC").is_err());
        assert!(
            certificates_from_pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----")
                .is_err()
        );
    }

    #[test]
    fn ignores_text_between_blocks() {
        let pem =
            "subject=CN=x\n-----BEGIN CERTIFICATE-----\nMAMC\nAQc=\n-----END CERTIFICATE-----\n";
        assert_eq!(
            certificates_from_pem(pem).unwrap(),
            vec![vec![0x30, 0x03, 0x02, 0x01, 0x07]]
        );
    }
}

//! Shared helpers: a throwaway PKI made with secdispatch-pqpki.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::Profile;
use secdispatch_pqpki::{Algorithm, SigningKey};
use x509_cert::Certificate;
use x509_cert::name::Name;

pub type Rng = rand_core::UnwrapErr<getrandom::SysRng>;

pub fn rng() -> Rng {
    rand_core::UnwrapErr(getrandom::SysRng)
}

pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

pub const DAY: Duration = Duration::from_secs(86_400);
pub const HOUR: Duration = Duration::from_secs(3_600);

pub struct Pki {
    pub ca_key: Arc<SigningKey>,
    pub ca: Certificate,
    /// The clock the certificates are made around.
    pub base: SystemTime,
}

pub fn key(alg: &str) -> SigningKey {
    SigningKey::generate(Algorithm::from_name(alg).unwrap(), &mut rng()).unwrap()
}

impl Pki {
    pub fn new(alg: &str, cn: &str) -> Pki {
        Pki::new_at(alg, cn, now())
    }

    pub fn new_at(alg: &str, cn: &str, base: SystemTime) -> Pki {
        let k = key(alg);
        let ca = ca::self_signed_root(
            &k,
            Name::from_str(&format!("CN={cn},O=secdispatch test")).unwrap(),
            base - DAY,
            base + 3650 * DAY,
            None,
            Some(vec![1]),
            &mut rng(),
        )
        .unwrap();
        Pki {
            ca_key: Arc::new(k),
            ca,
            base,
        }
    }

    pub fn issue(&self, key: &SigningKey, cn: &str, profile: Profile, serial: u64) -> Certificate {
        let mut req = IssueRequest::new(
            Name::from_str(&format!("CN={cn}")).unwrap(),
            key.public_key(),
            profile,
            self.base - DAY,
            self.base + 365 * DAY,
        )
        .unwrap();
        let mut s = serial.to_be_bytes().to_vec();
        while s.len() > 1 && s[0] == 0 {
            s.remove(0);
        }
        if s[0] & 0x80 != 0 {
            s.insert(0, 0);
        }
        req.serial = Some(s);
        CertificateAuthority::new(self.ca.clone(), &self.ca_key)
            .unwrap()
            .issue(&req, &mut rng())
            .unwrap()
    }

    /// An intermediate CA issued by this one.
    pub fn intermediate(&self, alg: &str, cn: &str, serial: u64) -> Pki {
        let k = key(alg);
        let mut req = IssueRequest::new(
            Name::from_str(&format!("CN={cn},O=secdispatch test")).unwrap(),
            k.public_key(),
            Profile::Intermediate { path_len: Some(0) },
            self.base - DAY,
            self.base + 1000 * DAY,
        )
        .unwrap();
        req.serial = Some(vec![serial as u8]);
        let cert = CertificateAuthority::new(self.ca.clone(), &self.ca_key)
            .unwrap()
            .issue(&req, &mut rng())
            .unwrap();
        Pki {
            ca_key: Arc::new(k),
            ca: cert,
            base: self.base,
        }
    }
}

//! secdispatch-pqpki
#![forbid(unsafe_code)]

pub mod alg;
pub mod ca;
pub mod cert;
pub mod chameleon;
pub mod composite;
pub mod crl;
pub mod csr;
pub mod error;
pub mod keys;
pub mod mldsa;
pub mod oid;
pub mod pkcs8;
pub mod policy;
pub mod related;
pub(crate) mod trad;
pub mod validate;

pub use alg::Algorithm;
pub use error::{Error, Result};
pub use keys::{Signature, SigningKey, VerifyingKey};

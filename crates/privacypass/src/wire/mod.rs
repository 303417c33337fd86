//! Wire structures of RFC 9577 and RFC 9578 and the batched tokens draft.

pub mod batch;
pub mod challenge;
pub(crate) mod codec;
pub mod token;
pub mod token_request;

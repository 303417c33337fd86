//! wip
#![forbid(unsafe_code)]

pub mod alg;
pub mod base;
pub mod component;
mod derived;
pub mod error;
mod field;
pub mod fields;
pub mod http1;
pub mod key;
pub mod message;
pub mod params;
mod query;
pub mod resolver;
pub mod sign;
mod structured;
pub mod verify;

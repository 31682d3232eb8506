//! The C vocabulary: every type, constant and callback a C caller sees,
//! declared once. This layer imports nothing else of siptls; the core and the
//! exports build on it.

mod c_enum;
mod connection_key;
mod context;
mod counters;
mod handles;
mod identities;
mod log;
mod pump;
mod resolve;
mod result;
mod resume;
mod session;
mod signer;
mod sip;
mod suites;
mod trust;
mod userdata;
mod verify;

pub use c_enum::*;
pub use connection_key::*;
pub use context::*;
pub use counters::*;
pub use handles::*;
pub use identities::*;
pub use log::*;
pub use pump::*;
pub use resolve::*;
pub use result::*;
pub use resume::*;
pub use session::*;
pub use signer::*;
pub use sip::*;
pub use suites::*;
pub use trust::*;
pub use userdata::*;
pub use verify::*;

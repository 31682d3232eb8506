//! Session resumption, both roles, never around the trust configuration:
//! the server's ticket keys and sealed state, its stateful cache, and the
//! client's cache. Every stored session carries the peer chain accepted
//! when it was made and resumes only if that chain passes the current
//! checks again (`verify::resumed`).

mod client_cache;
mod keys;
pub(crate) mod record;
mod sealer;
mod server_cache;
mod tickets;

/// How far ahead of this server's clock a time a server wrote may be (a
/// ticket's issue time, a generated key's creation): the clocks of a farm's
/// servers differ a little, and a clock may step back a little.
const CLOCK_SKEW_SECS: u64 = 60;

pub use client_cache::ClientCache;
pub use keys::KeyRing;
pub use record::OwnDigest;
pub use sealer::{own_digest, Sealer};
pub use server_cache::{Backend, GatewayStore, SessionCache};
pub use tickets::Tickets;

//! What the chain checks of one peer chain found, before the callback.

use crate::abi::{siptls_purpose, siptls_verify_status, SIPTLS_TRUST_ID_NONE};

/// What the chain checks found, before the callback.
pub(super) struct Checked {
    pub status: siptls_verify_status,
    pub trust_id: u32,
    pub depth: u32,
    pub detail: String,
    /// The name the certificate was checked against, if any: the peer name a
    /// client asked for, or the SIP domain a server's trust entry requires.
    pub checked_name: Option<String>,
    /// What the peer's certificate was accepted for.
    pub purpose: siptls_purpose,
}

impl Checked {
    pub(super) fn failed(status: siptls_verify_status, detail: String) -> Self {
        Self {
            status,
            trust_id: SIPTLS_TRUST_ID_NONE,
            depth: 0,
            detail,
            checked_name: None,
            purpose: siptls_purpose::SIPTLS_PURPOSE_NONE,
        }
    }
}

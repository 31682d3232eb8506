//! Trust table vocabulary: its limits, entry kinds, and what describes an entry or a CRL.

use std::ffi::c_char;

#[allow(unused_imports)]
use super::*;

/// The reference gateway's limit, kept so configurations move across unchanged.
pub const SIPTLS_MAX_TRUST_ENTRIES: usize = 16;

/// Reserved: "no trust entry" in reports.
pub const SIPTLS_TRUST_ID_NONE: u32 = u32::MAX;

/// `siptls_trust_entry_info.kind`: a CA; chains it issued verify to it.
pub const SIPTLS_TRUST_KIND_ANCHOR: u32 = 0;

/// `siptls_trust_entry_info.kind`: one exact certificate, trusted as presented.
pub const SIPTLS_TRUST_KIND_PIN: u32 = 1;

/// One trust entry, filled by `siptls_ctx_get_trust`. Set `struct_size` to
/// `sizeof(siptls_trust_entry_info)` first.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_trust_entry_info {
    /// Set by the caller; the library writes at most this many bytes and
    /// stores how many it wrote.
    pub struct_size: u32,
    /// The entry's trust ID.
    pub trust_id: u32,
    /// SIPTLS_TRUST_KIND_ANCHOR or SIPTLS_TRUST_KIND_PIN.
    pub kind: u32,
    /// The entry's own extended key usage policy (`siptls_eku_policy`), or
    /// SIPTLS_EKU_DEFAULT when the context's applies.
    pub eku_policy: u32,
    /// Validity, seconds since the Unix epoch.
    pub not_before: i64,
    /// The end of its validity, seconds since 1970 (UTC).
    pub not_after: i64,
    /// The certificate's subject, NUL-terminated ("..." at the end when cut short).
    pub subject: [c_char; 256],
    /// The SIP domain required of peers chaining to it, or "".
    pub sip_domain: [c_char; 256],
}

/// One loaded CRL, filled by `siptls_ctx_get_crl`. Set `struct_size` to
/// `sizeof(siptls_crl_info)` first.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct siptls_crl_info {
    /// Set by the caller; the library writes at most this many bytes and
    /// stores how many it wrote.
    pub struct_size: u32,
    /// The trust entry whose key verified the CRL at load, or
    /// SIPTLS_TRUST_ID_NONE when its issuer is not a trust entry (an
    /// intermediate CA): then it is verified against the issuer in the
    /// peer's path at every use. During a CA key rollover it tells apart
    /// the CRLs of the two CAs that share a name.
    pub checked_by_trust_id: u32,
    /// thisUpdate and nextUpdate, seconds since the Unix epoch.
    pub this_update: i64,
    /// When its issuer promises the next CRL, seconds since 1970 (UTC).
    pub next_update: i64,
    /// How many serial numbers it revokes.
    pub revoked_count: u64,
    /// 1 when it covers one partition of its issuer's certificates (an
    /// issuing distribution point), else 0.
    pub partitioned: u32,
    /// Always 0.
    pub reserved: u32,
    /// The issuer, NUL-terminated; the text `siptls_ctx_remove_crl` takes
    /// (cut short with "..." past 511 bytes).
    pub issuer: [c_char; 512],
    /// The CRL number in decimal, or "" when the CRL has none.
    pub crl_number: [c_char; 64],
}

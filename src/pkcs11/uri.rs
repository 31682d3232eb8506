//! RFC 7512 `pkcs11:` URIs naming a private key: which module, which token,
//! which object, and where its PIN comes from. Every attribute is applied
//! or the URI is refused: an attribute siptls would ignore could select
//! another key than the one the operator meant.

use crate::abi::siptls_result::SIPTLS_ERR_PKCS11_URI;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Where the token's PIN comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PinSource {
    /// No PIN: the token needs none, or asks for it on its own reader.
    None,
    /// `pin-value`: the PIN in the URI itself.
    Value(Zeroizing<String>),
    /// `pin-source`: a file holding the PIN, so it is in no command line.
    File(PathBuf),
}

impl std::fmt::Debug for PinSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinSource::None => f.write_str("no PIN"),
            PinSource::Value(_) => f.write_str("a PIN in the URI"),
            PinSource::File(path) => write!(f, "the PIN in {}", path.display()),
        }
    }
}

/// A parsed `pkcs11:` URI for a private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUri {
    pub module_path: PathBuf,
    /// Token attributes: the token must match every one given.
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub slot_id: Option<u64>,
    /// Object attributes: the key must match every one given.
    pub object: Option<String>,
    pub id: Option<Vec<u8>>,
    pub pin: PinSource,
}

fn refuse(uri_why: impl std::fmt::Display) -> Error {
    Error::new(SIPTLS_ERR_PKCS11_URI, uri_why.to_string())
}

/// RFC 3986 percent-decoding; a `%` not followed by two hex digits is refused.
fn decode(value: &str, name: &str) -> Result<Vec<u8>> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    refuse(format!(
                        "the pkcs11: URI's {name} has a '%' not followed by two hex digits; write a byte as %XX"
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(value: &str, name: &str) -> Result<String> {
    String::from_utf8(decode(value, name)?).map_err(|_| {
        refuse(format!(
            "the pkcs11: URI's {name} is not UTF-8 once decoded"
        ))
    })
}

/// Whether a key file or key text holds a URI rather than a PEM key: its
/// first line that is neither blank nor a `#` comment starts with `pkcs11:`.
pub fn in_key_text(key: &[u8]) -> Option<Result<String>> {
    let text = std::str::from_utf8(key).ok()?;
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let first = lines.next()?;
    if !first.starts_with("pkcs11:") {
        return None;
    }
    Some(match lines.next() {
        None => Ok(first.to_owned()),
        Some(_) => Err(refuse(
            "a key file naming a pkcs11: URI holds that one line and # comments only; a second line follows it",
        )),
    })
}

impl KeyUri {
    pub fn parse(uri: &str) -> Result<KeyUri> {
        let rest = uri.strip_prefix("pkcs11:").ok_or_else(|| {
            refuse("a PKCS#11 key is named by a URI starting with pkcs11: (RFC 7512)")
        })?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut parsed = KeyUri {
            module_path: PathBuf::new(),
            token: None,
            manufacturer: None,
            model: None,
            serial: None,
            slot_id: None,
            object: None,
            id: None,
            pin: PinSource::None,
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut module_path = None;
        let mut pin_value = None;
        let mut pin_source = None;
        let attributes = path
            .split(';')
            .map(|a| (a, ';'))
            .chain(query.split('&').map(|a| (a, '&')));
        for (attribute, separator) in attributes {
            if attribute.is_empty() {
                continue;
            }
            let (name, value) = attribute.split_once('=').ok_or_else(|| {
                refuse(format!(
                    "the pkcs11: URI's attribute '{attribute}' has no '='; write name=value"
                ))
            })?;
            if seen.contains(&name) {
                return Err(refuse(format!(
                    "the pkcs11: URI gives {name} twice; give each attribute once"
                )));
            }
            seen.push(name);
            let in_query = separator == '&';
            match (name, in_query) {
                ("token", false) => parsed.token = Some(text(value, name)?),
                ("manufacturer", false) => parsed.manufacturer = Some(text(value, name)?),
                ("model", false) => parsed.model = Some(text(value, name)?),
                ("serial", false) => parsed.serial = Some(text(value, name)?),
                ("object", false) => parsed.object = Some(text(value, name)?),
                ("id", false) => parsed.id = Some(decode(value, name)?),
                ("slot-id", false) => {
                    parsed.slot_id = Some(text(value, name)?.parse().map_err(|_| {
                        refuse(format!(
                            "the pkcs11: URI's slot-id '{value}' is not a decimal number"
                        ))
                    })?)
                }
                ("type", false) => {
                    if text(value, name)? != "private" {
                        return Err(refuse(format!(
                            "the pkcs11: URI says type={value}; an identity's key is type=private"
                        )));
                    }
                }
                ("module-path", true) => module_path = Some(PathBuf::from(text(value, name)?)),
                ("pin-value", true) => pin_value = Some(Zeroizing::new(text(value, name)?)),
                ("pin-source", true) => {
                    let source = text(value, name)?;
                    let path = source.strip_prefix("file:").unwrap_or(&source);
                    if !path.starts_with('/') {
                        return Err(refuse(format!(
                            "the pkcs11: URI's pin-source '{source}' is not an absolute file path; give pin-source=file:/path or /path"
                        )));
                    }
                    pin_source = Some(PathBuf::from(path));
                }
                ("module-name", true) => {
                    return Err(refuse(
                        "the pkcs11: URI names its module by module-name; siptls loads a module by its file, so give module-path=/path/to/module.so",
                    ))
                }
                (other, _) if other.starts_with("x-") => {
                    return Err(refuse(format!(
                        "the pkcs11: URI has the vendor attribute {other}, which siptls cannot apply; remove it"
                    )))
                }
                (other, _) => {
                    let place = if in_query { "query (after ?)" } else { "path (before ?)" };
                    return Err(refuse(format!(
                        "the pkcs11: URI's {place} has the attribute '{other}', which siptls does not apply there; see RFC 7512 for where each attribute goes"
                    )));
                }
            }
        }
        parsed.module_path = module_path.ok_or_else(|| {
            refuse("the pkcs11: URI names no module; add ?module-path=/path/to/module.so")
        })?;
        parsed.pin = match (pin_value, pin_source) {
            (Some(_), Some(_)) => {
                return Err(refuse(
                    "the pkcs11: URI gives both pin-value and pin-source; give one",
                ))
            }
            (Some(value), None) => PinSource::Value(value),
            (None, Some(path)) => PinSource::File(path),
            (None, None) => PinSource::None,
        };
        if parsed.object.is_none() && parsed.id.is_none() {
            return Err(refuse(
                "the pkcs11: URI names no key; add object=LABEL or id=%XX... so one key is meant",
            ));
        }
        Ok(parsed)
    }

    /// The key as the operator would name it, without its PIN.
    #[cfg_attr(not(feature = "pkcs11"), allow(dead_code))]
    pub fn describe(&self) -> String {
        let mut out = String::from("the key");
        if let Some(object) = &self.object {
            out.push_str(&format!(" labelled '{object}'"));
        }
        if let Some(id) = &self.id {
            let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!(" with id {hex}"));
        }
        match &self.token {
            Some(token) => out.push_str(&format!(" on token '{token}'")),
            None => out.push_str(" on any token"),
        }
        out.push_str(&format!(" of module {}", self.module_path.display()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::siptls_result::SIPTLS_ERR_PKCS11_URI;

    #[test]
    fn every_attribute_is_read_and_decoded() {
        let uri = KeyUri::parse(
            "pkcs11:token=SIP%20gateway;object=tls;id=%01%ff;type=private;serial=abc;slot-id=7?module-path=/usr/lib/m.so&pin-source=file:/etc/pin",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("SIP gateway"));
        assert_eq!(uri.object.as_deref(), Some("tls"));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 0xff][..]));
        assert_eq!(uri.serial.as_deref(), Some("abc"));
        assert_eq!(uri.slot_id, Some(7));
        assert_eq!(uri.module_path, PathBuf::from("/usr/lib/m.so"));
        assert_eq!(uri.pin, PinSource::File("/etc/pin".into()));
        let uri = KeyUri::parse("pkcs11:object=k?pin-value=12%2534&module-path=/m.so").unwrap();
        assert_eq!(uri.pin, PinSource::Value(Zeroizing::new("12%34".into())));
        assert!(
            !format!("{:?}", uri).contains("12%34"),
            "the PIN is never printed"
        );
    }

    #[test]
    fn a_uri_siptls_cannot_apply_exactly_is_refused() {
        for bad in [
            "pkcs12:object=k?module-path=/m.so",
            "pkcs11:object=k",
            "pkcs11:token=t?module-path=/m.so",
            "pkcs11:object=k;object=l?module-path=/m.so",
            "pkcs11:object=k;type=cert?module-path=/m.so",
            "pkcs11:object=k%4?module-path=/m.so",
            "pkcs11:object=k%ff?module-path=/m.so",
            "pkcs11:object=k;colour=red?module-path=/m.so",
            "pkcs11:object=k;x-vendor=1?module-path=/m.so",
            "pkcs11:object=k?module-name=softhsm2",
            "pkcs11:object=k?module-path=/m.so&pin-value=1&pin-source=/p",
            "pkcs11:object=k?module-path=/m.so&pin-source=relative/pin",
            "pkcs11:object=k;slot-id=one?module-path=/m.so",
            "pkcs11:object?module-path=/m.so",
            "pkcs11:module-path=/m.so;object=k",
        ] {
            let err = KeyUri::parse(bad).unwrap_err();
            assert_eq!(err.code, SIPTLS_ERR_PKCS11_URI, "{bad}");
            assert!(err.detail.contains("pkcs11"), "{bad}: {}", err.detail);
        }
    }

    #[test]
    fn a_key_file_holds_one_uri_line_and_comments() {
        let file = b"# the gateway's TLS key, on the HSM\n\npkcs11:object=k?module-path=/m.so\n";
        assert_eq!(
            in_key_text(file).unwrap().unwrap(),
            "pkcs11:object=k?module-path=/m.so"
        );
        assert!(in_key_text(b"-----BEGIN PRIVATE KEY-----\n").is_none());
        assert!(in_key_text(b"").is_none());
        assert!(in_key_text(b"# only a comment\n").is_none());
        let two = b"pkcs11:object=k?module-path=/m.so\npkcs11:object=l?module-path=/m.so\n";
        assert_eq!(
            in_key_text(two).unwrap().unwrap_err().code,
            SIPTLS_ERR_PKCS11_URI
        );
    }
}

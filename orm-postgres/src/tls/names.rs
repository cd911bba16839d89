//! libpq's host-name check of `verify-full`, for the certificates whose name webpki refuses
//! (one without a subjectAltName entry of the host's kind: libpq then reads the subject's
//! common name, CN; an address written as a dNSName) or cannot check (the version 1 and CA
//! certificates of `fallback.rs`).
//!
//! The rules are libpq's (`pgtls_verify_peer_name_matches_certificate_guts` in
//! `fe-secure-openssl.c`, `pq_verify_peer_name_matches_certificate_name` and
//! `wildcard_certificate_match` in `fe-secure-common.c`), in one place stricter: a wildcard
//! never matches an IP address.
//!
//! - The host is an IP address or a DNS name. Every subjectAltName dNSName is compared with
//!   the host as text, every iPAddress with the host's address, byte for byte.
//! - The common name is compared only when the certificate has no subjectAltName entry of the
//!   host's kind (no dNSName for a name, no iPAddress for an address), and then only the
//!   subject's first CN, as text, as libpq does.
//! - Names compare ignoring ASCII case; `*.rest` matches one more label before `rest` (not a
//!   dot, at least one character), only for a DNS host.
//! - A name holding a NUL byte, or an iPAddress that is neither 4 nor 16 bytes, refuses the
//!   certificate (libpq reports an error; here it is a mismatch that names it).

use std::net::IpAddr;

use rustls::CertificateError;
use rustls::pki_types::ServerName;
use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Tag, Tagged};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// The host connected to, as libpq's `is_ip_address` sorts it.
enum Host<'a> {
    Name(&'a str),
    Address(IpAddr),
}

/// The common name's attribute type (2.5.4.3).
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// Which of the certificate's names matched the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Matched {
    /// A subjectAltName entry of the host's kind (a dNSName for a name, an iPAddress for an
    /// address): what name constraints are checked against.
    AltName,
    /// Text no name constraint was checked against: the subject's common name (no
    /// subjectAltName entry of the host's kind), or an address written as a dNSName.
    Text,
}

/// Whether `cert` is valid for `host` under libpq's rules, and by which name; when it is not,
/// rustls's name error, listing the names the certificate was compared by (none: it names no
/// host at all).
pub(super) fn check(cert: &Certificate, host: &ServerName<'_>) -> Result<Matched, rustls::Error> {
    let mismatch = |presented: Vec<String>| {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected: host.to_owned(),
            presented,
        })
    };
    let host_kind = match host {
        ServerName::DnsName(name) => Host::Name(name.as_ref()),
        ServerName::IpAddress(ip) => Host::Address(IpAddr::from(*ip)),
        // A kind of name rustls may add later: nothing to compare it with.
        _ => return Err(mismatch(Vec::new())),
    };
    match matches(cert, &host_kind) {
        Ok(matched) => Ok(matched),
        Err(Refusal::Mismatch(presented)) => Err(mismatch(presented)),
        Err(Refusal::Malformed) => Err(rustls::Error::InvalidCertificate(
            CertificateError::BadEncoding,
        )),
    }
}

enum Refusal {
    /// The names compared, none matching.
    Mismatch(Vec<String>),
    /// The subjectAltName extension cannot be read.
    Malformed,
}

fn matches(cert: &Certificate, host: &Host<'_>) -> Result<Matched, Refusal> {
    let mut examined = Vec::new();
    // Whether the common name may be compared: only without a subjectAltName of the host's
    // kind (RFC 6125 for names; libpq's own rule for addresses).
    let mut check_cn = true;
    for name in subject_alt_names(cert)? {
        match name {
            GeneralName::DnsName(dns) => {
                check_cn &= !matches!(host, Host::Name(_));
                let text = dns.as_bytes();
                examined.push(shown(text));
                match name_matches(text, host) {
                    // An address matched by a dNSName's text: no iPAddress constraint saw it.
                    Some(true) if matches!(host, Host::Address(_)) => return Ok(Matched::Text),
                    Some(true) => return Ok(Matched::AltName),
                    Some(false) => {}
                    // libpq stops at a name it refuses, and fails.
                    None => return Err(Refusal::Mismatch(examined)),
                }
            }
            GeneralName::IpAddress(octets) => {
                check_cn &= !matches!(host, Host::Address(_));
                let bytes = octets.as_bytes();
                let presented = match bytes.len() {
                    4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
                    16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
                    _ => None,
                };
                let Some(presented) = presented else {
                    // Neither IPv4 nor IPv6: libpq fails rather than skip it.
                    examined.push(format!("an IP address of {} bytes", bytes.len()));
                    return Err(Refusal::Mismatch(examined));
                };
                examined.push(presented.to_string());
                if matches!(host, Host::Address(ip) if *ip == presented) {
                    return Ok(Matched::AltName);
                }
            }
            // Other kinds (e-mail, URI, directory name) never name a host.
            _ => {}
        }
    }
    let common_name = if check_cn {
        first_common_name(cert)
    } else {
        None
    };
    if let Some(cn) = common_name {
        examined.push(shown(cn));
        if name_matches(cn, host) == Some(true) {
            return Ok(Matched::Text);
        }
    }
    Err(Refusal::Mismatch(examined))
}

/// The entries of the certificate's subjectAltName, none without one. Two subjectAltName
/// extensions, or one that cannot be parsed, refuse the certificate.
fn subject_alt_names(cert: &Certificate) -> Result<Vec<GeneralName>, Refusal> {
    match cert.tbs_certificate.get::<SubjectAltName>() {
        Ok(san) => Ok(san.map(|(_, san)| san.0).unwrap_or_default()),
        Err(_) => Err(Refusal::Malformed),
    }
}

/// The value of the subject's first common name, as OpenSSL hands it to libpq (the string's
/// bytes); `None` without one. A common name that is not one of the string types certificates
/// use for names (UTF8String, PrintableString, IA5String, TeletexString) is no name: libpq
/// would compare its raw bytes, which never spell a host.
///
/// Nor is the first common name of a set (one RDN) holding two: x509-cert reads a set in DER
/// order, sorting one that was not sent so, where OpenSSL keeps the certificate's order, so
/// which of the two libpq compares cannot be told here.
fn first_common_name(cert: &Certificate) -> Option<&[u8]> {
    let rdn = cert
        .tbs_certificate
        .subject
        .0
        .iter()
        .find(|rdn| rdn.0.iter().any(|atv| atv.oid == COMMON_NAME))?;
    let mut names = rdn.0.iter().filter(|atv| atv.oid == COMMON_NAME);
    let first = names.next()?;
    if names.next().is_some() {
        return None;
    }
    match first.value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
            Some(first.value.value())
        }
        _ => None,
    }
}

/// A certificate's name as the error shows it.
fn shown(name: &[u8]) -> String {
    String::from_utf8_lossy(name).replace('\0', "\\0")
}

/// Whether the certificate's `name` matches the host: `None` when the name holds a NUL byte,
/// which libpq refuses (CVE-2009-4034: `db.example\0.evil` must not pass as `db.example`).
fn name_matches(name: &[u8], host: &Host<'_>) -> Option<bool> {
    if name.contains(&0) {
        return None;
    }
    Some(match host {
        Host::Name(host) => {
            let host = host.as_bytes();
            name.eq_ignore_ascii_case(host) || wildcard_matches(name, host)
        }
        // libpq compares an address with a dNSName or the CN as text (a certificate for
        // `CN=10.0.0.1` is valid for host 10.0.0.1); wildcards are left out here.
        Host::Address(ip) => name.eq_ignore_ascii_case(ip.to_string().as_bytes()),
    })
}

/// libpq's wildcard rule: `pattern` is `*.` and a suffix; `host` ends with that suffix (`.`
/// included, ignoring ASCII case) after one label of at least one character and no dot.
fn wildcard_matches(pattern: &[u8], host: &[u8]) -> bool {
    let Some(suffix) = pattern.strip_prefix(b"*") else {
        return false;
    };
    if suffix.len() < 2 || suffix.first() != Some(&b'.') || host.len() <= suffix.len() {
        return false;
    }
    let (label, tail) = host.split_at(host.len() - suffix.len());
    tail.eq_ignore_ascii_case(suffix) && !label.contains(&b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(host: &str) -> Host<'_> {
        Host::Name(host)
    }

    #[test]
    fn names_compare_ignoring_case() {
        assert_eq!(
            name_matches(b"DB.Example.COM", &name("db.example.com")),
            Some(true)
        );
        assert_eq!(
            name_matches(b"db.example.com", &name("db.example.org")),
            Some(false)
        );
        // A trailing dot is another name, as in libpq.
        assert_eq!(
            name_matches(b"db.example.com.", &name("db.example.com")),
            Some(false)
        );
    }

    #[test]
    fn a_wildcard_matches_exactly_one_label() {
        assert!(wildcard_matches(b"*.example.com", b"db.example.com"));
        assert!(wildcard_matches(b"*.EXAMPLE.com", b"DB.example.COM"));
        assert!(!wildcard_matches(b"*.example.com", b"a.db.example.com"));
        assert!(!wildcard_matches(b"*.example.com", b"example.com"));
        assert!(!wildcard_matches(b"*.example.com", b".example.com"));
        // Only a leading `*.` is a wildcard.
        assert!(!wildcard_matches(b"db*.example.com", b"db1.example.com"));
        assert!(!wildcard_matches(b"*example.com", b"dbexample.com"));
        assert!(!wildcard_matches(b"*.", b"db."));
        assert!(!wildcard_matches(b"db.*.com", b"db.example.com"));
    }

    #[test]
    fn a_wildcard_never_matches_an_address() {
        let host = Host::Address(IpAddr::from([10, 0, 0, 1]));
        assert_eq!(name_matches(b"*.0.0.1", &host), Some(false));
        assert_eq!(name_matches(b"10.0.0.1", &host), Some(true));
    }

    #[test]
    fn a_name_with_a_nul_byte_is_refused() {
        assert_eq!(
            name_matches(b"db.example\0.evil", &name("db.example")),
            None
        );
        assert_eq!(name_matches(b"db.example\0", &name("db.example")), None);
    }
}

//! Trusting the server certificates webpki refuses and libpq (OpenSSL) verifies: a version 1
//! certificate (`openssl x509 -req` without `-extfile`, the PostgreSQL manual's recipe for a
//! CA-signed certificate) and a CA certificate as the server's own (`openssl req -x509`, the
//! manual's self-signed recipe). Used only after webpki refused the certificate for one of these
//! two reasons (see `verify.rs`).
//!
//! Trusted here, and nothing else:
//!
//! - the certificate is byte for byte one of the root certificates (`sslrootcert`): the
//!   self-signed certificate copied to the client as its root;
//! - or it is signed directly by one of them: its issuer is the root's subject (the DER
//!   encodings equal) and the signature over its `tbsCertificate` verifies with the root's
//!   public key, by one of the provider's algorithms. The root must be a CA (basicConstraints
//!   `CA:TRUE`, or a self-issued version 1 certificate, which OpenSSL takes as a CA), allowed
//!   to sign certificates when it has a keyUsage, and have no name constraints (not checked
//!   here);
//! - or it is signed so by an intermediate CA the server sends with it, which a root signed
//!   directly (the manual's recipe for a chain: a root, an intermediate made with the `v3_ca`
//!   extensions, the server's certificate from `x509 -req` without -extfile). The intermediate
//!   must be a CA (basicConstraints `CA:TRUE`), allowed to sign certificates, usable
//!   by a TLS server (its extendedKeyUsage, if any, holds serverAuth), without name
//!   constraints, valid now; the root as above, and its pathLenConstraint, if any, at least 1.
//!   A longer chain (two intermediates or more) is refused: it can only be verified by
//!   webpki, once the server's certificate is reissued as an ordinary version 3 one.
//!
//! In every case the certificates of the chain must be valid at the time rustls gives,
//! the server's certificate must be usable by a TLS server (its extendedKeyUsage, if any,
//! holds serverAuth; its keyUsage, if any, allows a TLS key), and none may have a critical
//! extension not understood here (as OpenSSL refuses them). The host name is `names.rs`'s.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::{CertificateError, OtherError};
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::der::asn1::{BitStringRef, ObjectIdentifier};
use x509_cert::der::oid::AssociatedOid;
use x509_cert::der::{Decode, Encode, Header, Reader, SliceReader, Tag};
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, NameConstraints, SubjectAltName,
};

/// Why a certificate this module looked at is refused, when rustls has no error for it. The
/// message is shown to the user (as [`TlsError::Handshake`](super::TlsError::Handshake)).
#[derive(Debug)]
pub(super) struct Refused(pub(super) &'static str);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

fn refused(why: &'static str) -> rustls::Error {
    invalid(CertificateError::Other(OtherError(Arc::new(Refused(why)))))
}

fn invalid(e: CertificateError) -> rustls::Error {
    rustls::Error::InvalidCertificate(e)
}

/// A root certificate (`sslrootcert`, or the system's) as read, parsed once for every
/// handshake this module looks at.
#[derive(Debug)]
pub(super) struct Root {
    der: CertificateDer<'static>,
    /// `None` for a certificate x509-cert cannot read: it is only compared byte for byte.
    parsed: Option<Certificate>,
}

impl Root {
    pub(super) fn new(der: CertificateDer<'static>) -> Root {
        let parsed = Certificate::from_der(der.as_ref()).ok();
        Root { der, parsed }
    }
}

/// A certificate the server sent besides its own is an X.509 version 1 certificate, which
/// webpki refuses, and OpenSSL takes for no CA unless it is self-signed.
pub(super) fn old_intermediate() -> rustls::Error {
    refused(
        "a certificate the server sent besides its own (an intermediate CA) is an X.509 version \
         1 certificate (as `openssl x509 -req` makes without -extfile), which is no CA (as in \
         libpq): reissue it as a version 3 CA certificate (`-extfile <(printf \
         'basicConstraints=critical,CA:TRUE')`); or use sslmode=require, which encrypts without \
         verifying the server",
    )
}

/// Whether the server's certificate `leaf` (`end_entity`, parsed) is trusted as described
/// above, at `now`. `refusal` is webpki's error about it, returned when the certificate is
/// signed by one the server sent rather than by a root (the case this fallback leaves to
/// webpki).
pub(super) fn trust(
    end_entity: &CertificateDer<'_>,
    leaf: &Certificate,
    intermediates: &[CertificateDer<'_>],
    roots: &[Root],
    now: UnixTime,
    algorithms: &WebPkiSupportedAlgorithms,
    refusal: rustls::Error,
) -> Result<(), rustls::Error> {
    let bad_encoding = || invalid(CertificateError::BadEncoding);
    let leaf_extensions = Extensions::of(leaf).map_err(|_| bad_encoding())?;
    // OpenSSL refuses a certificate with a critical extension it does not understand; so do
    // we, with fewer understood.
    if leaf_extensions.unknown_critical {
        return Err(refused(
            "the server's certificate has a critical extension this client does not check",
        ));
    }
    // What OpenSSL checks of a TLS server's certificate (its `sslserver` purpose); webpki
    // checks the extendedKeyUsage of the certificates it verifies.
    if leaf_extensions
        .extended_key_usage
        .as_ref()
        .is_some_and(|eku| !eku.0.contains(&SERVER_AUTH))
    {
        return Err(invalid(CertificateError::InvalidPurpose));
    }
    let tls_key =
        KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment | KeyUsages::KeyAgreement;
    if leaf_extensions
        .key_usage
        .as_ref()
        .is_some_and(|ku| (ku.0 & tls_key).is_empty())
    {
        return Err(refused(
            "the server's certificate has a keyUsage that allows no TLS server key \
             (digitalSignature, keyEncipherment or keyAgreement)",
        ));
    }
    check_validity(leaf, now)?;

    // The self-signed case: the server's certificate is one the user trusts as a root.
    if roots
        .iter()
        .any(|root| root.der.as_ref() == end_entity.as_ref())
    {
        return Ok(());
    }

    // The CA-signed case: a root signed it, or an intermediate CA the server sent, which a
    // root signed (the manual's chain).
    let signed = Signed::of(end_entity.as_ref()).ok_or_else(bad_encoding)?;
    algorithms_agree(leaf)?;
    // A root's refusal (one of the issuer's name that did not sign it, say an older copy of
    // the intermediate) is the answer unless a sent intermediate leads to a root.
    let direct = match signed_by_root(&signed, leaf, roots, now, algorithms, 0) {
        Search::Trusted => return Ok(()),
        Search::Refused(e) => Some(e),
        Search::NoRoot => None,
    };
    let issuer = &leaf.tbs_certificate.issuer;
    let sent: Vec<(&CertificateDer<'_>, Certificate)> = intermediates
        .iter()
        .filter_map(|der| Some((der, Certificate::from_der(der.as_ref()).ok()?)))
        .collect();
    let mut problem = None;
    // Whether a sent intermediate signed the server's certificate: then what is wrong above
    // it is the answer, not a root's refusal of a certificate it did not sign.
    let mut signed_by_sent = false;
    for (der, ca) in sent
        .iter()
        .filter(|(_, c)| c.tbs_certificate.subject == *issuer)
    {
        if !signed_by(&signed, ca, algorithms) {
            problem.get_or_insert(invalid(CertificateError::BadSignature));
            continue;
        }
        signed_by_sent = true;
        if let Err(e) = usable_ca(ca, now, Role::Intermediate).and(algorithms_agree(ca)) {
            problem = Some(e);
            continue;
        }
        let ca_signed = Signed::of(der.as_ref()).ok_or_else(bad_encoding)?;
        match signed_by_root(&ca_signed, ca, roots, now, algorithms, 1) {
            Search::Trusted => return Ok(()),
            Search::Refused(e) => problem = Some(e),
            // Signed by another intermediate the server sent (not a root it sends along): a
            // longer chain, not verified here (see the module's doc).
            Search::NoRoot if sent.iter().any(|(_, c)| issued(c, ca)) => {
                problem = Some(refusal.clone());
            }
            Search::NoRoot => {
                problem.get_or_insert(invalid(CertificateError::UnknownIssuer));
            }
        }
    }
    let answer = match signed_by_sent {
        true => problem.or(direct),
        false => direct.or(problem),
    };
    Err(answer.unwrap_or(invalid(CertificateError::UnknownIssuer)))
}

/// Whether `ca` is an intermediate whose subject is `cert`'s issuer: a CA certificate that is
/// not self-issued (a root the server sends along is not one).
fn issued(ca: &Certificate, cert: &Certificate) -> bool {
    let tbs = &ca.tbs_certificate;
    tbs.subject == cert.tbs_certificate.issuer && tbs.subject != tbs.issuer
}

/// Whether a CA that may have vouched for `leaf` through webpki has name constraints: one the
/// server sent, or a root that issued the server's certificate or one the server sent. webpki
/// checks them against the subjectAltName only; OpenSSL also checks a common name it matches
/// by (`NAME_CONSTRAINTS_check_CN`), which this client does not, so such a match is refused
/// (see `verify.rs`).
pub(super) fn name_constrained(
    leaf: &Certificate,
    intermediates: &[CertificateDer<'_>],
    roots: &[Root],
) -> bool {
    // What cannot be read counts as constrained: the match is refused. webpki reads more than
    // x509-cert does (a serial number past 20 bytes, say), so a certificate of the chain that
    // cannot be read here may still be one webpki went through, and hide the root above it.
    let constrained = |c: &Certificate| Extensions::of(c).map_or(true, |e| e.name_constraints);
    let Ok(sent) = intermediates
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()))
        .collect::<Result<Vec<Certificate>, _>>()
    else {
        return true;
    };
    if roots.iter().any(|r| r.parsed.is_none()) {
        return true;
    }
    let issuers: Vec<&x509_cert::name::Name> = std::iter::once(leaf)
        .chain(&sent)
        .map(|c| &c.tbs_certificate.issuer)
        .collect();
    sent.iter().any(constrained)
        || roots
            .iter()
            .filter_map(|r| r.parsed.as_ref())
            .filter(|r| issuers.contains(&&r.tbs_certificate.subject))
            .any(constrained)
}

/// The host matched only by text (the common name, or an address written as a dNSName) in a
/// certificate under a name-constrained CA.
pub(super) fn common_name_under_name_constraints() -> rustls::Error {
    refused(
        "the server's certificate names the host only as text (its common name, CN, or an \
         address written as a DNS name), and a CA of its chain has name constraints (or a \
         certificate of the chain cannot be read to tell), which this client checks against \
         subjectAltName entries of the host's kind only: reissue the certificate with \
         subjectAltName=DNS:<host> (or IP:<address>)",
    )
}

/// A certificate's signature algorithm is named twice, once signed: they must agree (RFC 5280
/// 4.1.1.2; OpenSSL marks a certificate where they differ invalid), whoever signed it.
fn algorithms_agree(cert: &Certificate) -> Result<(), rustls::Error> {
    match cert.tbs_certificate.signature == cert.signature_algorithm {
        true => Ok(()),
        false => Err(invalid(CertificateError::BadSignature)),
    }
}

/// What looking for the root that signed a certificate found.
enum Search {
    Trusted,
    /// A root of the issuer's name, which did not sign it or may not vouch for it.
    Refused(rustls::Error),
    /// No root of the issuer's name.
    NoRoot,
}

/// Whether a root signed `cert` (whose signed bytes are `signed`, its algorithm fields checked
/// by [`algorithms_agree`]) directly, `below` intermediate CAs above the server's certificate:
/// the root must be a CA that may sign that deep, valid now.
fn signed_by_root(
    signed: &Signed<'_>,
    cert: &Certificate,
    roots: &[Root],
    now: UnixTime,
    algorithms: &WebPkiSupportedAlgorithms,
    below: u8,
) -> Search {
    let issuer = &cert.tbs_certificate.issuer;
    let mut issuer_found = false;
    let mut root_problem = None;
    for root in roots.iter().filter_map(|r| r.parsed.as_ref()) {
        if root.tbs_certificate.subject != *issuer {
            continue;
        }
        issuer_found = true;
        if !signed_by(signed, root, algorithms) {
            continue;
        }
        // The root signed it: it must also be a CA that may sign, valid now.
        match usable_ca(root, now, Role::Root { below }) {
            Ok(()) => return Search::Trusted,
            Err(e) => root_problem = Some(e),
        }
    }
    match root_problem {
        Some(e) => Search::Refused(e),
        // A root of that name, whose key did not sign this certificate: a forged or damaged
        // certificate, or a root reissued with another key.
        None if issuer_found => Search::Refused(invalid(CertificateError::BadSignature)),
        None => Search::NoRoot,
    }
}

/// id-kp-serverAuth (RFC 5280 4.2.1.12).
const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

/// The extensions checked here, each at most once (RFC 5280 4.2; OpenSSL marks a certificate
/// with a repeated extension invalid).
#[derive(Default)]
struct Extensions {
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    extended_key_usage: Option<ExtendedKeyUsage>,
    name_constraints: bool,
    unknown_critical: bool,
}

/// A certificate's extensions cannot be read, or one is repeated.
struct Malformed;

impl Extensions {
    fn of(cert: &Certificate) -> Result<Extensions, Malformed> {
        let mut found = Extensions::default();
        let extensions = cert
            .tbs_certificate
            .extensions
            .as_deref()
            .unwrap_or_default();
        // Sorted, so that a repeated one is found in one pass whatever their number (the
        // certificate is not authenticated yet).
        let mut ids: Vec<&ObjectIdentifier> = extensions.iter().map(|e| &e.extn_id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(Malformed);
        }
        for ext in extensions {
            let value = ext.extn_value.as_bytes();
            match ext.extn_id {
                BasicConstraints::OID => {
                    found.basic_constraints =
                        Some(BasicConstraints::from_der(value).map_err(|_| Malformed)?);
                }
                KeyUsage::OID => {
                    found.key_usage = Some(KeyUsage::from_der(value).map_err(|_| Malformed)?);
                }
                ExtendedKeyUsage::OID => {
                    found.extended_key_usage =
                        Some(ExtendedKeyUsage::from_der(value).map_err(|_| Malformed)?);
                }
                // Read by `names.rs`.
                SubjectAltName::OID => {}
                NameConstraints::OID => found.name_constraints = true,
                _ => found.unknown_critical |= ext.critical,
            }
        }
        Ok(found)
    }
}

/// The CA certificate a chain goes through: a root, or an intermediate CA the server sent.
#[derive(Clone, Copy)]
enum Role {
    /// A root, `below` intermediate CAs above the server's certificate.
    Root {
        below: u8,
    },
    Intermediate,
}

impl Role {
    /// What the messages call the certificate.
    fn says(self, root: &'static str, intermediate: &'static str) -> &'static str {
        match self {
            Role::Root { .. } => root,
            Role::Intermediate => intermediate,
        }
    }
}

/// `ca`, having signed the next certificate of the chain, may vouch for it: a CA, allowed to
/// sign certificates (and, for a root, as deep as it is asked to: its pathLenConstraint),
/// without name constraints (which are not checked here), valid now; an intermediate CA
/// also usable for a TLS server (its extendedKeyUsage, if any, holds serverAuth, as OpenSSL
/// and webpki check).
fn usable_ca(ca: &Certificate, now: UnixTime, role: Role) -> Result<(), rustls::Error> {
    let Ok(ext) = Extensions::of(ca) else {
        return Err(refused(role.says(
            "the root certificate that signed the server's has extensions that cannot be read",
            "the intermediate CA certificate the server sent has extensions that cannot be read",
        )));
    };
    let self_issued = ca.tbs_certificate.subject == ca.tbs_certificate.issuer;
    let is_ca = match &ext.basic_constraints {
        Some(bc) => bc.ca,
        // OpenSSL takes a self-issued version 1 certificate as a CA (a root, here).
        None => {
            matches!(role, Role::Root { .. })
                && ca.tbs_certificate.version == Version::V1
                && self_issued
        }
    };
    if !is_ca {
        return Err(refused(role.says(
            "the root certificate that signed the server's is not a CA certificate \
             (basicConstraints CA:TRUE)",
            "the intermediate certificate the server sent is not a CA certificate \
             (basicConstraints CA:TRUE)",
        )));
    }
    if ext.key_usage.as_ref().is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(refused(role.says(
            "the root certificate that signed the server's has a keyUsage without keyCertSign",
            "the intermediate CA certificate the server sent has a keyUsage without \
             keyCertSign",
        )));
    }
    if let Role::Root { below } = role {
        let limit = ext.basic_constraints.and_then(|bc| bc.path_len_constraint);
        if limit.is_some_and(|limit| below > limit) {
            return Err(refused(
                "the root certificate that signed the server's chain allows no intermediate CA \
                 below it (pathLenConstraint 0)",
            ));
        }
    }
    if ext.name_constraints || ext.unknown_critical {
        return Err(refused(role.says(
            "the root certificate that signed the server's has name constraints or a critical \
             extension, which are checked only for a version 3 server certificate that is not a \
             CA: reissue the server's certificate so",
            "the intermediate CA certificate the server sent has name constraints or a critical \
             extension, which are checked only for a version 3 server certificate that is not a \
             CA: reissue the server's certificate so",
        )));
    }
    if matches!(role, Role::Intermediate)
        && ext
            .extended_key_usage
            .as_ref()
            .is_some_and(|eku| !eku.0.contains(&SERVER_AUTH))
    {
        return Err(invalid(CertificateError::InvalidPurpose));
    }
    validity(ca, now).map_err(|e| {
        refused(match e {
            Validity::Expired => role.says(
                "the root certificate that signed the server's has expired",
                "the intermediate CA certificate the server sent has expired",
            ),
            Validity::NotYet => role.says(
                "the root certificate that signed the server's is not valid yet",
                "the intermediate CA certificate the server sent is not valid yet",
            ),
        })
    })
}

enum Validity {
    Expired,
    NotYet,
}

/// notBefore ≤ now ≤ notAfter, as webpki checks them (in whole seconds).
fn validity(cert: &Certificate, now: UnixTime) -> Result<(), Validity> {
    let v = &cert.tbs_certificate.validity;
    let now = now.as_secs();
    if now < v.not_before.to_unix_duration().as_secs() {
        return Err(Validity::NotYet);
    }
    if now > v.not_after.to_unix_duration().as_secs() {
        return Err(Validity::Expired);
    }
    Ok(())
}

/// The server's certificate is valid now: rustls's errors for it (as webpki's), with the dates.
fn check_validity(cert: &Certificate, now: UnixTime) -> Result<(), rustls::Error> {
    let at = |d: Duration| UnixTime::since_unix_epoch(d);
    let v = &cert.tbs_certificate.validity;
    validity(cert, now).map_err(|e| {
        invalid(match e {
            Validity::Expired => CertificateError::ExpiredContext {
                time: now,
                not_after: at(v.not_after.to_unix_duration()),
            },
            Validity::NotYet => CertificateError::NotValidYetContext {
                time: now,
                not_before: at(v.not_before.to_unix_duration()),
            },
        })
    })
}

/// A certificate's signed part and signature, as sent: the exact bytes that were signed.
struct Signed<'a> {
    /// The DER of `tbsCertificate`.
    tbs: &'a [u8],
    /// The contents of the outer `signatureAlgorithm` (an AlgorithmIdentifier without its
    /// SEQUENCE header, as rustls's `signature_alg_id` is written).
    algorithm: &'a [u8],
    signature: &'a [u8],
}

impl<'a> Signed<'a> {
    /// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`.
    fn of(der: &'a [u8]) -> Option<Signed<'a>> {
        let mut reader = SliceReader::new(der).ok()?;
        let signed = reader
            .sequence(|r| {
                let tbs = r.tlv_bytes()?;
                let header = Header::decode(r)?;
                header.tag.assert_eq(Tag::Sequence)?;
                let algorithm = r.read_slice(header.length)?;
                let signature = BitStringRef::decode(r)?;
                Ok((tbs, algorithm, signature))
            })
            .ok()?;
        let (tbs, algorithm, signature) = reader.finish(signed).ok()?;
        Some(Signed {
            tbs,
            algorithm,
            // A signature is whole bytes.
            signature: signature.as_bytes()?,
        })
    }
}

/// The contents of a DER SEQUENCE (`None` if `der` is not exactly one).
fn sequence_contents(der: &[u8]) -> Option<&[u8]> {
    let mut reader = SliceReader::new(der).ok()?;
    let contents = reader.sequence(|r| r.read_slice(r.remaining_len())).ok()?;
    reader.finish(contents).ok()
}

/// Whether `root`'s public key made `signed`'s signature, by the algorithm the certificate
/// names: one of the provider's whose signature and public-key identifiers are the
/// certificate's and the root key's, exactly.
fn signed_by(
    signed: &Signed<'_>,
    root: &Certificate,
    algorithms: &WebPkiSupportedAlgorithms,
) -> bool {
    let spki = &root.tbs_certificate.subject_public_key_info;
    let Ok(key_algorithm) = spki.algorithm.to_der() else {
        return false;
    };
    let Some(key_algorithm) = sequence_contents(&key_algorithm) else {
        return false;
    };
    let Some(key) = spki.subject_public_key.as_bytes() else {
        return false;
    };
    algorithms.all.iter().any(|alg| {
        alg.signature_alg_id().as_ref() == signed.algorithm
            && alg.public_key_alg_id().as_ref() == key_algorithm
            && alg
                .verify_signature(key, signed.tbs, signed.signature)
                .is_ok()
    })
}

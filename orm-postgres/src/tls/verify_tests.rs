//! The checks of the certificates webpki refuses, called directly. (rcgen makes no version 1
//! certificate: the ones here were made once by `openssl` and are kept as PEM text; the
//! integration tests of `tests/tests/connect/certs.rs` make theirs at run time.)

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};

use super::Verified;

/// `CA:TRUE`, common name `cn`, subjectAltName `names` (none: no extension).
pub(super) fn ca_params(cn: &str, names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
}

pub(super) fn root(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = ca_params(cn, &[]);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("root")
}

/// The verifier of `verify-full` (`check_name`) or `verify-ca`, trusting `roots`.
pub(super) fn verifier(roots: &[&CertificateDer<'static>], check_name: bool) -> Verified {
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut store = RootCertStore::empty();
    let certificates: Vec<CertificateDer<'static>> = roots.iter().map(|c| (*c).clone()).collect();
    store.add_parsable_certificates(certificates.iter().cloned());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .expect("webpki");
    Verified::new(webpki, certificates, &provider, check_name)
}

pub(super) fn verify(
    v: &Verified,
    cert: &CertificateDer<'_>,
    host: &str,
) -> Result<(), rustls::Error> {
    verify_at(v, cert, host, UnixTime::now())
}

pub(super) fn cert_error(r: Result<(), rustls::Error>) -> CertificateError {
    match r {
        Err(rustls::Error::InvalidCertificate(e)) => e,
        other => panic!("not a certificate error: {other:?}"),
    }
}

/// The names a name error lists (`None`: not a name error).
pub(super) fn presented(r: Result<(), rustls::Error>) -> Option<Vec<String>> {
    match cert_error(r) {
        CertificateError::NotValidForNameContext { presented, .. } => Some(presented),
        _ => None,
    }
}

/// A root (`openssl req -x509`, EC P-256, valid from 2026-12-07 for 100 years) and a version
/// 1 certificate it signed for `CN=db.example`, valid from 2020 to 2040 (`openssl ca
/// -startdate -enddate` without extensions): webpki cannot parse the second.
const V1_ROOT: &str = "-----BEGIN CERTIFICATE-----
MIIBhjCCASugAwIBAgIUF61xRrvGngh9dPKBo9zpnkvfaXIwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdjEgdGVzdCByb290MCAXDTI2MTIwNzIwMTI0OFoYDzIxMjYx
MTEzMjAxMjQ4WjAXMRUwEwYDVQQDDAx2MSB0ZXN0IHJvb3QwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAARGSmoUpJYJXmwJgQyFRyj7F1YnGL7YIcRar/6q0zbsAk6C
R3fg2cpaMCIfU8PhvpkpwpfCwR8tpnb+9V3I6tEqo1MwUTAdBgNVHQ4EFgQUL5wI
8VtNf2njlDPm7ld+mxyjm6swHwYDVR0jBBgwFoAUL5wI8VtNf2njlDPm7ld+mxyj
m6swDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAwMLvBE/rCQGQ
RPYLTpul36ThHifZRlLzi4ql4j3J7p4CIQD3RXM/2g/Tq8cj+ppkEWe7mciaix5E
ZSdH9YgGCVyKFQ==
-----END CERTIFICATE-----
";
const V1_LEAF: &str = "-----BEGIN CERTIFICATE-----
MIIBEzCBugIBATAKBggqhkjOPQQDAjAXMRUwEwYDVQQDDAx2MSB0ZXN0IHJvb3Qw
HhcNMjAwMTAxMDAwMDAwWhcNNDAwMTAxMDAwMDAwWjAVMRMwEQYDVQQDDApkYi5l
eGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwwbJMFN9bgqP1U/K4Xli
CmKfSbrJ14KrbWKnXXG92Y/GpHeTfojMhVdgR/XOmO8tNmW/N1bvSorJl6+yAFWk
7zAKBggqhkjOPQQDAgNIADBFAiA6smvrlZAp8D3GMzPtk4ajV1R1WZSf611H1f2q
Fso2ZQIhAJtVWVRrvcNfVq2c24oaVLVbGTui/Vd4haq+3kQsw29L
-----END CERTIFICATE-----
";

pub(super) fn pem(text: &str) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(text.as_bytes()).expect("PEM")
}

/// `year`-01-01 (roughly: 365.25-day years).
pub(super) fn in_year(year: u64) -> UnixTime {
    let days = (year - 1970) * 36525 / 100;
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(days * 86_400))
}

fn verify_at(
    v: &Verified,
    cert: &CertificateDer<'_>,
    host: &str,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let host = ServerName::try_from(host).expect("host").to_owned();
    v.verify_server_cert(cert, &[], &host, &[], now).map(drop)
}

#[test]
fn a_version_1_certificate_signed_by_a_root_is_verified_in_its_dates_by_its_cn() {
    let (root, leaf) = (pem(V1_ROOT), pem(V1_LEAF));
    let full = verifier(&[&root], true);
    let now = in_year(2030);
    verify_at(&full, &leaf, "db.example", now).expect("verify-full");
    let r = verify_at(&full, &leaf, "other.example", now);
    assert_eq!(presented(r), Some(vec!["db.example".to_owned()]));
    let ca_only = verifier(&[&root], false);
    verify_at(&ca_only, &leaf, "other.example", now).expect("verify-ca");
    // The dates: webpki never reads them, the fallback does.
    let r = cert_error(verify_at(&ca_only, &leaf, "db.example", in_year(2041)));
    assert!(
        matches!(r, CertificateError::ExpiredContext { .. }),
        "{r:?}"
    );
    let r = cert_error(verify_at(&ca_only, &leaf, "db.example", in_year(2019)));
    assert!(
        matches!(r, CertificateError::NotValidYetContext { .. }),
        "{r:?}"
    );
    // A byte of the signature (the certificate's last) flipped.
    let mut tampered = leaf.to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 0x01;
    }
    let r = verify_at(&ca_only, &CertificateDer::from(tampered), "db.example", now);
    assert_eq!(cert_error(r), CertificateError::BadSignature);
    // Another root: unknown issuer.
    let other = self::root("v1 test root");
    let r = verify_at(&verifier(&[other.der()], false), &leaf, "db.example", now);
    assert_eq!(
        cert_error(r),
        CertificateError::BadSignature,
        "same name, other key"
    );
    let other = self::root("other root");
    let r = verify_at(&verifier(&[other.der()], false), &leaf, "db.example", now);
    assert_eq!(cert_error(r), CertificateError::UnknownIssuer);
}

#[test]
fn the_manual_s_self_signed_certificate_is_its_own_root_and_named_by_its_cn() {
    // `openssl req -x509 -subj /CN=db.example`: CA:TRUE, no subjectAltName.
    let key = KeyPair::generate().expect("key");
    let cert = ca_params("db.example", &[])
        .self_signed(&key)
        .expect("cert");
    let full = verifier(&[cert.der()], true);
    verify(&full, cert.der(), "db.example").expect("the CN names the host");
    verify(&full, cert.der(), "DB.Example").expect("names ignore case");
    let names = presented(verify(&full, cert.der(), "other.example"));
    assert_eq!(names, Some(vec!["db.example".to_owned()]));
    // verify-ca checks no name.
    verify(&verifier(&[cert.der()], false), cert.der(), "other.example").expect("verify-ca");
    // Not a root: an unknown issuer, as any certificate no root signed.
    let other = root("some other root");
    let r = verify(&verifier(&[other.der()], true), cert.der(), "db.example");
    assert_eq!(cert_error(r), CertificateError::UnknownIssuer);
}

#[test]
fn a_ca_certificate_signed_by_a_root_is_checked_with_the_root_s_key() {
    let root = root("root");
    let key = KeyPair::generate().expect("key");
    let cert = ca_params("db.example", &[])
        .signed_by(&key, &root)
        .expect("cert");
    let v = verifier(&[root.der()], true);
    verify(&v, cert.der(), "db.example").expect("signed by the root");
    // A byte of the signature (the certificate's last) flipped.
    let mut tampered = cert.der().to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 0x01;
    }
    let r = verify(&v, &CertificateDer::from(tampered), "db.example");
    assert_eq!(cert_error(r), CertificateError::BadSignature);
    // Signed by another root of the same name: its key did not sign it.
    let impostor = self::root("root");
    let r = verify(&verifier(&[impostor.der()], true), cert.der(), "db.example");
    assert_eq!(cert_error(r), CertificateError::BadSignature);
    // Another root: unknown issuer.
    let other = self::root("other");
    let r = verify(&verifier(&[other.der()], false), cert.der(), "db.example");
    assert_eq!(cert_error(r), CertificateError::UnknownIssuer);
}

/// `params`, valid from January 1st of year `from` to January 1st of year `to`.
pub(super) fn valid_from_to(
    mut params: CertificateParams,
    from: i32,
    to: i32,
) -> CertificateParams {
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    params
}

#[test]
fn a_subject_alt_name_of_the_host_s_kind_hides_the_cn() {
    let key = KeyPair::generate().expect("key");
    let cert = ca_params("db.example", &["san.example"])
        .self_signed(&key)
        .expect("cert");
    let v = verifier(&[cert.der()], true);
    verify(&v, cert.der(), "san.example").expect("the subjectAltName");
    let names = presented(verify(&v, cert.der(), "db.example"));
    assert_eq!(names, Some(vec!["san.example".to_owned()]));
    // An address: with no iPAddress entry, libpq compares the CN, as text.
    let cert = ca_params("127.0.0.1", &["san.example"])
        .self_signed(&key)
        .expect("cert");
    let v = verifier(&[cert.der()], true);
    verify(&v, cert.der(), "127.0.0.1").expect("the CN, for an address");
    // With an iPAddress entry, the CN is not compared.
    let cert = ca_params("127.0.0.1", &["127.0.0.2"])
        .self_signed(&key)
        .expect("cert");
    let v = verifier(&[cert.der()], true);
    verify(&v, cert.der(), "127.0.0.2").expect("the iPAddress entry");
    let names = presented(verify(&v, cert.der(), "127.0.0.1"));
    assert_eq!(names, Some(vec!["127.0.0.2".to_owned()]));
}

#[test]
fn a_wildcard_cn_matches_one_label() {
    let key = KeyPair::generate().expect("key");
    let cert = ca_params("*.example.com", &[])
        .self_signed(&key)
        .expect("cert");
    let v = verifier(&[cert.der()], true);
    verify(&v, cert.der(), "db.example.com").expect("one label");
    assert!(presented(verify(&v, cert.der(), "a.db.example.com")).is_some());
    assert!(presented(verify(&v, cert.der(), "example.com")).is_some());
}

#[test]
fn a_certificate_webpki_verifies_but_for_its_missing_subject_alt_name_is_named_by_its_cn() {
    // CA:FALSE, signed by a root, only a CN: webpki checks the chain, libpq's rule the name.
    let root = root("root");
    let key = KeyPair::generate().expect("key");
    let mut params = ca_params("db.example", &[]);
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params.signed_by(&key, &root).expect("cert");
    let v = verifier(&[root.der()], true);
    verify(&v, cert.der(), "db.example").expect("the CN");
    let names = presented(verify(&v, cert.der(), "other.example"));
    assert_eq!(names, Some(vec!["db.example".to_owned()]));
    // No CN either: nothing names a host.
    let mut params = ca_params("x", &[]);
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "org");
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params.signed_by(&key, &root).expect("cert");
    assert_eq!(
        presented(verify(&v, cert.der(), "db.example")),
        Some(vec![])
    );
}

#[test]
fn a_certificate_webpki_verifies_but_for_names_of_another_kind_is_named_by_libpq_s_rules() {
    // CA:FALSE, signed by a root: webpki checks the chain and refuses the name, libpq's
    // rule compares the CN when no subjectAltName entry is of the host's kind.
    let root = root("root");
    let key = KeyPair::generate().expect("key");
    let v = verifier(&[root.der()], true);
    let leaf = |cn: &str, names: Vec<SanType>| {
        let mut params = ca_params(cn, &[]);
        params.subject_alt_names = names;
        params.is_ca = IsCa::ExplicitNoCa;
        params.signed_by(&key, &root).expect("cert")
    };
    let dns = |name: &str| SanType::DnsName(name.try_into().expect("dNSName"));
    let ip = |text: &str| SanType::IpAddress(text.parse().expect("address"));
    // Only dNSNames, connected to by address: the CN.
    let cert = leaf("127.0.0.1", vec![dns("db.example")]);
    verify(&v, cert.der(), "127.0.0.1").expect("the CN, for an address");
    verify(&v, cert.der(), "db.example").expect("the dNSName");
    assert_eq!(
        presented(verify(&v, cert.der(), "127.0.0.2")),
        Some(vec!["db.example".to_owned(), "127.0.0.1".to_owned()])
    );
    // Only iPAddresses, connected to by name: the CN.
    let cert = leaf("db.example", vec![ip("10.0.0.1")]);
    verify(&v, cert.der(), "db.example").expect("the CN, for a name");
    verify(&v, cert.der(), "10.0.0.1").expect("the iPAddress");
    assert_eq!(
        presented(verify(&v, cert.der(), "other.example")),
        Some(vec!["10.0.0.1".to_owned(), "db.example".to_owned()])
    );
    // Only a URI, which names no host: the CN.
    let uri = SanType::URI("https://db.example/".try_into().expect("URI"));
    let cert = leaf("db.example", vec![uri]);
    verify(&v, cert.der(), "db.example").expect("the CN, beside a URI");
    // An entry of the host's kind hides the CN.
    let cert = leaf("127.0.0.1", vec![ip("10.0.0.1")]);
    assert_eq!(
        presented(verify(&v, cert.der(), "127.0.0.1")),
        Some(vec!["10.0.0.1".to_owned()])
    );
    let cert = leaf("db.example", vec![dns("san.example")]);
    assert_eq!(
        presented(verify(&v, cert.der(), "db.example")),
        Some(vec!["san.example".to_owned()])
    );
    // A dNSName spelling an address matches that address, as text (libpq's comparison).
    let cert = leaf("x", vec![dns("10.0.0.9")]);
    verify(&v, cert.der(), "10.0.0.9").expect("the dNSName, as text");
}

#[test]
fn dates_purpose_and_the_signer_s_authority_still_count() {
    let root = root("root");
    let key = KeyPair::generate().expect("key");
    let v = verifier(&[root.der()], true);
    let params = valid_from_to(ca_params("db.example", &[]), 2000, 2001);
    let expired = params.signed_by(&key, &root).expect("cert");
    let r = cert_error(verify(&v, expired.der(), "db.example"));
    assert!(
        matches!(r, CertificateError::ExpiredContext { .. }),
        "{r:?}"
    );
    let params = valid_from_to(ca_params("db.example", &[]), 2999, 3000);
    let future = params.signed_by(&key, &root).expect("cert");
    let r = cert_error(verify(&v, future.der(), "db.example"));
    assert!(
        matches!(r, CertificateError::NotValidYetContext { .. }),
        "{r:?}"
    );
    // A client's certificate is not a server's.
    let mut params = ca_params("db.example", &[]);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = params.signed_by(&key, &root).expect("cert");
    let r = cert_error(verify(&v, client.der(), "db.example"));
    assert_eq!(r, CertificateError::InvalidPurpose);
    // A "root" that is no CA vouches for nothing.
    let mut params = ca_params("not a ca", &[]);
    params.is_ca = IsCa::ExplicitNoCa;
    let not_ca =
        CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("issuer");
    let cert = ca_params("db.example", &[])
        .signed_by(&key, &not_ca)
        .expect("cert");
    let r = verify(&verifier(&[not_ca.der()], true), cert.der(), "db.example");
    let refused = format!("{:?}", cert_error(r));
    assert!(refused.contains("not a CA certificate"), "{refused}");
}

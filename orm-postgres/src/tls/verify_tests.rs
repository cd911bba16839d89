//! The checks of the certificates webpki refuses, called directly. (rcgen makes no version 1
//! certificate: the ones here were made once by `openssl` and are kept as PEM text; the
//! integration tests of `tests/tests/connect/certs.rs` make theirs at run time.)

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints,
    SanType,
};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};

use super::Verified;

/// `CA:TRUE`, common name `cn`, subjectAltName `names` (none: no extension).
fn ca_params(cn: &str, names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
}

fn root(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = ca_params(cn, &[]);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("root")
}

/// The verifier of `verify-full` (`check_name`) or `verify-ca`, trusting `roots`.
fn verifier(roots: &[&CertificateDer<'static>], check_name: bool) -> Verified {
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

fn verify(v: &Verified, cert: &CertificateDer<'_>, host: &str) -> Result<(), rustls::Error> {
    let host = ServerName::try_from(host).expect("host").to_owned();
    v.verify_server_cert(cert, &[], &host, &[], UnixTime::now())
        .map(drop)
}

fn cert_error(r: Result<(), rustls::Error>) -> CertificateError {
    match r {
        Err(rustls::Error::InvalidCertificate(e)) => e,
        other => panic!("not a certificate error: {other:?}"),
    }
}

/// The names a name error lists (`None`: not a name error).
fn presented(r: Result<(), rustls::Error>) -> Option<Vec<String>> {
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

/// A root (`openssl req -x509`, EC P-256), a version 1 intermediate CA it signed (`openssl
/// x509 -req` without -extfile) and a version 3 certificate for `db.example` the
/// intermediate signed, all valid from 2026-12-08 for 100 years.
const OLD_INTERMEDIATE_ROOT: &str = "-----BEGIN CERTIFICATE-----
MIIBhDCCASugAwIBAgIUc5U68Z8Q305BtLWOYZb2vQCb7HswCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdjEgdGVzdCByb290MCAXDTI2MTIwODAwNTEyMVoYDzIxMjYx
MTE0MDA1MTIxWjAXMRUwEwYDVQQDDAx2MSB0ZXN0IHJvb3QwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAS5WHUPaL2+/9UiTl+jSFTFtcvcUAfq6ja5IOXvjiQ79+aY
AJMYyY/bgWJXu9OmDJbzkZktpih2hGa4A5aISkJco1MwUTAdBgNVHQ4EFgQUPW5z
nfIG49J5cYlHb8wHIhXOQbEwHwYDVR0jBBgwFoAUPW5znfIG49J5cYlHb8wHIhXO
QbEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBr9rDzCgbBrbKu
tvWMvft3wY0rI4M3ZSwWKaGtOycpSwIgaB69/QcNqs6+DKbDjE+gqaXkrRbm7g/z
/taVZOvGmqU=
-----END CERTIFICATE-----
";
const OLD_INTERMEDIATE: &str = "-----BEGIN CERTIFICATE-----
MIIBLjCB1AIUBZHCdLaTaOVsd7nqZUwKrVq/4jMwCgYIKoZIzj0EAwIwFzEVMBMG
A1UEAwwMdjEgdGVzdCByb290MCAXDTI2MTIwODAwNTEyMVoYDzIxMjYxMTE0MDA1
MTIxWjAaMRgwFgYDVQQDDA92MSBpbnRlcm1lZGlhdGUwWTATBgcqhkjOPQIBBggq
hkjOPQMBBwNCAATIDnqbNSKqFh+aIIIIyvqDdwUecHJfeiQHMu+mgZjreOsBIaRH
bQCJbDoyBG7QVnWta454jzJEL8SZhMxToTOJMAoGCCqGSM49BAMCA0kAMEYCIQDR
oeJ75K9xkedVZJiTlnAQHPt3aBBINDFoEjWJJ9bBxgIhAPdaQn8LjjMvqKn1s7jp
Zu6ccKYw3CZmHUFqZyTh1gMH
-----END CERTIFICATE-----
";
const UNDER_OLD_INTERMEDIATE: &str = "-----BEGIN CERTIFICATE-----
MIIBqTCCAU+gAwIBAgIUGr1YW8o9mltVy/NpdNfK0XdHlI0wCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPdjEgaW50ZXJtZWRpYXRlMCAXDTI2MTIwODAwNTEyMVoYDzIx
MjYxMTE0MDA1MTIxWjAVMRMwEQYDVQQDDApkYi5leGFtcGxlMFkwEwYHKoZIzj0C
AQYIKoZIzj0DAQcDQgAEt6PCegW4IYWfMHGOk9oGMOg9FopRLGraUt92JudzkqXF
AZ1ctglneVu/0Hb0ZKHP1MF+wCOLvIEmWihd0T5f5qN2MHQwFQYDVR0RBA4wDIIK
ZGIuZXhhbXBsZTAdBgNVHQ4EFgQU+6WnG9AZaliKGCAbg9OfDpK3F6MwPAYDVR0j
BDUwM6EbpBkwFzEVMBMGA1UEAwwMdjEgdGVzdCByb290ghQFkcJ0tpNo5Wx3uepl
TAqtWr/iMzAKBggqhkjOPQQDAgNIADBFAiEAzIY7+aLHeWtan760VQxchAZtLxWq
3MwcWZChJJIqoxwCIAWNSA1wz87meudP5mFXWTOb9vimi+YbEMc8nQQlUjwU
-----END CERTIFICATE-----
";

/// A version 1 certificate for `db.example` that [`OLD_INTERMEDIATE`] signed (`openssl x509
/// -req` without -extfile), valid from 2026-12-08 for 100 years.
const UNDER_OLD_INTERMEDIATE_V1: &str = "-----BEGIN CERTIFICATE-----
MIIBLDCB0gIUGr1YW8o9mltVy/NpdNfK0XdHlI4wCgYIKoZIzj0EAwIwGjEYMBYG
A1UEAwwPdjEgaW50ZXJtZWRpYXRlMCAXDTI2MTIwODAxMTYzN1oYDzIxMjYxMTE0
MDExNjM3WjAVMRMwEQYDVQQDDApkYi5leGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZI
zj0DAQcDQgAEvWUG2I3/20j5YqHnUUsh77DbbYUiSB6fMFLrNWNDLNWtCcfml5/9
0ZCWBb9CD3AeuU4ofI/mAzXFWGZHF3GdtzAKBggqhkjOPQQDAgNJADBGAiEAp83c
8Qot25+kFlnG5jFlEzdHWpnxr0SQYAIF+i1GD4ECIQDFjIEh56kR8r3Spynfor5w
5RxuWcBrS4Bft1lZT/0q7A==
-----END CERTIFICATE-----
";

fn pem(text: &str) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(text.as_bytes()).expect("PEM")
}

/// `year`-01-01 (roughly: 365.25-day years).
fn in_year(year: u64) -> UnixTime {
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
fn a_version_1_intermediate_is_named_as_the_old_certificate_not_the_server_s() {
    let (root, intermediate, leaf) = (
        pem(OLD_INTERMEDIATE_ROOT),
        pem(OLD_INTERMEDIATE),
        pem(UNDER_OLD_INTERMEDIATE),
    );
    let host = ServerName::try_from("db.example").expect("host");
    let now = in_year(2030);
    let sent = [intermediate.clone()];
    let v = verifier(&[&root], true);
    let r = v.verify_server_cert(&leaf, &sent, &host, &[], now);
    let message = r.map(drop).expect_err("refused").to_string();
    assert!(
        message.contains("a certificate the server sent besides its own"),
        "{message}"
    );
    assert!(message.contains("version 1"), "{message}");
    assert!(!message.contains("sslrootcert"), "{message}");
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

/// An intermediate CA that `root` signed, from `params` (a CA allowed to sign unless they
/// say otherwise).
fn intermediate(
    params: CertificateParams,
    root: &CertifiedIssuer<'static, KeyPair>,
) -> CertifiedIssuer<'static, KeyPair> {
    CertifiedIssuer::signed_by(params, KeyPair::generate().expect("key"), root)
        .expect("intermediate")
}

/// `params`, valid from January 1st of year `from` to January 1st of year `to`.
fn valid_from_to(mut params: CertificateParams, from: i32, to: i32) -> CertificateParams {
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    params
}

fn ca_for_signing(cn: &str) -> CertificateParams {
    let mut params = ca_params(cn, &[]);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params
}

#[test]
fn a_ca_certificate_signed_by_an_intermediate_a_root_signed_is_verified() {
    let root = root("root");
    let inter = intermediate(ca_for_signing("intermediate"), &root);
    let key = KeyPair::generate().expect("key");
    let cert = ca_params("db.example", &[])
        .signed_by(&key, &inter)
        .expect("cert");
    let host = ServerName::try_from("db.example").expect("host");
    let check = |v: &Verified, sent: &[CertificateDer<'static>], cert: &CertificateDer<'_>| {
        v.verify_server_cert(cert, sent, &host, &[], UnixTime::now())
            .map(drop)
    };
    let sent = [inter.der().clone()];
    for check_name in [true, false] {
        check(&verifier(&[root.der()], check_name), &sent, cert.der()).expect("the manual's chain");
    }
    // The intermediate must be sent; the names still count.
    let v = verifier(&[root.der()], true);
    assert_eq!(
        cert_error(check(&v, &[], cert.der())),
        CertificateError::UnknownIssuer
    );
    let other = ServerName::try_from("other.example").expect("host");
    let r = v.verify_server_cert(cert.der(), &sent, &other, &[], UnixTime::now());
    assert_eq!(presented(r.map(drop)), Some(vec!["db.example".to_owned()]));
    // A byte of the server's certificate's signature flipped.
    let mut tampered = cert.der().to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 0x01;
    }
    let r = check(&v, &sent, &CertificateDer::from(tampered));
    assert_eq!(cert_error(r), CertificateError::BadSignature);
    // The intermediate signed by another root: unknown.
    let stranger = intermediate(ca_for_signing("intermediate"), &self::root("other"));
    let cert_of_stranger = ca_params("db.example", &[])
        .signed_by(&key, &stranger)
        .expect("cert");
    let r = check(&v, &[stranger.der().clone()], cert_of_stranger.der());
    assert_eq!(cert_error(r), CertificateError::UnknownIssuer);
}

#[test]
fn an_intermediate_and_its_root_must_be_cas_that_may_sign_for_tls_servers_valid_now() {
    let key = KeyPair::generate().expect("key");
    let host = ServerName::try_from("db.example").expect("host");
    // The message of verifying a CA certificate for db.example that `inter` signed, sent
    // with it, under `root`.
    let refusal = |root: &CertifiedIssuer<'static, KeyPair>,
                   inter: &CertifiedIssuer<'static, KeyPair>| {
        let cert = ca_params("db.example", &[])
            .signed_by(&key, inter)
            .expect("cert");
        let v = verifier(&[root.der()], true);
        let sent = [inter.der().clone()];
        v.verify_server_cert(cert.der(), &sent, &host, &[], UnixTime::now())
            .map(drop)
            .expect_err("refused")
    };
    let root = self::root("root");
    let mut params = ca_for_signing("intermediate");
    params.is_ca = IsCa::ExplicitNoCa;
    let e = refusal(&root, &intermediate(params, &root)).to_string();
    assert!(
        e.contains("intermediate certificate the server sent is not a CA"),
        "{e}"
    );
    let mut params = ca_for_signing("intermediate");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let e = refusal(&root, &intermediate(params, &root)).to_string();
    assert!(e.contains("keyUsage without keyCertSign"), "{e}");
    let mut params = ca_for_signing("intermediate");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let e = refusal(&root, &intermediate(params, &root));
    assert_eq!(cert_error(Err(e)), CertificateError::InvalidPurpose);
    let params = valid_from_to(ca_for_signing("intermediate"), 2000, 2001);
    let e = refusal(&root, &intermediate(params, &root)).to_string();
    assert!(
        e.contains("intermediate CA certificate the server sent has expired"),
        "{e}"
    );
    let mut params = ca_for_signing("intermediate");
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("example".into())],
        excluded_subtrees: Vec::new(),
    });
    let e = refusal(&root, &intermediate(params, &root)).to_string();
    assert!(
        e.contains("intermediate CA certificate the server sent has name constraints"),
        "{e}"
    );
    let mut params = ca_for_signing("intermediate");
    let mut unknown = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
    unknown.set_criticality(true);
    params.custom_extensions = vec![unknown];
    let e = refusal(&root, &intermediate(params, &root)).to_string();
    assert!(e.contains("critical extension"), "{e}");
    let params = valid_from_to(ca_for_signing("intermediate"), 2999, 3000);
    let e = refusal(&root, &intermediate(params, &root)).to_string();
    assert!(
        e.contains("intermediate CA certificate the server sent is not valid yet"),
        "{e}"
    );
    // An expired root above the intermediate.
    let params = valid_from_to(ca_for_signing("old root"), 2000, 2001);
    let old =
        CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("root");
    let e = refusal(&old, &intermediate(ca_for_signing("intermediate"), &old)).to_string();
    assert!(
        e.contains("root certificate that signed the server's has expired"),
        "{e}"
    );
    // A root that allows no intermediate below it.
    let mut params = ca_for_signing("strict root");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let strict =
        CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("root");
    let e = refusal(
        &strict,
        &intermediate(ca_for_signing("intermediate"), &strict),
    );
    assert!(e.to_string().contains("pathLenConstraint"), "{e}");
    // Two intermediates: webpki's refusal, unchanged.
    let first = intermediate(ca_for_signing("first"), &root);
    let second = intermediate(ca_for_signing("second"), &first);
    let cert = ca_params("db.example", &[])
        .signed_by(&key, &second)
        .expect("cert");
    let sent = [second.der().clone(), first.der().clone()];
    let r = verifier(&[root.der()], false).verify_server_cert(
        cert.der(),
        &sent,
        &host,
        &[],
        UnixTime::now(),
    );
    let refused = format!("{:?}", cert_error(r.map(drop)));
    assert!(refused.contains("CaUsedAsEndEntity"), "{refused}");
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

#[test]
fn a_version_1_certificate_under_a_version_1_intermediate_is_refused_as_openssl_does() {
    // OpenSSL takes a version 1 certificate for a CA only when it is self-signed.
    let root = pem(OLD_INTERMEDIATE_ROOT);
    let host = ServerName::try_from("db.example").expect("host");
    let sent = [pem(OLD_INTERMEDIATE)];
    let r = verifier(&[&root], false).verify_server_cert(
        &pem(UNDER_OLD_INTERMEDIATE_V1),
        &sent,
        &host,
        &[],
        in_year(2030),
    );
    let message = r.map(drop).expect_err("refused").to_string();
    assert!(
        message.contains("intermediate certificate the server sent is not a CA"),
        "{message}"
    );
}

#[test]
fn the_intermediate_path_checks_every_signature_and_every_certificate() {
    let root = root("root");
    let inter = intermediate(ca_for_signing("intermediate"), &root);
    let key = KeyPair::generate().expect("key");
    let cert = ca_params("db.example", &[])
        .signed_by(&key, &inter)
        .expect("cert");
    let host = ServerName::try_from("db.example").expect("host");
    let verify_with = |roots: &[&CertificateDer<'static>], sent: &[CertificateDer<'static>]| {
        verifier(roots, true)
            .verify_server_cert(cert.der(), sent, &host, &[], UnixTime::now())
            .map(drop)
    };
    // An intermediate of the same name that another root's key signed (a root of the same
    // name too): the trusted root's signature over it does not verify.
    let impostor_root = self::root("root");
    let impostor = intermediate(ca_for_signing("intermediate"), &impostor_root);
    let impostor_cert = ca_params("db.example", &[])
        .signed_by(&key, &impostor)
        .expect("cert");
    let r = verifier(&[root.der()], true).verify_server_cert(
        impostor_cert.der(),
        &[impostor.der().clone()],
        &host,
        &[],
        UnixTime::now(),
    );
    assert_eq!(cert_error(r.map(drop)), CertificateError::BadSignature);
    // A byte of the intermediate's signature flipped.
    let mut tampered = inter.der().to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 0x01;
    }
    let r = verify_with(&[root.der()], &[CertificateDer::from(tampered)]);
    assert_eq!(cert_error(r), CertificateError::BadSignature);
    // Sent: a certificate of the intermediate's name with another key (the root signed it),
    // which did not sign the server's.
    let other_key = intermediate(ca_for_signing("intermediate"), &root);
    let r = verify_with(&[root.der()], &[other_key.der().clone()]);
    assert_eq!(cert_error(r), CertificateError::BadSignature);
    // An older copy of the intermediate (another key) among the roots does not stop the
    // intermediate the server sends.
    let stale = CertifiedIssuer::self_signed(
        ca_for_signing("intermediate"),
        KeyPair::generate().expect("key"),
    )
    .expect("stale copy");
    verify_with(&[root.der(), stale.der()], &[inter.der().clone()])
        .expect("through the sent intermediate");
    // The server sends its own self-signed root, which the client does not trust: an unknown
    // issuer, not a longer chain.
    let own_root = self::root("own root");
    let own_inter = intermediate(ca_for_signing("own intermediate"), &own_root);
    let own_cert = ca_params("db.example", &[])
        .signed_by(&key, &own_inter)
        .expect("cert");
    let r = verifier(&[root.der()], true).verify_server_cert(
        own_cert.der(),
        &[own_inter.der().clone(), own_root.der().clone()],
        &host,
        &[],
        UnixTime::now(),
    );
    assert_eq!(cert_error(r.map(drop)), CertificateError::UnknownIssuer);
}

#[test]
fn a_common_name_under_a_name_constrained_ca_is_refused() {
    // webpki checks name constraints against the subjectAltName only; OpenSSL checks the CN a
    // host matches by too. A CA limited to `corp.example` cannot vouch for `db.other` by CN.
    let root = root("root");
    let mut params = ca_for_signing("constrained");
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("corp.example".into())],
        excluded_subtrees: Vec::new(),
    });
    let constrained = intermediate(params, &root);
    let free = intermediate(ca_for_signing("free"), &root);
    let key = KeyPair::generate().expect("key");
    let leaf = |issuer: &CertifiedIssuer<'static, KeyPair>| {
        let mut params = ca_params("db.other", &[]);
        params.subject_alt_names = vec![SanType::IpAddress("10.0.0.1".parse().expect("ip"))];
        params.is_ca = IsCa::ExplicitNoCa;
        params.signed_by(&key, issuer).expect("cert")
    };
    let host = ServerName::try_from("db.other").expect("host");
    let v = verifier(&[root.der()], true);
    let cert = leaf(&constrained);
    let r = v.verify_server_cert(
        cert.der(),
        &[constrained.der().clone()],
        &host,
        &[],
        UnixTime::now(),
    );
    let e = r.map(drop).expect_err("refused").to_string();
    assert!(e.contains("name constraints"), "{e}");
    // The same certificate from a CA without constraints: its CN names the host.
    let cert = leaf(&free);
    v.verify_server_cert(
        cert.der(),
        &[free.der().clone()],
        &host,
        &[],
        UnixTime::now(),
    )
    .expect("the CN");
    // verify-ca checks no name.
    let cert = leaf(&constrained);
    verifier(&[root.der()], false)
        .verify_server_cert(
            cert.der(),
            &[constrained.der().clone()],
            &host,
            &[],
            UnixTime::now(),
        )
        .expect("verify-ca");
}

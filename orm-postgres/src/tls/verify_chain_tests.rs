//! The checks of a chain through an intermediate CA the server sends (the PostgreSQL
//! manual's recipe for one), and of the names such chains and name-constrained CAs allow.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use rustls::CertificateError;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::Verified;
use super::tests::{ca_params, cert_error, in_year, pem, presented, root, valid_from_to, verifier};

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

/// What verifying `cert`, sent with `sent`, for `host` at `now` says, trusting `roots`
/// (`check_name`: verify-full, else verify-ca).
fn verify_sent(
    roots: &[&CertificateDer<'static>],
    check_name: bool,
    cert: &CertificateDer<'_>,
    sent: &[CertificateDer<'static>],
    host: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    verifier(roots, check_name)
        .verify_server_cert(cert, sent, host, &[], now)
        .map(drop)
}

/// A root, an intermediate CA it signed, and a CA certificate for `db.example` (the server's,
/// with its key) that the intermediate signed: [`chain_named`].
struct Chain {
    root: CertifiedIssuer<'static, KeyPair>,
    inter: CertifiedIssuer<'static, KeyPair>,
    key: KeyPair,
    cert: rcgen::Certificate,
    host: ServerName<'static>,
}

/// A [`Chain`] of a root named `root_cn` and an intermediate named `inter_cn`.
fn chain_named(root_cn: &str, inter_cn: &str) -> Chain {
    let root = root(root_cn);
    let inter = intermediate(ca_for_signing(inter_cn), &root);
    let key = KeyPair::generate().expect("key");
    let cert = ca_params("db.example", &[])
        .signed_by(&key, &inter)
        .expect("cert");
    let host = ServerName::try_from("db.example").expect("host");
    Chain {
        root,
        inter,
        key,
        cert,
        host,
    }
}

/// A server certificate (CA:FALSE) that `issuer` signed, named by its CN `cn`, with only an
/// iPAddress (10.0.0.1) in its subjectAltName: a name host is matched by the CN.
fn named_by_cn_only(cn: &str, issuer: &CertifiedIssuer<'static, KeyPair>) -> rcgen::Certificate {
    let mut params = ca_params(cn, &[]);
    params.subject_alt_names = vec![SanType::IpAddress("10.0.0.1".parse().expect("ip"))];
    params.is_ca = IsCa::ExplicitNoCa;
    params
        .signed_by(&KeyPair::generate().expect("key"), issuer)
        .expect("cert")
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

fn ca_for_signing(cn: &str) -> CertificateParams {
    let mut params = ca_params(cn, &[]);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params
}

#[test]
fn a_ca_certificate_signed_by_an_intermediate_a_root_signed_is_verified() {
    let Chain {
        root,
        inter,
        key,
        cert,
        host,
    } = chain_named("root", "intermediate");
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
        let sent = [inter.der().clone()];
        verify_sent(
            &[root.der()],
            true,
            cert.der(),
            &sent,
            &host,
            UnixTime::now(),
        )
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
    let r = verify_sent(
        &[root.der()],
        false,
        cert.der(),
        &sent,
        &host,
        UnixTime::now(),
    );
    let refused = format!("{:?}", cert_error(r.map(drop)));
    assert!(refused.contains("CaUsedAsEndEntity"), "{refused}");
}

#[test]
fn the_intermediate_path_checks_every_signature_and_every_certificate() {
    let Chain {
        root,
        inter,
        cert,
        host,
        ..
    } = chain_named("root", "intermediate");
    let verify_with = |roots: &[&CertificateDer<'static>], sent: &[CertificateDer<'static>]| {
        verifier(roots, true)
            .verify_server_cert(cert.der(), sent, &host, &[], UnixTime::now())
            .map(drop)
    };
    // An intermediate of the same name that another root's key signed (a root of the same
    // name too): the trusted root's signature over it does not verify.
    let impostor = chain_named("root", "intermediate");
    let r = verify_sent(
        &[root.der()],
        true,
        impostor.cert.der(),
        &[impostor.inter.der().clone()],
        &host,
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
    let own = chain_named("own root", "own intermediate");
    let r = verify_sent(
        &[root.der()],
        true,
        own.cert.der(),
        &[own.inter.der().clone(), own.root.der().clone()],
        &host,
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
    let leaf = |issuer: &CertifiedIssuer<'static, KeyPair>| named_by_cn_only("db.other", issuer);
    let host = ServerName::try_from("db.other").expect("host");
    let cert = leaf(&constrained);
    let r = verify_sent(
        &[root.der()],
        true,
        cert.der(),
        &[constrained.der().clone()],
        &host,
        UnixTime::now(),
    );
    let e = r.map(drop).expect_err("refused").to_string();
    assert!(e.contains("name constraints"), "{e}");
    // The same certificate from a CA without constraints: its CN names the host.
    let cert = leaf(&free);
    verify_sent(
        &[root.der()],
        true,
        cert.der(),
        &[free.der().clone()],
        &host,
        UnixTime::now(),
    )
    .expect("the CN");
    // verify-ca checks no name.
    let cert = leaf(&constrained);
    verify_sent(
        &[root.der()],
        false,
        cert.der(),
        &[constrained.der().clone()],
        &host,
        UnixTime::now(),
    )
    .expect("verify-ca");
}

#[test]
fn a_certificate_of_the_chain_that_cannot_be_read_counts_as_name_constrained() {
    // webpki reads a serial number past 20 bytes, x509-cert does not: a sub-CA with one must
    // not hide the constrained root above it from the common-name check.
    let mut params = ca_for_signing("constrained root");
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("corp.example".into())],
        excluded_subtrees: Vec::new(),
    });
    let root =
        CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("root");
    let host = ServerName::try_from("db.other").expect("host");
    for serial in [vec![0x11; 8], vec![0x11; 25]] {
        let mut params = ca_for_signing("sub");
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let sub = intermediate(params, &root);
        let cert = named_by_cn_only("db.other", &sub);
        let r = verify_sent(
            &[root.der()],
            true,
            cert.der(),
            &[sub.der().clone()],
            &host,
            UnixTime::now(),
        );
        let e = r.map(drop).expect_err("refused").to_string();
        assert!(
            e.contains("name constraints"),
            "{} bytes: {e}",
            serial.len()
        );
    }
}

#[test]
fn an_address_written_as_a_dns_name_under_a_name_constrained_ca_is_refused() {
    // An iPAddress constraint never sees an address written as a dNSName.
    let root = root("root");
    let mut params = ca_for_signing("constrained");
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4(
            [192, 168, 0, 0],
            [255, 255, 0, 0],
        ))],
        excluded_subtrees: Vec::new(),
    });
    let constrained = intermediate(params, &root);
    let mut params = ca_params("x", &[]);
    params.subject_alt_names = vec![SanType::DnsName("10.0.0.9".try_into().expect("dNSName"))];
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params
        .signed_by(&KeyPair::generate().expect("key"), &constrained)
        .expect("cert");
    let host = ServerName::try_from("10.0.0.9").expect("host");
    let r = verify_sent(
        &[root.der()],
        true,
        cert.der(),
        &[constrained.der().clone()],
        &host,
        UnixTime::now(),
    );
    let e = r.map(drop).expect_err("refused").to_string();
    assert!(e.contains("name constraints"), "{e}");
}

#[test]
fn the_server_s_certificate_s_two_algorithm_fields_must_agree_whoever_signed_it() {
    // A version 1 certificate (the fallback's) naming ecdsa-with-SHA384 inside and
    // ecdsa-with-SHA256 outside, validly signed by a sent intermediate.
    use rcgen::SigningKey;
    use x509_cert::der::asn1::BitString;
    use x509_cert::der::{Decode, Encode};
    let root = root("root");
    let inter_key = KeyPair::generate().expect("key");
    let signer = KeyPair::from_pem(&inter_key.serialize_pem()).expect("the same key");
    let inter = CertifiedIssuer::signed_by(ca_for_signing("intermediate"), inter_key, &root)
        .expect("intermediate");
    let cert = ca_params("db.example", &[])
        .signed_by(&KeyPair::generate().expect("key"), &inter)
        .expect("cert");
    let mut parsed = x509_cert::Certificate::from_der(cert.der().as_ref()).expect("parsed");
    parsed.tbs_certificate.version = x509_cert::certificate::Version::V1;
    parsed.tbs_certificate.extensions = None;
    let v = verifier(&[root.der()], false);
    let host = ServerName::try_from("db.example").expect("host");
    for mismatch in [false, true] {
        if mismatch {
            parsed.tbs_certificate.signature.oid =
                x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
        }
        let tbs = parsed.tbs_certificate.to_der().expect("tbs");
        parsed.signature =
            BitString::from_bytes(&signer.sign(&tbs).expect("signed")).expect("bits");
        let der = CertificateDer::from(parsed.to_der().expect("der"));
        let r = v
            .verify_server_cert(&der, &[inter.der().clone()], &host, &[], UnixTime::now())
            .map(drop);
        match mismatch {
            false => r.expect("agreeing fields"),
            true => assert_eq!(cert_error(r), CertificateError::BadSignature),
        }
    }
}

#[test]
fn what_is_wrong_above_the_intermediate_that_signed_is_the_answer() {
    // An older copy of the intermediate among the roots (it did not sign the server's
    // certificate), and the intermediate the server sends, which did, expired.
    let root = root("root");
    let inter = intermediate(
        valid_from_to(ca_for_signing("intermediate"), 2000, 2001),
        &root,
    );
    let stale = CertifiedIssuer::self_signed(
        ca_for_signing("intermediate"),
        KeyPair::generate().expect("key"),
    )
    .expect("stale copy");
    let cert = ca_params("db.example", &[])
        .signed_by(&KeyPair::generate().expect("key"), &inter)
        .expect("cert");
    let host = ServerName::try_from("db.example").expect("host");
    let r = verify_sent(
        &[root.der(), stale.der()],
        true,
        cert.der(),
        &[inter.der().clone()],
        &host,
        UnixTime::now(),
    );
    let e = r.map(drop).expect_err("refused").to_string();
    assert!(
        e.contains("intermediate CA certificate the server sent has expired"),
        "{e}"
    );
}

#[test]
fn a_version_1_certificate_under_a_version_1_intermediate_is_refused_as_openssl_does() {
    // OpenSSL takes a version 1 certificate for a CA only when it is self-signed.
    let root = pem(OLD_INTERMEDIATE_ROOT);
    let host = ServerName::try_from("db.example").expect("host");
    let sent = [pem(OLD_INTERMEDIATE)];
    let r = verify_sent(
        &[&root],
        false,
        &pem(UNDER_OLD_INTERMEDIATE_V1),
        &sent,
        &host,
        in_year(2030),
    );
    let message = r.map(drop).expect_err("refused").to_string();
    assert!(
        message.contains("intermediate certificate the server sent is not a CA"),
        "{message}"
    );
}

#[test]
fn two_common_names_in_one_set_name_no_host() {
    // `CN=evil.example+CN=db.example` as one RDN: x509-cert sorts the set, OpenSSL keeps the
    // certificate's order, so which one libpq compares is not known here: neither names it.
    use rcgen::SigningKey;
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::der::asn1::{BitString, SetOfVec};
    use x509_cert::der::{Any, Decode, Encode, Tag};
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};
    let root_key = KeyPair::generate().expect("key");
    let signer = KeyPair::from_pem(&root_key.serialize_pem()).expect("the same key");
    let root = CertifiedIssuer::self_signed(ca_for_signing("root"), root_key).expect("root");
    let cert = named_by_cn_only("x", &root);
    let mut parsed = x509_cert::Certificate::from_der(cert.der().as_ref()).expect("parsed");
    let common_name = |name: &str| AttributeTypeAndValue {
        oid: x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.4.3"),
        value: Any::new(Tag::Utf8String, name.as_bytes()).expect("value"),
    };
    let set = SetOfVec::try_from(vec![common_name("evil.example"), common_name("db.example")])
        .expect("set");
    parsed.tbs_certificate.subject = RdnSequence(vec![RelativeDistinguishedName(set)]);
    let tbs = parsed.tbs_certificate.to_der().expect("tbs");
    parsed.signature = BitString::from_bytes(&signer.sign(&tbs).expect("signed")).expect("bits");
    let der = CertificateDer::from(parsed.to_der().expect("der"));
    for host in ["db.example", "evil.example"] {
        let host = ServerName::try_from(host).expect("host");
        let r = verify_sent(&[root.der()], true, &der, &[], &host, UnixTime::now());
        assert_eq!(presented(r), Some(vec!["10.0.0.1".to_owned()]), "{host:?}");
    }
    // One common name per set: the first names the host, as in libpq.
    let cert = named_by_cn_only("db.example", &root);
    let host = ServerName::try_from("db.example").expect("host");
    verify_sent(&[root.der()], true, cert.der(), &[], &host, UnixTime::now()).expect("the CN");
}

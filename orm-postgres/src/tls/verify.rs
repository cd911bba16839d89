//! The server-certificate checks of each `sslmode`: none at all (libpq's `prefer` and
//! `require` without a root certificate: encrypted, but any server is believed), the chain
//! without the host name (`verify-ca`, and `prefer`/`require` with a root certificate), and
//! the chain and the name (`verify-full`). All check the handshake signatures, so the server
//! must hold the certificate's key.
//!
//! The chain and the name are rustls's WebPKI verifier's, except for what it refuses and
//! libpq (OpenSSL) verifies, which is what `openssl` makes unless told otherwise (the
//! PostgreSQL manual's recipes among them): a version 1 certificate and a CA certificate as the
//! server's own are trusted by `fallback.rs` (only as the root itself, signed directly by a
//! root, or by an intermediate CA the server sends that a root signed), and a host name webpki
//! finds in no subjectAltName entry is checked by libpq's rules, by `names.rs` (the common name
//! when no entry is of the host's kind; an address against the dNSNames as text), except such
//! a match by text under a CA with name constraints, which webpki checks against the
//! subjectAltName entries of the host's kind only (OpenSSL checks the CN too). Any other
//! refusal is webpki's, unchanged.
//!
//! A certificate webpki refuses to parse (a version 1 certificate, an unknown critical
//! extension) has its handshake signatures checked with its public key alone.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, PeerMisbehaved, SignatureScheme};

use super::{fallback, names};

/// Believes any certificate (libpq's `prefer` and `require` without a root certificate).
#[derive(Debug)]
pub(super) struct AcceptAny {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AcceptAny {
    pub(super) fn new(provider: &CryptoProvider) -> AcceptAny {
        AcceptAny {
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A TLS 1.2 handshake signature made with `cert`'s key: rustls's check, or, for a certificate
/// webpki refuses to parse, the same check with the certificate's public key alone.
fn verify_tls12_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algorithms: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    match rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms) {
        Err(rustls::Error::InvalidCertificate(_)) => {
            // TLS 1.2 names no single algorithm: each of the scheme's is tried, as rustls does.
            let spki = public_key(cert)?;
            let key = webpki::RawPublicKeyEntity::try_from(&spki).map_err(|_| bad_encoding())?;
            let (_, candidates) = algorithms
                .mapping
                .iter()
                .find(|(scheme, _)| *scheme == dss.scheme)
                .ok_or(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)?;
            candidates
                .iter()
                .find(|alg| {
                    key.verify_signature(**alg, message, dss.signature())
                        .is_ok()
                })
                .map(|_| HandshakeSignatureValid::assertion())
                .ok_or(rustls::Error::InvalidCertificate(
                    CertificateError::BadSignature,
                ))
        }
        other => other,
    }
}

/// A TLS 1.3 handshake signature made with `cert`'s key (see [`verify_tls12_signature`]).
fn verify_tls13_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algorithms: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    match rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms) {
        Err(rustls::Error::InvalidCertificate(_)) => {
            rustls::crypto::verify_tls13_signature_with_raw_key(
                message,
                &public_key(cert)?,
                dss,
                algorithms,
            )
        }
        other => other,
    }
}

fn bad_encoding() -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
}

/// The public key (SubjectPublicKeyInfo) of a certificate webpki refuses to parse.
fn public_key(
    cert: &CertificateDer<'_>,
) -> Result<SubjectPublicKeyInfoDer<'static>, rustls::Error> {
    use x509_cert::der::{Decode, Encode};
    let parsed = x509_cert::Certificate::from_der(cert.as_ref()).map_err(|_| bad_encoding())?;
    let spki = parsed
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| bad_encoding())?;
    Ok(SubjectPublicKeyInfoDer::from(spki))
}

/// Checks the chain up to a trusted root, and the host name when `check_name` (libpq's
/// `verify-full`; without it, `verify-ca`, and `prefer`/`require` when a root certificate is
/// configured), with libpq's answer for the certificates webpki refuses and libpq verifies.
#[derive(Debug)]
pub(super) struct Verified {
    webpki: Arc<WebPkiServerVerifier>,
    /// The root certificates of `sslrootcert` (or the system's): what `fallback.rs` trusts.
    roots: Vec<fallback::Root>,
    algorithms: WebPkiSupportedAlgorithms,
    check_name: bool,
}

impl Verified {
    pub(super) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        roots: Vec<CertificateDer<'static>>,
        provider: &CryptoProvider,
        check_name: bool,
    ) -> Verified {
        Verified {
            webpki,
            roots: roots.into_iter().map(fallback::Root::new).collect(),
            algorithms: provider.signature_verification_algorithms,
            check_name,
        }
    }

    /// The parsed server certificate, for the checks of a certificate webpki refused.
    fn parsed(end_entity: &CertificateDer<'_>) -> Result<x509_cert::Certificate, rustls::Error> {
        use x509_cert::der::Decode;
        x509_cert::Certificate::from_der(end_entity.as_ref()).map_err(|_| bad_encoding())
    }
}

/// Why webpki refused a certificate that libpq may accept and `fallback.rs` checks.
#[derive(Clone, Copy, PartialEq)]
enum Fallback {
    /// A CA certificate as the server's own.
    CaAsServer,
    /// A certificate of the chain older than version 3: the server's own (version 1; version
    /// 2, which nobody makes, alike), or one it sent besides.
    OldVersion,
}

impl Fallback {
    fn of(e: &rustls::Error) -> Option<Fallback> {
        let rustls::Error::InvalidCertificate(CertificateError::Other(other)) = e else {
            return None;
        };
        match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::CaUsedAsEndEntity) => Some(Fallback::CaAsServer),
            Some(webpki::Error::UnsupportedCertVersion) => Some(Fallback::OldVersion),
            _ => None,
        }
    }
}

impl ServerCertVerifier for Verified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verified {
            Ok(verified) => Ok(verified),
            // The WebPKI verifier checks the chain (and validity dates) before the name, so a
            // name error means everything else passed: without a name to check, that is all;
            // with one, libpq's rules decide. They compare the common name when no
            // subjectAltName entry is of the host's kind (none at all; only dNSNames for an
            // address; only iPAddresses or URIs for a name), and an address with the dNSNames
            // as text, where webpki compares neither.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => {
                if !self.check_name {
                    return Ok(ServerCertVerified::assertion());
                }
                let leaf = Verified::parsed(end_entity)?;
                // webpki checked name constraints against the subjectAltName entries of the
                // host's kind only: a match by other text under a constrained CA is not known
                // to be allowed.
                if names::check(&leaf, server_name)? == names::Matched::Text
                    && fallback::name_constrained(&leaf, intermediates, &self.roots)
                {
                    return Err(fallback::common_name_under_name_constraints());
                }
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => {
                let Some(why) = Fallback::of(&e) else {
                    return Err(e);
                };
                let leaf = Verified::parsed(end_entity)?;
                if why == Fallback::OldVersion
                    && leaf.tbs_certificate.version == x509_cert::certificate::Version::V3
                {
                    // The server's own is version 3: the older one is an intermediate.
                    return Err(fallback::old_intermediate());
                }
                fallback::trust(
                    end_entity,
                    &leaf,
                    intermediates,
                    &self.roots,
                    now,
                    &self.algorithms,
                    e,
                )?;
                if self.check_name {
                    names::check(&leaf, server_name)?;
                }
                Ok(ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "verify_chain_tests.rs"]
mod chain_tests;

//! The two server-certificate checks rustls does not ship: none at all (libpq's `prefer` and
//! `require` without a root certificate: encrypted, but any server is believed), and the
//! chain without the host name (`verify-ca`). `verify-full` is rustls's own WebPKI verifier.
//! Both still check the handshake signatures, so the server must hold the certificate's key.
//!
//! Without verification, the signatures are checked with the certificate's public key alone
//! when webpki refuses to parse the certificate (a version 1 certificate, as `openssl x509
//! -req` makes; an unknown critical extension): libpq connects to such a server in these
//! modes, and so must we.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, PeerMisbehaved, SignatureScheme};

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
        match rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms) {
            Err(rustls::Error::InvalidCertificate(_)) => {
                // TLS 1.2 names no single algorithm: each of the scheme's is tried, as rustls does.
                let spki = public_key(cert)?;
                let key =
                    webpki::RawPublicKeyEntity::try_from(&spki).map_err(|_| bad_encoding())?;
                let (_, candidates) = self
                    .algorithms
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

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms) {
            Err(rustls::Error::InvalidCertificate(_)) => {
                rustls::crypto::verify_tls13_signature_with_raw_key(
                    message,
                    &public_key(cert)?,
                    dss,
                    &self.algorithms,
                )
            }
            other => other,
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
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

/// Checks the chain up to a trusted root but not the host name (libpq's `verify-ca`, and
/// `prefer`/`require` when a root certificate is configured).
#[derive(Debug)]
pub(super) struct ChainOnly(pub(super) Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The WebPKI verifier checks the chain (and validity dates) before the name, so a
        // name error means everything else passed.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

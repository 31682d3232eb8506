//! The rustls-facing verifier for both roles: certificate chains go to the
//! policy in force when they arrive; handshake signatures are checked with
//! the provider's algorithms.

use std::sync::Arc;

use pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::current::CurrentPolicy;
use super::policy::{ClientAuth, Policy};

/// The rustls-facing verifier for both roles.
#[derive(Debug)]
pub struct Verifier {
    /// Whether and how a server asks for a client certificate is sent in
    /// its first flight: that part binds with the configuration the
    /// ClientHello met.
    pub at_hello: Arc<Policy>,
    /// Chains are checked under the policy in force when they arrive.
    pub current: Arc<CurrentPolicy>,
}

impl Verifier {
    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.at_hello.algorithms)
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.at_hello.algorithms)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _rustls_now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // The session may send another SNI than the name it must reach.
        let peer_name = super::step_peer_name();
        let expected = peer_name.as_deref().unwrap_or(server_name);
        self.current
            .get()
            .verify(end_entity, intermediates, Some(expected), ocsp_response)
            .map(|()| ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.at_hello.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for Verifier {
    fn offer_client_auth(&self) -> bool {
        self.at_hello.settings.client_auth != ClientAuth::Off
    }

    fn client_auth_mandatory(&self) -> bool {
        self.at_hello.settings.client_auth == ClientAuth::Required
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.at_hello.hint_subjects
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _rustls_now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        self.current
            .get()
            .verify(end_entity, intermediates, None, &[])
            .map(|()| ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.at_hello.algorithms.supported_schemes()
    }
}

//! Verifying servers' certificates against the platform's roots, read when
//! the first certificate is verified rather than when the client is built.
//!
//! Reading the roots is most of what building the client costs: on Linux,
//! every certificate of the system bundle and of `/etc/ssl/certs` is read
//! and decoded (some 18 million instructions, 4 ms, for 150 files), which a
//! run that only speaks plain HTTP (the embedded server, a local service)
//! never needs. The roots are the same ones, read the same way
//! (`rustls-platform-verifier`, which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`); only the moment changes. A run whose base URL or named
//! servers are `https://` reads them before it sends anything
//! ([`super::HttpClient::load_roots`]), so that a machine without roots is
//! still refused up front; any other handshake (a proxy, an absolute URL)
//! reads them on its first certificate.
//!
//! `--cacert` and `--insecure` keep reqwest's own configuration: neither
//! reads the platform's roots.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The platform's verifier, made on first use.
#[derive(Debug)]
pub(crate) struct PlatformRoots {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl PlatformRoots {
    pub(crate) fn new(provider: Arc<CryptoProvider>) -> PlatformRoots {
        PlatformRoots {
            provider,
            verifier: OnceLock::new(),
        }
    }

    /// The verifier, the roots read on the first call; why there is none
    /// (no root could be read) on every call.
    pub(crate) fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the roots have been read.
    pub(crate) fn loaded(&self) -> bool {
        self.verifier.get().is_some()
    }
}

impl ServerCertVerifier for PlatformRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    /// Asked for every handshake's first message: the provider's schemes,
    /// as the platform's verifier answers, without reading the roots.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The TLS configuration reqwest builds by default (TLS 1.2 and 1.3, SNI,
/// HTTP/1.1 over ALPN, the platform's verifier), with the roots read on
/// first use.
pub(crate) fn platform_config(
    roots: Arc<PlatformRoots>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = roots.provider.clone();
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

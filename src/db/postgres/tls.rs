//! Connecting with TLS as libpq's `sslmode` asks, through rustls (no system `OpenSSL`):
//! `disable` and `prefer` connect in the clear (a crm that cannot verify a server should
//! not pretend it did; `prefer` upgrading opportunistically buys no protection against an
//! active attacker), `require` encrypts without checking who answers, `verify-ca` checks
//! the chain to the root certificate, `verify-full` the chain and the host name. The root
//! certificate comes from `sslrootcert=PATH` in the URL, or `~/.postgresql/root.crt`, as
//! libpq looks for it.

use std::path::PathBuf;
use std::sync::Arc;

use postgres::{Client, NoTls};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conninfo::{ConnInfo, Tls};
use crate::error::{Error, Result};

/// Opens the connection.
pub fn connect(info: &ConnInfo) -> Result<Client> {
    match info.tls {
        Tls::Disable | Tls::Prefer => Ok(info.config.connect(NoTls)?),
        mode => {
            let mut config = info.config.clone();
            config.ssl_mode(postgres::config::SslMode::Require);
            let tls = MakeRustlsConnect::new(client_config(mode, info.root_cert.as_ref())?);
            Ok(config.connect(tls)?)
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn client_config(mode: Tls, root: Option<&PathBuf>) -> Result<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS set-up: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if mode == Tls::Require {
        Arc::new(Unverified(provider()))
    } else {
        let roots = roots(root)?;
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| Error::usage(format!("root certificate: {e}")))?;
        if mode == Tls::VerifyCa {
            Arc::new(ChainOnly(webpki))
        } else {
            webpki
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The trusted roots: the file named by `sslrootcert`, or libpq's default place.
fn roots(root: Option<&PathBuf>) -> Result<RootCertStore> {
    let path = match root {
        Some(p) => p.clone(),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".postgresql/root.crt"))
            .ok_or_else(|| {
                Error::usage("sslmode=verify-*: no root certificate (set sslrootcert=PATH)")
            })?,
    };
    let mut store = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&path).map_err(|e| {
        Error::usage(format!(
            "cannot read the root certificate {}: {e}",
            path.display()
        ))
        .hint(
            "verify-ca and verify-full need the server's root CA: pass sslrootcert=PATH in the URL",
        )
    })?;
    for cert in certs {
        let cert = cert.map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
        store
            .add(cert)
            .map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    }
    Ok(store)
}

/// `sslmode=require`: encrypted, and the handshake's signatures checked, but any
/// certificate accepted (libpq's meaning of `require` without a root certificate).
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to a trusted root; the name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        inter: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end, inter, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

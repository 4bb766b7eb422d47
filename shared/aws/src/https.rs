//! The HTTPS client every SDK client shares: the SDK's default (rustls on aws-lc, hyper 1),
//! but trusting the Mozilla root certificates compiled into the binary instead of the
//! system's store. The default client reads the system store on every cold start — 146
//! files in the Lambda image, about 1.8 ms of a function's init — and a Lambda image's
//! store is no more current than a dependency update.

use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The SDK's HTTPS client with the bundled roots. Build it once per process (the SDK config
/// does): each client keeps its own connection pool.
pub fn https_client() -> SharedHttpClient {
    let tls = TlsContext::builder().with_trust_store(bundled_roots()).build();
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    match tls {
        Ok(tls) => builder.tls_context(tls).build_https(),
        // Building a context cannot fail today; should it ever, the SDK's own default trust
        // store still verifies every certificate.
        Err(_) => builder.build_https(),
    }
}

/// The trust store takes PEM: the bundled DER certificates, each framed.
fn bundled_roots() -> TrustStore {
    let mut store = TrustStore::empty();
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        store.add_pem_certificate(pem(certificate.as_ref()));
    }
    store
}

/// One certificate as PEM: base64 in lines of 64, between the markers.
fn pem(der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut pem = String::with_capacity(base64.len() + base64.len() / 64 + 64);
    pem.push_str("-----BEGIN CERTIFICATE-----\n");
    // base64 is ASCII, so every 64-byte chunk is a str.
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn every_bundled_root_reads_back_from_its_pem_frame() {
        assert!(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() > 100);
        for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
            let parsed = CertificateDer::from_pem_slice(pem(certificate.as_ref()).as_bytes()).unwrap();
            assert_eq!(parsed.as_ref(), certificate.as_ref());
        }
    }
}

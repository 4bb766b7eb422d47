//! The HTTPS client every SDK client shares: the SDK's default (rustls on aws-lc, hyper 1),
//! trusting only the roots AWS service endpoints chain to, compiled into the binary.
//!
//! The default client reads the system's store on every cold start (146 files in the Lambda
//! image, about 1.8 ms of a function's init). Handing the SDK all 146 bundled Mozilla roots
//! instead still cost most of a function's start: the SDK takes roots as PEM and decodes
//! them with a constant-time base64 decoder, then parses every certificate, when its first
//! connection is made, which is in init. Every AWS service endpoint presents a certificate
//! from Amazon Trust Services, whose roots are Amazon Root CA 1–4 and the Starfield
//! Services G2 root that cross-signs them; those five are all these clients need (the chat
//! callbacks and other outside HTTPS go through their own client with the full set).
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

/// Subjects of the roots of Amazon Trust Services, as they appear in their certificates.
const AWS_ROOT_SUBJECTS: [&[u8]; 5] = [
    b"Amazon Root CA 1",
    b"Amazon Root CA 2",
    b"Amazon Root CA 3",
    b"Amazon Root CA 4",
    b"Starfield Services Root Certificate Authority - G2",
];

/// The bundled roots of Amazon Trust Services (a byte search for the subject's common name:
/// no certificate is parsed here).
fn aws_roots() -> impl Iterator<Item = &'static [u8]> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|certificate| certificate.as_ref()).filter(|der| {
        AWS_ROOT_SUBJECTS.iter().any(|subject| der.windows(subject.len()).any(|window| window == *subject))
    })
}

/// The trust store takes PEM: the AWS roots, each framed.
fn bundled_roots() -> TrustStore {
    let mut store = TrustStore::empty();
    for certificate in aws_roots() {
        store.add_pem_certificate(pem(certificate));
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

    #[test]
    fn the_sdk_trusts_the_five_amazon_trust_services_roots_only() {
        let roots: Vec<&[u8]> = aws_roots().collect();
        assert_eq!(roots.len(), AWS_ROOT_SUBJECTS.len(), "one bundled root per subject");
        for subject in AWS_ROOT_SUBJECTS {
            let holders = roots.iter().filter(|der| der.windows(subject.len()).any(|w| w == subject)).count();
            assert_eq!(holders, 1, "{}", String::from_utf8_lossy(subject));
        }
    }
}

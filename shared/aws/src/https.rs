//! The HTTPS client every SDK client shares: the SDK's default (rustls on aws-lc, hyper 1),
//! trusting only the roots AWS service endpoints chain to, compiled into the binary.
//!
//! What a function's start costs here was measured with callgrind (README BENCHMARKS, "Where
//! a function's start goes"); ARCHITECTURE.md ("Lean functions") has the outline:
//! - The default client reads the system's store on every cold start (146 files in the Lambda
//!   image). Every AWS service endpoint presents a certificate from Amazon Trust Services,
//!   whose roots are Amazon Root CA 1–4 and the Starfield Services G2 root that cross-signs
//!   them; those five are all these clients need (the chat callbacks and other outside HTTPS
//!   go through their own client with the full set). They are in `roots/` as PEM, the form
//!   the SDK takes, so nothing is searched or encoded at start (picking them out of the 146
//!   bundled roots by a byte search was 6.8 million instructions, a third of a start); a
//!   test holds them to the bundled Mozilla set.
//! - The SDK builds a throwaway TLS connector whenever a client is made, to load the
//!   system's certificates early; with the roots compiled in there is nothing to load early,
//!   so [`LeanHttpClient`] skips that, and the one connector is built for the first request
//!   and shared by every client (it was built again for each of five to seven clients).
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_types::config_bag::ConfigBag;

/// The SDK's HTTPS client with the bundled roots. Build it once per process (the SDK config
/// does): its connector and connection pool then serve every client.
pub fn https_client() -> SharedHttpClient {
    let tls = TlsContext::builder().with_trust_store(aws_roots()).build();
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    let client = match tls {
        Ok(tls) => builder.tls_context(tls).build_https(),
        // Building a context cannot fail today; should it ever, the SDK's own default trust
        // store still verifies every certificate.
        Err(_) => builder.build_https(),
    };
    SharedHttpClient::new(LeanHttpClient(client))
}

/// The roots of Amazon Trust Services, as PEM (see the module comment).
const AWS_ROOTS: [&str; 5] = [
    include_str!("../roots/amazon-root-ca-1.pem"),
    include_str!("../roots/amazon-root-ca-2.pem"),
    include_str!("../roots/amazon-root-ca-3.pem"),
    include_str!("../roots/amazon-root-ca-4.pem"),
    include_str!("../roots/starfield-services-root-g2.pem"),
];

fn aws_roots() -> TrustStore {
    let mut store = TrustStore::empty();
    for pem in AWS_ROOTS {
        store.add_pem_certificate(pem.as_bytes());
    }
    store
}

/// The SDK's client without its early, per-client connector build: connectors come from
/// the inner client's cache, one per timeout setting, built on the first request.
#[derive(Debug)]
struct LeanHttpClient(SharedHttpClient);

impl HttpClient for LeanHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    /// Nothing to check early: the roots are compiled in (the inner client would build a
    /// connector here only to read the system's certificates sooner).
    fn validate_base_client_config(
        &self,
        _: &RuntimeComponentsBuilder,
        _: &ConfigBag,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    fn validate_final_config(&self, components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    /// Subjects of the roots of Amazon Trust Services, as they appear in their certificates.
    const AWS_ROOT_SUBJECTS: [&[u8]; 5] = [
        b"Amazon Root CA 1",
        b"Amazon Root CA 2",
        b"Amazon Root CA 3",
        b"Amazon Root CA 4",
        b"Starfield Services Root Certificate Authority - G2",
    ];

    fn holds(der: &[u8], subject: &[u8]) -> bool {
        der.windows(subject.len()).any(|window| window == subject)
    }

    #[test]
    fn the_sdk_trusts_the_five_amazon_trust_services_roots_only() {
        let roots: Vec<CertificateDer<'static>> =
            AWS_ROOTS.iter().map(|pem| CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()).collect();
        for (root, subject) in roots.iter().zip(AWS_ROOT_SUBJECTS) {
            assert!(holds(root.as_ref(), subject), "{}", String::from_utf8_lossy(subject));
        }
        // Each is, byte for byte, the root of that name in the bundled Mozilla set: a root
        // Mozilla withdraws or replaces fails here when webpki-root-certs is updated.
        for subject in AWS_ROOT_SUBJECTS {
            let bundled: Vec<&[u8]> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|certificate| certificate.as_ref())
                .filter(|der| holds(der, subject))
                .collect();
            assert_eq!(bundled.len(), 1, "{}", String::from_utf8_lossy(subject));
            assert!(
                roots.iter().any(|root| root.as_ref() == bundled[0]),
                "{}",
                String::from_utf8_lossy(subject)
            );
        }
    }

    /// Counts the SDK's early per-client checks; answers no connector (none is asked for).
    #[derive(Debug, Default, Clone)]
    struct CountingClient(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl HttpClient for CountingClient {
        fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
            unreachable!("no request is sent")
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn making_a_client_builds_no_connector() {
        // The SDK calls validate_base_client_config for every client it makes, and its
        // default client builds a whole TLS connector there; through the lean client the
        // inner one is never asked.
        let inner = CountingClient::default();
        let http = SharedHttpClient::new(LeanHttpClient(SharedHttpClient::new(inner.clone())));
        for _ in 0..3 {
            let config = aws_sdk_s3::Config::builder()
                .behavior_version_latest()
                .region(aws_types::region::Region::new("us-east-1"))
                .http_client(http.clone())
                .build();
            let _client = aws_sdk_s3::Client::from_conf(config);
        }
        assert_eq!(inner.0.load(std::sync::atomic::Ordering::SeqCst), 0);
        // The counter counts: the inner client itself, handed to the SDK, is asked each time.
        let _client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version_latest()
                .region(aws_types::region::Region::new("us-east-1"))
                .http_client(SharedHttpClient::new(inner.clone()))
                .build(),
        );
        assert_eq!(inner.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}

//! A throwaway certificate authority and server certificate for HTTPS tests. Generated at run
//! time, never stored: the CA's PEM is handed to `keyhound --ca-cert`.

use std::sync::Arc;

/// A test CA and a server certificate it signed.
pub struct TestCa {
    /// The CA certificate (PEM), to trust in the client.
    pub ca_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa(…)")
    }
}

impl TestCa {
    /// A CA and a server certificate for `names` (DNS names or IP addresses).
    pub fn new(names: &[&str]) -> TestCa {
        let mut ca_params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "keyhound test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names).expect("server parameters");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "keyhound test server");
        let key = rcgen::KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        TestCa {
            ca_pem: ca_cert.pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }

    /// A rustls server configuration presenting the server certificate.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cert = rustls::pki_types::CertificateDer::from(self.cert_der.clone());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(self.key_der.clone()),
        );
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("server certificate and key");
        Arc::new(cfg)
    }
}

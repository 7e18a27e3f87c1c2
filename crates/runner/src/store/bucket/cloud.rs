//! Connecting to a bucket: the cloud's builder, its settings from the
//! environment, and a private certificate authority. Built only with the
//! `cloud` feature; without it, a bucket's URL is refused with how to get one.

pub(super) use self::built::connect;

#[cfg(feature = "cloud")]
mod built {
    use std::path::Path;
    use std::sync::Arc;

    use object_store::{ClientConfigKey, ClientOptions, ObjectStore};

    use crate::{Error, Result};

    /// The bucket `url` names, with credentials and settings from the
    /// environment, and `ca_cert`'s authorities trusted beside the system's.
    pub(crate) fn connect(url: &str, ca_cert: Option<&Path>) -> Result<Arc<dyn ObjectStore>> {
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        let env_prefix = match super::super::super::Backend::of(scheme) {
            Some(super::super::super::Backend::S3) => "AWS_",
            Some(super::super::super::Backend::Azure) => "AZURE_",
            Some(super::super::super::Backend::Gcs) => "GOOGLE_",
            None => unreachable!("store::open passes only a bucket's URL"),
        };
        let options = client_options(env_prefix, url, ca_cert)?;
        let built = match env_prefix {
            "AWS_" => object_store::aws::AmazonS3Builder::from_env()
                .with_url(url)
                .with_client_options(options)
                .build()
                .map(|store| Arc::new(store) as Arc<dyn ObjectStore>),
            "AZURE_" => object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .with_client_options(options)
                .build()
                .map(|store| Arc::new(store) as Arc<dyn ObjectStore>),
            _ => object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url)
                .with_client_options(options)
                .build()
                .map(|store| Arc::new(store) as Arc<dyn ObjectStore>),
        };
        built.map_err(|source| Error::Store {
            action: "open",
            object: url.to_owned(),
            source,
        })
    }

    /// The client settings the cloud's builder would read from the
    /// environment (`AWS_ALLOW_HTTP`, say), which giving it options of our
    /// own would drop, and the private authority's certificates.
    fn client_options(
        env_prefix: &str,
        url: &str,
        ca_cert: Option<&Path>,
    ) -> Result<ClientOptions> {
        let mut options = ClientOptions::new();
        for (key, value) in std::env::vars() {
            let Some(name) = key.strip_prefix(env_prefix) else {
                continue;
            };
            if let Ok(key) = name.to_ascii_lowercase().parse::<ClientConfigKey>() {
                options = options.with_config(key, value);
            }
        }
        if let Some(path) = ca_cert {
            let pem = std::fs::read(path).map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?;
            let certificates =
                object_store::Certificate::from_pem_bundle(&pem).map_err(|source| {
                    Error::Store {
                        action: "read the certificates for",
                        object: url.to_owned(),
                        source,
                    }
                })?;
            if certificates.is_empty() {
                return Err(Error::Invalid {
                    field: "ca_cert",
                    message: format!("{}: no PEM certificate in it", path.display()),
                });
            }
            for certificate in certificates {
                options = options.with_root_certificate(certificate);
            }
        }
        Ok(options)
    }
}

#[cfg(not(feature = "cloud"))]
mod built {
    use std::path::Path;
    use std::sync::Arc;

    use object_store::ObjectStore;

    use crate::{Error, Result};

    pub(crate) fn connect(url: &str, _ca_cert: Option<&Path>) -> Result<Arc<dyn ObjectStore>> {
        Err(Error::Invalid {
            field: "results",
            message: format!(
                "{url}: this fuelbench was built without bucket stores; build it with `--features \
                 cloud`, or give a folder"
            ),
        })
    }
}

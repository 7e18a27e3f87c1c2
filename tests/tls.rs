use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use tokio_rustls::rustls;

use crate::support::cache_dir;
use crate::support::scripted::{problems, scripted};

/// A certificate authority of the test's own and a certificate it signed
/// for `localhost` and 127.0.0.1, made with the openssl command: `ca.pem`,
/// and the server's `server.der` and `server.key.der`.
fn certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=fuelbench test CA",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("written");
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    openssl(&[
        "x509",
        "-in",
        "server.pem",
        "-outform",
        "der",
        "-out",
        "server.der",
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        "server.key",
        "-outform",
        "der",
        "-out",
        "server.key.der",
    ]);
}

/// HTTPS on a loopback port, each connection passed on as it is to
/// `backend`: a TLS server in front of a plain one. Lives as long as the
/// returned runtime.
fn tls_front(dir: &Path, backend: SocketAddr) -> (tokio::runtime::Runtime, SocketAddr) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let certificate = CertificateDer::from(std::fs::read(dir.join("server.der")).expect("a cert"));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        std::fs::read(dir.join("server.key.der")).expect("a key"),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![certificate], key)
    .expect("a server configuration");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a port");
    let addr = listener.local_addr().expect("its address");
    runtime.spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let (Ok(mut client), Ok(mut server)) = (
                    acceptor.accept(client).await,
                    tokio::net::TcpStream::connect(backend).await,
                ) else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (runtime, addr)
}

/// A model server behind HTTPS with a private certificate authority:
/// `--ca-cert` makes it trusted beside the system's; without it the run
/// is refused for the certificate, and a file that holds no certificate is
/// named.
#[test]
fn a_model_server_behind_tls_is_reached_with_its_ca_and_refused_without() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    certificates(dir.path());
    let chosen = problems()[..1].to_vec();
    let server = scripted(chosen);
    let backend: SocketAddr = server
        .base_url
        .trim_start_matches("http://")
        .parse()
        .expect("a loopback address");
    let (_front, addr) = tls_front(dir.path(), backend);
    let endpoint = format!("https://localhost:{}", addr.port());
    let ca = dir.path().join("ca.pem");
    let run = |out: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fuelbench"))
            .args([
                "run",
                "--endpoint",
                &endpoint,
                "--model",
                "m",
                "--problems",
                "p01",
            ])
            .args(["--skip-refactor", "--out"])
            .arg(dir.path().join(out))
            .args(extra)
            .env("FUELBENCH_CACHE", cache_dir())
            .env_remove("FUELBENCH_CA_CERT")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("fuelbench starts")
    };

    let trusted = run("trusted", &["--ca-cert", ca.to_str().expect("UTF-8")]);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(
        dir.path()
            .join("trusted/m__think-default__grammar-none.json")
            .is_file()
    );

    let refused = run("refused", &[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");

    let not_pem = dir.path().join("server.ext");
    let bad = run("bad", &["--ca-cert", not_pem.to_str().expect("UTF-8")]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("server.ext") && stderr.contains("no PEM certificate"),
        "{stderr}"
    );
}

/// A bucket behind HTTPS with a private certificate authority: the S3
/// emulator behind the same TLS front, trusted with `--ca-cert`, refused
/// without it; and Azurite with a wrong account key, refused and named.
#[cfg(feature = "external-tests")]
#[test]
fn a_bucket_behind_tls_needs_its_ca_and_a_wrong_key_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    certificates(dir.path());
    let endpoint = std::env::var("AWS_ENDPOINT").expect("scripts/test.sh sets AWS_ENDPOINT");
    let backend: SocketAddr = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("a loopback address");
    let (_front, addr) = tls_front(dir.path(), backend);
    let bucket =
        std::env::var("FUELBENCH_TEST_S3").expect("scripts/test.sh sets FUELBENCH_TEST_S3");
    let url = format!("{bucket}/tls-{}", std::process::id());
    let ca = dir.path().join("ca.pem");
    let board = |extra: &[&str], env: &[(&str, String)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fuelbench"));
        command
            .args(["leaderboard", &url])
            .args(extra)
            .env("FUELBENCH_CACHE", cache_dir())
            .env_remove("FUELBENCH_CA_CERT")
            .env("AWS_MAX_RETRIES", "0");
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().expect("fuelbench starts")
    };
    let https = [
        ("AWS_ENDPOINT", format!("https://localhost:{}", addr.port())),
        ("AWS_ALLOW_HTTP", "false".to_owned()),
    ];
    let trusted = board(&["--ca-cert", ca.to_str().expect("UTF-8")], &https);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let refused = board(&[], &https);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("tls-"), "the store is named: {stderr}");
    assert!(
        stderr.to_lowercase().contains("certificate"),
        "the refusal says why: {stderr}"
    );

    let azure = std::env::var("FUELBENCH_TEST_AZURE").expect("scripts/test.sh sets it");
    let output = Command::new(env!("CARGO_BIN_EXE_fuelbench"))
        .args(["leaderboard", &format!("{azure}/wrong-key")])
        .env("FUELBENCH_CACHE", cache_dir())
        .env(
            "AZURE_STORAGE_ACCOUNT_KEY",
            "d3Jvbmcta2V5LWZvci10aGUtZW11bGF0b3I=",
        )
        .output()
        .expect("fuelbench starts");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("wrong-key"), "the store is named: {stderr}");
    assert!(
        stderr.contains("403") || stderr.to_lowercase().contains("authoriz"),
        "the refusal says why: {stderr}"
    );
}

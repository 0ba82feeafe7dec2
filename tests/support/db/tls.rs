//! The test CA and the leaf certificate it signs (IP 127.0.0.1, DNS
//! localhost), made with openssl into the suite's temporary folder, and the
//! bundle workerd is given (`NODE_EXTRA_CA_CERTS`).

use super::launch::run;
use super::SYSTEM_BUNDLE;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The test CA, the leaf it signs, and the bundle workerd is given.
pub(super) struct Tls {
    pub(super) ca_cert: PathBuf,
    pub(super) leaf_cert: PathBuf,
    pub(super) leaf_key: PathBuf,
    pub(super) bundle: PathBuf,
}

impl Tls {
    pub(super) fn make(dir: &Path) -> Tls {
        std::fs::create_dir_all(dir).unwrap();
        let f = |name: &str| dir.join(name);
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(
            Command::new("openssl")
                .args(["req", "-x509"])
                .args(ec)
                .arg("-keyout")
                .arg(f("ca.key"))
                .arg("-out")
                .arg(f("ca.crt"))
                .args([
                    "-days",
                    "2",
                    "-subj",
                    "/CN=connector-marketplace e2e test CA",
                ])
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
            "openssl (CA)",
        );
        run(
            Command::new("openssl")
                .arg("req")
                .args(ec)
                .arg("-keyout")
                .arg(f("leaf.key"))
                .arg("-out")
                .arg(f("leaf.csr"))
                .args(["-subj", "/CN=127.0.0.1"]),
            "openssl (leaf key)",
        );
        std::fs::write(
            f("leaf.ext"),
            "subjectAltName = IP:127.0.0.1, DNS:localhost\n\
             basicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature, keyEncipherment\n\
             extendedKeyUsage = serverAuth\n\
             subjectKeyIdentifier = hash\n\
             authorityKeyIdentifier = keyid\n",
        )
        .unwrap();
        run(
            Command::new("openssl")
                .args(["x509", "-req", "-in"])
                .arg(f("leaf.csr"))
                .arg("-CA")
                .arg(f("ca.crt"))
                .arg("-CAkey")
                .arg(f("ca.key"))
                .args(["-set_serial", "2", "-days", "2", "-extfile"])
                .arg(f("leaf.ext"))
                .arg("-out")
                .arg(f("leaf.crt")),
            "openssl (leaf certificate)",
        );
        let mut bundle = std::fs::read(SYSTEM_BUNDLE).unwrap_or_default();
        if !bundle.is_empty() && !bundle.ends_with(b"\n") {
            bundle.push(b'\n');
        }
        bundle.extend(std::fs::read(f("ca.crt")).unwrap());
        std::fs::write(f("bundle.pem"), bundle).unwrap();
        Tls {
            ca_cert: f("ca.crt"),
            leaf_cert: f("leaf.crt"),
            leaf_key: f("leaf.key"),
            bundle: f("bundle.pem"),
        }
    }
}

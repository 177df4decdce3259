//! Temporary gpg keyrings with freshly generated keys (ed25519/cv25519, no passphrase),
//! for the OpenPGP tests. Each keyring's gpg-agent is stopped on drop.
#![allow(dead_code)] // each test binary uses part of it

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A GNUPGHOME holding one generated secret key.
pub struct Keyring {
    pub home: tempfile::TempDir,
    /// The generated key's fingerprint.
    pub fpr: String,
}

impl Keyring {
    /// A keyring with a new key for `uid` (e.g. `Team <security@example.org>`).
    pub fn generate(uid: &str) -> Keyring {
        // A short path: gpg-agent's socket lives in it.
        Keyring::generate_in(uid, Path::new("/tmp"))
    }

    /// [`Keyring::generate`], in a new folder of `parent`.
    pub fn generate_in(uid: &str, parent: &Path) -> Keyring {
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in(parent)
            .expect("temp GNUPGHOME");
        let mut ring = Keyring {
            home,
            fpr: String::new(),
        };
        let out = ring.gpg(
            &[
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                "future-default",
                "default",
                "never",
            ],
            b"",
        );
        assert!(out.status.success(), "key generation: {}", err(&out));
        let list = ring.gpg(&["--with-colons", "--list-secret-keys"], b"");
        ring.fpr = String::from_utf8_lossy(&list.stdout)
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("a fingerprint")
            .to_string();
        ring
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }

    /// Runs gpg on this keyring, `input` on stdin.
    pub fn gpg(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--no-tty", "--pinentry-mode", "loopback"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gpg is installed (apt-get install gnupg)");
        let mut stdin = child.stdin.take().expect("stdin");
        let data = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().expect("gpg output");
        writer.join().expect("writer");
        out
    }

    /// Like [`Keyring::gpg`], and it must succeed; returns stdout.
    pub fn ok(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        let out = self.gpg(args, input);
        assert!(out.status.success(), "gpg {args:?}: {}", err(&out));
        out.stdout
    }

    /// This keyring's public key, armoured.
    pub fn public_key(&self) -> Vec<u8> {
        self.ok(&["--armor", "--export", &self.fpr], b"")
    }

    /// Imports `other`'s public key.
    pub fn trust(&self, other: &Keyring) {
        self.ok(&["--import"], &other.public_key());
    }

    /// `data` encrypted to `to` (and signed by this key when `sign`), armoured.
    pub fn encrypt(&self, to: &str, sign: bool, data: &[u8]) -> Vec<u8> {
        let mut args = vec!["--trust-model", "always", "--armor", "--recipient", to];
        if sign {
            args.push("--sign");
        }
        args.push("--encrypt");
        self.ok(&args, data)
    }

    /// A detached armoured signature over `data`.
    pub fn detach_sign(&self, data: &[u8]) -> Vec<u8> {
        self.ok(&["--armor", "--detach-sign"], data)
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A PGP/MIME signed message (RFC 3156 §5) whose first part holds `body`, signed by `by`;
/// `tamper` changes the text after signing.
pub fn signed_mime(by: &Keyring, headers: &str, body: &str, tamper: Option<&str>) -> Vec<u8> {
    let part = format!(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n{}",
        crlf(body)
    );
    let sig = by.detach_sign(part.as_bytes());
    let part = match tamper {
        Some(t) => part.replace(body.lines().next().unwrap_or_default(), t),
        None => part,
    };
    format!(
        "{headers}MIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha512;\r\n \
         protocol=\"application/pgp-signature\"; boundary=\"sig-b\"\r\n\r\n\
         This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--sig-b\r\n{part}\r\n\
         --sig-b\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n{}\r\n--sig-b--\r\n",
        crlf(&String::from_utf8_lossy(&sig))
    )
    .into_bytes()
}

/// A PGP/MIME encrypted message (RFC 3156 §4) around an already armoured ciphertext.
pub fn encrypted_mime(headers: &str, armoured: &[u8]) -> Vec<u8> {
    format!(
        "{headers}MIME-Version: 1.0\r\nContent-Type: multipart/encrypted;\r\n \
         protocol=\"application/pgp-encrypted\"; boundary=\"enc-b\"\r\n\r\n\
         This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n--enc-b\r\n\
         Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--enc-b\r\n\
         Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\r\n{}\r\n--enc-b--\r\n",
        crlf(&String::from_utf8_lossy(armoured))
    )
    .into_bytes()
}

pub fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

//! OAuth2 for the tests (issue 16): Dovecot's oauth2 passdb validating a locally signed
//! HS256 JWT (../shared/NOTES.md, "OAuth2 logins against a real Dovecot"), and the tokens.

use std::fs;

use sha2::{Digest, Sha256};

use super::Dovecot;

impl Dovecot {
    /// Dovecot accepting XOAUTH2 and OAUTHBEARER with JWTs signed by `key` (HS256), besides
    /// passwords.
    pub fn start_oauth2(key: &[u8]) -> Dovecot {
        let mut server = Dovecot::start();
        server.stop();
        let d = server.dir().to_path_buf();
        fs::write(
            d.join("oauth2.conf"),
            format!(
                "introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix={}/keys/\nusername_attribute = sub\n",
                d.display()
            ),
        )
        .expect("write oauth2.conf");
        // Exactly <prefix>/default/HS256/default; any other path fails without a reason.
        let keys = d.join("keys/default/HS256");
        fs::create_dir_all(&keys).expect("key dir");
        fs::write(keys.join("default"), base64(key, false)).expect("key file");
        server.launch_on_fresh_ports();
        server
    }
}

/// What [`Dovecot::write_config`] adds when `oauth2.conf` is there.
pub(super) fn dovecot_lines(dir: &std::path::Path) -> (String, String) {
    if !dir.join("oauth2.conf").exists() {
        return ("plain login".into(), String::new());
    }
    (
        "plain login xoauth2 oauthbearer".into(),
        format!(
            "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}/oauth2.conf\n}}\n",
            dir.display()
        ),
    )
}

/// A JWT for `sub` valid from `iat` to `exp` (Unix seconds), signed with `key` (HS256).
pub fn jwt(sub: &str, iat: i64, exp: i64, key: &[u8]) -> String {
    let header = base64(br#"{"alg":"HS256","typ":"JWT"}"#, true);
    let payload = base64(
        format!(r#"{{"sub":"{sub}","iat":{iat},"nbf":{iat},"exp":{exp}}}"#).as_bytes(),
        true,
    );
    let signed = format!("{header}.{payload}");
    let mac = hmac_sha256(key, signed.as_bytes());
    format!("{signed}.{}", base64(&mac, true))
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// Base64 (RFC 4648 §4), or base64url without padding (§5) as JWTs use.
pub fn base64(data: &[u8], url: bool) -> String {
    let abc: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(abc[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if !url {
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
    }
    out
}

/// aiosmtpd whose AUTH XOAUTH2 checks the same JWTs (`aiosmtpd_oauth2.py`), storing mail in
/// a maildir of its own. Stopped on drop.
pub struct OauthSmtp {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: std::process::Child,
}

impl OauthSmtp {
    pub fn start(key: &[u8]) -> OauthSmtp {
        let dir = tempfile::tempdir().expect("smtp dir");
        fs::write(dir.path().join("key"), key).expect("key");
        let port = super::free_port();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/support/aiosmtpd_oauth2.py");
        let child = std::process::Command::new("/usr/bin/python3")
            .env("PYTHONWARNINGS", "ignore")
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path().join("mail"))
            .arg(dir.path().join("key"))
            .arg(dir.path().join("auth.log"))
            .spawn()
            .expect("start aiosmtpd (python3-aiosmtpd)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        OauthSmtp { port, dir, child }
    }

    /// The messages it stored.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        ["new", "cur"]
            .iter()
            .filter_map(|s| fs::read_dir(self.dir.path().join("mail").join(s)).ok())
            .flatten()
            .filter_map(|e| fs::read(e.ok()?.path()).ok())
            .collect()
    }

    /// One line per AUTH attempt: `ok` or `refused WHY`.
    pub fn auth_log(&self) -> Vec<String> {
        fs::read_to_string(self.dir.path().join("auth.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for OauthSmtp {
    fn drop(&mut self) {
        // SAFETY: plain signal delivery to the child we started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

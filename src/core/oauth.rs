//! OAuth2 logins (issue 16): which SASL mechanism a section uses and the client's initial
//! response for it. Getting the token (a command) and talking to servers is in
//! `mailio::oauth`.
//!
//! - XOAUTH2 (Google's, also Microsoft's): `user=U ^A auth=Bearer T ^A ^A`.
//! - OAUTHBEARER (RFC 7628 §3.1): a GS2 header `n,a=U,` then `^A`-separated key/value
//!   pairs (`host`, `port`, `auth=Bearer T`) and a final `^A^A`.

use serde::Deserialize;

use crate::core::secret::Secret;

/// `[imap] auth` / `[smtp] auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// LOGIN / AUTH PLAIN with the password (the default).
    #[default]
    Password,
    Xoauth2,
    Oauthbearer,
}

impl AuthMethod {
    /// The SASL mechanism name, for OAuth2 methods.
    pub fn mechanism(self) -> Option<&'static str> {
        match self {
            AuthMethod::Password => None,
            AuthMethod::Xoauth2 => Some("XOAUTH2"),
            AuthMethod::Oauthbearer => Some("OAUTHBEARER"),
        }
    }
}

/// The initial client response for `method` (before base64), holding the token: it is a
/// [`Secret`] so it never prints. `None` for the password method.
pub fn initial_response(
    method: AuthMethod,
    user: &str,
    host: &str,
    port: u16,
    token: &Secret,
) -> Option<Secret> {
    let t = token.expose();
    match method {
        AuthMethod::Password => None,
        AuthMethod::Xoauth2 => Some(Secret::new(format!(
            "user={user}\x01auth=Bearer {t}\x01\x01"
        ))),
        AuthMethod::Oauthbearer => {
            // RFC 5801 §4: `,` and `=` in the authzid are escaped as =2C and =3D.
            let authzid = user.replace('=', "=3D").replace(',', "=2C");
            Some(Secret::new(format!(
                "n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {t}\x01\x01"
            )))
        }
    }
}

/// What the client answers to a server's error challenge: XOAUTH2 expects an empty
/// response, OAUTHBEARER a single `^A` (RFC 7628 §3.2.3); the server then says NO.
pub fn error_reply(method: AuthMethod) -> &'static [u8] {
    match method {
        AuthMethod::Oauthbearer => b"\x01",
        _ => b"",
    }
}

/// An OAuth2 login needs its token command; a password login must not name one.
pub fn check_config(
    section: &str,
    auth: AuthMethod,
    command: Option<&[String]>,
) -> Result<(), String> {
    match (auth, command) {
        (AuthMethod::Password, Some(_)) => Err(format!(
            "key `{section}.oauth2_token_command` is set but `{section}.auth` is \"password\": set auth = \"xoauth2\" or \"oauthbearer\", or remove the command"
        )),
        (AuthMethod::Xoauth2 | AuthMethod::Oauthbearer, None | Some([])) => Err(format!(
            "key `{section}.oauth2_token_command` is missing: an OAuth2 login needs the argv of a command that prints an access token, e.g. [\"oauth2-token\", \"security@example.org\"]"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_responses_follow_each_mechanism() {
        let t = Secret::new("tok".to_string());
        let x = initial_response(AuthMethod::Xoauth2, "u@x", "h", 993, &t).unwrap();
        assert_eq!(x.expose(), "user=u@x\x01auth=Bearer tok\x01\x01");
        let o = initial_response(AuthMethod::Oauthbearer, "a,b=c", "imap.x", 993, &t).unwrap();
        assert_eq!(
            o.expose(),
            "n,a=a=2Cb=3Dc,\x01host=imap.x\x01port=993\x01auth=Bearer tok\x01\x01"
        );
        assert!(initial_response(AuthMethod::Password, "u", "h", 1, &t).is_none());
        assert_eq!(error_reply(AuthMethod::Oauthbearer), b"\x01");
    }

    #[test]
    fn the_config_says_what_an_oauth2_login_lacks() {
        use crate::core::config::Config;
        let parse = |imap: &str| {
            let text = format!(
                "[imap]\nhost = \"127.0.0.1\"\nport = 143\nsecurity = \"plain\"\nusername = \"u\"\n{imap}\n\
                 [identity]\nname = \"n\"\nemail = \"n@x\"\n"
            );
            Config::parse(&text, std::path::Path::new("c.toml")).map_err(|e| e.to_string())
        };
        let ok = parse("auth = \"oauthbearer\"\noauth2_token_command = [\"tok\"]").unwrap();
        assert_eq!(ok.imap.unwrap().auth, AuthMethod::Oauthbearer);
        let e = parse("auth = \"xoauth2\"").unwrap_err();
        assert!(e.contains("`imap.oauth2_token_command` is missing"), "{e}");
        let e = parse("password_env = \"P\"\noauth2_token_command = [\"tok\"]").unwrap_err();
        assert!(e.contains("`imap.auth` is \"password\""), "{e}");
        let e = parse("auth = \"kerberos\"\noauth2_token_command = [\"tok\"]").unwrap_err();
        assert!(e.contains("kerberos"), "{e}");
    }
}

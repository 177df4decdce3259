use super::*;

const SIGNED: &str = "From: r@x\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/signed; micalg=pgp-sha256;\n protocol=\"application/pgp-signature\"; boundary=\"b1\"\n\nThis is an OpenPGP/MIME signed message\n--b1\nContent-Type: text/plain\n\nhello\nworld\n--b1\nContent-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n--b1--\n";

#[test]
fn signed_part_is_taken_exactly_with_crlf() {
    let f = find(SIGNED.as_bytes(), "").unwrap();
    let Kind::MimeSigned { signed, signature } = f.kind else {
        panic!("not signed: {:?}", f.kind)
    };
    assert_eq!(signed, b"Content-Type: text/plain\r\n\r\nhello\r\nworld");
    assert!(String::from_utf8_lossy(&signature).contains("BEGIN PGP SIGNATURE"));
    assert!(f.outside.is_empty());
}

#[test]
fn a_footer_beside_the_signed_part_is_outside() {
    let nested = format!(
        "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\n{}\n--m\nContent-Type: text/plain\n\nlist footer: unsubscribe here\n--m--\n",
        &SIGNED[SIGNED.find("Content-Type: multipart/signed").unwrap()..]
    );
    let f = find(nested.as_bytes(), "").unwrap();
    assert!(matches!(f.kind, Kind::MimeSigned { .. }));
    assert_eq!(f.outside, vec!["list footer: unsubscribe here".to_string()]);
}

#[test]
fn inline_blocks_and_surrounding_text() {
    let body =
        "hi team\n-----BEGIN PGP MESSAGE-----\n\nxyz\n-----END PGP MESSAGE-----\nsent from phone\n";
    let f = find(b"Subject: x\n\n", body).unwrap();
    assert!(
        matches!(f.kind, Kind::InlineEncrypted { ref block } if block.ends_with("END PGP MESSAGE-----"))
    );
    assert_eq!(f.outside, vec!["hi team", "sent from phone"]);
    assert!(find(b"", "-----BEGIN PGP MESSAGE----- never ends").is_none());
    assert!(find(b"", "plain mail").is_none());
}

#[test]
fn deep_nesting_is_not_followed_forever() {
    let mut m = String::new();
    for i in 0..40 {
        m += &format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n");
    }
    m += "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"e\"\n\n--e\n\nVersion: 1\n--e\n\nCIPHER\n--e--\n";
    assert!(find(m.as_bytes(), "").is_none());
}

#[test]
fn sealing_moves_content_headers_inside() {
    let raw = b"From: a@x\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain;\r\n charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nbody\r\n";
    let (outer, inner) = split_for_sealing(raw);
    assert_eq!(outer, b"From: a@x\r\nSubject: s\r\n");
    assert_eq!(
        inner,
        b"Content-Type: text/plain;\r\n charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nbody\r\n"
    );
    let m = sealed(
        &outer,
        b"-----BEGIN PGP MESSAGE-----\nX\n-----END PGP MESSAGE-----\n",
        "B",
    );
    let f = find(&m, "").unwrap();
    assert_eq!(
        f.kind,
        Kind::MimeEncrypted {
            ciphertext: b"-----BEGIN PGP MESSAGE-----\r\nX\r\n-----END PGP MESSAGE-----".to_vec()
        }
    );
}

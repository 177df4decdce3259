//! The shipped `config.example.toml` loads and means what its comments say.

use super::*;

#[test]
fn example_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let c = Config::load(&path).unwrap();
    assert!(c.imap.is_some() && c.smtp.is_some());
    assert_eq!(c.team.members.len(), 2);
    assert_eq!(c.team_address(), Some("security@example.org"));
}

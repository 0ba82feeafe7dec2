//! The connection phase: the server's HandshakeV10, the optional
//! SSLRequest and TLS, HandshakeResponse41, then as many auth exchanges as
//! the server's plugin wants (switch, more data) until OK or ERR.
//!
//! The password leaves only as a scramble (`mysql_native_password`,
//! `caching_sha2_password`'s fast path) or, when the server must see it
//! (`caching_sha2_password` full authentication, `sha256_password`,
//! `mysql_clear_password`), in clear over TLS — never in clear over plain
//! TCP, and not RSA-encrypted either (that would trust a key the server
//! hands over on the same unprotected connection).

use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use super::wire::{self, caps, lost, parse_err, parse_ok, put_lenenc, Reader, ServerError, Wire};
use super::Stream;
use crate::db::{DbError, ServerInfo, Target};

/// utf8mb4_general_ci: known to MySQL ≥ 5.5.3 and every MariaDB.
pub const UTF8MB4: u8 = 45;
/// The largest packet this client takes (what it also reads).
const MAX_PACKET: u32 = wire::MAX_PAYLOAD as u32;
const NATIVE: &str = "mysql_native_password";
const SHA2: &str = "caching_sha2_password";
/// Switches and extra rounds one login may take before it is given up.
const MAX_ROUNDS: usize = 8;

/// What the server said in its HandshakeV10.
#[derive(Debug, Clone, PartialEq)]
pub struct Greeting {
    /// The version as sent ("5.5.5-10.11.6-MariaDB…" included).
    pub version: String,
    pub caps: u32,
    pub status: u16,
    /// auth-plugin-data parts 1 and 2, without the trailing NUL.
    pub scramble: Vec<u8>,
    pub plugin: String,
}

impl Greeting {
    pub fn server_info(&self) -> ServerInfo {
        let mariadb = self.version.contains("MariaDB");
        let version = match self.version.strip_prefix("5.5.5-") {
            Some(v) if mariadb => v.to_string(),
            _ => self.version.clone(),
        };
        ServerInfo { version, mariadb }
    }
}

pub fn parse_greeting(p: &[u8]) -> Result<Greeting, DbError> {
    if p.first() == Some(&0xFF) {
        return Err(login_error(parse_err(p)?));
    }
    let mut r = Reader::new(p);
    let protocol = r.u8()?;
    if protocol != 10 {
        return Err(lost(&format!(
            "the server speaks protocol version {protocol}, not MySQL's 10"
        )));
    }
    let version = String::from_utf8_lossy(r.nul_str()).into_owned();
    r.u32()?; // connection id
    let mut scramble = r.bytes(8)?.to_vec();
    r.u8()?; // filler
    let mut caps = u32::from(r.u16()?);
    let mut status = 0;
    let mut plugin = String::new();
    if !r.is_empty() {
        r.u8()?; // the server's character set
        status = r.u16()?;
        caps |= u32::from(r.u16()?) << 16;
        let data_len = usize::from(r.u8()?);
        r.bytes(10)?; // reserved (MariaDB: its extended capabilities)
        if caps & caps::SECURE_CONNECTION != 0 {
            let n = data_len.saturating_sub(8).max(13).min(r.remaining());
            scramble.extend_from_slice(r.bytes(n)?);
        }
        if caps & caps::PLUGIN_AUTH != 0 {
            plugin = String::from_utf8_lossy(r.nul_str()).into_owned();
        }
    }
    if scramble.last() == Some(&0) {
        scramble.pop();
    }
    Ok(Greeting {
        version,
        caps,
        status,
        scramble,
        plugin,
    })
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// The nonce a scramble is computed over: the first 20 bytes.
fn nonce(scramble: &[u8]) -> &[u8] {
    &scramble[..scramble.len().min(20)]
}

/// `mysql_native_password`: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw))); an
/// empty password is an empty answer.
pub fn native_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return vec![];
    }
    let once = Sha1::digest(password);
    let twice = Sha1::digest(once);
    let mut h = Sha1::new();
    h.update(nonce(scramble));
    h.update(twice);
    xor(&once, &h.finalize())
}

/// `caching_sha2_password`: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) +
/// nonce); an empty password is an empty answer.
pub fn sha2_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return vec![];
    }
    let once = Sha256::digest(password);
    let twice = Sha256::digest(once);
    let mut h = Sha256::new();
    h.update(twice);
    h.update(nonce(scramble));
    xor(&once, &h.finalize())
}

fn cleartext(password: &str) -> Vec<u8> {
    let mut out = password.as_bytes().to_vec();
    out.push(0);
    out
}

fn needs_tls(what: &str) -> DbError {
    DbError::Auth(format!(
        "The server asks for {what}, which sends the password itself and so needs TLS; \
         connect with TLS (remove ssl-mode=DISABLED)."
    ))
}

/// The answer to a plugin's challenge (the first one or after a switch).
fn respond(plugin: &str, password: &str, scramble: &[u8], tls: bool) -> Result<Vec<u8>, DbError> {
    match plugin {
        NATIVE => Ok(native_scramble(password.as_bytes(), scramble)),
        SHA2 => Ok(sha2_scramble(password.as_bytes(), scramble)),
        "sha256_password" | "mysql_clear_password" if tls => Ok(cleartext(password)),
        "sha256_password" | "mysql_clear_password" => {
            Err(needs_tls(&format!("{plugin} authentication")))
        }
        other => Err(DbError::Auth(format!(
            "The server asks for the authentication plugin '{other}', which is not supported \
             here; give this user mysql_native_password or caching_sha2_password."
        ))),
    }
}

/// An ERR while logging in: the server's words, as an auth failure unless
/// the server is merely busy or going away.
pub fn login_error(e: ServerError) -> DbError {
    match e.code {
        // ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN
        1040 | 1053 => DbError::Unreachable(e.message),
        _ => DbError::Auth(e.message),
    }
}

/// The capabilities this client asks for, of those the server offers.
/// Never CLIENT_MULTI_STATEMENTS (one statement per call) nor LOCAL_FILES.
pub fn client_caps(server: u32, target: &Target) -> u32 {
    let mut want = caps::LONG_PASSWORD
        | caps::LONG_FLAG
        | caps::PROTOCOL_41
        | caps::TRANSACTIONS
        | caps::SECURE_CONNECTION
        | caps::MULTI_RESULTS
        | caps::PLUGIN_AUTH
        | caps::PLUGIN_AUTH_LENENC_DATA
        | caps::DEPRECATE_EOF;
    if target.database.is_some() {
        want |= caps::CONNECT_WITH_DB;
    }
    if target.tls {
        want |= caps::SSL;
    }
    // Bit 0 is CLIENT_MYSQL to MariaDB, which leaves it unset; a client
    // sets it (and so sends no MariaDB extended capabilities).
    want & (server | caps::LONG_PASSWORD)
}

/// SSLRequest: the first 32 bytes of a HandshakeResponse41.
pub fn ssl_request(caps: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(128);
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&MAX_PACKET.to_le_bytes());
    p.push(UTF8MB4);
    p.extend_from_slice(&[0; 23]);
    p
}

pub fn handshake_response(
    caps: u32,
    user: &str,
    auth: &[u8],
    database: Option<&str>,
    plugin: &str,
) -> Vec<u8> {
    let mut p = ssl_request(caps);
    p.extend_from_slice(user.as_bytes());
    p.push(0);
    if caps & caps::PLUGIN_AUTH_LENENC_DATA != 0 {
        put_lenenc(&mut p, auth.len() as u64);
    } else {
        p.push(auth.len() as u8); // scrambles are 20 or 32 bytes
    }
    p.extend_from_slice(auth);
    if caps & caps::CONNECT_WITH_DB != 0 {
        p.extend_from_slice(database.unwrap_or_default().as_bytes());
        p.push(0);
    }
    if caps & caps::PLUGIN_AUTH != 0 {
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
    }
    p
}

/// A finished login: what the server is and what was agreed.
pub struct Login {
    pub greeting: Greeting,
    pub caps: u32,
    pub status: u16,
}

/// Runs the connection phase on a fresh stream.
pub async fn login<S: Stream>(
    mut wire: Wire<S>,
    target: &Target,
) -> Result<(Wire<S>, Login), DbError> {
    for (what, v) in [
        ("user name", Some(&target.user)),
        ("database name", target.database.as_ref()),
    ] {
        if v.is_some_and(|v| v.contains('\0')) {
            return Err(DbError::Refused(format!(
                "The {what} contains a NUL character."
            )));
        }
    }
    let greeting = parse_greeting(&wire.read_packet().await?)?;
    let server = greeting.caps;
    if server & caps::PROTOCOL_41 == 0 || server & caps::SECURE_CONNECTION == 0 {
        return Err(lost("the server is older than MySQL 4.1"));
    }
    if target.tls && server & caps::SSL == 0 {
        return Err(DbError::Unreachable(
            "The MySQL server does not offer TLS (it has no certificate configured); \
             ssl-mode=DISABLED connects without it where that is allowed."
                .into(),
        ));
    }
    let caps = client_caps(server, target);
    if target.tls {
        wire.write_packet(&ssl_request(caps)).await?;
        wire = wire.start_tls()?;
    }
    // The greeting names the server's default plugin; anything but SHA-2
    // gets a native scramble, and the server switches if the user needs
    // another plugin.
    let mut plugin = if greeting.plugin == SHA2 {
        SHA2
    } else {
        NATIVE
    }
    .to_string();
    let first = respond(&plugin, &target.password, &greeting.scramble, target.tls)?;
    let database = target.database.as_deref();
    wire.write_packet(&handshake_response(
        caps,
        &target.user,
        &first,
        database,
        &plugin,
    ))
    .await?;
    for _ in 0..MAX_ROUNDS {
        let p = wire.read_packet().await?;
        match p.first() {
            Some(0x00) => {
                let status = parse_ok(&p)?.status;
                return Ok((wire, Login { greeting, caps, status }));
            }
            Some(0xFF) => return Err(login_error(parse_err(&p)?)),
            Some(0xFE) if p.len() == 1 => {
                return Err(DbError::Auth(
                    "The server asks for the pre-4.1 password scheme (mysql_old_password), \
                     which is not supported."
                        .into(),
                ))
            }
            Some(0xFE) => {
                // AuthSwitchRequest: the plugin's name, then its data.
                let mut r = Reader::new(&p[1..]);
                plugin = String::from_utf8_lossy(r.nul_str()).into_owned();
                let mut scramble = r.rest();
                if scramble.last() == Some(&0) {
                    scramble = &scramble[..scramble.len() - 1];
                }
                let answer = respond(&plugin, &target.password, scramble, target.tls)?;
                wire.write_packet(&answer).await?;
            }
            Some(0x01) if plugin == SHA2 => match p.get(1) {
                Some(0x03) => {} // fast authentication succeeded: OK follows
                Some(0x04) if target.tls => wire.write_packet(&cleartext(&target.password)).await?,
                Some(0x04) => return Err(needs_tls("caching_sha2_password's full authentication (the server has not cached this user's password yet)")),
                _ => return Err(lost("the server sent unexpected caching_sha2_password data")),
            },
            _ => return Err(lost("the server sent an unexpected packet during login")),
        }
    }
    Err(lost("the login took too many rounds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real MariaDB 10.11 greeting's scramble (parts 1 and 2).
    const MARIADB_SCRAMBLE: &str = "22337a2e737c352f2b2b356728315d5f457b5e45";

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // Expected values computed apart, with Python's hashlib, from the
    // formulas in the MySQL manual.
    #[test]
    fn native_password_scramble_vectors() {
        let s = unhex(MARIADB_SCRAMBLE);
        assert_eq!(
            hex::encode(native_scramble(b"secret", &s)),
            "f5ba3b450781ead4ca80ac721c4d44da33981d89"
        );
        assert_eq!(
            hex::encode(native_scramble("pässwörd".as_bytes(), &s)),
            "ade3781a38aab7471a49133e38426c2fdae5d9f3"
        );
        let counting: Vec<u8> = (1..=20).collect();
        assert_eq!(
            hex::encode(native_scramble(b"secret", &counting)),
            "b32bb3a583e1340c0a1108d58b1be49781ad8c2f"
        );
        // A trailing NUL after the 20 bytes changes nothing.
        let mut with_nul = s.clone();
        with_nul.push(0);
        assert_eq!(
            native_scramble(b"secret", &with_nul),
            native_scramble(b"secret", &s)
        );
        assert!(native_scramble(b"", &s).is_empty());
    }

    #[test]
    fn caching_sha2_scramble_vectors() {
        let counting: Vec<u8> = (1..=20).collect();
        assert_eq!(
            hex::encode(sha2_scramble(b"secret", &counting)),
            "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9"
        );
        assert_eq!(
            hex::encode(sha2_scramble(
                "pässwörd".as_bytes(),
                &unhex(MARIADB_SCRAMBLE)
            )),
            "f6589c2ba457fbc5527872058492bcae29adcf5e337b2812e6261f8a0397b13d"
        );
        assert!(sha2_scramble(b"", &counting).is_empty());
    }

    #[test]
    fn parses_a_real_mariadb_greeting() {
        let p = unhex(concat!(
            "0a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531000500000022337a",
            "2e737c352f00fef7080200ff81150000000000001d0000002b2b356728315d5f457b5e45006d797371",
            "6c5f6e61746976655f70617373776f726400"
        ));
        let g = parse_greeting(&p).unwrap();
        assert_eq!(g.version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
        assert_eq!(g.scramble, unhex(MARIADB_SCRAMBLE));
        assert_eq!(g.plugin, NATIVE);
        assert_eq!(g.status, 2);
        assert_eq!(g.caps & caps::PROTOCOL_41, caps::PROTOCOL_41);
        assert_eq!(g.caps & caps::SSL, 0, "this server had no certificate");
        assert_eq!(
            g.caps & caps::LONG_PASSWORD,
            0,
            "MariaDB leaves CLIENT_MYSQL unset"
        );
        let info = g.server_info();
        assert_eq!(info.version, "10.11.19-MariaDB-0+deb12u1");
        assert!(info.mariadb);
    }

    #[test]
    fn a_mysql_version_keeps_its_prefix_and_is_not_mariadb() {
        let g = Greeting {
            version: "5.5.5-custom".into(),
            caps: 0,
            status: 0,
            scramble: vec![],
            plugin: String::new(),
        };
        assert_eq!(
            g.server_info(),
            ServerInfo {
                version: "5.5.5-custom".into(),
                mariadb: false
            }
        );
    }

    #[test]
    fn an_err_instead_of_a_greeting_is_the_servers_words() {
        let mut p = vec![0xFF, 0x6a, 0x04];
        p.extend_from_slice(b"Host '10.0.0.9' is not allowed to connect to this MariaDB server");
        assert_eq!(
            parse_greeting(&p),
            Err(DbError::Auth(
                "Host '10.0.0.9' is not allowed to connect to this MariaDB server".into()
            ))
        );
        let busy = [&[0xFFu8, 0x10, 0x04][..], b"Too many connections"].concat();
        assert!(matches!(
            parse_greeting(&busy),
            Err(DbError::Unreachable(_))
        ));
    }

    #[test]
    fn plugins_that_need_the_password_need_tls_and_unknown_ones_are_named() {
        let s = unhex(MARIADB_SCRAMBLE);
        assert_eq!(respond("sha256_password", "pw", &s, true).unwrap(), b"pw\0");
        assert_eq!(
            respond("mysql_clear_password", "pw", &s, true).unwrap(),
            b"pw\0"
        );
        for p in ["sha256_password", "mysql_clear_password"] {
            match respond(p, "pw", &s, false) {
                Err(DbError::Auth(m)) => assert!(m.contains("TLS") && !m.contains("pw\0")),
                other => panic!("{other:?}"),
            }
        }
        match respond("client_ed25519", "pw", &s, true) {
            Err(DbError::Auth(m)) => assert!(m.contains("'client_ed25519'"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}

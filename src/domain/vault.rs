//! The write-only vault: credentials sealed with AES-256-GCM under the worker
//! secret `VAULT_KEY`, a fresh 96-bit nonce each time, and the tenant and
//! instance ids as associated data, so a ciphertext copied to another row or
//! tenant does not open. Only `seal` output is ever stored.

use super::ids::Random;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const VERSION: &str = "v1:";

/// The vault key, parsed once from `VAULT_KEY` (base64 of 32 bytes), and
/// the keys derived from it for other purposes (never the vault key itself).
#[derive(Clone)]
pub struct VaultKey(Aes256Gcm, [u8; 32]);

/// The label the idempotency fingerprint key is derived under.
const FINGERPRINT_LABEL: &[u8] = b"idempotency-fingerprint";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// HMAC-SHA256, the one instance in the worker (webhook signatures too).
pub(crate) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(data);
    m.finalize().into_bytes().into()
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(****)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("VAULT_KEY must be the base64 encoding of exactly 32 bytes")]
    BadKey,
    #[error("the sealed credential is malformed")]
    Malformed,
    #[error("the sealed credential does not open under this key and owner")]
    Forged,
}

impl VaultKey {
    pub fn from_base64(s: &str) -> Result<Self, VaultError> {
        let bytes = STANDARD.decode(s.trim()).map_err(|_| VaultError::BadKey)?;
        if bytes.len() != 32 {
            return Err(VaultError::BadKey);
        }
        let aead = Aes256Gcm::new_from_slice(&bytes).map_err(|_| VaultError::BadKey)?;
        Ok(VaultKey(aead, hmac(&bytes, FINGERPRINT_LABEL)))
    }

    /// HMAC-SHA256 (hex) of `data` under a key derived from the vault key:
    /// a fingerprint of a request body holding credentials that cannot be
    /// checked against a guessed credential without the server secret.
    pub fn fingerprint(&self, data: &[u8]) -> String {
        hex::encode(hmac(&self.1, data))
    }

    /// Seals `plaintext` for one owner (`tenant|instance`).
    pub fn seal(&self, rng: &dyn Random, owner: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce);
        let ct = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    pub fn open(&self, owner: &str, sealed: &str) -> Result<Vec<u8>, VaultError> {
        let raw = sealed
            .strip_prefix(VERSION)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > 12 + 16)
            .ok_or(VaultError::Malformed)?;
        let (nonce, ct) = raw.split_at(12);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Forged)
    }
}

/// The associated data binding a ciphertext to its row.
pub fn owner(tenant: &str, instance: &str) -> String {
    format!("{tenant}|{instance}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::testing::SeqRandom;
    use std::cell::Cell;

    fn key() -> VaultKey {
        VaultKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn seals_and_opens_only_for_its_owner() {
        let rng = SeqRandom(Cell::new(11));
        let k = key();
        let a = k.seal(&rng, "ten_a|cn_1", b"ghp_secret");
        let b = k.seal(&rng, "ten_a|cn_1", b"ghp_secret");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("ghp_secret"));
        assert_eq!(k.open("ten_a|cn_1", &a).unwrap(), b"ghp_secret");
        assert_eq!(k.open("ten_b|cn_1", &a), Err(VaultError::Forged));
        assert_eq!(k.open("ten_a|cn_2", &a), Err(VaultError::Forged));
        let other = VaultKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert_eq!(other.open("ten_a|cn_1", &a), Err(VaultError::Forged));
        assert_eq!(k.open("ten_a|cn_1", "v1:AAAA"), Err(VaultError::Malformed));
        assert_eq!(k.open("ten_a|cn_1", "garbage"), Err(VaultError::Malformed));
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert!(VaultKey::from_base64("").is_err());
        assert!(VaultKey::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(VaultKey::from_base64("not base64!").is_err());
        assert_eq!(format!("{:?}", key()), "VaultKey(****)");
        // RFC 4231 test cases 1 and 6 (a key longer than the block).
        assert_eq!(
            hex::encode(hmac(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex::encode(hmac(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // The fingerprint key is derived, not the vault key itself.
        let k = key();
        assert_ne!(k.fingerprint(b"x"), hex::encode(hmac(&[7u8; 32], b"x")));
    }
}

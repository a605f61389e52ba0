//! The zone's approval seal (审批专用章) as cryptography: an SM2 key pair whose private key signs the
//! SM3 hash of a certificate's canonical content, the public key's fingerprint, and the wrapping of the
//! private key at rest.
//!
//! Rules (security.md "Electronic seals" and "Input, integrity, confidentiality"):
//! - GB/T 38540-2020 signs `dataHash` = SM3 of the document with SM2; here the message given to SM2 is
//!   that 32-byte hash, and SM2 itself hashes it again with Z_A (GM/T 0003.2-2012 §6.1), using the
//!   default distinguishing identifier [`DIST_ID`] of GM/T 0009-2012.
//! - The fingerprint of a key is the SM3 hash of its uncompressed SEC1 public key (65 bytes).
//! - The private key is stored only wrapped: SM4-GCM (GB/T 39786-2021 asks for SM4 in an authenticated
//!   mode) under a key derived from the configured secret with HMAC-SM3, a fresh 96-bit nonce per
//!   wrapping, and the key's fingerprint as associated data, so that a wrapped key cannot be moved to
//!   another key's row. The plain private key never leaves this module except into a signature.
//!
//! Pure: the randomness (key generation, nonces) is passed in by the caller.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{AesGcm, Nonce};
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::sec1::ToEncodedPoint;
use sm2::{PublicKey, SecretKey};
use sm3::{Digest, Sm3};
use sm4::Sm4;
use zeroize::Zeroizing;

/// The distinguishing identifier hashed into Z_A (GM/T 0009-2012 §10: the default user ID).
pub const DIST_ID: &str = "1234567812345678";

/// Label of the derivation of the wrapping key from the configured secret.
const WRAP_LABEL: &[u8] = b"dianxiaoer/seal-key-wrap/v1";

/// Prefix of a wrapped private key: the format, so that a later one can be told apart.
const WRAP_PREFIX: &str = "sm4gcm1:";

type Sm4Gcm = AesGcm<Sm4, U12>;

/// Why a seal operation failed. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The wrapped key does not open with this wrapping key: the configured secret changed, or the
    /// stored text was altered.
    #[error(
        "审批专用章私钥无法解开：印章密钥保护口令（DXE_SEAL_KEY，未设置时为 DXE_SESSION_SECRET）与生成该密钥时不同，或密钥记录已被改动"
    )]
    Unwrap,
    /// A stored public key or signature is not well formed.
    #[error("印章公钥或签名格式不正确")]
    Malformed,
}

/// The key that wraps seal private keys at rest, derived from a configured secret.
pub struct WrappingKey(Zeroizing<[u8; 16]>);

impl WrappingKey {
    /// HMAC-SM3(secret, label), first 16 bytes: one PRF block, as in HKDF-Expand with a single output
    /// block; the secret is already high-entropy (the start-up check refuses weak ones).
    pub fn derive(secret: &[u8]) -> WrappingKey {
        let mut key = Zeroizing::new([0u8; 16]);
        if let Ok(mut mac) = <Hmac<Sm3> as Mac>::new_from_slice(secret) {
            mac.update(WRAP_LABEL);
            let out = mac.finalize().into_bytes();
            key.copy_from_slice(&out[..16]);
        }
        WrappingKey(key)
    }
}

impl std::fmt::Debug for WrappingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WrappingKey(..)")
    }
}

/// A seal's private key. Zeroised on drop (by `sm2`); its `Debug` shows only the fingerprint.
pub struct SealSecret(SecretKey);

impl std::fmt::Debug for SealSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealSecret({})", self.fingerprint())
    }
}

impl SealSecret {
    /// A new random key pair.
    pub fn generate(rng: &mut impl CryptoRngCore) -> SealSecret {
        SealSecret(SecretKey::random(rng))
    }

    /// The public key, uncompressed SEC1 (`04 || x || y`, 65 bytes).
    pub fn public_key(&self) -> Vec<u8> {
        sec1(&self.0.public_key())
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key())
    }

    /// SM2 signature `r || s` (64 bytes) over `digest` (module docs). Deterministic (RFC 6979 nonces).
    pub fn sign(&self, digest: &[u8; 32]) -> Result<[u8; 64], SealError> {
        let key = SigningKey::new(DIST_ID, &self.0).map_err(|_| SealError::Malformed)?;
        let sig: Signature = key.sign(digest);
        Ok(sig.to_bytes())
    }

    /// The private key wrapped for storage under `kek`, bound to its fingerprint (module docs).
    pub fn wrap(&self, kek: &WrappingKey, nonce: [u8; 12]) -> String {
        let plain = Zeroizing::new(self.0.to_bytes());
        let fp = self.fingerprint();
        let sealed = Sm4Gcm::new_from_slice(kek.0.as_slice())
            .ok()
            .and_then(|c| {
                c.encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_slice(), aad: fp.as_bytes() }).ok()
            })
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        format!("{WRAP_PREFIX}{}", hex::encode(blob))
    }

    /// Opens a wrapped key and checks that it is the key of `fingerprint`.
    pub fn unwrap(kek: &WrappingKey, fingerprint: &str, wrapped: &str) -> Result<SealSecret, SealError> {
        let blob = wrapped.strip_prefix(WRAP_PREFIX).and_then(|h| hex::decode(h).ok()).ok_or(SealError::Unwrap)?;
        if blob.len() < 12 {
            return Err(SealError::Unwrap);
        }
        let (nonce, sealed) = blob.split_at(12);
        let cipher = Sm4Gcm::new_from_slice(kek.0.as_slice()).map_err(|_| SealError::Unwrap)?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: fingerprint.as_bytes() })
                .map_err(|_| SealError::Unwrap)?,
        );
        let secret = SealSecret(SecretKey::from_slice(plain.as_slice()).map_err(|_| SealError::Unwrap)?);
        if secret.fingerprint() != fingerprint {
            return Err(SealError::Unwrap);
        }
        Ok(secret)
    }
}

fn sec1(public: &PublicKey) -> Vec<u8> {
    public.to_encoded_point(false).as_bytes().to_vec()
}

/// Hex SM3 of the uncompressed SEC1 public key.
pub fn fingerprint(public_sec1: &[u8]) -> String {
    hex::encode(Sm3::digest(public_sec1))
}

/// A fingerprint as shown to people: upper case in groups of four.
pub fn fingerprint_grouped(fp: &str) -> String {
    fp.to_uppercase()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `signature` (`r || s`) is the seal's signature over `digest` with the key `public_sec1`.
pub fn verify(public_sec1: &[u8], digest: &[u8; 32], signature: &[u8]) -> Result<bool, SealError> {
    let key = VerifyingKey::from_sec1_bytes(DIST_ID, public_sec1).map_err(|_| SealError::Malformed)?;
    let sig = Signature::try_from(signature).map_err(|_| SealError::Malformed)?;
    Ok(key.verify(digest, &sig).is_ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn digest(s: &str) -> [u8; 32] {
        Sm3::digest(s.as_bytes()).into()
    }

    #[test]
    fn signs_and_verifies_and_refuses_another_hash_or_key() {
        let key = SealSecret::generate(&mut OsRng);
        let public = key.public_key();
        assert_eq!(public.len(), 65);
        assert_eq!(public[0], 4);
        let sig = key.sign(&digest("准予")).unwrap();
        assert!(verify(&public, &digest("准予"), &sig).unwrap());
        assert!(!verify(&public, &digest("不予"), &sig).unwrap());
        let other = SealSecret::generate(&mut OsRng);
        assert!(!verify(&other.public_key(), &digest("准予"), &sig).unwrap());
        let mut bent = sig;
        bent[10] ^= 1;
        assert!(!verify(&public, &digest("准予"), &bent).unwrap_or(false));
        assert_eq!(verify(&public[..64], &digest("准予"), &sig), Err(SealError::Malformed));
        assert_eq!(verify(&public, &digest("准予"), &sig[..63]), Err(SealError::Malformed));
    }

    #[test]
    fn verifies_the_rustcrypto_openssl_vector() {
        // sm2 crate tests/sm2dsa.rs: signed by OpenSSL with distid "example@rustcrypto.org", so it
        // checks the curve and SM3 but not our identifier; ours must then refuse it.
        let public = hex::decode(
            "0408D77AE04C01CC4C1104360DD8AF6B6F7DF334283D7C1A6AFD5652407B87BEE5014E2A57C36C150D16324DC664E31E6432359609C4E79847A5B161C8C7364C8A",
        )
        .unwrap();
        let sig = hex::decode(
            "d1dcccedd9fb785e0f67c16b7c52901625c0b69de9bca2144acc7be713cad2fcf7d1eae6e3a157b36c65f672f738ca8b46298bf149a6510072c431b49cd88b1c",
        )
        .unwrap();
        let vk = VerifyingKey::from_sec1_bytes("example@rustcrypto.org", &public).unwrap();
        let sig = Signature::try_from(sig.as_slice()).unwrap();
        assert!(vk.verify(b"testing", &sig).is_ok());
        let ours = VerifyingKey::from_sec1_bytes(DIST_ID, &public).unwrap();
        assert!(ours.verify(b"testing", &sig).is_err());
    }

    #[test]
    fn fingerprint_is_sm3_of_the_public_key() {
        let key = SealSecret::generate(&mut OsRng);
        let fp = key.fingerprint();
        assert_eq!(fp.len(), 64);
        assert_eq!(fp, hex::encode(Sm3::digest(key.public_key())));
        let shown = fingerprint_grouped(&fp);
        assert_eq!(shown.len(), 64 + 15);
        assert!(!format!("{key:?}").contains(&hex::encode(key.0.to_bytes())));
    }

    #[test]
    fn wraps_and_unwraps_only_with_the_same_secret_and_fingerprint() {
        let key = SealSecret::generate(&mut OsRng);
        let fp = key.fingerprint();
        let kek = WrappingKey::derive(b"a configured secret of enough length 0123");
        let wrapped = key.wrap(&kek, [7; 12]);
        assert!(wrapped.starts_with(WRAP_PREFIX));
        assert!(!wrapped.contains(&hex::encode(key.0.to_bytes())));
        let back = SealSecret::unwrap(&kek, &fp, &wrapped).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let wrong = WrappingKey::derive(b"another secret");
        assert_eq!(SealSecret::unwrap(&wrong, &fp, &wrapped).err(), Some(SealError::Unwrap));
        let other = SealSecret::generate(&mut OsRng).fingerprint();
        assert_eq!(SealSecret::unwrap(&kek, &other, &wrapped).err(), Some(SealError::Unwrap));
        let mut bent = wrapped.clone().into_bytes();
        let last = bent.len() - 1;
        bent[last] = if bent[last] == b'0' { b'1' } else { b'0' };
        let bent = String::from_utf8(bent).unwrap();
        assert_eq!(SealSecret::unwrap(&kek, &fp, &bent).err(), Some(SealError::Unwrap));
        assert_eq!(SealSecret::unwrap(&kek, &fp, "sm4gcm1:00").err(), Some(SealError::Unwrap));
        // Two wrappings of one key differ by their nonce.
        assert_ne!(key.wrap(&kek, [8; 12]), wrapped);
    }
}

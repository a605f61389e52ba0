//! The audit log's hash chain (security.md "Audit": tamper-evident, SM3 per GB/T 39786-2021).
//!
//! Each record's hash covers the previous record's hash and the record's canonical bytes, so an edited,
//! deleted or reordered record breaks every link after it. With a configured secret the hash is
//! HMAC-SM3, so someone who can write the database cannot recompute a valid chain.

use hmac::{Hmac, Mac};
use sm3::{Digest, Sm3};

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// Hash of one record given its predecessor's hash.
pub fn link(key: Option<&[u8]>, prev: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    match key {
        Some(k) => {
            let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(k).unwrap_or_else(|_| {
                // HMAC accepts keys of any length; this branch is unreachable.
                <Hmac<Sm3> as Mac>::new_from_slice(&[0]).unwrap_or_else(|_| unreachable!())
            });
            mac.update(prev);
            mac.update(canonical);
            mac.finalize().into_bytes().into()
        }
        None => {
            let mut h = Sm3::new();
            h.update(prev);
            h.update(canonical);
            h.finalize().into()
        }
    }
}

/// Canonical bytes of a record: fields joined by the unit separator, each escaped so that no field can
/// imitate a boundary.
pub fn canonical(fields: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(0x1f);
        }
        for b in f.bytes() {
            if b == 0x1f || b == 0x1b {
                out.push(0x1b);
            }
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_of_abc_matches_the_standard_vector() {
        // GM/T 0004-2012 Appendix A.1: SM3("abc").
        let d: [u8; 32] = Sm3::digest(b"abc").into();
        assert_eq!(hex::encode(d), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn any_change_breaks_the_link() {
        let a = link(None, &GENESIS, &canonical(&["1", "login", "ok"]));
        assert_ne!(a, link(None, &GENESIS, &canonical(&["1", "login", "fail"])));
        assert_ne!(a, link(Some(b"k"), &GENESIS, &canonical(&["1", "login", "ok"])));
        assert_ne!(a, link(None, &[1; 32], &canonical(&["1", "login", "ok"])));
    }

    #[test]
    fn fields_cannot_imitate_a_boundary() {
        assert_ne!(canonical(&["a\u{1f}b", "c"]), canonical(&["a", "b\u{1f}c"]));
        assert_ne!(canonical(&["ab", ""]), canonical(&["a", "b"]));
    }
}

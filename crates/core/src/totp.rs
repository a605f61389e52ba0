//! Time-based one-time passwords for the second factor of admin roles (security.md "Identity";
//! GB/T 22239-2019 8.1.4.1 d: two factors).
//!
//! RFC 6238 with the parameters every authenticator app supports: HMAC-SHA1, 6 digits, 30 s step.
//! Secrets travel as RFC 4648 base32 in an `otpauth://` URI (Google Authenticator "Key Uri Format").

use std::fmt::Write;

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per time step (RFC 6238 §5.2 recommends 30).
pub const STEP_SECS: i64 = 30;

/// RFC 4648 §6 base32 alphabet.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity((data.len() * 8).div_ceil(5));
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(base32_symbol(buffer >> bits));
            buffer &= (1 << bits) - 1;
        }
    }
    if bits > 0 {
        out.push(base32_symbol(buffer << (5 - bits)));
    }
    out
}

fn base32_symbol(v: u32) -> char {
    BASE32.get((v & 31) as usize).map_or('A', |&b| char::from(b))
}

/// Decodes base32 as people type it: any case, spaces and `=` padding ignored. `None` on a character
/// outside the alphabet or a length no encoder produces.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    let mut symbols = 0usize;
    for c in s.chars().filter(|&c| c != ' ' && c != '=') {
        let upper = u8::try_from(c.to_ascii_uppercase()).ok()?;
        let v = BASE32.iter().position(|&a| a == upper)?;
        buffer = (buffer << 5) | u32::try_from(v).ok()?;
        bits += 5;
        symbols += 1;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(buffer >> bits).ok()?);
            buffer &= (1 << bits) - 1;
        }
    }
    // A final group of 1, 3 or 6 symbols cannot come from whole bytes (RFC 4648 §6).
    (!matches!(symbols % 8, 1 | 3 | 6)).then_some(out)
}

/// HOTP value (RFC 4226 §5.3: dynamic truncation, then modulo 10⁶).
fn hotp(secret: &[u8], counter: u64) -> Option<u32> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).ok()?;
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash.get(19)? & 0x0f);
    let word: [u8; 4] = hash.get(offset..offset + 4)?.try_into().ok()?;
    Some((u32::from_be_bytes(word) & 0x7fff_ffff) % 1_000_000)
}

fn code_for_step(secret: &[u8], step: i64) -> Option<String> {
    let counter = u64::try_from(step).ok()?;
    hotp(secret, counter).map(|v| format!("{v:06}"))
}

/// The 6-digit code at a Unix time. Empty before 1970, where no step exists.
pub fn code_at(secret: &[u8], unix_secs: i64) -> String {
    code_for_step(secret, unix_secs.div_euclid(STEP_SECS)).unwrap_or_default()
}

/// Checks a code against the current step and one step either side (RFC 6238 §5.2 allows for clock
/// drift and typing delay). Returns the matched step, which the caller stores; steps at or before
/// `last_used_step` are refused so an observed code cannot be replayed (RFC 6238 §5.2).
pub fn verify(secret: &[u8], code: &str, unix_secs: i64, last_used_step: Option<i64>) -> Option<i64> {
    if secret.is_empty() || code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = unix_secs.div_euclid(STEP_SECS);
    let mut matched = None;
    for step in [current.saturating_sub(1), current, current.saturating_add(1)] {
        if last_used_step.is_some_and(|last| step <= last) {
            continue;
        }
        let equal =
            code_for_step(secret, step).is_some_and(|expected| constant_time_eq(expected.as_bytes(), code.as_bytes()));
        // Keep the latest matching step: storing it refuses the most later codes.
        if equal {
            matched = Some(step);
        }
    }
    matched
}

/// Compares without an early exit, so timing does not reveal how many leading digits were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes everything except RFC 3986 §2.3 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The provisioning URI shown as a QR code:
/// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
/// The secret is normalised (spaces and `=` removed, upper case) as apps require.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let secret: String = secret_b32.chars().filter(|&c| c != ' ' && c != '=').map(|c| c.to_ascii_uppercase()).collect();
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        percent_encode(account),
        percent_encode(&secret),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        // The 8-digit values of RFC 6238 Appendix B, last 6 digits.
        let vectors = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        for (t, code) in vectors {
            assert_eq!(code_at(RFC_SECRET, t), code, "t = {t}");
        }
    }

    #[test]
    fn rfc4648_base32_vectors() {
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded), Some(plain.as_bytes().to_vec()));
        }
        assert_eq!(base32_decode("MZXW6YTBOI======"), Some(b"foobar".to_vec()));
        assert_eq!(base32_decode("mzxw 6ytb oi"), Some(b"foobar".to_vec()));
    }

    #[test]
    fn base32_rejects_garbage() {
        assert_eq!(base32_decode("MZXW1"), None);
        assert_eq!(base32_decode("MZXW6!"), None);
        assert_eq!(base32_decode("ＭＺ"), None);
        assert_eq!(base32_decode("M"), None);
        assert_eq!(base32_decode("MZX"), None);
        assert_eq!(base32_decode("MZXW6Y"), None);
    }

    #[test]
    fn window_accepts_one_step_either_side() {
        let t = 1_111_111_111;
        let step = t / STEP_SECS;
        assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, t), t, None), Some(step));
        assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, t - 30), t, None), Some(step - 1));
        assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, t + 30), t, None), Some(step + 1));
        assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, t - 60), t, None), None);
        assert_eq!(verify(RFC_SECRET, &code_at(RFC_SECRET, t + 60), t, None), None);
    }

    #[test]
    fn replay_is_refused() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t);
        let used = verify(RFC_SECRET, &code, t, None);
        assert!(used.is_some());
        assert_eq!(verify(RFC_SECRET, &code, t, used), None);
        assert_eq!(verify(RFC_SECRET, &code, t + 20, used), None);
        // An older code is refused once a newer one was used.
        let older = code_at(RFC_SECRET, t - 30);
        assert_eq!(verify(RFC_SECRET, &older, t, used), None);
        // The next step's code still works.
        let next = code_at(RFC_SECRET, t + 30);
        assert_eq!(verify(RFC_SECRET, &next, t + 30, used), used.map(|s| s + 1));
    }

    #[test]
    fn code_must_be_six_ascii_digits() {
        let t = 59;
        assert_eq!(verify(RFC_SECRET, "287082", t, None), Some(1));
        for bad in ["28708", "2870820", " 287082", "28708２", "", "abcdef", "+28708"] {
            assert_eq!(verify(RFC_SECRET, bad, t, None), None, "{bad}");
        }
        assert_eq!(verify(b"", &code_at(b"", t), t, None), None);
    }

    #[test]
    fn otpauth_uri_encodes_labels() {
        assert_eq!(
            otpauth_uri("沂水 开发区", "admin@zone", "gezd gnbv gy3t qojq ===="),
            "otpauth://totp/%E6%B2%82%E6%B0%B4%20%E5%BC%80%E5%8F%91%E5%8C%BA:admin%40zone\
             ?secret=GEZDGNBVGY3TQOJQ&issuer=%E6%B2%82%E6%B0%B4%20%E5%BC%80%E5%8F%91%E5%8C%BA\
             &algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            otpauth_uri("Dianxiaoer", "a:b", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Dianxiaoer:a%3Ab?secret=JBSWY3DPEHPK3PXP&issuer=Dianxiaoer\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    proptest! {
        #[test]
        fn base32_round_trips(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(base32_decode(&base32_encode(&data)), Some(data));
        }

        #[test]
        fn codes_are_six_digits_and_verify(
            secret in proptest::collection::vec(any::<u8>(), 10..40),
            t in 0i64..4_000_000_000,
        ) {
            let code = code_at(&secret, t);
            prop_assert_eq!(code.len(), 6);
            prop_assert_eq!(verify(&secret, &code, t, None).is_some(), true);
        }

        #[test]
        fn decode_never_panics(s in any::<String>()) {
            let _ = base32_decode(&s);
        }
    }
}

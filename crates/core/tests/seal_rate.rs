//! Certificates sealed and verified per second on one core (docs/BENCHMARKS.md): building the
//! canonical content, its SM3 hash and code, and the SM2 signature; and the full check of a stored
//! certificate (re-hash, code, fingerprint, SM2 verification, key validity).
//!
//! `cargo test --release -p dianxiaoer-core --test seal_rate -- --ignored --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dianxiaoer_core::approval::Date;
use dianxiaoer_core::approval::certificate::{
    CertificateContent, KeyOnFile, SealedRecord, Validity, check, verification_code,
};
use dianxiaoer_core::seal::SealSecret;
use std::time::Instant;

const N: usize = 2_000;

fn content(i: usize, seal: &str) -> CertificateContent {
    CertificateContent {
        title: "准予行政许可决定书".into(),
        case_no: format!("SP2021-{i:06}"),
        item_code: "371323-GS-006".into(),
        item_name: "食品经营许可".into(),
        enterprise_name: format!("沂水第{i}食品有限公司"),
        credit_code: "91371323MA3C000036".into(),
        decision: "准予".into(),
        decision_date: "2021-03-04".into(),
        valid_from: "2021-03-04".into(),
        valid_until: "2026-03-03".into(),
        issuer: "沂水经济开发区行政审批服务局".into(),
        sealed_at: 1_614_841_212_000 + i as i64,
        seal: seal.to_owned(),
    }
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn certificates_per_second() {
    let key = SealSecret::generate(&mut rand_core::OsRng);
    let fp = key.fingerprint();
    let t = Instant::now();
    let records: Vec<SealedRecord> = (0..N)
        .map(|i| {
            let c = content(i, &fp);
            let digest = c.digest();
            SealedRecord {
                code: verification_code(&digest),
                hash: hex::encode(digest),
                signature: hex::encode(key.sign(&digest).unwrap()),
                content: c,
            }
        })
        .collect();
    let sign = t.elapsed();
    let on_file = KeyOnFile {
        fingerprint: fp.clone(),
        public_key: hex::encode(key.public_key()),
        validity: Validity::new(Date::parse("2021-01-01").unwrap(), Date::parse("2023-12-31").unwrap()).unwrap(),
        retired_at: None,
    };
    let t = Instant::now();
    for r in &records {
        check(r, &on_file).unwrap();
    }
    let verify = t.elapsed();
    println!(
        "{N} certificates: sealed {:.0}/s ({:.3} ms each), verified {:.0}/s ({:.3} ms each)",
        N as f64 / sign.as_secs_f64(),
        sign.as_secs_f64() * 1000.0 / N as f64,
        N as f64 / verify.as_secs_f64(),
        verify.as_secs_f64() * 1000.0 / N as f64,
    );
}

//! The approval seal's routes (审批专用章): the security admin's key management, a case's certificate,
//! and the public verification of a printed code. Part of the one route table (see `routes.rs`).

use super::{Route, r};
use crate::{api_seal, pages};
use axum::routing::{get, post};
use dianxiaoer_core::access::Permission;

pub(super) fn pages() -> Vec<Route> {
    use Permission as P;
    vec![
        // Public: anyone holding a printed certificate checks it by its code; the code (60 bits of
        // the signed hash) is what gives access to that one certificate's content.
        r("GET", "/verify", None, "批准文书核验（输入校验码）", get(pages::certificate::verify)),
        r("GET", "/security/seal", Some(P::ManageSecurityPolicy), "审批专用章密钥", get(pages::seal::keys)),
        r(
            "POST",
            "/security/seal/keys",
            Some(P::ManageSecurityPolicy),
            "生成或轮换审批专用章密钥",
            post(pages::seal::generate),
        ),
        r(
            "POST",
            "/security/seal/validity",
            Some(P::ManageSecurityPolicy),
            "设置审批专用章有效期",
            post(pages::seal::validity),
        ),
        r(
            "GET",
            "/approval/cases/{id}/certificate",
            Some(P::ReadApprovals),
            "批准文书（A4 打印）",
            get(pages::certificate::page),
        ),
    ]
}

pub(super) fn api() -> Vec<Route> {
    use Permission as P;
    vec![
        r(
            "GET",
            "/api/v1/verify/{code}",
            None,
            "批准文书核验（有效、已撤销、已被篡改、不存在）",
            get(api_seal::verify),
        ),
        r(
            "GET",
            "/api/v1/security/seal/keys",
            Some(P::ManageSecurityPolicy),
            "审批专用章密钥（公钥与指纹，不含私钥）",
            get(api_seal::keys),
        ),
        r(
            "POST",
            "/api/v1/security/seal/keys",
            Some(P::ManageSecurityPolicy),
            "生成或轮换审批专用章密钥（valid_from、valid_to）",
            post(api_seal::generate),
        ),
        r(
            "POST",
            "/api/v1/security/seal/validity",
            Some(P::ManageSecurityPolicy),
            "设置当前审批专用章有效期（valid_from、valid_to）",
            post(api_seal::validity),
        ),
        r(
            "GET",
            "/api/v1/approval/cases/{id}/certificate",
            Some(P::ReadApprovals),
            "办件的批准文书（内容、校验码、摘要与签名）",
            get(api_seal::certificate),
        ),
    ]
}

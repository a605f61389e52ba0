//! Electronic documents of a case over HTTP on both backends: the applicant and staff upload PDF,
//! OFD, JPEG or PNG files recognised by content; wrong formats, unknown materials, oversize (up to a
//! 200 MB body) and
//! empty files are refused with nothing written; each document joins the next transition; downloads
//! are attachments with nosniff and the same bytes; another enterprise cannot see them; a closed
//! case takes no more documents; the case page uploads too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dianxiaoer_store::AuditFilter;
use dianxiaoer_testkit::{Backend, Session, TestApp, dual};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// 特种设备使用登记: no 容缺.
const BOILER: &str = "371323-GS-010";

async fn upload(s: &Session, id: i64, material: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form =
        Form::new().text("material", material.to_string()).part("file", Part::bytes(bytes).file_name(name.to_string()));
    s.client
        .post(s.url(&format!("/api/v1/approval/cases/{id}/documents")))
        .header("x-csrf-token", &s.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn detail(s: &Session, id: i64) -> Value {
    s.get(&format!("/api/v1/approval/cases/{id}")).await.json().await.unwrap()
}

/// Starts an upload that declares 200 MB and sends a little more than the limit, then reads the
/// answer (a client that went on writing all 200 MB would meet the closed connection instead).
async fn declared_200_mb(app: &TestApp, s: &Session, id: i64) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let r = s.post_json("/api/v1/api-keys", &json!({"name": "上传测试"})).await;
    let key = r.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_string();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let boundary = "dxe-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    );
    let declared = 200 * 1024 * 1024;
    let request = format!(
        "POST /api/v1/approval/cases/{id}/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n{head}"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    // Just past the limit (10 MiB + 64 KiB of body), so that the server has read all that was sent
    // when it answers, and closes without unread data (which would reset the connection).
    let chunk = pdf(64 * 1024);
    for _ in 0..161 {
        tcp.write_all(&chunk).await.unwrap();
    }
    tcp.write_all(&pdf(4096)).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), tcp.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

fn pdf(n: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.resize(n, b'x');
    b
}

async fn documents(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (staff, ent, other, leader) =
        (app.login("staff").await, app.login("ent_a").await, app.login("ent_b").await, app.login("leader").await);
    let a = app.fixture.enterprise("a");
    let it: Value = staff.get(&format!("/api/v1/approval/items/{BOILER}")).await.json().await.unwrap();
    let materials: Vec<String> = it["item"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["fetchable"] == false)
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    let r = ent
        .post_json("/api/v1/approval/cases", &json!({"item_code": BOILER, "enterprise_id": a, "materials": materials}))
        .await;
    let id = r.json::<Value>().await.unwrap()["case"]["id"].as_i64().unwrap();

    // Refusals, nothing written.
    for (material, name, bytes, message) in [
        (materials[0].as_str(), "说明.txt", b"hello".to_vec(), "只接受 PDF、OFD、JPEG 或 PNG"),
        (materials[0].as_str(), "伪装.pdf", b"MZ\x90\0\x03".to_vec(), "只接受 PDF、OFD、JPEG 或 PNG"),
        ("营业执照正本", "a.pdf", pdf(100), "不是该事项的申请材料"),
        (materials[0].as_str(), "大.pdf", pdf(10 * 1024 * 1024 + 1), "超过上限 10 MB"),
        (materials[0].as_str(), "空.pdf", Vec::new(), "文件为空"),
    ] {
        let r = upload(&ent, id, material, name, bytes).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{name}");
        let body: Value = r.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains(message), "{name}: {body}");
    }
    // A 200 MB upload is cut off at the body limit: 413 with the reason.
    let (status, body) = declared_200_mb(&app, &ent, id).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("超过了允许的大小"), "{body}");
    assert!(detail(&ent, id).await["documents"].as_array().unwrap().is_empty());
    // Roles: leadership files nothing (403 by the route), another enterprise does not see the case.
    assert_eq!(upload(&leader, id, "", "a.pdf", pdf(10)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(upload(&other, id, "", "a.pdf", pdf(10)).await.status(), StatusCode::NOT_FOUND);

    // The applicant's PDF and an OFD; staff add a PNG scan.
    let body = pdf(2048);
    let r = upload(&ent, id, &materials[0], "C:\\扫描\\申请表.pdf", body.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let doc: Value = r.json().await.unwrap();
    assert_eq!((doc["file_name"].as_str(), doc["kind"].as_str()), (Some("申请表.pdf"), Some("pdf")));
    assert_eq!(doc["sm3"].as_str().unwrap().len(), 64);
    assert!(doc["event_id"].is_null(), "waits for the next transition");
    assert_eq!(upload(&ent, id, "", "证照.ofd", b"PK\x03\x04ofd".to_vec()).await.status(), StatusCode::CREATED);
    assert_eq!(upload(&staff, id, "", "scan.png", b"\x89PNG\r\n\x1a\nxx".to_vec()).await.status(), StatusCode::CREATED);

    // Submitting takes them along.
    let r = ent.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": "submit"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let d = detail(&staff, id).await;
    let submit = d["events"].as_array().unwrap().iter().find(|e| e["action"] == "submit").unwrap()["id"].clone();
    let docs = d["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|x| x["event_id"] == submit), "{docs:?}");

    // Download: same bytes, attachment, nosniff; not for another enterprise.
    let doc_id = doc["id"].as_i64().unwrap();
    let r = staff.get(&format!("/approval/cases/{id}/documents/{doc_id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), body);
    let r = ent.get(&format!("/api/v1/approval/cases/{id}/documents/{doc_id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        other.get(&format!("/api/v1/approval/cases/{id}/documents/{doc_id}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // The case page lists them and uploads through its form.
    let html = ent.get(&format!("/approval/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains("申请表.pdf") && html.contains("data-testid=\"document-upload\""));
    let form = Form::new().text("material", "").part("file", Part::bytes(pdf(300)).file_name("补充说明.pdf"));
    let r = ent
        .client
        .post(ent.url(&format!("/approval/cases/{id}/documents?_csrf={}", ent.csrf)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let form = Form::new().text("material", "").part("file", Part::bytes(b"text".to_vec()).file_name("x.txt"));
    let r = ent
        .client
        .post(ent.url(&format!("/approval/cases/{id}/documents?_csrf={}", ent.csrf)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("只接受 PDF、OFD、JPEG 或 PNG"));

    // Withdrawn: closed, no more documents.
    let r = ent.post_json(&format!("/api/v1/approval/cases/{id}/actions"), &json!({"action": "withdraw"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = upload(&ent, id, "", "late.pdf", pdf(10)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail(&staff, id).await["documents"].as_array().unwrap().len(), 4);
    let f = AuditFilter { action: Some("upload_approval_document".into()), ..Default::default() };
    assert_eq!(app.store.list_audit(&f, 1, 1).await.unwrap().total, 4);
    app.cleanup().await;
}
dual!(case_documents_are_checked_attached_and_scoped, super::documents);

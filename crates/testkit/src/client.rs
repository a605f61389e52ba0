//! A browser-like client: cookie jar, no automatic redirects, CSRF token taken from the pages.

use crate::TestApp;
use crate::fixture::TOTP_SECRET;
use dianxiaoer_core::totp;
use dianxiaoer_web::Clock;
use reqwest::{Client, Response, StatusCode};

pub struct Session {
    pub client: Client,
    pub base: String,
    pub csrf: String,
    pub username: String,
}

pub fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of the first hidden `_csrf` field of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let i = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_string())
}

pub fn location(r: &Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

impl Session {
    /// Submits the login form; returns the client and the password step's response.
    async fn password_step(app: &TestApp, username: &str, password: &str) -> (Client, Response) {
        let client = browser();
        let page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page).expect("login form has a CSRF field");
        let r = client
            .post(app.url("/login"))
            .form(&[("username", username), ("password", password), ("_csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {username} failed");
        (client, r)
    }

    /// Signs in with a password that may still have to be changed: stops after the password step.
    pub async fn login_to(app: &TestApp, username: &str, password: &str) -> Session {
        let (client, _) = Session::password_step(app, username, password).await;
        Session { client, base: app.base.clone(), csrf: String::new(), username: username.into() }
    }

    /// Signs in through the login form and, for accounts with a second factor, the TOTP page.
    pub async fn login(app: &TestApp, username: &str, password: &str) -> Session {
        let (client, r) = Session::password_step(app, username, password).await;
        let mut to = location(&r);
        if to == "/login/totp" {
            // A new time step, so that codes of earlier logins are not refused as replays.
            app.clock.advance_ms(30_000);
            let page = client.get(app.url("/login/totp")).send().await.unwrap().text().await.unwrap();
            let csrf = csrf_of(&page).unwrap();
            let code = totp::code_at(&totp::base32_decode(TOTP_SECRET).unwrap(), app.clock.now_ms() / 1000);
            let r = client
                .post(app.url("/login/totp"))
                .form(&[("code", code.as_str()), ("_csrf", &csrf)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "TOTP of {username} failed");
            to = location(&r);
        }
        assert_eq!(to, "/", "{username} was sent to {to}");
        let home = client.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.status(), StatusCode::OK);
        let csrf = csrf_of(&home.text().await.unwrap()).unwrap();
        Session { client, base: app.base.clone(), csrf, username: username.into() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A form POST with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &self.csrf));
        self.client.post(self.url(path)).form(&all).send().await.unwrap()
    }

    /// A JSON POST with the CSRF header.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.client.post(self.url(path)).header("x-csrf-token", &self.csrf).json(body).send().await.unwrap()
    }

    /// A multipart POST (a file upload) with the CSRF header.
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Response {
        self.client.post(self.url(path)).header("x-csrf-token", &self.csrf).multipart(form).send().await.unwrap()
    }

    /// Uploads a tax sheet as UTF-8 CSV through `POST /api/v1/revenue/tax/import`.
    pub async fn upload_tax_csv(&self, csv: String, name: &str) -> Response {
        let part = reqwest::multipart::Part::bytes(csv.into_bytes()).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().text("encoding", "utf8").part("file", part);
        self.post_multipart("/api/v1/revenue/tax/import", form).await
    }
}

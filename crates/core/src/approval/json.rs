//! Chinese messages for JSON the admin edits (the catalogue, workflows): serde's own messages are
//! English, so the common ones are translated and the position is kept.

use serde_json::error::Category;

/// "第3行第5列：缺少字段“name”". Messages raised by our own types (`ItemCode`, `WorkingDays` …) are
/// already Chinese and pass through.
pub(crate) fn describe(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let detail = full.rsplit_once(" at line ").map_or(full.as_str(), |(d, _)| d);
    let what = match e.classify() {
        Category::Syntax | Category::Eof => "JSON格式错误".to_owned(),
        Category::Io => "读取失败".to_owned(),
        Category::Data => translate(detail),
    };
    if e.line() == 0 { what } else { format!("第{}行第{}列：{what}", e.line(), e.column()) }
}

fn quoted_after<'a>(detail: &'a str, prefix: &str) -> Option<&'a str> {
    detail.strip_prefix(prefix)?.split('`').next()
}

fn translate(detail: &str) -> String {
    if let Some(f) = quoted_after(detail, "missing field `") {
        return format!("缺少字段“{f}”");
    }
    if let Some(f) = quoted_after(detail, "unknown field `") {
        return format!("未知字段“{f}”");
    }
    if let Some(v) = quoted_after(detail, "unknown variant `") {
        return format!("取值“{v}”无法识别");
    }
    if let Some(f) = quoted_after(detail, "duplicate field `") {
        return format!("字段“{f}”重复");
    }
    if detail.starts_with("invalid type") || detail.starts_with("invalid value") || detail.starts_with("invalid length")
    {
        return "字段的类型或取值不正确".to_owned();
    }
    detail.to_owned()
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        kind: Kind,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Licence,
    }

    fn message(json: &str) -> String {
        match serde_json::from_str::<T>(json) {
            Ok(t) => panic!("parsed {t:?}"),
            Err(e) => describe(&e),
        }
    }

    #[test]
    fn translates_the_common_messages() {
        assert_eq!(message(r#"{"kind": "licence"}"#), "第1行第19列：缺少字段“name”");
        assert!(message(r#"{"name": "a", "kind": "licence", "x": 1}"#).ends_with("未知字段“x”"));
        assert!(message(r#"{"name": "a", "kind": "permit"}"#).ends_with("取值“permit”无法识别"));
        assert!(message(r#"{"name": 1, "kind": "licence"}"#).ends_with("字段的类型或取值不正确"));
        assert!(message(r#"{"name": "a""#).ends_with("JSON格式错误"));
        assert!(message("{,}").starts_with("第1行第2列"));
    }
}

//! Free-text input helpers for the edge (security.md "Input": allow-list validation of every field at
//! the server, size limits; "Field-level masking" of personal data).
//!
//! Text is trimmed, bounded in characters (not bytes, so Chinese text gets the limit the label
//! promises) and free of control characters, which have no place in a form field and can corrupt
//! exports and logs. Bidirectional overrides are refused too: they make text display differently
//! from what it contains (CVE-2021-42574, "Trojan Source").

/// Whether a character is refused in form input: C0/C1 controls and bidirectional formatting.
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A required field: trimmed, non-empty, at most `max_chars` characters, no control characters.
pub fn required(field_label: &str, raw: &str, max_chars: usize) -> Result<String, String> {
    optional(field_label, raw, max_chars)?.ok_or_else(|| format!("请填写{field_label}"))
}

/// An optional field: same rules as [`required`], but blank input is `None`.
pub fn optional(field_label: &str, raw: &str, max_chars: usize) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().any(is_forbidden) {
        return Err(format!("{field_label}包含非法字符"));
    }
    if value.chars().count() > max_chars {
        return Err(format!("{field_label}不能超过 {max_chars} 个字符"));
    }
    Ok(Some(value.to_owned()))
}

/// Masks a phone number for roles that need not see it (security.md "Field-level masking"):
/// "138****5678" for an 11-digit mobile number, the form users know from banks and carriers;
/// otherwise the first 3 and last 2 characters around "****", or only stars below 6 characters.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let keep = |head: usize, tail: usize| -> String {
        let start: String = chars.iter().take(head).collect();
        let end: String = chars.iter().skip(chars.len().saturating_sub(tail)).collect();
        format!("{start}****{end}")
    };
    let is_mobile = chars.len() == 11 && chars.first() == Some(&'1') && chars.iter().all(char::is_ascii_digit);
    if is_mobile {
        keep(3, 4)
    } else if chars.len() < 6 {
        "*".repeat(chars.len())
    } else {
        keep(3, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_checks() {
        assert_eq!(required("企业名称", "  沂水食品有限公司 ", 50), Ok("沂水食品有限公司".to_owned()));
        assert_eq!(required("企业名称", "   ", 50), Err("请填写企业名称".to_owned()));
        assert_eq!(required("企业名称", "", 50), Err("请填写企业名称".to_owned()));
        assert_eq!(required("企业名称", "\u{3000}", 50), Err("请填写企业名称".to_owned()));
        assert_eq!(required("企业名称", "沂水沂水", 3), Err("企业名称不能超过 3 个字符".to_owned()));
        assert_eq!(required("企业名称", "沂水沂", 3), Ok("沂水沂".to_owned()));
        assert_eq!(required("企业名称", "a\u{0}b", 50), Err("企业名称包含非法字符".to_owned()));
        assert_eq!(required("企业名称", "a\nb", 50), Err("企业名称包含非法字符".to_owned()));
        assert_eq!(required("企业名称", "a\u{202E}b", 50), Err("企业名称包含非法字符".to_owned()));
        assert_eq!(required("企业名称", "a\u{85}b", 50), Err("企业名称包含非法字符".to_owned()));
    }

    #[test]
    fn optional_maps_blank_to_none() {
        assert_eq!(optional("备注", " \t ", 10), Ok(None));
        assert_eq!(optional("备注", " 无 ", 10), Ok(Some("无".to_owned())));
        assert_eq!(optional("备注", "12345678901", 10), Err("备注不能超过 10 个字符".to_owned()));
        assert_eq!(optional("备注", "a\u{7f}", 10), Err("备注包含非法字符".to_owned()));
    }

    #[test]
    fn masks_phone_numbers() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0539-2251234"), "053****34");
        assert_eq!(mask_phone("23812345678"), "238****78");
        assert_eq!(mask_phone("123456"), "123****56");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_phone("电话一二三四五六"), "电话一****五六");
    }
}

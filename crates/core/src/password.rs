//! Password and session policy (security.md "Identity"; GB/T 22239-2019 level 3, 8.1.4.1).
//!
//! 等保 asks for composition rules, periodic change, lockout after failures and session timeouts;
//! OWASP ASVS 5.0 discourages the first two. The policy is therefore configurable, defaults to 等保,
//! and [`PasswordPolicy::validate`] refuses settings that would quietly switch protection off.

use serde::{Deserialize, Serialize};

/// Longest password accepted: long enough for passphrases, short enough to bound the KDF's input.
pub const MAX_PASSWORD_CHARS: usize = 128;

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Settings a security admin may change. Missing fields in stored settings take the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_length: u32,
    /// How many of lower case, upper case, digit and symbol a password must contain.
    pub min_classes: u32,
    /// Days after which a password must be changed; 0 means never.
    pub max_age_days: u32,
    /// How many previous passwords may not be reused; 0 means no check.
    pub history: u32,
    /// Consecutive login failures that lock the account.
    pub max_failures: u32,
    pub lockout_minutes: u32,
    /// Session ends after this much inactivity.
    pub idle_timeout_minutes: u32,
    /// Session ends this long after login, active or not.
    pub absolute_timeout_minutes: u32,
}

/// The 等保 defaults of security.md: 8 characters, 3 classes, 90 days, last 5, lock after 5 failures
/// for 30 minutes, 30 minutes idle, 8 hours at most.
impl Default for PasswordPolicy {
    fn default() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 8,
            min_classes: 3,
            max_age_days: 90,
            history: 5,
            max_failures: 5,
            lockout_minutes: 30,
            idle_timeout_minutes: 30,
            absolute_timeout_minutes: 480,
        }
    }
}

impl PasswordPolicy {
    /// Checks the settings; on failure returns every offending field with a Chinese message.
    pub fn validate(&self) -> Result<(), Vec<(&'static str, String)>> {
        let mut errors: Vec<(&'static str, String)> = Vec::new();
        let mut need = |ok: bool, field: &'static str, message: &str| {
            if !ok {
                errors.push((field, message.to_owned()));
            }
        };
        need((8..=64).contains(&self.min_length), "min_length", "密码最小长度应在 8–64 位之间");
        need((1..=4).contains(&self.min_classes), "min_classes", "密码字符类别数应在 1–4 之间");
        need(self.max_age_days <= 365, "max_age_days", "密码有效期应在 0–365 天之间（0 表示不强制更换）");
        need(self.history <= 24, "history", "禁止重复使用的历史密码个数应在 0–24 之间");
        need((3..=10).contains(&self.max_failures), "max_failures", "登录失败锁定次数应在 3–10 次之间");
        need((1..=1440).contains(&self.lockout_minutes), "lockout_minutes", "锁定时长应在 1–1440 分钟之间");
        need((5..=120).contains(&self.idle_timeout_minutes), "idle_timeout_minutes", "空闲超时应在 5–120 分钟之间");
        need(
            (60..=1440).contains(&self.absolute_timeout_minutes),
            "absolute_timeout_minutes",
            "会话最长有效时间应在 60–1440 分钟之间",
        );
        need(
            self.absolute_timeout_minutes >= self.idle_timeout_minutes,
            "absolute_timeout_minutes",
            "会话最长有效时间不能短于空闲超时",
        );
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Checks a new password against the policy. Length is counted in characters, not bytes, so
    /// Chinese passphrases are treated fairly; characters other than ASCII letters and digits count
    /// as symbols.
    pub fn check(&self, password: &str, username: &str) -> Result<(), String> {
        let len = password.chars().count();
        if len < usize::try_from(self.min_length).unwrap_or(usize::MAX) {
            return Err(format!("密码至少 {} 位", self.min_length));
        }
        if len > MAX_PASSWORD_CHARS {
            return Err(format!("密码不能超过 {MAX_PASSWORD_CHARS} 位"));
        }
        if password.chars().any(char::is_control) {
            return Err("密码不能包含控制字符".to_owned());
        }
        let has = |f: fn(&char) -> bool| u32::from(password.chars().any(|c| f(&c)));
        let classes = has(char::is_ascii_lowercase)
            + has(char::is_ascii_uppercase)
            + has(char::is_ascii_digit)
            + has(|c| !c.is_ascii_alphanumeric());
        if classes < self.min_classes {
            return Err(format!("密码需包含大写字母、小写字母、数字、符号中的至少 {} 类", self.min_classes));
        }
        let username = username.trim().to_lowercase();
        if !username.is_empty() && password.to_lowercase().contains(&username) {
            return Err("密码不能包含用户名".to_owned());
        }
        Ok(())
    }

    /// Whether a password changed at `changed_at_ms` must be changed at `now_ms` (Unix ms).
    pub fn is_expired(&self, changed_at_ms: i64, now_ms: i64) -> bool {
        self.max_age_days != 0
            && now_ms.saturating_sub(changed_at_ms) >= i64::from(self.max_age_days).saturating_mul(MS_PER_DAY)
    }

    /// When the account unlocks after `failures` consecutive failures, or `None` if it stays open.
    /// A `max_failures` of 0 (refused by `validate`) locks on the first failure rather than never.
    pub fn locked_until(&self, failures: u32, now_ms: i64) -> Option<i64> {
        (failures >= self.max_failures.max(1))
            .then(|| now_ms.saturating_add(i64::from(self.lockout_minutes) * MS_PER_MINUTE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(p: &PasswordPolicy) -> Vec<&'static str> {
        p.validate().err().unwrap_or_default().into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn defaults_follow_dengbao_and_are_valid() {
        let p = PasswordPolicy::default();
        assert_eq!((p.min_length, p.min_classes, p.max_age_days, p.history), (8, 3, 90, 5));
        assert_eq!(
            (p.max_failures, p.lockout_minutes, p.idle_timeout_minutes, p.absolute_timeout_minutes),
            (5, 30, 30, 480)
        );
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn validate_rejects_absurd_settings() {
        let d = PasswordPolicy::default();
        let cases: [(PasswordPolicy, &[&str]); 10] = [
            (PasswordPolicy { min_length: 6, ..d.clone() }, &["min_length"]),
            (PasswordPolicy { min_length: 65, ..d.clone() }, &["min_length"]),
            (PasswordPolicy { min_classes: 0, ..d.clone() }, &["min_classes"]),
            (PasswordPolicy { min_classes: 5, ..d.clone() }, &["min_classes"]),
            (PasswordPolicy { max_age_days: 366, ..d.clone() }, &["max_age_days"]),
            (PasswordPolicy { history: 25, ..d.clone() }, &["history"]),
            (PasswordPolicy { max_failures: 2, lockout_minutes: 0, ..d.clone() }, &["max_failures", "lockout_minutes"]),
            (PasswordPolicy { idle_timeout_minutes: 121, ..d.clone() }, &["idle_timeout_minutes"]),
            (PasswordPolicy { absolute_timeout_minutes: 1441, ..d.clone() }, &["absolute_timeout_minutes"]),
            (
                PasswordPolicy { idle_timeout_minutes: 100, absolute_timeout_minutes: 60, ..d.clone() },
                &["absolute_timeout_minutes"],
            ),
        ];
        for (p, expected) in cases {
            assert_eq!(fields(&p), expected, "{p:?}");
        }
        let off = PasswordPolicy { max_age_days: 0, history: 0, ..d };
        assert_eq!(off.validate(), Ok(()));
    }

    #[test]
    fn validate_messages_are_chinese() {
        let p = PasswordPolicy { min_length: 4, ..PasswordPolicy::default() };
        assert_eq!(p.validate(), Err(vec![("min_length", "密码最小长度应在 8–64 位之间".to_owned())]));
    }

    #[test]
    fn check_enforces_length_classes_and_username() {
        let p = PasswordPolicy::default();
        assert_eq!(p.check("Ab1!xyz", "zhang"), Err("密码至少 8 位".to_owned()));
        assert_eq!(
            p.check("abcdefg1", "zhang"),
            Err("密码需包含大写字母、小写字母、数字、符号中的至少 3 类".to_owned())
        );
        assert_eq!(p.check("abcdefG1", "zhang"), Ok(()));
        assert_eq!(p.check("abcdefg!1", "zhang"), Ok(()));
        assert_eq!(p.check("Xx-ZHANG-2024", "zhang"), Err("密码不能包含用户名".to_owned()));
        assert_eq!(p.check(&"Aa1!".repeat(33), "zhang"), Err("密码不能超过 128 位".to_owned()));
        assert_eq!(p.check(&"Aa1!".repeat(32), "zhang"), Ok(()));
        assert_eq!(p.check("Abcdefg1\n", "zhang"), Err("密码不能包含控制字符".to_owned()));
    }

    #[test]
    fn length_is_counted_in_characters() {
        let p = PasswordPolicy::default();
        // Seven characters, more than eight bytes.
        assert_eq!(p.check("沂水开发A1!", "zhang"), Err("密码至少 8 位".to_owned()));
        assert_eq!(p.check("沂水开发区Ab1", "zhang"), Ok(()));
    }

    #[test]
    fn expiry_and_zero_meaning_off() {
        let p = PasswordPolicy::default();
        let day = MS_PER_DAY;
        assert!(!p.is_expired(0, 90 * day - 1));
        assert!(p.is_expired(0, 90 * day));
        let off = PasswordPolicy { max_age_days: 0, ..p };
        assert!(!off.is_expired(0, i64::MAX));
    }

    #[test]
    fn lockout_after_max_failures() {
        let p = PasswordPolicy::default();
        assert_eq!(p.locked_until(4, 1_000), None);
        assert_eq!(p.locked_until(5, 1_000), Some(1_000 + 30 * MS_PER_MINUTE));
        assert_eq!(p.locked_until(9, 1_000), Some(1_000 + 30 * MS_PER_MINUTE));
        let zero = PasswordPolicy { max_failures: 0, ..p };
        assert_eq!(zero.locked_until(0, 0), None);
        assert!(zero.locked_until(1, 0).is_some());
    }
}

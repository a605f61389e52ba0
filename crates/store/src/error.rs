use thiserror::Error;

/// Errors of the storage layer. `NotFound` covers records outside the caller's scope too, so that a
/// probe by id cannot tell "absent" from "not yours" (security.md, IDOR).
#[derive(Debug, Error)]
pub enum Error {
    #[error("记录不存在")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// The caller's role may not do this to this record (the workflow says who may); the message says why.
    #[error("{0}")]
    Denied(String),
    /// A business rule refuses the request as it stands (a workflow state, missing materials).
    #[error("{0}")]
    Refused(String),
    #[error("数据库地址无效：{0}")]
    Url(String),
    #[error("无法连接数据库：{0}")]
    Connect(String),
    #[error("数据库错误")]
    Db(#[from] sqlx::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A unique-constraint violation becomes a conflict with the given message; anything else is kept.
    pub(crate) fn unique_as(self, message: &str) -> Error {
        match &self {
            Error::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => Error::Conflict(message.to_string()),
            _ => self,
        }
    }
}

/// The core's refusals of revenue data (a settlement's input) are invalid input here.
impl From<dianxiaoer_core::revenue::RevenueError> for Error {
    fn from(e: dianxiaoer_core::revenue::RevenueError) -> Error {
        Error::Invalid(e.message)
    }
}

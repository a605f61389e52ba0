//! Documents handed in with an application (申请材料的电子文件): what is accepted, recognised by the
//! file's own first bytes rather than by its name or the browser's content type, so that a renamed
//! executable is refused. PDF, OFD (GB/T 33190-2016, the national layout format the 电子证照 system
//! issues), JPEG and PNG scans; at most 10 MiB each, the size a scanned multi-page certificate needs.

use sm3::{Digest, Sm3};
use std::fmt;

/// Largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 100;

/// The formats accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    Ofd,
    Jpeg,
    Png,
}

impl DocumentKind {
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Ofd => "ofd",
            DocumentKind::Jpeg => "jpeg",
            DocumentKind::Png => "png",
        }
    }

    pub fn parse(code: &str) -> Option<DocumentKind> {
        [DocumentKind::Pdf, DocumentKind::Ofd, DocumentKind::Jpeg, DocumentKind::Png]
            .into_iter()
            .find(|k| k.code() == code)
    }

    /// The content type a download is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Ofd => "application/ofd",
            DocumentKind::Jpeg => "image/jpeg",
            DocumentKind::Png => "image/png",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "PDF",
            DocumentKind::Ofd => "OFD",
            DocumentKind::Jpeg => "JPEG 图片",
            DocumentKind::Png => "PNG 图片",
        }
    }
}

/// Why a document was refused, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError(pub String);

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A document checked at the edge: its format, cleaned name and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDocument {
    pub kind: DocumentKind,
    pub file_name: String,
    pub size: usize,
    /// SM3 of the content, hex: shown beside the file so a printed copy can be matched to it.
    pub sm3: String,
}

/// Checks an uploaded file: not empty, not above [`MAX_DOCUMENT_BYTES`], one of the accepted formats
/// by content (an OFD is a ZIP package named `.ofd`), and a name without any path.
pub fn check_document(file_name: &str, bytes: &[u8]) -> Result<CheckedDocument, DocumentError> {
    if bytes.is_empty() {
        return Err(DocumentError("文件为空，请重新选择".into()));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError(format!(
            "文件大小 {:.1} MB 超过上限 {} MB，请压缩或分拆后上传",
            bytes.len() as f64 / 1_048_576.0,
            MAX_DOCUMENT_BYTES / 1_048_576
        )));
    }
    let name = clean_name(file_name);
    let kind = if bytes.starts_with(b"%PDF-") {
        DocumentKind::Pdf
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        DocumentKind::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        DocumentKind::Png
    } else if bytes.starts_with(b"PK\x03\x04") && name.to_lowercase().ends_with(".ofd") {
        DocumentKind::Ofd
    } else {
        return Err(DocumentError("只接受 PDF、OFD、JPEG 或 PNG 文件（按文件内容识别，改扩展名无效）".into()));
    };
    let file_name = if name.is_empty() { format!("材料.{}", kind.code()) } else { name };
    Ok(CheckedDocument { kind, file_name, size: bytes.len(), sm3: hex::encode(Sm3::digest(bytes)) })
}

/// The last path segment, without control characters or quotes, at most 100 characters.
fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last.chars().filter(|c| !c.is_control() && *c != '"').collect();
    let trimmed = kept.trim();
    if trimmed.chars().count() <= MAX_NAME_CHARS {
        return trimmed.to_owned();
    }
    // Keep the extension when shortening.
    let ext: String =
        trimmed.rsplit_once('.').map(|(_, e)| e).filter(|e| e.chars().count() <= 8).unwrap_or("").to_owned();
    let head: String = trimmed.chars().take(MAX_NAME_CHARS - ext.chars().count() - 1).collect();
    if ext.is_empty() { head } else { format!("{head}.{ext}") }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(check_document("营业执照.pdf", b"%PDF-1.7\n...").unwrap().kind, DocumentKind::Pdf);
        assert_eq!(check_document("a.JPG", &[0xFF, 0xD8, 0xFF, 0xE0, 0]).unwrap().kind, DocumentKind::Jpeg);
        assert_eq!(check_document("a.png", b"\x89PNG\r\n\x1a\n\0\0").unwrap().kind, DocumentKind::Png);
        assert_eq!(check_document("证照.OFD", b"PK\x03\x04rest").unwrap().kind, DocumentKind::Ofd);
        // A ZIP that is not named .ofd, an executable named .pdf, text: refused.
        for (name, bytes) in [("a.zip", &b"PK\x03\x04rest"[..]), ("a.pdf", b"MZ\x90\0"), ("a.txt", b"hello")] {
            assert!(check_document(name, bytes).unwrap_err().0.contains("只接受"), "{name}");
        }
    }

    #[test]
    fn size_limits_at_the_edges() {
        assert!(check_document("a.pdf", b"").unwrap_err().0.contains("文件为空"));
        let mut at_limit = b"%PDF-".to_vec();
        at_limit.resize(MAX_DOCUMENT_BYTES, b' ');
        assert_eq!(check_document("a.pdf", &at_limit).unwrap().size, MAX_DOCUMENT_BYTES);
        at_limit.push(b' ');
        assert!(check_document("a.pdf", &at_limit).unwrap_err().0.contains("超过上限 10 MB"));
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(check_document("C:\\Users\\x\\章程.pdf", b"%PDF-").unwrap().file_name, "章程.pdf");
        assert_eq!(check_document("../../etc/\"pa\nss\".pdf", b"%PDF-").unwrap().file_name, "pass.pdf");
        assert_eq!(check_document("", b"%PDF-").unwrap().file_name, "材料.pdf");
        let long = format!("{}.pdf", "长".repeat(300));
        let name = check_document(&long, b"%PDF-").unwrap().file_name;
        assert_eq!(name.chars().count(), 100);
        assert!(name.ends_with(".pdf"));
    }
}

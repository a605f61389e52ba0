//! 国民经济行业分类 (industrial classification for national economic activities), GB/T 4754-2017.
//!
//! The table in `data/gbt4754-2017.tsv` is compiled in and parsed once. It is the 2017 edition as
//! published: 20 门类, 97 大类, 473 中类, 1381 小类. It does not include amendment No.1 (2019), which
//! brought the 小类 count to 1382. Codes are written with their section letter (`C2614`); input
//! may omit it for 大类, 中类 and 小类 (`2614`), since the digits alone identify the node
//! (GB/T 4754-2017 §4).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::credit_code::CodeError;

const DATA: &str = include_str!("../data/gbt4754-2017.tsv");

/// Most results [`search`] returns.
pub const SEARCH_LIMIT: usize = 50;

/// The four levels of GB/T 4754-2017, coarsest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    Section,
    Division,
    Group,
    Class,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Section => "门类",
            Level::Division => "大类",
            Level::Group => "中类",
            Level::Class => "小类",
        }
    }

    /// Length of a code at this level, section letter included.
    fn code_len(self) -> usize {
        [1, 3, 4, 5][self as usize]
    }
}

/// How close two codes are (standards.md: same class > same group > same division > same section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Similarity {
    // Declared weakest first so that the derived order is SameClass > … > Different.
    Different,
    SameSection,
    SameDivision,
    SameGroup,
    SameClass,
}

#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Entry {
    code: &'static str,
    name: &'static str,
}

/// A node of the compiled table. Ordered in the standard's order. Serialised as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IndustryCode(&'static Entry);

/// The table sorted by code. Letter-then-digits order is the standard's pre-order (C, C13, C131, …).
fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(DATA))
}

/// Parses the TSV, skipping comments and malformed lines, and any node whose parent is missing.
fn parse_table(text: &'static str) -> Vec<Entry> {
    let mut rows: Vec<Entry> = text.lines().filter_map(parse_line).collect();
    rows.sort();
    rows.dedup_by(|a, b| a.code == b.code);
    let mut kept: Vec<Entry> = Vec::with_capacity(rows.len());
    for row in rows {
        // Sorted, so a parent comes before its children.
        if parent_code(row.code).is_none_or(|p| kept.binary_search_by(|e| e.code.cmp(p)).is_ok()) {
            kept.push(row);
        }
    }
    kept
}

/// A `code<TAB>name` line; comment lines fail the code shape.
fn parse_line(line: &'static str) -> Option<Entry> {
    let (code, name) = line.split_once('\t')?;
    let name = name.trim();
    (is_code_shape(code) && !name.is_empty()).then_some(Entry { code, name })
}

/// A section letter A–T followed by nothing or by 2, 3 or 4 digits.
fn is_code_shape(code: &str) -> bool {
    let digits = code.get(1..).unwrap_or("");
    matches!(code.as_bytes().first(), Some(b'A'..=b'T'))
        && matches!(digits.len(), 0 | 2 | 3 | 4)
        && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parent_code(code: &str) -> Option<&str> {
    match code.len() {
        3 => code.get(..1),
        4 | 5 => code.get(..code.len() - 1),
        _ => None,
    }
}

fn lookup(code: &str) -> Option<IndustryCode> {
    let t = table();
    let i = t.binary_search_by(|e| e.code.cmp(code)).ok()?;
    t.get(i).map(IndustryCode)
}

/// The section whose division has these two digits (division numbers are unique across sections).
fn section_of_division(two_digits: &str) -> Option<IndustryCode> {
    table()
        .iter()
        .find(|e| e.code.len() == 3 && e.code.get(1..) == Some(two_digits))
        .and_then(|e| lookup(e.code.get(..1)?))
}

fn unknown(shown: &str) -> CodeError {
    CodeError::new(format!("未知的行业代码“{shown}”（GB/T 4754-2017）"))
}

impl IndustryCode {
    /// Parses a code at any level: `C`, `C26`/`26`, `C261`/`261`, `C2614`/`2614`. Surrounding
    /// spaces are trimmed and a lower-case section letter is accepted.
    pub fn parse(raw: &str) -> Result<IndustryCode, CodeError> {
        let raw = raw.trim().to_ascii_uppercase();
        if raw.is_empty() {
            return Err(CodeError::new("请填写行业代码"));
        }
        let digits = raw.trim_start_matches(|c: char| c.is_ascii_uppercase());
        let letter = raw.strip_suffix(digits).unwrap_or("");
        let shaped = matches!((letter.len(), digits.len()), (1, 0 | 2 | 3 | 4) | (0, 2..=4))
            && digits.bytes().all(|b| b.is_ascii_digit());
        if !shaped {
            return Err(CodeError::new("行业代码格式不对：应为门类字母加 2～4 位数字，如“C2614”，或只填数字“2614”"));
        }
        let code = match digits.get(..2).and_then(section_of_division) {
            Some(s) if !letter.is_empty() && s.code() != letter => {
                return Err(CodeError::new(format!(
                    "行业代码“{raw}”的门类字母不对：{digits} 属于门类 {}（{}）",
                    s.code(),
                    s.name()
                )));
            }
            Some(s) => format!("{}{digits}", s.code()),
            None if letter.is_empty() => return Err(unknown(digits)),
            None => raw,
        };
        lookup(&code).ok_or_else(|| unknown(&code))
    }

    /// The code with its section letter, e.g. `C2614`.
    pub fn code(self) -> &'static str {
        self.0.code
    }

    /// The name exactly as in the standard, e.g. `有机化学原料制造`.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    pub fn level(self) -> Level {
        match self.code().len() {
            1 => Level::Section,
            3 => Level::Division,
            4 => Level::Group,
            _ => Level::Class,
        }
    }

    /// The node at `level` on the path from the section down to `self` (`self` included).
    fn at(self, level: Level) -> Option<IndustryCode> {
        if level > self.level() {
            return None;
        }
        lookup(self.code().get(..level.code_len())?)
    }

    /// The section (门类); a section is its own section. Never `None` in practice, so not an Option.
    pub fn section(self) -> IndustryCode {
        self.at(Level::Section).unwrap_or(self)
    }

    /// The division (大类) containing `self`, or `self` if it is one; `None` for a section.
    pub fn division(self) -> Option<IndustryCode> {
        self.at(Level::Division)
    }

    /// The group (中类) containing `self`, or `self` if it is one; `None` above group level.
    pub fn group(self) -> Option<IndustryCode> {
        self.at(Level::Group)
    }

    /// The node one level up; `None` for a section.
    pub fn parent(self) -> Option<IndustryCode> {
        parent_code(self.code()).and_then(lookup)
    }

    /// The nodes one level down, in the standard's order; empty for a class.
    pub fn children(self) -> impl Iterator<Item = IndustryCode> {
        let code = self.code();
        let child_len = code.len() + if code.len() == 1 { 2 } else { 1 };
        let t = table();
        let start = t.partition_point(|e| e.code <= code);
        t.get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(move |e| e.code.starts_with(code))
            .filter(move |e| e.code.len() == child_len)
            .map(IndustryCode)
    }

    /// Whether `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &IndustryCode) -> bool {
        self.code().starts_with(ancestor.code())
    }

    /// Names from the section down, e.g. "制造业 › 化学原料和化学制品制造业 › 基础化学原料制造 ›
    /// 有机化学原料制造".
    pub fn path_names(self) -> String {
        let levels = [Level::Section, Level::Division, Level::Group, Level::Class];
        let names: Vec<&str> = levels.iter().filter_map(|&l| self.at(l)).map(|c| c.name()).collect();
        names.join(" › ")
    }
}

/// The finest level at which `a` and `b` share a node.
pub fn similarity(a: &IndustryCode, b: &IndustryCode) -> Similarity {
    use Similarity::*;
    let levels = [Level::Class, Level::Group, Level::Division, Level::Section];
    let shared = levels.into_iter().find(|&l| a.at(l).is_some() && a.at(l) == b.at(l));
    shared.map_or(Different, |l| [SameSection, SameDivision, SameGroup, SameClass][l as usize])
}

/// Every node (1971), in the standard's order.
pub fn all() -> impl Iterator<Item = IndustryCode> {
    table().iter().map(IndustryCode)
}

/// Nodes whose name contains `text` or whose code starts with it (with or without the section
/// letter), in the standard's order, at most [`SEARCH_LIMIT`].
pub fn search(text: &str) -> Vec<IndustryCode> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let upper = text.to_ascii_uppercase();
    let digits_only = upper.bytes().all(|b| b.is_ascii_digit());
    table()
        .iter()
        .filter(|e| {
            e.name.contains(text)
                || e.code.starts_with(&upper)
                || (digits_only && e.code.get(1..).is_some_and(|d| d.starts_with(&upper)))
        })
        .take(SEARCH_LIMIT)
        .map(IndustryCode)
        .collect()
}

impl fmt::Display for IndustryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for IndustryCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<IndustryCode, CodeError> {
        IndustryCode::parse(s)
    }
}

impl TryFrom<String> for IndustryCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<IndustryCode, CodeError> {
        IndustryCode::parse(&s)
    }
}

impl From<IndustryCode> for String {
    fn from(c: IndustryCode) -> String {
        c.code().to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(raw: &str) -> IndustryCode {
        IndustryCode::parse(raw).unwrap()
    }

    fn err(raw: &str) -> String {
        IndustryCode::parse(raw).map_or_else(|e| e.message, |_| String::new())
    }

    #[test]
    fn counts_per_level_match_the_2017_edition() {
        let count = |l: Level| all().filter(|c| c.level() == l).count();
        let levels = [Level::Section, Level::Division, Level::Group, Level::Class];
        assert_eq!(levels.map(count), [20, 97, 473, 1381]);
        // No line of the data file was skipped as malformed or orphaned.
        let lines = DATA.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(all().count(), lines);
    }

    #[test]
    fn parses_with_and_without_section_letter() {
        assert_eq!(code("C2614").code(), "C2614");
        assert_eq!(code("2614"), code("C2614"));
        assert_eq!(code("  c2614 ").code(), "C2614");
        assert_eq!(code("26").code(), "C26");
        assert_eq!(code("261").level(), Level::Group);
        assert_eq!(code("C").name(), "制造业");
        assert_eq!(code("t").level(), Level::Section);
        assert_eq!("0111".parse::<IndustryCode>().unwrap().code(), "A0111");
    }

    #[test]
    fn rejects_unknown_and_malformed_codes() {
        assert_eq!(err("C2699"), "未知的行业代码“C2699”（GB/T 4754-2017）");
        assert_eq!(err("2699"), "未知的行业代码“C2699”（GB/T 4754-2017）");
        assert_eq!(err("9900"), "未知的行业代码“9900”（GB/T 4754-2017）");
        assert_eq!(err("U"), "未知的行业代码“U”（GB/T 4754-2017）");
        // 2017 split 651 软件开发 into 6511–6519, so the 2011 code 6510 is gone.
        assert!(err("I6510").starts_with("未知的行业代码“I6510”"));
        let wrong_letter = "行业代码“A2614”的门类字母不对：2614 属于门类 C（制造业）";
        assert_eq!(err("A2614"), wrong_letter);
        assert_eq!(err(""), "请填写行业代码");
        assert_eq!(err("   "), "请填写行业代码");
        for bad in ["C26145", "C2", "2", "C26A", "CC26", "C 26", "２６１４"] {
            assert!(err(bad).starts_with("行业代码格式不对"), "{bad}");
        }
    }

    #[test]
    fn known_names() {
        const KNOWN: &str = "A0111 稻谷种植|C1391 淀粉及淀粉制品制造|C2614 有机化学原料制造|\
            C3981 电阻电容电感元件制造|I6511 基础软件开发|S9221 综合事务管理机构|T9700 国际组织|\
            C194 羽毛（绒）加工及制品制造|C3741 飞机制造|A022 造林和更新";
        for pair in KNOWN.split('|') {
            let (c, name) = pair.split_once(' ').unwrap();
            assert_eq!(code(c).name(), name);
        }
    }

    #[test]
    fn ancestors_and_children() {
        let c = code("C2614");
        assert_eq!(c.section(), code("C"));
        assert_eq!(c.division(), Some(code("C26")));
        assert_eq!(c.group(), Some(code("C261")));
        assert_eq!(c.parent(), Some(code("C261")));
        assert_eq!(code("C26").parent(), Some(code("C")));
        assert_eq!(code("C").parent(), None);
        assert_eq!(code("C26").group(), None);
        assert_eq!(code("C").division(), None);
        let path = "制造业 › 化学原料和化学制品制造业 › 基础化学原料制造 › 有机化学原料制造";
        assert_eq!(c.path_names(), path);
        assert!(c.is_within(&code("C26")) && c.is_within(&c) && !c.is_within(&code("C27")));
        assert_eq!(c.children().count(), 0);
        let kids: Vec<&str> = code("C261").children().map(IndustryCode::code).collect();
        assert_eq!(kids, ["C2611", "C2612", "C2613", "C2614", "C2619"]);
        assert_eq!(code("C").children().count(), 31); // 大类 13–43
        assert_eq!(code("T").children().collect::<Vec<_>>(), [code("T97")]);
    }

    #[test]
    fn hierarchy_is_consistent_and_sections_own_their_divisions() {
        for c in all() {
            if let Some(p) = c.parent() {
                assert!(c.is_within(&p) && p.children().any(|k| k == c), "{c}");
            }
            let leaf = c.children().next().is_none();
            assert_eq!(leaf, c.level() == Level::Class, "{c}");
        }
        // Divisions 01–97 appear in order, so each section owns one contiguous run of them …
        let divisions = all().filter(|c| c.level() == Level::Division);
        let numbers: Vec<u32> = divisions.map(|d| d.code()[1..].parse().unwrap()).collect();
        assert_eq!(numbers, (1..=97).collect::<Vec<u32>>());
        // … starting where the standard says (so e.g. C13–C43 are under C).
        let sections = all().filter(|c| c.level() == Level::Section);
        let firsts: Vec<&str> = sections.filter_map(|s| s.children().next()).map(|d| d.code()).collect();
        let expected = "A01 B06 C13 D44 E47 F51 G53 H61 I63 J66 K70 L71 M73 N76 O80 P83 Q84 R86 S91 T97";
        assert_eq!(firsts.join(" "), expected);
        assert_eq!(code("4320").section(), code("C"));
    }

    #[test]
    fn similarity_order_and_cases() {
        use Similarity::*;
        assert!(SameClass > SameGroup && SameGroup > SameDivision);
        assert!(SameDivision > SameSection && SameSection > Different);
        let s = |a: &str, b: &str| similarity(&code(a), &code(b));
        assert_eq!(s("C2614", "C2614"), SameClass);
        assert_eq!(s("C2614", "C2619"), SameGroup);
        assert_eq!(s("C2614", "C2621"), SameDivision);
        assert_eq!(s("C2614", "C3981"), SameSection);
        assert_eq!(s("C2614", "I6511"), Different);
        assert_eq!(s("C261", "C2614"), SameGroup);
        assert_eq!(s("C26", "C2614"), SameDivision);
        assert_eq!(s("C", "C"), SameSection);
    }

    #[test]
    fn search_by_name_and_code() {
        assert!(search("有机化学原料").contains(&code("C2614")));
        assert_eq!(search("2614"), [code("C2614")]);
        assert_eq!(search("c261").len(), 6);
        assert_eq!(search("制造").len(), SEARCH_LIMIT);
        assert!(search("  ").is_empty());
    }

    #[test]
    fn every_code_round_trips() {
        for c in all() {
            assert_eq!(code(c.code()), c);
            assert_eq!(code(&c.to_string()), c);
            if c.level() != Level::Section {
                assert_eq!(code(&c.code()[1..]), c);
            }
        }
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let text = "# x\nC\t制造业\nC26\t化学\nC2\tx\nX26\tx\nC261\t\nC2614\t有机\nA01\t农业\n";
        let codes: Vec<&str> = parse_table(text).iter().map(|e| e.code).collect();
        assert_eq!(codes, ["C", "C26"]);
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = IndustryCode::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_code_like_input(raw in "[ a-zA-Z]?[0-9０-９]{0,5} ?") {
            if let Ok(c) = IndustryCode::parse(&raw) {
                prop_assert_eq!(IndustryCode::parse(c.code()), Ok(c));
            }
        }
    }
}

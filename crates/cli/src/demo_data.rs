//! A deterministic, plausible demo population for 沂水经济开发区: enterprises in the zone's three
//! project areas, each attracted by one of the county's 18 towns (飞地经济).
//!
//! Pure on purpose: no I/O, clock or external RNG, so a demo database, a screenshot or a test can be
//! reproduced from `(count, seed)` alone. Every enterprise `i` draws from its own stream derived from
//! `(seed, i)` and the quotas work in blocks of 100, so `generate(n, s)` is a prefix of
//! `generate(m, s)` for `n ≤ m` and the headline ratios hold exactly for every full block.

use std::collections::HashSet;

use dianxiaoer_core::credit_code::{ALPHABET, CreditCode};
use dianxiaoer_core::division::TOWNS;
use dianxiaoer_core::geo::{LonLat, point_in_polygon};

#[path = "demo_names.rs"]
mod names;

use names::{
    BRAND_FIRST, BRAND_LOCAL, BRAND_SECOND, GIVEN_FIRST, GIVEN_SECOND, GIVEN_SINGLE, INDUSTRIES, IndustryClass,
    MOBILE_PREFIXES, OLD_ORG_PREFIXES, ROADS, SURNAMES,
};

use dianxiaoer_core::zone::PROJECT_AREAS;

/// Grids (网格) for the zone's grid management: (name, description), two per project area in
/// `PROJECT_AREAS` order, so an enterprise of area `a` lies in grid `2a` or `2a + 1`.
pub const GRIDS: [(&str, &str); 6] = [
    ("滨河一网格", "滨河片区长安路以北"),
    ("滨河二网格", "滨河片区长安路以南"),
    ("庐山一网格", "庐山化工园区庐山大道以西"),
    ("庐山二网格", "庐山化工园区庐山大道以东"),
    ("城北一网格", "城北片区兴源路以西"),
    ("城北二网格", "城北片区兴源路以东"),
];

/// The line splitting each area into its two grids: (splits on latitude, value). 滨河 splits at
/// 长安路 (north first); 庐山 and 城北 split east–west (west first).
const GRID_SPLIT: [(bool, f64); 3] = [(true, 35.768), (false, 118.574), (false, 118.630)];

/// A point inside each ring, used only if rejection sampling were ever to fail.
const ANCHORS: [(f64, f64); 3] = [(118.665, 35.768), (118.573, 35.720), (118.630, 35.840)];

/// South of this latitude 滨河 lies on 许家湖镇; the rest of 滨河 and all of 城北 on 沂城街道.
const BINHE_XUJIAHU_BELOW: f64 = 35.757;
const YICHENG: &str = "371323001";
const XUJIAHU: &str = "371323103";

/// One demo enterprise, shaped like a row of the enterprise register.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoEnterprise {
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub industry_code: String,
    pub industry_name: String,
    pub host_town: String,
    pub introducer_town: Option<String>,
    pub project_area: String,
    pub lon: f64,
    pub lat: f64,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub above_scale: bool,
    pub employees: u32,
    pub registered_capital_fen: i64,
    pub land_area_m2: u32,
    pub established: (i32, u32, u32),
    pub status: &'static str,
    pub grid: usize,
}

/// Generates `count` enterprises from `seed`; same inputs, same output. Names and credit codes are
/// unique. Only if `count` ran into the millions could the name space run out; enterprises that
/// find no free name are then left out rather than duplicated.
pub fn generate(count: usize, seed: u64) -> Vec<DemoEnterprise> {
    let mut out = Vec::with_capacity(count);
    let mut state = State {
        names: HashSet::with_capacity(count),
        codes: HashSet::with_capacity(count),
        rota: introducer_rota(seed),
        introduced: 0,
    };
    let mut block = Block::new(seed, 0);
    for i in 0..count {
        if i / BLOCK != block.index {
            block = Block::new(seed, i / BLOCK);
        }
        let slot = block.slot(i % BLOCK);
        let mut rng = Rng::stream(seed, TAG_ENTERPRISE, i as u64);
        if let Some(e) = enterprise(&mut rng, &slot, &mut state) {
            out.push(e);
        }
    }
    out
}

/// Quotas are exact per block of this many enterprises, so 300 rows show the intended shares.
const BLOCK: usize = 100;
/// Per block: area shares 滨河 40, 庐山 25, 城北 35.
const AREA_CUMULATIVE: [u8; 2] = [40, 65];
const ABOVE_SCALE: u8 = 27;
const NO_INTRODUCER: u8 = 10;
const CANCELLED: u8 = 2;
const SUSPENDED: u8 = 6;

const TAG_ENTERPRISE: u64 = 1;
const TAG_ROTA: u64 = 2;
const TAG_BLOCK: u64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Small,
    AboveScale,
    Large,
}

/// What the block quotas decided for one enterprise.
struct Slot {
    area: usize,
    tier: Tier,
    has_introducer: bool,
    status: &'static str,
}

/// Seeded permutations of 0..100, one per quota, for one block.
struct Block {
    index: usize,
    perms: [Vec<u8>; 5],
}

impl Block {
    fn new(seed: u64, index: usize) -> Block {
        let perm = |k: u64| {
            let mut rng = Rng::stream(seed, TAG_BLOCK + k, index as u64);
            let mut p: Vec<u8> = (0..BLOCK as u8).collect();
            rng.shuffle(&mut p);
            p
        };
        Block { index, perms: [perm(0), perm(8), perm(16), perm(24), perm(32)] }
    }

    fn slot(&self, pos: usize) -> Slot {
        let v = |k: usize| self.perms.get(k).and_then(|p| p.get(pos)).copied().unwrap_or(0);
        let area = AREA_CUMULATIVE.iter().filter(|&&c| v(0) >= c).count();
        // One or two large enterprises per block: 4 in the default 300.
        let large = usize::from(v(1)) < 1 + self.index % 2;
        let tier = match (large, v(2) < ABOVE_SCALE) {
            (true, _) => Tier::Large,
            (false, true) => Tier::AboveScale,
            (false, false) => Tier::Small,
        };
        let status = match v(4) {
            _ if large => "operating",
            s if s < CANCELLED => "cancelled",
            s if s < CANCELLED + SUSPENDED => "suspended",
            _ => "operating",
        };
        Slot { area, tier, has_introducer: v(3) >= NO_INTRODUCER, status }
    }
}

/// Uniqueness sets and the introducer rota, carried across enterprises.
struct State {
    names: HashSet<String>,
    codes: HashSet<String>,
    rota: Vec<usize>,
    introduced: usize,
}

/// Each town three times, shuffled: the first 54 introduced enterprises go round it, so every town
/// shows up as an introducer in even a small demo.
fn introducer_rota(seed: u64) -> Vec<usize> {
    let mut rota: Vec<usize> = (0..3).flat_map(|_| 0..TOWNS.len()).collect();
    Rng::stream(seed, TAG_ROTA, 0).shuffle(&mut rota);
    rota
}

fn enterprise(rng: &mut Rng, slot: &Slot, state: &mut State) -> Option<DemoEnterprise> {
    let area = PROJECT_AREAS.get(slot.area)?;
    let class = pick_class(rng, slot.area)?;
    let established = established(rng, slot.tier);
    let credit_code = unique_code(rng, established, &mut state.codes)?;
    let name = unique_name(rng, class, slot.tier, &mut state.names)?;
    let legal_representative = person(rng);
    let contact_name = if rng.chance(0.25) { legal_representative.clone() } else { person(rng) };
    let contact_phone = phone(rng);
    let (lon, lat) = point_in(rng, slot.area);
    let host_town = match slot.area {
        1 => XUJIAHU,
        0 if lat < BINHE_XUJIAHU_BELOW => XUJIAHU,
        _ => YICHENG,
    };
    let address = address(rng, slot.area, area.name, host_town);
    let introducer_town = if slot.has_introducer {
        let k = state.introduced;
        state.introduced += 1;
        let town = match state.rota.get(k) {
            Some(&t) => t,
            None => weighted_town(rng),
        };
        TOWNS.get(town).map(|t| t.code.to_owned())
    } else {
        None
    };
    let (employees, capital_wan, mu) = match slot.tier {
        Tier::Small => (
            20 + (130.0 * rng.unit().powf(1.6)) as u32,
            rng.pick_u32(&[100, 200, 300, 500, 500, 800, 1000, 1000, 1200, 1500, 2000, 3000, 5000]),
            rng.range(8, 45),
        ),
        Tier::AboveScale => (
            100 + (700.0 * rng.unit().powi(2)) as u32,
            rng.pick_u32(&[1000, 2000, 3000, 3000, 5000, 5000, 6000, 8000, 10000]),
            rng.range(25, 90),
        ),
        Tier::Large => (
            1000 + (4000.0 * rng.unit().powf(2.5)) as u32,
            rng.pick_u32(&[20000, 30000, 50000, 60000, 80000, 100000]),
            rng.range(150, 600),
        ),
    };
    let (a, b) = GRID_SPLIT.get(slot.area).copied().unwrap_or((true, 0.0));
    let second_grid = if a { lat < b } else { lon >= b };
    Some(DemoEnterprise {
        credit_code,
        name,
        legal_representative,
        industry_code: class.code.to_owned(),
        industry_name: class.name.to_owned(),
        host_town: host_town.to_owned(),
        introducer_town,
        project_area: area.code.to_owned(),
        lon,
        lat,
        address,
        contact_name,
        contact_phone,
        above_scale: slot.tier != Tier::Small,
        employees,
        registered_capital_fen: i64::from(capital_wan) * 1_000_000,
        // 1 亩 = 10000/15 m², rounded to whole m².
        land_area_m2: (mu * 20_000 + 15) / 30,
        established,
        status: slot.status,
        grid: slot.area * 2 + usize::from(second_grid),
    })
}

fn pick_class(rng: &mut Rng, area: usize) -> Option<&'static IndustryClass> {
    let in_area = || INDUSTRIES.iter().filter(move |c| c.area == area);
    let total: u32 = in_area().map(|c| c.weight).sum();
    let mut r = rng.range(0, total.checked_sub(1)?);
    in_area().find(|c| {
        let hit = r < c.weight;
        r = r.saturating_sub(c.weight);
        hit
    })
}

/// Older firms, and the large ones, tend to predate the 2015 code reform; dates are valid days.
fn established(rng: &mut Rng, tier: Tier) -> (i32, u32, u32) {
    let year = match tier {
        Tier::Large => 2003 + rng.range(0, 9) as i32,
        _ => 2003 + (23.0 * (rng.unit() + rng.unit()) / 2.0) as i32,
    };
    let month = rng.range(1, 12);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (year, month, rng.range(1, days))
}

/// "91371323" (市场监管, 企业, 沂水县) + organisation code + GB 32100 check. Firms registered after
/// the October 2015 reform carry an "MA…" code; older ones keep their 8-digit GB 11714 code.
fn unique_code(rng: &mut Rng, (year, month, _): (i32, u32, u32), codes: &mut HashSet<String>) -> Option<String> {
    for _ in 0..64 {
        let mut body = String::with_capacity(8);
        if (year, month) >= (2015, 10) {
            body.push_str("MA");
            body.push(if year <= 2020 { '3' } else { rng.pick_char(&['7', '9']) });
            for _ in 0..5 {
                body.push(ALPHABET.chars().nth(rng.below(ALPHABET.len()))?);
            }
        } else {
            body.push_str(rng.pick(OLD_ORG_PREFIXES).copied()?);
            for _ in 0..6 {
                body.push(char::from_digit(rng.range(0, 9), 10)?);
            }
        }
        let first17 = format!("91371323{body}{}", org_check(&body)?);
        let code = CreditCode::with_check_digit(&first17)?.as_str().to_owned();
        if codes.insert(code.clone()) {
            return Some(code);
        }
    }
    None
}

/// GB 11714-1997 check character of an 8-character organisation code body.
fn org_check(body: &str) -> Option<char> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut sum = 0;
    for (c, w) in body.chars().zip(WEIGHTS) {
        sum += c.to_digit(36)? * w;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        d => char::from_digit(d, 10),
    }
}

/// Tries fresh names until one is free. Later attempts widen the legal form and then add a branch
/// suffix (分公司), so even 100,000 names stay unique without ever using a digit.
fn unique_name(rng: &mut Rng, class: &IndustryClass, tier: Tier, names: &mut HashSet<String>) -> Option<String> {
    for attempt in 0..256 {
        let name = company_name(rng, class, tier, attempt)?;
        if names.insert(name.clone()) {
            return Some(name);
        }
    }
    None
}

fn company_name(rng: &mut Rng, class: &IndustryClass, tier: Tier, attempt: u32) -> Option<String> {
    let prefix = match tier {
        Tier::Large => rng.weighted(&[("山东", 7), ("临沂", 3)]),
        Tier::AboveScale => rng.weighted(&[("山东", 4), ("临沂", 3), ("沂水", 2), ("沂水县", 1)]),
        Tier::Small => rng.weighted(&[("山东", 2), ("临沂", 3), ("沂水", 3), ("沂水县", 3)]),
    }?;
    let mut name = String::from(prefix);
    if rng.chance(0.06) {
        name.push_str(rng.pick(BRAND_LOCAL)?);
    } else {
        let first = rng.pick_char(BRAND_FIRST);
        let second = loop {
            let c = rng.pick_char(BRAND_SECOND);
            if c != first {
                break c;
            }
        };
        name.push(first);
        name.push(second);
    }
    name.push_str(rng.pick(class.words)?);
    let form = match tier {
        _ if attempt >= 8 => rng.weighted(&[("有限公司", 2), ("股份有限公司", 1), ("有限责任公司", 1)]),
        Tier::Large => rng.weighted(&[("股份有限公司", 2), ("集团有限公司", 1), ("有限公司", 1)]),
        Tier::AboveScale => rng.weighted(&[("有限公司", 4), ("股份有限公司", 1)]),
        Tier::Small => rng.weighted(&[("有限公司", 19), ("有限责任公司", 1)]),
    }?;
    name.push_str(form);
    if attempt >= 32 {
        let town = TOWNS.get(rng.below(TOWNS.len()))?.name;
        let short = town.trim_end_matches("街道").trim_end_matches(['镇', '乡']);
        name.push_str(short);
        name.push_str("分公司");
    }
    Some(name)
}

fn person(rng: &mut Rng) -> String {
    let mut name = String::from(rng.weighted(SURNAMES).unwrap_or("王"));
    if rng.chance(0.3) {
        name.push_str(rng.pick(GIVEN_SINGLE).copied().unwrap_or("军"));
    } else {
        name.push_str(rng.pick(GIVEN_FIRST).copied().unwrap_or("建"));
        name.push_str(rng.pick(GIVEN_SECOND).copied().unwrap_or("华"));
    }
    name
}

fn phone(rng: &mut Rng) -> String {
    let mut number = String::from(rng.pick(MOBILE_PREFIXES).copied().unwrap_or("138"));
    for _ in 0..8 {
        number.extend(char::from_digit(rng.range(0, 9), 10));
    }
    number
}

/// The host town decides how the registered address starts; most use the zone's own name.
fn address(rng: &mut Rng, area: usize, area_name: &str, host_town: &str) -> String {
    let lead = if host_town == XUJIAHU { "沂水县许家湖镇" } else { "沂水经济开发区" };
    let roads = ROADS.get(area).copied().unwrap_or(&[]);
    let road = rng.pick(roads).copied().unwrap_or("");
    if rng.chance(0.1) {
        let others: Vec<&str> = roads.iter().copied().filter(|&r| r != road).collect();
        let cross = rng.pick(&others).copied().unwrap_or("");
        let dir = rng.pick(&["东", "西", "南", "北"]).copied().unwrap_or("东");
        let metres = 100 + 50 * rng.range(0, 8);
        format!("{lead}{area_name}{road}与{cross}交汇处{dir}{metres}米")
    } else {
        format!("{lead}{area_name}{road}{}号", rng.range(1, 399))
    }
}

/// Rejection sampling in the ring's bounding box, at 6 decimals (about 0.1 m).
fn point_in(rng: &mut Rng, area: usize) -> (f64, f64) {
    let anchor = ANCHORS.get(area).copied().unwrap_or((118.63, 35.79));
    let Some(ring) = PROJECT_AREAS.get(area).map(|a| a.ring) else {
        return anchor;
    };
    let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| ring.iter().map(pick).fold(init, f);
    let (lon0, lon1) = (fold(f64::min, 180.0, |p| p.0), fold(f64::max, -180.0, |p| p.0));
    let (lat0, lat1) = (fold(f64::min, 90.0, |p| p.1), fold(f64::max, -90.0, |p| p.1));
    for _ in 0..1000 {
        let lon = ((lon0 + rng.unit() * (lon1 - lon0)) * 1e6).round() / 1e6;
        let lat = ((lat0 + rng.unit() * (lat1 - lat0)) * 1e6).round() / 1e6;
        if LonLat::parse(lon, lat).is_ok_and(|p| point_in_polygon(p, ring)) {
            return (lon, lat);
        }
    }
    anchor
}

/// Towns hosting the zone, and their neighbour, attract more projects than the distant ones.
fn weighted_town(rng: &mut Rng) -> usize {
    let weight = |code: &str| match code {
        YICHENG | XUJIAHU => 4,
        "371323002" => 2,
        _ => 1,
    };
    let total: u32 = TOWNS.iter().map(|t| weight(t.code)).sum();
    let mut r = rng.range(0, total.saturating_sub(1));
    for (i, t) in TOWNS.iter().enumerate() {
        if r < weight(t.code) {
            return i;
        }
        r -= weight(t.code);
    }
    0
}

/// Further contacts of a demo enterprise, from a stream of their own so the register stays as it
/// was: every chemical-park enterprise names its safety and environment officers (the safety office
/// calls them first), about a third of the others a finance contact.
pub fn extra_contacts(seed: u64, index: usize, d: &DemoEnterprise) -> Vec<(String, &'static str, String)> {
    let mut rng = Rng::stream(seed, 0xC0_4AC7, index as u64);
    let positions: &[&'static str] = if d.project_area == "lushan" {
        &["安全负责人", "环保专员"]
    } else if rng.chance(0.35) {
        &["财务负责人"]
    } else {
        &[]
    };
    positions.iter().map(|p| (person(&mut rng), *p, phone(&mut rng))).collect()
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast and good enough for demo data.
pub(crate) struct Rng(u64);

impl Rng {
    /// An independent stream for `(seed, tag, index)`.
    pub(crate) fn stream(seed: u64, tag: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ tag.wrapping_mul(0xA076_1D64_78BD_642F));
        let a = r.next_u64();
        Rng(a ^ index.wrapping_mul(0xE703_7ED1_A0B4_28DB))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is far below anything visible).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi.saturating_sub(lo) as usize) + 1) as u32
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    fn pick_char(&mut self, items: &[char]) -> char {
        self.pick(items).copied().unwrap_or('华')
    }

    fn pick_u32(&mut self, items: &[u32]) -> u32 {
        self.pick(items).copied().unwrap_or(0)
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> Option<T> {
        let total: u32 = items.iter().map(|&(_, w)| w).sum();
        let mut r = self.range(0, total.checked_sub(1)?);
        for &(item, w) in items {
            if r < w {
                return Some(item);
            }
            r -= w;
        }
        None
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "demo_data_tests.rs"]
mod tests;

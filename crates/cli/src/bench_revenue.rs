//! Data for `benches/revenue.sh` (issue 5, Measure): one year of the tax bureau's monthly sheets for
//! every enterprise of a database that has a project, four tax types a month each (at 100,000
//! enterprises 12 files of 400,000 rows, 4.8 million in all), and who receives each enterprise's tax
//! (`beneficiaries.csv`), so that DuckDB can aggregate the same year outside the application.
//! Deterministic: the same database and year give the same bytes.

use crate::demo_data::Rng;
use dianxiaoer_core::revenue::period::Period;
use dianxiaoer_store::Store;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

const SEED: u64 = 0xBE_7C4;

/// The lean export a county's tax system gives when asked for these columns only: the importer maps
/// columns by header, and the file stays under the upload limit at 400,000 rows.
const HEADER: &str = "纳税人识别号,征收项目,税款所属期起,税款所属期止,实缴金额,预算分配比例\n";

/// (征收项目, 预算分配比例, typical monthly amount in 元 at the scale of an average enterprise).
const TAXES: [(&str, &str, u32); 4] = [
    ("增值税", "中央50%,省10%,市10%,县30%", 60_000),
    ("企业所得税", "中央60%,省8%,市8%,县24%", 30_000),
    ("个人所得税", "中央60%,省8%,市8%,县24%", 4_000),
    ("城镇土地使用税", "县100%", 2_500),
];

fn last_day(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Writes `tax-YYYY-MM.csv` for the twelve months of `year` and `beneficiaries.csv` into `out`.
pub async fn write(store: &Store, year: i32, out: &Path) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let month = |m: u32| Period::new(u32::try_from(year).unwrap_or(0), m).map_err(|e| e.message);
    let first = store.beneficiaries(month(1)?).await.map_err(|e| e.to_string())?;
    let last = store.beneficiaries(month(12)?).await.map_err(|e| e.to_string())?;
    let key = |b: &dianxiaoer_store::BeneficiaryRow| (b.project_id, b.unit.clone(), b.weight, b.position);
    if first.iter().map(key).ne(last.iter().map(key)) {
        return Err(format!("{year} 年内有项目的分成比例或落地乡镇发生变化，基准数据要求全年不变"));
    }
    std::fs::create_dir_all(out).map_err(io)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("beneficiaries.csv")).map_err(io)?);
    writeln!(f, "credit_code,project_id,unit,weight,position").map_err(io)?;
    for b in &first {
        writeln!(f, "{},{},{},{},{}", b.credit_code, b.project_id, b.unit, b.weight, b.position).map_err(io)?;
    }
    f.flush().map_err(io)?;
    let codes: BTreeSet<&str> = first.iter().map(|b| b.credit_code.as_str()).collect();
    for m in 1..=12u32 {
        let path = out.join(format!("tax-{year:04}-{m:02}.csv"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
        f.write_all(HEADER.as_bytes()).map_err(io)?;
        let (from, to) = (format!("{year:04}-{m:02}-01"), format!("{year:04}-{m:02}-{:02}", last_day(year, m)));
        for (i, code) in codes.iter().enumerate() {
            let mut rng = Rng::stream(SEED, (year as u64) << 8 | u64::from(m), i as u64);
            for (tax, ratio, typical) in TAXES {
                // Between a tenth and twice the typical amount, to the fen.
                let fen = i64::from(typical) * i64::from(rng.range(10, 200)) + i64::from(rng.range(0, 99));
                writeln!(f, "{code},{tax},{from},{to},{}.{:02},\"{ratio}\"", fen / 100, fen % 100).map_err(io)?;
            }
        }
        f.flush().map_err(io)?;
    }
    println!(
        "{} 家企业 × 12 个月 × {} 个税种 = {} 行，写入 {}",
        codes.len(),
        TAXES.len(),
        codes.len() * 48,
        out.display()
    );
    Ok(())
}

//! Sensor payloads: bytes from MQTT or HTTP become a flat list of [`Point`]s, or one clear Chinese
//! error for the whole payload (nothing half-taken, DESIGN.md principle 8).
//!
//! # Our own format ([`Format::Own`])
//!
//! ```json
//! {
//!   "ts": 1800000000000,
//!   "readings": [
//!     {"tag": "GT-101", "value": 12.3},
//!     {"tag": "GT-102", "value": 0.4, "ts": 1799999990000},
//!     {"tag": "GT-103", "fault": 12}
//!   ]
//! }
//! ```
//!
//! - `ts`: optional, integer milliseconds since the Unix epoch; a reading's own `ts` wins over the
//!   payload's, and without either the time of arrival (`now`) is used.
//! - `readings`: required array. Each reading has a `tag` (位号, see [`Tag`]) and exactly one of
//!   `value` (a JSON number in the detector's unit) or `fault` (an integer 0–65535; 0 = no fault).
//!   They become points with key [`KEY_VALUE`] or [`KEY_FAULT`] and `device` = the tag.
//! - Unknown fields are refused, so a misspelt field is not silently ignored.
//!
//! # ThingsBoard formats
//!
//! - [`Format::ThingsBoardDevice`] (`v1/devices/me/telemetry`, `POST /api/v1/{token}/telemetry`):
//!   `{"key": value}`, `{"ts": ms, "values": {"key": value}}`, or an array of either. The device is
//!   known from the connection, so `device` is `None`. As in ThingsBoard, fields other than `ts` and
//!   `values` next to them are ignored; a `ts` without `values` (or the reverse) is refused rather
//!   than stored as a reading called "ts".
//! - [`Format::ThingsBoardGateway`] (`v1/gateway/telemetry`): `{"Device A": [{"ts": ms, "values":
//!   {…}}], …}`; each device's entry may be anything the device format accepts.
//!
//! # Values
//!
//! Only JSON numbers are readings. JSON cannot carry NaN or infinities (bare `NaN` is not JSON and
//! numbers beyond f64 are refused by the parser); strings such as `"NaN"` or `"12.3"` are refused
//! too, with the key named in the message. Payloads above [`MAX_PAYLOAD_BYTES`] are refused before
//! parsing. An empty payload object or array is valid and yields no points.

use serde_json::{Map, Value};

use super::detector::Tag;

/// Largest payload accepted, checked before parsing.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Longest telemetry key or gateway device name (ThingsBoard's limit for names).
pub const MAX_NAME_CHARS: usize = 255;
/// Key of a reading's value in our own format.
pub const KEY_VALUE: &str = "value";
/// Key of a fault code in our own format.
pub const KEY_FAULT: &str = "fault";

/// Which format the bytes are in: known from the topic or route they came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Own,
    ThingsBoardDevice,
    ThingsBoardGateway,
}

/// One data point of a payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Our format's tag or the gateway's device name; `None` when the connection identifies the device.
    pub device: Option<String>,
    /// Epoch milliseconds: from the payload, else the time of arrival.
    pub ts: i64,
    pub key: String,
    /// Finite.
    pub value: f64,
}

/// Why a payload was refused, in Chinese, naming where in the payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PayloadError {
    pub message: String,
}

fn err(message: impl Into<String>) -> PayloadError {
    PayloadError { message: message.into() }
}

/// Parses `bytes` in `format`; `now` (epoch ms) stamps points that carry no timestamp.
pub fn parse(bytes: &[u8], format: Format, now: i64) -> Result<Vec<Point>, PayloadError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(err(format!("报文过大：{} 字节，上限为 {MAX_PAYLOAD_BYTES} 字节（1 MiB）", bytes.len())));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(err("报文为空"));
    }
    let root: Value = serde_json::from_slice(bytes).map_err(|e| not_json(bytes, &e))?;
    let mut points = Vec::new();
    match format {
        Format::Own => own(&root, now, &mut points)?,
        Format::ThingsBoardDevice => device(&root, None, now, "", &mut points)?,
        Format::ThingsBoardGateway => gateway(&root, now, &mut points)?,
    }
    Ok(points)
}

fn not_json(bytes: &[u8], e: &serde_json::Error) -> PayloadError {
    let at = format!("第 {} 行第 {} 列", e.line(), e.column());
    let mentions = |word: &[u8]| bytes.windows(word.len()).any(|w| w == word);
    if e.to_string().starts_with("number out of range") {
        err(format!("报文中的数值超出范围（{at}）"))
    } else if mentions(b"NaN") || mentions(b"Infinity") {
        err(format!("报文不是有效的 JSON（{at}）：JSON 不能表示 NaN 或无穷大，请不要发送无效读数"))
    } else if e.is_eof() {
        err(format!("报文不完整，JSON 在{at}意外结束"))
    } else {
        err(format!("报文不是有效的 JSON（{at}）"))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "布尔值",
        Value::Number(_) => "数字",
        Value::String(_) => "字符串",
        Value::Array(_) => "数组",
        Value::Object(_) => "对象",
    }
}

/// A reading's value: a finite JSON number. Says what is wrong otherwise, without the location.
fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| "数值超出范围".to_owned()),
        Value::String(s) => {
            let t = s.trim().trim_start_matches(['+', '-']).to_ascii_lowercase();
            if matches!(t.as_str(), "nan" | "inf" | "infinity") {
                Err(format!("“{s}”不是有效读数（不接受 NaN 或无穷大）"))
            } else {
                let shown: String = s.chars().take(20).collect();
                Err(format!("应为数字，实际为字符串“{shown}”"))
            }
        }
        other => Err(format!("应为数字，实际为{}", type_name(other))),
    }
}

/// A timestamp: a non-negative integer number of milliseconds.
fn timestamp(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(ms) if ms >= 0 => Ok(ms),
            Some(_) => Err("时间戳不能为负数".to_owned()),
            None => Err("时间戳应为整数毫秒".to_owned()),
        },
        other => Err(format!("时间戳应为整数毫秒，实际为{}", type_name(other))),
    }
}

fn check_name(raw: &str, what: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err(format!("{what}不能为空"));
    }
    if raw.chars().any(char::is_control) {
        return Err(format!("{what}包含控制字符"));
    }
    if raw.chars().count() > MAX_NAME_CHARS {
        return Err(format!("{what}不能超过 {MAX_NAME_CHARS} 个字符"));
    }
    Ok(())
}

/// Joins a location in the payload: "[2]" → "readings[2]", "values" → "[0].values", for messages.
fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

/// "where：" before a message, or nothing at the top level.
fn located(path: &str, why: &str) -> PayloadError {
    if path.is_empty() { err(why) } else { err(format!("{path}：{why}")) }
}

fn own(root: &Value, now: i64, out: &mut Vec<Point>) -> Result<(), PayloadError> {
    let Value::Object(top) = root else {
        return Err(err(format!("报文应为 JSON 对象，实际为{}", type_name(root))));
    };
    if let Some(unknown) = top.keys().find(|k| !matches!(k.as_str(), "ts" | "readings")) {
        return Err(err(format!("未知字段“{unknown}”，报文只能包含 ts 和 readings")));
    }
    let base_ts = match top.get("ts") {
        Some(v) => timestamp(v).map_err(|why| err(format!("ts：{why}")))?,
        None => now,
    };
    let readings = match top.get("readings") {
        Some(Value::Array(items)) => items,
        Some(other) => return Err(err(format!("readings 应为数组，实际为{}", type_name(other)))),
        None => return Err(err("缺少 readings")),
    };
    out.reserve(readings.len());
    for (i, item) in readings.iter().enumerate() {
        let here = |field: &str, why: String| err(format!("readings[{i}]{field}：{why}"));
        let Value::Object(r) = item else {
            return Err(here("", format!("应为对象，实际为{}", type_name(item))));
        };
        if let Some(unknown) = r.keys().find(|k| !matches!(k.as_str(), "tag" | "value" | "fault" | "ts")) {
            return Err(here("", format!("未知字段“{unknown}”，读数只能包含 tag、value、fault 和 ts")));
        }
        let tag = match r.get("tag") {
            Some(Value::String(s)) => Tag::parse(s).map_err(|e| here(".tag", e.message))?,
            Some(other) => return Err(here(".tag", format!("应为字符串，实际为{}", type_name(other)))),
            None => return Err(here("", "缺少 tag".to_owned())),
        };
        let ts = match r.get("ts") {
            Some(v) => timestamp(v).map_err(|why| here(".ts", why))?,
            None => base_ts,
        };
        let (key, value) = match (r.get("value"), r.get("fault")) {
            (Some(v), None) => (KEY_VALUE, number(v).map_err(|why| here(".value", why))?),
            (None, Some(f)) => (KEY_FAULT, fault_code(f).map_err(|why| here(".fault", why))?),
            (Some(_), Some(_)) => return Err(here("", "value 和 fault 只能有一个".to_owned())),
            (None, None) => return Err(here("", "缺少 value 或 fault".to_owned())),
        };
        out.push(Point { device: Some(String::from(tag)), ts, key: key.to_owned(), value });
    }
    Ok(())
}

fn fault_code(v: &Value) -> Result<f64, String> {
    v.as_u64()
        .and_then(|code| u16::try_from(code).ok())
        .map(f64::from)
        .ok_or_else(|| format!("故障码应为 0～{} 的整数", u16::MAX))
}

/// ThingsBoard device telemetry: an object (ts-form or flat) or an array of them.
fn device(root: &Value, name: Option<&str>, now: i64, path: &str, out: &mut Vec<Point>) -> Result<(), PayloadError> {
    match root {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let here = join(path, &format!("[{i}]"));
                match item {
                    Value::Object(o) => entry(o, name, now, &here, out)?,
                    other => return Err(located(&here, &format!("应为对象，实际为{}", type_name(other)))),
                }
            }
            Ok(())
        }
        Value::Object(o) => entry(o, name, now, path, out),
        other => {
            let what = if path.is_empty() { "报文" } else { "" };
            Err(located(path, &format!("{what}应为 JSON 对象或数组，实际为{}", type_name(other))))
        }
    }
}

/// One object: `{"ts": .., "values": {..}}` or flat `{"key": value}`.
fn entry(
    o: &Map<String, Value>,
    name: Option<&str>,
    now: i64,
    path: &str,
    out: &mut Vec<Point>,
) -> Result<(), PayloadError> {
    let (values, ts, values_path) = match (o.get("ts"), o.get("values")) {
        (Some(ts), Some(values)) => {
            let ts = timestamp(ts).map_err(|why| located(&join(path, "ts"), &why))?;
            let values_path = join(path, "values");
            let Value::Object(values) = values else {
                return Err(located(&values_path, &format!("应为对象，实际为{}", type_name(values))));
            };
            (values, ts, values_path)
        }
        (Some(_), None) => return Err(located(path, "缺少 values（ts 与 values 应同时出现）")),
        (None, Some(_)) => return Err(located(path, "缺少 ts（ts 与 values 应同时出现）")),
        (None, None) => (o, now, path.to_owned()),
    };
    out.reserve(values.len());
    for (key, v) in values {
        let check = check_name(key, "键名").and_then(|()| number(v));
        let value = check.map_err(|why| located(&join(&values_path, key), &why))?;
        out.push(Point { device: name.map(str::to_owned), ts, key: key.clone(), value });
    }
    Ok(())
}

fn gateway(root: &Value, now: i64, out: &mut Vec<Point>) -> Result<(), PayloadError> {
    let Value::Object(devices) = root else {
        return Err(err(format!("网关报文应为以设备名为键的 JSON 对象，实际为{}", type_name(root))));
    };
    for (dev, data) in devices {
        let path = format!("“{dev}”");
        check_name(dev, "设备名").map_err(|why| located(&path, &why))?;
        device(data, Some(dev), now, &path, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

use proptest::prelude::*;

use super::*;

const NOW: i64 = 1_800_000_000_000;

fn points(json: &str, format: Format) -> Vec<(Option<String>, i64, String, f64)> {
    let mut got: Vec<_> = match parse(json.as_bytes(), format, NOW) {
        Ok(p) => p.into_iter().map(|p| (p.device, p.ts, p.key, p.value)).collect(),
        Err(e) => unreachable!("{json}: {e}"),
    };
    // serde_json's map order depends on features other crates may enable.
    got.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    got
}

fn error(json: &str, format: Format) -> String {
    parse(json.as_bytes(), format, NOW).err().map(|e| e.message).unwrap_or_default()
}

fn p(device: Option<&str>, ts: i64, key: &str, value: f64) -> (Option<String>, i64, String, f64) {
    (device.map(str::to_owned), ts, key.to_owned(), value)
}

#[test]
fn own_format_with_payload_and_reading_timestamps() {
    let json = r#"{"ts": 1799999999000, "readings": [
        {"tag": "GT-101", "value": 12.3},
        {"tag": "GT-102", "value": 0, "ts": 1799999990000},
        {"tag": "罐区1#-H2S", "fault": 12}
    ]}"#;
    assert_eq!(
        points(json, Format::Own),
        vec![
            p(Some("GT-101"), 1_799_999_999_000, KEY_VALUE, 12.3),
            p(Some("GT-102"), 1_799_999_990_000, KEY_VALUE, 0.0),
            p(Some("罐区1#-H2S"), 1_799_999_999_000, KEY_FAULT, 12.0),
        ]
    );
    // Without any timestamp, the time of arrival.
    assert_eq!(points(r#"{"readings":[{"tag":"A","value":1}]}"#, Format::Own), vec![p(Some("A"), NOW, "value", 1.0)]);
    assert_eq!(points(r#"{"readings":[]}"#, Format::Own), vec![]);
}

#[test]
fn own_format_errors_say_where() {
    let cases = [
        (r#"[1]"#, "报文应为 JSON 对象，实际为数组"),
        (r#"{}"#, "缺少 readings"),
        (r#"{"readings": {}}"#, "readings 应为数组，实际为对象"),
        (r#"{"readings": [], "extra": 1}"#, "未知字段“extra”，报文只能包含 ts 和 readings"),
        (r#"{"ts": "1700000000000", "readings": []}"#, "ts：时间戳应为整数毫秒，实际为字符串"),
        (r#"{"ts": 1.7e12, "readings": []}"#, "ts：时间戳应为整数毫秒"),
        (r#"{"ts": -1, "readings": []}"#, "ts：时间戳不能为负数"),
        (r#"{"readings": [1]}"#, "readings[0]：应为对象，实际为数字"),
        (r#"{"readings": [{"value": 1}]}"#, "readings[0]：缺少 tag"),
        (r#"{"readings": [{"tag": 7, "value": 1}]}"#, "readings[0].tag：应为字符串，实际为数字"),
        (r#"{"readings": [{"tag": "", "value": 1}]}"#, "readings[0].tag：请填写位号"),
        (r#"{"readings": [{"tag": "A"}]}"#, "readings[0]：缺少 value 或 fault"),
        (r#"{"readings": [{"tag": "A", "value": 1, "fault": 2}]}"#, "readings[0]：value 和 fault 只能有一个"),
        (
            r#"{"readings": [{"tag": "A", "valeu": 1}]}"#,
            "readings[0]：未知字段“valeu”，读数只能包含 tag、value、fault 和 ts",
        ),
        (
            r#"{"readings": [{"tag": "A", "value": 1}, {"tag": "B", "value": "NaN"}]}"#,
            "readings[1].value：“NaN”不是有效读数（不接受 NaN 或无穷大）",
        ),
        (
            r#"{"readings": [{"tag": "A", "value": "-Infinity"}]}"#,
            "readings[0].value：“-Infinity”不是有效读数（不接受 NaN 或无穷大）",
        ),
        (r#"{"readings": [{"tag": "A", "value": "12.3"}]}"#, "readings[0].value：应为数字，实际为字符串“12.3”"),
        (r#"{"readings": [{"tag": "A", "value": null}]}"#, "readings[0].value：应为数字，实际为null"),
        (r#"{"readings": [{"tag": "A", "value": true}]}"#, "readings[0].value：应为数字，实际为布尔值"),
        (r#"{"readings": [{"tag": "A", "fault": 70000}]}"#, "readings[0].fault：故障码应为 0～65535 的整数"),
        (r#"{"readings": [{"tag": "A", "fault": 1.5}]}"#, "readings[0].fault：故障码应为 0～65535 的整数"),
    ];
    for (json, expected) in cases {
        assert_eq!(error(json, Format::Own), expected, "{json}");
    }
}

#[test]
fn thingsboard_device_formats() {
    assert_eq!(
        points(r#"{"h2s": 3.5, "co": 12}"#, Format::ThingsBoardDevice),
        vec![p(None, NOW, "co", 12.0), p(None, NOW, "h2s", 3.5)]
    );
    assert_eq!(
        points(r#"{"ts": 1799999999000, "values": {"h2s": 3.5}}"#, Format::ThingsBoardDevice),
        vec![p(None, 1_799_999_999_000, "h2s", 3.5)]
    );
    let array =
        r#"[{"ts": 1799999998000, "values": {"h2s": 1}}, {"ts": 1799999999000, "values": {"h2s": 2}}, {"o2": 20.9}]"#;
    assert_eq!(
        points(array, Format::ThingsBoardDevice),
        vec![p(None, 1_799_999_998_000, "h2s", 1.0), p(None, 1_799_999_999_000, "h2s", 2.0), p(None, NOW, "o2", 20.9)]
    );
    // As in ThingsBoard, other fields beside ts and values are ignored.
    let extra = r#"{"ts": 1799999999000, "values": {"h2s": 1}, "deviceType": "GT"}"#;
    assert_eq!(points(extra, Format::ThingsBoardDevice).len(), 1);
    assert_eq!(points("{}", Format::ThingsBoardDevice), vec![]);
    assert_eq!(points("[]", Format::ThingsBoardDevice), vec![]);
}

#[test]
fn thingsboard_device_errors_say_where() {
    let cases = [
        ("12", "报文应为 JSON 对象或数组，实际为数字"),
        (r#"{"h2s": "NaN"}"#, "h2s：“NaN”不是有效读数（不接受 NaN 或无穷大）"),
        (r#"{"h2s": {"v": 1}}"#, "h2s：应为数字，实际为对象"),
        (r#"{"ts": 1799999999000, "h2s": 1}"#, "缺少 values（ts 与 values 应同时出现）"),
        (r#"{"values": {"h2s": 1}}"#, "缺少 ts（ts 与 values 应同时出现）"),
        (r#"{"ts": 1799999999000, "values": [1]}"#, "values：应为对象，实际为数组"),
        (r#"{"ts": "now", "values": {}}"#, "ts：时间戳应为整数毫秒，实际为字符串"),
        (r#"[{"h2s": 1}, 5]"#, "[1]：应为对象，实际为数字"),
        (r#"[{"ts": 1, "values": {"h2s": "inf"}}]"#, "[0].values.h2s：“inf”不是有效读数（不接受 NaN 或无穷大）"),
        (r#"{"": 1}"#, "键名不能为空"),
    ];
    for (json, expected) in cases {
        assert_eq!(error(json, Format::ThingsBoardDevice), expected, "{json}");
    }
}

#[test]
fn thingsboard_gateway_format() {
    let json = r#"{"Device A": [{"ts": 1799999999000, "values": {"h2s": 3}}], "Device B": {"co": 7}}"#;
    assert_eq!(
        points(json, Format::ThingsBoardGateway),
        vec![p(Some("Device A"), 1_799_999_999_000, "h2s", 3.0), p(Some("Device B"), NOW, "co", 7.0)]
    );
    assert_eq!(error("[]", Format::ThingsBoardGateway), "网关报文应为以设备名为键的 JSON 对象，实际为数组");
    assert_eq!(error(r#"{"": [{"a": 1}]}"#, Format::ThingsBoardGateway), "“”：设备名不能为空");
    assert_eq!(
        error(r#"{"Device A": [{"ts": 1, "values": {"h2s": "NaN"}}]}"#, Format::ThingsBoardGateway),
        "“Device A”[0].values.h2s：“NaN”不是有效读数（不接受 NaN 或无穷大）"
    );
    assert_eq!(error(r#"{"Device A": 5}"#, Format::ThingsBoardGateway), "“Device A”：应为 JSON 对象或数组，实际为数字");
}

#[test]
fn refuses_what_is_not_json() {
    for format in [Format::Own, Format::ThingsBoardDevice, Format::ThingsBoardGateway] {
        assert_eq!(error("", format), "报文为空");
        assert_eq!(error("hello", format), "报文不是有效的 JSON（第 1 行第 1 列）");
        assert_eq!(error(r#"{"h2s": 1"#, format), "报文不完整，JSON 在第 1 行第 9 列意外结束");
        assert!(error(r#"{"h2s": NaN}"#, format).contains("JSON 不能表示 NaN 或无穷大"));
        assert!(error(r#"{"h2s": -Infinity}"#, format).contains("JSON 不能表示 NaN 或无穷大"));
        assert!(error(r#"{"h2s": 1e400}"#, format).starts_with("报文中的数值超出范围"));
        assert!(parse(&[0xff, 0xfe], format, NOW).is_err());
    }
}

#[test]
fn refuses_oversized_payloads_before_parsing() {
    // Not JSON at all: the size check must come first.
    let big = vec![b'x'; MAX_PAYLOAD_BYTES + 1];
    assert_eq!(
        parse(&big, Format::ThingsBoardDevice, NOW).err().map(|e| e.message),
        Some("报文过大：1048577 字节，上限为 1048576 字节（1 MiB）".to_owned())
    );
    let mut fits = b"{\"h2s\": 1".to_vec();
    fits.resize(MAX_PAYLOAD_BYTES - 1, b' ');
    fits.push(b'}');
    assert_eq!(parse(&fits, Format::ThingsBoardDevice, NOW).map(|p| p.len()), Ok(1));
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for format in [Format::Own, Format::ThingsBoardDevice, Format::ThingsBoardGateway] {
            let _ = parse(&bytes, format, NOW);
        }
    }

    #[test]
    fn every_point_is_finite(values in prop::collection::vec(any::<f64>(), 0..20)) {
        let body: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("\"k{i}\": {v}")).collect();
        let json = format!("{{{}}}", body.join(","));
        if let Ok(points) = parse(json.as_bytes(), Format::ThingsBoardDevice, NOW) {
            prop_assert!(points.iter().all(|p| p.value.is_finite()));
            prop_assert_eq!(points.len(), values.len());
        } else {
            prop_assert!(values.iter().any(|v| !v.is_finite()));
        }
    }
}

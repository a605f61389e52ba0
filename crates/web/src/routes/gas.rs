//! The toxic-gas early warning's routes (有毒有害气体预警): detectors, the live monitor, alarms and
//! the ingest — pages and JSON API. Part of the one route table (see `routes.rs`).

use super::{Route, UPLOAD_LIMIT, r};
use crate::{gas_api, pages};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use dianxiaoer_core::access::Permission;

pub(super) fn pages() -> Vec<Route> {
    use Permission as P;
    vec![
        r("GET", "/gas/detectors", Some(P::ReadGas), "气体探测器列表", get(pages::gas_detectors::list)),
        r("GET", "/gas/detectors/export.xlsx", Some(P::ReadGas), "导出气体探测器", get(pages::gas_detectors::export)),
        r("GET", "/gas/detectors/new", Some(P::EditDetectors), "登记探测器页", get(pages::gas_detectors::new_form)),
        r("POST", "/gas/detectors", Some(P::EditDetectors), "登记探测器", post(pages::gas_detectors::create)),
        r("GET", "/gas/detectors/{id}", Some(P::ReadGas), "探测器", get(pages::gas_detectors::detail)),
        r(
            "GET",
            "/gas/detectors/{id}/edit",
            Some(P::EditDetectors),
            "编辑探测器页",
            get(pages::gas_detectors::edit_form),
        ),
        r("POST", "/gas/detectors/{id}/edit", Some(P::EditDetectors), "保存探测器", post(pages::gas_detectors::update)),
        r("GET", "/gas/detectors/import", Some(P::EditDetectors), "导入探测器页", get(pages::gas_import::form)),
        r(
            "POST",
            "/gas/detectors/import",
            Some(P::EditDetectors),
            "导入探测器",
            post(pages::gas_import::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        ),
        r(
            "GET",
            "/gas/detectors/import/template.xlsx",
            Some(P::EditDetectors),
            "下载探测器导入模板",
            get(pages::gas_import::template),
        ),
        r("GET", "/gas/monitor", Some(P::ReadGas), "气体实时监测", get(pages::gas_monitor::page)),
        r("GET", "/gas/monitor/events", Some(P::ReadGas), "实时监测事件流（SSE）", get(pages::gas_monitor::events)),
        r("GET", "/gas/alarms", Some(P::ReadGas), "气体报警列表", get(pages::gas_alarms::list)),
        r("GET", "/gas/alarms/{id}", Some(P::ReadGas), "报警详情", get(pages::gas_alarms::detail)),
        r("POST", "/gas/alarms/{id}/ack", Some(P::HandleAlarms), "确认报警", post(pages::gas_alarms::acknowledge)),
        r("POST", "/gas/alarms/{id}/dispose", Some(P::HandleAlarms), "处置报警", post(pages::gas_alarms::dispose)),
        r("POST", "/gas/alarms/{id}/close", Some(P::HandleAlarms), "关闭报警", post(pages::gas_alarms::close)),
    ]
}

pub(super) fn api() -> Vec<Route> {
    use Permission as P;
    vec![
        r(
            "POST",
            "/api/v1/gas/detectors/import",
            Some(P::EditDetectors),
            "导入探测器（multipart，字段 file）",
            post(pages::gas_import::api_upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        ),
        r("GET", "/api/v1/gas/detectors", Some(P::ReadGas), "气体探测器列表", get(gas_api::detectors)),
        r("POST", "/api/v1/gas/detectors", Some(P::EditDetectors), "登记探测器", post(gas_api::create_detector)),
        r("GET", "/api/v1/gas/detectors/{id}", Some(P::ReadGas), "探测器", get(gas_api::detector)),
        r("POST", "/api/v1/gas/detectors/{id}", Some(P::EditDetectors), "修改探测器", post(gas_api::update_detector)),
        r(
            "GET",
            "/api/v1/gas/detectors/{id}/readings",
            Some(P::ReadGas),
            "探测器最近读数（limit，最多 1000）",
            get(gas_api::readings),
        ),
        r(
            "GET",
            "/api/v1/gas/detectors/{id}/series",
            Some(P::ReadGas),
            "探测器读数曲线数据（range=6h|24h|7d|30d；小时为原始读数，天为分钟汇总）",
            get(gas_api::series),
        ),
        r(
            "POST",
            "/api/v1/gas/readings",
            Some(P::IngestReadings),
            "批量上报读数（format=own|thingsboard|thingsboard-gateway，device=位号；上限 1 MiB）",
            post(gas_api::ingest),
        ),
        r("GET", "/api/v1/gas/alarms", Some(P::ReadGas), "气体报警列表", get(gas_api::alarms)),
        r("GET", "/api/v1/gas/alarms/{id}", Some(P::ReadGas), "报警详情与记录", get(gas_api::alarm)),
        r("POST", "/api/v1/gas/alarms/{id}/ack", Some(P::HandleAlarms), "确认报警", post(gas_api::acknowledge)),
        r(
            "POST",
            "/api/v1/gas/alarms/{id}/dispose",
            Some(P::HandleAlarms),
            "处置报警（note 必填）",
            post(gas_api::dispose),
        ),
        r("POST", "/api/v1/gas/alarms/{id}/close", Some(P::HandleAlarms), "关闭报警", post(gas_api::close)),
    ]
}

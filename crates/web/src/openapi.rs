//! The OpenAPI 3.1 document, generated from the route table so it can never list a route that does
//! not exist or miss one that does.

use crate::routes::specs;
use axum::Json;
use serde_json::{Map, Value, json};

pub async fn document() -> Json<Value> {
    Json(build())
}

pub fn build() -> Value {
    let mut paths = Map::new();
    for s in specs().into_iter().filter(|s| s.is_api() && !s.path.ends_with("openapi.json")) {
        let path = s.path.trim_start_matches("/api/v1");
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        let params: Vec<Value> = s
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| {
                let schema = match name {
                    "period" => json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
                    "code" => json!({"type": "string"}),
                    "date" => json!({"type": "string", "format": "date"}),
                    _ => json!({"type": "integer", "format": "int64"}),
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        let mut op = json!({
            "summary": s.summary,
            "operationId": format!("{}_{}", s.method.to_lowercase(), path.trim_matches('/').replace(['/', '{', '}', '-'], "_")),
            "parameters": params,
            "responses": {
                "200": {"description": "成功", "content": {"application/json": {}}},
                "400": {"$ref": "#/components/responses/Problem"},
                "401": {"$ref": "#/components/responses/Problem"},
                "403": {"$ref": "#/components/responses/Problem"},
                "404": {"$ref": "#/components/responses/Problem"}
            },
            "security": [{"apiKey": []}, {"session": []}],
            "x-permission": s.permission,
        });
        if (s.method == "POST" || s.method == "PUT")
            && let Some(o) = op.as_object_mut()
        {
            o.insert("requestBody".into(), json!({"content": {"application/json": {"schema": {"type": "object"}}}}));
        }
        if let Some(e) = entry.as_object_mut() {
            e.insert(s.method.to_lowercase(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "店小二 dianxiaoer API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "沂水经济开发区企业服务与管理平台。数据范围与调用者账号一致；错误为 RFC 9457 problem 文档。"
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "在“我的账号”页面创建的 API 密钥"},
                "session": {"type": "apiKey", "in": "cookie", "name": "dxe_session", "description": "浏览器会话；非 GET 请求须带 X-CSRF-Token 头"}
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"}, "errors": {"type": "object", "additionalProperties": {"type": "string"}}
                    },
                    "required": ["title", "status"]
                }
            },
            "responses": {
                "Problem": {"description": "错误", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            }
        }
    })
}

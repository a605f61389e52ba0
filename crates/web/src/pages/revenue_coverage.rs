//! Coverage (飞地覆盖): every one of the 18 towns and streets with its enterprises and projects in the
//! zone and its confirmed share this year, so the claim that every town has an enterprise in the zone
//! can be checked at a glance.

use super::render;
use super::revenue_assessment::{YearQuery, year_of};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, PageError};
use crate::view::Chrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::{Extension, Json};
use dianxiaoer_store::TownCoverage;

#[derive(Template)]
#[template(path = "revenue_coverage.html")]
struct CoveragePage {
    chrome: Chrome,
    year: i32,
    towns: Vec<TownCoverage>,
    present: usize,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let year = year_of(&state, &q)?;
    let towns = state.store.town_coverage(&me.scope, year).await?;
    let present = towns.iter().filter(|t| t.enterprises_hosted + t.enterprises_introduced > 0).count();
    render(&CoveragePage { chrome: Chrome::new(&me, "/revenue/coverage", "乡镇覆盖"), year, towns, present })
}

pub async fn api(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Query(q): Query<YearQuery>,
) -> Result<Json<Vec<TownCoverage>>, ApiError> {
    let year = year_of(&state, &q)?;
    Ok(Json(state.store.town_coverage(&me.scope, year).await?))
}

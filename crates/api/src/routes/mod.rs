//! The route table. Every route goes through [`Routes`], which registers the handler and lists
//! the (method, path) pair, so `tests/openapi.rs` can hold the list against `openapi.json` both
//! ways: a route the document lacks, or a documented route the code lacks, fails the test.

mod anomalies;
mod costs;
mod declared;
mod drivers;
mod integrations;
mod outlook;
mod params;
mod recommendations;
mod reports;
mod usage;

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};

use crate::{Api, auth, dashboard, etag, problem};

pub struct Routes {
    router: Router<Arc<Api>>,
    table: Vec<(Method, &'static str)>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<Api>>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        self.router = self.router.route(path, on(filter, handler));
        self.table.push((method, path));
        self
    }

    fn get<H: Handler<T, Arc<Api>>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, h)
    }

    fn post<H: Handler<T, Arc<Api>>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::POST, path, h)
    }

    /// (method, path) of every route, in OpenAPI's path syntax (`{id}`; axum 0.8 uses the same).
    pub fn table(&self) -> &[(Method, &'static str)] {
        &self.table
    }

    /// The router with the layers every route shares (outermost last): errors as problems,
    /// the token check, ETags on reads; and, on the routes themselves, only the query
    /// parameters the document declares ([`declared`]).
    pub fn into_router(self, api: Arc<Api>) -> Router {
        self.router
            .route_layer(middleware::from_fn(declared::only_declared))
            .fallback(problem::not_found)
            .layer(middleware::from_fn(etag::etags))
            .layer(middleware::from_fn_with_state(api.clone(), auth::require))
            .layer(middleware::from_fn(problem::problems_everywhere))
            .with_state(api)
    }
}

/// Every route of the API, the document and the dashboard.
pub fn routes() -> Routes {
    Routes::new()
        .get("/", dashboard::index)
        .get("/assets/app.js", dashboard::script)
        .get("/assets/app.css", dashboard::style)
        .get("/openapi.json", openapi)
        .get("/v1/costs", costs::daily)
        .get("/v1/costs/breakdown", costs::breakdown)
        .get("/v1/costs/allocation", costs::allocation)
        .get("/v1/anomalies", anomalies::list)
        .get("/v1/anomalies/{id}", anomalies::detail)
        .post("/v1/anomalies/{id}/acknowledge", anomalies::acknowledge)
        .post("/v1/anomalies/{id}/snooze", anomalies::snooze)
        .post("/v1/anomalies/{id}/feedback", anomalies::feedback)
        .get("/v1/forecasts", outlook::forecasts)
        .get("/v1/budgets", outlook::budgets)
        .get("/v1/drivers", drivers::drivers)
        .get("/v1/reports", reports::list)
        .get("/v1/reports/{period}/{date}/{file}", reports::fetch)
        .get("/reports/{date}", reports::page)
        .get("/v1/usage", usage::month)
        .get("/v1/recommendations", recommendations::list)
        .get("/v1/integrations", integrations::health)
}

async fn openapi() -> Response {
    let mut response = crate::OPENAPI.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

//! The console's static files, embedded in the binary (no build step: plain
//! HTML, CSS and JavaScript in `static/`).

use axum::response::Response;

use super::typed;

const INDEX: &str = include_str!("static/index.html");
const SCRIPT: &str = include_str!("static/console.js");
const STYLE: &str = include_str!("static/console.css");

pub(super) async fn index() -> Response {
    typed("text/html; charset=utf-8", INDEX)
}

pub(super) async fn script() -> Response {
    typed("text/javascript; charset=utf-8", SCRIPT)
}

pub(super) async fn style() -> Response {
    typed("text/css; charset=utf-8", STYLE)
}

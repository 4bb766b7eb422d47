//! `/console/`: the agent console (the web app in `console/`), served from its built files
//! (`console/dist`, made by `scripts/console-build.sh`; on AWS CloudFront serves the same
//! files from S3). Read from the folder at each request, so a rebuild shows on reload and a
//! desk built without Node.js still starts: without the files `/console/` says how to build
//! them. `/console/config.json` tells the app to sign in with the desk's bearer tokens. Every
//! answer carries the same security headers CloudFront adds on AWS.

use std::path::{Component, Path, PathBuf};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// What `/console/` says when the folder has no built console.
pub const NOT_BUILT: &str = "The agent console is not built. From the repository root run \
     scripts/console-build.sh (needs Node.js 20 and npm; it runs npm ci and the build into \
     console/dist), then reload this page. scripts/test.sh builds it too.";

/// The console's content security policy: its own scripts, styles and API only; no inline
/// code, no frames, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The largest file served (the built chunks are far smaller).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Clone)]
struct Files {
    dir: PathBuf,
}

/// The console's routes, serving `dir` (the built `console/dist`).
pub fn router(dir: PathBuf) -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(index))
        .route("/console/config.json", get(config))
        .route("/console/{*path}", get(file))
        .layer(axum::middleware::map_response(protect))
        .with_state(Files { dir })
}

/// Whether `dir` holds a built console; the desk logs how to build it when not.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

async fn index(State(files): State<Files>) -> Response {
    serve(&files.dir, "index.html").await
}

async fn config() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"auth":"local","api":""}"#).into_response()
}

async fn file(State(files): State<Files>, UrlPath(path): UrlPath<String>) -> Response {
    serve(&files.dir, &path).await
}

/// A file of the build by its relative path; anything else (`..`, absolute, hidden names)
/// is not found. An unknown path without an extension is a screen of the app: its page.
async fn serve(dir: &Path, path: &str) -> Response {
    if !is_built(dir) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    }
    let relative = Path::new(path);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(name) if !name.to_string_lossy().starts_with('.')));
    if !plain || path.is_empty() {
        return not_found();
    }
    let Some(content_type) = content_type(relative) else {
        return Box::pin(serve(dir, "index.html")).await;
    };
    let full = dir.join(relative);
    match tokio::fs::symlink_metadata(&full).await {
        Ok(meta) if meta.is_file() && meta.len() <= MAX_FILE_BYTES => {}
        _ => return not_found(),
    }
    match tokio::fs::read(&full).await {
        // The page is re-read on every visit; the chunks have content hashes in their names.
        Ok(bytes) => {
            let cache =
                if path.starts_with("chunks/") { "public, max-age=31536000, immutable" } else { "no-cache" };
            ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache)], bytes).into_response()
        }
        Err(_) => not_found(),
    }
}

fn content_type(path: &Path) -> Option<&'static str> {
    Some(match path.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    })
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found")
        .into_response()
}

async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get(dir: &Path, uri: &str) -> (StatusCode, String, Option<String>) {
        let response =
            router(dir.to_path_buf()).oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let csp =
            response.headers().get(header::CONTENT_SECURITY_POLICY).map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned(), csp)
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("omnidesk-console-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn built(name: &str) -> PathBuf {
        let dir = scratch(name);
        std::fs::write(dir.join("index.html"), "<!doctype html>page").unwrap();
        std::fs::create_dir(dir.join("chunks")).unwrap();
        std::fs::write(dir.join("chunks/a.js"), "export{}").unwrap();
        dir
    }

    #[tokio::test]
    async fn console_serves_the_built_files_with_security_headers() {
        let dir = built("serves");
        let (status, body, csp) = get(&dir, "/console/").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "<!doctype html>page"));
        assert!(csp.unwrap().contains("script-src 'self'"));
        assert_eq!(get(&dir, "/console/chunks/a.js").await.1, "export{}");
        // A screen's URL without an extension is the app's page.
        assert_eq!(get(&dir, "/console/team").await.1, "<!doctype html>page");
        assert!(get(&dir, "/console/config.json").await.1.contains("\"auth\":\"local\""));
    }

    #[tokio::test]
    async fn console_refuses_paths_outside_its_folder() {
        let dir = built("outside");
        for uri in
            ["/console/../Cargo.toml", "/console/%2e%2e/secret.js", "/console/.hidden.js", "/console/nope.js"]
        {
            assert_eq!(get(&dir, uri).await.0, StatusCode::NOT_FOUND, "{uri}");
        }
    }

    #[tokio::test]
    async fn console_not_built_says_how_to_build_it() {
        let dir = scratch("unbuilt");
        let (status, body, _) = get(&dir, "/console/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("scripts/console-build.sh"), "{body}");
    }
}

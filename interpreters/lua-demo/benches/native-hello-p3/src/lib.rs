//! The same response as `examples/http-p3/hello.lua`, from Rust: the WASI 0.3
//! baseline the Lua 0.3 handler's requests per second are measured against.

use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::{wit_future, wit_stream};

struct Hello;

impl wasip3::exports::http::handler::Guest for Hello {
    async fn handle(_request: Request) -> Result<Response, ErrorCode> {
        let headers = Fields::from_list(&[("content-type".into(), b"text/plain".to_vec())])
            .expect("valid headers");
        let (mut body, body_out) = wit_stream::new();
        let (trailers, trailers_out) = wit_future::new(|| Ok(None));
        let (response, _sent) = Response::new(headers, Some(body_out), trailers_out);
        drop(trailers);
        // Like the Lua handler, the body is written once the response is on
        // its way.
        wasip3::spawn_local(async move {
            let left = body.write_all(b"Hello, world!\n".to_vec()).await;
            assert!(left.is_empty(), "the client reads the whole body");
        });
        Ok(response)
    }
}

wasip3::http::service::export!(Hello);

//! What a request must pass before it gets an instance: a free request slot
//! (else 503), a body no larger than the limit (else 413), and, for its
//! first [`PREBUFFER`] bytes, arriving in time (else 408). A client that
//! trickles its body in therefore waits in a cheap task, not in a pooled
//! instance: hundreds of them leave the pool to everyone else.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::anyhow;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Failure;

/// How much of a body is read before the handler starts; the rest streams
/// into it.
pub const PREBUFFER: usize = 64 << 10;

/// The limits every request passes.
pub struct Admission {
    /// One permit per request in flight.
    requests: Arc<Semaphore>,
    max_requests: usize,
    max_body: u64,
    /// How long the first [`PREBUFFER`] bytes may take.
    timeout: Duration,
}

impl Admission {
    pub fn new(max_requests: usize, max_body: u64, timeout: Duration) -> Admission {
        Admission {
            requests: Arc::new(Semaphore::new(max_requests)),
            max_requests,
            max_body,
            timeout,
        }
    }

    /// Admits `req`, or says which status refuses it. The permit counts the
    /// request as in flight until it is dropped.
    pub async fn admit(
        &self,
        req: Request<Incoming>,
    ) -> Result<(Request<RequestBody>, OwnedSemaphorePermit), Failure> {
        let permit = self
            .requests
            .clone()
            .try_acquire_owned()
            .map_err(|_| Failure {
                status: StatusCode::SERVICE_UNAVAILABLE,
                error: anyhow!(
                    "{} requests in flight, the most --max-requests allows",
                    self.max_requests
                ),
            })?;
        if let Some(len) = req.body().size_hint().exact()
            && len > self.max_body
        {
            return Err(self.too_large(len));
        }
        let (parts, mut incoming) = req.into_parts();
        let mut head = VecDeque::new();
        let mut read = 0u64;
        let prebuffer = async {
            while read < PREBUFFER as u64 {
                let Some(frame) = incoming.frame().await else {
                    return Ok(true);
                };
                let frame = frame.map_err(|err| Failure {
                    status: StatusCode::BAD_REQUEST,
                    error: anyhow!("reading the request body: {err}"),
                })?;
                if let Some(data) = frame.data_ref() {
                    read += data.len() as u64;
                    if read > self.max_body {
                        return Err(self.too_large(read));
                    }
                }
                head.push_back(frame);
            }
            Ok(false)
        };
        let ended = tokio::time::timeout(self.timeout, prebuffer)
            .await
            .map_err(|_| Failure {
                status: StatusCode::REQUEST_TIMEOUT,
                error: anyhow!(
                    "the request body did not arrive within the time limit ({:?}; --timeout)",
                    self.timeout
                ),
            })??;
        let body = RequestBody {
            head,
            rest: (!ended).then_some(incoming),
            read,
            max: self.max_body,
        };
        Ok((Request::from_parts(parts, body), permit))
    }

    fn too_large(&self, len: u64) -> Failure {
        Failure {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: anyhow!(
                "the request body ({len} bytes or more) is larger than --max-body-size ({} bytes)",
                self.max_body
            ),
        }
    }
}

/// A request body: the frames read before the handler started, then the
/// rest as it arrives, cut with an error past the size limit.
pub struct RequestBody {
    head: VecDeque<Frame<Bytes>>,
    rest: Option<Incoming>,
    read: u64,
    max: u64,
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(frame) = this.head.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        let Some(rest) = this.rest.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = match std::task::ready!(Pin::new(rest).poll_frame(cx)) {
            None => {
                this.rest = None;
                return Poll::Ready(None);
            }
            Some(Err(err)) => return Poll::Ready(Some(Err(err.into()))),
            Some(Ok(frame)) => frame,
        };
        if let Some(data) = frame.data_ref() {
            this.read += data.len() as u64;
            if this.read > this.max {
                this.rest = None;
                return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(
                    Some(this.read),
                ))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.head.is_empty() && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let buffered: u64 = self
            .head
            .iter()
            .filter_map(|frame| frame.data_ref().map(|data| data.len() as u64))
            .sum();
        let rest = self
            .rest
            .as_ref()
            .map_or(SizeHint::with_exact(0), Body::size_hint);
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + buffered);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + buffered);
        }
        hint
    }
}

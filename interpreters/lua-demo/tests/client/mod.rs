//! A small HTTP/1.1 client on hyper's own client, for the `serve` tests and
//! benchmark: one keep-alive connection per [`Client`].

use std::net::SocketAddr;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;

/// A response, with its whole body.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct Client {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    /// Connects to `addr`; the connection is driven by a task on the
    /// current tokio runtime.
    pub async fn connect(addr: SocketAddr) -> Result<Client> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Client { addr, sender })
    }

    /// Sends a request and reads the whole response; an error if the
    /// connection fails or the body is cut short.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&mut self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, &[], Vec::new()).await
    }
}

/// One request on a connection of its own.
pub async fn get(addr: SocketAddr, path: &str) -> Result<Reply> {
    Client::connect(addr).await?.get(path).await
}

/// Runs `future` on a runtime of its own (two worker threads).
#[allow(dead_code)] // Not every test that includes this module uses it.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// `len` bytes that differ from request to request (`seed`).
#[allow(dead_code)] // Not every test that includes this module uses it.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

/// Has `clients` clients, each on a connection of its own and all at once,
/// POST a body of its own to `path`, and checks that each gets it back.
#[allow(dead_code)] // Not every test that includes this module uses it.
pub fn assert_concurrent_echoes(addr: SocketAddr, path: &'static str, clients: u64) {
    let replies = block_on(async move {
        let tasks: Vec<_> = (0..clients)
            .map(|i| {
                tokio::spawn(async move {
                    let mut client = Client::connect(addr).await?;
                    let body = noise(1000 + i as usize, i);
                    let reply = client
                        .send(hyper::Method::POST, path, &[], body.clone())
                        .await?;
                    anyhow::Ok((body, reply))
                })
            })
            .collect();
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.unwrap().unwrap());
        }
        replies
    });
    assert_eq!(replies.len() as u64, clients);
    for (body, reply) in replies {
        assert_eq!(reply.status, 200);
        assert!(reply.body == body, "a reply carries another request's body");
    }
}

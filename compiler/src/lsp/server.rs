//! The server loop. One thread reads the client's messages and answers;
//! a second compiles. The reading thread never compiles, so it never
//! blocks on a request: an edit is handed to the compiler thread, which
//! takes only the newest version of each buffer waiting for it (older
//! ones are dropped unread: typing faster than the compiler only skips
//! versions), and a request that needs the checker's answer for the
//! version the client has waits in `pending` until that version is
//! compiled, while other messages keep being served. The findings are
//! turned into LSP diagnostics on the compiler thread too.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crossbeam_channel::{select, Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{self as lsp, Url};
use serde_json::Value;

use super::analysis::{self, Analysis};
use super::{actions, completion, hover, navigate, symbols, Config};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves `connection` until the client shuts the server down.
pub fn run(connection: &Connection, mut config: Config) -> Result<(), Error> {
    let (id, params) = connection.initialize_start()?;
    let init: lsp::InitializeParams = serde_json::from_value(params)?;
    if let Some(url) = init
        .initialization_options
        .as_ref()
        .and_then(|o| o.get("bookUrl"))
        .and_then(Value::as_str)
    {
        config.book = super::Book::Url(url.to_string());
    }
    let result = lsp::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp::ServerInfo {
            name: "infrac".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    connection.initialize_finish(id, serde_json::to_value(result)?)?;

    let (jobs, job_queue) = crossbeam_channel::unbounded::<Job>();
    let (done_tx, done) = crossbeam_channel::unbounded::<Done>();
    let compiler_config = config.clone();
    let compiler = std::thread::Builder::new()
        .name("infrac-compile".into())
        .spawn(move || compile_loop(job_queue, done_tx, &compiler_config))?;
    let mut server = Server {
        connection,
        config,
        documents: HashMap::new(),
        analyses: HashMap::new(),
        pending: Vec::new(),
        jobs,
    };
    let outcome = server.serve(&done);
    drop(server);
    let _ = compiler.join();
    outcome
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::FULL,
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![
                "=".into(),
                " ".into(),
                ":".into(),
                "/".into(),
                "\"".into(),
            ]),
            ..lsp::CompletionOptions::default()
        }),
        ..lsp::ServerCapabilities::default()
    }
}

/// A buffer to compile.
struct Job {
    uri: Url,
    version: i32,
    text: String,
}

/// A compiled buffer and its `publishDiagnostics`, made on the compiler
/// thread: the reading thread only checks that the version is still the
/// client's and forwards it.
struct Done {
    analysis: Arc<Analysis>,
    publish: Notification,
}

/// The compiler thread: the newest version of each buffer queued, one at
/// a time, until the reading thread hangs up.
fn compile_loop(queue: Receiver<Job>, done: Sender<Done>, config: &Config) {
    while let Ok(first) = queue.recv() {
        let mut latest = BTreeMap::new();
        latest.insert(first.uri.clone(), first);
        while let Ok(job) = queue.try_recv() {
            latest.insert(job.uri.clone(), job);
        }
        for job in latest.into_values() {
            let analysis = analysis::analyse(job.uri, job.version, job.text);
            let diagnostics = super::diagnostics::of(&analysis, config);
            let publish = publication(analysis.uri.clone(), diagnostics, Some(analysis.version));
            let analysis = Arc::new(analysis);
            if done.send(Done { analysis, publish }).is_err() {
                return;
            }
        }
    }
}

struct Document {
    version: i32,
    text: String,
}

struct Server<'a> {
    connection: &'a Connection,
    config: Config,
    documents: HashMap<Url, Document>,
    /// The newest compiled version of each open buffer.
    analyses: HashMap<Url, Arc<Analysis>>,
    /// Requests waiting for their buffer's current version.
    pending: Vec<(Url, Request)>,
    jobs: Sender<Job>,
}

impl Server<'_> {
    fn serve(&mut self, done: &Receiver<Done>) -> Result<(), Error> {
        loop {
            select! {
                recv(self.connection.receiver) -> message => {
                    let Ok(message) = message else { return Ok(()) };
                    match message {
                        Message::Request(request) => {
                            if self.connection.handle_shutdown(&request)? {
                                return Ok(());
                            }
                            self.request(request)?;
                        }
                        Message::Notification(n) => self.notification(n)?,
                        Message::Response(_) => {}
                    }
                }
                recv(done) -> compiled => {
                    let Ok(compiled) = compiled else { return Ok(()) };
                    self.compiled(compiled)?;
                }
            }
        }
    }

    fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.connection.sender.send(message.into())?;
        Ok(())
    }

    fn notification(&mut self, n: Notification) -> Result<(), Error> {
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let p: lsp::DidOpenTextDocumentParams = serde_json::from_value(n.params)?;
                let d = p.text_document;
                self.edit(d.uri, d.version, d.text);
            }
            note::DidChangeTextDocument::METHOD => {
                let p: lsp::DidChangeTextDocumentParams = serde_json::from_value(n.params)?;
                // Full sync: the last change is the whole new text.
                if let Some(change) = p.content_changes.into_iter().last() {
                    self.edit(p.text_document.uri, p.text_document.version, change.text);
                }
            }
            note::DidCloseTextDocument::METHOD => {
                let p: lsp::DidCloseTextDocumentParams = serde_json::from_value(n.params)?;
                let uri = p.text_document.uri;
                self.documents.remove(&uri);
                self.analyses.remove(&uri);
                // Requests that waited for a version of it get no answer
                // from the checker now: null, so the client stops waiting.
                let (closed, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
                    .into_iter()
                    .partition(|(u, _)| *u == uri);
                self.pending = waiting;
                for (_, request) in closed {
                    self.send(Response::new_ok(request.id, Value::Null))?;
                }
                self.send(publication(uri, Vec::new(), None))?;
            }
            _ => {}
        }
        Ok(())
    }

    fn edit(&mut self, uri: Url, version: i32, text: String) {
        self.documents.insert(
            uri.clone(),
            Document {
                version,
                text: text.clone(),
            },
        );
        // The compiler thread outlives the loop, so the send cannot fail
        // while the loop runs.
        let _ = self.jobs.send(Job { uri, version, text });
    }

    /// A compiled buffer: kept and published if it is still the version
    /// the client has, and the requests that waited for it answered.
    fn compiled(&mut self, done: Done) -> Result<(), Error> {
        let Done { analysis, publish } = done;
        let current = self.documents.get(&analysis.uri).map(|d| d.version);
        if current != Some(analysis.version) {
            return Ok(());
        }
        self.send(publish)?;
        let uri = analysis.uri.clone();
        self.analyses.insert(uri.clone(), analysis);
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(u, _)| *u == uri);
        self.pending = waiting;
        for (_, request) in ready {
            self.request(request)?;
        }
        Ok(())
    }

    fn request(&mut self, request: Request) -> Result<(), Error> {
        let id = request.id.clone();
        let result = match self.answer(request) {
            Ok(Some(value)) => Response::new_ok(id, value),
            Ok(None) => return Ok(()),
            Err(e) => Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string()),
        };
        self.send(result)
    }

    /// The answer to `request`, or `None` when it waits in `pending`.
    fn answer(&mut self, request: Request) -> Result<Option<Value>, Error> {
        let params = request.params.clone();
        let uri = document_of(&params);
        // Requests answered from the text alone.
        match request.method.as_str() {
            req::Formatting::METHOD => {
                let p: lsp::DocumentFormattingParams = serde_json::from_value(params)?;
                let edits = self
                    .documents
                    .get(&p.text_document.uri)
                    .and_then(|d| symbols::format(&d.text));
                return Ok(Some(serde_json::to_value(edits)?));
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: lsp::DocumentSymbolParams = serde_json::from_value(params)?;
                let outline = self
                    .documents
                    .get(&p.text_document.uri)
                    .map(|d| lsp::DocumentSymbolResponse::Nested(symbols::outline(&d.text)));
                return Ok(Some(serde_json::to_value(outline)?));
            }
            req::Completion::METHOD => {
                let p: lsp::CompletionParams = serde_json::from_value(params)?;
                let at = p.text_document_position;
                let items = self.documents.get(&at.text_document.uri).map(|d| {
                    let offset = super::lines::Lines::new(&d.text).offset(&d.text, at.position);
                    lsp::CompletionResponse::Array(completion::complete(&d.text, offset))
                });
                return Ok(Some(serde_json::to_value(items)?));
            }
            req::HoverRequest::METHOD
            | req::GotoDefinition::METHOD
            | req::References::METHOD
            | req::CodeActionRequest::METHOD => {}
            _ => return Err(format!("infrac lsp does not answer `{}`", request.method).into()),
        }
        // Requests answered from the checker: from the client's version.
        let Some(uri) = uri else {
            return Ok(Some(Value::Null));
        };
        let Some(document) = self.documents.get(&uri) else {
            return Ok(Some(Value::Null));
        };
        let analysis = match self.analyses.get(&uri) {
            Some(a) if a.version == document.version => Arc::clone(a),
            _ => {
                self.pending.push((uri, request));
                return Ok(None);
            }
        };
        let a = &*analysis;
        let value = match request.method.as_str() {
            req::HoverRequest::METHOD => {
                let p: lsp::HoverParams = serde_json::from_value(params)?;
                let offset = a.offset(p.text_document_position_params.position);
                serde_json::to_value(hover::hover(a, offset))?
            }
            req::GotoDefinition::METHOD => {
                let p: lsp::GotoDefinitionParams = serde_json::from_value(params)?;
                let offset = a.offset(p.text_document_position_params.position);
                let found = navigate::definition(a, &self.config, offset)
                    .map(lsp::GotoDefinitionResponse::Scalar);
                serde_json::to_value(found)?
            }
            req::References::METHOD => {
                let p: lsp::ReferenceParams = serde_json::from_value(params)?;
                let offset = a.offset(p.text_document_position.position);
                serde_json::to_value(navigate::references(
                    a,
                    &self.config,
                    offset,
                    p.context.include_declaration,
                ))?
            }
            _ => {
                let p: lsp::CodeActionParams = serde_json::from_value(params)?;
                let (start, end) = (a.offset(p.range.start), a.offset(p.range.end));
                serde_json::to_value(actions::actions(a, &self.config, start, end))?
            }
        };
        Ok(Some(value))
    }
}

/// The `publishDiagnostics` of `uri`.
fn publication(uri: Url, diagnostics: Vec<lsp::Diagnostic>, version: Option<i32>) -> Notification {
    let params = lsp::PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    Notification::new(note::PublishDiagnostics::METHOD.into(), params)
}

/// The `textDocument.uri` of a request's parameters.
fn document_of(params: &Value) -> Option<Url> {
    let uri = params.get("textDocument")?.get("uri")?.as_str()?;
    Url::parse(uri).ok()
}

//! The drawing as a Mermaid flowchart (renders on GitHub and in mdBook
//! with a plugin). Every user string is written inside a quoted label
//! through [`Text`], which escapes it so it stays one string, renders as
//! the same characters and cannot open HTML or Markdown.

use std::fmt::{self, Write};

use super::{Boxed, Drawing, Item};
use crate::diagnostics::Diagnostic;
use crate::ir::Model;

/// Text for the inside of a Mermaid `"..."` label. Mermaid has no
/// backslash escapes; it decodes entity codes (`#34;`) instead. So `"`
/// (ends the string), `#` (starts an entity), `<`, `>` and `&` (the label
/// is HTML), `` ` `` (a Markdown string), `%` (comments) and control
/// characters (a line break ends the statement) are written as decimal
/// entity codes.
struct Text<'a>(&'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' | '#' | '<' | '>' | '&' | '`' | '%' => write!(f, "#{};", u32::from(c))?,
                c if c.is_control() => write!(f, "#{};", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A Mermaid flowchart.
pub fn mermaid(model: &Model, diagnostics: &[Diagnostic]) -> String {
    let drawing = Drawing::of(model, diagnostics);
    let mut out = String::from("flowchart LR\n");
    for item in &drawing.items {
        write_item(&mut out, item).expect("writing to a String cannot fail");
    }
    out
}

fn write_item(out: &mut String, item: &Item) -> fmt::Result {
    match item {
        Item::Internet => writeln!(out, "  internet((internet))"),
        Item::Network { id, name, .. } => {
            writeln!(out, "  {id}{{{{\"network {}\"}}}}", Text(name))
        }
        Item::Service(s) => write_service(out, s),
        // Mermaid draws public traffic only: restricted sources are DOT's.
        Item::Range { .. } | Item::Published { public: false, .. } => Ok(()),
        Item::Attached { service, network } => writeln!(out, "  {service} -.- {network}"),
        Item::Depends { from, to } => writeln!(out, "  {from} -->|depends| {to}"),
        Item::Route {
            from,
            to,
            matcher,
            port,
            ..
        } => writeln!(out, "  {from} ==>|\"{} :{port}\"| {to}", Text(matcher)),
        Item::Published { from, to, host, .. } => writeln!(out, "  {from} -->|:{host}| {to}"),
    }
}

/// A service's node, then its style: filled by its reach, a thick black
/// stroke when marked.
fn write_service(out: &mut String, s: &Boxed) -> fmt::Result {
    let Boxed { id, class, .. } = s;
    write!(
        out,
        "  {id}[\"{}<br/>{class} · {}",
        Text(s.name),
        Text(&s.reach_text())
    )?;
    if s.marked() {
        write!(out, "<br/>⚠ {}", s.codes.join(" "))?;
    }
    writeln!(out, "\"]")?;
    writeln!(
        out,
        "  style {id} fill:{},color:#fff{}",
        s.colour(),
        if s.marked() {
            ",stroke:#000,stroke-width:4px"
        } else {
            ""
        }
    )
}

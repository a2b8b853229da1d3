//! `allow NAME "reason"`: accepting a finding where it happens. A waiver
//! covers the findings of its code whose primary span lies in the block
//! that holds it; it names its finding by kebab name or code. Waivers that
//! match nothing warn, so stale ones surface; findings that must never be
//! accepted cannot be waived at all.

use super::Ctx;
use crate::ast::AllowDecl;
use crate::diagnostics::{Code, Diagnostic, Waivable, Waiver};
use crate::span::Span;

pub(super) struct Allow<'a> {
    /// The block the `allow` stands in.
    pub(super) decl_span: Span,
    pub(super) allow: &'a AllowDecl,
    /// The service or node it accepts findings for (a service's own block,
    /// or a template it extends); `None` for other items.
    pub(super) owner: Option<Owner<'a>>,
}

/// Who a waiver accepts findings for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner<'a> {
    Service(&'a str),
    Node(&'a str),
}

/// A finding a service or node accepted with a reason: backends pass it on
/// to the upstream tools' own suppressions (compose-lint, checkov) for that
/// service or node only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Accepted<'a> {
    pub owner: Owner<'a>,
    pub code: Code,
    pub reason: String,
}

fn within(inner: Span, outer: Span) -> bool {
    inner.file == outer.file && inner.start >= outer.start && inner.end <= outer.end
}

impl Ctx<'_> {
    pub(super) fn apply_waivers(&mut self) {
        let allows = std::mem::take(&mut self.waivers);
        for a in allows {
            let finding = &a.allow.finding;
            let Some(code) = Code::find(&finding.node) else {
                let all = Code::ALL
                    .iter()
                    .filter(|c| c.waiver() == Waivable::Yes)
                    .map(|c| c.name());
                let mut d = Diagnostic::new(
                    Code::UnknownFinding,
                    finding.span,
                    format!("there is no finding `{}`", finding.node),
                )
                .label("not a finding name or code");
                d = match super::names::closest(&finding.node, all) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("name a finding by its kebab-case name or its code; `infrac explain CODE` lists what each is"),
                };
                self.diagnostics.push(d);
                continue;
            };
            match code.waiver() {
                Waivable::Yes => {}
                Waivable::Never => {
                    self.diagnostics.push(
                        Diagnostic::new(Code::CannotWaive, finding.span, format!("`{}` can never be waived", code.name()))
                            .label("not waivable")
                            .help("this is one of the incidents infrac exists to prevent; fix the program instead (see `infrac explain ".to_string() + code.code() + "`)"),
                    );
                    continue;
                }
                Waivable::NotAFinding => {
                    self.diagnostics.push(
                        Diagnostic::new(Code::CannotWaive, finding.span, format!("`{}` is not a finding about the infrastructure and cannot be waived", code.name()))
                            .label("not waivable")
                            .help("fix the program text instead"),
                    );
                    continue;
                }
            }
            // A template's waiver stands once per service that uses it and
            // matches the same findings each time: it is used if anything
            // of its code lies in its block, waived by it already or not.
            let mut used = false;
            for d in &mut self.diagnostics {
                if d.code == code && within(d.primary.span, a.decl_span) {
                    used = true;
                    if d.waived.is_none() {
                        d.waived = Some(Waiver {
                            reason: a.allow.reason.node.clone(),
                            span: a.allow.span,
                        });
                    }
                }
            }
            if let (true, Some(owner)) = (used, a.owner) {
                self.accepted.push(Accepted {
                    owner,
                    code,
                    reason: a.allow.reason.node.clone(),
                });
            }
            if !used {
                self.diagnostics.push(
                    Diagnostic::new(Code::UnusedWaiver, a.allow.span, format!("nothing here is `{}`: this waiver waives nothing", code.name()))
                        .label("matches no finding")
                        .help("delete it; if the finding moved, move the waiver into the block where it now happens"),
                );
            }
        }
    }
}

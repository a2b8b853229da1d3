//! Class provenance: a class that the program declares (on the service,
//! through a template, or with its own `class` items) beats the catalogue,
//! but never silently. A declaration that *lowers* what the stdlib's
//! catalogue says an image is (`class = app` on `redis`, the `nginx`
//! template applied to a `postgres` image, `class app { images = ["redis"] }`)
//! is `class-lowered`, naming both; it is waivable, with a reason.

use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Class, ClassOrigin, Model, Service};

/// Classes from strictest to loosest: `Data < Admin < App` in the enum
/// order, so "lowered" is "greater than".
fn lowered(declared: Class, catalogue: Class) -> bool {
    declared > catalogue
}

pub(super) fn class_lowered(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        let Some(entry) = ctx.catalogue.entry(&s.image, true) else {
            continue;
        };
        if !lowered(s.class, entry.class) {
            continue;
        }
        let (stdlib_image, stdlib_class) = (entry.image.clone(), entry.class);
        let source = entry
            .source
            .as_deref()
            .map(|u| format!(", {u}"))
            .unwrap_or_default();
        let d = finding(ctx, s, &stdlib_image, stdlib_class, &source);
        ctx.diagnostics.push(d);
    }
}

fn finding(
    ctx: &Ctx<'_>,
    s: &Service,
    stdlib_image: &str,
    stdlib_class: Class,
    source: &str,
) -> Diagnostic {
    // "an admin image", "an app image", "a data image".
    let article = match stdlib_class {
        Class::Data => "a",
        Class::Admin | Class::App => "an",
    };
    let message = format!(
        "`{}` is `{}`, but its image `{}` is {article} {} image in the stdlib catalogue (`{stdlib_image}`{source})",
        s.name,
        s.class.as_str(),
        s.image,
        stdlib_class.as_str()
    );
    let help = format!(
        "remove the lower class so the `{}` ceiling applies; if the image really is something else here, say why: `allow class-lowered \"reason\"`",
        stdlib_class.as_str()
    );
    match &s.class_origin {
        // Written in the service's own block: point at it.
        ClassOrigin::Declared(span)
            if s.span.file == span.file && s.span.start <= span.start && span.end <= s.span.end =>
        {
            Diagnostic::new(Code::ClassLowered, *span, message)
                .label(format!("declared `{}` here", s.class.as_str()))
                .help(help)
        }
        // From a template: the service is where the waiver goes.
        ClassOrigin::Declared(span) => Diagnostic::new(Code::ClassLowered, s.name_span, message)
            .label(format!("`{}` takes its class from its template", s.name))
            .secondary(
                *span,
                format!(
                    "the template `{}` declares `{}` here",
                    s.template.as_deref().unwrap_or("?"),
                    s.class.as_str()
                ),
            )
            .help(help),
        // The program's own `class` item re-mapped the image.
        _ => {
            let mapping = ctx.catalogue.entry(&s.image, false).map(|e| e.span);
            let d = Diagnostic::new(Code::ClassLowered, s.name_span, message)
                .label(format!("classified `{}` by the program", s.class.as_str()))
                .help(help);
            match mapping {
                Some(span) => d.secondary(span, "the program maps the image to a lower class here"),
                None => d,
            }
        }
    }
}

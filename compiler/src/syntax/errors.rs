//! pest's parse errors, said in words: "expected `=` or a new line, found
//! `image`" rather than a list of rule names. pest reports only the first
//! error, at the furthest position any alternative reached.

use pest::error::{ErrorVariant, InputLocation};

use super::{InfParser, Rule};
use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// The item keywords, for "did you mean" on a misspelt item.
const KEYWORDS: &[&str] = &[
    "use",
    "let",
    "provider",
    "node",
    "network",
    "volume",
    "secret",
    "service",
    "template",
    "class",
    "port",
    "route",
    "allow",
    "local",
    "internal",
    "public",
    "restricted",
    "readonly",
    "true",
    "false",
    "tcp",
    "udp",
    "as",
];

fn rule_words(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_use
        | Rule::kw_let
        | Rule::kw_provider
        | Rule::kw_node
        | Rule::kw_network
        | Rule::kw_volume
        | Rule::kw_secret
        | Rule::kw_service
        | Rule::kw_template
        | Rule::kw_class
        | Rule::use_item
        | Rule::let_item
        | Rule::provider_item
        | Rule::node_item
        | Rule::network_item
        | Rule::volume_item
        | Rule::secret_item
        | Rule::service_item
        | Rule::template_item
        | Rule::class_item => {
            "an item (`service`, `network`, `node`, `volume`, `secret`, `let`, `use`, ...)"
        }
        Rule::kw_port | Rule::port_stmt => "`port`",
        Rule::kw_route | Rule::route_stmt => "`route`",
        Rule::kw_allow | Rule::allow_stmt => "`allow`",
        Rule::attribute => "an attribute (`name = value`)",
        Rule::name => "a name",
        Rule::module_path => "a module path such as `std/postgres`",
        Rule::string | Rule::string_inner => "a string",
        Rule::integer | Rule::port_spec => "a number",
        Rule::decimal => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::level
        | Rule::level_local
        | Rule::level_internal
        | Rule::level_public
        | Rule::kw_restricted => {
            "an exposure level (`local`, `internal`, `restricted(...)` or `public`)"
        }
        Rule::level_restricted => "`restricted(...)`",
        Rule::protocol => "`tcp` or `udp`",
        Rule::kw_as => "`as`",
        Rule::block => "`{`",
        Rule::extends => "`:`",
        Rule::value | Rule::call | Rule::list | Rule::map => "a value",
        Rule::args => "`(`",
        Rule::entry => "a map entry (`key = value`)",
        Rule::mount_tail => "`->`",
        Rule::mount_flag => "`readonly`",
        Rule::route_target => "a target `service:port`",
        Rule::EOI => "the end of the file",
        _ => return None,
    })
}

/// Keys of a compose file and how a program says the same: the checker
/// and the parser name the infrac spelling when a compose habit shows.
const COMPOSE_HABITS: &[(&str, &str)] = &[
    ("build", "infrac deploys images: `image = \"registry/name:tag\"`"),
    ("container_name", "a service is named by its block: `service NAME { ... }`"),
    ("depends_on", "`depends = [service]`"),
    ("deploy", "`replicas = N`, `placement = { ... }` and `resources = { cpu = \"0.5\", memory = \"512Mi\" }`"),
    ("environment", "`env = { KEY = \"value\" }`"),
    ("expose", "`port N internal`"),
    ("healthcheck", "`health = { cmd = [\"...\"] }` or `health = { http = \"/healthz\", port = N }`"),
    ("network_mode", "`host_network = true`"),
    ("ports", "one `port` line per port, with its exposure: `port 80 public`, or `port 8080 public as 80` to publish on another host port"),
    ("services", "a program, not a compose file: `infrac import FILE` turns a compose file into one"),
    ("version", "a program, not a compose file: `infrac import FILE` turns a compose file into one"),
    ("volumes", "`mounts = [volume -> \"/path\"]`, after `volume NAME {}`"),
];

/// How a program says compose's `key`, when it says it differently.
pub(crate) fn compose_habit(key: &str) -> Option<&'static str> {
    COMPOSE_HABITS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, spelling)| *spelling)
}

/// The help for `KEY:` where `KEY = ` was meant (YAML's habit).
fn colon_help(text: &str, colon: usize) -> Option<String> {
    let before = text.get(..colon)?;
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |i| i + 1);
    let key = &before[start..];
    // Only a key that starts its line: `service a: base` is the template form.
    let line_start = before[..start].rfind('\n').map_or(0, |i| i + 1);
    if key.is_empty() || !before[line_start..start].trim().is_empty() {
        return None;
    }
    Some(match compose_habit(key) {
        Some(spelling) => format!(
            "infrac writes `key = value`, not YAML's `key: value`; compose's `{key}` is {spelling}"
        ),
        None => format!("infrac writes `{key} = value`, not YAML's `{key}: value`"),
    })
}

/// The keywords that open an item: pest lists them as literal tokens when
/// it expected an item.
const ITEM_KEYWORDS: &[&str] = &[
    "use", "let", "provider", "node", "network", "volume", "secret", "service", "template", "class",
];

/// Whether an expected literal is worth naming: punctuation, but not the
/// spaces pest may skip anywhere, nor the `/` lookahead that starts a
/// comment, nor character ranges and built-ins.
fn is_symbol(token: &str) -> bool {
    !token.trim().is_empty()
        && token != "BUILTIN_RULE"
        && !matches!(token, "/" | "/*" | "//")
        && !token.contains("..")
        && !token.chars().any(|c| c.is_ascii_alphanumeric())
}

fn token_words(token: &str) -> String {
    match token {
        "\n" | "\r\n" | "\r" => "a new line".to_string(),
        t => format!("`{t}`"),
    }
}

/// What stands at `pos`: a word, a symbol, a new line or the end.
fn found_at(text: &str, pos: usize) -> String {
    let rest = &text[pos.min(text.len())..];
    let Some(c) = rest.chars().next() else {
        return "the end of the file".to_string();
    };
    if c == '\n' || c == '\r' {
        return "a new line".to_string();
    }
    if c.is_ascii_alphanumeric() || c == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .take(40)
            .collect();
        return format!("`{word}`");
    }
    if c == '"' {
        return "a string".to_string();
    }
    format!("`{c}`")
}

/// "a new line" → "new line", for "unexpected new line".
fn without_article(words: &str) -> &str {
    words
        .strip_prefix("a ")
        .or_else(|| words.strip_prefix("the "))
        .unwrap_or(words)
}

fn word_at(text: &str, pos: usize) -> Option<&str> {
    let rest = text.get(pos..)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

fn join_alternatives(words: &[String]) -> String {
    match words {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Converts pest's error into an `E0001 syntax-error` diagnostic.
pub(super) fn syntax_error(
    file: FileId,
    text: &str,
    error: pest::error::Error<Rule>,
) -> Diagnostic {
    let mut pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // The literal tokens (`=`, `}`, ...) are only known with pest's error
    // detail on; it costs time, so it is switched on only once a parse failed.
    pest::set_error_detail(true);
    let detailed = <InfParser as pest::Parser<Rule>>::parse(Rule::file, text).err();
    let attempts = detailed.as_ref().and_then(|d| d.parse_attempts());
    let tokens: Vec<String> = attempts
        .as_ref()
        .map(|a| a.expected_tokens().iter().map(|t| t.to_string()).collect())
        .unwrap_or_default();
    // pest places the error at the furthest *rule* it tried, but a literal
    // may have been tried further on: in `image "nginx"` the rule `attribute`
    // starts at `image`, while what is missing is the `=` after it. The
    // furthest attempt is where the reader must look.
    let literal_further = attempts.as_ref().is_some_and(|a| a.max_position > pos)
        && tokens.iter().any(|t| is_symbol(t) || t.contains('\n'));
    if literal_further {
        pos = attempts.as_ref().map_or(pos, |a| a.max_position);
    }
    let mut expected: Vec<String> = Vec::new();
    let mut push = |w: String| {
        if !expected.contains(&w) {
            expected.push(w);
        }
    };
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives.iter().filter(|_| !literal_further) {
            if let Some(w) = rule_words(*rule) {
                push(w.to_string());
            }
        }
    }
    if attempts.as_ref().is_some_and(|a| a.max_position == pos) {
        for token in &tokens {
            // pest does not export its token type; its Display is the
            // literal for plain tokens. Keywords stand for the item they
            // open; character ranges and built-ins say nothing.
            if ITEM_KEYWORDS.contains(&token.as_str()) {
                push(
                    rule_words(Rule::kw_service)
                        .expect("items have words")
                        .to_string(),
                );
            } else if token.contains('\n') || is_symbol(token) {
                push(token_words(token));
            }
        }
    }
    // `"`, `[` and `{` are how a value starts: "a value" already says them.
    if expected.iter().any(|w| w == "a value") {
        expected.retain(|w| !matches!(w.as_str(), "`\"`" | "`[`" | "`{`"));
    }
    // At the start of an item, "the end of the file" and "a new line" are
    // noise: what the reader needs is the list of items.
    let item_words = rule_words(Rule::kw_service).expect("items have words");
    if expected.iter().any(|w| w == item_words) {
        expected.retain(|w| w != "the end of the file" && w != "a new line");
    }
    let found = found_at(text, pos);
    // The span covers the word at `pos`, or else the one character there:
    // its whole UTF-8 sequence, since a span that ends inside a character
    // cannot be sliced or rendered (found by the `parse` fuzz target).
    let one_char = |pos: usize| {
        text.get(pos..)
            .and_then(|r| r.chars().next())
            .map_or(0, char::len_utf8)
    };
    let span_end = pos + word_at(text, pos).map_or_else(|| one_char(pos), str::len);
    let span = Span::new(file, pos, span_end.min(text.len()));
    let expected_text = join_alternatives(&expected);
    let mut d = Diagnostic::new(
        Code::SyntaxError,
        span,
        format!("expected {expected_text}, found {found}"),
    )
    .label(format!("unexpected {}", without_article(&found)));
    // `key:` where `key =` was meant; the parser stops at the `:`, or at
    // the key itself where no item may start (`services:` of a compose
    // file).
    let colon = match word_at(text, pos) {
        Some(w) if text[pos + w.len()..].starts_with(':') => Some(pos + w.len()),
        _ => (found == "`:`").then_some(pos),
    };
    if let Some(help) = colon.and_then(|at| colon_help(text, at)) {
        d = d.help(help);
    }
    if let (None, Some(word)) = (&d.help, word_at(text, pos)) {
        let best = KEYWORDS
            .iter()
            .map(|k| (strsim::jaro_winkler(word, k), *k))
            .filter(|(score, k)| *score > 0.85 && *k != word)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, keyword)) = best {
            d = d.help(format!("did you mean `{keyword}`?"));
        }
    }
    // Two entries on one line with nothing between them: the commonest
    // slip when joining lines (`{ role = manager ssh = none }`).
    let separator_expected =
        expected.iter().any(|w| w == "`,`") && expected.iter().any(|w| w == "a new line");
    if d.help.is_none() && separator_expected && word_at(text, pos).is_some() {
        d = d.help("separate entries with a comma or put each on its own line");
    }
    // An unclosed block comment is reported at the end of the file, far
    // from its cause: point at the `/*` that is still open.
    if found == "the end of the file" && expected.iter().any(|w| w == "`*/`") {
        if let Some(start) = super::comments::unclosed_block(text) {
            d = d
                .secondary(Span::new(file, start, start + 2), "this comment is never closed")
                .help("close the comment with `*/`; comments nest, so every `/*` inside one needs its own `*/`");
        }
    }
    if d.help.is_none() {
        d = d.help("see the language reference (`infrac explain E0001`) for the form of each item");
    }
    d
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;

    fn help(text: &str) -> String {
        let compiled = crate::compile::compile_text("main.inf", text);
        let d = compiled
            .diagnostics
            .iter()
            .find(|d| matches!(d.code, Code::SyntaxError | Code::UnknownAttribute))
            .unwrap_or_else(|| panic!("no error for {text:?}"));
        d.help.clone().unwrap_or_default()
    }

    #[test]
    fn compose_habits_get_the_infrac_spelling() {
        assert_eq!(
            help("service a {\n  image: \"nginx:1\"\n}\n"),
            "infrac writes `image = value`, not YAML's `image: value`"
        );
        let environment =
            help("service a {\n  image = \"nginx:1\"\n  environment:\n    FOO: bar\n}\n");
        assert!(
            environment.contains("compose's `environment` is `env = {"),
            "{environment}"
        );
        let ports = help("service a {\n  image = \"nginx:1\"\n  ports = [\"80:80\"]\n}\n");
        assert!(
            ports.contains("compose's `ports` is one `port` line per port"),
            "{ports}"
        );
        let environment = help("service a {\n  environment = { A = \"b\" }\n}\n");
        assert!(environment.contains("`env = {"), "{environment}");
        assert!(help("services:\n  web:\n").contains("`infrac import FILE`"));
        // The template form is not a habit, and a misspelt key keeps its
        // "did you mean".
        assert_eq!(
            help("service a {\n  imag = \"x\"\n}\n"),
            "did you mean `image`?"
        );
    }
}

//! The environment, commands and labels of a service: both compose forms
//! (list and map), interpolation, and literal credentials turned into
//! secrets by the checker's own rules.

use std::hash::{Hash, Hasher};

use super::service::Svc;
use super::yaml::{Kind, Node};
use super::{attr, call, entry, list, name, string, Importer};
use crate::ast::{DeclKind, Entry, Value, ValueKind};
use crate::check::env_credential;
use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

impl Importer {
    // ---- command, environment, labels -------------------------------------

    /// `command:` as a string (split as compose splits it, into words) or a
    /// list: always a list in the program, so nothing re-splits it.
    pub(super) fn command(&mut self, v: &Node, what: &str) -> Result<Option<Value>, Diagnostic> {
        match &v.kind {
            _ if v.is_null() => Ok(None),
            Kind::Seq(items) => {
                let mut out = Vec::new();
                for item in items {
                    let t = self.text(item, what)?.unwrap_or_default();
                    out.push(string(t, item.span));
                }
                Ok(Some(list(out, v.span)))
            }
            Kind::Scalar { .. } => {
                let t = self.text(v, what)?.unwrap_or_default();
                let words = shell_words(&t).ok_or_else(|| {
                    Diagnostic::new(
                        Code::ImportInvalid,
                        v.span,
                        format!("{what} has an unclosed quote"),
                    )
                    .label("compose cannot split this into words")
                })?;
                Ok(Some(list(
                    words.into_iter().map(|w| string(w, v.span)).collect(),
                    v.span,
                )))
            }
            Kind::Map(_) => Err(Diagnostic::new(
                Code::ImportInvalid,
                v.span,
                format!("{what} must be a string or a list"),
            )
            .label("a mapping")),
        }
    }

    pub(super) fn environment(
        &mut self,
        s: &mut Svc,
        k: &Node,
        v: &Node,
    ) -> Result<(), Diagnostic> {
        s.env_span.get_or_insert(k.span);
        let service = s.name.clone();
        let what = |key: &str| format!("`{key}` in the environment of `{service}`");
        let mut vars: Vec<(String, Span, Option<String>, Node)> = Vec::new();
        match &v.kind {
            _ if v.is_null() => {}
            Kind::Map(entries) => {
                for (key, value) in entries {
                    let key_text = self.key(key)?;
                    let raw = match &value.kind {
                        Kind::Scalar { text, .. } if !value.is_null() => Some(text.clone()),
                        Kind::Scalar { .. } => None,
                        _ => {
                            return Err(Diagnostic::new(
                                Code::ImportInvalid,
                                value.span,
                                format!("{} must be a single value", what(&key_text)),
                            )
                            .label(format!("found {}", value.describe())))
                        }
                    };
                    vars.push((key_text, key.span, raw, value.clone()));
                }
            }
            Kind::Seq(items) => {
                for item in items {
                    let Some(text) = item.scalar() else {
                        return Err(Diagnostic::new(
                            Code::ImportInvalid,
                            item.span,
                            format!("an environment entry of `{}` must be `KEY=VALUE`", s.name),
                        )
                        .label(format!("found {}", item.describe())));
                    };
                    match text.split_once('=') {
                        Some((key, raw)) => {
                            let value_span = value_span_in(item, key.len() + 1);
                            let value = Node {
                                kind: Kind::Scalar {
                                    text: raw.to_string(),
                                    plain: false,
                                },
                                span: value_span,
                            };
                            vars.push((key.to_string(), item.span, Some(raw.to_string()), value));
                        }
                        None => vars.push((text.to_string(), item.span, None, item.clone())),
                    }
                }
            }
            Kind::Scalar { .. } => {
                return Err(Diagnostic::new(
                    Code::ImportInvalid,
                    v.span,
                    format!(
                        "the environment of `{}` must be a mapping or a list",
                        s.name
                    ),
                )
                .label("a single value"))
            }
        }
        for (key, key_span, raw, node) in vars {
            // `KEY` alone: compose passes the variable through from the
            // project's `.env` (or the deploying shell, which an import
            // does not read); when neither sets it the container has no
            // such variable. So a value in `.env` is carried as it is,
            // escaped so that it is read literally below.
            let raw = match raw {
                Some(raw) => raw,
                None => match self.vars.get(&key).cloned() {
                    Some(value) => {
                        self.lose(
                            key_span,
                            format!("{} takes its value from the project's `.env`, copied into the program", what(&key)),
                            "read at import time",
                            &format!("compose reads it again at each deploy, and the shell may override it: write `{key} = env(\"{key}\")` to read it where you deploy"),
                        );
                        value.replace('$', "$$")
                    }
                    None => {
                        // `env("KEY")` would make every generated file
                        // require what compose leaves unset: it is
                        // dropped, as compose drops it with this `.env`.
                        self.lose(
                            key_span,
                            format!("{} is not carried over: compose passes it through from the deploying environment, and the project's `.env` does not set it", what(&key)),
                            "unset here, so compose leaves it out of the container",
                            &format!("if your deploy sets it, write `{key} = env(\"{key}\")` in `env` (generated files then require it)"),
                        );
                        continue;
                    }
                },
            };
            let i = self.interpolate(&node, &raw)?;
            self.mention(&service, &key, &i.text, node.span);
            if let Some(var) = &i.whole_var {
                s.env.push(entry(
                    key.clone(),
                    key_span,
                    call("env", string(var.clone(), node.span), node.span),
                ));
                self.lose(
                    node.span,
                    format!("{} is imported as `env(\"{var}\")`", what(&key)),
                    "read from the deploying environment",
                    "compose used an empty value when the variable was missing; generated files now require it",
                );
                continue;
            }
            let literal = &i.text;
            let credential = !literal.is_empty()
                && i.unresolved.is_empty()
                // The checker's own decision, so an import never keeps a
                // literal the checker rejects, nor hides a setting.
                && env_credential(&key, literal).is_some();
            if credential {
                // `${VAR:-default}`: the deploy's VAR is where the value lives.
                let var = i.whole_default.clone().unwrap_or_else(|| key.clone());
                self.credential(s, &key, key_span, literal, node.span, &var);
            } else {
                self.report_interpolation(&node, &what(&key), &i);
                s.env.push(entry(key, key_span, string(i.text, node.span)));
            }
        }
        self.dedup_env(s);
        Ok(())
    }

    /// One value per variable, the last, as compose keeps it: a key given
    /// twice in a list, or a credential's `KEY_FILE` that the file sets
    /// itself, would otherwise be written twice and refused by compose.
    fn dedup_env(&mut self, s: &mut Svc) {
        let mut seen = std::collections::HashSet::new();
        let mut kept = Vec::with_capacity(s.env.len());
        for e in std::mem::take(&mut s.env).into_iter().rev() {
            if seen.insert(e.key.node.clone()) {
                kept.push(e);
            } else {
                self.lose(
                    e.key.span,
                    format!(
                        "`{}` is set twice in the environment of `{}`: the last value is kept, as in compose",
                        e.key.node, s.name
                    ),
                    "overridden by a later value",
                    "keep one",
                );
            }
        }
        kept.reverse();
        s.env = kept;
    }

    /// A literal credential becomes a secret read from the deploying
    /// environment, handed to the service as a file.
    fn credential(
        &mut self,
        s: &mut Svc,
        key: &str,
        key_span: Span,
        literal: &str,
        span: Span,
        var: &str,
    ) {
        self.redactions.push(span);
        let base = secret_base(var);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        literal.hash(&mut hasher);
        let hash = hasher.finish();
        let (secret_key, var) = match self.credential_secrets.get(&base) {
            Some(h) if *h != hash => (
                format!("{}_{base}", secret_base(&s.name)),
                format!("{}_{var}", s.name.to_ascii_uppercase().replace('-', "_")),
            ),
            _ => (base.clone(), var.to_string()),
        };
        let slot = format!("\u{0}credential:{secret_key}");
        let secret = match self.secrets.get(&slot) {
            Some(d) => d.name.clone(),
            None => {
                let program_name = self.fresh_name(DeclKind::Secret, &secret_key);
                self.secrets.insert(
                    slot,
                    super::Declared {
                        name: program_name.clone(),
                        span,
                        attrs: vec![attr(
                            "from",
                            key_span,
                            call("env", string(var.clone(), span), span),
                        )],
                    },
                );
                self.credential_secrets.insert(secret_key.clone(), hash);
                program_name
            }
        };
        if !s
            .secrets
            .iter()
            .any(|v| matches!(&v.kind, ValueKind::Name(n) if *n == secret))
        {
            s.secrets.push(name(secret.clone(), span));
            s.secrets_span.get_or_insert(key_span);
        }
        if literal.len() >= 4 {
            s.credentials
                .push((key.to_string(), literal.to_string(), secret.clone()));
        }
        let file_key = format!("{key}_FILE");
        if !s.env.iter().any(|e| e.key.node == file_key) {
            s.env.push(entry(
                file_key.clone(),
                key_span,
                string(format!("/run/secrets/{secret}"), span),
            ));
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::ImportLoss,
                span,
                format!("the literal value of `{key}` of service `{}` is not carried over: it is a credential", s.name),
            )
            .label("a credential, in plain text (masked here)")
            .help(format!(
                "it is now `secret {secret} {{ from = env(\"{var}\") }}`: set {var} where you deploy; the service reads /run/secrets/{secret} through `{file_key}` (check that the image reads `_FILE` variables; the official postgres, mysql and mariadb images do); then rotate the value, it is in your history"
            )),
        );
    }

    /// A literal credential of the environment copied into the health
    /// check is read from the same secret: left in the command it would be
    /// the plaintext the environment no longer holds. The check runs in
    /// the container, where the secret is a file.
    pub(super) fn health_credentials(&mut self, s: &mut Svc) {
        if s.credentials.is_empty() {
            return;
        }
        let Some(crate::ast::Stmt::Attribute(health)) = s.attrs.get_mut("health") else {
            return;
        };
        let ValueKind::Map(entries) = &mut health.value.kind else {
            return;
        };
        let Some(cmd) = entries.iter_mut().find(|e| e.key.node == "cmd") else {
            return;
        };
        let ValueKind::List(items) = &cmd.value.kind else {
            return;
        };
        let args: Vec<String> = items
            .iter()
            .filter_map(|v| match &v.kind {
                ValueKind::Str(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        let used: Vec<&(String, String, String)> = s
            .credentials
            .iter()
            .filter(|(_, literal, _)| args.iter().any(|a| a.contains(literal.as_str())))
            .collect();
        if used.is_empty() || args.len() != items.len() {
            return;
        }
        let shell = args.len() == 3 && args[0] == "/bin/sh" && args[1] == "-c";
        let mut script = if shell {
            args[2].clone()
        } else {
            args.iter()
                .map(|a| sh_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        };
        for (_, literal, secret) in &used {
            script = replace_in_shell(&script, literal, &format!("$(cat /run/secrets/{secret})"));
        }
        let span = cmd.value.span;
        cmd.value = list(
            vec![
                string("/bin/sh", span),
                string("-c", span),
                string(script, span),
            ],
            span,
        );
        self.redactions.push(span);
        for (key, _, secret) in used {
            self.lose(
                span,
                format!("the health check of `{}` holds the literal value of `{key}`; it reads the secret `{secret}` instead", s.name),
                "a credential, in plain text (masked here)",
                &format!("the check now runs in a shell and reads /run/secrets/{secret}; check that the image has `/bin/sh` and `cat`"),
            );
        }
    }

    pub(super) fn labels(&mut self, v: &Node, what: &str) -> Result<Vec<Entry>, Diagnostic> {
        let mut out = Vec::new();
        match &v.kind {
            _ if v.is_null() => {}
            Kind::Map(entries) => {
                for (key, value) in entries {
                    let key_text = self.key(key)?;
                    let t = self.text(value, what)?.unwrap_or_default();
                    out.push(entry(key_text, key.span, string(t, value.span)));
                }
            }
            Kind::Seq(items) => {
                for item in items {
                    let t = self.text(item, what)?.unwrap_or_default();
                    let (key, val) = t.split_once('=').unwrap_or((&t, ""));
                    out.push(entry(
                        key.to_string(),
                        item.span,
                        string(val.to_string(), item.span),
                    ));
                }
            }
            Kind::Scalar { .. } => {
                return Err(Diagnostic::new(
                    Code::ImportInvalid,
                    v.span,
                    format!("{what} must be a mapping or a list"),
                )
                .label("a single value"))
            }
        }
        Ok(out)
    }
}

/// The span of the value part of a `KEY=VALUE` list entry, `skip` bytes
/// into its text (the whole entry when quoting makes that unknowable).
fn value_span_in(item: &Node, skip: usize) -> Span {
    let quoted = matches!(&item.kind, Kind::Scalar { plain: false, .. });
    let start = item.span.start as usize + skip + usize::from(quoted);
    let end = (item.span.end as usize).saturating_sub(usize::from(quoted));
    if start <= end {
        Span::new(item.span.file, start, end)
    } else {
        item.span
    }
}

/// A secret's name from an environment key: `DB_PASSWORD` → `db_password`.
fn secret_base(key: &str) -> String {
    let mut s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s = format!("s_{s}");
    }
    s
}

/// Splits a command line into words as compose does (shell quoting, no
/// expansion); `None` for an unclosed quote.
pub(super) fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            '\n' => {}
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    if c != '\n' {
                        word.push(c);
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// A word quoted for `sh`: as it is when it needs no quoting.
fn sh_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `script` with every `literal` replaced by the command substitution
/// `with`, quoted so the shell expands it wherever the literal stood:
/// inside single quotes the quotes are closed around it.
fn replace_in_shell(script: &str, literal: &str, with: &str) -> String {
    let mut out = String::new();
    let (mut single, mut double) = (false, false);
    let mut rest = script;
    while let Some(at) = rest.find(literal) {
        for c in rest[..at].chars() {
            match c {
                '\'' if !double => single = !single,
                '"' if !single => double = !double,
                _ => {}
            }
        }
        out.push_str(&rest[..at]);
        if single {
            out.push_str(&format!("'\"{with}\"'"));
        } else if double {
            out.push_str(with);
        } else {
            out.push_str(&format!("\"{with}\""));
        }
        rest = &rest[at + literal.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_scripts_are_substituted_where_they_stand() {
        let w = "$(cat /run/secrets/pw)";
        assert_eq!(
            replace_in_shell("ping -phunter2", "hunter2", w),
            "ping -p\"$(cat /run/secrets/pw)\""
        );
        assert_eq!(
            replace_in_shell("ping -p'hunter2'", "hunter2", w),
            "ping -p''\"$(cat /run/secrets/pw)\"''"
        );
        assert_eq!(
            replace_in_shell("ping \"-phunter2\"", "hunter2", w),
            "ping \"-p$(cat /run/secrets/pw)\""
        );
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("--password=x"), "--password=x");
    }

    #[test]
    fn words() {
        assert_eq!(
            shell_words(r#"sh -c "echo \"hi\" $HOME" 'a b' c\ d"#).unwrap(),
            vec!["sh", "-c", "echo \"hi\" $HOME", "a b", "c d"]
        );
        assert!(shell_words("echo 'open").is_none());
    }
}

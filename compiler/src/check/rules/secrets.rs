//! Secret findings: credentials written as literals (credential-shaped
//! keys, URL userinfo, private keys, well-known token shapes), credentials
//! passed through environment variables, and secrets nobody reads. Every
//! literal found is also recorded as a redaction, so no report shows it.

use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{EnvValue, Model};

/// Words that make an environment key a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "PASSPHRASE",
];
/// Pairs of words that make one (`API_KEY`, `ACCESS_KEY`).
const CREDENTIAL_PAIRS: &[(&str, &str)] = &[
    ("API", "KEY"),
    ("ACCESS", "KEY"),
    ("PRIVATE", "KEY"),
    ("SECRET", "KEY"),
    ("AUTH", "KEY"),
    ("SIGNING", "KEY"),
    ("ENCRYPTION", "KEY"),
    ("MASTER", "KEY"),
];
/// Last words that make a credential-looking key something else: where a
/// secret is (`*_FILE`), or a setting about it (`TOKEN_TTL`).
const NOT_A_VALUE: &[&str] = &[
    "FILE",
    "PATH",
    "DIR",
    "TTL",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "LENGTH",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "PORT",
    "NAME",
    "USER",
    "USERNAME",
    "ID",
    "TYPE",
    "METHOD",
    "ENABLED",
    "REQUIRED",
    "POLICY",
    "HEADER",
];
/// Prefixes of well-known token formats.
const TOKEN_PREFIXES: &[&str] = &[
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "sk_live_",
    "rk_live_",
    "sk-",
    "AIza",
    "SG.",
];

pub(crate) fn is_credential_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.last().is_some_and(|w| NOT_A_VALUE.contains(w)) {
        return false;
    }
    words.iter().any(|w| CREDENTIAL_WORDS.contains(w))
        || words
            .windows(2)
            .any(|p| CREDENTIAL_PAIRS.contains(&(p[0], p[1])))
}

/// Why a literal value is itself a credential, whatever its key.
pub(crate) fn credential_in_value(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("private key material");
    }
    if has_url_password(value) {
        return Some("a password in a URL");
    }
    if value.split_whitespace().any(|word| {
        TOKEN_PREFIXES
            .iter()
            .any(|p| word.starts_with(p) && word.len() >= p.len() + 16)
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    }) {
        return Some("an access token");
    }
    None
}

/// `scheme://user:password@host`: a password in the userinfo part.
fn has_url_password(value: &str) -> bool {
    value.match_indices("://").any(|(i, _)| {
        let rest = &value[i + 3..];
        let authority = rest.split(['/', '?', '#', ' ']).next().unwrap_or("");
        match authority.rsplit_once('@') {
            Some((userinfo, _)) => userinfo
                .split_once(':')
                .is_some_and(|(_, pw)| !pw.is_empty() && !pw.starts_with('$')),
            None => false,
        }
    })
}

pub(super) fn literals(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        for var in &s.env {
            match &var.value {
                EnvValue::Literal(v) if v.is_empty() => {}
                EnvValue::Literal(v) => {
                    let credential_key = is_credential_key(&var.key);
                    let why = if credential_key {
                        Some("a credential")
                    } else {
                        credential_in_value(v)
                    };
                    if let Some(why) = why {
                        ctx.redactions.push(var.value_span);
                        // A `let` holding the value is shown in any snippet
                        // near it: mask it where it is written.
                        ctx.redactions.push(var.literal_span);
                        let secret = var.key.to_ascii_lowercase();
                        let aws_key = var.key.to_ascii_uppercase().starts_with("AWS_")
                            && (v.starts_with("AKIA") || v.starts_with("ASIA") || credential_key);
                        let help = if aws_key {
                            // The AWS SDKs read no `*_FILE` variables, but they
                            // do read a shared credentials file.
                            "give the service an IAM role instead of static keys; if keys are unavoidable, declare `secret aws_credentials { from = file(\"/path/outside/the/repo\") }` holding a credentials file, list it in `secrets`, and set `AWS_SHARED_CREDENTIALS_FILE = \"/run/secrets/aws_credentials\"`; then deactivate this key in IAM, it is in your history".to_string()
                        } else if why == "a password in a URL" {
                            // The URL itself is configuration; only its
                            // password is the secret.
                            format!(
                                "write the URL without its password (`scheme://user@host/...`) and pass the password as a file: declare `secret {secret}_password {{ from = env(\"VAR\") }}`, list it in `secrets`, and have the service read /run/secrets/{secret}_password; then rotate the password, it is in your history"
                            )
                        } else {
                            format!(
                                "declare `secret {secret} {{ from = env(\"{}\") }}`, list it in `secrets`, and point the service at the file: `{}_FILE = \"/run/secrets/{secret}\"`; then rotate the value, it is in your history",
                                var.key, var.key
                            )
                        };
                        let mut d = Diagnostic::new(
                            Code::PlaintextSecret,
                            var.value_span,
                            format!(
                                "`{}` of `{}` is set to {why} written in the program",
                                var.key, s.name
                            ),
                        )
                        .label("a secret, in plain text (masked here)")
                        .help(help);
                        if credential_key {
                            d = d.secondary(var.key_span, "credential-shaped key");
                        }
                        ctx.diagnostics.push(d);
                    }
                }
                EnvValue::HostEnv(host_var) => {
                    if is_credential_key(&var.key) {
                        ctx.diagnostics.push(
                            Diagnostic::new(
                                Code::SecretInEnv,
                                var.value_span,
                                format!("credential `{}` of `{}` is passed through an environment variable", var.key, s.name),
                            )
                            .label("environment variables leak: `docker inspect`, /proc, crash reports, child processes")
                            .help(format!(
                                "pass it as a file: `secret {} {{ from = env(\"{host_var}\") }}`, list it in `secrets`, and set `{}_FILE = \"/run/secrets/{}\"`",
                                var.key.to_ascii_lowercase(), var.key, var.key.to_ascii_lowercase()
                            )),
                        );
                    }
                }
            }
        }
        let command: Vec<&String> = s
            .command
            .iter()
            .chain(s.entrypoint.iter())
            .flatten()
            .collect();
        for arg in command {
            if let Some(why) = credential_in_value(arg) {
                let key = if s.command.as_ref().is_some_and(|c| c.contains(arg)) {
                    "command"
                } else {
                    "entrypoint"
                };
                let span = s.attr_span(key);
                ctx.redactions.push(span);
                ctx.diagnostics.push(
                    Diagnostic::new(Code::PlaintextSecret, span, format!("the `{key}` of `{}` contains {why}", s.name))
                        .label("a secret, in plain text (masked here)")
                        .help("read it from a secret file inside the container instead (`secrets = [...]`, /run/secrets/NAME); then rotate it"),
                );
                break;
            }
        }
    }
}

pub(super) fn unused(ctx: &mut Ctx<'_>, model: &Model) {
    let mut used = vec![false; model.secrets.len()];
    for s in &model.services {
        for id in &s.secrets {
            used[id.index()] = true;
        }
    }
    for (i, secret) in model.secrets.iter().enumerate() {
        if !used[i] {
            ctx.diagnostics.push(
                Diagnostic::new(
                    Code::UnusedSecret,
                    secret.span,
                    format!("no service uses secret `{}`", secret.name),
                )
                .label("never listed in a service's `secrets`")
                .help("list it in the `secrets` of the services that need it, or delete it"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_keys() {
        for k in [
            "DB_PASSWORD",
            "password",
            "API_KEY",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "REDIS_PASS",
            "client-secret",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "DB_PASSWORD_FILE",
            "TOKEN_TTL",
            "DB_HOST",
            "KEYCLOAK_URL",
            "PASSWORD_MIN_LENGTH",
            "MONKEY",
            "PASSPORT_DIR",
        ] {
            assert!(!is_credential_key(k), "{k}");
        }
    }

    #[test]
    fn credentials_in_values() {
        assert!(credential_in_value("postgres://app:hunter2@db:5432/app").is_some());
        assert!(credential_in_value("postgres://app@db:5432/app").is_none());
        assert!(credential_in_value("https://example.com/a:b@c").is_none());
        assert!(credential_in_value("-----BEGIN RSA PRIVATE KEY-----\nMII").is_some());
        assert!(credential_in_value("AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(credential_in_value("ghp_0123456789abcdefghijABCDEFGHIJ012345").is_some());
        assert!(credential_in_value("nginx:1.27-alpine").is_none());
    }
}

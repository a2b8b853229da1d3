//! Secret findings: credentials written as literals (credential-shaped
//! keys, URL userinfo, private keys, well-known token shapes), credentials
//! passed through environment variables, and secrets nobody reads. Every
//! literal found is also recorded as a redaction, so no report shows it.

use super::credentials::{
    credential_in_command, env_credential, is_credential_key, key_shape, KeyShape,
};
use crate::check::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{EnvValue, HealthProbe, Model, Service};

pub(super) fn literals(ctx: &mut Ctx<'_>, model: &Model) {
    for s in &model.services {
        for var in &s.env {
            match &var.value {
                EnvValue::Literal(v) if v.is_empty() => {}
                EnvValue::Literal(v) => {
                    let credential_key = key_shape(&var.key) != KeyShape::No;
                    if let Some(why) = env_credential(&var.key, v) {
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
                        if credential_key && why == "a credential" {
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
        command_lines(ctx, s);
        labels(ctx, s);
    }
}

/// Command, entrypoint and health command: every word a process is
/// started with is in `docker inspect` and `/proc/PID/cmdline`.
fn command_lines(ctx: &mut Ctx<'_>, s: &Service) {
    let health = match s.health.as_ref().map(|h| &h.probe) {
        Some(HealthProbe::Command(args)) => Some(args),
        _ => None,
    };
    for (key, args) in [
        ("command", s.command.as_ref()),
        ("entrypoint", s.entrypoint.as_ref()),
        ("health", health),
    ] {
        let Some(args) = args else {
            continue;
        };
        if let Some(why) = credential_in_command(args) {
            let span = s.attr_span(key);
            ctx.redactions.push(span);
            let what = if key == "health" {
                "health command"
            } else {
                key
            };
            ctx.diagnostics.push(
                Diagnostic::new(Code::PlaintextSecret, span, format!("the {what} of `{}` contains {why}", s.name))
                    .label("a secret, in plain text (masked here)")
                    .help("read it from a secret file inside the container instead (`secrets = [...]`, then `--password-file /run/secrets/NAME` or `$(cat /run/secrets/NAME)` in a shell); then rotate it"),
            );
        }
    }
}

/// Labels are written into every target's output and shown by
/// `docker inspect` and `kubectl describe`: a credential there is as
/// public as the file.
fn labels(ctx: &mut Ctx<'_>, s: &Service) {
    for (key, value) in &s.labels {
        if let Some(why) = env_credential(key, value) {
            let span = s.attr_span("labels");
            ctx.redactions.push(span);
            ctx.diagnostics.push(
                Diagnostic::new(
                    Code::PlaintextSecret,
                    span,
                    format!("label `{key}` of `{}` holds {why}", s.name),
                )
                .label("a secret, in plain text (masked here)")
                .help("labels are public metadata: keep the secret in a `secret` and point the tool at its file (Traefik: `usersfile=/run/secrets/NAME`); then rotate it"),
            );
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

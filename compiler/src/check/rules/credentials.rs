//! What a credential looks like: the heuristics behind `plaintext-secret`
//! (and the importer, which turns the same literals into secrets).
//!
//! A value is judged by its key *and* itself. A credential-shaped key
//! (`DB_PASSWORD`, `PGPASSWORD`, `dbPassword`, `STRIPE_KEY`, `BASIC_AUTH`)
//! holding a harmless value (a boolean, a small number, an algorithm name,
//! a path, a placeholder) is a setting, not a secret; a value with the
//! shape of a credential (URL userinfo, `password=` in a DSN or a JDBC
//! query string, a webhook URL with its token, key material, a well-known
//! token format) is one whatever its key. Command lines are read as words:
//! `--password=x`, `--password x`, `-px` (the MySQL clients), `requirepass x`.
//!
//! The error is never waivable, so a false positive has no way out: every
//! exemption here is there because a real file had it (the figures are in
//! `compiler/tests/adversarial_secrets.rs`).

/// Words that make a key a credential wherever they stand.
const STRONG_WORDS: &[&str] = &[
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
    "AUTHTOKEN",
    "PSK",
    "SALT",
];
/// Endings that make one word a credential (`PGPASSWORD`, `ADMINTOKEN`).
const STRONG_ENDINGS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
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
    ("LICENSE", "KEY"),
    ("CLIENT", "KEY"),
];
/// Last words that make a key weakly credential-shaped: `*_KEY`, `*_AUTH`.
/// Only a value that looks like a credential makes them one.
const WEAK_LAST: &[&str] = &["KEY", "AUTH", "AUTHORIZATION", "APIKEY"];
/// Last words that make a credential-looking key something else: where a
/// secret is (`*_FILE`), or a setting about it (`TOKEN_TTL`).
const NOT_A_VALUE: &[&str] = &[
    "FILE",
    "FILES",
    "PATH",
    "DIR",
    "TTL",
    "EXPIRY",
    "EXPIRES",
    "EXPIRE",
    "EXPIRATION",
    "LIFETIME",
    "AGE",
    "DURATION",
    "TIMEOUT",
    "INTERVAL",
    "PERIOD",
    "DELAY",
    "SECONDS",
    "SECS",
    "MINUTES",
    "MINS",
    "HOURS",
    "DAYS",
    "LENGTH",
    "LEN",
    "SIZE",
    "BITS",
    "COUNT",
    "MIN",
    "MAX",
    "LIMIT",
    "ROUNDS",
    "COST",
    "ITERATIONS",
    "STRENGTH",
    "COMPLEXITY",
    "ALGO",
    "ALGORITHM",
    "ALGORITHMS",
    "HASH",
    "HASHER",
    "CIPHER",
    "DIGEST",
    "SCHEME",
    "MODE",
    "LEVEL",
    "FORMAT",
    "ENCODING",
    "PREFIX",
    "SUFFIX",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "HOSTNAME",
    "PORT",
    "NAME",
    "USER",
    "USERNAME",
    "LOGIN",
    "EMAIL",
    "ID",
    "TYPE",
    "KIND",
    "METHOD",
    "METHODS",
    "PROVIDER",
    "BACKEND",
    "ENABLED",
    "DISABLED",
    "ENABLE",
    "REQUIRED",
    "POLICY",
    "HEADER",
    "COOKIE",
    "PARAM",
    "FIELD",
    "SOURCE",
    "LOCATION",
    "REGION",
    "VERSION",
    "SCOPE",
    "SCOPES",
    "AUDIENCE",
    "ISSUER",
    "REALM",
    "RESET",
    "ROTATION",
];
/// Words before the credential word that make the key a switch about a
/// credential (`MYSQL_RANDOM_ROOT_PASSWORD`, `ALLOW_EMPTY_PASSWORD`).
const SWITCH_WORDS: &[&str] = &[
    "RANDOM", "ALLOW", "EMPTY", "GENERATE", "SKIP", "DISABLE", "ENABLE", "REQUIRE", "NO", "USE",
    "RESET", "CHANGE", "FORCE",
];
/// Values that name an algorithm or a method, never a secret.
const ALGORITHMS: &[&str] = &[
    "argon2",
    "argon2i",
    "argon2d",
    "argon2id",
    "bcrypt",
    "scrypt",
    "pbkdf2",
    "pbkdf2_sha256",
    "pbkdf2-sha256",
    "pbkdf2_sha512",
    "sha1",
    "sha256",
    "sha384",
    "sha512",
    "sha-256",
    "sha-512",
    "md5",
    "crypt",
    "ssha",
    "plain",
    "plaintext",
    "clear",
    "hs256",
    "hs384",
    "hs512",
    "rs256",
    "rs384",
    "rs512",
    "es256",
    "es384",
    "es512",
    "eddsa",
    "aes",
    "aes128",
    "aes256",
    "aes-256-gcm",
    "aes-256-cbc",
    "chacha20-poly1305",
    "scram-sha-256",
    "scram-sha-1",
    "trust",
    "peer",
    "ident",
    "ldap",
    "oauth",
    "oauth2",
    "oidc",
    "saml",
    "basic",
    "bearer",
    "digest",
    "jwt",
    "kerberos",
    "gssapi",
];
/// Values that switch something on or off.
const BOOLEANS: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "enabled", "disabled", "enable",
    "disable", "none", "null", "nil", "required", "optional", "auto", "default",
];
/// Default passwords: a credential under any credential-shaped key, weak
/// ones included (`WORDPRESS_NONCE_KEY=changeme`), since they are the
/// first thing an attacker tries.
const DEFAULT_PASSWORDS: &[&str] = &[
    "changeme", "changeit", "admin", "password", "secret", "root", "toor", "example", "letmein",
    "pass", "test", "guest", "123456", "qwerty",
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
    "xapp-",
    "sk_live_",
    "rk_live_",
    "sk_test_",
    "sk-",
    "AIza",
    "SG.",
    "npm_",
    "pypi-",
    "hvs.",
    "dop_v1_",
    "shpat_",
];
/// Webhook URLs whose path is the credential.
const WEBHOOKS: &[&str] = &[
    "hooks.slack.com/services/",
    "hooks.slack.com/workflows/",
    "discord.com/api/webhooks/",
    "discordapp.com/api/webhooks/",
    "api.telegram.org/bot",
    "webhook.office.com/webhookb2/",
    "outlook.office.com/webhook/",
    "hooks.zapier.com/hooks/",
    "events.pagerduty.com/integration/",
];
/// Commands whose `-pVALUE` is a password (elsewhere `-p` is a port).
const MYSQL_CLIENTS: &[&str] = &[
    "mysql",
    "mysqladmin",
    "mysqldump",
    "mysqlcheck",
    "mysqlsh",
    "mariadb",
    "mariadb-admin",
    "mariadb-dump",
    "mariadb-check",
];
/// Configuration words that take a password as their next word (Redis).
const PASSWORD_DIRECTIVES: &[&str] = &["requirepass", "masterauth"];

/// How strongly a key says "credential".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeyShape {
    No,
    /// `*_KEY`, `*_AUTH`: a credential only when the value looks like one.
    Weak,
    /// `PASSWORD`, `SECRET`, `TOKEN`, `API_KEY`: a credential unless the
    /// value is harmless.
    Strong,
}

/// The words of a key: split on `_ - . /` and spaces, and at camelCase
/// boundaries (`dbPassword` → DB PASSWORD, `APIKey` → API KEY).
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in key.split(['_', '-', '.', '/', ' ', ':']) {
        let chars: Vec<char> = part.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, c) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next_lower)
                || (prev.is_ascii_digit() != c.is_ascii_digit() && c.is_alphabetic())
            {
                words.push(chars[start..i].iter().collect::<String>());
                start = i;
            }
        }
        if start < chars.len() {
            words.push(chars[start..].iter().collect::<String>());
        }
    }
    words
        .into_iter()
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

/// How credential-shaped a key is.
pub(crate) fn key_shape(key: &str) -> KeyShape {
    let words = key_words(key);
    let Some(last) = words.last() else {
        return KeyShape::No;
    };
    if NOT_A_VALUE.contains(&last.as_str()) {
        return KeyShape::No;
    }
    let strong_at = words.iter().position(|w| {
        STRONG_WORDS.contains(&w.as_str())
            || STRONG_ENDINGS
                .iter()
                .any(|e| w.len() > e.len() + 1 && w.ends_with(e))
    });
    let pair_at = words
        .windows(2)
        .position(|p| CREDENTIAL_PAIRS.contains(&(p[0].as_str(), p[1].as_str())))
        .map(|i| i + 1);
    let at = strong_at.into_iter().chain(pair_at).min();
    if let Some(at) = at {
        if words[..at]
            .iter()
            .any(|w| SWITCH_WORDS.contains(&w.as_str()))
        {
            return KeyShape::No;
        }
        return KeyShape::Strong;
    }
    if WEAK_LAST.contains(&last.as_str()) {
        return KeyShape::Weak;
    }
    KeyShape::No
}

/// Whether a key names a credential (strongly or weakly): for values the
/// checker cannot see (`env("VAR")` pass-through).
pub(crate) fn is_credential_key(key: &str) -> bool {
    key_shape(key) != KeyShape::No
}

/// A value that is never a secret whatever its key: a boolean, a small
/// number, an algorithm or method name, a path, a placeholder.
fn harmless(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || BOOLEANS.contains(&lower.as_str())
        || ALGORITHMS.contains(&lower.as_str())
        || (v.len() <= 3 && v.chars().all(|c| c.is_ascii_digit()))
        || is_path(v)
        || is_placeholder(v)
}

fn is_path(v: &str) -> bool {
    (v.starts_with('/') || v.starts_with("./") || v.starts_with("../") || v.starts_with("~/"))
        && !v.contains(char::is_whitespace)
        && !v.contains(['@', '?', '='])
}

/// `${VAR}`, `$VAR`, `{{ .Values.x }}`, `<password>`, `changeit`-style
/// markers are not values: they say where one goes.
fn is_placeholder(v: &str) -> bool {
    let whole_var = |s: &str| {
        s.strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .or_else(|| s.strip_prefix('$'))
            .is_some_and(|name| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_:-?".contains(c))
            })
    };
    whole_var(v)
        || (v.starts_with("{{") && v.ends_with("}}"))
        || (v.starts_with('<') && v.ends_with('>') && !v.contains(' '))
}

/// A value that looks like a credential on its own terms: long enough and
/// not a plain word, for the weak keys (`STRIPE_KEY`, `BASIC_AUTH`).
fn credential_like(value: &str) -> bool {
    let v = value.trim();
    if harmless(v) || v.contains(char::is_whitespace) {
        return false;
    }
    if DEFAULT_PASSWORDS.contains(&v.to_ascii_lowercase().as_str()) {
        return true;
    }
    // `user:password` (basic auth).
    if let Some((user, pw)) = v.split_once(':') {
        if !user.is_empty() && !pw.is_empty() && !pw.starts_with("//") {
            return true;
        }
    }
    let identifier = v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-' || c == '.');
    v.len() >= 8 && !identifier
}

/// Why `key = value` is a credential written in the program, if it is:
/// the decision of `plaintext-secret` for an environment variable (and a
/// label), and of the importer turning a literal into a secret.
pub fn env_credential(key: &str, value: &str) -> Option<&'static str> {
    if value.trim().is_empty() {
        return None;
    }
    match key_shape(key) {
        KeyShape::Strong if !harmless(value) => return Some("a credential"),
        KeyShape::Weak if credential_like(value) => return Some("a credential"),
        _ => {}
    }
    credential_in_value(value)
}

/// Why a literal value is itself a credential, whatever its key.
pub(crate) fn credential_in_value(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("private key material");
    }
    if has_url_password(value) {
        return Some("a password in a URL");
    }
    let lower = value.to_ascii_lowercase();
    if WEBHOOKS.iter().any(|w| {
        lower
            .find(w)
            .is_some_and(|i| lower[i + w.len()..].len() >= 8)
    }) {
        return Some("a webhook URL, whose path is its credential");
    }
    if has_key_value_credential(value) {
        return Some("a password in a connection string");
    }
    if value
        .split(|c: char| c.is_whitespace() || "\"'=,;".contains(c))
        .any(|word| {
            TOKEN_PREFIXES
                .iter()
                .any(|p| word.starts_with(p) && word.len() >= p.len() + 16)
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        })
    {
        return Some("an access token");
    }
    if has_password_hash(value) {
        return Some("a password hash");
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

/// `KEY=VALUE` pairs inside a value whose key is a credential: DSNs
/// (`host=db password=x`), JDBC and URL query strings (`?password=x`,
/// `&access_token=x`), ADO.NET strings (`Password=x;`), `--password=x`.
fn has_key_value_credential(value: &str) -> bool {
    value.match_indices('=').any(|(eq, _)| {
        // The key runs back to a delimiter.
        let start = value[..eq]
            .rfind(|c: char| c.is_whitespace() || "?&;,\"'({[".contains(c))
            .map_or(0, |i| i + 1);
        let key = value[start..eq].trim_start_matches('-');
        if key.is_empty() || key.contains(['/', ':', '=']) {
            return false;
        }
        let end = value[eq + 1..]
            .find(|c: char| c.is_whitespace() || "&;,\"')}]".contains(c))
            .map_or(value.len(), |i| eq + 1 + i);
        let val = &value[eq + 1..end];
        key_shape(key) == KeyShape::Strong && !harmless(val)
    })
}

/// An htpasswd line (`admin:$apr1$...`, bcrypt `$2y$`): crackable offline,
/// so as secret as the password (Traefik's basic-auth labels).
fn has_password_hash(value: &str) -> bool {
    ["$apr1$", "$2y$", "$2a$", "$2b$", "{SHA}", "$6$", "$5$"]
        .iter()
        .any(|m| {
            value
                .find(m)
                .is_some_and(|i| i > 0 && value[..i].ends_with(':') && value.len() > i + 20)
        })
}

/// Why a command line holds a credential, if it does. Every argument is
/// split into words, since `sh -c "mysqladmin -psecret ping"` is one.
pub(crate) fn credential_in_command(args: &[String]) -> Option<&'static str> {
    let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    let mysql = words.iter().any(|w| {
        let base = w.rsplit('/').next().unwrap_or(w);
        MYSQL_CLIENTS.contains(&base)
    });
    for (i, raw) in words.iter().enumerate() {
        let word = raw.trim_matches(|c| c == '"' || c == '\'');
        if let Some(why) = credential_in_value(word) {
            return Some(why);
        }
        let next = words
            .get(i + 1)
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''));
        let takes_value = |n: Option<&str>| {
            n.is_some_and(|n| !n.starts_with('-') && !harmless(n) && !n.contains("$("))
        };
        // `--password x`, `--auth-token x` (the `=` form is a key=value pair).
        if let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) {
            if !flag.contains('=')
                && flag.len() > 1
                && key_shape(flag) == KeyShape::Strong
                && takes_value(next)
            {
                return Some("a password on the command line");
            }
        }
        // `requirepass x`, `--requirepass x`.
        let directive = word.trim_start_matches('-').to_ascii_lowercase();
        if PASSWORD_DIRECTIVES.contains(&directive.as_str()) && takes_value(next) {
            return Some("a password on the command line");
        }
        // `mysql -uroot -psecret`: `-p` glued to its value.
        if mysql {
            if let Some(pw) = word.strip_prefix("-p") {
                let pw = pw.trim_start_matches(['"', '\'']);
                if !pw.is_empty() && !harmless(pw) && !pw.starts_with('$') {
                    return Some("a password on the command line");
                }
            }
        }
    }
    None
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
            "PGPASSWORD",
            "dbPassword",
            "apiToken",
            "MYSQL_ROOT_PASSWORD",
        ] {
            assert_eq!(key_shape(k), KeyShape::Strong, "{k}");
        }
        for k in ["STRIPE_KEY", "BASIC_AUTH", "REDIS_AUTH", "APP_KEY"] {
            assert_eq!(key_shape(k), KeyShape::Weak, "{k}");
        }
        for k in [
            "DB_PASSWORD_FILE",
            "TOKEN_TTL",
            "DB_HOST",
            "KEYCLOAK_URL",
            "PASSWORD_MIN_LENGTH",
            "MONKEY",
            "PASSPORT_DIR",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "ACCESS_TOKEN_EXPIRE_MINUTES",
            "PASSWORD_HASH_ALGO",
            "COMPASS",
            "BYPASS",
        ] {
            assert_eq!(key_shape(k), KeyShape::No, "{k}");
        }
    }

    #[test]
    fn decided_by_key_and_value() {
        assert!(env_credential("DB_PASSWORD", "hunter2").is_some());
        assert!(env_credential("PGPASSWORD", "hunter2").is_some());
        assert!(env_credential("BASIC_AUTH", "admin:admin").is_some());
        assert!(env_credential("STRIPE_KEY", "rk_9f8a7b6c5d4e").is_some());
        assert!(env_credential("PWD", "/app").is_none());
        assert!(env_credential("MYSQL_RANDOM_ROOT_PASSWORD", "yes").is_none());
        assert!(env_credential("DB_PASSWORD", "${DB_PASSWORD}").is_none());
        assert!(env_credential("PARTITION_KEY", "user_id").is_none());
        assert!(env_credential("AUTH", "ldap").is_none());
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
        assert!(credential_in_value("host=db user=app password=hunter2").is_some());
        assert!(
            credential_in_value("jdbc:postgresql://db/app?user=app&password=hunter2").is_some()
        );
        assert!(credential_in_value("Server=db;User Id=sa;Password=Hunter2!;").is_some());
        assert!(credential_in_value("jdbc:postgresql://db/app?user=app").is_none());
        assert!(credential_in_value(
            "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX"
        )
        .is_some());
        assert!(credential_in_value("--password-hash-algo=argon2").is_none());
    }

    #[test]
    fn command_lines() {
        let words = |s: &str| vec![s.to_string()];
        assert!(credential_in_command(&words("redis-server --requirepass hunter2")).is_some());
        assert!(credential_in_command(&words("mysqladmin ping -uroot -phunter2")).is_some());
        assert!(credential_in_command(&words("app --password hunter2")).is_some());
        assert!(credential_in_command(&words("app --password=hunter2")).is_some());
        assert!(credential_in_command(&words("server -p8080")).is_none());
        assert!(credential_in_command(&words("app --password-file /run/secrets/pw")).is_none());
        assert!(credential_in_command(&words("mysqladmin ping -uroot -p$MYSQL_PWD")).is_none());
    }
}

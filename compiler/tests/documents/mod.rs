//! What a generated file means, comments aside: the reading both
//! `tests/paths.rs` and the `source_path` fuzz target compare a build
//! under a plain source name with a build under a hostile one. One
//! reader, so the two cannot drift (they did: the fuzz target read a
//! proxy's nginx.conf as YAML and failed CI's corpus replay).

use infrac::backend::Artifact;

#[derive(Debug, PartialEq)]
pub enum Documents {
    Yaml(Vec<yaml_rust2::Yaml>),
    Hcl(hcl::Body),
    /// A proxy's own configuration (nginx.conf, haproxy.cfg, Caddyfile,
    /// traefik's files): `#` comments in every one of those formats, so
    /// its lines without the comment lines. A path that broke out of the
    /// header comment would be a line of configuration here.
    Config(Vec<String>),
}

/// `a` read by the reader of its format, or why it could not be.
pub fn documents(a: &Artifact) -> Result<Documents, String> {
    let path = a.path.display().to_string();
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        yaml_rust2::YamlLoader::load_from_str(&a.contents)
            .map(Documents::Yaml)
            .map_err(|e| format!("{path}: {e}"))
    } else if path.ends_with(".tf") {
        hcl::parse(&a.contents)
            .map(Documents::Hcl)
            .map_err(|e| format!("{path}: {e}"))
    } else if path.starts_with("proxy/") {
        Ok(Documents::Config(
            a.contents
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .map(str::to_string)
                .collect(),
        ))
    } else {
        Err(format!("{path}: a file this reader does not know"))
    }
}

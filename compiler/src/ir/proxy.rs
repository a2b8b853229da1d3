//! What a proxy is, for the backends that write its configuration: its
//! kind, read from its image (else its template), and its TLS secrets.

use super::{SecretId, Service, Span};

/// The proxies infrac writes configuration for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProxyKind {
    Nginx,
    Haproxy,
    Caddy,
    Traefik,
}

impl ProxyKind {
    pub const ALL: &'static [ProxyKind] = &[
        ProxyKind::Nginx,
        ProxyKind::Haproxy,
        ProxyKind::Caddy,
        ProxyKind::Traefik,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProxyKind::Nginx => "nginx",
            ProxyKind::Haproxy => "haproxy",
            ProxyKind::Caddy => "caddy",
            ProxyKind::Traefik => "traefik",
        }
    }

    /// The kind an image reference names: the last path segment of its
    /// repository (`nginx`, `library/haproxy`, `nginxinc/nginx-unprivileged`),
    /// the kind's name or the name followed by `-` and a variant.
    pub fn of_image(image: &str) -> Option<ProxyKind> {
        let repository = image.split(['@']).next().unwrap_or(image);
        let last = repository.rsplit('/').next().unwrap_or(repository);
        let name = last.split(':').next().unwrap_or(last);
        Self::ALL.iter().copied().find(|k| {
            name == k.name()
                || name
                    .strip_prefix(k.name())
                    .is_some_and(|rest| rest.starts_with('-'))
        })
    }

    /// The kind of a service: from its image, else from the template it
    /// extends (a private build of nginx extending `std/nginx`).
    pub fn of(service: &Service) -> Option<ProxyKind> {
        Self::of_image(&service.image).or_else(|| {
            let template = service.template.as_deref()?;
            Self::ALL.iter().copied().find(|k| k.name() == template)
        })
    }
}

/// `tls = { cert = NAME, key = NAME }`: two secrets, the PEM certificate
/// chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub cert: SecretId,
    pub key: SecretId,
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_images() {
        assert_eq!(
            ProxyKind::of_image("nginx:1.27-alpine"),
            Some(ProxyKind::Nginx)
        );
        assert_eq!(
            ProxyKind::of_image("docker.io/library/haproxy:3.0"),
            Some(ProxyKind::Haproxy)
        );
        assert_eq!(
            ProxyKind::of_image("nginxinc/nginx-unprivileged:1.27"),
            Some(ProxyKind::Nginx)
        );
        assert_eq!(
            ProxyKind::of_image("caddy@sha256:abc"),
            Some(ProxyKind::Caddy)
        );
        assert_eq!(
            ProxyKind::of_image("traefik:v3.1.2"),
            Some(ProxyKind::Traefik)
        );
        assert_eq!(ProxyKind::of_image("ghcr.io/acme/nginxish:1"), None);
        assert_eq!(ProxyKind::of_image("registry:5000/envoy:1"), None);
    }
}

//! What a capture URL names: a pprof base (`http://host:6060/debug/pprof/`), the goroutine
//! endpoint under it, or some other endpoint that serves a dump, fetched as given.

use ureq::http::Uri;

/// A live process to take evidence from, as named by one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as the user gave it.
    pub url: String,
    /// Host name or address, without brackets.
    pub host: String,
    /// TCP port (the scheme's default when the URL names none).
    pub port: u16,
    /// The pprof base, ending in `/`, when the URL is one or is an endpoint under one: the
    /// other profiles (debug=1, protobuf, goroutineleak) are fetched from it.
    pub base: Option<String>,
    /// The URL of the full (debug=2) dump.
    pub dump_url: String,
    /// Whether [`dump_url`](Self::dump_url) asks for debug=2 output, whose 64 MiB cut
    /// [`truncated`](super::truncated) recognises.
    pub debug2: bool,
    /// Whether the dump endpoint is itself the goroutineleak profile.
    pub is_leak_endpoint: bool,
}

/// Whether an input names a URL rather than a file.
pub fn is_url(input: &str) -> bool {
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

impl Target {
    /// Reads a capture URL. A URL with no path, or a path ending in `/debug/pprof`, is a
    /// pprof base; a path ending in `/goroutine` or `/goroutineleak` is that endpoint (debug=2
    /// unless the query names another `debug`); any other path is fetched as given.
    pub fn parse(url: &str) -> Result<Target, String> {
        if !is_url(url) {
            return Err(format!(
                "`{url}` is not an http:// or https:// URL (give the pprof base, e.g. http://127.0.0.1:6060/debug/pprof/)"
            ));
        }
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("`{url}` is not a valid URL: {e}"))?;
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let Some(authority) = uri.authority() else {
            return Err(format!("`{url}` names no host"));
        };
        if authority.as_str().contains('@') {
            return Err(format!(
                "`{url}`: credentials in the URL are not sent; pass them as --header 'Authorization: …'"
            ));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("`{url}` names no host"));
        }
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let origin = format!("{}://{}", if https { "https" } else { "http" }, authority);
        let path = uri.path();
        let query = uri.query();
        let trimmed = path.trim_end_matches('/');
        let last = trimmed.rsplit('/').next().unwrap_or("");

        let (base, dump_url, debug2, is_leak_endpoint) =
            if trimmed.is_empty() || trimmed.ends_with("/debug/pprof") {
                let base = if trimmed.is_empty() {
                    format!("{origin}/debug/pprof/")
                } else {
                    format!("{origin}{trimmed}/")
                };
                let dump = format!("{base}goroutine?debug=2");
                (Some(base), dump, true, false)
            } else if last == "goroutine" || last == "goroutineleak" {
                let dir = &trimmed[..trimmed.len() - last.len()];
                let base = format!("{origin}{dir}");
                let debug = query.and_then(|q| {
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("debug="))
                        .map(str::to_string)
                });
                let dump = match (&debug, query) {
                    (Some(_), Some(q)) => format!("{origin}{trimmed}?{q}"),
                    (None, Some(q)) => format!("{origin}{trimmed}?{q}&debug=2"),
                    (_, None) => format!("{origin}{trimmed}?debug=2"),
                };
                let debug2 = debug.is_none_or(|d| d == "2");
                (Some(base), dump, debug2, last == "goroutineleak")
            } else {
                (None, url.to_string(), false, false)
            };
        Ok(Target {
            url: url.to_string(),
            host: host.to_string(),
            port,
            base,
            dump_url,
            debug2,
            is_leak_endpoint,
        })
    }

    /// `host-port`, safe in a file name.
    pub fn slug(&self) -> String {
        let host: String = self
            .host
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{host}-{}", self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> Target {
        Target::parse(url).unwrap()
    }

    #[test]
    fn a_base_url_with_or_without_slash_fetches_debug2_under_it() {
        for url in [
            "http://127.0.0.1:6060/debug/pprof/",
            "http://127.0.0.1:6060/debug/pprof",
        ] {
            let t = t(url);
            assert_eq!(
                t.base.as_deref(),
                Some("http://127.0.0.1:6060/debug/pprof/")
            );
            assert_eq!(
                t.dump_url,
                "http://127.0.0.1:6060/debug/pprof/goroutine?debug=2"
            );
            assert!(t.debug2);
            assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 6060));
        }
    }

    #[test]
    fn a_bare_host_means_the_default_pprof_path() {
        let t = t("http://localhost:8080");
        assert_eq!(
            t.dump_url,
            "http://localhost:8080/debug/pprof/goroutine?debug=2"
        );
        let t = Target::parse("https://svc.internal/").unwrap();
        assert_eq!(t.port, 443);
        assert_eq!(t.base.as_deref(), Some("https://svc.internal/debug/pprof/"));
    }

    #[test]
    fn an_endpoint_keeps_its_debug_level_and_knows_its_base() {
        let t1 = t("http://[::1]:6060/admin/debug/pprof/goroutine?debug=1");
        assert_eq!(t1.host, "::1");
        assert_eq!(
            t1.base.as_deref(),
            Some("http://[::1]:6060/admin/debug/pprof/")
        );
        assert_eq!(
            t1.dump_url,
            "http://[::1]:6060/admin/debug/pprof/goroutine?debug=1"
        );
        assert!(!t1.debug2);
        let t2 = t("http://h:1/debug/pprof/goroutine");
        assert_eq!(t2.dump_url, "http://h:1/debug/pprof/goroutine?debug=2");
        assert!(t2.debug2 && !t2.is_leak_endpoint);
        assert!(t("http://h:1/debug/pprof/goroutineleak?debug=2").is_leak_endpoint);
    }

    #[test]
    fn another_path_is_fetched_as_given() {
        let t = t("http://h:9/stacks?all=1");
        assert_eq!(t.base, None);
        assert_eq!(t.dump_url, "http://h:9/stacks?all=1");
    }

    #[test]
    fn non_urls_and_credentials_are_refused_with_advice() {
        assert!(
            Target::parse("dump.txt")
                .unwrap_err()
                .contains("not an http")
        );
        assert!(
            Target::parse("http://u:p@h:1/")
                .unwrap_err()
                .contains("--header")
        );
    }
}

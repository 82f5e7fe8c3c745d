//! Source paths shortened for reading: the Go root becomes `$GOROOT`, the module cache
//! `$GOMODCACHE`.

use std::borrow::Cow;

use crate::knowledge;

/// Shortens a source path for reading: the Go root becomes `$GOROOT` and the module cache
/// `$GOMODCACHE`. `function` (the frame's function) tells a standard-library file from a
/// user file that happens to live under some `/src/` directory.
pub fn short_path<'a>(file: &'a str, function: &str) -> Cow<'a, str> {
    if let Some(i) = file.find("/pkg/mod/") {
        return Cow::Owned(format!("$GOMODCACHE/{}", &file[i + 9..]));
    }
    // A package is the standard library's when its first element is one of the library's
    // top-level directories: GOPATH code without a dot (`easy/util`) is the program's own.
    if knowledge::is_std(function) {
        // The Go root is what precedes `/src/<std dir>/`. The file's directory may differ
        // from the function's package (`net.runtime_pollWait` lives in runtime/netpoll.go).
        let mut from = file.len();
        while let Some(i) = file[..from].rfind("/src/") {
            let rest = &file[i + 5..];
            if rest.split('/').next().is_some_and(knowledge::is_std_root) && rest.contains('/') {
                return Cow::Owned(format!("$GOROOT{}", &file[i..]));
            }
            from = i;
        }
    }
    Cow::Borrowed(file)
}

#[cfg(test)]
mod tests {
    use super::short_path;

    #[test]
    fn the_go_root_and_module_cache_are_abbreviated_only_for_their_own_files() {
        let cases = [
            (
                "/usr/local/go/src/net/http/server.go",
                "net/http.(*conn).serve",
                "$GOROOT/src/net/http/server.go",
            ),
            (
                "c:/go/src/runtime/netpoll.go",
                "net.runtime_pollWait",
                "$GOROOT/src/runtime/netpoll.go",
            ),
            (
                "/root/go/pkg/mod/github.com/x/y@v1.0.0/a.go",
                "github.com/x/y.F",
                "$GOMODCACHE/github.com/x/y@v1.0.0/a.go",
            ),
            // GOPATH code whose import path has no dot is the program's, not the library's.
            (
                "e:/golang/src/easy/esUtil/esChan/esChanCache.go",
                "easy/esUtil/esChan.(*C).run",
                "e:/golang/src/easy/esUtil/esChan/esChanCache.go",
            ),
            (
                "/home/me/src/net/main.go",
                "main.main",
                "/home/me/src/net/main.go",
            ),
            ("/src/app/main.go", "main.main", "/src/app/main.go"),
        ];
        for (file, function, want) in cases {
            assert_eq!(short_path(file, function), want, "{file}");
        }
    }
}

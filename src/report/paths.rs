//! Source paths shortened for reading: the Go root becomes `$GOROOT`, the module cache
//! `$GOMODCACHE`.

use std::borrow::Cow;

use crate::model::FuncName;

/// Shortens a source path for reading: the Go root becomes `$GOROOT` and the module cache
/// `$GOMODCACHE`. `function` (the frame's function) tells a standard-library file from a
/// user file that happens to live under some `/src/` directory.
pub fn short_path<'a>(file: &'a str, function: &str) -> Cow<'a, str> {
    if let Some(i) = file.find("/pkg/mod/") {
        return Cow::Owned(format!("$GOMODCACHE/{}", &file[i + 9..]));
    }
    let pkg = FuncName::split(function).package;
    let std_lib = !pkg.is_empty()
        && pkg != "main"
        && !pkg
            .split('/')
            .next()
            .is_some_and(|first| first.contains('.'));
    if std_lib {
        let needle = format!("/src/{pkg}/");
        if let Some(i) = file.find(&needle) {
            return Cow::Owned(format!("$GOROOT{}", &file[i..]));
        }
    }
    Cow::Borrowed(file)
}

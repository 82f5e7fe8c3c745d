//! `--src`: finds the files behind the blamed frames (also for `-trimpath` and module paths,
//! by the longest matching path suffix), shows their lines, and for "something was never
//! released" findings reads the Go source of the functions that acquire the same thing and
//! points at the return path that skips the release.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::finding::{Finding, FrameRef, SourceSnippet};

/// Lines shown around a blamed line.
const CONTEXT: u32 = 3;

/// The `.go` files under the source roots, by base name.
pub struct SourceIndex {
    by_name: HashMap<String, Vec<PathBuf>>,
}

impl SourceIndex {
    /// Walks `roots` (skipping `.git`, `testdata`-free of course, and hidden directories).
    pub fn new(roots: &[PathBuf]) -> SourceIndex {
        let mut by_name: HashMap<String, Vec<PathBuf>> = HashMap::new();
        let mut stack: Vec<PathBuf> = roots.to_vec();
        let mut seen = 0usize;
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else if name.ends_with(".go") {
                    seen += 1;
                    if seen > 200_000 {
                        return SourceIndex { by_name };
                    }
                    by_name.entry(name).or_default().push(p);
                }
            }
        }
        SourceIndex { by_name }
    }

    /// The local file for a path printed in a dump: the candidate sharing the longest
    /// suffix of path components with it.
    pub fn resolve(&self, printed: &str) -> Option<&Path> {
        let printed = printed.replace('\\', "/");
        let base = printed.rsplit('/').next()?;
        let cands = self.by_name.get(base)?;
        let want: Vec<&str> = printed.split('/').rev().collect();
        cands
            .iter()
            .map(|c| {
                let cs = c.to_string_lossy().replace('\\', "/");
                let have: Vec<&str> = cs.split('/').rev().collect();
                let common = want.iter().zip(&have).take_while(|(a, b)| a == b).count();
                (common, c)
            })
            .max_by_key(|(n, _)| *n)
            .map(|(_, c)| c.as_path())
    }
}

fn read_lines(p: &Path) -> Option<Vec<String>> {
    Some(
        std::fs::read_to_string(p)
            .ok()?
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

fn snippet(path: &Path, lines: &[String], focus: u32, note: Option<String>) -> SourceSnippet {
    let first = focus.saturating_sub(CONTEXT).max(1);
    let last = (focus + CONTEXT).min(lines.len() as u32);
    SourceSnippet {
        path: path.to_string_lossy().into_owned(),
        first_line: first,
        focus_line: focus,
        lines: (first..=last)
            .filter_map(|n| lines.get(n as usize - 1).cloned())
            .collect(),
        note,
    }
}

/// Adds source lines to `f`, and for release-type findings looks for the faulty path.
pub fn attach(idx: &SourceIndex, f: &mut Finding) {
    if let Some(found) = missing_release(idx, f) {
        let (frame, snip) = found;
        f.evidence.push(snip.note.clone().unwrap_or_default());
        f.root.insert(0, frame);
        f.source.push(snip);
    }
    if let Some((frame, snip)) = consumer_return(idx, f) {
        f.evidence.push(snip.note.clone().unwrap_or_default());
        // The send stays first: it is where the goroutines block; the return is why.
        f.root.insert(1.min(f.root.len()), frame);
        f.source.push(snip);
    }
    for r in f.root.clone() {
        if f.source.iter().any(|s| {
            s.focus_line == r.line && s.path.ends_with(r.file.rsplit('/').next().unwrap_or(""))
        }) {
            continue;
        }
        if let Some(p) = idx.resolve(&r.file) {
            if let Some(lines) = read_lines(p) {
                if (r.line as usize) <= lines.len() && r.line > 0 {
                    f.source.push(snippet(p, &lines, r.line, None));
                }
            }
        }
    }
}

/// What is acquired and released, read from the blamed line's text.
struct Pair {
    acquire: Regex,
    release: Regex,
    what: String,
}

fn pair_for(kind: &str, site_line: &str) -> Option<Pair> {
    let ident = r"[A-Za-z_][A-Za-z0-9_]*";
    match kind {
        "lock-never-released" | "lock-held-by-blocked-goroutine" => {
            let re = Regex::new(&format!(r"({ident})\.(R?Lock)\(\)")).ok()?;
            let c = re.captures(site_line)?;
            let (field, op) = (c.get(1)?.as_str(), c.get(2)?.as_str());
            let unlock = if op == "RLock" { "RUnlock" } else { "Unlock" };
            Some(Pair {
                acquire: Regex::new(&format!(r"\b{field}\.{op}\(\)")).ok()?,
                release: Regex::new(&format!(r"\b{field}\.{unlock}\(\)")).ok()?,
                what: format!("{field}.{op}() without {field}.{unlock}()"),
            })
        }
        "waitgroup-never-done" => {
            let re = Regex::new(&format!(r"({ident})\.Wait\(\)")).ok()?;
            let field = re.captures(site_line)?.get(1)?.as_str().to_string();
            Some(Pair {
                acquire: Regex::new(r"^func ").ok()?,
                release: Regex::new(&format!(r"\b{field}\.Done\(\)")).ok()?,
                what: format!("calling {field}.Done()"),
            })
        }
        "pool-exhausted-leak" => {
            if site_line.contains("Query") {
                Some(Pair {
                    acquire: Regex::new(r"\.Query(Context|Row)?\(").ok()?,
                    release: Regex::new(r"\.Close\(\)").ok()?,
                    what: "rows not closed on a return path".into(),
                })
            } else if site_line.contains("Acquire") {
                Some(Pair {
                    acquire: Regex::new(r"\.Acquire\(").ok()?,
                    release: Regex::new(r"\.Release\(").ok()?,
                    what: "Acquire without Release on a return path".into(),
                })
            } else {
                Some(Pair {
                    acquire: Regex::new(r"\.Get(Context)?\(").ok()?,
                    release: Regex::new(r"\.Close\(\)").ok()?,
                    what: "a connection not closed on a return path".into(),
                })
            }
        }
        _ => None,
    }
}

/// Scans the Go files of the blamed frame's directory for a function that acquires and can
/// return before releasing, without a deferred release.
fn missing_release(idx: &SourceIndex, f: &Finding) -> Option<(FrameRef, SourceSnippet)> {
    // The first root frame whose line says what is taken (`mu.Lock()`, `wg.Wait()`, …).
    let (r, path, pair) = f.root.iter().find_map(|r| {
        let path = idx.resolve(&r.file)?;
        let lines = read_lines(path)?;
        let site_line = lines.get((r.line as usize).checked_sub(1)?)?;
        Some((r, path, pair_for(f.kind, site_line)?))
    })?;
    let dir = path.parent()?;
    let files = go_files(dir)?;
    let ret = Regex::new(r"^\s*return\b|[;{]\s*return\b").ok()?;
    for file in files {
        let Some(src) = read_lines(&file) else {
            continue;
        };
        for (start, end) in functions(&src) {
            let body = &src[start..=end];
            let acq = if pair.acquire.as_str() == "^func " {
                if !body.iter().any(|l| pair.release.is_match(l)) {
                    continue;
                }
                Some(0)
            } else {
                body.iter().position(|l| pair.acquire.is_match(l))
            };
            let Some(acq) = acq else { continue };
            let skip_to = error_check_end(body, acq);
            for (k, l) in body.iter().enumerate().skip(acq + 1) {
                let l = code(l);
                if k <= skip_to {
                    continue;
                }
                if ret.is_match(l) && !released_on_path(body, acq, k, &pair.release) {
                    let line_no = (start + k + 1) as u32;
                    let name = func_name(&src[start]);
                    let file_name = file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    // A deferred release placed after this return does not cover it.
                    let note = if acq == 0 {
                        format!(
                            "{file_name}:{line_no}: {name} returns here without {}",
                            pair.what
                        )
                    } else {
                        format!(
                            "{file_name}:{line_no}: {name} returns here after `{}` and before releasing it ({})",
                            src[start + acq].trim(),
                            pair.what
                        )
                    };
                    let frame = FrameRef {
                        function: qualify(&r.function, &name),
                        file: file.to_string_lossy().into_owned(),
                        line: line_no,
                    };
                    return Some((frame, snippet(&file, &src, line_no, Some(note))));
                }
            }
        }
    }
    None
}

/// The non-test Go files of `dir`, sorted.
fn go_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "go") && !p.to_string_lossy().ends_with("_test.go")
        })
        .collect();
    files.sort();
    Some(files)
}

/// Top-level function spans of gofmt-formatted source: `func …` at column 0 to the first
/// `}` at column 0.
fn functions(src: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, l) in src.iter().enumerate() {
        if l.starts_with("func ") {
            if l.trim_end().ends_with('}') {
                continue;
            }
            start = Some(i);
        } else if l.starts_with('}') {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
        }
    }
    out
}

/// `func (p *Pusher) publish(x int) error {` → `(*Pusher).publish`; `func run() {` → `run`.
fn func_name(line: &str) -> String {
    let rest = line.trim_start_matches("func ").trim();
    if let Some(r) = rest.strip_prefix('(') {
        let close = r.find(')').unwrap_or(0);
        let recv = r[..close].split_whitespace().last().unwrap_or("");
        let name: String = r[close + 1..]
            .trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let recv = recv.split('[').next().unwrap_or(recv);
        if recv.starts_with('*') {
            format!("({recv}).{name}")
        } else {
            format!("{recv}.{name}")
        }
    } else {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    }
}

/// Puts a local name into the package of `like` (`main.(*T).f` + `(*T).g` → `main.(*T).g`).
fn qualify(like: &str, local: &str) -> String {
    let pkg = crate::model::FuncName::split(like).package;
    if pkg.is_empty() {
        local.to_string()
    } else {
        format!("{pkg}.{local}")
    }
}

/// For goroutines blocked sending on a channel: the channel expression of the sending line
/// (`s.records <- rec` → `records`), the function of the same package that receives from it
/// (`range s.records`, `<-s.records`), and the first `return` after that receive: the path
/// on which the consumer leaves and nobody receives any more.
fn consumer_return(idx: &SourceIndex, f: &Finding) -> Option<(FrameRef, SourceSnippet)> {
    if f.kind != "chan-send-no-receiver" {
        return None;
    }
    let r = f.root.first()?;
    let path = idx.resolve(&r.file)?;
    let lines = read_lines(path)?;
    let site_line = lines.get((r.line as usize).checked_sub(1)?)?;
    let send = Regex::new(r"([A-Za-z_][A-Za-z0-9_]*)\s*<-").ok()?;
    let field = send
        .captures(site_line.split("//").next()?)?
        .get(1)?
        .as_str()
        .to_string();
    let recv = Regex::new(&format!(
        r"range\s+([A-Za-z_][A-Za-z0-9_]*\.)*{field}\b|<-\s*([A-Za-z_][A-Za-z0-9_]*\.)*{field}\b"
    ))
    .ok()?;
    let ret = Regex::new(r"^\s*return\b").ok()?;
    let dir = path.parent()?;
    let files = go_files(dir)?;
    for file in files {
        let Some(src) = read_lines(&file) else {
            continue;
        };
        for (start, end) in functions_and_literals(&src) {
            let body = &src[start..=end];
            let Some(at) = body
                .iter()
                .position(|l| recv.is_match(l.split("//").next().unwrap_or("")))
            else {
                continue;
            };
            let Some(k) = body
                .iter()
                .skip(at + 1)
                .position(|l| ret.is_match(l))
                .map(|k| k + at + 1)
            else {
                continue;
            };
            let line_no = (start + k + 1) as u32;
            let name = if src[start].starts_with("func ") {
                func_name(&src[start])
            } else {
                literal_name(&src, start)
            };
            let note = format!(
                "{}:{}: the consumer of `{field}` ({}, receiving at line {}) returns here; after that nothing receives and every send blocks",
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                line_no,
                if name.is_empty() {
                    "a function literal".to_string()
                } else {
                    name.clone()
                },
                start + at + 1
            );
            let frame = FrameRef {
                function: if name.is_empty() {
                    format!("{} (consumer)", r.function)
                } else {
                    qualify(&r.function, &name)
                },
                file: file.to_string_lossy().into_owned(),
                line: line_no,
            };
            return Some((frame, snippet(&file, &src, line_no, Some(note))));
        }
    }
    None
}

/// Top-level functions plus `go func() { … }()` literals (indented `go func` to the matching
/// closing line at the same indentation), so a consumer goroutine written inline is found.
fn functions_and_literals(src: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, l) in src.iter().enumerate() {
        let t = l.trim_start();
        if t.starts_with("go func(") && t.trim_end().ends_with('{') {
            let indent = &l[..l.len() - t.len()];
            if let Some(end) = src
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, m)| m.starts_with(indent) && m[indent.len()..].starts_with('}'))
                .map(|(j, _)| j)
            {
                out.push((i, end));
            }
        }
    }
    out.extend(functions(src));
    out
}

/// The runtime's name for the function literal starting at line `at`: the enclosing
/// top-level function plus `.funcN`, N counting the literals before it in that function.
fn literal_name(src: &[String], at: usize) -> String {
    let Some(outer) = (0..at).rev().find(|&i| src[i].starts_with("func ")) else {
        return String::new();
    };
    let lit = Regex::new(r"\bfunc\s*\(").expect("valid regex");
    let n = src[outer + 1..=at]
        .iter()
        .map(|l| lit.find_iter(l.split("//").next().unwrap_or("")).count())
        .sum::<usize>();
    format!("{}.func{n}", func_name(&src[outer]))
}

/// True when a release stands on the way from the acquisition at `acq` to the return at
/// `ret`: walking back from the return, only lines of the blocks enclosing it count (a line
/// indented deeper than every line seen since belongs to a sibling block that ended).
fn released_on_path(body: &[String], acq: usize, ret: usize, release: &Regex) -> bool {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut limit = indent(&body[ret]);
    for l in body[acq + 1..ret].iter().rev() {
        let i = indent(l);
        if l.trim().is_empty() || i > limit {
            continue;
        }
        limit = i;
        if release.is_match(code(l)) {
            return true;
        }
    }
    false
}

/// A line without its `//` comment (a comment naming `rows.Close()` releases nothing).
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or(line)
}

/// The acquisition's own error check (`x, err := acquire(); if err != nil { return … }`)
/// holds nothing to release: the index of its closing line, or `at` when there is none.
/// The call may span lines; the check follows the first line ending its statement.
fn error_check_end(body: &[String], at: usize) -> usize {
    let head = body[at].trim();
    let inline = head.starts_with("if ") && head.ends_with('{') && head.contains("err");
    let found = if inline {
        Some(at)
    } else {
        (at + 1..body.len().min(at + 8))
            .find(|&i| body[i].trim_start().starts_with("if err != nil"))
    };
    let Some(check) = found else { return at };
    let indent = body[check].len() - body[check].trim_start().len();
    (check + 1..body.len())
        .find(|&i| {
            let l = &body[i];
            l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
        })
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_functions_like_the_runtime() {
        assert_eq!(
            func_name("func (p *Pusher) publish(x int) error {"),
            "(*Pusher).publish"
        );
        assert_eq!(func_name("func (b Box[T]) get() T {"), "Box.get");
        assert_eq!(func_name("func run() {"), "run");
        assert_eq!(
            qualify("example.com/svc/push.(*Pusher).Run", "(*Pusher).publish"),
            "example.com/svc/push.(*Pusher).publish"
        );
    }

    #[test]
    fn r_acquire_error_check_is_not_a_leak() {
        let body: Vec<String> = [
            "func (s *Store) Totals() error {",
            "\trows, err := s.db.Query(`SELECT 1",
            "\t\tFROM t`)",
            "\tif err != nil {",
            "\t\treturn err",
            "\t}",
            "\tfor rows.Next() {",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(error_check_end(&body, 1), 5);
        assert_eq!(error_check_end(&body, 6), 6);
    }
}

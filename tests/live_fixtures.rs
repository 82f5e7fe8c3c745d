//! Checks freshly generated format fixtures, for CI's live path:
//!
//! ```sh
//! scripts/gen-format-fixtures.sh --quick --out "$DIR"
//! HANGDOC_LIVE_FIXTURES="$DIR" cargo test --test live_fixtures
//! ```
//!
//! It checks something only when `HANGDOC_LIVE_FIXTURES` names a directory: without it the
//! test passes without checking anything (and says so on stderr). With it, every
//! `*.expect.json` under that directory is compared with what hangdoc parses from its dump.

#[path = "fixtures_formats/expect.rs"]
mod expect;

#[test]
fn live_fixtures_match_their_expectations() {
    let Some(dir) = std::env::var_os("HANGDOC_LIVE_FIXTURES") else {
        eprintln!("HANGDOC_LIVE_FIXTURES is not set: no live fixtures checked");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let n = expect::check_all(&dir);
    assert!(n > 0, "no *.expect.json under {}", dir.display());
    eprintln!("{n} live fixtures match their expectations");
}

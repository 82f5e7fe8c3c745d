//! ANSI styling, on only when asked (a terminal without `NO_COLOR`, or `--color always`).

/// Colours on or off.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// True to emit ANSI escapes.
    pub color: bool,
}

impl Style {
    /// `s` in the SGR style `code` (`1` bold, `2` dim, `31` red, …) when colours are on.
    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// Bold.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    /// Dim.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    /// Bold red.
    pub fn red_bold(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    /// Bold yellow.
    pub fn yellow_bold(&self, s: &str) -> String {
        self.paint("1;33", s)
    }
    /// Bold green.
    pub fn green_bold(&self, s: &str) -> String {
        self.paint("1;32", s)
    }
    /// Cyan.
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
}

/// Length of `s` without ANSI escapes.
pub fn visible_len(s: &str) -> usize {
    let mut n = 0;
    let mut esc = false;
    for c in s.chars() {
        if esc {
            if c == 'm' {
                esc = false;
            }
        } else if c == '\x1b' {
            esc = true;
        } else {
            n += 1;
        }
    }
    n
}

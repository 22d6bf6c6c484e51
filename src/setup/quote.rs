//! Quoting one value for each language the setup renderers write, so that any FIC name or
//! description (quotes, `$`, backticks, `${…}`, newlines, control characters) still yields valid
//! code that carries the value byte for byte. Each function has a round-trip test against a
//! decoder written from the language's reference, and `tests/setup.rs` runs the real interpreter
//! where one is installed.

/// A POSIX shell single-quoted word: everything is literal inside `'…'` except `'` itself, which
/// closes the quote, so it is written as `'\''` (close, escaped quote, reopen).
pub(crate) fn shell_single(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A PowerShell single-quoted (verbatim) string: `$`, backticks and newlines are literal; the only
/// special characters are the single quotes, doubled to escape them. PowerShell also treats the
/// typographic quotes U+2018 to U+201B as single quotes (about_Quoting_Rules), so they are doubled
/// too.
pub(crate) fn powershell_single(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A Bicep single-quoted string. Bicep's escapes are `\\`, `\'`, `\n`, `\r`, `\t`, `\$` and
/// `\u{X}`; `$` is always escaped so that `${` never starts an interpolation, and every other
/// control character is written as `\u{X}`.
pub(crate) fn bicep_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '$' => out.push_str(r"\$"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c if is_line_breaking(c) => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An HCL (Terraform) double-quoted template string: `\` and `"` are escaped, `${` and `%{` (the
/// starts of an interpolation and of a directive) are written `$${` and `%%{`, and control
/// characters become `\n`, `\r`, `\t` or `\uNNNN`.
pub(crate) fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if is_line_breaking(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value made safe for one line of a line comment (`#`, `//`): every control character and
/// Unicode line or paragraph separator becomes a space, so nothing can end the comment early.
pub(crate) fn comment_line(s: &str) -> String {
    s.chars()
        .map(|c| if is_line_breaking(c) { ' ' } else { c })
        .collect()
}

/// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
pub(crate) fn is_line_breaking(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoders written from each language's reference, to prove the encoders round-trip.
    fn shell_decode(q: &str) -> String {
        // Only the forms `shell_single` writes: '…' segments joined by \'.
        let mut out = String::new();
        let mut in_quote = false;
        let mut chars = q.chars();
        while let Some(c) = chars.next() {
            match (in_quote, c) {
                (true, '\'') => in_quote = false,
                (true, c) => out.push(c),
                (false, '\'') => in_quote = true,
                (false, '\\') => out.push(chars.next().expect("escaped char")),
                (false, c) => panic!("unquoted {c:?} in {q:?}"),
            }
        }
        assert!(!in_quote, "unterminated {q:?}");
        out
    }

    fn powershell_decode(q: &str) -> String {
        let is_q = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
        let inner: Vec<char> = q.chars().collect();
        assert!(is_q(inner[0]) && is_q(*inner.last().unwrap()));
        let inner = &inner[1..inner.len() - 1];
        let mut out = String::new();
        let mut i = 0;
        while i < inner.len() {
            if is_q(inner[i]) {
                // A quote inside must be followed by another quote (PowerShell accepts any pair).
                assert!(
                    i + 1 < inner.len() && is_q(inner[i + 1]),
                    "lone quote in {q:?}"
                );
                out.push(inner[i]);
                i += 2;
            } else {
                out.push(inner[i]);
                i += 1;
            }
        }
        out
    }

    fn bicep_decode(q: &str) -> String {
        let inner = &q[1..q.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next().unwrap() {
                    '\\' => out.push('\\'),
                    '\'' => out.push('\''),
                    '$' => out.push('$'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        assert_eq!(chars.next(), Some('{'));
                        let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                    }
                    e => panic!("bad escape \\{e}"),
                },
                '\'' => panic!("unescaped quote in {q:?}"),
                '$' => panic!("unescaped $ in {q:?}"),
                c => out.push(c),
            }
        }
        out
    }

    fn hcl_decode(q: &str) -> String {
        let inner: Vec<char> = q[1..q.len() - 1].chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < inner.len() {
            match inner[i] {
                '\\' => {
                    i += 1;
                    match inner[i] {
                        '\\' => out.push('\\'),
                        '"' => out.push('"'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hex: String = inner[i + 1..i + 5].iter().collect();
                            out.push(
                                char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap(),
                            );
                            i += 4;
                        }
                        e => panic!("bad escape \\{e}"),
                    }
                }
                c @ ('$' | '%')
                    if inner.get(i + 1) == Some(&c) && inner.get(i + 2) == Some(&'{') =>
                {
                    out.push(c);
                    out.push('{');
                    i += 2;
                }
                c @ ('$' | '%') if inner.get(i + 1) == Some(&'{') => {
                    panic!("template sequence {c}{{ left live in {q:?}")
                }
                '"' => panic!("unescaped quote in {q:?}"),
                c if c.is_control() => panic!("raw control char in {q:?}"),
                c => out.push(c),
            }
            i += 1;
        }
        out
    }

    const TRICKY: &[&str] = &[
        "",
        "plain",
        "it's",
        "''",
        "say \"hi\"",
        "$HOME ${x} $(id) `whoami` %{ if } $${y} %%{z} $$${w}",
        "back\\slash\\",
        "line\nbreak\r\ttab",
        "‘smart’ ‚quotes‛",
        "nul\u{0}bell\u{7}del\u{7f}c1\u{85}ls\u{2028}ps\u{2029}",
        "emoji 😀 and ünïcødé",
        "ends with $",
        "ends with %",
    ];

    #[test]
    fn tricky_values_round_trip() {
        for s in TRICKY {
            assert_eq!(shell_decode(&shell_single(s)), *s, "shell");
            assert_eq!(powershell_decode(&powershell_single(s)), *s, "powershell");
            assert_eq!(bicep_decode(&bicep_string(s)), *s, "bicep");
            assert_eq!(hcl_decode(&hcl_string(s)), *s, "hcl");
            let c = comment_line(s);
            assert!(!c.chars().any(is_line_breaking), "{c:?}");
        }
    }

    #[test]
    fn expected_spellings() {
        assert_eq!(shell_single("it's"), r"'it'\''s'");
        assert_eq!(powershell_single("it's $x"), "'it''s $x'");
        assert_eq!(bicep_string("a'${b}\n"), r"'a\'\${b}\n'");
        assert_eq!(hcl_string("a\"${b}%{c}\n"), r#""a\"$${b}%%{c}\n""#);
    }

    proptest::proptest! {
        #[test]
        fn any_string_round_trips(s in "\\PC*|[\\x00-\\x1f$%{}'\"\\\\`‘’]{0,40}") {
            proptest::prop_assert_eq!(shell_decode(&shell_single(&s)), s.clone());
            proptest::prop_assert_eq!(powershell_decode(&powershell_single(&s)), s.clone());
            proptest::prop_assert_eq!(bicep_decode(&bicep_string(&s)), s.clone());
            proptest::prop_assert_eq!(hcl_decode(&hcl_string(&s)), s.clone());
        }
    }
}

//! Words for counts and for echoing what someone typed: shared by the command line and the
//! app so both say "1 lot" and never paste a 5,000-character paste back into a message.

/// "1 lot", "2 lots", "0 lots", with thousands separated: "9,604 shipments".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// 9604 → "9,604".
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How many characters of a typed value an error message repeats.
pub const ECHO_CHARS: usize = 40;

/// A typed value as an error message repeats it: whole when short, otherwise its first
/// characters, an ellipsis and its length, so a pasted page does not fill the screen.
pub fn echo(text: &str) -> String {
    let n = text.chars().count();
    if n <= ECHO_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(ECHO_CHARS).collect();
    format!("{head}… ({} characters)", thousands(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_words() {
        assert_eq!(plural(1, "lot", "lots"), "1 lot");
        assert_eq!(plural(0, "lot", "lots"), "0 lots");
        assert_eq!(plural(2, "lot", "lots"), "2 lots");
        assert_eq!(plural(9604, "shipment", "shipments"), "9,604 shipments");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn long_input_is_cut_with_its_length() {
        assert_eq!(echo("ABC-1"), "ABC-1");
        let long = "é".repeat(5000);
        let e = echo(&long);
        assert!(e.starts_with(&"é".repeat(ECHO_CHARS)), "{e}");
        assert!(e.ends_with("… (5,000 characters)"), "{e}");
        assert!(e.chars().count() < 70, "{e}");
    }
}

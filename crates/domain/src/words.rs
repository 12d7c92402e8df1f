//! Words for counts, shared by the command line and the app so both say "1 lot".

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
}

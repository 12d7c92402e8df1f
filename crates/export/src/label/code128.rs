//! Code 128 written out for the printer symbol by symbol: the start code, every switch
//! between subsets B (text) and C (digit pairs) and every FNC1 are in the field data as
//! ZPL's invocation codes (`^BC` mode N: `>:` start B, `>;` start C, `>6` to B, `>5` to C,
//! `>8` FNC1). Nothing is left to the printer's own reading of the data, such as mode D's
//! "(01)…(10)…" parentheses, which a renderer, an older firmware or a print-and-apply
//! system may not share: what we write is the barcode, bar for bar.

/// One piece of a message: a Function 1 character (GS1-128's start mark and its
/// separator after a variable-length element string) or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    Fnc1,
    Text(&'a str),
}

/// A message as `^BC` mode N field data, and how wide it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub field_data: String,
    /// Width in modules (narrowest bars), start and stop codes and the check character
    /// included, quiet zones not.
    pub modules: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Fnc1,
    Char(u8),
}

/// The field data for `parts`, or `None` when the text holds a character this writer
/// does not put in a barcode: anything but printable ASCII, and ZPL's `^`, `~` and `>`,
/// which field data would read as commands or invocation codes. Lot codes (A–Z, digits,
/// `- _ . /`) and GS1 element strings never do.
pub fn encode(parts: &[Part]) -> Option<Symbol> {
    let mut toks = Vec::new();
    for p in parts {
        match p {
            Part::Fnc1 => toks.push(Tok::Fnc1),
            Part::Text(t) => {
                for b in t.bytes() {
                    if !(0x20..0x7f).contains(&b) || matches!(b, b'^' | b'~' | b'>') {
                        return None;
                    }
                    toks.push(Tok::Char(b));
                }
            }
        }
    }
    if toks.is_empty() {
        return None;
    }
    let digits_at = |i: usize| {
        toks[i..]
            .iter()
            .take_while(|t| matches!(t, Tok::Char(b'0'..=b'9')))
            .count()
    };
    // Subset C from the start when the message opens (after any FNC1) with four digits or
    // more, or is two digits; else subset B.
    let lead = toks.iter().take_while(|t| **t == Tok::Fnc1).count();
    let run = digits_at(lead);
    let mut in_c = run >= 4 || (run == 2 && lead + 2 == toks.len());
    let mut out = String::from(if in_c { ">;" } else { ">:" });
    let mut symbols = 0u32;
    let mut i = 0;
    while i < toks.len() {
        match toks[i] {
            Tok::Fnc1 => {
                out.push_str(">8");
                i += 1;
            }
            Tok::Char(_) if in_c => {
                if digits_at(i) >= 2 {
                    push(&mut out, &toks[i..i + 2]);
                    i += 2;
                } else {
                    out.push_str(">6");
                    in_c = false;
                }
            }
            Tok::Char(_) => {
                let run = digits_at(i);
                // A switch to C and back costs two symbols: worth it for six digits or
                // more, or four at the end.
                if run >= 6 || (run >= 4 && i + run == toks.len()) {
                    if run % 2 == 1 {
                        push(&mut out, &toks[i..i + 1]);
                        i += 1;
                        symbols += 1;
                    }
                    out.push_str(">5");
                    in_c = true;
                } else {
                    push(&mut out, &toks[i..i + 1]);
                    i += 1;
                }
            }
        }
        symbols += 1;
    }
    // Start, the symbols, the check character: 11 modules each; the stop code 13.
    Some(Symbol {
        field_data: out,
        modules: 11 * (symbols + 2) + 13,
    })
}

fn push(out: &mut String, toks: &[Tok]) {
    for t in toks {
        if let Tok::Char(b) = t {
            out.push(char::from(*b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(parts: &[Part]) -> (String, u32) {
        let s = encode(parts).unwrap();
        (s.field_data, s.modules)
    }

    #[test]
    fn gs1_starts_in_c_with_fnc1_and_switches_to_b_for_a_lot_code() {
        let (d, m) = data(&[
            Part::Fnc1,
            Part::Text("0110614141000125"),
            Part::Text("17270102"),
            Part::Text("10B26277-004"),
        ]);
        assert_eq!(d, ">;>801106141410001251727010210>6B26277-004");
        // start, FNC1, 8 + 4 + 1 pairs, code B, 10 characters, check: 27 symbols and stop.
        assert_eq!(m, 11 * 27 + 13);
    }

    #[test]
    fn long_digit_runs_go_to_c_and_odd_ones_keep_a_digit_in_b() {
        assert_eq!(data(&[Part::Text("AB1234567")]).0, ">:AB1>5234567");
        assert_eq!(data(&[Part::Text("R26325-0007")]).0, ">:R26325->50007");
        assert_eq!(data(&[Part::Text("R26325-007")]).0, ">:R26325-007");
        assert_eq!(data(&[Part::Text("X-123456")]).0, ">:X->5123456");
        assert_eq!(data(&[Part::Text("12")]).0, ">;12");
        assert_eq!(data(&[Part::Text("123")]).0, ">:123");
        // A separator in the middle of digits stays in C.
        assert_eq!(
            data(&[
                Part::Fnc1,
                Part::Text("10123456"),
                Part::Fnc1,
                Part::Text("17270102")
            ])
            .0,
            ">;>810123456>817270102"
        );
    }

    #[test]
    fn what_field_data_would_misread_is_refused() {
        for bad in ["A>B", "A^B", "A~B", "Crème", "A\u{1d}B", ""] {
            assert_eq!(encode(&[Part::Text(bad)]), None, "{bad:?}");
        }
    }
}

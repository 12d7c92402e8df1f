use serde::Serialize;

/// Barcode symbology, from the AIM symbology identifier the scanner prepends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Symbology {
    /// `]C1`
    Gs1_128,
    /// `]d2`
    Gs1DataMatrix,
    /// `]Q3`
    Gs1Qr,
    /// `]e0`
    Gs1DataBar,
    /// `]C0`
    Code128,
    /// `]d1`
    DataMatrix,
    /// `]Q1`
    Qr,
    /// Any other identifier, kept exactly as scanned including the `]`, e.g. `]E0`.
    Other(String),
}

impl Symbology {
    /// Recognises a three-character AIM identifier such as `]C1`.
    pub fn from_aim_id(id: &str) -> Option<Symbology> {
        let mut chars = id.chars();
        match (chars.next(), chars.next(), chars.next(), chars.next()) {
            (Some(']'), Some(code), Some(modifier), None)
                if code.is_ascii_alphabetic() && modifier.is_ascii_alphanumeric() => {}
            _ => return None,
        }
        Some(match id {
            "]C1" => Symbology::Gs1_128,
            "]d2" => Symbology::Gs1DataMatrix,
            "]Q3" => Symbology::Gs1Qr,
            "]e0" => Symbology::Gs1DataBar,
            "]C0" => Symbology::Code128,
            "]d1" => Symbology::DataMatrix,
            "]Q1" => Symbology::Qr,
            other => Symbology::Other(other.to_owned()),
        })
    }

    pub fn aim_id(&self) -> String {
        match self {
            Symbology::Gs1_128 => "]C1",
            Symbology::Gs1DataMatrix => "]d2",
            Symbology::Gs1Qr => "]Q3",
            Symbology::Gs1DataBar => "]e0",
            Symbology::Code128 => "]C0",
            Symbology::DataMatrix => "]d1",
            Symbology::Qr => "]Q1",
            Symbology::Other(id) => id,
        }
        .to_owned()
    }

    /// The symbology's name as people know it: "GS1-128", "Code 128".
    pub fn name(&self) -> &'static str {
        match self {
            Symbology::Gs1_128 => "GS1-128",
            Symbology::Gs1DataMatrix => "GS1 DataMatrix",
            Symbology::Gs1Qr => "GS1 QR Code",
            Symbology::Gs1DataBar => "GS1 DataBar",
            Symbology::Code128 => "Code 128",
            Symbology::DataMatrix => "DataMatrix",
            Symbology::Qr => "QR Code",
            Symbology::Other(_) => "other symbology",
        }
    }

    /// Whether the identifier promises a GS1 element string (FNC1 in first position).
    pub fn is_gs1(&self) -> bool {
        matches!(
            self,
            Symbology::Gs1_128
                | Symbology::Gs1DataMatrix
                | Symbology::Gs1Qr
                | Symbology::Gs1DataBar
        )
    }
}

/// Splits a leading AIM identifier off the scan, if there is one.
pub(super) fn split_aim(text: &str) -> (Option<Symbology>, &str) {
    // All three characters must be ASCII for a match, so byte 3 is a char boundary.
    match (text.get(..3), text.get(3..)) {
        (Some(id), Some(rest)) => match Symbology::from_aim_id(id) {
            Some(s) => (Some(s), rest),
            None => (None, text),
        },
        _ => (None, text),
    }
}

use std::fmt;

/// Why a scan could not be read as GS1 data.
///
/// Every message is meant to be read on the floor terminal by whoever is
/// setting up or using the scanner, so each names the AI involved and what was
/// actually found rather than a generic "invalid barcode".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("The scan is empty")]
    Empty,

    #[error("The scan has the GS1 symbology identifier {aim_id} but no data after it")]
    NoGs1Data { aim_id: String },

    #[error(
        "GS1 data should continue with an Application Identifier (digits), but found {found:?}"
    )]
    ExpectedAi { found: char },

    #[error("The scan ends in the middle of an Application Identifier ({digits})")]
    TruncatedAi { digits: String },

    #[error("AI ({ai}) is not a GS1 Application Identifier")]
    UnknownAi { ai: String },

    #[error("AI ({ai}) needs {}, found {found} {before}", amount(*.min, *.exact, *.numeric))]
    TooShort {
        ai: String,
        /// Exact length for fixed-length AIs, otherwise the minimum (1).
        min: usize,
        exact: bool,
        numeric: bool,
        found: usize,
        before: Boundary,
    },

    #[error(
        "AI ({ai}) data is too long ({found} {}, {} {max}){}",
        unit(*.numeric, *.found),
        if *.fixed { "exactly" } else { "at most" },
        if *.separator_hint { " — a missing separator after it?" } else { "" }
    )]
    TooLong {
        ai: String,
        found: usize,
        max: usize,
        fixed: bool,
        numeric: bool,
        /// Only element strings have separators, so only they get the hint.
        separator_hint: bool,
    },

    #[error("AI ({ai}) must contain only digits, but has {found:?}{}", hint_text(*.separator_hint))]
    NotNumeric {
        ai: String,
        found: char,
        separator_hint: bool,
    },

    #[error(
        "AI ({ai}) contains a character that GS1 does not allow: {found:?}{}",
        hint_text(*.separator_hint)
    )]
    InvalidCharacter {
        ai: String,
        found: char,
        separator_hint: bool,
    },

    #[error("AI ({ai}) {key} {value} has check digit {found}, but it should be {expected}")]
    CheckDigit {
        ai: String,
        /// "GTIN", "SSCC" or "GLN": what the floor user knows the number as.
        key: &'static str,
        value: String,
        expected: u8,
        found: u8,
    },

    #[error("AI ({ai}) date {value} is not a date ({reason})")]
    InvalidDate {
        ai: String,
        value: String,
        reason: String,
    },

    #[error("AI ({ai}) appears twice with different values ({first} and {second})")]
    DuplicateAi {
        ai: String,
        first: String,
        second: String,
    },

    #[error("{0}")]
    Pairing(PairingRule),

    #[error("The Digital Link URI is not valid: {detail}")]
    DigitalLink { detail: String },

    #[error("AI (01) in a Digital Link needs 8, 12, 13 or 14 digits, found {found}")]
    DigitalLinkGtinLength { found: usize },

    #[error("AI ({ai}) in the Digital Link URI has broken percent-encoding")]
    PercentEncoding { ai: String },

    /// A check of the GS1 syntax dictionary failed (a country code, a time, a check
    /// character pair…); `reason` says which and what was found.
    #[error("AI ({ai}) value {value} is not valid: {reason}")]
    Invalid {
        ai: String,
        value: String,
        reason: String,
    },

    /// GS1 says the two AIs cannot appear together.
    #[error("AI ({ai}) cannot appear together with AI ({other}) in one scan")]
    Excluded { ai: String, other: String },

    /// GS1 says the AI is used only with others that the scan lacks.
    #[error("AI ({ai}) is used only together with {needs}, which this scan lacks")]
    Requires { ai: String, needs: String },

    /// A Digital Link query parameter that GS1 does not allow as a data attribute.
    #[error(
        "AI ({ai}) cannot be a Digital Link data attribute (?{ai}=…); only the path may carry it"
    )]
    NotDataAttribute { ai: String },
}

/// Where a too-short value stopped, because "before a separator" and "before
/// the end of the scan" point at different scanner misconfigurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    EndOfScan,
    Separator,
    NextAi,
    DigitalLink,
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Boundary::EndOfScan => "before the end of the scan",
            Boundary::Separator => "before a separator",
            Boundary::NextAi => "before the next AI",
            Boundary::DigitalLink => "in the Digital Link URI",
        })
    }
}

/// GS1 rules about which AIs may or must appear together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairingRule {
    /// (01) and (37) together.
    CountWithGtin,
    /// (37) without (02) (or (8026), the pieces of a trade item).
    CountWithoutContent,
    /// (02) without (37).
    ContentWithoutCount,
    /// (01) and (02) together.
    GtinAndContent,
}

impl fmt::Display for PairingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PairingRule::CountWithGtin => {
                "AI (37) counts the trade items inside a logistic unit and is only used with AI (02), not with AI (01)"
            }
            PairingRule::CountWithoutContent => {
                "AI (37) is only used together with AI (02), which is missing"
            }
            PairingRule::ContentWithoutCount => {
                "AI (02) needs AI (37) with the number of trade items contained"
            }
            PairingRule::GtinAndContent => "AI (01) and AI (02) cannot both appear in one scan",
        })
    }
}

fn unit(numeric: bool, n: usize) -> &'static str {
    match (numeric, n == 1) {
        (true, true) => "digit",
        (true, false) => "digits",
        (false, true) => "character",
        (false, false) => "characters",
    }
}

fn amount(min: usize, exact: bool, numeric: bool) -> String {
    let u = unit(numeric, min);
    if exact {
        format!("{min} {u}")
    } else {
        format!("at least {min} {u}")
    }
}

fn hint_text(on: bool) -> &'static str {
    if on {
        " — is the scanner sending it as the separator?"
    } else {
        ""
    }
}

//! Allergens: the plant's list (the nine US major food allergens unless the plant sets its
//! own, e.g. the EU's fourteen) and sets over it. A set is a bit set over the list — bit n
//! is the list's n-th name — so a lot's allergens are one `u64` stored beside the lot,
//! and the union over a batch's inputs is a handful of ORs (docs/store.md, "Recipes and
//! allergens"). Because a set means nothing without its list, the list only ever grows:
//! names are appended, never removed or moved, once any set uses them.

use super::Invalid;
use serde::{Deserialize, Serialize};

/// The most allergens a plant's list holds: one bit each in a set.
pub const MAX_ALLERGENS: usize = 64;
/// One allergen's name.
pub const ALLERGEN_NAME_MAX: usize = 40;

/// The nine major food allergens of US law (FALCPA and the FASTER Act), in the order
/// FDA lists them.
pub const US_NINE: [&str; 9] = [
    "milk",
    "egg",
    "fish",
    "crustacean shellfish",
    "tree nuts",
    "peanuts",
    "wheat",
    "soybeans",
    "sesame",
];

/// The fourteen allergens of EU Regulation 1169/2011, Annex II.
pub const EU_FOURTEEN: [&str; 14] = [
    "cereals containing gluten",
    "crustaceans",
    "eggs",
    "fish",
    "peanuts",
    "soybeans",
    "milk",
    "nuts",
    "celery",
    "mustard",
    "sesame",
    "sulphites",
    "lupin",
    "molluscs",
];

/// One allergen's name as sent: plain text, bounded, no comma (lists are split on commas).
pub fn check_allergen_name(name: &str, field: &str) -> Result<(), Invalid> {
    super::check_text(name, field, ALLERGEN_NAME_MAX)?;
    if name.contains(',') {
        return Err(Invalid::new(
            field,
            format!(
                "{} has a comma; give each allergen as its own name",
                super::text::excerpt(name)
            ),
        ));
    }
    Ok(())
}

/// A set of allergens: bit n is the plant list's n-th name.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct AllergenSet(pub u64);

impl AllergenSet {
    pub const EMPTY: AllergenSet = AllergenSet(0);

    pub fn one(index: usize) -> AllergenSet {
        AllergenSet(if index < MAX_ALLERGENS { 1 << index } else { 0 })
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, index: usize) -> bool {
        index < MAX_ALLERGENS && self.0 & (1 << index) != 0
    }

    pub fn union(self, other: AllergenSet) -> AllergenSet {
        AllergenSet(self.0 | other.0)
    }

    /// What this set has that `other` has not.
    pub fn minus(self, other: AllergenSet) -> AllergenSet {
        AllergenSet(self.0 & !other.0)
    }

    pub fn intersect(self, other: AllergenSet) -> AllergenSet {
        AllergenSet(self.0 & other.0)
    }

    /// The list positions in the set, lowest first.
    pub fn indexes(self) -> impl Iterator<Item = usize> {
        (0..MAX_ALLERGENS).filter(move |&i| self.contains(i))
    }
}

impl std::ops::BitOr for AllergenSet {
    type Output = AllergenSet;
    fn bitor(self, o: AllergenSet) -> AllergenSet {
        self.union(o)
    }
}

/// The plant's allergen list: names by position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllergenList {
    pub names: Vec<String>,
}

impl Default for AllergenList {
    fn default() -> AllergenList {
        AllergenList::of(&US_NINE)
    }
}

impl AllergenList {
    pub fn of(names: &[&str]) -> AllergenList {
        AllergenList {
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// Every name on the list.
    pub fn all(&self) -> AllergenSet {
        AllergenSet(match self.names.len() {
            0 => 0,
            n if n >= MAX_ALLERGENS => u64::MAX,
            n => (1u64 << n) - 1,
        })
    }

    /// A list as given: names plain, lower case, distinct, at most [`MAX_ALLERGENS`].
    pub fn parse(names: &[String], field: &str) -> Result<AllergenList, Invalid> {
        if names.is_empty() {
            return Err(Invalid::new(field, "name at least one allergen"));
        }
        if names.len() > MAX_ALLERGENS {
            return Err(Invalid::new(
                field,
                format!(
                    "{} allergens is more than a plant's list holds ({MAX_ALLERGENS})",
                    names.len()
                ),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(names.len());
        for n in names {
            let n = super::required_text(n, field, ALLERGEN_NAME_MAX)?.to_lowercase();
            if n.contains(',') {
                return Err(Invalid::new(
                    field,
                    format!("{n} has a comma; give each allergen as its own name"),
                ));
            }
            if out.contains(&n) {
                return Err(Invalid::new(field, format!("{n} is listed twice")));
            }
            out.push(n);
        }
        Ok(AllergenList { names: out })
    }

    /// The position of an allergen as a person types it: its name in any case, a unique
    /// beginning of it ("soy", "crustacean"), or either without a plural "s" ("eggs",
    /// "peanut").
    pub fn index(&self, typed: &str, field: &str) -> Result<usize, Invalid> {
        let t = typed.trim().to_lowercase();
        if t.is_empty() {
            return Err(Invalid::new(field, "an allergen name is empty"));
        }
        let find = |t: &str| -> Option<usize> {
            if let Some(i) = self.names.iter().position(|n| n == t) {
                return Some(i);
            }
            let starts: Vec<usize> = (0..self.names.len())
                .filter(|&i| self.names[i].starts_with(t))
                .collect();
            (starts.len() == 1).then(|| starts[0])
        };
        find(&t)
            .or_else(|| t.strip_suffix('s').and_then(find))
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!(
                        "{} is not on this plant's allergen list; the list: {}",
                        super::text::excerpt(typed),
                        self.names.join(", ")
                    ),
                )
            })
    }

    /// A set from names as typed, comma-separated or one per entry; "none" or nothing is
    /// the empty set.
    pub fn parse_set<S: AsRef<str>>(
        &self,
        typed: &[S],
        field: &str,
    ) -> Result<AllergenSet, Invalid> {
        let mut set = AllergenSet::EMPTY;
        for entry in typed {
            for name in entry.as_ref().split(',') {
                let name = name.trim();
                if name.is_empty() || name.eq_ignore_ascii_case("none") {
                    continue;
                }
                set = set | AllergenSet::one(self.index(name, field)?);
            }
        }
        Ok(set)
    }

    /// The name at `index`, or a placeholder a damaged set would show.
    pub fn name(&self, index: usize) -> String {
        self.names
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("allergen #{}", index + 1))
    }

    /// The set's names, in list order: "milk, egg, wheat".
    pub fn names_of(&self, set: AllergenSet) -> Vec<String> {
        set.indexes().map(|i| self.name(i)).collect()
    }

    /// The set as a label prints it: "Milk, Egg, Wheat"; "" for none.
    pub fn label(&self, set: AllergenSet) -> String {
        self.names_of(set)
            .iter()
            .map(|n| capitalized(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// May `new` replace this list while sets in the file use `used`? Names may be added at
    /// the end; a used name may not move or go, since stored sets name it by position.
    pub fn check_replacement(
        &self,
        new: &AllergenList,
        used: AllergenSet,
        field: &str,
    ) -> Result<(), Invalid> {
        for i in used.indexes() {
            let old = self.name(i);
            if new.names.get(i) != Some(&old) {
                return Err(Invalid::new(
                    field,
                    format!(
                        "{old} is in use (items declare it or lots carry it) and must stay at place {} of the list; add new names at the end",
                        i + 1
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_as_people_type_them() {
        let l = AllergenList::default();
        for (typed, name) in [
            ("peanut", "peanuts"),
            ("Peanuts", "peanuts"),
            ("eggs", "egg"),
            ("soy", "soybeans"),
            ("crustacean", "crustacean shellfish"),
            ("tree nut", "tree nuts"),
            ("WHEAT", "wheat"),
        ] {
            assert_eq!(l.name(l.index(typed, "a").unwrap()), name, "{typed}");
        }
        let e = l.index("lupin", "allergen").unwrap_err();
        assert!(e.problem.contains("not on this plant's allergen list"));
        assert!(e.problem.contains("sesame"));
    }

    #[test]
    fn sets_print_in_list_order() {
        let l = AllergenList::default();
        let s = l.parse_set(&["wheat, egg", "milk"], "a").unwrap();
        assert_eq!(l.label(s), "Milk, Egg, Wheat");
        assert_eq!(l.names_of(s), ["milk", "egg", "wheat"]);
        assert!(l.parse_set(&["none"], "a").unwrap().is_empty());
        assert_eq!(s.minus(AllergenSet::one(0)).indexes().count(), 2);
        assert_eq!(l.all().indexes().count(), 9);
    }

    #[test]
    fn a_list_in_use_only_grows() {
        let l = AllergenList::default();
        let used = l.parse_set(&["peanut"], "a").unwrap();
        let mut longer = l.clone();
        longer.names.push("mustard".into());
        assert!(l.check_replacement(&longer, used, "allergens").is_ok());
        let eu = AllergenList::of(&EU_FOURTEEN);
        let e = l.check_replacement(&eu, used, "allergens").unwrap_err();
        assert!(e.problem.contains("peanuts is in use"), "{}", e.problem);
        assert!(l.check_replacement(&eu, AllergenSet::EMPTY, "a").is_ok());
    }

    #[test]
    fn lists_are_checked() {
        let twice = vec!["milk".to_string(), "Milk".to_string()];
        assert!(
            AllergenList::parse(&twice, "allergens")
                .unwrap_err()
                .problem
                .contains("twice")
        );
        let many: Vec<String> = (0..65).map(|i| format!("a{i}")).collect();
        assert!(AllergenList::parse(&many, "allergens").is_err());
        assert!(AllergenList::parse(&[], "allergens").is_err());
    }
}

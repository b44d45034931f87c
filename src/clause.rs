//! Clauses: what a suite certifies, one stable id each, at one of three
//! levels.
//!
//! - **documented**: the API's documentation states it; a server that
//!   breaks it is not conformant and the run fails;
//! - **assumption**: a guess where the documentation is silent; a server
//!   that differs *deviates*, which every report names and which fails the
//!   run only under `--assumptions strict`;
//! - **precondition**: what the tenant or the timing must provide for other
//!   clauses (its `guards`) to be exercised at all; when it is not met,
//!   those clauses are *inconclusive*, never failed.
//!
//! A suite declares its registry under `clauses:` in `conform.yaml`;
//! scenarios, steps and expectations name the clause they check, and the
//! contract attaches clauses to responses and schema nodes with
//! `x-clause`. A check that names no clause counts as documented.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How much a clause binds a server.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Stated by the documentation: breaking it fails the run.
    #[default]
    Documented,
    /// A guess where the documentation is silent: differing is a deviation.
    Assumption,
    /// What the tenant or the timing must provide: unmet, the clauses it
    /// guards are inconclusive.
    Precondition,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Documented => "documented",
            Level::Assumption => "assumption",
            Level::Precondition => "precondition",
        }
    }

    /// Whether `self` is the level of documented clauses (the default).
    pub fn is_documented(&self) -> bool {
        *self == Level::Documented
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether deviations from assumptions fail the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Assumptions {
    /// Deviations are reported and the run passes (the default): for
    /// certifying a server whose owner made other, legitimate choices.
    #[default]
    Lenient,
    /// Deviations fail the run: for a gate on your own deployment, where
    /// your assumptions are your contract.
    Strict,
}

impl std::str::FromStr for Assumptions {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lenient" => Ok(Assumptions::Lenient),
            "strict" => Ok(Assumptions::Strict),
            _ => Err(format!("`{s}`: expected `lenient` or `strict`")),
        }
    }
}

/// One clause of a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clause {
    /// Stable id (`D2`, `A4`, `P1`), used in every report.
    pub id: Arc<str>,
    pub level: Level,
    /// One line.
    pub statement: String,
    /// Where the clause comes from (a documentation page, a convention).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// For a precondition: the clauses that are inconclusive when it is not met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<Arc<str>>,
}

/// A clause as a check names it: its id and its level, resolved when the
/// suite is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseRef {
    pub id: Arc<str>,
    pub level: Level,
}

/// A suite's clauses, in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Clause>", into = "Vec<Clause>")]
pub struct Registry {
    clauses: Vec<Clause>,
    index: HashMap<Arc<str>, usize>,
}

impl From<Vec<Clause>> for Registry {
    fn from(clauses: Vec<Clause>) -> Self {
        Registry::new(clauses)
    }
}

impl From<Registry> for Vec<Clause> {
    fn from(r: Registry) -> Self {
        r.clauses
    }
}

impl Registry {
    /// A registry of `clauses` (ids are assumed unique; a later duplicate
    /// is not found by id).
    pub fn new(clauses: Vec<Clause>) -> Registry {
        let mut index = HashMap::with_capacity(clauses.len());
        for (i, c) in clauses.iter().enumerate() {
            index.entry(c.id.clone()).or_insert(i);
        }
        Registry { clauses, index }
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// In the order written.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    pub fn get(&self, id: &str) -> Option<&Clause> {
        self.index.get(id).and_then(|&i| self.clauses.get(i))
    }

    /// Where the clause `id` is written in the registry.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The clause `id` as a check names it; `None` when the registry has no
    /// such clause.
    pub fn resolve(&self, id: &str) -> Option<ClauseRef> {
        self.get(id).map(|c| ClauseRef {
            id: c.id.clone(),
            level: c.level,
        })
    }

    /// The level of the clause `id`: documented when there is none (a check
    /// naming no clause counts as documented).
    pub fn level(&self, id: Option<&str>) -> Level {
        id.and_then(|id| self.get(id))
            .map_or(Level::Documented, |c| c.level)
    }

    /// The ids of the clauses of `level`, in the order written.
    pub fn ids(&self, level: Level) -> impl Iterator<Item = &Arc<str>> {
        self.clauses
            .iter()
            .filter(move |c| c.level == level)
            .map(|c| &c.id)
    }
}

/// `D1–D8` for a run of ids sharing a prefix and counting up by one,
/// `A4, A12` otherwise.
pub fn compact_ids<S: AsRef<str>>(ids: &[S]) -> String {
    fn split(id: &str) -> Option<(&str, u32)> {
        let digits = id.trim_start_matches(|c: char| !c.is_ascii_digit());
        let prefix = &id[..id.len() - digits.len()];
        digits.parse().ok().map(|n| (prefix, n))
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let first = ids[i].as_ref();
        let mut j = i;
        if let Some((prefix, n)) = split(first) {
            while j + 1 < ids.len()
                && split(ids[j + 1].as_ref())
                    == Some((prefix, n + u32::try_from(j + 1 - i).unwrap_or(u32::MAX)))
            {
                j += 1;
            }
        }
        match j - i {
            0 => out.push(first.to_owned()),
            1 => {
                out.push(first.to_owned());
                out.push(ids[j].as_ref().to_owned());
            }
            _ => out.push(format!("{first}–{}", ids[j].as_ref())),
        }
        i = j + 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(id: &str, level: Level) -> Clause {
        Clause {
            id: id.into(),
            level,
            statement: format!("statement of {id}"),
            source: None,
            guards: Vec::new(),
        }
    }

    #[test]
    fn lookup_and_levels() {
        let r = Registry::new(vec![
            clause("D1", Level::Documented),
            clause("A1", Level::Assumption),
            clause("P1", Level::Precondition),
        ]);
        assert_eq!(r.level(Some("A1")), Level::Assumption);
        assert_eq!(r.level(Some("nope")), Level::Documented);
        assert_eq!(r.level(None), Level::Documented);
        assert_eq!(r.resolve("P1").map(|c| c.level), Some(Level::Precondition));
        assert!(r.resolve("D9").is_none());
        let docs: Vec<&str> = r.ids(Level::Documented).map(|s| &**s).collect();
        assert_eq!(docs, ["D1"]);
        let json = serde_json::to_string(&r).unwrap();
        let back: Registry = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.get("A1").unwrap().statement, "statement of A1");
    }

    #[test]
    fn ids_are_compacted_into_ranges() {
        assert_eq!(
            compact_ids(&["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8"]),
            "D1–D8"
        );
        assert_eq!(compact_ids(&["A4", "A12"]), "A4, A12");
        assert_eq!(compact_ids(&["D2", "D3", "D5"]), "D2, D3, D5");
        assert_eq!(compact_ids(&["D2", "D3", "D4", "P1"]), "D2–D4, P1");
        assert_eq!(compact_ids(&["x", "y"]), "x, y");
        assert_eq!(compact_ids::<&str>(&[]), "");
    }
}

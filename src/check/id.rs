//! Check identity: every check has a stable snake_case name, the one failure
//! output, report.json, JUnit `type=` and the switches use.
//!
//! [`Check`] names any check; [`ContractCheck`] names the four contract
//! checks a suite or the command line turns on and off, and
//! [`ContractChecks`] is the set of them that runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A check, as failures name it. Its serde name is its [`Check::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    StatusCode,
    Header,
    EmptyBody,
    JsonPath,
    JsonBody,
    MaxDuration,
    Capture,
    Variable,
    PollTimeout,
    PollFailIf,
    PollStatus,
    Paginate,
    Transport,
    Template,
    Load,
    Operation,
    UndocumentedStatus,
    ContentType,
    ResponseSchema,
    UndocumentedProperty,
}

impl Check {
    /// Every check, in the order above.
    pub const ALL: [Check; 20] = [
        Check::StatusCode,
        Check::Header,
        Check::EmptyBody,
        Check::JsonPath,
        Check::JsonBody,
        Check::MaxDuration,
        Check::Capture,
        Check::Variable,
        Check::PollTimeout,
        Check::PollFailIf,
        Check::PollStatus,
        Check::Paginate,
        Check::Transport,
        Check::Template,
        Check::Load,
        Check::Operation,
        Check::UndocumentedStatus,
        Check::ContentType,
        Check::ResponseSchema,
        Check::UndocumentedProperty,
    ];

    /// The stable name (`status_code`, `empty_body`, `json_path`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Check::StatusCode => "status_code",
            Check::Header => "header",
            Check::EmptyBody => "empty_body",
            Check::JsonPath => "json_path",
            Check::JsonBody => "json_body",
            Check::MaxDuration => "max_duration",
            Check::Capture => "capture",
            Check::Variable => "variable",
            Check::PollTimeout => "poll_timeout",
            Check::PollFailIf => "poll_fail_if",
            Check::PollStatus => "poll_status",
            Check::Paginate => "paginate",
            Check::Transport => "transport",
            Check::Template => "template",
            Check::Load => "load",
            Check::Operation => "operation",
            Check::UndocumentedStatus => "undocumented_status",
            Check::ContentType => "content_type",
            Check::ResponseSchema => "response_schema",
            Check::UndocumentedProperty => "undocumented_property",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A contract check: one the suite's `checks: { skip: [...] }`, a step's
/// `checks: { skip: [...] }` and the command line's `--check` and
/// `--skip-check` switch on and off. Its names are those of [`Check`], and
/// [`ContractCheck::from_name`] reads them wherever they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractCheck {
    UndocumentedStatus,
    ContentType,
    ResponseSchema,
    UndocumentedProperty,
}

impl ContractCheck {
    /// Every contract check, in the order reports list them.
    pub const ALL: [ContractCheck; 4] = [
        ContractCheck::UndocumentedStatus,
        ContractCheck::ContentType,
        ContractCheck::ResponseSchema,
        ContractCheck::UndocumentedProperty,
    ];

    /// The stable name (`response_schema`, ...).
    pub fn name(self) -> &'static str {
        Check::from(self).name()
    }

    /// The contract check `name` names; else an error suggesting the
    /// closest name and listing them all. The one place a contract check's
    /// name is read: the command line and suite files alike.
    pub fn from_name(name: &str) -> Result<ContractCheck, UnknownContractCheck> {
        ContractCheck::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| UnknownContractCheck {
                name: name.to_owned(),
            })
    }

    /// Its place in [`ContractCheck::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl From<ContractCheck> for Check {
    fn from(c: ContractCheck) -> Check {
        match c {
            ContractCheck::UndocumentedStatus => Check::UndocumentedStatus,
            ContractCheck::ContentType => Check::ContentType,
            ContractCheck::ResponseSchema => Check::ResponseSchema,
            ContractCheck::UndocumentedProperty => Check::UndocumentedProperty,
        }
    }
}

impl fmt::Display for ContractCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ContractCheck {
    type Err = UnknownContractCheck;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContractCheck::from_name(s)
    }
}

/// A name that is no contract check's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown contract check `{name}`{hint}; the checks are {all}",
    hint = crate::diag::did_you_mean_hint(name, ContractCheck::ALL.map(ContractCheck::name)),
    all = ContractCheck::ALL.map(ContractCheck::name).join(", ")
)]
pub struct UnknownContractCheck {
    name: String,
}

/// Which contract checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractChecks {
    pub undocumented_status: bool,
    pub content_type: bool,
    pub response_schema: bool,
    pub undocumented_property: bool,
}

impl Default for ContractChecks {
    /// All but `undocumented_property` (strict mode).
    fn default() -> Self {
        ContractChecks {
            undocumented_status: true,
            content_type: true,
            response_schema: true,
            undocumented_property: false,
        }
    }
}

impl ContractChecks {
    /// None of them.
    const NONE: ContractChecks = ContractChecks {
        undocumented_status: false,
        content_type: false,
        response_schema: false,
        undocumented_property: false,
    };

    /// `only` (when not empty) names the checks to run; `skip` turns checks
    /// off; `strict` turns `undocumented_property` on (unless skipped).
    pub fn resolve(only: &[ContractCheck], skip: &[ContractCheck], strict: bool) -> ContractChecks {
        let default = ContractChecks {
            undocumented_property: strict,
            ..ContractChecks::default()
        };
        let mut out = ContractChecks::NONE;
        for check in ContractCheck::ALL {
            let wanted = if only.is_empty() {
                default.runs(check)
            } else {
                // `strict` asks for it even next to `--check` names.
                only.contains(&check) || (strict && check == ContractCheck::UndocumentedProperty)
            };
            out.set(check, wanted && !skip.contains(&check));
        }
        out
    }

    /// These checks, with `skip` turned off.
    pub fn without(mut self, skip: &[ContractCheck]) -> ContractChecks {
        for check in skip {
            self.set(*check, false);
        }
        self
    }

    /// Whether `check` runs.
    pub fn runs(&self, check: ContractCheck) -> bool {
        match check {
            ContractCheck::UndocumentedStatus => self.undocumented_status,
            ContractCheck::ContentType => self.content_type,
            ContractCheck::ResponseSchema => self.response_schema,
            ContractCheck::UndocumentedProperty => self.undocumented_property,
        }
    }

    fn set(&mut self, check: ContractCheck, on: bool) {
        let slot = match check {
            ContractCheck::UndocumentedStatus => &mut self.undocumented_status,
            ContractCheck::ContentType => &mut self.content_type,
            ContractCheck::ResponseSchema => &mut self.response_schema,
            ContractCheck::UndocumentedProperty => &mut self.undocumented_property,
        };
        *slot = on;
    }

    pub fn any(&self) -> bool {
        ContractCheck::ALL.into_iter().any(|c| self.runs(c))
    }

    /// The checks that run, in [`ContractCheck::ALL`] order.
    pub fn running(&self) -> Vec<ContractCheck> {
        ContractCheck::ALL
            .into_iter()
            .filter(|c| self.runs(*c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for check in Check::ALL {
            assert_eq!(
                serde_json::to_value(check).unwrap(),
                serde_json::Value::from(check.name())
            );
            assert_eq!(check.to_string(), check.name());
            let back: Check = serde_json::from_value(check.name().into()).unwrap();
            assert_eq!(back, check);
            assert!(seen.insert(check.name()), "{check} twice");
        }
        for check in ContractCheck::ALL {
            assert_eq!(
                serde_json::to_value(check).unwrap(),
                serde_json::to_value(Check::from(check)).unwrap()
            );
            assert_eq!(check.to_string(), check.name());
            assert_eq!(ContractCheck::from_name(check.name()), Ok(check));
            assert_eq!(ContractCheck::ALL[check.index()], check);
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_a_suggestion() {
        let e = ContractCheck::from_name("respons_schema").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown contract check `respons_schema` (did you mean `response_schema`?); \
             the checks are undocumented_status, content_type, response_schema, undocumented_property"
        );
        let e = "status_code".parse::<ContractCheck>().unwrap_err();
        assert!(!e.to_string().contains("did you mean"), "{e}");
    }

    #[test]
    fn switches_combine_as_documented() {
        use ContractCheck::*;
        let d = ContractChecks::resolve(&[], &[], false);
        assert_eq!(d, ContractChecks::default());
        let strict = ContractChecks::resolve(&[], &[], true);
        assert!(strict.undocumented_property && strict.response_schema);
        let skipped = ContractChecks::resolve(&[], &[ContentType], false);
        assert!(!skipped.content_type && skipped.response_schema);
        let only = ContractChecks::resolve(&[ResponseSchema], &[], false);
        assert_eq!(only.running(), [ResponseSchema]);
        let only_strict = ContractChecks::resolve(&[UndocumentedProperty], &[], false);
        assert_eq!(only_strict.running(), [UndocumentedProperty]);
        let strict_and_only = ContractChecks::resolve(&[ContentType], &[], true);
        assert_eq!(
            strict_and_only.running(),
            [ContentType, UndocumentedProperty]
        );
        let strict_but_skipped = ContractChecks::resolve(&[], &[UndocumentedProperty], true);
        assert_eq!(strict_but_skipped, ContractChecks::default());
        assert!(!ContractChecks::resolve(&[ResponseSchema], &[ResponseSchema], false).any());
        assert_eq!(
            ContractChecks::default().without(&[UndocumentedStatus, UndocumentedProperty]),
            ContractChecks::resolve(&[ContentType, ResponseSchema], &[], false)
        );
    }
}

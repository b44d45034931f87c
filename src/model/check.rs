//! Check identity: every check has a stable snake_case name, the one
//! failure output, report.json, JUnit `type=` and the switches use.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::contract::ContractCheck;

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
}

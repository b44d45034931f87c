//! `variable`: a `check` step's matchers on variables (collected pages, captures).

use crate::case::VarCheck;
use crate::jsonpath::Actual;
use crate::model::Failure;
use crate::template::Vars;

use super::Check;

pub fn check(checks: &[VarCheck], vars: &Vars) -> Vec<Failure> {
    let mut out = Vec::new();
    for c in checks {
        if let Err(m) = c.matcher.check(&Actual::of(vars.get(&c.var)), vars) {
            out.push(
                Failure::assertion(
                    Check::Variable,
                    &c.location,
                    format!("variable `{}`: {m}", c.var),
                )
                .expected_actual(m.expected, m.actual),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceLocation;
    use crate::matcher::Matcher;
    use serde_json::json;

    #[test]
    fn matchers_apply_to_variables() {
        let mut vars = Vars::default();
        vars.set("ids", json!(["a", "b", "a"]));
        vars.set("total", json!(3));
        let c = |m| VarCheck {
            var: "ids".into(),
            matcher: Matcher::parse(&m).unwrap(),
            location: SourceLocation::new("a.yaml", 1, 1),
        };
        assert!(check(&[c(json!({"length": "{{ total }}"}))], &vars).is_empty());
        let f = check(&[c(json!({"unique": true}))], &vars);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.starts_with("variable `ids`"),
            "{}",
            f[0].message
        );
    }
}

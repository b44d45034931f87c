//! Which scenarios a run selects: tags, the partition, and libtest's name
//! filters (replicated here only to know which ignored scenarios to report
//! as skipped; libtest-mimic itself decides what runs).

use libtest_mimic::Arguments;

use crate::case::Scenario;

use super::options::RunOptions;

/// Whether libtest's filters select a test name (as libtest-mimic decides).
pub fn filters_select(args: &Arguments, name: &str) -> bool {
    let hit = |pat: &str| {
        if args.exact {
            name == pat
        } else {
            name.contains(pat)
        }
    };
    args.filter.as_deref().is_none_or(hit) && !args.skip.iter().any(|s| hit(s))
}

/// Tags and partition.
pub fn selected(opts: &RunOptions, sc: &Scenario) -> bool {
    let tagged = opts.tags.is_empty() || sc.tags.iter().any(|t| opts.tags.contains(t));
    let excluded = sc.tags.iter().any(|t| opts.skip_tags.contains(t));
    tagged && !excluded && opts.partition.is_none_or(|p| p.contains(&sc.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_libtest() {
        let args = Arguments {
            filter: Some("cancel".into()),
            skip: vec!["idem".into()],
            ..Default::default()
        };
        assert!(filters_select(&args, "01_cancel::x"));
        assert!(!filters_select(&args, "18_cancel_is_idempotent::x"));
        assert!(!filters_select(&args, "02_create::x"));
        let exact = Arguments {
            filter: Some("a::b".into()),
            exact: true,
            ..Default::default()
        };
        assert!(filters_select(&exact, "a::b"));
        assert!(!filters_select(&exact, "a::bc"));
    }
}

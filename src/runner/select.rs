//! Which scenarios a run selects: tags and the partition. libtest's name
//! filters and `--ignored` are libtest-mimic's own verdicts on each trial
//! (see the harness).

use crate::case::Scenario;

use super::options::Selection;

/// Tags and partition.
pub fn selected(opts: &Selection, sc: &Scenario) -> bool {
    let tagged = opts.tags.is_empty() || sc.tags.iter().any(|t| opts.tags.contains(t));
    let excluded = sc.tags.iter().any(|t| opts.skip_tags.contains(t));
    tagged && !excluded && opts.partition.is_none_or(|p| p.contains(&sc.id))
}

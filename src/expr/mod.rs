//! The value language of case files, knowing nothing of cases: templates
//! (`{{ var }}`, `{{ env.NAME }}`), RFC 9535 JSONPath, matchers, and the
//! interner that shares compiled paths and matchers across a suite.

pub mod intern;
pub mod jsonpath;
pub mod matcher;
pub mod template;

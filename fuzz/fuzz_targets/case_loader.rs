//! Arbitrary bytes as a scenario file next to a fixed `conform.yaml`, and as
//! `conform.yaml` next to a fixed scenario, loaded by `load_suite` from a
//! folder in the temporary directory (one per fuzzing process). Loading must
//! end in a suite or located diagnostics, never a panic; the diagnostics are
//! rendered too (excerpts with carets at arbitrary lines and columns), and
//! every plan is compiled again as a run would (`Suite::plan`).
#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use conform::case::{Action, BodyPlan, Diagnostics, Suite, load_suite, missing_env};
use conform::expr::template::Vars;
use libfuzzer_sys::fuzz_target;

const SUITE: &str = "name: fuzz\nvars:\n  node_type: OktaUser\n  token: \"{{ env.TOKEN }}\"\n";

const SCENARIO: &str = r#"name: fixed scenario
tags: [a]
steps:
  - name: create
    request:
      method: POST
      path: /q/{{ node_type }}
      json: { t: "{{ node_type }}", n: [1, "{{ token }}"] }
    expect:
      status: 200
      json:
        $.values: { length: { lte: 50 } }
    capture:
      id: $.id
  - name: check
    check:
      id: { matches: "^q-", type: string }
"#;

/// Two suite folders: `a` for a fuzzed scenario, `b` for a fuzzed suite file.
fn dirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("conform-fuzz-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).expect("temporary folder");
        }
        std::fs::write(a.join("conform.yaml"), SUITE).expect("write");
        std::fs::write(b.join("01_fixed.yaml"), SCENARIO).expect("write");
        (a, b)
    })
}

fn exercise(result: Result<Suite, Diagnostics>) {
    match result {
        Err(d) => {
            let _ = d.render();
        }
        Ok(suite) => {
            let _ = missing_env(&suite, &BTreeMap::new()).render();
            let vars = Vars::default();
            for (_, v) in &suite.vars {
                let _ = v.render(&vars);
            }
            for sc in &suite.scenarios {
                let Ok(sc) = suite.plan(sc) else { continue };
                for step in sc.steps.iter().chain(&sc.finally) {
                    if let Action::Request(r) = &step.action {
                        let _ = r.request.path.render_string(&vars);
                        for q in &r.request.query {
                            let _ = q.value.render(&vars);
                        }
                        let pairs = r.request.query.iter().map(|q| (q.name.as_str(), &q.value));
                        let _ = conform::http::target::query(pairs, &vars, None);
                        match &r.request.body {
                            BodyPlan::Json(t) => {
                                let _ = t.render(&vars);
                            }
                            BodyPlan::Raw(t) => {
                                let _ = t.render_string(&vars);
                            }
                            BodyPlan::None => {}
                        }
                    }
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // `load_suite` reads files as UTF-8 and reports other bytes as unreadable.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = dirs();
    std::fs::write(a.join("01_fuzz.yaml"), text).expect("write");
    exercise(load_suite(a));
    std::fs::write(b.join("conform.yaml"), text).expect("write");
    exercise(load_suite(b));
});

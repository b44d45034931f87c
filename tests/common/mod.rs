//! Helpers shared by the test binaries (each includes this module with
//! `mod common;` and uses what it needs).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Every file under `dir`, in any depth.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

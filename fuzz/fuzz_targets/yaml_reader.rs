//! Arbitrary text read by the reader of common YAML shapes and by
//! serde-saphyr, as any YAML value, as a scenario file, as `conform.yaml`
//! and as a contract: whenever the fast reader gives an answer, serde-saphyr
//! must give the same one, every node at the same line and column
//! (`conform::inputs::yaml_readers_agree`). A difference is a crash: a case
//! file or a contract read otherwise than its author wrote it would be run
//! or checked as something else.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // serde-saphyr's recursion over a deeply nested input needs more stack
    // than libFuzzer's thread has under AddressSanitizer.
    let text = text.to_owned();
    let checked = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || conform::inputs::yaml_readers_agree(&text))
        .expect("a thread")
        .join()
        .expect("no panic");
    if let Err(why) = checked {
        panic!("{why}");
    }
});

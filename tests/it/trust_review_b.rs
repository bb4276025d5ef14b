//! Review of issue 8 items 13–26 through the binary: defects found by trying each item's scenario
//! as a new user would, one test per defect class.

use crate::harness::Env;

/// A command's own long help (the audit log's limits) survives the examples appended to it.
#[test]
fn long_help_keeps_the_commands_own_text_beside_its_examples() {
    let env = Env::empty();
    let r = env.run(&["audit", "--help"]);
    r.ok();
    // clap wraps the text at the terminal width.
    let text = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("recompute the hash chain"),
        "audit --help lost what a file's writer can still do:\n{}",
        r.stdout
    );
    assert!(r.stdout.contains("crm audit --head"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("Examples:").count(), 1, "{}", r.stdout);
}

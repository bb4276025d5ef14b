//! The core through the binary: init, login, records, find, errors.

use crate::harness::Env;

#[test]
fn add_find_show_customer() {
    let env = Env::new();
    let id = env.add(
        "customer",
        &[
            "--name",
            "深圳市腾达科技有限公司",
            "--level",
            "A",
            "--phone",
            "0755-12345678",
        ],
    );
    let found = env
        .run(&["find", "customer", "科技", "--format", "json"])
        .ok()
        .json();
    assert_eq!(found[0]["id"], id);
    assert_eq!(found[0]["phone"], "0755-12345678");
    let shown = env
        .run(&["show", "customer", &id.to_string(), "--format", "json"])
        .ok()
        .json();
    assert_eq!(shown["name"], "深圳市腾达科技有限公司");
}

//! A new user's terminal, through a real pty: a new password is checked and asked again,
//! Ctrl-C at a select list gives the cursor back, `-` clears a field in the edit walk,
//! `delete` names what it asks about, and tables fit a narrow terminal.

use unicode_width::UnicodeWidthStr;

use crate::core_prompts::{CUSTOMER_LABELS, ENTER, Pty};
use crate::harness::{Env, PW};

#[test]
fn a_new_password_is_checked_and_asked_again() {
    let env = Env::new();
    let mut p = Pty::spawn(&env, &["user", "add", "ann", "--role", "sales"]);
    p.wait("Password for ann");
    p.send("short\r");
    p.wait("too short (at least 8 characters); try again");
    p.wait("Password for ann");
    p.send(&format!("{PW}\r"));
    p.wait("Repeat it");
    p.send("not the same one\r");
    p.wait("do not match; try again");
    p.wait("Password for ann");
    p.send(&format!("{PW}\r"));
    p.wait("Repeat it");
    p.send(&format!("{PW}\r"));
    p.wait("added user ann");
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains(PW), "never echoed: {screen}");
    assert!(
        !env.token("ann").is_empty(),
        "the third try's password works"
    );
}

#[test]
fn ctrl_c_at_a_select_list_gives_the_cursor_back() {
    let env = Env::new();
    // A shell that survives the Ctrl-C holds the pty open until crm's last byte is read.
    let bin = Env::bin();
    let mut p = Pty::spawn_prog(
        &env,
        "sh".as_ref(),
        &[
            "-c",
            "trap : INT; \"$CRM\" add customer; echo \"exit=$?\"; read x",
        ],
        &[("CRM", bin.to_str().unwrap()), ("NO_COLOR", "1")],
    );
    p.wait("客户名称");
    p.send("半途而废\r");
    p.wait("客户类型");
    // The choices line up whatever the value's length.
    p.wait("company  企业");
    p.wait("person   个人");
    p.send("\x03");
    p.wait("exit=130");
    p.send(ENTER);
    let (_, screen) = p.finish();
    let hidden = screen
        .rfind("\x1b[?25l")
        .expect("the select list hid the cursor");
    assert!(
        screen[hidden..].contains("\x1b[?25h"),
        "the cursor is shown again: {screen:?}"
    );
    assert!(screen.contains("nothing was saved"), "{screen}");
    assert_eq!(env.count("customer"), 0);
}

#[test]
fn a_dash_clears_a_field_in_the_edit_walk() {
    let env = Env::new();
    let id = env
        .add(
            "customer",
            &["--name", "Acme", "--city", "深圳", "--source", "展会"],
        )
        .to_string();
    let mut p = Pty::spawn(&env, &["edit", "customer", &id]);
    p.wait("Enter keeps the value in [brackets], - clears it");
    for label in CUSTOMER_LABELS {
        p.wait(label);
        p.send(if label == "客户来源" {
            "-\r"
        } else {
            ENTER
        });
    }
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    let j = env
        .run(&["show", "customer", &id, "--format", "json"])
        .ok()
        .json();
    assert_eq!(j["source"], serde_json::Value::Null, "cleared");
    assert_eq!(j["city"], "深圳", "kept");
}

#[test]
fn delete_names_the_records_it_asks_about() {
    let env = Env::new();
    let a = env.add("customer", &["--name", "甲公司"]).to_string();
    let b = env.add("customer", &["--name", "乙公司"]).to_string();
    let mut p = Pty::spawn(&env, &["delete", "customer", &a]);
    p.wait(&format!("Delete customer {a} C000001 甲公司?"));
    p.send("n");
    p.wait("nothing was deleted");
    let (code, _) = p.finish();
    assert_eq!(code, 2);
    let mut p = Pty::spawn(&env, &["delete", "customer", &a, &b]);
    p.wait("C000001 甲公司");
    p.wait("C000002 乙公司");
    p.wait("Delete these 2 records?");
    p.send("y");
    let (code, screen) = p.finish();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(env.count("customer"), 0);
}

/// `crm ARGS` on a terminal `cols` wide: (the screen, the table lines).
fn at_width(env: &Env, cols: u16, args: &str) -> (String, Vec<String>) {
    let screen = Pty::screen_at(env, cols, args);
    let lines = screen
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| l.starts_with(['┌', '│', '╞', '└']))
        .collect();
    (screen, lines)
}

#[test]
fn tables_fit_a_narrow_terminal() {
    let env = Env::new();
    for (name, email) in [
        (
            "深圳前海微众科技有限公司",
            "contact@qianhai-tech.example.cn",
        ),
        ("杭州云栖数据科技有限公司", "sales@yunqi-data.example.cn"),
    ] {
        env.add(
            "customer",
            &[
                "--name",
                name,
                "--email",
                email,
                "--industry",
                "金融科技",
                "--level",
                "A",
                "--city",
                "深圳",
                "--phone",
                "0755-86013388",
                "--tags",
                "重点;金融",
            ],
        );
    }
    let (screen, lines) = at_width(&env, 80, "find customer");
    assert!(!lines.is_empty(), "{screen}");
    for l in &lines {
        assert!(l.width() <= 80, "wider than the terminal: {l}\n{screen}");
    }
    assert!(screen.contains("not shown for lack of width"), "{screen}");
    let header = &lines[1];
    for kept in ["code", "name", "level", "status", "owner"] {
        assert!(header.contains(kept), "{kept} kept: {header}");
    }
    assert!(
        !header.contains("industry"),
        "secondary fields go first: {header}"
    );
    // One row per record: nothing wrapped into slivers.
    assert_eq!(lines.len(), 6, "{screen}");

    // Columns the user named are all shown; a wide terminal shows every column.
    let (screen, lines) = at_width(&env, 80, "find customer --columns code,email,industry,tags");
    assert!(!screen.contains("not shown"), "{screen}");
    assert!(
        lines[1].contains("industry") && lines[1].contains("tags"),
        "{screen}"
    );
    let (screen, lines) = at_width(&env, 220, "find customer");
    assert!(!screen.contains("not shown"), "{screen}");
    assert!(
        lines[1].contains("email") && lines[1].contains("industry"),
        "{screen}"
    );
    // Date-times in a table read to the minute.
    let (screen, _) = at_width(&env, 120, "show customer C000001");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("created_at") && l.contains(" 20") && !l.contains('T')),
        "{screen}"
    );
}

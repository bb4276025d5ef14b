//! `SQLite`'s migrations: one frozen SQL file per step, in order; a database's
//! `user_version` counts how many ran. Add a step by adding a file: never edit one that
//! shipped, since files made by earlier builds ran it as it was.

/// The steps, in order.
pub(super) const STEPS: &[&str] = &[
    include_str!("sqlite/v1.sql"),
    include_str!("sqlite/v2.sql"),
    include_str!("sqlite/v3.sql"),
    include_str!("sqlite/v4.sql"),
    include_str!("sqlite/v5.sql"),
    include_str!("sqlite/v6.sql"),
    include_str!("sqlite/v7.sql"),
    include_str!("sqlite/v8.sql"),
    include_str!("sqlite/v9.sql"),
    include_str!("sqlite/v10.sql"),
    include_str!("sqlite/v11.sql"),
    include_str!("sqlite/v12.sql"),
    include_str!("sqlite/v13.sql"),
    include_str!("sqlite/v14.sql"),
    include_str!("sqlite/v15.sql"),
];

/// The step that makes the tokens for automation (`crm token`, `db::tokens`): named once,
/// for the tests and for renumbering when steps are merged.
#[cfg_attr(not(test), allow(dead_code))]
pub const TOKENS_STEP: i64 = 13;

//! Real examples at the end of each command's long help (`crm find --help`), as gh and sf show
//! them. They are kept in one table so a test can run every one of them on the demo database
//! and they cannot rot.

use clap::Command;

/// One example: what it does, and the command line (a shell line starting with `crm`).
pub struct Example {
    pub what: &'static str,
    pub line: &'static str,
}

const fn ex(what: &'static str, line: &'static str) -> Example {
    Example { what, line }
}

/// Examples per command path (`"user add"` is the `add` subcommand of `user`).
pub const EXAMPLES: &[(&str, &[Example])] = &[
    (
        "demo",
        &[ex(
            "Build ./crm-demo.db with sample data and log in as its admin",
            "crm demo",
        )],
    ),
    (
        "init",
        &[
            ex(
                "Create a new database, reading the admin password from a file",
                "crm init --db team.db --admin boss --password-stdin < boss-password.txt",
            ),
            ex(
                "Create an encrypted database, its key in a file only you can read (chmod 600)",
                "crm init --db secret.db --encrypt --key-file db-key.txt --password-stdin < boss-password.txt",
            ),
        ],
    ),
    (
        "login",
        &[
            ex(
                "Log in as li.lei, reading the password from a file",
                "crm login --user li.lei --password-stdin < li-password.txt",
            ),
            ex(
                "Log in from a script for one hour",
                "crm login --user admin --password-stdin --ttl 1h < admin-password.txt",
            ),
        ],
    ),
    ("logout", &[ex("End this database's session", "crm logout")]),
    (
        "whoami",
        &[ex(
            "Who is logged in, as JSON (with when the session or token expires)",
            "crm whoami --format json",
        )],
    ),
    (
        "user",
        &[
            ex("Every user and role", "crm user list"),
            ex(
                "Add a service agent, password from a file",
                "crm user add zhao.min --role service --password-stdin < zhang-password.txt",
            ),
        ],
    ),
    (
        "user add",
        &[ex(
            "Add a salesperson, password from a file (scripts)",
            "crm user add zhang.san --role sales --password-stdin < zhang-password.txt",
        )],
    ),
    (
        "user list",
        &[ex("All users as CSV", "crm user list --format csv")],
    ),
    (
        "user edit",
        &[
            ex(
                "Make a user a manager",
                "crm user edit li.lei --role manager",
            ),
            ex(
                "Disable an account (its sessions end at once)",
                "crm user edit li.lei --disable",
            ),
        ],
    ),
    (
        "user passwd",
        &[
            ex(
                "Change your own password: first line the current one, second the new one",
                "crm user passwd --password-stdin < old-and-new-password.txt",
            ),
            ex(
                "As admin, reset another user's password",
                "crm user passwd li.lei --password-stdin < li-password.txt",
            ),
        ],
    ),
    (
        "token",
        &[
            ex(
                "A read-only token for a nightly export, valid 30 days, kept in a private file",
                "(umask 077; crm token create nightly --role viewer --ttl 30d > nightly.token)",
            ),
            ex(
                "A script acting by a token (never pass it as a flag)",
                "export CRM_TOKEN=$(crm token create ci --role viewer) && crm whoami",
            ),
        ],
    ),
    (
        "token create",
        &[ex(
            "A token acting as li.lei, with a salesperson's rights on li.lei's records",
            "crm token create li-sync --role sales --user li.lei --ttl 90d > li-sync.token",
        )],
    ),
    (
        "token list",
        &[ex(
            "Every token: role, owner, expiry, last use (never a secret)",
            "crm token list --format json",
        )],
    ),
    (
        "token revoke",
        &[ex(
            "Revoke a token: it stops working at once",
            "crm token create old-bot --role viewer > /dev/null && crm token revoke old-bot",
        )],
    ),
    (
        "add",
        &[
            ex(
                "Add a customer",
                "crm add customer --name '上海星辰贸易有限公司' --level B --city 上海",
            ),
            ex(
                "Add a contact to customer C000001, printing only the new id",
                "crm add contact --customer C000001 --name 王芳 --mobile 13800138000 -q",
            ),
        ],
    ),
    (
        "edit",
        &[
            ex(
                "Change two fields of customer C000001",
                "crm edit customer C000001 --level A --city 深圳",
            ),
            ex("Clear a field", "crm edit customer C000001 --unset notes"),
            ex(
                "Every customer in 深圳 to level A, tagged 华南 (one transaction, each audited)",
                "crm edit customer --where city=深圳 --set level=A --add-tag 华南 --yes",
            ),
        ],
    ),
    (
        "show",
        &[
            ex(
                "A customer with its contacts, deals and follow-ups",
                "crm show customer C000001",
            ),
            ex("The same as JSON", "crm show customer 1 --format json"),
        ],
    ),
    (
        "find",
        &[
            ex(
                "Customers whose text fields contain 科技",
                "crm find customer 科技",
            ),
            ex(
                "Level A customers in 深圳, newest first, as JSON",
                "crm find customer --where level=A --where city=深圳 --sort created_at:desc --format json",
            ),
            ex(
                "How many open tickets",
                "crm find ticket --where status=open --count",
            ),
            ex(
                "Contacts with their phones shown whole (roles in mask.reveal_roles; audited)",
                "crm find contact --reveal --columns name,phone,mobile,email",
            ),
        ],
    ),
    (
        "search",
        &[
            ex(
                "Everything that holds 张伟: customers, contacts, leads, deals, tickets …",
                "crm search 张伟",
            ),
            ex(
                "By pinyin initials, customers and contacts only",
                "crm search zw -e customer -e contact",
            ),
            ex(
                "A phone fragment, whatever the separators, as JSON",
                "crm search 13912345 --format json",
            ),
        ],
    ),
    (
        "dedupe",
        &[
            ex(
                "Likely duplicate customers by every rule",
                "crm dedupe customer",
            ),
            ex(
                "Similar names only, a lower threshold, one city, as JSON",
                "crm dedupe customer --rule similar --min-score 0.85 --where city=深圳 --format json",
            ),
            ex(
                "Contacts sharing a mobile",
                "crm dedupe contact --rule mobile",
            ),
        ],
    ),
    (
        "delete",
        &[ex(
            "Delete a record without asking (scripts)",
            "crm delete activity 1 --yes",
        )],
    ),
    (
        "merge",
        &[
            ex(
                "Show what merging customers 2 and 3 into 1 would do",
                "crm merge customer 1 2 3 --dry-run",
            ),
            ex(
                "Merge customer 2 into 1 without asking, taking 2's phone",
                "crm merge customer 1 2 --prefer phone=2 --yes",
            ),
        ],
    ),
    (
        "merge history",
        &[ex(
            "Recent merges, as JSON",
            "crm merge history --format json",
        )],
    ),
    (
        "merge revert",
        &[ex(
            "Undo merge 1 (its number from `crm merge history`)",
            "crm merge revert 1",
        )],
    ),
    (
        "convert",
        &[
            ex(
                "Turn lead 1 into a customer and contact",
                "crm convert lead 1",
            ),
            ex(
                "Accept quote 2, then turn it into an order",
                "crm edit quote 2 --status accepted && crm convert quote 2",
            ),
        ],
    ),
    (
        "convert lead",
        &[ex(
            "Convert lead 1 and open an opportunity for it",
            "crm convert lead 1 --opportunity 'POS 终端采购' --amount 120000",
        )],
    ),
    (
        "convert quote",
        &[ex(
            "Accept quote 2, then turn it into an order",
            "crm edit quote 2 --status accepted && crm convert quote 2",
        )],
    ),
    (
        "log",
        &[ex(
            "Record a phone call with customer C000001",
            "crm log customer C000001 '电话沟通续约事宜' --type call",
        )],
    ),
    (
        "done",
        &[ex(
            "Complete follow-up plan 2 with its outcome",
            "crm done activity 2 --notes '客户同意下周签约'",
        )],
    ),
    (
        "agenda",
        &[
            ex(
                "What needs attention in the next 7 days",
                "crm agenda --days 7",
            ),
            ex(
                "Reproducible output for a fixed day",
                "crm agenda --as-of 2026-11-20 --format json",
            ),
        ],
    ),
    (
        "import",
        &[
            ex(
                "Import customers; any bad row and nothing is written",
                "crm import customer customers.csv",
            ),
            ex(
                "Keep the good rows, write the bad ones to a file",
                "crm import customer customers.csv --on-error skip --rejects rejects.csv",
            ),
            ex(
                "Update existing customers by code",
                "crm import customer customers.csv --mode upsert --key code",
            ),
            ex(
                "Reject rows that duplicate a customer (credit code, phone, e-mail, name)",
                "crm import customer customers.csv --dedupe --on-error skip --rejects dup.csv",
            ),
            ex(
                "Update customers found by their normalised name",
                "crm import customer customers.csv --mode upsert --key name",
            ),
        ],
    ),
    (
        "import history",
        &[ex("Recent import batches", "crm import history")],
    ),
    (
        "import revert",
        &[ex(
            "Undo import batch 1 (its number from `crm import history`)",
            "crm import revert 1",
        )],
    ),
    (
        "export",
        &[
            ex(
                "All customers to a CSV file",
                "crm export customer -o all-customers.csv",
            ),
            ex(
                "Level A customers as JSON lines to stdout",
                "crm export customer --where level=A --format jsonl",
            ),
        ],
    ),
    (
        "schema",
        &[
            ex("Every entity", "crm schema"),
            ex(
                "A customer's fields as JSON",
                "crm schema customer --format json",
            ),
        ],
    ),
    (
        "report",
        &[
            ex("The sales funnel", "crm report funnel"),
            ex(
                "Sales per month as JSON, for a fixed day",
                "crm report sales --as-of 2026-11-30 --format json",
            ),
        ],
    ),
    (
        "report funnel",
        &[ex("The funnel per owner", "crm report funnel --by owner")],
    ),
    (
        "report sales",
        &[ex("Sales per owner", "crm report sales --by owner")],
    ),
    (
        "report customers",
        &[ex(
            "Customer analysis as CSV",
            "crm report customers --format csv",
        )],
    ),
    (
        "report service",
        &[ex(
            "Service analysis per month",
            "crm report service --by month",
        )],
    ),
    (
        "report contracts",
        &[ex("Contracts expiring soon", "crm report contracts")],
    ),
    (
        "report activities",
        &[ex(
            "Follow-ups per owner",
            "crm report activities --format json",
        )],
    ),
    (
        "audit",
        &[
            ex(
                "Every change to customer 1",
                "crm audit --entity customer --id 1",
            ),
            ex("Verify the audit chain", "crm audit --verify"),
            ex(
                "Keep the newest entry elsewhere, later check it is still there",
                "crm audit --head > anchor.txt; crm audit --verify --anchor \"$(cat anchor.txt)\"",
            ),
        ],
    ),
    (
        "check",
        &[ex(
            "Check the database (exit 9 when it is damaged)",
            "crm check",
        )],
    ),
    (
        "pool",
        &[
            ex(
                "Customers in the pool in 深圳",
                "crm pool --where city~深圳",
            ),
            ex("The pool's rules as now set", "crm pool rules"),
        ],
    ),
    (
        "pool claim",
        &[ex(
            "Become the owner of two customers in the pool",
            "crm pool claim C000013 C000014",
        )],
    ),
    (
        "pool release",
        &[ex(
            "Give a customer back to the pool",
            "crm pool release C000001 --reason '不在负责区域'",
        )],
    ),
    (
        "pool assign",
        &[ex(
            "Give two customers to li.lei",
            "crm pool assign C000001 C000002 --to li.lei",
        )],
    ),
    (
        "pool sweep",
        &[ex(
            "What tonight's sweep would return, without changing anything",
            "crm pool sweep --dry-run",
        )],
    ),
    (
        "config",
        &[
            ex(
                "Every setting with its value and default",
                "crm config list",
            ),
            ex(
                "Return customers to the pool after 45 days without a follow-up",
                "crm config set pool.no_followup_days 45",
            ),
            ex(
                "Read phone numbers without a country code as US numbers",
                "crm config set phone.region US",
            ),
            ex(
                "Viewers see customers' phones and e-mails masked, leads' no more",
                "crm config set mask.viewer customer.phone,customer.email",
            ),
            ex(
                "Let sales --reveal masked values (each reveal is audited)",
                "crm config set mask.reveal_roles admin,manager,sales",
            ),
        ],
    ),
    (
        "field",
        &[ex(
            "A customer tier of your own (a --tier flag on add and edit)",
            "crm field add customer tier --kind choice --choices gold:金牌,silver:银牌",
        )],
    ),
    (
        "field add",
        &[
            ex(
                "A required money field; the customers already there get the default",
                "crm field add customer credit_limit --kind money --required --default 10000 --label-zh 信用额度",
            ),
            ex(
                "A reference to a contact",
                "crm field add opportunity champion --kind ref:contact",
            ),
            ex(
                "A text field no two customers may share",
                "crm field add customer erp_id --kind text --unique",
            ),
        ],
    ),
    (
        "field list",
        &[ex(
            "The custom fields of customers",
            "crm field list customer",
        )],
    ),
    (
        "field edit",
        &[ex(
            "Add a choice to a choice field (values stored must stay among them)",
            "crm field add lead grade --kind choice --choices a,b && crm field edit lead grade --choices a,b,c",
        )],
    ),
    (
        "field drop",
        &[ex(
            "Drop a field; its values stay in the audit log",
            "crm field add customer erp_id --kind text && crm field drop customer erp_id --yes",
        )],
    ),
    (
        "backup",
        &[ex(
            "A checked copy of the database",
            "crm backup crm-backup.db",
        )],
    ),
    (
        "restore",
        &[ex(
            "Put a backup back in place of a sound database (--force: what changed since is lost)",
            "crm backup before.db && crm restore before.db --force",
        )],
    ),
    (
        "encrypt",
        &[ex(
            "Encrypt the database in place, its key in a file only you can read",
            "crm encrypt --key-file db-key.txt",
        )],
    ),
    (
        "decrypt",
        &[ex(
            "Make an encrypted database a plain SQLite file again",
            "crm encrypt --key-file db-key.txt && crm decrypt --key-file db-key.txt",
        )],
    ),
    (
        "rekey",
        &[ex(
            "Change the key of an encrypted database",
            "crm encrypt --key-file db-key.txt && crm rekey --key-file db-key.txt --new-key-file new-key.txt",
        )],
    ),
    (
        "copy",
        &[ex(
            "Copy the database into a new file (or --to postgres://HOST/DB, an empty server database)",
            "crm copy --to crm-copy.db --password-stdin < admin-password.txt",
        )],
    ),
    (
        "completions",
        &[ex(
            "Bash completion in this shell",
            "source <(crm completions bash)",
        )],
    ),
];

/// The examples of a command path, if any.
pub fn of(path: &str) -> Option<&'static [Example]> {
    EXAMPLES.iter().find(|(p, _)| *p == path).map(|(_, e)| *e)
}

/// Appends an "Examples:" section to the long help of `cmd` and of its subcommands.
pub fn attach(cmd: Command) -> Command {
    attach_at(cmd, "")
}

fn attach_at(mut cmd: Command, parent: &str) -> Command {
    let path = if parent.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{parent} {}", cmd.get_name())
    };
    // Entity subcommands (`crm add customer`) show their command's examples.
    if let Some(examples) = of(&path).or_else(|| of(parent)) {
        // A command's own after-help text (the audit log's limits) stays, before the examples.
        let mut text = cmd
            .get_after_long_help()
            .map(|own| format!("{own}\n\n"))
            .unwrap_or_default();
        text.push_str("Examples:\n");
        for e in examples {
            text.push_str(&format!("  # {}\n  {}\n\n", e.what, e.line));
        }
        cmd = cmd.after_long_help(text.trim_end().to_string());
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        let p = path.clone();
        cmd = cmd.mut_subcommand(name, move |s| attach_at(s, &p));
    }
    cmd
}

//! `crm demo`: builds a demo database with sample data from `examples/demo/`, logs in as its
//! admin, and prints what to try next — the README's first command.

use clap::{Arg, ArgMatches, Command};

use crate::context::Ctx;
use crate::db::audit::{self, Entry};
use crate::db::records::{self, Draft};
use crate::db::write;
use crate::error::{Error, Result};
use crate::schema::Entity;

/// The demo admin's password, printed for the user: this database holds only sample data.
pub const DEMO_PASSWORD: &str = "demo-password";
const DEMO_FILE: &str = "crm-demo.db";

/// The sample customers left in the pool (their owner is empty in customers.csv).
const POOLED: &[&str] = &["C000013", "C000014"];

/// Sample CSVs compiled in, so `crm demo` works from any directory.
const SAMPLES: &[(&str, &str)] = &[
    (
        "customer",
        include_str!("../../examples/demo/customers.csv"),
    ),
    ("contact", include_str!("../../examples/demo/contacts.csv")),
    (
        "campaign",
        include_str!("../../examples/demo/campaigns.csv"),
    ),
    ("lead", include_str!("../../examples/demo/leads.csv")),
    ("product", include_str!("../../examples/demo/products.csv")),
    (
        "opportunity",
        include_str!("../../examples/demo/opportunities.csv"),
    ),
    ("quote", include_str!("../../examples/demo/quotes.csv")),
    (
        "quote_line",
        include_str!("../../examples/demo/quote_lines.csv"),
    ),
    ("order", include_str!("../../examples/demo/orders.csv")),
    (
        "order_line",
        include_str!("../../examples/demo/order_lines.csv"),
    ),
    (
        "contract",
        include_str!("../../examples/demo/contracts.csv"),
    ),
    (
        "activity",
        include_str!("../../examples/demo/activities.csv"),
    ),
    ("ticket", include_str!("../../examples/demo/tickets.csv")),
];

pub fn command() -> Command {
    Command::new("demo")
        .about("Create a demo database with sample data and log in to it")
        .long_about("Create a demo database (./crm-demo.db unless --path is given) with sample customers and contacts, users admin, li.lei (sales) and han.meimei (manager), all with the password 'demo-password', and log in as admin. Rerunning it rebuilds the demo database.")
        .arg(Arg::new("path").long("path").value_name("PATH").help("Where to create the demo database [default: ./crm-demo.db]"))
}

fn is_demo(path: &std::path::Path) -> bool {
    let Ok(conn) = crate::db::maintain::open_read_only(path) else {
        return false;
    };
    crate::db::maintain::audit_count(&conn, "demo").is_ok_and(|n| n > 0)
}

pub fn run(ctx: &mut Ctx, m: &ArgMatches) -> Result<()> {
    let path = std::path::PathBuf::from(
        m.get_one::<String>("path")
            .map_or(DEMO_FILE, String::as_str),
    );
    if path.exists() {
        // Only a regular file can be a demo database; opening a FIFO to look would hang.
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            return Err(Error::conflict(format!(
                "{} exists and is not a regular file",
                path.display()
            ))
            .hint("pass --path for another file"));
        }
        if !is_demo(&path) {
            return Err(Error::conflict(format!(
                "{} exists and is not a demo database",
                path.display()
            ))
            .hint("pass --path for another file"));
        }
        for suffix in ["", "-wal", "-shm"] {
            let p = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if p.exists() {
                std::fs::remove_file(p)?;
            }
        }
    }
    ctx.g.db.clone_from(&path);
    let hash = crate::auth::hash_password(DEMO_PASSWORD)?;
    let db = ctx.create_db()?;
    let tx = db.write()?;
    let now = crate::clock::now();
    for (name, role) in [
        ("admin", "admin"),
        ("li.lei", "sales"),
        ("han.meimei", "manager"),
        ("wang.fang", "service"),
    ] {
        crate::db::users::insert(&tx, name, role, &hash, now)?;
    }
    audit::log(
        &tx,
        &[Entry {
            user: Some("admin"),
            action: "demo",
            detail: Some("demo database created".into()),
            ..Entry::default()
        }],
    )?;
    let mut counts = Vec::new();
    for (entity, csv_text) in SAMPLES {
        let e = Entity::get(entity)?;
        let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
        let headers: Vec<String> = rdr.headers()?.iter().map(str::to_string).collect();
        let mut n = 0;
        for rec in rdr.records() {
            let rec = rec?;
            let mut d = Draft::empty(e);
            for (h, v) in headers.iter().zip(rec.iter()) {
                let f = e.field(h)?;
                d.set(
                    f.name,
                    records::parse_value(&tx, f, v)
                        .map_err(|why| Error::internal(format!("demo data {entity}.{h}: {why}")))?,
                );
            }
            write::insert(&tx, d, "admin")?;
            n += 1;
        }
        let label = if n == 1 {
            e.en.to_string()
        } else {
            super::show::related::plural(e.en)
        };
        counts.push(format!("{n} {}", label.to_lowercase()));
    }
    // Sample customers with no owner are in the pool (公海): added with the default owner,
    // as every add is, then given up, as a departing salesperson's would be.
    let customer = Entity::get("customer")?;
    for code in POOLED {
        let id = records::resolve_target(&tx, customer, code)?;
        let old = records::must_get(&tx, customer, id)?;
        let mut new = old.draft.clone();
        new.set("owner", crate::schema::Value::Null);
        write::update(&tx, &old, new, "admin")?;
    }
    tx.commit()?;
    let (_, token) = crate::auth::login(&mut ctx.db()?.store, "admin", DEMO_PASSWORD, 8 * 3600)?;
    crate::auth::write_token(&crate::auth::token_path(&path), &token)?;
    let e = Entity::get("customer")?;
    let cols: Vec<&'static crate::schema::Field> =
        ["code", "name", "level", "status", "city", "owner"]
            .iter()
            .map(|n| e.field(n))
            .collect::<Result<_>>()?;
    let mut q = crate::db::query::Query::new(e);
    q.limit = Some(8);
    let rows = crate::db::query::rows(&ctx.db()?.store, &q, &cols)?;
    let json: Vec<Vec<serde_json::Value>> = rows
        .iter()
        .map(|r| crate::render::json_row(&cols, r))
        .collect();
    let columns = crate::render::columns(ctx, &cols);
    // The sample first, then what to do next: the last lines on the screen are the ones read.
    ctx.out.msg("some of the sample customers:");
    ctx.out.rows(&columns, &json)?;
    let shown = path.display();
    ctx.out.msg(&format!(
        "created the demo database {shown} with {} and logged in as admin",
        counts.join(", ")
    ));
    ctx.out.msg(&format!(
        "\ntry next:\n{alias}  export CRM_DB={abs}\n  crm find customer\n  crm find customer 科技\n  crm find customer --where level=A --sort name\n  crm show customer C000001\n  crm agenda\n  crm add customer --name \"示例客户\" --level B --city 深圳\n  crm find contact --format json\n  crm schema customer --lang zh\n  crm audit --limit 10\n\nusers admin, li.lei (sales), han.meimei (manager), wang.fang (service); password: {DEMO_PASSWORD}",
        abs = std::fs::canonicalize(&path).unwrap_or(path.clone()).display(),
        alias = alias_line()
    ));
    Ok(())
}

/// `alias crm=…` when `crm` is not on PATH yet (right after `cargo run -- demo`).
fn alias_line() -> String {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("crm").is_file()));
    match std::env::current_exe() {
        Ok(exe) if !on_path => format!("  alias crm={}\n", exe.display()),
        _ => String::new(),
    }
}
